package dev.rootguard.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.policy.rule.RuleRegistry;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Table-driven rule tests over the YAML fixtures: each rule reports exactly the expected paths. */
class RuleFixturesTest {
    private static final Engine ENGINE = new Engine(RuleRegistry.standard());

    static Stream<Fixture> fixtures() {
        return Fixture.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void ruleReportsExactlyTheExpectedPaths(Fixture f) {
        List<Violation> all = ENGINE.review(f.object(), f.context(), f.policy()).violations();
        Set<String> paths = all.stream()
                .filter(v -> v.rule().equals(f.rule()))
                .map(Violation::path)
                .collect(Collectors.toCollection(TreeSet::new));
        if (f.pass()) {
            assertTrue(f.expected().isEmpty(), "a pass fixture must not list expected paths");
            assertEquals(Set.of(), paths, () -> "unexpected violations: " + all);
        } else {
            assertFalse(f.expected().isEmpty(), "a fail fixture must list expected paths");
            assertEquals(f.expected(), paths, () -> "violations: " + all);
        }
    }

    /** As Pod Security Admission's fixtures assert reason and detail, a fail fixture asserts each message's text. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void ruleGivesExactlyTheExpectedMessages(Fixture f) {
        List<String> messages = ENGINE.review(f.object(), f.context(), f.policy()).violations().stream()
                .filter(v -> v.rule().equals(f.rule()))
                .map(Violation::message)
                .sorted()
                .toList();
        if (f.pass()) {
            assertTrue(f.messages().isEmpty(), "a pass fixture must not list messages");
        } else {
            assertEquals(
                    f.expected().size(), f.messages().size(), "a fail fixture must list one message per expected path");
            assertEquals(f.messages().stream().sorted().toList(), messages);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void everyMessageNamesItsFieldAndAFix(Fixture f) {
        for (Violation v : ENGINE.review(f.object(), f.context(), f.policy()).violations()) {
            String field = v.path().substring(v.path().lastIndexOf('.') + 1).replaceAll("\\[\\d+]$", "");
            assertTrue(
                    v.message().contains(field)
                            || v.rule().equals("capabilities")
                            || v.rule().equals("root-group"),
                    () -> "message does not name " + field + ": " + v.line());
            assertTrue(v.message().matches(".*\\b(set|remove|choose)\\b.*"), () -> "message gives no fix: " + v.line());
        }
    }

    @Test
    void fixturesCoverEveryRuleAndEveryWorkloadKind() {
        List<Fixture> all = Fixture.all();
        Set<String> rules = all.stream().map(Fixture::rule).collect(Collectors.toSet());
        assertEquals(RuleRegistry.standard().ids(), rules);
        Set<String> kinds = all.stream().map(f -> f.raw().path("kind").asText()).collect(Collectors.toSet());
        assertEquals(
                Arrays.stream(WorkloadKind.values()).map(WorkloadKind::kind).collect(Collectors.toSet()), kinds);
        for (String rule : rules) {
            assertTrue(all.stream().anyMatch(f -> f.rule().equals(rule) && f.pass()), rule + " has no pass fixture");
            assertTrue(all.stream().anyMatch(f -> f.rule().equals(rule) && !f.pass()), rule + " has no fail fixture");
        }
    }
}
