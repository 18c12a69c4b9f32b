package dev.rootguard.policy.rule;

/**
 * One configuration key a rule reads, for the configuration reference.
 *
 * @param name         the full key, e.g. {@code rootguard.rules.capabilities.allowed}
 * @param defaultValue its default as written in configuration, empty when unset means something of its own
 * @param description  one line: what it does
 */
public record SettingKey(String name, String defaultValue, String description) {}
