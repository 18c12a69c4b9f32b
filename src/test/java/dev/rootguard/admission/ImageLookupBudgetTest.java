package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.SilentRegistry;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A registry that never answers ({@link SilentRegistry}: the one stand-in here, since a real registry
 * cannot be made to hang) must never hold an admission request past {@code rootguard.images.budget}:
 * the answer comes from the spec-only rules, with a warning that names the image and the reason.
 */
@QuarkusTest
@WithTestResource(TestTls.class)
@WithTestResource(SilentRegistry.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ImageLookupBudgetTest {
    private final WebhookClient client = WebhookClient.forDefaultCertificate();

    @Inject
    MeterRegistry meters;

    private static ObjectNode review(String image) {
        ObjectNode pod =
                WebhookClient.JSON.createObjectNode().put("apiVersion", "v1").put("kind", "Pod");
        pod.putObject("metadata").put("name", "p").put("namespace", "team-a");
        ObjectNode spec = pod.putObject("spec");
        spec.putObject("securityContext")
                .put("runAsNonRoot", true)
                .put("runAsGroup", 10000)
                .put("fsGroup", 10000)
                .put("supplementalGroupsPolicy", "Strict")
                .putObject("seccompProfile")
                .put("type", "RuntimeDefault");
        ObjectNode c =
                spec.putArray("containers").addObject().put("name", "app").put("image", image);
        c.putObject("securityContext")
                .put("allowPrivilegeEscalation", false)
                .putObject("capabilities")
                .putArray("drop")
                .add("ALL");
        return Reviews.create("", "v1", "Pod", "pods", "team-a", pod);
    }

    @Test
    @Order(1)
    void aRegistryThatNeverAnswersCostsAtMostTheBudget() {
        String image = SilentRegistry.host() + "/team/app:1";
        long start = System.nanoTime();
        JsonNode r = client.review("/validate", review(image));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        // The registry's own timeout is a minute: only the budget can have ended the wait this soon.
        assertTrue(took.compareTo(Duration.ofSeconds(SilentRegistry.TIMEOUT_SECONDS / 4)) < 0, "took " + took);
        String warnings = r.path("warnings").toString();
        assertTrue(
                warnings.contains("[image-user] spec.containers[0].image: could not look up the user of image " + image)
                        && warnings.contains(
                                "gave no answer within the " + SilentRegistry.BUDGET_MILLIS + " ms budget"),
                warnings);
        // Decided by the other rules, as without lookups: required-ids denies the missing runAsUser.
        assertFalse(r.path("allowed").asBoolean(true));
        assertTrue(r.path("status").path("message").asText().contains("[required-ids]"), r.toString());
        assertTrue(meters.get("rootguard.image.lookups")
                        .tag("result", "timeout")
                        .counter()
                        .count()
                >= 1);
    }

    /** Last: its lookups hang until the registry's timeout, holding the registry's share of threads. */
    @Test
    @Order(3)
    void concurrentRequestsForAHangingRegistryAreAllAnsweredWithinTheBudget() {
        List<CompletableFuture<JsonNode>> answers = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            String image = SilentRegistry.host() + "/team/app-" + i + ":1";
            answers.add(CompletableFuture.supplyAsync(() -> client.review("/validate", review(image))));
        }
        int waited = 0;
        int refusedAtOnce = 0;
        for (CompletableFuture<JsonNode> a : answers) {
            String warnings = a.join().path("warnings").toString();
            if (warnings.contains("gave no answer within")) {
                waited++;
            } else if (warnings.contains("already has 4 lookups running (it is slow or not answering)")) {
                // The registry holds its share of the lookup threads (half of 8): the rest are not queued behind it.
                refusedAtOnce++;
            }
        }
        assertEquals(20, waited + refusedAtOnce, answers.toString());
        assertTrue(refusedAtOnce > 0, "a hanging registry gets no more than its share of the lookup threads");
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(Duration.ofSeconds(SilentRegistry.TIMEOUT_SECONDS / 4)) < 0, "took " + took);
    }

    @Test
    @Order(2)
    void imagesOfOtherRegistriesAreNeverLookedUp() {
        double before = meters.find("rootguard.image.lookups").counters().stream()
                .mapToDouble(c -> c.count())
                .sum();
        JsonNode r = client.review("/validate", review("registry.example/team/app:1"));
        assertFalse(r.path("warnings").toString().contains("image-user"), r.toString());
        double after = meters.find("rootguard.image.lookups").counters().stream()
                .mapToDouble(c -> c.count())
                .sum();
        assertEquals(before, after);
    }
}
