package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The caps on answers keep what the API server shows, and never cut the fix off a short answer. */
class ResponsesTest {
    private static final String LONG = "container \"app\" " + "x".repeat(500) + "; set runAsUser to 10000";

    @Test
    void aFewLongWarningsAreKeptWholeWithTheFixAtTheirEnd() {
        List<String> warnings =
                Responses.withWarnings(Responses.allowed(), List.of(LONG, LONG)).getWarnings();
        assertEquals(List.of(LONG, LONG), warnings);
    }

    @Test
    void manyWarningsAreCutAsTheApiServerWouldAndAllOfThemAreShown() {
        List<String> warnings = Responses.withWarnings(Responses.allowed(), Collections.nCopies(40, LONG))
                .getWarnings();
        assertEquals(16, warnings.size());
        int total = 0;
        for (String w : warnings) {
            assertTrue(w.length() <= Responses.MAX_WARNING_LENGTH, w);
            total += w.length();
        }
        assertTrue(total <= Responses.MAX_WARNINGS_TOTAL, "warnings of " + total + " characters");
        assertEquals("rootguard: and 25 more warnings", warnings.get(15));
    }

    @Test
    void controlCharactersInWarningsAreReplaced() {
        assertEquals(
                List.of("a b"),
                Responses.withWarnings(Responses.allowed(), List.of("a\nb")).getWarnings());
    }

    @Test
    void aDenialLineKeepsItsFixUnlessItIsLongerThanAnyRuleWrites() {
        List<String> lines = Responses.firstItems(List.of(LONG), Responses.MAX_LINE_LENGTH, n -> "more");
        assertEquals(List.of(LONG), lines);
        String huge = "y".repeat(5000);
        String cut = Responses.firstItems(List.of(huge), Responses.MAX_LINE_LENGTH, n -> "more")
                .get(0);
        assertEquals(Responses.MAX_LINE_LENGTH, cut.length());
        assertTrue(cut.endsWith("..."), cut);
    }
}
