package dev.rootguard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.IdRange;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.mutate.Mutation;
import dev.rootguard.policy.rule.CapabilitiesRule;
import dev.rootguard.policy.rule.IdRangeRule;
import dev.rootguard.policy.rule.ImageGroupsRule;
import dev.rootguard.policy.rule.PrivilegeEscalationRule;
import dev.rootguard.policy.rule.RequiredIdsRule;
import dev.rootguard.policy.rule.Rule;
import dev.rootguard.policy.rule.RuleRegistry;
import dev.rootguard.policy.rule.RunAsRootRule;
import dev.rootguard.policy.rule.SettingKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Configuration keys become the engine's policy; bad values fail naming the key. */
class PolicyConfigsTest {

    private static PolicyConfig build(Map<String, String> props) {
        return CliConfig.fromProperties(props, RuleRegistry.standard());
    }

    @Test
    void defaultsMatchTheDocumentedDefaults() {
        PolicyConfig p = build(Map.of());
        assertEquals(Action.ENFORCE, p.mode());
        RuleRegistry r = RuleRegistry.standard();
        assertEquals(Action.ENFORCE, p.rule(r.get("run-as-root").orElseThrow()).action());
        assertEquals(
                Action.ENFORCE,
                p.rule(r.get("privilege-escalation").orElseThrow()).action());
        assertEquals(
                Action.WARN,
                p.settings(PrivilegeEscalationRule.ID, PrivilegeEscalationRule.Settings.class)
                        .unsetAction());
        assertEquals(Action.WARN, p.rule(r.get("image-groups").orElseThrow()).action());
        assertTrue(p.mutation().enabled());
        assertEquals(
                Set.of("NET_BIND_SERVICE"),
                p.settings(CapabilitiesRule.ID, CapabilitiesRule.Settings.class).allowed());
        assertEquals(Mutation.standard(), p.mutation());
        for (Rule<?> rule : r.rules()) {
            assertEquals(rule.defaults(), p.rule(rule).settings(), rule.id());
        }
        assertEquals(
                Set.of("kube-system", "kube-public", "kube-node-lease", "rootguard"),
                p.exemptions().namespaces());
    }

    @Test
    void everyKeyReachesThePolicy() {
        PolicyConfig p = build(Map.ofEntries(
                Map.entry("rootguard.mode", "warn"),
                Map.entry("rootguard.rules.privileged.action", "audit"),
                Map.entry("rootguard.rules.privileged.exempt-images", "registry.example/csi/*"),
                Map.entry("rootguard.rules.capabilities.allowed", "cap_net_raw,NET_BIND_SERVICE"),
                Map.entry("rootguard.rules.required-ids.run-as-user-range", "10000-20000"),
                Map.entry("rootguard.rules.run-as-root.strict-user-namespaces", "true"),
                Map.entry("rootguard.defaults.run-as-user", "12345"),
                Map.entry("rootguard.defaults.seccomp-profile", "none"),
                Map.entry("rootguard.exemptions.users", "system:serviceaccount:ci:*"),
                Map.entry("rootguard.namespace", "security")));
        assertEquals(Action.WARN, p.mode());
        var privileged = p.rules().get("privileged");
        assertEquals(Action.AUDIT, privileged.action());
        assertTrue(privileged.exempts("registry.example/csi/driver:1"));
        assertEquals(
                Set.of("NET_RAW", "NET_BIND_SERVICE"),
                p.settings(CapabilitiesRule.ID, CapabilitiesRule.Settings.class).allowed());
        assertEquals(
                Optional.of(new IdRange(10000, 20000)),
                p.settings(RequiredIdsRule.ID, RequiredIdsRule.Settings.class).runAsUserRange());
        assertTrue(p.settings(RunAsRootRule.ID, RunAsRootRule.Settings.class).strictUserNamespaces());
        assertEquals(12345, p.mutation().ids().runAsUser());
        assertEquals(Optional.empty(), p.mutation().seccompProfile());
        assertTrue(p.exemptions().reason("team", "system:serviceaccount:ci:bot").isPresent());
        assertTrue(p.exemptions().namespaces().contains("security"));
    }

