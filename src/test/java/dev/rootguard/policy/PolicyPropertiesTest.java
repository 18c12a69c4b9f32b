package dev.rootguard.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.json.Json;
import dev.rootguard.policy.mutate.Patcher;
import dev.rootguard.policy.rule.RuleRegistry;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Property-based tests of the engine over random pods and workloads ({@link RandomPods}), each
 * property checked on {@link PropertyRunner#TRIES} cases (10,000 by default; {@code -Pproperties-long}
 * runs a million).
 *
 * <p>Objects are generated as raw JSON and read the way the webhook and the audit read them:
 * {@link Json#MAPPER} into the model class {@link PodSpecs} names for the apiVersion and kind.
 */
class PolicyPropertiesTest {
    private static final Engine ENGINE = new Engine(RuleRegistry.standard());
    /** The names {@link RandomPods} gives fields rootguard does not know. */
    private static final Pattern UNKNOWN = Pattern.compile("\"(xRootguardTest|x-unknown|futureField|x~odd/name)\"");

    /** The decision equals the independent {@link Oracle} written from the rule definitions in docs/policy.md. */
    @Test
    void decisionEqualsTheOracle() {
        List<String> required = new ArrayList<>(List.of(
                "EXEMPT",
                "NOT_APPLICABLE",
                "EVALUATED",
                "allowed",
                "denied",
                "allowed with violations",
                "windows",
                "hostUsers: false"));
        RandomPods.KINDS.forEach(k -> required.add(k.kind()));
        PolicySpec.DEFAULT_ACTIONS.keySet().forEach(rule -> required.add("violates " + rule));
        PropertyRunner.forAll("decision equals the oracle", required, RandomPods::anyCase, (c, labels) -> {
            Engine.Review review =
                    ENGINE.review(typed(c.raw()), c.context(), c.policy().toPolicyConfig());
            Oracle.Decision actual = new Oracle.Decision(
                    review.outcome().name(),
                    review.mode(),
                    review.allowed(),
                    review.violations().stream()
                            .map(v -> v.rule() + " " + v.action().id() + " " + v.path())
                            .sorted()
                            .toList());
            Oracle.Decision expected =
                    Oracle.decide(c.raw(), c.namespace(), c.user(), c.labels(), c.annotations(), c.policy());
            assertEquals(expected, actual);

            labels.add(c.kind().kind());
            labels.add(expected.outcome());
            labels.add(
                    expected.allowed()
                            ? (expected.violations().isEmpty() ? "allowed" : "allowed with violations")
                            : "denied");
            expected.violations().stream()
                    .map(v -> "violates " + v.split(" ")[0])
                    .distinct()
                    .forEach(labels::add);
            JsonNode spec = c.raw().at(pointer(c.kind().podSpecPath()));
            if ("EVALUATED".equals(expected.outcome())
                    && "windows".equals(spec.at("/os/name").asText())) {
                labels.add("windows");
            }
            if ("EVALUATED".equals(expected.outcome())
                    && spec.path("hostUsers").isBoolean()
                    && !spec.path("hostUsers").asBoolean()) {
                labels.add("hostUsers: false");
            }
        });
    }

    /** Mutating the mutated object changes nothing: the second patch is empty. */
    @Test
    void mutatingTwiceYieldsAnEmptyPatch() {
        PropertyRunner.forAll(
                "mutating twice yields an empty patch",
                List.of("patched", "unchanged"),
                RandomPods::anyCase,
                (c, labels) -> {
                    PolicyConfig policy = c.policy().toPolicyConfig();
                    JsonNode first = patch(typed(c.raw()), c, policy);
                    ObjectNode once = apply(first, c.raw());
                    JsonNode second = patch(typed(once), c, policy);
                    assertTrue(second.isEmpty(), () -> "second patch: " + second);
                    assertFalse(ENGINE.mutate(typed(once), c.context(), policy), "a second mutation reports a change");
                    labels.add(first.isEmpty() ? "unchanged" : "patched");
                });
    }

    /** Mutating in place (as the webhook does) gives the same patch as mutating a copy (as the audit does). */
    @Test
    void patchingInPlaceGivesTheSamePatchAsPatchingACopy() {
        PropertyRunner.forAll(
                "patching in place gives the same patch as patching a copy",
                List.of("patched", "unchanged"),
                RandomPods::anyCase,
                (c, labels) -> {
                    PolicyConfig policy = c.policy().toPolicyConfig();
                    HasMetadata original = typed(c.raw());
                    JsonNode copied = patch(original, c, policy);
                    assertEquals(tree(typed(c.raw())), tree(original), "patch() changed the object it was given");
                    HasMetadata own = typed(c.raw());
                    JsonNode inPlace =
                            Patcher.patchInPlace(Json.MAPPER, own, o -> ENGINE.mutate(o, c.context(), policy));
                    assertEquals(copied, inPlace);
                    HasMetadata expected = typed(c.raw());
                    ENGINE.mutate(expected, c.context(), policy);
                    assertEquals(tree(expected), tree(own), "the object left by patchInPlace is the mutated object");
                    labels.add(copied.isEmpty() ? "unchanged" : "patched");
                });
    }

    /**
     * The patch applies to the raw JSON: it only adds fields that were not set (absent, null, or an
     * empty list, which Kubernetes does not tell apart from absent), keeps everything else the
     * request held (unknown fields and explicit nulls included), and gives the same object as the
     * typed mutation.
     */
    @Test
    void patchAppliesToTheRawObjectAndGivesTheTypedMutation() {
        PropertyRunner.forAll(
                "patch applies to the raw object and gives the typed mutation",
                List.of("patched", "unchanged", "fills a null", "fills an empty list", "unknown fields kept"),
                RandomPods::anyCase,
                (c, labels) -> {
                    PolicyConfig policy = c.policy().toPolicyConfig();
                    JsonNode patch = patch(typed(c.raw()), c, policy);
                    for (JsonNode op : patch) {
                        assertEquals("add", op.path("op").asText(), () -> "not an add: " + op);
                        JsonNode target = c.raw().at(op.path("path").asText());
                        assertTrue(unset(target), () -> "overrides a value the request set: " + op);
                        if (target.isNull()) {
                            labels.add("fills a null");
                        } else if (target.isArray()) {
                            labels.add("fills an empty list");
                        }
                    }
                    ObjectNode patched = apply(patch, c.raw());
                    assertKept(c.raw(), patched, "");

                    HasMetadata expected = typed(c.raw());
                    ENGINE.mutate(expected, c.context(), policy);
                    assertEquals(
                            tree(expected), tree(typed(patched)), "raw object + patch must equal the typed mutation");
                    labels.add(patch.isEmpty() ? "unchanged" : "patched");
                    if (!patch.isEmpty() && UNKNOWN.matcher(c.raw().toString()).find()) {
                        labels.add("unknown fields kept");
                    }
                });
    }

    /**
     * After mutation, every violation left was already there and is caused by a value the request
     * set explicitly: the forbidden value itself (at the violation's path), or, for
     * {@code privilege-escalation}, {@code privileged: true} or an added {@code SYS_ADMIN}, for which
     * mutation must not set {@code allowPrivilegeEscalation: false} (docs/policy.md, "Mutation"), and does not.
     * Cases are objects mutation applies to, under policies whose defaults satisfy their own rules.
     */
    @Test
    void afterMutationOnlyExplicitlySetForbiddenValuesViolate() {
        PropertyRunner.forAll(
                "after mutation only explicitly set forbidden values violate",
                List.of("no violation left", "explicit value left", "escalation left beside privileged or SYS_ADMIN"),
                RandomPods::mutableCase,
                (c, labels) -> {
                    PolicyConfig policy = c.policy().toPolicyConfig();
                    Set<String> before = ENGINE.review(typed(c.raw()), c.context(), policy).violations().stream()
                            .map(v -> v.rule() + " " + v.path())
                            .collect(Collectors.toSet());
                    ObjectNode mutated = apply(patch(typed(c.raw()), c, policy), c.raw());
                    List<Violation> left =
                            ENGINE.review(typed(mutated), c.context(), policy).violations();
                    for (Violation v : left) {
                        assertTrue(before.contains(v.rule() + " " + v.path()), () -> "mutation introduced " + v.line());
                        JsonNode value = c.raw().at(pointer(v.path()));
                        boolean explicit = !value.isMissingNode() && !value.isNull();
                        boolean escalation = !explicit && escalationTheApiServerWouldNotAllowToDeny(c.raw(), v);
                        assertTrue(
                                explicit || escalation,
                                () -> "left after mutation without an explicit value: " + v.line());
                        labels.add(explicit ? "explicit value left" : "escalation left beside privileged or SYS_ADMIN");
                    }
                    if (left.isEmpty()) {
                        labels.add("no violation left");
                    }
                    PodSpecs.extract(typed(mutated)).orElseThrow().containers().forEach(view -> {
                        JsonNode sc = c.raw().at(pointer(view.path() + ".securityContext"));
                        if (privilegedOrAddsSysAdmin(sc)) {
                            Boolean ape = view.securityContext() == null
                                    ? null
                                    : view.securityContext().getAllowPrivilegeEscalation();
                            JsonNode own = sc.path("allowPrivilegeEscalation");
                            assertEquals(
                                    own.isBoolean() ? own.asBoolean() : null,
                                    ape,
                                    () -> "mutation changed allowPrivilegeEscalation of privileged or SYS_ADMIN "
                                            + view.path());
                        }
                    });
                });
    }

    /**
     * Where docs/policy.md says mutation does not apply, the patch is empty: mutation turned off
     * ({@code rootguard.mutation.enabled=false}), exempt requests, namespaces labelled
     * {@code rootguard.dev/mutate: "false"}, workloads a controller owns and objects without a pod
     * spec. Windows pods get at most {@code runAsNonRoot: true}, the one field the rules read that
     * the API server accepts on them.
     */
    @Test
    void mutationLeavesAloneWhatItDoesNotApplyTo() {
        PropertyRunner.forAll(
                "mutation leaves alone what it does not apply to",
                List.of(
                        "mutation disabled",
                        "exempt",
                        "mutate label false",
                        "controlled workload",
                        "windows only runAsNonRoot",
                        "no pod spec"),
                RandomPods::anyCase,
                (c, labels) -> {
                    JsonNode raw = c.raw();
                    Oracle.Decision d =
                            Oracle.decide(raw, c.namespace(), c.user(), c.labels(), c.annotations(), c.policy());
                    boolean controlled = !"Pod".equals(c.kind().kind())
                            && raw.path("metadata").path("ownerReferences").findValues("controller").stream()
                                    .anyMatch(JsonNode::asBoolean);
                    boolean windows = "windows"
                            .equals(raw.at(pointer(c.kind().podSpecPath() + ".os.name"))
                                    .asText());
                    List<String> reasons = new ArrayList<>();
                    if (!c.policy().mutationEnabled()) {
                        reasons.add("mutation disabled");
                    }
                    if ("EXEMPT".equals(d.outcome())) {
                        reasons.add("exempt");
                    }
                    if ("NOT_APPLICABLE".equals(d.outcome())) {
                        reasons.add("no pod spec");
                    }
                    if (!c.labels().mutate()) {
                        reasons.add("mutate label false");
                    }
                    if (controlled) {
                        reasons.add("controlled workload");
                    }
                    if (!reasons.isEmpty()) {
                        JsonNode patch = patch(typed(raw), c, c.policy().toPolicyConfig());
                        assertTrue(
                                patch.isEmpty(),
                                () -> "patched although mutation does not apply (" + reasons + "): " + patch);
                        reasons.forEach(labels::add);
                    } else if (windows) {
                        JsonNode patch = patch(typed(raw), c, c.policy().toPolicyConfig());
                        for (JsonNode op : patch) {
                            String path = op.path("path").asText();
                            boolean nonRoot = path.endsWith("/runAsNonRoot")
                                    || (path.endsWith("/securityContext")
                                            && op.path("value").size() == 1
                                            && op.path("value")
                                                    .path("runAsNonRoot")
                                                    .asBoolean(false));
                            assertTrue(nonRoot, () -> "a Windows pod got more than runAsNonRoot: " + patch);
                        }
                        labels.add("windows only runAsNonRoot");
                    }
                });
    }

    // ---------------------------------------------------------------- helpers

    /** Reads a raw object as the webhook and the audit do. */
    static HasMetadata typed(JsonNode raw) {
        Class<? extends HasMetadata> type = PodSpecs.modelClassForApiVersion(
                        raw.path("apiVersion").asText(), raw.path("kind").asText())
                .orElseThrow(() -> new IllegalArgumentException("no model class for " + raw.path("kind")));
        try {
            return Json.MAPPER.treeToValue(raw.deepCopy(), type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("generated object does not decode: " + e.getOriginalMessage(), e);
        }
    }

    /** The patch {@code /mutate} would send. */
    private static JsonNode patch(HasMetadata object, RandomPods.Case c, PolicyConfig policy) {
        return Patcher.patch(Json.MAPPER, object, copy -> ENGINE.mutate(copy, c.context(), policy));
    }

    private static ObjectNode apply(JsonNode patch, ObjectNode raw) {
        return (ObjectNode) JsonPatch.apply(patch, raw.deepCopy());
    }

    /** The typed object as JSON, re-read so that int and long values compare equal. */
    private static JsonNode tree(HasMetadata object) {
        try {
            return Json.MAPPER.readTree(Json.MAPPER.writeValueAsBytes(object));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Absent, null, or an empty list: Kubernetes serialises all three alike (omitempty). */
    private static boolean unset(JsonNode n) {
        return n.isMissingNode() || n.isNull() || (n.isArray() && n.isEmpty());
    }

    /** Everything in {@code raw} is in {@code patched} unchanged, except unset values, which may be filled. */
    private static void assertKept(JsonNode raw, JsonNode patched, String at) {
        if (unset(raw)) {
            return;
        }
        if (raw.isObject()) {
            assertTrue(patched.isObject(), () -> "object replaced at " + at);
            for (Iterator<Map.Entry<String, JsonNode>> it = raw.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                assertTrue(patched.has(e.getKey()), () -> "removed " + at + "/" + e.getKey());
                assertKept(e.getValue(), patched.get(e.getKey()), at + "/" + e.getKey());
            }
        } else if (raw.isArray()) {
            assertTrue(patched.isArray() && patched.size() == raw.size(), () -> "list changed length at " + at);
            for (int i = 0; i < raw.size(); i++) {
                assertKept(raw.get(i), patched.get(i), at + "/" + i);
            }
        } else if (!raw.equals(patched)) {
            fail("changed " + at + " from " + raw + " to " + patched);
        }
    }

    /** {@code spec.containers[0].securityContext.runAsUser} as a JSON pointer. */
    private static String pointer(String path) {
        return "/" + path.replaceAll("\\[(\\d+)]", ".$1").replace('.', '/');
    }

    /**
     * A {@code privilege-escalation} violation of a container that sets {@code privileged: true} or
     * adds {@code SYS_ADMIN}: the API server rejects {@code allowPrivilegeEscalation: false} there, so
     * mutation leaves it out and the user's own values are the cause.
     */
    private static boolean escalationTheApiServerWouldNotAllowToDeny(JsonNode raw, Violation v) {
        String suffix = ".securityContext.allowPrivilegeEscalation";
        return "privilege-escalation".equals(v.rule())
                && v.path().endsWith(suffix)
                && privilegedOrAddsSysAdmin(raw.at(
                        pointer(v.path().substring(0, v.path().length() - suffix.length()) + ".securityContext")));
    }

    /** {@code privileged: true}, or {@code SYS_ADMIN} in {@code capabilities.add} (any case, with or without CAP_). */
    private static boolean privilegedOrAddsSysAdmin(JsonNode sc) {
        if (sc.path("privileged").asBoolean(false)) {
            return true;
        }
        for (JsonNode a : sc.path("capabilities").path("add")) {
            String n = a.asText().toUpperCase(Locale.ROOT);
            if ("SYS_ADMIN".equals(n) || "CAP_SYS_ADMIN".equals(n)) {
                return true;
            }
        }
        return false;
    }
}
