package dev.rootguard.admission;

import io.smallrye.certs.CertificateGenerator;
import io.smallrye.certs.CertificateRequest;
import io.smallrye.certs.Format;
import io.smallrye.certs.PemCertificateFiles;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A self-signed serving certificate for {@code localhost} and {@code 127.0.0.1}, for running the
 * webhook locally without setting up certificates. Never used when a certificate is configured.
 */
public final class DevCertificate {
    /** System properties the TLS configuration reads ({@code rootguard.tls.cert}, {@code rootguard.tls.key}). */
    public static final String CERT_PROPERTY = "rootguard.tls.cert";
    public static final String KEY_PROPERTY = "rootguard.tls.key";
    /** The generated certificate in use, if any, so start-up can say where it is. */
    private static volatile Path generated;

    private DevCertificate() {
    }

    /**
     * When neither {@code ROOTGUARD_TLS_CERT} nor {@code ROOTGUARD_TLS_KEY} (nor the matching system
     * properties) is set, generates (or reuses) a self-signed certificate under
     * {@code ~/.cache/rootguard/dev-tls} and points the TLS configuration at it.
     *
     * @throws IllegalStateException when only one of certificate and key is set, or generation fails
     */
    public static void configureIfAbsent() {
        String cert = setting(CERT_PROPERTY, "ROOTGUARD_TLS_CERT");
        String key = setting(KEY_PROPERTY, "ROOTGUARD_TLS_KEY");
        if (cert != null && key != null) {
            return;
        }
        if (cert != null || key != null) {
            throw new IllegalStateException("set both ROOTGUARD_TLS_CERT and ROOTGUARD_TLS_KEY, or neither to use a"
                    + " generated self-signed certificate");
        }
        String configured = setting("rootguard.tls.dev-dir", "ROOTGUARD_TLS_DEV_DIR");
        Path dir = configured != null ? Path.of(configured) : defaultDir();
        PemCertificateFiles files = ensure(dir);
        System.setProperty(CERT_PROPERTY, files.certFile().toString());
        System.setProperty(KEY_PROPERTY, files.keyFile().toString());
        generated = files.certFile();
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
            List<?> generated = new CertificateGenerator(dir, true).generate(new CertificateRequest()
                    .withName("rootguard")
                    .withFormat(Format.PEM)
                    .withCN("localhost")
                    .withSubjectAlternativeName("DNS:localhost")
                    .withSubjectAlternativeName("IP:127.0.0.1")
                    .withDuration(Duration.ofDays(365)));
            return (PemCertificateFiles) generated.get(0);
        } catch (Exception e) {
            throw new IllegalStateException("cannot generate a self-signed certificate in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static boolean stillValid(Path certFile) {
        if (!Files.isReadable(certFile)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(certFile)) {
            X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            return c.getNotAfter().toInstant().isAfter(Instant.now().plus(Duration.ofDays(1)));
        } catch (Exception e) {
            return false;
        }
    }

    private static String setting(String property, String env) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            v = System.getenv(env);
        }
        return v == null || v.isBlank() ? null : v;
    }
}
