package dev.rootguard.admission;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rootguard.testing.RawUpload;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocketFactory;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** One decision thread and a queue of one: a third large request is answered 503 at once, small ones are still decided. */
@QuarkusTest
@TestProfile(WorkersBusyTest.OneWorker.class)
@WithTestResource(TestTls.class)
public class WorkersBusyTest {

    public static class OneWorker implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("rootguard.admission.worker-threads", "1", "rootguard.admission.worker-queue", "1");
        }
    }

    @Inject
    DecisionPool pool;

    @Test
    void aLargeRequestFindingEveryWorkerBusyAndTheQueueFullGets503AtOnce() throws Exception {
        SSLSocketFactory tls =
                WebhookClient.trusting(TestTls.certFile(TestTls.DIR)).getSocketFactory();
        int port = ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
        byte[] huge = AdmissionLoadTest.compliantPod(40_000);
        byte[] large = AdmissionLoadTest.compliantPod(1_000);
        assertTrue(large.length >= 64 * 1024, "over the inline size: " + large.length);
        try (RawUpload first = new RawUpload(tls, "localhost", port, "/validate", huge);
                RawUpload second = new RawUpload(tls, "localhost", port, "/mutate", huge)) {
            await("both huge requests are with the pool")
                    .atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> pool.pending() == 2);
            try (RawUpload third = new RawUpload(tls, "localhost", port, "/validate", large)) {
                RawUpload.Answer refused = third.answer().get(30, TimeUnit.SECONDS);
                assertFalse(first.answer().isDone(), "refused while the first was still being decided");
                assertEquals(503, refused.status(), refused.toString());
                JsonNode json = WebhookClient.JSON.readTree(refused.body());
                assertEquals(503, json.path("code").asInt());
                assertEquals(
                        AdmissionRoutes.WORKERS_BUSY_MESSAGE,
                        json.path("message").asText());
            }
            // Small bodies are decided on the event loop and never wait for the pool.
            JsonNode small =
                    WebhookClient.forDefaultCertificate().review("/validate", Reviews.recorded("pod-create-root"));
            assertFalse(small.path("allowed").asBoolean(true), small.toString());
            assertFalse(
                    first.answer().isDone(), "the small request was answered while the first was still being decided");
            assertEquals(200, first.answer().get(300, TimeUnit.SECONDS).status());
            assertEquals(200, second.answer().get(300, TimeUnit.SECONDS).status());
        }
        double refusals = Double.parseDouble(WebhookClient.management("/q/metrics")
                .body()
                .lines()
                .filter(l -> l.startsWith("rootguard_admission_refused_total{reason=\"workers-busy\"}"))
                .findFirst()
                .orElseThrow()
                .split(" ")[1]);
        assertEquals(1.0, refusals);
    }
}
