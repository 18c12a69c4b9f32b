package dev.rootguard.policy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.rootguard.config.CliConfig;
import dev.rootguard.policy.rule.RuleRegistry;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A YAML fixture under {@code src/test/resources/testdata/<rule>/{pass,fail}/}: one Kubernetes
 * object, with header comments {@code # expect: <path>} (the paths where the rule must report),
 * {@code # message: <text>} (in a fail fixture, each message the rule must give, one line per violation),
 * {@code # config: key=value} (a real configuration key such as {@code rootguard.rules.capabilities.allowed},
 * read by the CLI's configuration loader) and optionally
 * {@code # namespace-annotations: {"key": "value"}} (a JSON object: the object's namespace exists
 * with these annotations; without the line nothing is known about the namespace), and, for the
 * rules that read what registries say of images, {@code # image: <ref> <platform> <digest> user=<USER>}
 * (one line per platform of an image looked up; {@code user=} with nothing for an image without USER)
 * and {@code # image-failed: <ref> <reason>} (a lookup that failed).
 */
public record Fixture(
        String rule,
        boolean pass,
        String name,
        Path file,
        ObjectNode raw,
        Set<String> expected,
        List<String> messages,
        List<String> config,
        Optional<Map<String, String>> namespaceAnnotations,
        ImageFacts images) {
    public static final Path ROOT = Path.of("src/test/resources/testdata");
    private static final ObjectMapper YAML = new YAMLMapper();

    @Override
    public String toString() {
        return rule + "/" + (pass ? "pass" : "fail") + "/" + name;
    }

    /** Every fixture, sorted by path. */
    public static List<Fixture> all() {
        try (Stream<Path> files = Files.walk(ROOT)) {
            return files.filter(p -> p.toString().endsWith(".yaml") && !p.startsWith(ROOT.resolve("audit")))
                    .sorted()
                    .map(Fixture::load)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Fixture load(Path file) {
        try {
            String text = Files.readString(file);
            Set<String> expected = new TreeSet<>();
            List<String> messages = new ArrayList<>();
            List<String> config = new ArrayList<>();
            Optional<Map<String, String>> annotations = Optional.empty();
            Map<String, List<ImageUser>> found = new LinkedHashMap<>();
            Map<String, ImageInfo> images = new LinkedHashMap<>();
            for (String line : text.split("\n")) {
                if (line.startsWith("# image: ")) {
                    String[] f = line.substring("# image: ".length()).trim().split(" ", 4);
                    found.computeIfAbsent(f[0], k -> new ArrayList<>())
                            .add(new ImageUser(f[1], f[2], f[3].substring("user=".length())));
                } else if (line.startsWith("# image-failed: ")) {
                    String[] f =
                            line.substring("# image-failed: ".length()).trim().split(" ", 2);
                    images.put(f[0], ImageInfo.failed(f[0], f[1]));
                }
                if (line.startsWith("# expect: ")) {
                    expected.add(line.substring("# expect: ".length()).trim());
                } else if (line.startsWith("# message: ")) {
                    messages.add(line.substring("# message: ".length()));
                } else if (line.startsWith("# config: ")) {
                    config.add(line.substring("# config: ".length()).trim());
                } else if (line.startsWith("# namespace-annotations: ")) {
                    annotations = Optional.of(new ObjectMapper()
                            .readValue(
                                    line.substring("# namespace-annotations: ".length()),
                                    new TypeReference<Map<String, String>>() {}));
                }
            }
            found.forEach((image, users) -> images.put(image, ImageInfo.found(image, users)));
            Path rel = ROOT.relativize(file);
            String outcome = rel.getName(1).toString();
            String name = rel.getFileName().toString().replace(".yaml", "");
            return new Fixture(
                    rel.getName(0).toString(),
                    "pass".equals(outcome),
                    name,
                    file,
                    (ObjectNode) YAML.readTree(text),
                    expected,
                    messages,
                    config,
                    annotations,
                    new ImageFacts(images));
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
        Class<? extends HasMetadata> type = PodSpecs.modelClassForApiVersion(
                        raw.path("apiVersion").asText(), raw.path("kind").asText())
                .orElseThrow(() -> new IllegalArgumentException("unsupported kind " + raw.path("kind")));
        try {
            return YAML.treeToValue(raw, type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The evaluation context: namespace {@code team-a}, user {@code alice}, with the fixture's namespace annotations. */
    public Engine.Context context() {
        return new Engine.Context(
                "team-a",
                "alice",
                namespaceAnnotations
                        .map(a -> NamespacePolicy.fromMetadata(Map.of(), a))
                        .orElse(NamespacePolicy.UNKNOWN),
                images);
    }

    /** The policy from this fixture's {@code # config:} lines alone, read as the CLI reads a configuration file. */
    public PolicyConfig policy() {
        Map<String, String> properties = new LinkedHashMap<>();
        for (String c : config) {
            properties.put(c.substring(0, c.indexOf('=')), c.substring(c.indexOf('=') + 1));
        }
        return CliConfig.fromProperties(properties, RuleRegistry.standard());
    }
}
