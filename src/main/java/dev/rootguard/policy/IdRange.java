package dev.rootguard.policy;

/**
 * An inclusive range of numeric Linux IDs, written {@code min-max} (e.g. {@code 10000-65535}).
 */
public record IdRange(long min, long max) {

    public IdRange {
        if (min < 0 || max < min) {
            throw new IllegalArgumentException("invalid ID range " + min + "-" + max + ": need 0 <= min <= max");
        }
    }

    /** Parses {@code min-max} or a single ID. */
    public static IdRange parse(String text) {
        String t = text == null ? "" : text.trim();
        int dash = t.indexOf('-', 1);
        try {
            if (dash < 0) {
                long v = Long.parseLong(t);
                return new IdRange(v, v);
            }
            return new IdRange(
                    Long.parseLong(t.substring(0, dash).trim()),
                    Long.parseLong(t.substring(dash + 1).trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not an ID range; write min-max, e.g. 10000-65535");
        }
    }

    public boolean contains(long id) {
        return id >= min && id <= max;
    }

    /** True when every ID of {@code other} is in this range. */
    public boolean contains(IdRange other) {
        return other.min >= min && other.max <= max;
    }

    /** True when the two ranges share at least one ID. */
    public boolean overlaps(IdRange other) {
        return other.min <= max && min <= other.max;
    }

    /** The number of IDs in the range. */
    public long size() {
        return max - min + 1;
    }

    /** The range written as {@code start/size}, the form of namespace annotations. */
    public String startSize() {
        return min + "/" + size();
    }

    @Override
    public String toString() {
        return min == max ? Long.toString(min) : min + "-" + max;
    }
}
