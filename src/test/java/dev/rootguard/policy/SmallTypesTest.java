package dev.rootguard.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.policy.rule.CapabilitiesRule;
import dev.rootguard.policy.rule.PrivilegedRule;
import dev.rootguard.policy.rule.RuleRegistry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SmallTypesTest {

    @ParameterizedTest(name = "{0} weaker {1} = {2}")
    @CsvSource({
        "enforce,warn,warn",
        "warn,enforce,warn",
        "enforce,audit,audit",
        "audit,warn,audit",
        "off,enforce,off",
        "enforce,enforce,enforce"
    })
    void effectiveActionIsTheWeakerOfRuleActionAndMode(String a, String b, String expected) {
        assertEquals(Action.parse(expected), Action.parse(a).weaker(Action.parse(b)));
    }

    @Test
    void actionParsingIsCaseInsensitiveAndRejectsUnknownValues() {
        assertEquals(Action.WARN, Action.parse(" Warn "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Action.parse("block"));
        assertTrue(e.getMessage().contains("enforce, warn, audit, off"));
        assertThrows(IllegalArgumentException.class, () -> Action.parseMode("off"));
    }

    @ParameterizedTest(name = "{0} matches {1}: {2}")
    @CsvSource({
        "registry.example/legacy/*,registry.example/legacy/agent:2,true",
        "registry.example/legacy/*,registry.example/other/agent:2,false",
        "*:latest,nginx:latest,true",
        "nginx:1.2?,nginx:1.25,true",
        "nginx:1.2?,nginx:1.250,false",
        "a.b,axb,false",
        "system:serviceaccount:ci:*,system:serviceaccount:ci:deployer,true"
    })
    void globsMatchWholeValuesAcrossSlashesAndTreatRegexCharactersLiterally(
            String glob, String value, boolean matches) {
        assertEquals(matches, Glob.of(glob).matches(value));
    }

    @Test
    void idRangesParseAndRejectNonsense() {
        assertEquals(new IdRange(10000, 65535), IdRange.parse("10000-65535"));
        assertEquals(new IdRange(5, 5), IdRange.parse("5"));
        assertTrue(IdRange.parse("1-3").contains(3));
        assertFalse(IdRange.parse("1-3").contains(4));
        assertThrows(IllegalArgumentException.class, () -> IdRange.parse("10-1"));
        assertThrows(IllegalArgumentException.class, () -> IdRange.parse("abc"));
        assertThrows(IllegalArgumentException.class, () -> IdRange.parse("-5"));
    }

    @Test
    void capabilityNamesNormaliseCaseAndPrefix() {
        assertEquals("NET_ADMIN", CapabilitiesRule.normalize("cap_net_admin"));
        assertEquals("NET_ADMIN", CapabilitiesRule.normalize(" Net_Admin "));
        assertEquals("ALL", CapabilitiesRule.normalize("all"));
    }

    @Test
    void namespaceLabelsSetModeAndMutationAndReportUnreadableValues() {
        NamespacePolicy p =
                NamespacePolicy.fromLabels(Map.of("rootguard.dev/mode", "warn", "rootguard.dev/mutate", "false"));
        assertEquals(Optional.of(Action.WARN), p.mode());
        assertFalse(p.mutate());
        assertTrue(p.problems().isEmpty());

        NamespacePolicy bad =
                NamespacePolicy.fromLabels(Map.of("rootguard.dev/mode", "off", "rootguard.dev/mutate", "nope"));
        assertEquals(Optional.empty(), bad.mode(), "an unreadable mode label must not change the mode");
        assertTrue(bad.mutate());
        assertEquals(2, bad.problems().size());
        assertEquals(Action.ENFORCE, bad.modeOr(Action.ENFORCE));

        assertEquals(NamespacePolicy.UNKNOWN, NamespacePolicy.fromLabels(Map.of("team", "a")));
    }

    @Test
    void registryRefusesDuplicateIds() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new RuleRegistry(List.of(new PrivilegedRule(), new PrivilegedRule())));
        assertTrue(e.getMessage().contains("privileged"));
        assertEquals(
                List.of(
                        "image-user",
                        "run-as-root",
                        "root-group",
                        "privileged",
                        "capabilities",
                        "required-ids",
                        "privilege-escalation",
                        "id-range",
                        "image-groups"),
                List.copyOf(RuleRegistry.standard().ids()));
    }

    @Test
    void exemptionsNameTheReason() {
        PolicyConfig.Exemptions ex =
                new PolicyConfig.Exemptions(Set.of("kube-system"), List.of(Glob.of("system:serviceaccount:ci:*")));
        assertEquals(Optional.of("namespace kube-system is exempt"), ex.reason("kube-system", "bob"));
        assertTrue(ex.reason("team-a", "system:serviceaccount:ci:deployer")
                .orElseThrow()
                .contains("system:serviceaccount:ci:*"));
        assertEquals(Optional.empty(), ex.reason("team-a", "bob"));
    }
}
