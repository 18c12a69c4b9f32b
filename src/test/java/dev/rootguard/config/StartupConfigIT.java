package dev.rootguard.config;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.WebhookClient;
import dev.rootguard.testing.WebhookProcess;
import dev.rootguard.tls.DevCertificate;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged webhook started as an operator starts it: where its configuration comes from, and
 * what it says when a value is wrong.
 */
class StartupConfigIT {
    private static final Path JAR =
            Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath();

    /** A webhook process in {@code workDir} with these extra JVM options. */
    private static ProcessBuilder webhook(Path workDir, int port, int management, List<String> options) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(
                java,
                "-Xmx160m",
                "-Dquarkus.http.ssl-port=" + port,
                "-Dquarkus.http.host=127.0.0.1",
                "-Dquarkus.management.port=" + management,
                "-Dquarkus.management.host=127.0.0.1",
                "-Drootguard.namespace-labels.enabled=false",
                "-Drootguard.admission.warm-up-requests=0",
                "-Drootguard.tls.dev-dir=" + workDir.resolve("dev-tls")));
        cmd.addAll(options);
        cmd.addAll(List.of("-jar", JAR.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(workDir.resolve("webhook.log").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("ROOTGUARD_"));
        return pb;
    }

    private static void awaitReady(Process p, int management, Path log) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        try {
            // An error thrown by the condition (the process exited) ends the wait at once.
            await("the webhook is ready")
                    .atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        if (!p.isAlive()) {
                            throw new AssertionError(
                                    "webhook exited with " + p.exitValue() + ":\n" + Files.readString(log));
                        }
                        try {
                            return http.send(
                                                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management
                                                                    + "/q/health/ready"))
                                                            .build(),
                                                    HttpResponse.BodyHandlers.discarding())
                                            .statusCode()
                                    == 200;
                        } catch (IOException e) {
                            return false; // not listening yet
                        }
                    });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("webhook not ready:\n" + Files.readString(log), e);
        }
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static X509Certificate read(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static X509Certificate served(int port, Path trusted) throws Exception {
        try (SSLSocket s =
                (SSLSocket) WebhookClient.trusting(trusted).getSocketFactory().createSocket("127.0.0.1", port)) {
            s.startHandshake();
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        }
    }

    @Test
    void aCertificateSetInConfigApplicationPropertiesIsServedAndNoneIsGenerated(@TempDir Path dir) throws Exception {
        var files = DevCertificate.ensure(dir.resolve("real"));
        Files.createDirectories(dir.resolve("config"));
        Files.writeString(
                dir.resolve("config/application.properties"),
                "rootguard.tls.cert=" + files.certFile().toAbsolutePath() + "\nrootguard.tls.key="
                        + files.keyFile().toAbsolutePath() + "\n");
        int port = WebhookProcess.freePort();
        int management = WebhookProcess.freePort();
        Process p = webhook(dir, port, management, List.of()).start();
        try {
            awaitReady(p, management, dir.resolve("webhook.log"));
            assertEquals(
                    read(files.certFile()).getSerialNumber(),
                    served(port, files.certFile()).getSerialNumber(),
                    "the configured certificate is served");
            assertFalse(Files.exists(dir.resolve("dev-tls")), "no development certificate generated");
            assertFalse(Files.readString(dir.resolve("webhook.log")).contains("self-signed"));
        } finally {
            stop(p);
        }
    }

    @Test
    void badValuesStopStartUpWithOneLinePerProblemNamingKeyKindAndFix(@TempDir Path dir) throws Exception {
        Process p = webhook(
                        dir,
                        WebhookProcess.freePort(),
                        WebhookProcess.freePort(),
                        List.of(
                                "-Drootguard.tls.engine=boring",
                                "-Drootguard.defaults.run-as-user=abc",
                                "-Drootguard.tls.reload-period=soon",
                                "-Drootguard.mode=",
                                "-Drootguard.rules.run-as-rooot.action=warn"))
                .start();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "start-up does not hang");
        String out = Files.readString(dir.resolve("webhook.log"));
        assertEquals(CONFIG_ERROR_EXIT, p.exitValue(), out);
        for (String line : List.of(
                "  rootguard.tls.engine: \"boring\" is not one of jdk, auto, openssl; set one of these",
                "  rootguard.defaults.run-as-user: \"abc\" is not a whole number; set a number such as 10000",
                "  rootguard.tls.reload-period: \"soon\" is not a duration; set a number with a unit, such as 500ms, 10s, 5m or 1h",
                "  rootguard.mode: is empty, but needs a value; set one, or remove the key to use the default",
                "  rootguard.rules.run-as-rooot.action: unknown key (set in system properties)")) {
            assertTrue(out.contains(line), "missing: " + line + "\n" + out);
        }
        assertFalse(out.contains("SRCFG") || out.contains("Exception") || out.contains("\tat "), out);
    }

    @Test
    void aPolicyErrorAlsoStopsStartUpWithItsKey(@TempDir Path dir) throws Exception {
        Process p = webhook(
                        dir,
                        WebhookProcess.freePort(),
                        WebhookProcess.freePort(),
                        List.of("-Drootguard.rules.privileged.action=block"))
                .start();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "start-up does not hang");
        String out = Files.readString(dir.resolve("webhook.log"));
        assertEquals(CONFIG_ERROR_EXIT, p.exitValue(), out);
        assertTrue(out.contains("  rootguard.rules.privileged.action: "), out);
        assertFalse(out.contains("SRCFG") || out.contains("Exception") || out.contains("\tat "), out);
    }

    @Test
    void anEmptyCapabilityAllowlistStartsAndDeniesEvenTheDefaultCapability(@TempDir Path dir) throws Exception {
        int port = WebhookProcess.freePort();
        int management = WebhookProcess.freePort();
        Process p = webhook(dir, port, management, List.of("-Drootguard.rules.capabilities.allowed="))
                .start();
        try {
            awaitReady(p, management, dir.resolve("webhook.log"));
            JsonNode pod = WebhookClient.JSON.readTree("""
                    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "team-a"},
                     "spec": {"securityContext": {"runAsNonRoot": true, "runAsUser": 10000, "runAsGroup": 10000, "fsGroup": 10000},
                      "containers": [{"name": "web", "image": "nginx", "securityContext": {"allowPrivilegeEscalation": false,
                        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}]}}""");
            ObjectNode review = Reviews.create("", "v1", "Pod", "pods", "team-a", pod);
            HttpClient http = HttpClient.newBuilder()
                    .sslContext(WebhookClient.trusting(dir.resolve("dev-tls/rootguard.crt")))
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/validate"))
                            .header("Content-Type", "application/json")
                            .timeout(Duration.ofSeconds(20))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(WebhookClient.JSON.writeValueAsBytes(review)))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode response = WebhookClient.JSON.readTree(r.body()).path("response");
            assertFalse(response.path("allowed").asBoolean(true), r.body());
            assertTrue(response.path("status").path("message").asText().contains("[capabilities]"), r.body());
        } finally {
            stop(p);
        }
    }

    /** {@code Main.CONFIG_ERROR}. */
    private static final int CONFIG_ERROR_EXIT = 2;
}
