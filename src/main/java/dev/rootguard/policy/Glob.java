package dev.rootguard.policy;

/**
 * A shell-style pattern: {@code *} matches any run of characters (including {@code /}),
 * {@code ?} one character; everything else is literal. Used for image and user exemptions,
 * where values contain {@code /} and {@code :} that path globs would treat specially.
 *
 * <p>Values come from requests, so matching must cost little whatever they hold: the matcher
 * never backtracks further than the last {@code *} (at most pattern length times value length
 * steps, never exponential), and a value longer than {@link #MAX_VALUE_LENGTH} matches nothing.
 */
public final class Glob {
    /**
     * Longest value a glob is matched against; a longer one matches no glob, so it is never
     * exempt. Far above any real value: a pullable image reference has a name of at most 255
     * characters, a tag of at most 128 and a digest of at most 135, and a service account's user
     * name is at most 339 characters. At this length one match costs at most pattern length times
     * 4,096 steps.
     */
    public static final int MAX_VALUE_LENGTH = 4096;

    private final String text;
    private final int maxValueLength;

    private Glob(String text, int maxValueLength) {
        this.text = text;
        this.maxValueLength = maxValueLength;
    }

    public static Glob of(String text) {
        return of(text, MAX_VALUE_LENGTH);
    }

    /** A glob with another value limit, so tests can measure the matcher on longer values. */
    static Glob of(String text, int maxValueLength) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("an empty pattern would match nothing useful");
        }
        return new Glob(text.trim(), maxValueLength);
    }

    /** Whether the whole value matches; false for null and for values longer than the limit. */
    public boolean matches(String value) {
        return value != null && value.length() <= maxValueLength && wildcard(text, value);
    }

    /**
     * Greedy two-pointer matching. On a mismatch after a {@code *}, only that last star is
     * retried one character further: an earlier star never needs to take more, because
     * whatever the later star would have skipped it can skip itself.
     */
    private static boolean wildcard(String pattern, String value) {
        int p = 0;
        int v = 0;
        int star = -1;
        int resume = 0;
        while (v < value.length()) {
            char c = p < pattern.length() ? pattern.charAt(p) : 0;
            if (p < pattern.length() && c != '*' && (c == '?' || c == value.charAt(v))) {
                p++;
                v++;
            } else if (p < pattern.length() && c == '*') {
                star = p++;
                resume = v;
            } else if (star >= 0) {
                p = star + 1;
                v = ++resume;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }

    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Glob g && g.text.equals(text) && g.maxValueLength == maxValueLength;
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }
}
