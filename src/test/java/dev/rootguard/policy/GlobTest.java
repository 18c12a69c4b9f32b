package dev.rootguard.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.policy.rule.RuleRegistry;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Exemption globs are matched against values from requests, so their cost must not depend on what
 * an attacker puts there. The regex-based matcher took seconds on a 90 KB image and minutes on
 * 1 MB; these cases stay far below a second.
 */
class GlobTest {
    /** Seconds where the backtracking matcher needed minutes (1 MB) or several seconds (100 KB). */
    private static final Duration BOUND = Duration.ofSeconds(2);

    /** Appended to an adversarial value, makes it match every shape but {@code *a*a*a*a*b}. */
    private static final String SUFFIX = "x.dkr.ecr.y.amazonaws.com/cba:v!";

    /**
     * A glob shape and a value of about {@code size} characters that almost, but never, matches it;
     * {@code matchesWithSuffix}: whether the value followed by {@link #SUFFIX} matches.
     */
    record Adversary(String glob, String unit, String prefix, boolean matchesWithSuffix) {
        String value(int size) {
            return prefix + unit.repeat((size - prefix.length()) / unit.length());
        }
    }

    private static final List<Adversary> ADVERSARIES = List.of(
            new Adversary("*.dkr.ecr.*.amazonaws.com/*", ".dkr.ecr.", "", true),
            new Adversary("*a*b*c*", "ab", "", true),
            new Adversary("x/*/*:v*", "/:", "x/", true),
            new Adversary("*a*a*a*a*b", "a", "", false),
            new Adversary("*?*?*?*!", "?", "", true));

    static Stream<Arguments> adversarialValues() {
        List<Arguments> out = new ArrayList<>();
        for (Adversary a : ADVERSARIES) {
            for (int size : new int[] {100_000, 1_000_000}) {
                out.add(Arguments.of(a.glob(), size, a.value(size), a.matchesWithSuffix()));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} against {1} characters")
    @MethodSource("adversarialValues")
    void adversarialValuesAreAnsweredAtOnceAndNeverMatch(
            String glob, int size, String value, boolean matchesWithSuffix) {
        Glob g = Glob.of(glob);
        assertFalse(assertTimeoutPreemptively(BOUND, () -> g.matches(value)), glob);
        // Over the limit even a value that would match is not exempt: the container is checked.
        assertFalse(assertTimeoutPreemptively(BOUND, () -> g.matches(value + SUFFIX)), glob);
    }

    @Test
    void aPodWithAHugeImageIsDecidedAtOnceAndEveryRuleChecksIt() {
        String image = ".dkr.ecr.".repeat(1_000_000 / 9);
        PolicyConfig policy = PolicyConfig.standard();
        for (String rule : List.of(
                "run-as-root", "root-group", "privileged", "capabilities", "required-ids", "privilege-escalation")) {
            policy = policy.withRule(
                    rule,
                    s -> new PolicyConfig.RuleSettings(
                            Action.ENFORCE, List.of(Glob.of("*.dkr.ecr.*.amazonaws.com/*")), s.settings()));
        }
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName("p")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("a")
                .withImage(image)
                .withNewSecurityContext()
                .withRunAsUser(0L)
                .endSecurityContext()
                .endContainer()
                .addNewContainer()
                .withName("b")
                .withImage(image)
                .endContainer()
                .endSpec()
                .build();
        Engine engine = new Engine(RuleRegistry.standard());
        PolicyConfig p = policy;
        Engine.Review r = assertTimeoutPreemptively(
                BOUND, () -> engine.review(pod, new Engine.Context("team-a", "alice", NamespacePolicy.UNKNOWN), p));
        assertFalse(r.allowed());
        assertTrue(
                r.violations().stream().anyMatch(v -> v.rule().equals("run-as-root")),
                r.violations().toString());
    }

    /** The matcher itself, with the length limit lifted: linear in the value on every shape, matching or not. */
    @ParameterizedTest(name = "{0} against {1} characters, limit lifted")
    @MethodSource("adversarialValues")
    void theMatcherStaysLinearOnAdversarialValuesBeyondTheLimit(
            String glob, int size, String value, boolean matchesWithSuffix) {
        Glob g = Glob.of(glob, Integer.MAX_VALUE);
        assertFalse(assertTimeoutPreemptively(BOUND, () -> g.matches(value)), glob);
        assertEquals(matchesWithSuffix, assertTimeoutPreemptively(BOUND, () -> g.matches(value + SUFFIX)), glob);
    }

    @Test
    void theLongestAllowedValueStillMatchesAndOneMoreCharacterNever() {
        String longest = "a".repeat(Glob.MAX_VALUE_LENGTH);
        assertTrue(Glob.of("*").matches(longest));
        assertTrue(Glob.of("a*a").matches(longest));
        assertFalse(Glob.of("*").matches(longest + "a"));
        assertFalse(Glob.of("*").matches(null));
    }

    /** Random patterns and values: the new matcher answers exactly as the regex it replaces and the definition in docs/policy.md. */
    @Test
    void agreesWithTheRegexSemanticsOnRandomPatternsAndValues() {
        Random random = new Random(20261202L);
        String patternChars = "ab/.:*?*?\\$[(+";
        String valueChars = "ab/.:\\$[(+?*";
        int matched = 0;
        for (int i = 0; i < 200_000; i++) {
            String pattern = randomString(random, patternChars, 1 + random.nextInt(8));
            if (pattern.isBlank()) {
                continue;
            }
            String value = randomString(random, valueChars, random.nextInt(14));
            boolean expected = regex(pattern.trim()).matcher(value).matches();
            assertEquals(expected, Glob.of(pattern).matches(value), () -> "glob " + pattern + " against " + value);
            assertEquals(
                    expected,
                    Oracle.globMatches(pattern, value),
                    () -> "oracle, glob " + pattern + " against " + value);
            matched += expected ? 1 : 0;
        }
        assertTrue(matched > 5_000, "too few matching cases to mean anything: " + matched);
    }

    private static String randomString(Random random, String alphabet, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    /** The previous matcher's translation: {@code *} to {@code .*}, {@code ?} to {@code .}, the rest quoted. */
    private static Pattern regex(String glob) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            re.append(c == '*' ? ".*" : c == '?' ? "." : Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
}
