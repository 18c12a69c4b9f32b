package dev.rootguard.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.policy.rule.Scope;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Parsing the namespace annotations rootguard.dev/uid-range and rootguard.dev/supplemental-groups. */
class NamespaceRangesTest {
    private static final String UID = NamespaceRanges.UID_RANGE_ANNOTATION;
    private static final String GROUPS = NamespaceRanges.SUPPLEMENTAL_GROUPS_ANNOTATION;

    @ParameterizedTest(name = "{0} is {1}-{2}")
    @CsvSource({
        "1000000000/10000, 1000000000, 1000009999",
        "' 5000/1 ', 5000, 5000",
        "1/2147483647, 1, 2147483647",
        "2147483647/1, 2147483647, 2147483647",
        "0001000/10, 1000, 1009"
    })
    void startSlashSizeIsTheInclusiveRangeFromStart(String text, long min, long max) {
        IdRange r = NamespaceRanges.parse(text);
        assertEquals(new IdRange(min, max), r);
        assertEquals(r, NamespaceRanges.parse(r.startSize()), "startSize() round-trips");
    }

    @ParameterizedTest(name = "\"{0}\"")
    @CsvSource(
            delimiter = '|',
            value = {
                "''|not <start>/<size>",
                "1000000000|not <start>/<size>",
                "1000000000-1000009999|not <start>/<size>",
                "1000000000/10000/2|not <start>/<size>",
                "-5/10|not <start>/<size>",
                "+5/10|not <start>/<size>",
                "5 / 10|not <start>/<size>",
                "abc/10|not <start>/<size>",
                "1e9/10|not <start>/<size>",
                "99999999999999999999/1|not <start>/<size>",
                "0/10000|starts at 0, which is root",
                "1000/0|empty",
                "2147483647/2|above 2147483647",
                "1/2147483648|above 2147483647",
                "999999999999999999/999999999999999999|above 2147483647"
            })
    void malformedValuesAreRefusedSayingWhatToWrite(String text, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NamespaceRanges.parse(text));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void annotationsGiveTheRangesAndSupplementalGroupsFallBackToTheUidRange() {
        NamespaceRanges uidsOnly = NamespaceRanges.fromAnnotations(Map.of(UID, "1000000000/10000", "other", "x"));
        assertTrue(uidsOnly.known());
        assertEquals(Optional.of(new IdRange(1000000000, 1000009999)), uidsOnly.uids());
        assertEquals(Optional.empty(), uidsOnly.supplementalGroups());
        assertEquals(uidsOnly.uids(), uidsOnly.supplementalGroupRange());
        assertEquals(List.of(), uidsOnly.problems());

        NamespaceRanges both = NamespaceRanges.fromAnnotations(Map.of(UID, "1000000000/10000", GROUPS, "5000/100"));
        assertEquals(Optional.of(new IdRange(5000, 5099)), both.supplementalGroupRange());

        assertEquals(NamespaceRanges.NO_RANGE, NamespaceRanges.fromAnnotations(null));
        assertEquals(NamespaceRanges.NO_RANGE, NamespaceRanges.fromAnnotations(Map.of("team", "a")));
        assertTrue(NamespaceRanges.NO_RANGE.known());
        assertFalse(NamespaceRanges.UNKNOWN.known());
    }

    @Test
    void malformedAnnotationsAreReportedAndIgnoredEachOnItsOwn() {
        NamespaceRanges r = NamespaceRanges.fromAnnotations(Map.of(UID, "1000000000-1000009999", GROUPS, "5000/100"));
        assertEquals(Optional.empty(), r.uids(), "ignored");
        assertEquals(Optional.of(new IdRange(5000, 5099)), r.supplementalGroups(), "the readable one still applies");
        assertEquals(1, r.problems().size());
        assertTrue(
                r.problems()
                        .get(0)
                        .startsWith(
                                "annotation rootguard.dev/uid-range=\"1000000000-1000009999\" ignored: not <start>/<size>"),
                r.problems().get(0));

        NamespacePolicy p =
                NamespacePolicy.fromMetadata(Map.of(NamespacePolicy.MODE_LABEL, "block"), Map.of(GROUPS, "0/1"));
        assertEquals(2, p.problems().size(), "label and annotation problems are both reported: " + p.problems());
        assertTrue(p.ranges().known());
        assertFalse(p.ranges().any());
    }

    @Test
    void reportedValuesAreShortAndPrintable() {
        NamespaceRanges r = NamespaceRanges.fromAnnotations(Map.of(UID, "x".repeat(500) + "\n\u001b[31m"));
        String problem = r.problems().get(0);
        assertTrue(problem.length() < 250, problem);
        assertFalse(problem.chars().anyMatch(Character::isISOControl), problem);
    }

    @Test
    void anyStringIsReadWithoutThrowing() {
        Random random = new Random(42);
        String alphabet = "0123456789/-+ .e\t\n\u0000x";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            for (int n = random.nextInt(30); n > 0; n--) {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            Map<String, String> annotations = new HashMap<>();
            annotations.put(random.nextBoolean() ? UID : GROUPS, sb.toString());
            NamespaceRanges r = NamespaceRanges.fromAnnotations(annotations);
            // Either a valid range inside 1..2^31-1, or a reported problem: never both, never neither.
            Optional<IdRange> range = r.uids().or(r::supplementalGroups);
            assertEquals(range.isEmpty(), r.problems().size() == 1, sb::toString);
            range.ifPresent(x -> assertTrue(x.min() >= 1 && x.max() <= NamespaceRanges.MAX_ID, sb::toString));
        }
    }

    @Test
    void theNamespaceRangeReplacesTheGlobalIdDefaults() {
        // The seccomp default is no ID: it lives in Mutation, which a namespace range does not touch.
        Scope.Ids p = PolicyConfig.standard().mutation().ids();
        assertEquals(p, p.in(NamespaceRanges.NO_RANGE));
        assertEquals(
                p,
                p.in(NamespaceRanges.of(null, new IdRange(5000, 5099))),
                "supplemental groups alone change no default");
        Scope.Ids d = p.in(NamespaceRanges.of(new IdRange(2000000, 2009999), null));
        assertEquals(List.of(2000000L, 2000000L, 2000000L), List.of(d.runAsUser(), d.runAsGroup(), d.fsGroup()));
    }
}
