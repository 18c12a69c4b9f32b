package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Namespace labels are enabled but no API server answers (a closed loopback port): the webhook
 * starts, is ready, applies the global mode, and says so in its metrics.
 */
@QuarkusTest
@TestProfile(NamespaceLabelsUnreachableTest.Unreachable.class)
@WithTestResource(TestTls.class)
class NamespaceLabelsUnreachableTest {

    public static class Unreachable implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "rootguard.namespace-labels.enabled",
                    "true",
                    "quarkus.kubernetes-client.api-server-url",
                    "https://127.0.0.1:1",
                    "quarkus.kubernetes-client.request-retry-backoff-limit",
                    "0");
        }
    }

    @Test
    void globalModeAppliesAndMetricsShowTheCacheIsNotSynced() {
        JsonNode r = WebhookClient.forDefaultCertificate().review("/validate", Reviews.recorded("pod-create-root"));
        assertFalse(r.path("allowed").asBoolean(true));
        assertEquals("enforce", r.path("auditAnnotations").path("mode").asText());
        assertEquals(200, WebhookClient.management("/q/health/ready").statusCode());
        String metrics = WebhookClient.management("/q/metrics").body();
        assertTrue(metrics.contains("rootguard_namespace_cache_synced 0.0"), metrics);
        assertTrue(metrics.matches("(?s).*rootguard_namespace_cache_fallbacks_total [1-9].*"), metrics);
    }
}
