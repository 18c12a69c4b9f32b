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

/** Global mode audit: allow, record violations in audit annotations and metrics. */
@QuarkusTest
@TestProfile(AuditModeTest.AuditMode.class)
@WithTestResource(TestTls.class)
public class AuditModeTest {

    public static class AuditMode implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("rootguard.mode", "audit");
        }
    }

    @Test
    void auditModeAllowsSilentlyAndRecordsViolationsInAuditAnnotationsAndMetrics() {
        JsonNode r = WebhookClient.forDefaultCertificate().review("/validate", Reviews.recorded("pod-create-root"));
        assertTrue(r.path("allowed").asBoolean());
        assertFalse(r.has("warnings"));
        assertEquals("audit", r.path("auditAnnotations").path("mode").asText());
        String violations = r.path("auditAnnotations").path("violations").asText();
        assertTrue(violations.contains("run-as-root(audit) spec.containers[0].securityContext.runAsUser"), violations);
        assertTrue(WebhookClient.management("/q/metrics")
                .body()
                .contains("rootguard_violations_total{action=\"audit\",rule=\"run-as-root\"}"));
    }
}
