package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;

/**
 * What the admission port gives away: security headers on every answer, no internal details in
 * error bodies, nothing for plaintext HTTP, and request bodies (which can hold secrets in env
 * values) never in the log, even at DEBUG for every category.
 */
@QuarkusTest
@TestProfile(TransportSecurityTest.DebugEverything.class)
@WithTestResource(TestTls.class)
class TransportSecurityTest {
    private static final String SECRET = "s3cr3tXq7marker";

    public static class DebugEverything implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // Every server-side layer at DEBUG (the test's own HTTP client is left out: it is not the server).
            return Map.of(
                    "quarkus.log.category.\"dev.rootguard\".level",
                    "DEBUG",
                    "quarkus.log.category.\"io.quarkus.vertx\".level",
                    "DEBUG",
                    "quarkus.log.category.\"io.vertx\".level",
                    "DEBUG",
                    "quarkus.log.category.\"io.netty\".level",
                    "DEBUG",
                    "quarkus.log.category.\"io.smallrye\".level",
                    "DEBUG");
        }
    }

    private static int port() {
        return ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
    }

    private static HttpResponse<String> send(String method, String path, String contentType, String body)
            throws Exception {
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(WebhookClient.trusting(TestTls.certFile(TestTls.DIR)))
                .build();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://localhost:" + port() + path))
                .timeout(Duration.ofSeconds(10))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** One request of every kind of answer the port gives, by expected status. */
    private static Map<Integer, HttpResponse<String>> answers() throws Exception {
        String review = Reviews.recorded("pod-create-root").toString();
        return Map.of(
                200, send("POST", "/validate", "application/json", review),
                400, send("POST", "/validate", "application/json", "{\"apiVersion\":"),
                404, send("POST", "/nothing-here", "application/json", review),
                405, send("GET", "/validate", null, null),
                415, send("POST", "/mutate", "text/plain", review));
    }

    @Test
    void everyAnswerCarriesTheSecurityHeaders() throws Exception {
        for (var e : answers().entrySet()) {
            HttpResponse<String> r = e.getValue();
            assertEquals(e.getKey(), r.statusCode(), r.body());
            var h = r.headers();
            assertEquals("nosniff", h.firstValue("X-Content-Type-Options").orElse(""), e.getKey() + " " + h.map());
            assertEquals("no-store", h.firstValue("Cache-Control").orElse(""), e.getKey() + " " + h.map());
            assertTrue(
                    h.firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'"),
                    e.getKey() + " " + h.map());
            assertEquals("DENY", h.firstValue("X-Frame-Options").orElse(""), e.getKey() + " " + h.map());
            assertTrue(h.firstValue("Strict-Transport-Security").isPresent(), e.getKey() + " " + h.map());
            assertTrue(h.firstValue("Server").isEmpty(), "no server banner: " + h.map());
        }
    }

    @Test
    void errorAnswersHoldNoInternalDetails() throws Exception {
        List<String> bodies = new ArrayList<>();
        for (var e : answers().entrySet()) {
            if (e.getKey() != 200) {
                bodies.add(e.getValue().body());
            }
        }
        bodies.add(send(
                        "POST",
                        "/validate",
                        "application/json",
                        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"kind\":{\"group\":\"\","
                                + "\"version\":\"v1\",\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"object\":{\"spec\":{\"containers\":{}}}}}")
                .body());
        bodies.add(send(
                        "POST",
                        "/validate",
                        "application/json",
                        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"kind\":{\"group\":\"\","
                                + "\"version\":\"v1\",\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"object\":{\"spec\":{\"securityContext\":"
                                + "{\"runAsUser\":\"1000\",\"runAsNonRoot\":1}}}}}")
                .body());
        for (String body : bodies) {
            for (String leak : List.of(
                    "Exception",
                    "\tat ",
                    "at dev.",
                    "java.",
                    "com.fasterxml",
                    "io.quarkus",
                    "io.vertx",
                    "org.jboss",
                    "dev.rootguard.",
                    "io.fabric8",
                    "`",
                    "Coercion")) {
                assertFalse(body.contains(leak), () -> "\"" + leak + "\" in " + body);
            }
        }
    }

    @Test
    void plaintextHttpToTheAdmissionPortGetsNoHttpAnswer() throws Exception {
        try (Socket s = new Socket("localhost", port())) {
            s.setSoTimeout(5000);
            s.getOutputStream()
                    .write(
                            ("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String answer = readSome(s.getInputStream());
            assertFalse(answer.startsWith("HTTP/"), "plaintext HTTP was answered: " + answer);
        }
    }

    private static String readSome(InputStream in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            int n;
            while (out.size() < 65536 && (n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
        } catch (SocketTimeoutException | SocketException e) {
            // closed or silent: either way no HTTP answer
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void requestBodiesAreNeverLogged() throws Exception {
        Queue<String> logged = new ConcurrentLinkedQueue<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                String msg = record instanceof ExtLogRecord ext ? ext.getFormattedMessage() : record.getMessage();
                StringBuilder sb = new StringBuilder(String.valueOf(msg));
                for (Throwable t = record.getThrown(); t != null; t = t.getCause()) {
                    sb.append(" | ").append(t);
                }
                if (record.getLoggerName() == null || !record.getLoggerName().startsWith("jdk.")) {
                    logged.add(sb.toString());
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        capture.setLevel(Level.ALL);
        Logger root = Logger.getLogger("");
        root.addHandler(capture);
        try {
            String pod =
                    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u-%d\",\"kind\":{\"group\":\"\","
                            + "\"version\":\"v1\",\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"namespace\":\"apps\",\"name\":\"p\",\"object\":{\"kind\":\"Pod\","
                            + "\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"registry.example/app:1\","
                            + "\"env\":[{\"name\":\"TOKEN\",\"value\":\"" + SECRET
                            + "\"}],\"securityContext\":%s}]}}}}";
            List<String> bodies = List.of(
                    pod.formatted(1, "{\"runAsUser\":0}"), // denied
                    pod.formatted(2, "{\"runAsUser\":1000,\"runAsGroup\":1000}"), // mutated
                    pod.formatted(3, "{\"runAsUser\":\"" + SECRET + "\"}"), // wrong type carrying the secret
                    pod.formatted(4, "{\"runAsUser\":1,\"runAsUser\":2}"), // duplicate key
                    pod.formatted(5, "{\"runAsUser\":" + SECRET + "}"), // the secret as a bare token: not JSON
                    pod.formatted(6, "{}").substring(0, 250)); // truncated
            for (String body : bodies) {
                for (String path : List.of("/validate", "/mutate")) {
                    int status = send("POST", path, "application/json", body).statusCode();
                    assertTrue(status == 200 || status == 400, path + " answered " + status);
                }
            }
        } finally {
            root.removeHandler(capture);
        }
        assertFalse(logged.isEmpty(), "the capture saw nothing; the test would prove nothing");
        List<String> leaks = logged.stream().filter(m -> m.contains(SECRET)).toList();
        assertTrue(leaks.isEmpty(), () -> "logged request content: " + leaks);
    }
}
