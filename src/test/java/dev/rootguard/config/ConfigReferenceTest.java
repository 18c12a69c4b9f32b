package dev.rootguard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.policy.rule.RuleRegistry;
import dev.rootguard.policy.rule.SettingKey;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/configuration.md} is generated from {@link RootguardConfig}. When a key, default or
 * description changes, regenerate the tables with
 * {@code ./mvnw -B -ntp test -Dtest=ConfigReferenceTest -Drootguard.docs.write=true}.
 */
class ConfigReferenceTest {

    @Test
    void theConfigurationReferenceMatchesTheTypedConfiguration() throws Exception {
        String doc = Files.readString(ConfigReference.DOC);
        String expected =
                ConfigReference.replaceGenerated(doc, ConfigReference.read().markdown());
        if (Boolean.getBoolean("rootguard.docs.write")) {
            Files.writeString(ConfigReference.DOC, expected);
            doc = expected;
        }
        assertEquals(
                expected,
                doc,
                ConfigReference.DOC + " is out of date: run ./mvnw -B -ntp test"
                        + " -Dtest=ConfigReferenceTest -Drootguard.docs.write=true and commit the result");
    }

    @Test
    void everyKeyHasADescriptionAndKnownKeysHaveTheirDefaults() throws Exception {
        Map<String, ConfigReference.Key> keys = ConfigReference.read().groups().stream()
                .flatMap(g -> g.keys().stream())
                .collect(Collectors.toMap(ConfigReference.Key::name, Function.identity()));
        keys.values().forEach(k -> assertTrue(!k.description().isBlank(), k.name() + " has no Javadoc"));
        assertEquals("10s", keys.get("rootguard.tls.reload-period").defaultValue());
        assertEquals("duration", keys.get("rootguard.tls.reload-period").type());
        assertEquals("switch", keys.get("rootguard.allocator.enabled").type());
        assertEquals("enforce", keys.get("rootguard.mode").defaultValue());
    }

    @Test
    void everyKeyARuleReadsIsInTheReferenceWithTheSameDefault() throws Exception {
        Map<String, ConfigReference.Key> keys = ConfigReference.read().groups().stream()
                .flatMap(g -> g.keys().stream())
                .collect(Collectors.toMap(ConfigReference.Key::name, Function.identity()));
        RuleRegistry registry = RuleRegistry.standard();
        registry.rules().forEach(rule -> {
            List<SettingKey> read = registry.keys(rule);
            for (SettingKey k : read) {
                if (k.name().endsWith(".action")) {
                    continue; // unset in the configuration; the rule's own default applies
                }
                ConfigReference.Key documented = keys.get(k.name());
                assertTrue(documented != null, k.name() + " (rule " + rule.id() + ") is not in the reference");
                assertEquals(k.defaultValue(), documented.defaultValue(), k.name());
            }
        });
    }
}
