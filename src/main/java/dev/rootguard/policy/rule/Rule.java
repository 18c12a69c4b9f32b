package dev.rootguard.policy.rule;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.Violation;

import java.util.List;

/**
 * One policy check over a pod spec. Rules report every violation they find and never throw
 * to say no; the {@link Evaluator} attaches actions and applies image exemptions.
 */
public interface Rule {

    /** Stable kebab-case ID used in config keys, messages, metrics, audit output and docs. */
    String id();

    /** One line for documentation and {@code rootguard rules}. */
    String summary();

    /** Action when the configuration does not set one. */
    default Action defaultAction() {
        return Action.ENFORCE;
    }

    /**
     * Whether the rule applies to pods with {@code spec.os.name: windows}. Most rules check Linux
     * fields that the API server forbids on Windows pods, so they do not.
     */
    default boolean appliesToWindows() {
        return false;
    }

    /**
     * Checks one pod spec.
     *
     * @param pod        the pod spec and its path
     * @param containers the containers this rule applies to (image exemptions already removed);
     *                   never empty
     * @param config     the policy configuration in the object's namespace (see {@link PolicyConfig#forNamespace})
     * @param ctx        who asks, where; with what the namespace's labels and annotations say
     * @return violations, each with the exact field path; empty when the pod spec complies
     */
    List<Violation> check(PodSpecView pod, List<ContainerView> containers, PolicyConfig config, Engine.Context ctx);
}