    @Test
    void escalationSupplementalGroupsAndMutationKeysReachThePolicy() {
        PolicyConfig p = build(Map.of(
                "rootguard.rules.privilege-escalation.unset-action",
                "off",
                "rootguard.rules.image-groups.action",
                "enforce",
                "rootguard.defaults.strict-supplemental-groups",
                "false",
                "rootguard.mutation.enabled",
                "false"));
        assertEquals(
                Action.OFF,
                p.settings(PrivilegeEscalationRule.ID, PrivilegeEscalationRule.Settings.class)
                        .unsetAction());
        assertEquals(Action.ENFORCE, p.rules().get("image-groups").action());
        assertEquals(
                false,
                p.settings(ImageGroupsRule.ID, ImageGroupsRule.Settings.class).fillStrict());
        assertEquals(false, p.mutation().enabled());
        assertKeyError(
                "rootguard.rules.privilege-escalation.unset-action",
                Map.of("rootguard.rules.privilege-escalation.unset-action", "deny"));
    }

    @Test
    void badValuesFailNamingTheKey() {
        assertKeyError("rootguard.mode", Map.of("rootguard.mode", "off"));
        assertKeyError("rootguard.rules.capabilities.action", Map.of("rootguard.rules.capabilities.action", "block"));
        assertKeyError(
                "rootguard.rules.required-ids.fs-group-range",
                Map.of("rootguard.rules.required-ids.fs-group-range", "9-1"));
        assertKeyError("rootguard.defaults.run-as-user", Map.of("rootguard.defaults.run-as-user", "0"));
        assertKeyError(
                "rootguard.defaults.run-as-user",
                Map.of("rootguard.rules.required-ids.run-as-user-range", "20000-30000"));
        assertKeyError("rootguard.defaults.fs-group", Map.of("rootguard.rules.required-ids.fs-group-range", "1-999"));
    }

    @Test
    void idRangeAndAllocatorKeysReachThePolicy() {
        PolicyConfig off = build(Map.of());
        assertEquals(new IdRangeRule.Settings(false, false), off.settings(IdRangeRule.ID, IdRangeRule.Settings.class));
        assertEquals(
                Action.ENFORCE,
                off.rule(RuleRegistry.standard().get("id-range").orElseThrow()).action());
        PolicyConfig p = build(Map.of(
                "rootguard.allocator.enabled",
                "true",
                "rootguard.rules.id-range.exempt-host-users",
                "true",
                "rootguard.rules.id-range.action",
                "warn",
                "rootguard.rules.required-ids.run-as-user-range",
                "1-2147483647"));
        assertEquals(
                new IdRangeRule.Settings(true, true),
                p.settings(IdRangeRule.ID, IdRangeRule.Settings.class),
                "the allocator makes a range required");
        assertEquals(Action.WARN, p.rules().get("id-range").action());
    }

    @Test
    void allocatorSettingsAreCheckedAtStartUp() {
        assertKeyError("rootguard.allocator.block", Map.of("rootguard.allocator.block", "1000000000-1999999999"));
        assertKeyError("rootguard.allocator.block", Map.of("rootguard.allocator.block", "0/100"));
        assertKeyError("rootguard.allocator.range-size", Map.of("rootguard.allocator.range-size", "0"));
        assertKeyError(
                "rootguard.allocator.range-size",
                Map.of("rootguard.allocator.block", "1000/100", "rootguard.allocator.range-size", "101"));
        assertKeyError(
                "rootguard.allocator.enabled",
                Map.of("rootguard.allocator.enabled", "true", "rootguard.namespace-labels.enabled", "false"));
        // Pods defaulted to their namespace's range must not be denied by required-ids.
        assertKeyError(
                "rootguard.rules.required-ids.run-as-user-range",
                Map.of(
                        "rootguard.allocator.enabled",
                        "true",
                        "rootguard.rules.required-ids.run-as-user-range",
                        "10000-65535",
                        "rootguard.defaults.run-as-user",
                        "10000"));
        build(Map.of("rootguard.rules.required-ids.run-as-user-range", "10000-65535"));
    }

    /** The keys each rule declares for the configuration reference are exactly those the configuration library reads, with its defaults. */
    @Test
    void everyRuleDeclaresTheKeysOfItsGroupWithTheirDefaults() {
        Map<String, String> config = PolicyConfigs.declaredKeys();
        RuleRegistry registry = RuleRegistry.standard();
        List<SettingKey> declared = new ArrayList<>(Mutation.keys());
        registry.rules().forEach(rule -> declared.addAll(registry.keys(rule)));
        for (SettingKey k : declared) {
            assertTrue(config.containsKey(k.name()), k.name() + " is declared but no configuration key");
            // An unset action means the rule's default action, which the declaration names.
            if (!k.name().endsWith(".action")) {
                assertEquals(config.get(k.name()), k.defaultValue(), k.name());
            }
        }
        assertEquals(
                new TreeSet<>(config.keySet()),
                declared.stream().map(SettingKey::name).collect(Collectors.toCollection(TreeSet::new)));
    }

