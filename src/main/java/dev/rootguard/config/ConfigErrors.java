package dev.rootguard.config;

import io.smallrye.config.ConfigValidationException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns configuration failures into one line per problem that names the key, what kind of value
 * it needs and how to fix it, in place of the configuration library's coded messages, so the
 * webhook and the CLI report a bad setting alike.
 */
public final class ConfigErrors {
    private static final Pattern CONVERSION = Pattern.compile(
            "SRCFG00039: The config property (\\S+) with the config value \"(.*)\" threw an Exception whilst being converted (.*)",
            Pattern.DOTALL);
    private static final Pattern EMPTY =
            Pattern.compile("SRCFG00040: The config property (\\S+) is defined as the empty String");
    private static final Pattern UNKNOWN = Pattern.compile("SRCFG00050: (\\S+) in (.+) does not map to any root");
    private static final Pattern MISSING = Pattern.compile("SRCFG00014: The config property (\\S+) is required");
    private static final Pattern ENUM = Pattern.compile("allowed values: (\\S+)");
    private static final Pattern CODE = Pattern.compile("SRCFG\\d+: ");

    private ConfigErrors() {}

    /**
     * The configuration problems behind {@code failure}, one line each, or an empty list when it is
     * not a configuration error.
     */
    public static List<String> describe(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ConfigValidationException v) {
                List<String> out = new ArrayList<>();
                for (int i = 0; i < v.getProblemCount(); i++) {
                    out.add(problem(v.getProblem(i).getMessage()));
                }
                return out;
            }
            String message = t.getMessage();
            if (message == null) {
                continue;
            }
            if (message.contains("SRCFG")) {
                return List.of(problem(message));
            }
            if (t instanceof IllegalArgumentException
                    && message.matches("(?s)(rootguard|quarkus)\\.[a-z0-9.\\-\\[\\]\"]+: .*")) {
                return List.of(message);
            }
        }
        return List.of();
    }

    /** One problem as the library words it, reworded. */
    static String problem(String message) {
        String text = message.replaceFirst("^[a-zA-Z.]+(Exception|Error): ", "");
        Matcher m = CONVERSION.matcher(text);
        if (m.find()) {
            return conversion(m.group(1), m.group(2), m.group(3));
        }
        m = EMPTY.matcher(text);
        if (m.find()) {
            return m.group(1) + ": is empty, but needs a value; set one, or remove the key to use the default";
        }
        m = UNKNOWN.matcher(text);
        if (m.find()) {
            return m.group(1) + ": unknown key (set in " + source(m.group(2)) + "); check its spelling against the"
                    + " configuration reference in docs/configuration.md, or remove it";
        }
        m = MISSING.matcher(text);
        if (m.find()) {
            return m.group(1) + ": is required, but not set anywhere; set it";
        }
        return CODE.matcher(text).replaceAll("").trim();
    }

    /** Where a key was set, in an operator's words rather than the library's class names. */
    private static String source(String name) {
        if (name.startsWith("SysPropConfigSource")) {
            return "system properties";
        }
        if (name.startsWith("EnvConfigSource")) {
            return "environment variables";
        }
        Matcher m = Pattern.compile("\\[source=(.*)]$").matcher(name);
        return m.find() ? m.group(1) : name;
    }

    private static String conversion(String key, String value, String cause) {
        String shown = key.startsWith("rootguard.")
                ? "\"" + (value.length() > 80 ? value.substring(0, 80) + "..." : value) + "\""
                : "the value";
        Matcher e = ENUM.matcher(cause);
        if (cause.contains("SRCFG00049") && e.find()) {
            return key + ": " + shown + " is not one of " + e.group(1).replace(",", ", ") + "; set one of these";
        }
        if (cause.contains("SRCFG00030") || cause.contains("SRCFG00029") || cause.contains("NumberFormatException")) {
            return key + ": " + shown + " is not a whole number"
                    + (cause.contains("SRCFG00029") ? " (up to 2147483647)" : "") + "; set a number such as 10000";
        }
        if (cause.contains(StrictBoolean.NOT_A_BOOLEAN)) {
            return key + ": " + shown + " is not true or false; set true or false";
        }
        if (cause.toLowerCase().contains("duration")) {
            return key + ": " + shown + " is not a duration; set a number with a unit, such as 500ms, 10s, 5m or 1h";
        }
        return key + ": " + shown + " cannot be read: "
                + CODE.matcher(cause).replaceAll("").trim();
    }
}
