package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.cluster.NamespaceCache;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.quarkus.test.InjectMock;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mockito.Mockito;

/**
 * What happens when deciding fails unexpectedly. A real internal fault cannot be produced on
 * demand, so the namespace cache is replaced by a mock that throws for one namespace; everything
 * else (HTTPS, decoding, engine, responses) is real.
 */
@QuarkusTest
@WithTestResource(TestTls.class)
class ErrorHandlingTest {
    @InjectMock
    NamespaceCache namespaces;

    private final WebhookClient client = WebhookClient.forDefaultCertificate();

    @BeforeEach
    void faultInOneNamespace() {
        Mockito.when(namespaces.policyFor(Mockito.anyString())).thenReturn(NamespacePolicy.UNKNOWN);
        Mockito.when(namespaces.policyFor("broken"))
                .thenThrow(new IllegalStateException("internal detail that must not leak"));
    }

    private static ObjectNode inBroken(String recorded) {
        ObjectNode review = Reviews.recorded(recorded);
        Reviews.request(review).put("namespace", "broken");
        return review;
    }

    @Test
    void validateRefusesWhatItCannotDecideWithCode500AndTheUid() {
        ObjectNode review = inBroken("pod-create-bare");
        JsonNode r = client.review("/validate", review);
        assertFalse(r.path("allowed").asBoolean(true));
        assertEquals(500, r.path("status").path("code").asInt());
        String message = r.path("status").path("message").asText();
        assertTrue(message.contains(Reviews.request(review).path("uid").asText()), message);
        assertFalse(message.contains("internal detail"), message);
        assertFalse(r.toString().contains("Exception"), r.toString());
    }

    @Test
    void mutateAllowsUnchangedWithAWarningWhenItCannotDecide() {
        JsonNode r = client.review("/mutate", inBroken("pod-create-bare"));
        assertTrue(r.path("allowed").asBoolean());
        assertFalse(r.has("patch"));
        assertTrue(r.path("warnings").get(0).asText().contains("validation still applies"));
        assertFalse(r.toString().contains("internal detail"));
    }

    @Test
    void otherRequestsAreUnaffectedAndErrorsAreCounted() {
        client.review("/validate", inBroken("pod-create-bare"));
        assertTrue(WebhookClient.patchOrEmpty(client.review("/mutate", Reviews.recorded("pod-create-bare"))));
        assertTrue(WebhookClient.management("/q/metrics").body().contains("decision=\"error\""));
    }
}
