package dev.rootguard.audit;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.rootguard.json.Json;
import dev.rootguard.json.JsonErrors;
import dev.rootguard.policy.Action;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.Violation;
import dev.rootguard.policy.WorkloadKind;
import dev.rootguard.policy.mutate.Patcher;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.zjsonpatch.JsonPatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@code rootguard fix}: applies the webhook's mutation defaults to manifests. The JSON patch the
 * webhook would send is applied to each raw document, so fields rootguard does not know are kept;
 * documents that need no change keep their original text, comments included.
 */
public final class Fixer {
    /** Strings are always quoted: "8080", "1e3", "yes" or "0x1F" must stay strings for kubectl. */
    private static final YAMLMapper YAML_OUT = new YAMLMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .build());

    private static final ObjectMapper JSON_OUT = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Engine engine;
    private final PolicyConfig policy;
    private final Function<String, NamespacePolicy> namespaces;
    private final String defaultNamespace;

    public Fixer(
            Engine engine, PolicyConfig policy, Function<String, NamespacePolicy> namespaces, String defaultNamespace) {
        this.engine = engine;
        this.policy = policy;
        this.namespaces = namespaces;
        this.defaultNamespace = defaultNamespace;
    }

    /**
     * The result for one file.
     *
     * @param text       the fixed file
     * @param changed    documents that were changed
     * @param problems   one line per unreadable document or object still rejected after defaulting
     * @param unreadable whether some document could not be read
     * @param rejected   whether some object would still be rejected
     */
    public record Outcome(String text, int changed, List<String> problems, boolean unreadable, boolean rejected) {}

    public Outcome fix(String file, String text) {
        StringBuilder out = new StringBuilder();
        List<String> problems = new ArrayList<>();
        boolean unreadable = false;
        boolean rejected = false;
        int changed = 0;
        int docIndex = 0;
        for (ManifestReader.Chunk c : ManifestReader.split(text)) {
            String result = c.text();
            if (!c.empty()) {
                int index = docIndex++;
                try {
                    JsonNode root = ManifestReader.readTree(c.text());
                    boolean any = false;
                    if (root != null
                            && root.isObject()
                            && root.path("kind").asText("").endsWith("List")
                            && root.path("items").isArray()) {
                        ArrayNode items = (ArrayNode) root.path("items");
                        for (int i = 0; i < items.size(); i++) {
                            if (items.get(i).isObject()) {
                                Fixed f = fixObject(
                                        (ObjectNode) items.get(i),
                                        file + " (document " + index + ", item " + i + ")",
                                        problems);
                                rejected |= f.rejected;
                                if (f.object != null) {
                                    items.set(i, f.object);
                                    any = true;
                                }
                            }
                        }
                    } else if (root != null && root.isObject()) {
                        Fixed f = fixObject(
                                (ObjectNode) root,
                                file + " (document " + index + ", line " + (c.startLine() + 1) + ")",
                                problems);
                        rejected |= f.rejected;
                        if (f.object != null) {
                            root = f.object;
                            any = true;
                        }
                    }
                    if (any) {
                        changed++;
                        String trimmed = c.text().stripLeading();
                        boolean json = trimmed.startsWith("{") || trimmed.startsWith("[");
                        result = (json ? JSON_OUT.writeValueAsString(root) : YAML_OUT.writeValueAsString(root))
                                .stripTrailing();
                    }
                } catch (Exception e) {
                    unreadable = true;
                    String msg = e instanceof JacksonException ? JsonErrors.describe(e, false) : e.getMessage();
                    problems.add(file + " (document " + index + ", line " + (c.startLine() + 1)
                            + "): left unchanged, cannot read it: "
                            + (msg == null ? "" : msg.lines().findFirst().orElse("")));
                }
            }
            out.append(result);
            if (c.separator() != null) {
                out.append('\n').append(c.separator()).append('\n');
            }
        }
        String fixed = out.toString();
        if (text.endsWith("\n") && !fixed.endsWith("\n")) {
            fixed += "\n";
        }
        return new Outcome(fixed, changed, problems, unreadable, rejected);
    }

    private record Fixed(ObjectNode object, boolean rejected) {}

    private Fixed fixObject(ObjectNode raw, String where, List<String> problems) throws Exception {
        Optional<Class<? extends HasMetadata>> type = WorkloadKind.forApiVersion(
                        raw.path("apiVersion").asText(null), raw.path("kind").asText(null))
                .map(WorkloadKind::modelClass);
        if (type.isEmpty()) {
            return new Fixed(null, false);
        }
        HasMetadata object = Json.MAPPER.treeToValue(raw, type.get());
        String ns = object.getMetadata() != null && object.getMetadata().getNamespace() != null
                ? object.getMetadata().getNamespace()
                : defaultNamespace;
        Engine.Context ctx = new Engine.Context(ns, null, namespaces.apply(ns));
        JsonNode patch = Patcher.patch(Json.MAPPER, object, copy -> engine.mutate(copy, ctx, policy));
        ObjectNode patched = patch.isEmpty() ? raw : (ObjectNode) JsonPatch.apply(patch, raw);
        HasMetadata after = Json.MAPPER.treeToValue(patched, type.get());
        List<Violation> left = engine.review(after, ctx, policy).violationsAt(Action.ENFORCE);
        String name = object.getKind() + " " + ns + "/"
                + (object.getMetadata() == null ? "" : object.getMetadata().getName());
        for (Violation v : left) {
            problems.add(where + ": " + name + " would still be rejected: " + v.line());
        }
        return new Fixed(patch.isEmpty() ? null : patched, !left.isEmpty());
    }
}
