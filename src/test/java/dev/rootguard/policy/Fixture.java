package dev.rootguard.policy;

import dev.rootguard.policy.rule.RuleRegistry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A YAML fixture under {@code src/test/resources/testdata/<rule>/{pass,fail}/}: one Kubernetes
 * object, with header comments {@code # expect: <path>} (the paths where the rule must report),
 * {@code # config: key=value} (policy settings for this case) and optionally
 * {@code # namespace-annotations: {"key": "value"}} (a JSON object: the object's namespace exists
 * with these annotations; without the line nothing is known about the namespace).
 */
public record Fixture(String rule, boolean pass, String name, Path file, ObjectNode raw, Set<String> expected, List<String> config,
        Optional<Map<String, String>> namespaceAnnotations) {
    public static final Path ROOT = Path.of("src/test/resources/testdata");
    private static final ObjectMapper YAML = new YAMLMapper();

    @Override
    public String toString() {
        return rule + "/" + (pass ? "pass" : "fail") + "/" + name;
    }

    /** Every fixture, sorted by path. */
    public static List<Fixture> all() {
        try (Stream<Path> files = Files.walk(ROOT)) {
            return files.filter(p -> p.toString().endsWith(".yaml") && !p.startsWith(ROOT.resolve("audit"))).sorted()
                    .map(Fixture::load).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Fixture load(Path file) {
        try {
            String text = Files.readString(file);
            Set<String> expected = new TreeSet<>();
            List<String> config = new ArrayList<>();
            Optional<Map<String, String>> annotations = Optional.empty();
            for (String line : text.split("\n")) {
                if (line.startsWith("# expect: ")) {
                    expected.add(line.substring("# expect: ".length()).trim());
                } else if (line.startsWith("# config: ")) {
                    config.add(line.substring("# config: ".length()).trim());
                } else if (line.startsWith("# namespace-annotations: ")) {
                    annotations = Optional.of(new ObjectMapper().readValue(line.substring("# namespace-annotations: ".length()),
                            new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() {
                            }));
                }
            }
            Path rel = ROOT.relativize(file);
            String outcome = rel.getName(1).toString();
            String name = rel.getFileName().toString().replace(".yaml", "");
            return new Fixture(rel.getName(0).toString(), "pass".equals(outcome), name, file, (ObjectNode) YAML.readTree(text),
                    expected, config, annotations);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The object as its model class. */
    public HasMetadata object() {
        return typed(raw);
    }

    /** Reads a raw object as its model class. */
    public static HasMetadata typed(JsonNode raw) {
        Class<? extends HasMetadata> type = PodSpecs.modelClassForApiVersion(raw.path("apiVersion").asText(), raw.path("kind").asText())
                .orElseThrow(() -> new IllegalArgumentException("unsupported kind " + raw.path("kind")));
        try {
            return YAML.treeToValue(raw, type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The evaluation context: namespace {@code team-a}, user {@code alice}, with the fixture's namespace annotations. */
    public Engine.Context context() {
        return new Engine.Context("team-a", "alice",
                namespaceAnnotations.map(a -> NamespacePolicy.fromMetadata(Map.of(), a)).orElse(NamespacePolicy.UNKNOWN));
    }

    /** The standard policy with this fixture's {@code # config:} lines applied to its rule. */
    public PolicyConfig policy() {
        PolicyConfig p = PolicyConfig.standard();
        PolicyConfig.RuleSettings settings = new PolicyConfig.RuleSettings(
                RuleRegistry.standard().get(rule).orElseThrow().defaultAction(), List.of());
        Set<String> caps = p.allowedCapabilities();
        Optional<IdRange> uid = p.runAsUserRange();
        Optional<IdRange> gid = p.runAsGroupRange();
        Optional<IdRange> fs = p.fsGroupRange();
        boolean strict = p.strictUserNamespaces();
        PolicyConfig.IdRangeSettings idRange = p.idRange();
        Action unset = p.escalationUnsetAction();
        for (String c : config) {
            String key = c.substring(0, c.indexOf('='));
            String value = c.substring(c.indexOf('=') + 1);
            switch (key) {
                case "allowed" -> caps = Set.of(value.split(","));
                case "strict-user-namespaces" -> strict = Boolean.parseBoolean(value);
                case "unset-action" -> unset = Action.parse(value);
                case "action" -> settings = new PolicyConfig.RuleSettings(Action.parse(value), settings.exemptImages());
                case "range-required" -> idRange = new PolicyConfig.IdRangeSettings(Boolean.parseBoolean(value), idRange.exemptHostUsers());
                case "exempt-host-users" -> idRange = new PolicyConfig.IdRangeSettings(idRange.rangeRequired(), Boolean.parseBoolean(value));
                case "run-as-user-range" -> uid = Optional.of(IdRange.parse(value));
                case "run-as-group-range" -> gid = Optional.of(IdRange.parse(value));
                case "fs-group-range" -> fs = Optional.of(IdRange.parse(value));
                case "exempt-images" -> settings = new PolicyConfig.RuleSettings(settings.action(),
                        Stream.of(value.split(",")).map(Glob::of).toList());
                default -> throw new IllegalArgumentException(file + ": unknown config key " + key);
            }
        }
        PolicyConfig built = new PolicyConfig(p.mode(), p.rules(), caps, uid, gid, fs, strict, idRange, unset, p.mutationEnabled(),
                p.defaults(), p.exemptions());
        return built.withRule(rule, settings);
    }
}
