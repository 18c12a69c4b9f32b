package dev.rootguard.admission;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.Pem;
import dev.rootguard.testing.Reviews;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLContext;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * With {@code rootguard.tls.client-ca} set, only clients with a certificate from that CA get past
 * the TLS handshake; the CA file is reloaded like the serving certificate. The certificates come
 * from certs/generate.sh, which needs the openssl command: an integration test.
 */
@QuarkusTest
@WithTestResource(ClientCertificateIT.Certs.class)
class ClientCertificateIT {
    static final Path DIR = Path.of("target/test-tls/mtls").toAbsolutePath();
    static final Path OTHER = Path.of("target/test-tls/mtls-other").toAbsolutePath();
    static final Path CLIENT_CA = DIR.resolve("client-ca.crt");

    /** Serving certificate and key from certs/generate.sh, a client certificate for "the API server", and one from another CA. */
    public static class Certs implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            generate(DIR, "kube-apiserver");
            generate(OTHER, "intruder");
            try {
                Files.copy(DIR.resolve("ca.crt"), CLIENT_CA, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return Map.of(
                    "rootguard.tls.cert",
                    DIR.resolve("tls.crt").toString(),
                    "rootguard.tls.key",
                    DIR.resolve("tls.key").toString(),
                    "rootguard.tls.client-ca",
                    CLIENT_CA.toString(),
                    "rootguard.tls.reload-period",
                    "200ms");
        }

        private static void generate(Path dir, String client) {
            try {
                Process p = new ProcessBuilder("bash", "certs/generate.sh", "--out", dir.toString(), "--client", client)
                        .redirectErrorStream(true)
                        .start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("certs/generate.sh failed: " + out);
                }
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void stop() {}
    }

    private static HttpResponse<String> validate(SSLContext tls) throws IOException, InterruptedException {
        int port = ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
        // A new client each time: a new connection and a new handshake.
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(tls)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        HttpRequest req = HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/validate"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        Reviews.recorded("pod-create-root").toString()))
                .build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    private static SSLContext apiServer() {
        return Pem.context(DIR.resolve("ca.crt"), DIR.resolve("client.crt"), DIR.resolve("client.key"));
    }

    private static SSLContext intruder() {
        return Pem.context(DIR.resolve("ca.crt"), OTHER.resolve("client.crt"), OTHER.resolve("client.key"));
    }

    @Test
    void aClientWithACertificateFromTheConfiguredCaIsServed() throws Exception {
        HttpResponse<String> r = validate(apiServer());
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("\"allowed\":false"), r.body());
    }

    @Test
    void aClientWithoutACertificateIsRefusedDuringTheHandshake() {
        assertThrows(IOException.class, () -> validate(Pem.context(DIR.resolve("ca.crt"), null, null)));
    }

    @Test
    void aClientWithACertificateFromAnotherCaIsRefusedDuringTheHandshake() {
        assertThrows(IOException.class, () -> validate(intruder()));
    }

    @Test
    void aReplacedClientCaIsUsedForNewConnections() throws Exception {
        try {
            Files.copy(OTHER.resolve("ca.crt"), CLIENT_CA, StandardCopyOption.REPLACE_EXISTING);
            eventually(
                    "the new CA's client is accepted after the reload",
                    () -> validate(intruder()).statusCode() == 200);
            assertThrows(
                    IOException.class, () -> validate(apiServer()), "the old CA's client is refused after the reload");
        } finally {
            // Restored even when an assertion above failed, so the other tests see the original CA.
            Files.copy(DIR.resolve("ca.crt"), CLIENT_CA, StandardCopyOption.REPLACE_EXISTING);
        }
        eventually(
                "the original CA's client is accepted again",
                () -> validate(apiServer()).statusCode() == 200);
    }

    /** Waits up to 30 s for the probe to hold; an attempt that throws (a refused handshake) is retried. */
    private static void eventually(String what, Callable<Boolean> probe) {
        await(what)
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptions()
                .until(probe);
    }
}
