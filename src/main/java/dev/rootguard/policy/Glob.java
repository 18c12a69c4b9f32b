package dev.rootguard.policy;

import java.util.regex.Pattern;

/**
 * A shell-style pattern: {@code *} matches any run of characters (including {@code /}),
 * {@code ?} one character; everything else is literal. Used for image and user exemptions,
 * where values contain {@code /} and {@code :} that path globs would treat specially.
 */
public final class Glob {
    private final String text;
    private final Pattern pattern;

    private Glob(String text) {
        this.text = text;
        StringBuilder re = new StringBuilder();
        StringBuilder literal = new StringBuilder();
        for (char c : text.toCharArray()) {
            if (c == '*' || c == '?') {
                if (literal.length() > 0) {
                    re.append(Pattern.quote(literal.toString()));
                    literal.setLength(0);
                }
                re.append(c == '*' ? ".*" : ".");
            } else {
                literal.append(c);
            }
        }
        if (literal.length() > 0) {
            re.append(Pattern.quote(literal.toString()));
        }
        this.pattern = Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    public static Glob of(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("an empty pattern would match nothing useful");
        }
        return new Glob(text.trim());
    }

    public boolean matches(String value) {
        return value != null && pattern.matcher(value).matches();
    }

    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Glob g && g.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }
}
