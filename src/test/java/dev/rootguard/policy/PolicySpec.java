package dev.rootguard.policy;

import dev.rootguard.policy.mutate.Mutation;
import dev.rootguard.policy.rule.CapabilitiesRule;
import dev.rootguard.policy.rule.IdRangeRule;
import dev.rootguard.policy.rule.ImageGroupsRule;
import dev.rootguard.policy.rule.PrivilegeEscalationRule;
import dev.rootguard.policy.rule.RequiredIdsRule;
import dev.rootguard.policy.rule.Rule;
import dev.rootguard.policy.rule.RunAsRootRule;
import dev.rootguard.policy.rule.Scope;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A policy as plain values, as a user would write it in configuration: raw capability spellings,
 * glob texts, ranges as {@code [min, max]}. The property tests build the engine's
 * {@link PolicyConfig} from it, and the {@link Oracle} reads it directly, so the oracle never
 * depends on how the engine normalises its configuration.
 *
 * @param mode               global mode (enforce, warn or audit)
 * @param actions            configured rule actions; rules not listed keep their documented default
 * @param exemptImages       image globs per rule ID
 * @param allowedCapabilities capability names as written by the user (any case, with or without {@code CAP_})
 * @param runAsUserRange     optional {@code [min, max]}
 * @param runAsGroupRange    optional {@code [min, max]}
 * @param fsGroupRange       optional {@code [min, max]}
 * @param strictUserNamespaces {@code rootguard.rules.run-as-root.strict-user-namespaces}
 * @param idRangeRequired    {@code rootguard.allocator.enabled}: a known namespace without a readable uid range violates {@code id-range}
 * @param exemptHostUsers    {@code rootguard.rules.id-range.exempt-host-users}
 * @param escalationUnsetAction {@code rootguard.rules.privilege-escalation.unset-action}
 * @param mutationEnabled    {@code rootguard.mutation.enabled}
 * @param defaults           what mutation fills in
 * @param exemptNamespaces   exempt namespaces
 * @param exemptUsers        exempt user globs
 */
record PolicySpec(
        Action mode,
        Map<String, Action> actions,
        Map<String, List<String>> exemptImages,
        List<String> allowedCapabilities,
        Optional<long[]> runAsUserRange,
        Optional<long[]> runAsGroupRange,
        Optional<long[]> fsGroupRange,
        boolean strictUserNamespaces,
        boolean idRangeRequired,
        boolean exemptHostUsers,
        Action escalationUnsetAction,
        boolean mutationEnabled,
        Defaults defaults,
        Set<String> exemptNamespaces,
        List<String> exemptUsers) {

    /** What mutation fills in ({@code rootguard.defaults.*}), as a user writes it. */
    record Defaults(
            boolean runAsNonRoot,
            long runAsUser,
            long runAsGroup,
            long fsGroup,
            Optional<String> seccompProfile,
            boolean dropAllCapabilities,
            boolean denyPrivilegeEscalation,
            boolean strictSupplementalGroups) {
        static Defaults standard() {
            return new Defaults(true, 10000, 10000, 10000, Optional.of("RuntimeDefault"), true, true, true);
        }
    }

    /** Rule IDs in the order of the README's rule table, with their default actions (docs/policy.md, "The rules"). */
    static final Map<String, Action> DEFAULT_ACTIONS = defaultActions();

    private static Map<String, Action> defaultActions() {
        Map<String, Action> m = new LinkedHashMap<>();
        m.put("run-as-root", Action.ENFORCE);
        m.put("root-group", Action.ENFORCE);
        m.put("privileged", Action.ENFORCE);
        m.put("capabilities", Action.ENFORCE);
        m.put("required-ids", Action.ENFORCE);
        m.put("privilege-escalation", Action.ENFORCE);
        m.put("id-range", Action.ENFORCE);
        m.put("image-groups", Action.WARN);
        return Collections.unmodifiableMap(m);
    }

    /** The built-in configuration as docs/configuration.md describes it. */
    static PolicySpec standard() {
        return new PolicySpec(
                Action.ENFORCE,
                Map.of(),
                Map.of(),
                List.of("NET_BIND_SERVICE"),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                false,
                false,
                false,
                Action.WARN,
                true,
                Defaults.standard(),
                Set.of("kube-system", "kube-public", "kube-node-lease"),
                List.of());
    }

    Action action(String rule) {
        return actions.getOrDefault(rule, DEFAULT_ACTIONS.get(rule));
    }

    List<String> exemptImages(String rule) {
        return exemptImages.getOrDefault(rule, List.of());
    }

    /** The engine's configuration for this policy. */
    PolicyConfig toPolicyConfig() {
        Map<String, PolicyConfig.RuleSettings> rules = new LinkedHashMap<>();
        Map<String, Object> settings = Map.of(
                "run-as-root", new RunAsRootRule.Settings(strictUserNamespaces, defaults.runAsNonRoot()),
                "root-group", Rule.NoSettings.INSTANCE,
                "privileged", Rule.NoSettings.INSTANCE,
                "capabilities",
                        new CapabilitiesRule.Settings(Set.copyOf(allowedCapabilities), defaults.dropAllCapabilities()),
                "required-ids",
                        new RequiredIdsRule.Settings(
                                runAsUserRange.map(PolicySpec::range),
                                runAsGroupRange.map(PolicySpec::range),
                                fsGroupRange.map(PolicySpec::range)),
                "privilege-escalation",
                        new PrivilegeEscalationRule.Settings(escalationUnsetAction, defaults.denyPrivilegeEscalation()),
                "id-range", new IdRangeRule.Settings(idRangeRequired, exemptHostUsers),
                "image-groups", new ImageGroupsRule.Settings(defaults.strictSupplementalGroups()));
        for (String rule : DEFAULT_ACTIONS.keySet()) {
            rules.put(
                    rule,
                    new PolicyConfig.RuleSettings(
                            action(rule),
                            exemptImages(rule).stream().map(Glob::of).toList(),
                            settings.get(rule)));
        }
        return new PolicyConfig(
                mode,
                rules,
                new Mutation(
                        mutationEnabled,
                        new Scope.Ids(defaults.runAsUser(), defaults.runAsGroup(), defaults.fsGroup()),
                        defaults.seccompProfile()),
                new PolicyConfig.Exemptions(
                        exemptNamespaces, exemptUsers.stream().map(Glob::of).toList()));
    }

    private static IdRange range(long[] r) {
        return new IdRange(r[0], r[1]);
    }

    @Override
    public String toString() {
        return "mode=" + mode + " actions=" + actions + " exemptImages=" + exemptImages + " allowedCapabilities="
                + allowedCapabilities + " runAsUserRange=" + show(runAsUserRange) + " runAsGroupRange="
                + show(runAsGroupRange)
                + " fsGroupRange=" + show(fsGroupRange) + " strictUserNamespaces=" + strictUserNamespaces
                + " idRangeRequired="
                + idRangeRequired + " exemptHostUsers=" + exemptHostUsers + " escalationUnsetAction="
                + escalationUnsetAction
                + " mutationEnabled=" + mutationEnabled + " defaults="
                + defaults + " exemptNamespaces=" + exemptNamespaces + " exemptUsers=" + exemptUsers;
    }

    private static String show(Optional<long[]> r) {
        return r.map(x -> x[0] + "-" + x[1]).orElse("any");
    }
}
