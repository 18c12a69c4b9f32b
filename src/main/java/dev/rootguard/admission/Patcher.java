package dev.rootguard.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.zjsonpatch.DiffFlags;
import io.fabric8.zjsonpatch.JsonDiff;
import java.util.EnumSet;
import java.util.function.Predicate;

/**
 * Computes a mutation's JSON patch by diffing the typed original against a mutated typed copy.
 * Both sides went through the same model, so the patch holds only what the mutation added, and
 * unknown fields (kept in the model's additionalProperties) are never touched.
 */
public final class Patcher {

    private static final EnumSet<DiffFlags> FLAGS = EnumSet.of(DiffFlags.OMIT_COPY_OPERATION, DiffFlags.OMIT_MOVE_OPERATION);

    private Patcher() {
    }

    /**
     * The JSON patch (an array of operations, empty when nothing changes).
     *
     * @param original the object as read from the request; not modified
     * @param mutate   changes the copy in place and says whether it changed anything
     */
    public static JsonNode patch(HasMetadata original, Predicate<HasMetadata> mutate) {
        JsonNode before = Json.MAPPER.valueToTree(original);
        HasMetadata copy = AdmissionDecoder.typed((ObjectNode) before.deepCopy(), original.getClass(), "object");
        if (!mutate.test(copy)) {
            return Json.MAPPER.createArrayNode();
        }
        // Only add/replace/remove: copy and move operations are valid but make patches harder to read and audit.
        return JsonDiff.asJson(before, Json.MAPPER.valueToTree(copy), FLAGS);
    }
}
