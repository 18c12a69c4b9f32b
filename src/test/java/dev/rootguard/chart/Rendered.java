package dev.rootguard.chart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.rootguard.testing.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Manifests rendered by {@code helm template}, as JSON trees. */
record Rendered(List<JsonNode> docs) {
    static final YAMLMapper YAML = new YAMLMapper();

    static Rendered parse(String yaml) {
        List<JsonNode> docs = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(yaml)) {
            for (var it = YAML.readValues(parser, JsonNode.class); it.hasNext(); ) {
                JsonNode doc = it.next();
                if (doc != null && doc.isObject() && doc.has("kind")) {
                    docs.add(doc);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Rendered(docs);
    }

    /** Renders the chart as release "rootguard" in namespace "rootguard" with extra helm arguments. */
    static Rendered template(String... extraArgs) {
        List<String> args =
                new ArrayList<>(List.of("template", "rootguard", "charts/rootguard", "--namespace", "rootguard"));
        args.addAll(List.of(extraArgs));
        return parse(Tools.helm(args.toArray(String[]::new)).orFail().stdout());
    }

    List<JsonNode> all(String kind) {
        return docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
    }

    Optional<JsonNode> find(String kind) {
        return all(kind).stream().findFirst();
    }

    JsonNode one(String kind) {
        List<JsonNode> found = all(kind);
        if (found.size() != 1) {
            throw new AssertionError("expected one " + kind + ", found " + found.size());
        }
        return found.get(0);
    }

    /** The same documents with generated certificate material and helm's source comments blanked. */
    List<JsonNode> normalized() {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode d : docs) {
            ObjectNode copy = d.deepCopy();
            if ("Secret".equals(copy.path("kind").asText()) && copy.has("data")) {
                ObjectNode data = (ObjectNode) copy.path("data");
                List<String> names = new ArrayList<>();
                data.fieldNames().forEachRemaining(names::add);
                names.forEach(n -> data.put(n, "<generated>"));
            }
            for (JsonNode hook : copy.path("webhooks")) {
                if (hook.path("clientConfig").has("caBundle")) {
                    ((ObjectNode) hook.path("clientConfig")).put("caBundle", "<generated>");
                }
            }
            out.add(copy);
        }
        return out;
    }
}
