package dev.rootguard.config;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.Glob;
import dev.rootguard.policy.IdRange;
import dev.rootguard.policy.NamespaceRanges;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.rule.CapabilitiesRule;
import dev.rootguard.policy.rule.IdRangeRule;
import dev.rootguard.policy.rule.ImageGroupsRule;
import dev.rootguard.policy.rule.PrivilegeEscalationRule;
import dev.rootguard.policy.rule.PrivilegedRule;
import dev.rootguard.policy.rule.RequiredIdsRule;
import dev.rootguard.policy.rule.RootGroupRule;
import dev.rootguard.policy.rule.RuleRegistry;
import dev.rootguard.policy.rule.RunAsRootRule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Turns the configuration keys into the engine's {@link PolicyConfig}, failing with the key name on bad values. */
public final class PolicyConfigs {

    private PolicyConfigs() {
    }

    /**
     * Builds the policy.
     *
     * @throws IllegalArgumentException naming the offending key and value
     */
    public static PolicyConfig from(RootguardConfig c, RuleRegistry registry) {
        Map<String, PolicyConfig.RuleSettings> rules = new LinkedHashMap<>();
        RootguardConfig.Rules r = c.rules();
        put(rules, registry, RunAsRootRule.ID, r.runAsRoot());
        put(rules, registry, RootGroupRule.ID, r.rootGroup());
        put(rules, registry, PrivilegedRule.ID, r.privileged());
        put(rules, registry, CapabilitiesRule.ID, r.capabilities());
        put(rules, registry, RequiredIdsRule.ID, r.requiredIds());
        put(rules, registry, PrivilegeEscalationRule.ID, r.privilegeEscalation());
        put(rules, registry, IdRangeRule.ID, r.idRange());
        put(rules, registry, ImageGroupsRule.ID, r.imageGroups());
        Action escalationUnset = parse("rootguard.rules.privilege-escalation.unset-action", r.privilegeEscalation().unsetAction(), false);
        Allocation allocation = allocation(c);

        Set<String> namespaces = new LinkedHashSet<>(c.exemptions().namespaces());
        namespaces.add(c.namespace());
        List<Glob> users = globs("rootguard.exemptions.users", c.exemptions().users());

        RootguardConfig.Defaults d = c.defaults();
        String seccomp = d.seccompProfile().trim();
        PolicyConfig.Defaults defaults = new PolicyConfig.Defaults(d.runAsNonRoot(), id("rootguard.defaults.run-as-user", d.runAsUser()),
                id("rootguard.defaults.run-as-group", d.runAsGroup()), id("rootguard.defaults.fs-group", d.fsGroup()),
                seccomp.equalsIgnoreCase("none") || seccomp.isEmpty() ? Optional.empty() : Optional.of(seccomp),
                d.dropAllCapabilities(), d.denyPrivilegeEscalation(), d.strictSupplementalGroups());

        Optional<IdRange> uidRange = range("rootguard.rules.required-ids.run-as-user-range", r.requiredIds().runAsUserRange());
        Optional<IdRange> gidRange = range("rootguard.rules.required-ids.run-as-group-range", r.requiredIds().runAsGroupRange());
        Optional<IdRange> fsRange = range("rootguard.rules.required-ids.fs-group-range", r.requiredIds().fsGroupRange());
        inside("rootguard.defaults.run-as-user", defaults.runAsUser(), "rootguard.rules.required-ids.run-as-user-range", uidRange);
        inside("rootguard.defaults.run-as-group", defaults.runAsGroup(), "rootguard.rules.required-ids.run-as-group-range", gidRange);
        inside("rootguard.defaults.fs-group", defaults.fsGroup(), "rootguard.rules.required-ids.fs-group-range", fsRange);
        if (allocation.enabled()) {
            within(allocation.block(), "rootguard.rules.required-ids.run-as-user-range", uidRange);
            within(allocation.block(), "rootguard.rules.required-ids.run-as-group-range", gidRange);
            within(allocation.block(), "rootguard.rules.required-ids.fs-group-range", fsRange);
        }
        return new PolicyConfig(
                parse("rootguard.mode", c.mode(), true),
                rules,
                new LinkedHashSet<>(r.capabilities().allowed().orElse(List.of())),
                uidRange,
                gidRange,
                fsRange,
                r.runAsRoot().strictUserNamespaces(),
                new PolicyConfig.IdRangeSettings(allocation.enabled(), r.idRange().exemptHostUsers()),
                escalationUnset,
                c.mutation().enabled(),
                defaults,
                new PolicyConfig.Exemptions(namespaces, users));
    }

