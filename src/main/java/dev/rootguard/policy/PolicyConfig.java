package dev.rootguard.policy;

import dev.rootguard.policy.rule.Rule;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Everything the engine needs to decide, as plain values. The admission and audit layers build
 * it from the same configuration keys, so both decide alike.
 *
 * @param mode                  global mode: enforce, warn or audit
 * @param rules                 per rule ID: action and image exemptions; rules not listed use their defaults
 * @param allowedCapabilities   capabilities that may be added, normalised by {@link #normalizeCapability}
 * @param runAsUserRange        optional allowed range for runAsUser (rule {@code required-ids})
 * @param runAsGroupRange       optional allowed range for runAsGroup (rule {@code required-ids})
 * @param fsGroupRange          optional allowed range for fsGroup (rule {@code required-ids})
 * @param strictUserNamespaces  keep {@code run-as-root} strict for pods with {@code hostUsers: false}
 * @param idRange               settings of rule {@code id-range}
 * @param escalationUnsetAction the strongest action rule {@code privilege-escalation} takes where
 *                              {@code allowPrivilegeEscalation} is unset (an explicit {@code true} gets the
 *                              rule's action); {@link Action#OFF} reports only explicit {@code true}
 * @param mutationEnabled       whether {@code /mutate} and {@code rootguard fix} fill in defaults at all
 * @param defaults              what mutation fills in
 * @param exemptions            namespaces and users that are never evaluated
 */
public record PolicyConfig(
        Action mode,
        Map<String, RuleSettings> rules,
        Set<String> allowedCapabilities,
        Optional<IdRange> runAsUserRange,
        Optional<IdRange> runAsGroupRange,
        Optional<IdRange> fsGroupRange,
        boolean strictUserNamespaces,
        IdRangeSettings idRange,
        Action escalationUnsetAction,
        boolean mutationEnabled,
        Defaults defaults,
        Exemptions exemptions) {

    public PolicyConfig {
        if (mode == Action.OFF) {
            throw new IllegalArgumentException("mode must be enforce, warn or audit");
        }
        java.util.Objects.requireNonNull(escalationUnsetAction, "escalationUnsetAction");
        rules = Map.copyOf(rules);
        Set<String> caps = new TreeSet<>();
        allowedCapabilities.forEach(c -> caps.add(normalizeCapability(c)));
        allowedCapabilities = Set.copyOf(caps);
    }

    /** Per-rule settings. */
    public record RuleSettings(Action action, List<Glob> exemptImages) {
        public RuleSettings {
            exemptImages = List.copyOf(exemptImages);
        }

        public boolean exempts(String image) {
            for (Glob g : exemptImages) {
                if (g.matches(image)) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * Settings of rule {@code id-range}.
     *
     * @param rangeRequired   every namespace must have a uid range ({@code rootguard.allocator.enabled}): in a
     *                        namespace known to have none (not assigned yet, or unreadable) pods are a violation
     * @param exemptHostUsers pods with {@code hostUsers: false} are not checked: their IDs are remapped on the host
     */
    public record IdRangeSettings(boolean rangeRequired, boolean exemptHostUsers) {
        public static IdRangeSettings standard() {
            return new IdRangeSettings(false, false);
        }
    }

    /**
     * What {@code /mutate} and {@code rootguard fix} fill in where absent.
     *
     * @param runAsNonRoot             set pod {@code runAsNonRoot: true}
     * @param runAsUser                pod {@code runAsUser}
     * @param runAsGroup               pod {@code runAsGroup}
     * @param fsGroup                  pod {@code fsGroup}
     * @param seccompProfile           pod {@code seccompProfile.type}, empty for none
     * @param dropAllCapabilities      container {@code capabilities.drop: [ALL]} when no drop list exists
     * @param denyPrivilegeEscalation  container {@code allowPrivilegeEscalation: false} unless privileged
     * @param strictSupplementalGroups pod {@code supplementalGroupsPolicy: Strict}, so the image's
     *                                 {@code /etc/group} adds no groups
     */
    public record Defaults(
            boolean runAsNonRoot,
            long runAsUser,
            long runAsGroup,
            long fsGroup,
            Optional<String> seccompProfile,
            boolean dropAllCapabilities,
            boolean denyPrivilegeEscalation,
            boolean strictSupplementalGroups) {

        public static Defaults standard() {
            return new Defaults(true, 10000, 10000, 10000, Optional.of("RuntimeDefault"), true, true, true);
        }

        /** A copy whose IDs all default to {@code id}. */
        Defaults withIds(long id) {
            return new Defaults(runAsNonRoot, id, id, id, seccompProfile, dropAllCapabilities, denyPrivilegeEscalation,
                    strictSupplementalGroups);
        }
    }

    /**
     * Requests that are never evaluated or mutated.
     *
     * @param namespaces exact namespace names
     * @param users      globs over the requesting user name (service accounts are
     *                   {@code system:serviceaccount:<namespace>:<name>})
     */
    public record Exemptions(Set<String> namespaces, List<Glob> users) {
        public Exemptions {
            namespaces = Set.copyOf(namespaces);
            users = List.copyOf(users);
        }

        public static Exemptions standard() {
            return new Exemptions(Set.of("kube-system", "kube-public", "kube-node-lease"), List.of());
        }

        /** Why a request is exempt, or empty when it is not. */
        public Optional<String> reason(String namespace, String user) {
            if (namespace != null && namespaces.contains(namespace)) {
                return Optional.of("namespace " + namespace + " is exempt");
            }
            if (user != null) {
                for (Glob g : users) {
                    if (g.matches(user)) {
                        return Optional.of("user " + user + " matches exemption " + g);
                    }
                }
            }
            return Optional.empty();
        }
    }

    /** The built-in defaults: every rule at its default action, nothing exempt but system namespaces. */
    public static PolicyConfig standard() {
        return new PolicyConfig(Action.ENFORCE, Map.of(), Set.of("NET_BIND_SERVICE"), Optional.empty(),
                Optional.empty(), Optional.empty(), false, IdRangeSettings.standard(), Action.WARN, true, Defaults.standard(),
                Exemptions.standard());
    }

    /** The settings for a rule: configured ones, or the rule's default action with no exemptions. */
    public RuleSettings rule(Rule rule) {
        RuleSettings s = rules.get(rule.id());
        return s != null ? s : new RuleSettings(rule.defaultAction(), List.of());
    }

    /** A copy with different rule settings for one rule (used by tests and the CLI). */
    public PolicyConfig withRule(String id, RuleSettings settings) {
        Map<String, RuleSettings> copy = new LinkedHashMap<>(rules);
        copy.put(id, settings);
        return new PolicyConfig(mode, copy, allowedCapabilities, runAsUserRange, runAsGroupRange, fsGroupRange,
                strictUserNamespaces, idRange, escalationUnsetAction, mutationEnabled, defaults, exemptions);
    }

    /** A copy with another global mode. */
    public PolicyConfig withMode(Action newMode) {
        return new PolicyConfig(newMode, rules, allowedCapabilities, runAsUserRange, runAsGroupRange, fsGroupRange,
                strictUserNamespaces, idRange, escalationUnsetAction, mutationEnabled, defaults, exemptions);
    }


    /**
     * The policy in a namespace: where the namespace has a uid range, mutation defaults (and the IDs
     * that messages suggest) are its start instead of the global defaults.
     */
    public PolicyConfig forNamespace(NamespaceRanges ranges) {
        if (ranges.uids().isEmpty()) {
            return this;
        }
        return new PolicyConfig(mode, rules, allowedCapabilities, runAsUserRange, runAsGroupRange, fsGroupRange,
                strictUserNamespaces, idRange, escalationUnsetAction, mutationEnabled, defaults.withIds(ranges.uids().get().min()),
                exemptions);
    }

    /**
     * Normalises a capability name as the container runtimes do: upper case, without the
     * {@code CAP_} prefix. {@code ALL} stays {@code ALL}.
     */
    public static String normalizeCapability(String name) {
        String n = name == null ? "" : name.trim().toUpperCase(Locale.ROOT);
        return n.startsWith("CAP_") ? n.substring(4) : n;
    }
}
