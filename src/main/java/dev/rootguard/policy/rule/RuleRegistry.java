package dev.rootguard.policy.rule;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.Glob;
import dev.rootguard.policy.PolicyConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The rules in evaluation order, keyed by ID. Refuses duplicate IDs. */
public final class RuleRegistry {
    private final Map<String, Rule<?>> rules = new LinkedHashMap<>();

    public RuleRegistry(List<? extends Rule<?>> list) {
        for (Rule<?> r : list) {
            if (rules.putIfAbsent(r.id(), r) != null) {
                throw new IllegalArgumentException("duplicate rule ID " + r.id());
            }
        }
    }

    /** The built-in rules. */
    public static RuleRegistry standard() {
        // image-user first: its fix sets a container's runAsUser from its image before run-as-root's
        // fills the pod-wide default.
        return new RuleRegistry(List.of(
                new ImageUserRule(),
                new RunAsRootRule(),
                new RootGroupRule(),
                new PrivilegedRule(),
                new CapabilitiesRule(),
                new RequiredIdsRule(),
                new PrivilegeEscalationRule(),
                new IdRangeRule(),
                new ImageGroupsRule()));
    }

    public Collection<Rule<?>> rules() {
        return Collections.unmodifiableCollection(rules.values());
    }

    public Optional<Rule<?>> get(String id) {
        return Optional.ofNullable(rules.get(id));
    }

    public Set<String> ids() {
        return Collections.unmodifiableSet(rules.keySet());
    }

    /** The key of a setting every rule has ({@code action}, {@code exempt-images}). */
    public static String key(Rule<?> rule, String setting) {
        return "rootguard.rules." + rule.id() + "." + setting;
    }

    /** Every key a rule reads: {@code action} and {@code exempt-images}, then the rule's own ({@link Rule#keys}). */
    public List<SettingKey> keys(Rule<?> rule) {
        List<SettingKey> out = new ArrayList<>();
        out.add(new SettingKey(key(rule, "action"), rule.defaultAction().id(), "enforce, warn, audit or off."));
        out.add(new SettingKey(
                key(rule, "exempt-images"),
                "",
                "Image globs (*, ?) whose containers this rule skips, e.g. registry.example/agents/*."));
        out.addAll(rule.keys());
        return out;
    }

    /** Every rule at its default action and settings, with no image exemptions. */
    public Map<String, PolicyConfig.RuleSettings> standardSettings() {
        Map<String, PolicyConfig.RuleSettings> out = new LinkedHashMap<>();
        for (Rule<?> r : rules.values()) {
            out.put(r.id(), PolicyConfig.RuleSettings.standard(r));
        }
        return out;
    }

    /**
     * Reads every rule's settings: first every rule's {@code action} and {@code exempt-images}, then
     * each rule's own, in evaluation order.
     *
     * @throws IllegalArgumentException naming the offending key and value
     */
    public Map<String, PolicyConfig.RuleSettings> settings(SettingsSource source) {
        Map<String, Action> actions = new LinkedHashMap<>();
        Map<String, List<Glob>> exemptions = new LinkedHashMap<>();
        for (Rule<?> r : rules.values()) {
            String key = key(r, "action");
            actions.put(r.id(), source.string(key).map(a -> parse(key, a)).orElse(r.defaultAction()));
            exemptions.put(r.id(), globs(source.list(key(r, "exempt-images"))));
        }
        Map<String, PolicyConfig.RuleSettings> out = new LinkedHashMap<>();
        for (Rule<?> r : rules.values()) {
            out.put(
                    r.id(),
                    new PolicyConfig.RuleSettings(actions.get(r.id()), exemptions.get(r.id()), r.settings(source)));
        }
        return out;
    }

    private static Action parse(String key, String value) {
        try {
            return Action.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
    }

    private static List<Glob> globs(Optional<List<String>> values) {
        List<Glob> out = new ArrayList<>();
        for (String v : values.orElse(List.of())) {
            if (!v.isBlank()) {
                out.add(Glob.of(v));
            }
        }
        return out;
    }
}
