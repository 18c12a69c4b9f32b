package dev.rootguard.allocator;

import dev.rootguard.policy.IdRange;
import java.util.Collection;

/**
 * Chooses namespace ranges from a block of IDs, without any I/O: ranges are aligned to the block
 * ({@code block start + n * size}), lie above every range handed out before (the high-water mark),
 * and never overlap a range some namespace already has (for example one set by hand).
 *
 * @param block the IDs ranges are taken from
 * @param size  IDs per range
 */
public record RangeBlock(IdRange block, long size) {

    /** No free range is left above the high-water mark. */
    public static final class ExhaustedException extends IllegalStateException {
        ExhaustedException(String message) {
            super(message);
        }
    }

    public RangeBlock {
        if (size < 1 || size > block.size()) {
            throw new IllegalArgumentException(
                    "range size " + size + " must be between 1 and the block size " + block.size());
        }
    }

    /**
     * The lowest aligned range that starts at or above {@code floor} and overlaps none of {@code taken}.
     *
     * @param floor the first ID not yet handed out (the high-water mark); below the block means the block start
     * @param taken ranges namespaces have now, inside the block or not
     * @throws ExhaustedException when no such range fits in the block, with what to do about it
     */
    public IdRange choose(long floor, Collection<IdRange> taken) {
        long index = floor <= block.min() ? 0 : ceilDiv(floor - block.min(), size);
        while (true) {
            long start = block.min() + index * size;
            if (index > (block.max() - block.min()) / size || start + size - 1 > block.max()) {
                throw new ExhaustedException(
                        "no free range of " + size + " IDs is left in rootguard.allocator.block " + block.startSize()
                                + " (" + block + "): every range up to " + (Math.max(floor, block.min()) - 1)
                                + " has been handed out, and ranges are never reused; configure a larger or a new block");
            }
            IdRange candidate = new IdRange(start, start + size - 1);
            long skipTo = -1;
            for (IdRange t : taken) {
                if (t.overlaps(candidate)) {
                    skipTo = Math.max(skipTo, t.max() + 1);
                }
            }
            if (skipTo < 0) {
                return candidate;
            }
            index = ceilDiv(skipTo - block.min(), size);
        }
    }

    /** {@code ceil(a / b)} for {@code a >= 0, b > 0}. */
    private static long ceilDiv(long a, long b) {
        return a / b + (a % b == 0 ? 0 : 1);
    }
}
