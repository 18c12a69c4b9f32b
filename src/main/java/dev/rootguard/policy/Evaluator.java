package dev.rootguard.policy;

import dev.rootguard.policy.rule.Rule;
import dev.rootguard.policy.rule.RuleRegistry;
import dev.rootguard.policy.rule.Scope;
import java.util.ArrayList;
import java.util.List;

/** Runs every rule over a pod spec and attaches each violation's effective action. */
public final class Evaluator {
    private final RuleRegistry registry;

    public Evaluator(RuleRegistry registry) {
        this.registry = registry;
    }

    /**
     * All violations of a pod spec.
     *
     * @param config the policy
     * @param mode   the mode in force (global or namespace); a violation's action is the weakest of
     *               its rule's action, the mode, and the cap the rule put on the finding, if any
     * @param ctx    who asks, where
     */
    public List<Violation> evaluate(PodSpecView pod, PolicyConfig config, Action mode, Engine.Context ctx) {
        List<ContainerView> all = pod.containers();
        List<Violation> out = new ArrayList<>();
        Scope scope = scope(config, mode, ctx);
        for (Rule<?> rule : registry.rules()) {
            PolicyConfig.RuleSettings settings = config.rule(rule);
            if (settings.action() == Action.OFF || (pod.isWindows() && !rule.appliesToWindows())) {
                continue;
            }
            List<ContainerView> containers = all;
            if (!settings.exemptImages().isEmpty()) {
                containers =
                        all.stream().filter(c -> !settings.exempts(c.image())).toList();
            }
            // A rule checks containers, and pod-level fields on their behalf: with no container left
            // to check (all exempt, or none at all) there is nothing to report.
            if (containers.isEmpty()) {
                continue;
            }
            Action action = settings.action().weaker(mode);
            for (Violation v : check(rule, pod, containers, settings, scope)) {
                // A rule may cap a finding below its own action (privilege-escalation's unset case).
                Action effective = v.action().weaker(action);
                if (effective != Action.OFF) {
                    out.add(v.withAction(effective));
                }
            }
        }
        return out;
    }

    /** What rules know of the namespace: where it has a uid range, the IDs they suggest and fill in are its start. */
    static Scope scope(PolicyConfig config, Action mode, Engine.Context ctx) {
        NamespaceRanges ranges = ctx.namespacePolicy().ranges();
        return new Scope(ctx.namespace(), mode, ranges, config.mutation().ids().in(ranges), ctx.images());
    }

    @SuppressWarnings("unchecked")
    private static <S> List<Violation> check(
            Rule<S> rule,
            PodSpecView pod,
            List<ContainerView> containers,
            PolicyConfig.RuleSettings settings,
            Scope scope) {
        return rule.check(pod, containers, (S) settings.settings(), scope);
    }
}
