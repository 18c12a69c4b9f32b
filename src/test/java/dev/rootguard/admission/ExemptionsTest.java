package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Exemptions by namespace, user and image, and per-rule actions. */
@QuarkusTest
@TestProfile(ExemptionsTest.Exemptions.class)
@WithTestResource(TestTls.class)
public class ExemptionsTest {

    public static class Exemptions implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "rootguard.exemptions.users",
                    "system:serviceaccount:ci:*",
                    "rootguard.exemptions.namespaces",
                    "kube-system,legacy",
                    "rootguard.namespace",
                    "rootguard-system",
                    "rootguard.rules.run-as-root.exempt-images",
                    "nginx:*",
                    "rootguard.rules.required-ids.action",
                    "audit",
                    "rootguard.rules.privilege-escalation.action",
                    "off");
        }
    }

    private final WebhookClient client = WebhookClient.forDefaultCertificate();

    @Test
    void exemptUserIsAllowedWithAnAuditAnnotationSayingWhy() {
        JsonNode r = client.review("/validate", Reviews.recorded("deployment-create-root"));
        assertTrue(r.path("allowed").asBoolean());
        assertTrue(r.path("auditAnnotations").path("exempt").asText().contains("system:serviceaccount:ci:*"));
        assertFalse(WebhookClient.patchOrEmpty(client.review("/mutate", Reviews.recorded("deployment-create-root"))));
    }

    @Test
    void exemptAndOwnNamespacesAreAllowed() {
        for (String ns : new String[] {"legacy", "kube-system", "rootguard-system"}) {
            ObjectNode review = Reviews.recorded("pod-create-root");
            Reviews.request(review).put("namespace", ns);
            JsonNode r = client.review("/validate", review);
            assertTrue(r.path("allowed").asBoolean(), ns);
            assertEquals(
                    "namespace " + ns + " is exempt",
                    r.path("auditAnnotations").path("exempt").asText());
        }
    }

    @Test
    void imageExemptionSkipsOnlyItsRuleAndRuleActionsApply() {
        // nginx:1.27 runs as root but is exempt from run-as-root; required-ids is audit-only; privilege-escalation is
        // off.
        JsonNode r = client.review("/validate", Reviews.recorded("pod-create-root"));
        assertTrue(r.path("allowed").asBoolean(), r.toString());
        String violations = r.path("auditAnnotations").path("violations").asText();
        assertFalse(violations.contains("run-as-root"), violations);
        assertFalse(violations.contains("privilege-escalation"), violations);
        assertTrue(violations.contains("required-ids(audit)"), violations);

        ObjectNode privileged = Reviews.recorded("pod-create-root");
        ((ObjectNode) Reviews.request(privileged).at("/object/spec/containers/0/securityContext"))
                .put("privileged", true);
        JsonNode denied = client.review("/validate", privileged);
        assertFalse(denied.path("allowed").asBoolean(true));
        assertTrue(denied.path("status").path("message").asText().contains("[privileged]"));
    }
}
