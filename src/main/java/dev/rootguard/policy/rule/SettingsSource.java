package dev.rootguard.policy.rule;

import dev.rootguard.policy.IdRange;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The configuration values a rule's settings are read from, by full key ({@code rootguard.rules.<id>.*},
 * {@code rootguard.defaults.*}), already converted by the configuration library (strict booleans,
 * numbers, comma-separated lists), and the range allocator's block when the allocator is on.
 *
 * @param values         value per full key: {@code String}, {@code Boolean}, {@code Long}, {@code List<String>}
 *                       or an {@code Optional} of one of these
 * @param allocatorBlock the IDs the allocator hands out ranges from, present only when it is enabled
 */
public record SettingsSource(Map<String, Object> values, Optional<IdRange> allocatorBlock) {

    public SettingsSource {
        values = Map.copyOf(values);
    }

    /** A string, or empty when unset. */
    public Optional<String> string(String key) {
        Object v = unwrap(key);
        return v == null ? Optional.empty() : Optional.of((String) v);
    }

    /** A list, or empty when unset (an empty list when set to nothing). */
    @SuppressWarnings("unchecked")
    public Optional<List<String>> list(String key) {
        Object v = unwrap(key);
        return v == null ? Optional.empty() : Optional.of((List<String>) v);
    }

    public boolean bool(String key) {
        return (Boolean) unwrap(key);
    }

    public long number(String key) {
        return ((Number) unwrap(key)).longValue();
    }

    private Object unwrap(String key) {
        if (!values.containsKey(key)) {
            throw new IllegalStateException(
                    "no configuration value for " + key + ": declare it in the rule and RootguardConfig");
        }
        Object v = values.get(key);
        return v instanceof Optional<?> o ? o.orElse(null) : v;
    }
}