    /**
     * The range allocator's settings.
     *
     * @param enabled   whether this webhook assigns ranges (and requires every namespace to have one)
     * @param block     the IDs ranges are taken from
     * @param rangeSize IDs per namespace
     */
    public record Allocation(boolean enabled, IdRange block, long rangeSize) {
    }

    /**
     * Reads and checks {@code rootguard.allocator.*}.
     *
     * @throws IllegalArgumentException naming the offending key and value
     */
    public static Allocation allocation(RootguardConfig c) {
        RootguardConfig.Allocator a = c.allocator();
        IdRange block;
        try {
            block = NamespaceRanges.parse(a.block());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("rootguard.allocator.block: " + e.getMessage(), e);
        }
        if (a.rangeSize() < 1 || a.rangeSize() > block.size()) {
            throw new IllegalArgumentException("rootguard.allocator.range-size: " + a.rangeSize() + " must be between 1 and the size of"
                    + " rootguard.allocator.block (" + block.size() + ")");
        }
        if (a.enabled() && !c.namespaceLabels().enabled()) {
            throw new IllegalArgumentException("rootguard.allocator.enabled: the webhook reads ranges from namespace annotations, so"
                    + " it needs rootguard.namespace-labels.enabled=true");
        }
        return new Allocation(a.enabled(), block, a.rangeSize());
    }

    /** With the allocator on, a required-ids range that excludes part of the block would deny pods that use their namespace's range. */
    private static void within(IdRange block, String rangeKey, Optional<IdRange> range) {
        if (range.isPresent() && !range.get().contains(block)) {
            throw new IllegalArgumentException(rangeKey + ": " + range.get() + " does not contain rootguard.allocator.block ("
                    + block + "), so pods using their namespace's range would be denied; widen it or move the block");
        }
    }

    private static void put(Map<String, PolicyConfig.RuleSettings> rules, RuleRegistry registry, String id,
            RootguardConfig.RuleSettings s) {
        String prefix = "rootguard.rules." + id + ".";
        Action action = s.action().map(a -> parse(prefix + "action", a, false))
                .orElseGet(() -> registry.get(id).orElseThrow().defaultAction());
        rules.put(id, new PolicyConfig.RuleSettings(action, globs(prefix + "exempt-images", s.exemptImages())));
    }

    private static Action parse(String key, String value, boolean mode) {
        try {
            return mode ? Action.parseMode(value) : Action.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
    }

    private static List<Glob> globs(String key, Optional<List<String>> values) {
        List<Glob> out = new ArrayList<>();
        for (String v : values.orElse(List.of())) {
            if (v.isBlank()) {
                continue;
            }
            out.add(Glob.of(v));
        }
        return out;
    }

    private static Optional<IdRange> range(String key, Optional<String> value) {
        try {
            return value.filter(v -> !v.isBlank()).map(IdRange::parse);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
    }

    /** A default outside its allowed range would make every defaulted pod be denied. */
    private static void inside(String key, long value, String rangeKey, Optional<IdRange> range) {
        if (range.isPresent() && !range.get().contains(value)) {
            throw new IllegalArgumentException(key + ": " + value + " is outside " + rangeKey + " (" + range.get()
                    + "), so every pod it defaults would be denied; choose a default inside the range");
        }
    }

    private static long id(String key, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(key + ": " + value + " would default to root or an invalid ID; use a positive number such as 10000");
        }
        return value;
    }
}
