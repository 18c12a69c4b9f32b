package dev.rootguard.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.rule.RuleRegistry;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Loads the webhook's {@code rootguard.*} configuration for the CLI, without starting the server:
 * environment variables and system properties as for the webhook, then an optional
 * {@code --config} file (properties, or YAML with nested keys), then {@code -D key=value} options.
 * Unknown {@code rootguard.*} keys are errors, exactly as in the webhook.
 */
public final class CliConfig {

    private CliConfig() {}

    /**
     * Builds the policy.
     *
     * @throws IllegalArgumentException naming the offending file, key or value
     */
    public static PolicyConfig load(Path file, Map<String, String> overrides, RuleRegistry registry) {
        Map<String, String> fromFile = file == null ? Map.of() : read(file);
        return build(
                new SmallRyeConfigBuilder()
                        .withMapping(RootguardConfig.class)
                        .addDefaultInterceptors()
                        .addSystemSources()
                        .withConverter(Duration.class, 100, new DurationConverter())
                        .withSources(new PropertiesConfigSource(fromFile, file == null ? "none" : file.toString(), 350))
                        .withSources(new PropertiesConfigSource(overrides, "command line", 500)),
                registry);
    }

    /** The policy from these properties alone (no environment or system properties), as the chart's ConfigMap gives it. */
    public static PolicyConfig fromProperties(Map<String, String> properties, RuleRegistry registry) {
        return build(
                new SmallRyeConfigBuilder()
                        .withMapping(RootguardConfig.class)
                        .addDefaultInterceptors()
                        .withConverter(Duration.class, 100, new DurationConverter())
                        .withSources(new PropertiesConfigSource(properties, "properties", 500)),
                registry);
    }

    /** Reads the mapping, reporting conversion problems as the webhook does at start-up ({@link ConfigErrors}). */
    private static PolicyConfig build(SmallRyeConfigBuilder builder, RuleRegistry registry) {
        SmallRyeConfig config;
        try {
            config = builder.build();
        } catch (RuntimeException e) {
            List<String> problems = ConfigErrors.describe(e);
            if (problems.isEmpty()) {
                throw e;
            }
            throw new IllegalArgumentException("invalid configuration: " + String.join("; ", problems), e);
        }
        return PolicyConfigs.from(config.getConfigMapping(RootguardConfig.class), registry);
    }

    static Map<String, String> read(Path file) {
        try {
            String text = Files.readString(file);
            String name = file.getFileName().toString().toLowerCase();
            Map<String, String> out = new HashMap<>();
            if (name.endsWith(".yaml") || name.endsWith(".yml")) {
                flatten("", new YAMLMapper().readTree(text), out);
            } else {
                Properties p = new Properties();
                p.load(new StringReader(text));
                p.forEach((k, v) -> out.put(k.toString(), v.toString()));
            }
            return out;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read configuration file " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@code rootguard: {rules: {capabilities: {allowed: [A, B]}}}} becomes {@code rootguard.rules.capabilities.allowed=A,B}. */
    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node == null || node.isNull()) {
            return;
        }
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                var e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else if (node.isArray()) {
            StringBuilder sb = new StringBuilder();
            node.forEach(v ->
                    sb.append(sb.length() == 0 ? "" : ",").append(v.asText().replace(",", "\\,")));
            out.put(prefix, sb.toString());
        } else {
            out.put(prefix, node.asText());
        }
    }
}
