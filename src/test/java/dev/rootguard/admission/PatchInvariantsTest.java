package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.json.Json;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.Fixture;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.policy.PodSpecs;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.Violation;
import dev.rootguard.policy.mutate.Patcher;
import dev.rootguard.policy.rule.RuleRegistry;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The mutation invariants, over every fixture object. */
class PatchInvariantsTest {
    private static final Engine ENGINE = new Engine(RuleRegistry.standard());
    private static final Engine.Context CTX = new Engine.Context("team-a", "alice", NamespacePolicy.UNKNOWN);

    static Stream<Fixture> fixtures() {
        return Fixture.all().stream();
    }

    /** The fixture as raw JSON, with unknown fields at several levels that the typed model does not know. */
    private static ObjectNode rawWithUnknownFields(Fixture f) {
        ObjectNode raw = Json.MAPPER.valueToTree(f.raw());
        raw.put("xUnknownTop", "kept");
        PodSpecs.extract(f.object()).ifPresent(view -> {
            JsonNode spec = raw.at("/" + view.path().replace('.', '/'));
            ((ObjectNode) spec).putObject("xUnknownSpec").put("a", 1);
            ((ObjectNode) spec.path("containers").path(0)).put("xUnknownContainer", true);
        });
        return raw;
    }

    /** Re-parsed JSON, so that 10000 read from YAML (int) equals 10000 from the model (long). */
    private static JsonNode normalized(Object value) {
        try {
            return Json.MAPPER.readTree(Json.MAPPER.writeValueAsBytes(value));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode patchFor(HasMetadata object, PolicyConfig policy) {
        return Patcher.patch(Json.MAPPER, object, copy -> ENGINE.mutate(copy, CTX, policy));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void patchAppliesToTheRawObjectAndKeepsUnknownFields(Fixture f) {
        ObjectNode raw = rawWithUnknownFields(f);
        HasMetadata typed = RequestObject.of(raw).bind(f.object().getClass(), "object");
        JsonNode patch = patchFor(typed, f.policy());
        JsonNode patched = JsonPatch.apply(patch, raw);

        HasMetadata expected = RequestObject.of(raw).bind(f.object().getClass(), "object");
        ENGINE.mutate(expected, CTX, f.policy());
        assertEquals(normalized(expected), normalized(patched), "raw + patch must equal the typed mutation");
        assertEquals("kept", patched.path("xUnknownTop").asText());
    }

    @Test
    void podsWithThousandsOfContainersGetAPatchPerContainer() {
        var spec = new PodSpecBuilder();
        for (int i = 0; i < 5000; i++) {
            spec.addNewContainer().withName("c" + i).withImage("x").endContainer();
        }
        var pod = new PodBuilder()
                .withNewMetadata()
                .withName("big")
                .endMetadata()
                .withSpec(spec.build())
                .build();
        JsonNode patch = patchFor(pod, PolicyConfig.standard());
        assertEquals(5001, patch.size(), "one add per container securityContext and one for the pod's");
        Set<String> paths = new HashSet<>();
        patch.forEach(op -> paths.add(op.path("path").asText()));
        assertTrue(
                paths.contains("/spec/containers/4999/securityContext") && paths.contains("/spec/securityContext"),
                paths.toString());
        JsonNode applied = JsonPatch.apply(patch, Json.MAPPER.valueToTree(pod));
        assertEquals(
                false,
                applied.at("/spec/containers/2500/securityContext/allowPrivilegeEscalation")
                        .asBoolean(true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void patchOnlyAddsAbsentFields(Fixture f) {
        ObjectNode raw = Json.MAPPER.valueToTree(f.raw());
        for (JsonNode op : patchFor(f.object(), f.policy())) {
            assertEquals("add", op.path("op").asText(), () -> "not an add: " + op);
            JsonNode existing = raw.at(op.path("path").asText());
            assertTrue(existing.isMissingNode() || existing.isNull(), () -> "overrides a value the user set: " + op);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void mutatingTwiceYieldsAnEmptyPatch(Fixture f) {
        HasMetadata once = f.object();
        ENGINE.mutate(once, CTX, f.policy());
        JsonNode second = patchFor(once, f.policy());
        assertTrue(second.isEmpty(), () -> "second patch not empty: " + second);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void mutatedObjectOnlyViolatesWhereTheUserSetAForbiddenValue(Fixture f) {
        ObjectNode raw = Json.MAPPER.valueToTree(f.raw());
        HasMetadata mutated = f.object();
        ENGINE.mutate(mutated, CTX, f.policy());
        for (Violation v : ENGINE.review(mutated, CTX, f.policy()).violations()) {
            JsonNode value =
                    raw.at("/" + v.path().replaceAll("\\[(\\d+)]", ".$1").replace('.', '/'));
            assertTrue(
                    !value.isMissingNode() && !value.isNull(),
                    () -> "violation left after mutation is not caused by a value the user set: " + v.line());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void mutationNeverRemovesAViolationCausedByAUserValue(Fixture f) {
        Set<String> before = ENGINE.review(f.object(), CTX, f.policy()).violations().stream()
                .map(v -> v.rule() + " " + v.path())
                .collect(Collectors.toSet());
        HasMetadata mutated = f.object();
        ENGINE.mutate(mutated, CTX, f.policy());
        Set<String> after = ENGINE.review(mutated, CTX, f.policy()).violations().stream()
                .map(v -> v.rule() + " " + v.path())
                .collect(Collectors.toSet());
        assertTrue(before.containsAll(after), () -> "mutation introduced violations: " + after + " vs " + before);
    }
}
