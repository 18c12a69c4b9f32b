package dev.rootguard.admission;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rootguard.testing.KeepAliveClient;
import dev.rootguard.testing.RawUpload;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocketFactory;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * Hostile load on one process: a decision that takes seconds does not hold up other connections, and
 * bodies being received are bounded in total, refused at once over the bound, and never leak from it.
 */
@QuarkusTest
@WithTestResource(TestTls.class)
class AdmissionLoadTest {
    private static final Pattern IN_FLIGHT =
            Pattern.compile("(?m)^rootguard_admission_body_bytes_in_flight\\s+([0-9.eE+-]+)$");

    private final Supplier<SSLSocketFactory> tls =
            () -> WebhookClient.trusting(TestTls.certFile(TestTls.DIR)).getSocketFactory();

    private static int port() {
        return ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
    }

    /** A valid review of one compliant pod with N containers: allowed, with a small answer, after decoding all of them. */
    static byte[] compliantPod(int containers) {
        StringBuilder b = new StringBuilder(
                "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"huge\","
                        + "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},"
                        + "\"namespace\":\"team-a\",\"operation\":\"CREATE\",\"userInfo\":{\"username\":\"alice\"},\"object\":{\"apiVersion\":\"v1\","
                        + "\"kind\":\"Pod\",\"metadata\":{\"name\":\"huge\",\"namespace\":\"team-a\"},\"spec\":{\"securityContext\":{\"runAsNonRoot\":true,"
                        + "\"runAsUser\":10000,\"runAsGroup\":10000,\"fsGroup\":10000,\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"containers\":[");
        for (int i = 0; i < containers; i++) {
            b.append(i == 0 ? "" : ",")
                    .append("{\"name\":\"c")
                    .append(i)
                    .append("\",\"image\":\"busybox\",\"securityContext\":")
                    .append("{\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":[\"ALL\"]}}}");
        }
        return b.append("]}}}}").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** True while some thread is inside a decision (on an event loop or a decision thread, whichever decides). */
    private static boolean deciding() {
        return Thread.getAllStackTraces().values().stream()
                .anyMatch(stack -> Arrays.stream(stack)
                        .anyMatch(f -> f.getClassName().equals(AdmissionHandler.class.getName())
                                && f.getMethodName().equals("validate")));
    }

    /**
     * The budget is shared by every test that runs in this Quarkus application; a body from an earlier test (the
     * huge request above, a connection another test class closed) may still be released on an event loop.
     */
    private static void awaitEmptyBudget() {
        await("the body budget is empty before the test starts")
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> inFlightBytes() == 0);
    }

    static long inFlightBytes() {
        String metrics = WebhookClient.management("/q/metrics").body();
        Matcher m = IN_FLIGHT.matcher(metrics);
        assertTrue(m.find(), "rootguard_admission_body_bytes_in_flight is exported");
        return (long) Double.parseDouble(m.group(1));
    }

    @Test
    void smallRequestsOnOtherConnectionsAreAllAnsweredWhileAHugeOneIsDecided() throws Exception {
        byte[] huge = compliantPod(60_000);
        assertTrue(huge.length > 7_000_000 && huge.length < 8 * 1024 * 1024, "near the body limit: " + huge.length);
        byte[] small = Reviews.recorded("pod-create-root").toString().getBytes(StandardCharsets.UTF_8);
        // No client timeout on the huge request: however long it takes, the small ones must come first.
        RawUpload hugeUpload = new RawUpload(tls.get(), "localhost", port(), "/validate", huge);
        CompletableFuture<Long> hugeAnswered = hugeUpload.answer().thenApply(a -> {
            assertEquals(200, a.status(), a::toString);
            return System.nanoTime();
        });
        await("the huge request is being decided")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(5))
                .until(AdmissionLoadTest::deciding);

        // Sixteen new connections spread over every event loop, so some share the huge request's.
        List<CompletableFuture<Long>> smalls = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            smalls.add(CompletableFuture.supplyAsync(() -> {
                try (KeepAliveClient c = new KeepAliveClient(tls, "localhost", port())) {
                    for (int k = 0; k < 3; k++) {
                        KeepAliveClient.Result r = c.post("/validate", small);
                        assertEquals(200, r.status(), () -> r.outcome() + " " + r.error());
                        assertTrue(r.body().contains("\"allowed\":false"), r.body());
                    }
                    return System.nanoTime();
                }
            }));
        }
        long lastSmall = 0;
        for (CompletableFuture<Long> f : smalls) {
            lastSmall = Math.max(lastSmall, f.get(120, TimeUnit.SECONDS));
        }
        long hugeAt = hugeAnswered.get(300, TimeUnit.SECONDS);
        hugeUpload.close();
        long ahead = (hugeAt - lastSmall) / 1_000_000;
        assertTrue(
                lastSmall < hugeAt,
                "all 48 small requests answered before the huge one; the last came " + (-ahead) + " ms after it");
    }

    @Test
    void bodiesOverTheInFlightBudgetAreRefusedAtOnceAndStalledOnesAreCountedAsTheyArrive() throws Exception {
        awaitEmptyBudget();
        // Nine uploads of 8,000,000 of an announced 8,000,001 bytes: eight fit the default 64 MiB, the ninth does not.
        // The eight go first and are counted in full before the ninth starts: sent together, chunks of two uploads on
        // two event loops can both miss the budget at the same instant, and which (and how many) are refused is a
        // race the test would only be sampling.
        List<RawUpload> uploads = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                uploads.add(new RawUpload(tls.get(), "localhost", port(), "/validate", 8_000_001, 8_000_000));
            }
            for (RawUpload u : uploads) {
                u.written().get(120, TimeUnit.SECONDS);
            }
            // The stalled bodies are held (and counted) although none is complete; the last bytes may still be on the
            // way.
            await("the eight stalled bodies are counted")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> inFlightBytes() == 8 * 8_000_000L);
            assertTrue(uploads.stream().noneMatch(u -> u.answer().isDone()), "none of the eight is answered");

            RawUpload ninth = new RawUpload(tls.get(), "localhost", port(), "/validate", 8_000_001, 8_000_000);
            uploads.add(ninth);
            RawUpload.Answer refused = ninth.answer().get(60, TimeUnit.SECONDS);
            assertEquals(503, refused.status(), refused.toString());
            JsonNode json = WebhookClient.JSON.readTree(refused.body());
            assertEquals(503, json.path("code").asInt());
            assertTrue(json.path("message").asText().contains("too many request bodies"), json.toString());
            assertTrue(
                    uploads.subList(0, 8).stream().noneMatch(u -> u.answer().isDone()),
                    "the eight stalled uploads are still held");
            assertEquals(8 * 8_000_000L, inFlightBytes(), "the refused upload gave its bytes back");
            // A normal request still fits and is decided.
            JsonNode r = new WebhookClient(TestTls.certFile(TestTls.DIR))
                    .review("/validate", Reviews.recorded("pod-create-root"));
            assertTrue(!r.path("allowed").asBoolean(true), r.toString());
        } finally {
            uploads.forEach(RawUpload::close);
        }
        await("the budget is back at zero once the stalled connections close")
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> inFlightBytes() == 0);
    }

    @Test
    void refusedAbortedAndCompletedUploadsLeaveTheBudgetAtZero() throws Exception {
        awaitEmptyBudget();
        List<RawUpload> uploads = new ArrayList<>();
        try {
            // Aborted part way, at every size up to the limit, while nine more push the total over the budget.
            for (int i = 0; i < 30; i++) {
                long announced = 1_000L + (i * 287_000L);
                uploads.add(new RawUpload(
                        tls.get(),
                        "localhost",
                        port(),
                        i % 2 == 0 ? "/validate" : "/mutate",
                        announced,
                        announced / 2));
            }
            for (int i = 0; i < 9; i++) {
                uploads.add(new RawUpload(tls.get(), "localhost", port(), "/mutate", 8_000_000, 7_900_000));
            }
            // Complete ones: not JSON, so each is answered 400 after the whole body has been read.
            for (int i = 0; i < 5; i++) {
                uploads.add(new RawUpload(tls.get(), "localhost", port(), "/validate", 300_000, 300_000));
            }
            for (RawUpload u : uploads) {
                u.written().get(120, TimeUnit.SECONDS);
            }
            await("some upload was refused over the budget")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> uploads.stream()
                            .anyMatch(u ->
                                    u.answer().isDone() && u.answer().join().status() == 503));
            for (RawUpload u : uploads.subList(uploads.size() - 5, uploads.size())) {
                RawUpload.Answer a = u.answer().get(60, TimeUnit.SECONDS);
                assertTrue(a.status() == 400 || a.status() == 503, a.toString());
            }
        } finally {
            uploads.forEach(RawUpload::close);
        }
        await("the budget is back at zero")
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> inFlightBytes() == 0);
    }
}
