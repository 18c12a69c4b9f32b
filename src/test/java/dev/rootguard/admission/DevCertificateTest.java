package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
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
        Set<String> sans = cert.getSubjectAlternativeNames().stream().map(l -> String.valueOf(((List<?>) l).get(1)))
                .collect(Collectors.toSet());
        assertTrue(sans.containsAll(Set.of("localhost", "127.0.0.1")), sans.toString());
        assertTrue(Files.readString(files.keyFile()).contains("PRIVATE KEY"));

        var again = DevCertificate.ensure(dir);
        assertEquals(cert.getSerialNumber(), read(again.certFile()).getSerialNumber(), "a valid certificate is reused");
    }

    @Test
    void certificateWithoutKeyIsAConfigurationError() {
        System.setProperty(DevCertificate.CERT_PROPERTY, "/tmp/some.crt");
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, DevCertificate::configureIfAbsent);
            assertTrue(e.getMessage().contains("ROOTGUARD_TLS_KEY"));
        } finally {
            System.clearProperty(DevCertificate.CERT_PROPERTY);
        }
    }
}
