package dev.rootguard.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.policy.IdRange;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Choosing ranges from a block: aligned, above the high-water mark, never overlapping, with a clear error when full. */
class RangeBlockTest {
    private static final RangeBlock BLOCK = new RangeBlock(new IdRange(1_000_000_000, 1_999_999_999), 10_000);

    private static IdRange range(long start) {
        return new IdRange(start, start + 9_999);
    }

    @Test
    void firstRangeIsTheStartOfTheBlock() {
        assertEquals(range(1_000_000_000), BLOCK.choose(0, List.of()));
        assertEquals(range(1_000_000_000), BLOCK.choose(1_000_000_000, List.of()));
    }

    @Test
    void rangesStartAtOrAboveTheHighWaterMarkOnTheBlockAlignment() {
        assertEquals(range(1_000_010_000), BLOCK.choose(1_000_010_000, List.of()));
        assertEquals(range(1_000_020_000), BLOCK.choose(1_000_010_001, List.of()), "an unaligned mark rounds up");
    }

    @Test
    void rangesThatNamespacesHaveAreSkippedEvenWhenSetByHandUnaligned() {
        List<IdRange> taken =
                List.of(range(1_000_000_000), new IdRange(1_000_015_000, 1_000_015_000), range(1_000_020_000));
        assertEquals(range(1_000_030_000), BLOCK.choose(0, taken));
        assertEquals(
                range(1_000_010_000),
                BLOCK.choose(0, List.of(range(1_000_000_000), new IdRange(5, 999_999_999))),
                "ranges outside the block do not matter");
        assertEquals(range(1_000_000_000), BLOCK.choose(0, List.of(new IdRange(1, 999_999_999))));
    }

    @Test
    void successiveChoicesNeverOverlap() {
        long next = 0;
        List<IdRange> chosen = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            IdRange r = BLOCK.choose(next, List.of());
            chosen.forEach(c -> assertFalse(c.overlaps(r), c + " and " + r));
            chosen.add(r);
            next = r.max() + 1;
        }
        assertEquals(range(1_009_990_000), chosen.get(999));
    }

    @Test
    void theLastWholeRangeOfTheBlockIsUsedAndThenTheBlockIsExhaustedWithAClearError() {
        RangeBlock small = new RangeBlock(new IdRange(100, 349), 100);
        assertEquals(new IdRange(300, 349), new RangeBlock(new IdRange(100, 349), 50).choose(300, List.of()));
        assertEquals(new IdRange(200, 299), small.choose(101, List.of()));
        RangeBlock.ExhaustedException e = assertThrows(
                RangeBlock.ExhaustedException.class,
                () -> small.choose(300, List.of()),
                "300-349 is too small for a range of 100");
        assertTrue(
                e.getMessage()
                        .contains("no free range of 100 IDs is left in rootguard.allocator.block 100/250 (100-349)"),
                e.getMessage());
        assertTrue(
                e.getMessage().contains("never reused") && e.getMessage().contains("configure a larger or a new block"),
                e.getMessage());
        assertThrows(
                RangeBlock.ExhaustedException.class,
                () -> small.choose(0, List.of(new IdRange(150, 250))),
                "taken ranges can exhaust it too");
        assertThrows(
                RangeBlock.ExhaustedException.class, () -> BLOCK.choose(Long.MAX_VALUE / 2, List.of()), "no overflow");
    }

    @Test
    void theRangeSizeMustFitTheBlock() {
        assertThrows(IllegalArgumentException.class, () -> new RangeBlock(new IdRange(100, 199), 101));
        assertThrows(IllegalArgumentException.class, () -> new RangeBlock(new IdRange(100, 199), 0));
        assertEquals(new IdRange(100, 199), new RangeBlock(new IdRange(100, 199), 100).choose(0, List.of()));
    }
}