    @Test
    void unknownKeysAreRejected() {
        RuntimeException e = assertThrows(
                RuntimeException.class, () -> build(Map.of("rootguard.rules.run-as-rooot.action", "warn")));
        assertTrue(e.getMessage().contains("rootguard.rules.run-as-rooot.action"), e.getMessage());
    }

    @Test
    void switchesTakeTheUsualWordsForTrueAndFalseInAnyCase() {
        for (String no : new String[] {"false", "FALSE", "no", "off", "0", " false "}) {
            assertFalse(
                    build(Map.of(
                                    "rootguard.rules.run-as-root.strict-user-namespaces",
                                    "true",
                                    "rootguard.defaults.run-as-non-root",
                                    no))
                            .settings(RunAsRootRule.ID, RunAsRootRule.Settings.class)
                            .fillRunAsNonRoot(),
                    no);
        }
        for (String yes : new String[] {"true", "True", "yes", "on", "1"}) {
            assertTrue(
                    build(Map.of("rootguard.rules.run-as-root.strict-user-namespaces", yes))
                            .settings(RunAsRootRule.ID, RunAsRootRule.Settings.class)
                            .strictUserNamespaces(),
                    yes);
        }
    }

    @Test
    void anEmptyCapabilityAllowlistAllowsNoneAndDiffersFromUnset() {
        assertEquals(
                Set.of(),
                build(Map.of("rootguard.rules.capabilities.allowed", ""))
                        .settings(CapabilitiesRule.ID, CapabilitiesRule.Settings.class)
                        .allowed());
        assertEquals(
                Set.of("NET_BIND_SERVICE"),
                build(Map.of())
                        .settings(CapabilitiesRule.ID, CapabilitiesRule.Settings.class)
                        .allowed());
        assertEquals(
                Set.of("NET_RAW"),
                build(Map.of("rootguard.rules.capabilities.allowed", "NET_RAW"))
                        .settings(CapabilitiesRule.ID, CapabilitiesRule.Settings.class)
                        .allowed());
    }

    /** Each bad value: the message names the key, the kind of value it needs and the fix; never a library code. */
    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "rootguard.tls.engine|boring|rootguard.tls.engine: \"boring\" is not one of ",
                "rootguard.defaults.run-as-user|abc|rootguard.defaults.run-as-user: \"abc\" is not a whole number; set a number such as",
                "rootguard.admission.warm-up-requests|1.5|rootguard.admission.warm-up-requests: \"1.5\" is not a whole number",
                "rootguard.allocator.range-size|99999999999999999999|rootguard.allocator.range-size: \"99999999999999999999\" is not a whole number",
                "rootguard.tls.reload-period|soon|rootguard.tls.reload-period: \"soon\" is not a duration; set a number with a unit",
                "rootguard.audit.interval|5 minutes|rootguard.audit.interval: \"5 minutes\" is not a duration",
                "rootguard.mode|''|rootguard.mode: is empty, but needs a value; set one, or remove the key",
                "rootguard.defaults.fs-group|''|rootguard.defaults.fs-group: is empty, but needs a value",
                "rootguard.rules.run-as-rooot.action|warn|rootguard.rules.run-as-rooot.action: unknown key (set in ",
                "rootguard.mode|block|rootguard.mode: ",
                "rootguard.mutation.enabled|ture|rootguard.mutation.enabled: \"ture\" is not true or false; set true or false",
                "rootguard.defaults.run-as-non-root|maybe|rootguard.defaults.run-as-non-root: \"maybe\" is not true or false"
            })
    void configurationErrorsNameTheKeyTheKindOfValueAndTheFix(String key, String value, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> build(Map.of(key, value)));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(
                !e.getMessage().contains("SRCFG")
                        && !e.getMessage().contains("Exception")
                        && !e.getMessage().contains("dev.rootguard"),
                e.getMessage());
    }

    private static void assertKeyError(String key, Map<String, String> props) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> build(props));
        assertTrue(e.getMessage().startsWith(key + ":"), e.getMessage());
    }
}
