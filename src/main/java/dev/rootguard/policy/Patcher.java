package dev.rootguard.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.zjsonpatch.DiffFlags;
import io.fabric8.zjsonpatch.JsonDiff;
import java.util.EnumSet;
import java.util.function.Predicate;

/**
 * Computes a mutation's JSON patch by diffing the typed original against a mutated typed copy.
 * Both sides went through the same model, so the patch holds only what the mutation added, and
 * unknown fields (kept in the model's additionalProperties) are never touched. The webhook sends
 * the patch; {@code rootguard fix} applies it to the raw manifest.
 */
public final class Patcher {
    private static final EnumSet<DiffFlags> FLAGS = EnumSet.of(DiffFlags.OMIT_COPY_OPERATION, DiffFlags.OMIT_MOVE_OPERATION);

    private Patcher() {
    }

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
        if (!mutate.test(copy)) {
            return mapper.createArrayNode();
        }
        // Only add/replace/remove: copy and move operations are valid but make patches harder to read and audit.
        return JsonDiff.asJson(before, mapper.valueToTree(copy), FLAGS);
    }
}
