package dev.rootguard.policy.mutate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.zjsonpatch.DiffFlags;
import io.fabric8.zjsonpatch.JsonDiff;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Computes a mutation's JSON patch by diffing the typed original against a mutated typed copy.
 * Both sides went through the same model, so the patch holds only what the mutation added, and
 * unknown fields (kept in the model's additionalProperties) are never touched. The webhook sends
 * the patch; {@code rootguard fix} applies it to the raw manifest.
 */
public final class Patcher {
    private static final EnumSet<DiffFlags> FLAGS =
            EnumSet.of(DiffFlags.OMIT_COPY_OPERATION, DiffFlags.OMIT_MOVE_OPERATION);

    private Patcher() {}

    /**
     * The JSON patch (an array of operations, empty when nothing changes).
     *
     * @param mapper   the mapper the object was read with
     * @param original the object; not modified
     * @param mutate   changes the copy in place and says whether it changed anything
     */
    public static JsonNode patch(ObjectMapper mapper, HasMetadata original, Predicate<HasMetadata> mutate) {
        JsonNode before = mapper.valueToTree(original);
        HasMetadata copy;
        try {
            copy = mapper.treeToValue(before, original.getClass());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot copy " + original.getKind() + ": " + e.getOriginalMessage(), e);
        }
        return diffAfter(mapper, before, copy, mutate);
    }

    /**
     * The same patch as {@link #patch}, for an object the caller no longer needs unchanged: MUTATE
     * changes OBJECT itself, which saves copying it (one of the three passes over the object).
     *
     * @param mapper the mapper the object was read with
     * @param object the object; changed in place to its mutated form
     * @param mutate changes the object in place and says whether it changed anything
     */
    public static JsonNode patchInPlace(ObjectMapper mapper, HasMetadata object, Predicate<HasMetadata> mutate) {
        return diffAfter(mapper, mapper.valueToTree(object), object, mutate);
    }

    /** Mutates TARGET, whose tree before the mutation is BEFORE, and returns the patch between the two. */
    private static JsonNode diffAfter(
            ObjectMapper mapper, JsonNode before, HasMetadata target, Predicate<HasMetadata> mutate) {
        if (!mutate.test(target)) {
            return mapper.createArrayNode();
        }
        ArrayNode out = mapper.createArrayNode();
        diff(before, mapper.valueToTree(target), "", out);
        return out;
    }

    /**
     * Diffs two trees, descending into objects and into arrays whose length did not change, so the
     * library's array diff (quadratic in the array's length) only ever runs on small changed
     * subtrees: a pod with thousands of containers costs linear time, not gigabytes of memory.
     * Only add/replace/remove are emitted: copy and move are valid but make patches harder to audit.
     */
    private static void diff(JsonNode a, JsonNode b, String pointer, ArrayNode out) {
        if (a.equals(b)) {
            return;
        }
        if (a.isArray() && b.isArray() && a.size() == b.size()) {
            for (int i = 0; i < a.size(); i++) {
                diff(a.get(i), b.get(i), pointer + "/" + i, out);
            }
            return;
        }
        if (a.isObject() && b.isObject()) {
            Set<String> names = new LinkedHashSet<>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                String child = pointer + "/" + name.replace("~", "~0").replace("/", "~1");
                if (a.has(name) && b.has(name)) {
                    diff(a.get(name), b.get(name), child, out);
                } else {
                    ObjectNode left = JsonNodeFactory.instance.objectNode();
                    ObjectNode right = JsonNodeFactory.instance.objectNode();
                    if (a.has(name)) {
                        left.set(name, a.get(name));
                    }
                    if (b.has(name)) {
                        right.set(name, b.get(name));
                    }
                    prefixed(JsonDiff.asJson(left, right, FLAGS), pointer, out);
                }
            }
            return;
        }
        prefixed(JsonDiff.asJson(a, b, FLAGS), pointer, out);
    }

    private static void prefixed(JsonNode ops, String pointer, ArrayNode out) {
        for (JsonNode op : ops) {
            ObjectNode o = (ObjectNode) op;
            o.put("path", pointer + o.path("path").asText());
            out.add(o);
        }
    }
}
