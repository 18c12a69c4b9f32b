package dev.rootguard.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** The serving certificate is reloaded from disk when its files change, without a restart. */
@QuarkusTest
@WithTestResource(value = TestTls.class, initArgs = @ResourceArg(name = "dir", value = "target/test-tls/reload"))
class CertificateReloadTest {
    private static final Path DIR = Path.of("target/test-tls/reload");

    /** The serial number of the certificate the server presents (any certificate is accepted to see it). */
    private static BigInteger servedSerial() throws Exception {
        X509Certificate[] seen = new X509Certificate[1];
        TrustManager capture = new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                seen[0] = chain[0];
            }

            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {capture}, null);
        int port = ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("localhost", port)) {
            s.startHandshake();
        }
        return seen[0].getSerialNumber();
    }

    @Test
    void replacedCertificateFilesAreServedToNewConnectionsWithoutFailingAny() throws Exception {
        BigInteger before = servedSerial();
        // New connections keep arriving during the rotation; none may fail.
        AtomicInteger handshakes = new AtomicInteger();
        AtomicReference<Exception> failure = new AtomicReference<>();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread load = new Thread(() -> {
            while (running.get() && failure.get() == null) {
                try {
                    servedSerial();
                    handshakes.incrementAndGet();
                } catch (Exception e) {
                    failure.set(e);
                }
            }
        });
        load.start();
        Path fresh = Files.createTempDirectory(Path.of("target"), "fresh-tls");
        var files = DevCertificate.ensure(fresh);
        // Write the key first and the certificate last; the reloader waits for a matching pair.
        Files.copy(files.keyFile(), DIR.resolve("rootguard.key"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(files.certFile(), DIR.resolve("rootguard.crt"), StandardCopyOption.REPLACE_EXISTING);

        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() ->
                        assertNotEquals(before, servedSerial(), "the new certificate was not served within 15 s"));
        // The load goes on for at least 300 ms and one more handshake, now against the new certificate.
        int atRotation = handshakes.get();
        await().atMost(Duration.ofSeconds(10))
                .pollDelay(Duration.ofMillis(300))
                .until(() -> failure.get() != null || handshakes.get() > atRotation);
        running.set(false);
        load.join(10_000);
        assertEquals(
                null,
                failure.get(),
                "a handshake failed during the rotation after " + handshakes.get() + " handshakes");
        assertTrue(handshakes.get() > 10, "too few handshakes to prove anything: " + handshakes.get());

        // Clients that trust only the new certificate get answers.
        var review = Reviews.recorded("configmap-create");
        assertTrue(new WebhookClient(files.certFile())
                .review("/validate", review)
                .path("allowed")
                .asBoolean());
    }

    @Test
    void mismatchedKeyAndCertificateAreNotApplied() throws Exception {
        BigInteger before = servedSerial();
        Path other = Files.createTempDirectory(Path.of("target"), "other-tls");
        var files = DevCertificate.ensure(other);
        // Only the certificate changes: it does not match the key on disk, so the old pair stays.
        Files.copy(files.certFile(), DIR.resolve("rootguard.crt"), StandardCopyOption.REPLACE_EXISTING);
        // For 1.5 s (several reload periods of 200 ms) the old pair is still served.
        await().during(Duration.ofMillis(1500))
                .atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertEquals(before, servedSerial()));
        // Completing the pair applies it.
        Files.copy(files.keyFile(), DIR.resolve("rootguard.key"), StandardCopyOption.REPLACE_EXISTING);
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertNotEquals(before, servedSerial()));
    }
}
