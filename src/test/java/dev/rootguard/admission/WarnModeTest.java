package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/** Global mode warn: allow, with every violation as an admission warning. */
@QuarkusTest
@TestProfile(WarnModeTest.WarnMode.class)
@WithTestResource(TestTls.class)
public class WarnModeTest {

    public static class WarnMode implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("rootguard.mode", "warn");
        }
    }

    @Test
    void warnModeAllowsAndReturnsEveryViolationAsAWarning() {
        JsonNode r = WebhookClient.forDefaultCertificate().review("/validate", Reviews.recorded("pod-create-root"));
        assertTrue(r.path("allowed").asBoolean());
        assertEquals(5, r.path("warnings").size(), r.toString());
        assertTrue(r.path("warnings")
                .get(0)
                .asText()
                .startsWith("[run-as-root] spec.containers[0].securityContext.runAsUser: "));
        assertEquals("warn", r.path("auditAnnotations").path("mode").asText());
    }
}
