package dev.rootguard.policy;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What happens when a rule finds a violation, ordered from strongest to weakest.
 *
 * <p>The same enum expresses the global and per-namespace mode (where {@link #OFF} is not
 * allowed): a violation's effective action is the weaker of its rule's action and the mode.
 */
public enum Action {
    /** Deny the request. */
    ENFORCE,
    /** Allow, and return the violation as an admission warning that kubectl prints. */
    WARN,
    /** Allow, and record the violation in audit annotations and metrics only. */
    AUDIT,
    /** Do not evaluate the rule. */
    OFF;

    /** The configuration spelling, also used in JSON: {@code enforce}, {@code warn}, {@code audit}, {@code off}. */
    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The weaker of this action and {@code other}. */
    public Action weaker(Action other) {
        return ordinal() >= other.ordinal() ? this : other;
    }

    /** True if this action is at least as strong as {@code other}. */
    public boolean atLeast(Action other) {
        return ordinal() <= other.ordinal();
    }

    /**
     * Parses a configuration value, case-insensitively.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Action parse(String value) {
        if (value != null) {
            for (Action a : values()) {
                if (a.id().equalsIgnoreCase(value.trim())) {
                    return a;
                }
            }
        }
        throw new IllegalArgumentException("'" + value + "' is not one of enforce, warn, audit, off");
    }

    /** Parses a mode: like {@link #parse} but {@code off} is refused. */
    public static Action parseMode(String value) {
        Action a = parse(value);
        if (a == OFF) {
            throw new IllegalArgumentException("'" + value + "' is not a mode; use enforce, warn or audit");
        }
        return a;
    }

    @Override
    public String toString() {
        return id();
    }
}
