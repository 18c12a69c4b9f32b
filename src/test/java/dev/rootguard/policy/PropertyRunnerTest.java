package dev.rootguard.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The runner under the property tests finds failures, shrinks them and names the seed. */
class PropertyRunnerTest {

    private static List<Integer> someNumbers(Random random) {
        List<Integer> out = new ArrayList<>();
        int n = random.nextInt(20);
        for (int i = 0; i < n; i++) {
            out.add(random.nextInt(1000));
        }
        return out;
    }

    @Test
    void aFailingPropertyIsShrunkToItsSmallestCaseAndNamesTheSeed() {
        AssertionError e = assertThrows(
                AssertionError.class,
                () -> PropertyRunner.forAll(
                        "no number reaches 500",
                        List.of(),
                        PropertyRunnerTest::someNumbers,
                        (numbers, labels) -> numbers.forEach(x -> assertTrue(x < 500, "found " + x))));
        String message = e.getMessage();
        assertTrue(message.contains("-Dproperties.seed="), message);
        Matcher smallest = Pattern.compile("Smallest found falsifying value\\(s\\) :-\\s*\\{?\\[([^\\]]*)]")
                .matcher(message);
        assertTrue(smallest.find(), message);
        List<Integer> shrunk = Pattern.compile(",\\s*")
                .splitAsStream(smallest.group(1).trim())
                .map(Integer::valueOf)
                .toList();
        // From up to 19 random numbers below 1000: every number that does not matter shrinks to 0 and the
        // one that fails to the boundary, 500.
        assertEquals(List.of(500), shrunk.stream().filter(x -> x != 0).toList(), "shrunk: " + message);
    }

    @Test
    void aRequiredLabelThatNeverOccursFailsTheRun() {
        AssertionError e = assertThrows(
                AssertionError.class,
                () -> PropertyRunner.forAll(
                        "labels",
                        List.of("never"),
                        PropertyRunnerTest::someNumbers,
                        (numbers, labels) -> labels.add(numbers.isEmpty() ? "empty" : "some")));
        assertTrue(e.getMessage().contains("never saw [never]"), e.getMessage());
    }

    @Test
    void theSameSeedGivesTheSameCases() {
        String seed = System.getProperty("properties.seed");
        System.setProperty("properties.seed", "42");
        try {
            List<List<Integer>> first = new ArrayList<>();
            List<List<Integer>> second = new ArrayList<>();
            PropertyRunner.forAll("first", List.of(), PropertyRunnerTest::someNumbers, (n, l) -> first.add(n));
            PropertyRunner.forAll("second", List.of(), PropertyRunnerTest::someNumbers, (n, l) -> second.add(n));
            // QuickTheories counts the first example apart from the rest, so a run checks TRIES - 1 or TRIES cases.
            assertTrue(first.size() >= PropertyRunner.TRIES - 1, "cases: " + first.size());
            assertEquals(first, second);
        } finally {
            if (seed == null) {
                System.clearProperty("properties.seed");
            } else {
                System.setProperty("properties.seed", seed);
            }
        }
    }
}
