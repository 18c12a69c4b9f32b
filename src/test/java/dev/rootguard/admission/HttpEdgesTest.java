package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rootguard.testing.RawHttps;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Requests the HTTP codec refuses, sent over raw TLS sockets: every refusal is JSON {@code {code,
 * message}} like the admission port's other errors, and after a framing error the connection is closed.
 */
@QuarkusTest
@WithTestResource(TestTls.class)
class HttpEdgesTest {
    private static final SSLContext TLS = WebhookClient.trusting(TestTls.certFile(TestTls.DIR));

    private static RawHttps open() throws Exception {
        return RawHttps.open(TLS, ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class));
    }

    private static String review() {
        return Reviews.recorded("pod-create-root").toString();
    }

    static Stream<Arguments> refused() {
        String body = review();
        int length = body.getBytes(StandardCharsets.UTF_8).length;
        return Stream.of(
                Arguments.of(
                        "Transfer-Encoding xchunked with a Content-Length",
                        400,
                        "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: xchunked\r\n"
                                + "Content-Length: " + length + "\r\n\r\n" + body),
                Arguments.of(
                        "Transfer-Encoding gzip, chunked",
                        400,
                        "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                                + "0\r\n\r\n"),
                Arguments.of("malformed request line", 400, "GARBAGE\r\n\r\n"),
                Arguments.of(
                        "chunk size that is not hexadecimal",
                        400,
                        "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "zz\r\n" + body + "\r\n0\r\n\r\n"),
                Arguments.of(
                        "URI over the line limit",
                        414,
                        "GET /" + "a".repeat(5_000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n"),
                Arguments.of(
                        "headers over the size limit",
                        431,
                        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "b".repeat(30_000) + "\r\n\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void framingErrorsAreAnsweredAsJsonAndTheConnectionIsClosed(String name, int status, String request)
            throws Exception {
        try (RawHttps c = open()) {
            RawHttps.Response r = c.send(request).read();
            assertEquals(status, r.status(), name + ": " + r);
            assertEquals("application/json", r.header("Content-Type"), name);
            JsonNode json = WebhookClient.JSON.readTree(r.body());
            assertEquals(status, json.path("code").asInt(), name + ": " + r.body());
            assertTrue(
                    json.path("message").isTextual()
                            && !json.path("message").asText().isEmpty(),
                    name + ": " + r.body());
            assertEquals("no-store", r.header("Cache-Control"), name);
            assertEquals("close", r.header("Connection"), name);
            assertTrue(c.closedWithin(3_000), name + ": the connection must be closed after a framing error");
        }
    }

    @Test
    void chunkedBodiesAreStillDecided() throws Exception {
        byte[] body = review().getBytes(StandardCharsets.UTF_8);
        try (RawHttps c = open()) {
            c.send(
                    "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + Integer.toHexString(body.length) + "\r\n");
            c.send(body).send("\r\n0\r\n\r\n");
            RawHttps.Response r = c.read();
            assertEquals(200, r.status(), r.body());
            assertEquals(
                    false,
                    WebhookClient.JSON
                            .readTree(r.body())
                            .path("response")
                            .path("allowed")
                            .asBoolean(true));
            // And the connection stays usable.
            assertEquals(
                    404,
                    c.send("GET /nothing HTTP/1.1\r\nHost: localhost\r\n\r\n")
                            .read()
                            .status());
        }
    }
}
