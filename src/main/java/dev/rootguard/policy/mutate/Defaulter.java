package dev.rootguard.policy.mutate;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.rule.Rule;
import dev.rootguard.policy.rule.RuleRegistry;
import dev.rootguard.policy.rule.Scope;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SeccompProfile;
import java.util.List;
import java.util.function.Predicate;

/**
 * Fills secure defaults into a pod spec where fields are absent, and never changes a value the
 * user set. Callers diff the result against the original to get the JSON patch.
 *
 * <p>Each rule fills in its own defaults ({@link Rule#fix}): pod {@code runAsNonRoot: true} and
 * {@code runAsUser} ({@code run-as-root}), {@code runAsGroup} ({@code root-group}), {@code fsGroup}
 * ({@code required-ids}), {@code supplementalGroupsPolicy: Strict} ({@code image-groups}), container
 * {@code allowPrivilegeEscalation: false} ({@code privilege-escalation}) and {@code capabilities.drop: [ALL]}
 * ({@code capabilities}). A container whose image is exempt from a rule gets no default for that rule:
 * pod-level values it would inherit are then set on the other containers instead. Here sits only
 * what belongs to no rule: pod {@code seccompProfile.type}.
 *
 * <p>Windows pods get only what rules that apply to Windows fill in, which is {@code runAsNonRoot: true}:
 * the API server forbids every other field here on them, and the kubelet then refuses to start a
 * container as {@code ContainerAdministrator}. No {@code windowsOptions.runAsUserName} is chosen for
 * them: which accounts exist is the image's business.
 */
public final class Defaulter {

    private Defaulter() {}

    /**
     * Applies the defaults in place. Returns true if anything changed.
     *
     * @param scope the object's namespace, whose IDs are filled in
     */
    public static boolean apply(PodSpecView pod, PolicyConfig config, RuleRegistry registry, Scope scope) {
        List<ContainerView> containers = pod.containers();
        boolean changed = false;
        for (Rule<?> rule : registry.rules()) {
            if (!pod.isWindows() || rule.appliesToWindows()) {
                changed |= fix(rule, pod, containers, config.rule(rule), scope);
            }
        }
        if (pod.isWindows()) {
            return changed;
        }
        PodSecurityContext existing = pod.podSecurityContext();
        // The legacy seccomp annotation must agree with the field, so leave pods that use it alone.
        if (config.mutation().seccompProfile().isPresent()
                && (existing == null || existing.getSeccompProfile() == null)
                && !pod.annotations().containsKey("seccomp.security.alpha.kubernetes.io/pod")) {
            SeccompProfile profile = new SeccompProfile();
            profile.setType(config.mutation().seccompProfile().get());
            pod.podSecurityContextForWrite().setSeccompProfile(profile);
            changed = true;
        }
        return changed;
    }

    @SuppressWarnings("unchecked")
    private static <S> boolean fix(
            Rule<S> rule,
            PodSpecView pod,
            List<ContainerView> containers,
            PolicyConfig.RuleSettings settings,
            Scope scope) {
        Predicate<ContainerView> exempt =
                settings.exemptImages().isEmpty() ? c -> false : c -> settings.exempts(c.image());
        return rule.fix(pod, containers, exempt, (S) settings.settings(), scope);
    }
}
