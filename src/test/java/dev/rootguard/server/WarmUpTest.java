package dev.rootguard.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rootguard.admission.AdmissionHandler;
import dev.rootguard.json.Json;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The background rehearsals after start-up run the real decision paths and leave no trace in metrics. */
@QuarkusTest
@TestProfile(WarmUpTest.On.class)
@WithTestResource(TestTls.class)
public class WarmUpTest {
    public static class On implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("rootguard.admission.warm-up-requests", "600");
        }
    }

    @Inject
    WarmUp warmUp;

    @Inject
    AdmissionHandler handler;

    @Test
    void rehearsalsRunToTheConfiguredCountAndRecordNoMetric() throws Exception {
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertFalse(warmUp.running(), "the rehearsals end"));
        assertEquals(600, warmUp.rehearsed());
        String metrics = WebhookClient.management("/q/metrics").body();
        assertFalse(metrics.contains("rootguard_admission_requests_total{"), "rehearsals are not requests");
        assertFalse(metrics.contains("rootguard_violations_total{"), "rehearsals find no violations to count");
    }

    @Test
    void theSamplesGoThroughMutationAndThenValidationAllowsThem() throws Exception {
        for (HasMetadata sample : WarmUp.samples()) {
            JsonNode mutated = Json.MAPPER
                    .readTree(handler.rehearse(WarmUp.review("CREATE", sample), true))
                    .path("response");
            assertTrue(mutated.path("allowed").asBoolean(), mutated.toString());
            assertTrue(mutated.path("patch").isTextual(), "the mutation path runs and patches the " + sample.getKind());
            JsonNode denied = Json.MAPPER
                    .readTree(handler.rehearse(WarmUp.review("CREATE", sample), false))
                    .path("response");
            assertFalse(
                    denied.path("allowed").asBoolean(),
                    "the unmutated " + sample.getKind() + " goes through the rules and is denied");
        }
    }
}
