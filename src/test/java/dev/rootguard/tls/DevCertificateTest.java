package dev.rootguard.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.config.ConfigErrors;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevCertificateTest {

    private static X509Certificate read(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    @Test
    void generatedCertificateCoversLocalhostAndLoopbackAndIsReused(@TempDir Path dir) throws Exception {
        var files = DevCertificate.ensure(dir);
        X509Certificate cert = read(files.certFile());
        Set<String> sans = cert.getSubjectAlternativeNames().stream()
                .map(l -> String.valueOf(((List<?>) l).get(1)))
                .collect(Collectors.toSet());
        assertTrue(sans.containsAll(Set.of("localhost", "127.0.0.1")), sans.toString());
        assertTrue(Files.readString(files.keyFile()).contains("PRIVATE KEY"));

        var again = DevCertificate.ensure(dir);
        assertEquals(cert.getSerialNumber(), read(again.certFile()).getSerialNumber(), "a valid certificate is reused");
    }

    /** The configuration as the webhook builds it: discovered sources (the development certificate) plus these. */
    private static SmallRyeConfig config(int ordinal, Map<String, String> properties) {
        return new SmallRyeConfigBuilder()
                .addDiscoveredSources()
                .withSources(new PropertiesConfigSource(properties, "application.properties", ordinal))
                .build();
    }

    @Test
    void aCertificateConfiguredInApplicationPropertiesWinsAndNothingIsGenerated(@TempDir Path dir) {
        SmallRyeConfig c = config(
                250,
                Map.of(
                        "rootguard.tls.cert",
                        "/etc/tls/tls.crt",
                        "rootguard.tls.key",
                        "/etc/tls/tls.key",
                        "rootguard.tls.dev-dir",
                        dir.toString()));
        assertEquals("/etc/tls/tls.crt", c.getValue(DevCertificate.CERT_PROPERTY, String.class));
        assertEquals("/etc/tls/tls.key", c.getValue(DevCertificate.KEY_PROPERTY, String.class));
        assertEquals(List.of(), List.of(dir.toFile().list()), "no certificate generated");
    }

    @Test
    void withNothingConfiguredTheLowestSourceGeneratesOne(@TempDir Path dir) {
        SmallRyeConfig c = config(250, Map.of("rootguard.tls.dev-dir", dir.toString()));
        assertEquals(dir.resolve("rootguard.crt").toString(), c.getValue(DevCertificate.CERT_PROPERTY, String.class));
        assertEquals(dir.resolve("rootguard.key").toString(), c.getValue(DevCertificate.KEY_PROPERTY, String.class));
        assertTrue(Files.isReadable(dir.resolve("rootguard.crt")));
        assertEquals(dir.resolve("rootguard.crt"), DevCertificate.generated());
    }

    @Test
    void certificateWithoutKeyIsAConfigurationErrorNamingTheMissingKey() {
        RuntimeException e =
                assertThrows(RuntimeException.class, () -> config(250, Map.of("rootguard.tls.cert", "/tmp/some.crt")));
        List<String> problems = ConfigErrors.describe(e);
        assertEquals(1, problems.size(), e.toString());
        assertTrue(
                problems.get(0).startsWith("rootguard.tls.key: not set, but rootguard.tls.cert is; set both"),
                problems.get(0));
    }
}
