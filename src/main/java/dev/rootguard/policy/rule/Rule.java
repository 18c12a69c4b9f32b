package dev.rootguard.policy.rule;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.Violation;
import java.util.List;
import java.util.function.Predicate;

/**
 * One policy check over a pod spec, with its settings and the defaults mutation fills in for it.
 * Rules report every violation they find and never throw to say no; the
 * {@link dev.rootguard.policy.Evaluator} attaches actions and applies image exemptions.
 *
 * <p>A rule sees only its own settings ({@code S}, read from {@code rootguard.rules.<id>.*}) and the
 * {@link Scope} of the object, never the whole policy.
 *
 * @param <S> the rule's settings
 */
public interface Rule<S> {

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
     * fields that the API server forbids on Windows pods, so they do not (neither check nor fix).
     */
    default boolean appliesToWindows() {
        return false;
    }

    /**
     * The keys this rule reads besides {@code action} and {@code exempt-images} (which every rule
     * has, see {@link RuleRegistry#keys}): its own {@code rootguard.rules.<id>.*} keys and the
     * {@code rootguard.defaults.*} keys of what it fills in.
     */
    default List<SettingKey> keys() {
        return List.of();
    }

    /** The settings when nothing is configured. */
    S defaults();

    /**
     * Reads the settings.
     *
     * @throws IllegalArgumentException naming the offending key and value
     */
    S settings(SettingsSource source);

    /**
     * Checks one pod spec.
     *
     * @param pod        the pod spec and its path
     * @param containers the containers this rule applies to (image exemptions already removed);
     *                   never empty
     * @param settings   this rule's settings
     * @param scope      the object's namespace: mode, ranges, the IDs to suggest
     * @return violations, each with the exact field path; empty when the pod spec complies
     */
    List<Violation> check(PodSpecView pod, List<ContainerView> containers, S settings, Scope scope);

    /**
     * Fills in, where absent, the defaults that satisfy this rule, and never changes a value the
     * user set. Runs whatever the rule's action (mutation makes pods compliant before they are checked).
     *
     * @param containers every container of the pod
     * @param exempt     the containers whose images are exempt from this rule: they get no default for it
     * @return true if anything changed
     */
    default boolean fix(
            PodSpecView pod, List<ContainerView> containers, Predicate<ContainerView> exempt, S settings, Scope scope) {
        return false;
    }

    /** Settings for a rule that has none of its own. */
    record NoSettings() {
        public static final NoSettings INSTANCE = new NoSettings();
    }
}
