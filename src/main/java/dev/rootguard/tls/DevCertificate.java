package dev.rootguard.tls;

import io.smallrye.certs.CertificateGenerator;
import io.smallrye.certs.CertificateRequest;
import io.smallrye.certs.Format;
import io.smallrye.certs.PemCertificateFiles;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * A self-signed serving certificate for {@code localhost} and {@code 127.0.0.1}, for running the
 * webhook locally without setting up certificates. Never used when a certificate is configured.
 *
 * <p>It is offered as the lowest-priority configuration source ({@link SourceFactory}), so a
 * {@code rootguard.tls.cert}/{@code key} set anywhere else (application.properties, a config file,
 * environment, system properties, test resources) always wins, and the certificate is only
 * generated when the TLS configuration actually asks for it.
 */
public final class DevCertificate {
    /** The configuration keys of the serving certificate and key. */
    public static final String CERT_PROPERTY = "rootguard.tls.cert";

    public static final String KEY_PROPERTY = "rootguard.tls.key";
    static final String DIR_PROPERTY = "rootguard.tls.dev-dir";
    /** Below every source a user can set a key in; only built-in defaults rank lower. */
    static final int ORDINAL = Integer.MIN_VALUE + 1;
    /** The generated certificate in use, if any, so start-up can say where it is. */
    private static volatile Path generated;

    private DevCertificate() {}

    /**
     * Adds the development certificate to the configuration when neither certificate nor key is
     * configured. Registered in {@code META-INF/services/io.smallrye.config.ConfigSourceFactory}.
     */
    public static final class SourceFactory implements ConfigSourceFactory {
        @Override
        public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
            String cert = value(context, CERT_PROPERTY);
            String key = value(context, KEY_PROPERTY);
            if (cert != null && key != null) {
                return List.of();
            }
            if (cert != null || key != null) {
                throw new IllegalArgumentException((cert == null ? CERT_PROPERTY : KEY_PROPERTY) + ": not set, but "
                        + (cert == null ? KEY_PROPERTY : CERT_PROPERTY)
                        + " is; set both (ROOTGUARD_TLS_CERT and ROOTGUARD_TLS_KEY),"
                        + " or neither to use a generated self-signed certificate");
            }
            String dir = value(context, DIR_PROPERTY);
            return List.of(new Source(dir == null ? null : Path.of(dir)));
        }

        private static String value(ConfigSourceContext context, String name) {
            ConfigValue v = context.getValue(name);
            return v == null || v.getValue() == null || v.getValue().isBlank() ? null : v.getValue();
        }
    }

    /** Answers the certificate and key keys with a generated certificate, generating it on first use. */
    static final class Source implements ConfigSource {
        private final Path dir;
        private volatile PemCertificateFiles files;

        Source(Path dir) {
            this.dir = dir;
        }

        @Override
        public Set<String> getPropertyNames() {
            // Empty, so tools that list every key never trigger the generation.
            return Set.of();
        }

        @Override
        public String getValue(String name) {
            if (!CERT_PROPERTY.equals(name) && !KEY_PROPERTY.equals(name)) {
                return null;
            }
            PemCertificateFiles f = files();
            return (CERT_PROPERTY.equals(name) ? f.certFile() : f.keyFile()).toString();
        }

        private synchronized PemCertificateFiles files() {
            if (files == null) {
                files = ensure(dir != null ? dir : defaultDir());
                generated = files.certFile();
            }
            return files;
        }

        @Override
        public String getName() {
            return "rootguard development certificate";
        }

        @Override
        public int getOrdinal() {
            return ORDINAL;
        }
    }

    /** The generated certificate file in use, or null when a configured one is used. */
    public static Path generated() {
        return generated;
    }

    /** {@code ~/.cache/rootguard/dev-tls}, or a temporary directory when the home directory is not writable. */
    private static Path defaultDir() {
        Path home = Path.of(System.getProperty("user.home"), ".cache", "rootguard", "dev-tls");
        try {
            Files.createDirectories(home);
            if (Files.isWritable(home)) {
                return home;
            }
        } catch (Exception e) {
            // fall through to the temporary directory
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "rootguard-dev-tls");
    }

    /** Generates the certificate in {@code dir}, or reuses one there that is valid for at least a day. */
    public static PemCertificateFiles ensure(Path dir) {
        PemCertificateFiles files = new PemCertificateFiles(dir, "rootguard", false, null);
        try {
            if (stillValid(files.certFile()) && Files.isReadable(files.keyFile())) {
                return files;
            }
            Files.createDirectories(dir);
            List<?> generated = new CertificateGenerator(dir, true)
                    .generate(new CertificateRequest()
                            .withName("rootguard")
                            .withFormat(Format.PEM)
                            .withCN("localhost")
                            .withSubjectAlternativeName("DNS:localhost")
                            .withSubjectAlternativeName("IP:127.0.0.1")
                            .withDuration(Duration.ofDays(365)));
            return (PemCertificateFiles) generated.get(0);
        } catch (Exception e) {
            throw new IllegalStateException(
                    "cannot generate a self-signed certificate in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static boolean stillValid(Path certFile) {
        if (!Files.isReadable(certFile)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(certFile)) {
            X509Certificate c =
                    (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            return c.getNotAfter().toInstant().isAfter(Instant.now().plus(Duration.ofDays(1)));
        } catch (Exception e) {
            return false;
        }
    }
}
