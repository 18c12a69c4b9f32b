package dev.rootguard.policy.mutate;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.rule.CapabilitiesRule;
import dev.rootguard.policy.rule.ImageGroupsRule;
import dev.rootguard.policy.rule.PrivilegeEscalationRule;
import dev.rootguard.policy.rule.RootGroupRule;
import dev.rootguard.policy.rule.RunAsRootRule;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SeccompProfile;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Fills secure defaults into a pod spec where fields are absent, and never changes a value the
 * user set. Callers diff the result against the original to get the JSON patch.
 *
 * <p>What it fills, each only when absent:
 * <ul>
 * <li>pod {@code runAsNonRoot: true}, {@code runAsUser}, {@code runAsGroup}, {@code fsGroup},
 *     {@code seccompProfile.type}, {@code supplementalGroupsPolicy: Strict} (not when a container's
 *     image is exempt from {@code image-groups}: the policy is pod-wide);</li>
 * <li>per container {@code allowPrivilegeEscalation: false} (not for privileged containers or those
 *     adding SYS_ADMIN, which the API server would reject) and {@code capabilities.drop: [ALL]} when
 *     no drop list exists.</li>
 * </ul>
 * A container whose image is exempt from a rule gets no default for that rule: pod-level values
 * it would inherit are then set on the other containers instead.
 * Windows pods get only {@code runAsNonRoot: true}: the API server forbids every other field here on
 * them, and the kubelet then refuses to start a container as {@code ContainerAdministrator}. No
 * {@code windowsOptions.runAsUserName} is chosen for them: which accounts exist is the image's business.
 */
public final class Defaulter {

    private Defaulter() {
    }

    /** Applies the defaults in place. Returns true if anything changed. */
    public static boolean apply(PodSpecView pod, PolicyConfig config) {
        PolicyConfig.Defaults d = config.defaults();
        List<ContainerView> containers = pod.containers();
        Predicate<ContainerView> rootExempt = exemptFrom(config, RunAsRootRule.ID);
        boolean changed = false;
        if (d.runAsNonRoot()) {
            changed |= fill(pod, containers, rootExempt, PodSecurityContext::getRunAsNonRoot,
                    PodSecurityContext::setRunAsNonRoot, SecurityContext::getRunAsNonRoot, SecurityContext::setRunAsNonRoot, true);
        }
        if (pod.isWindows()) {
            return changed;
        }
        Predicate<ContainerView> groupExempt = exemptFrom(config, RootGroupRule.ID);
        changed |= fill(pod, containers, rootExempt, PodSecurityContext::getRunAsUser, PodSecurityContext::setRunAsUser,
                SecurityContext::getRunAsUser, SecurityContext::setRunAsUser, d.runAsUser());
        changed |= fill(pod, containers, groupExempt, PodSecurityContext::getRunAsGroup, PodSecurityContext::setRunAsGroup,
                SecurityContext::getRunAsGroup, SecurityContext::setRunAsGroup, d.runAsGroup());
        PodSecurityContext existing = pod.podSecurityContext();
        if (existing == null || existing.getFsGroup() == null) {
            pod.podSecurityContextForWrite().setFsGroup(d.fsGroup());
            changed = true;
        }
        // The legacy seccomp annotation must agree with the field, so leave pods that use it alone.
        if (d.seccompProfile().isPresent() && (existing == null || existing.getSeccompProfile() == null)
                && !pod.annotations().containsKey("seccomp.security.alpha.kubernetes.io/pod")) {
            SeccompProfile profile = new SeccompProfile();
            profile.setType(d.seccompProfile().get());
            pod.podSecurityContextForWrite().setSeccompProfile(profile);
            changed = true;
        }
        if (d.strictSupplementalGroups() && (existing == null || existing.getSupplementalGroupsPolicy() == null)
                && containers.stream().noneMatch(exemptFrom(config, ImageGroupsRule.ID))) {
            pod.podSecurityContextForWrite().setSupplementalGroupsPolicy("Strict");
            changed = true;
        }
        Predicate<ContainerView> capsExempt = exemptFrom(config, CapabilitiesRule.ID);
        Predicate<ContainerView> escalationExempt = exemptFrom(config, PrivilegeEscalationRule.ID);
        for (ContainerView c : containers) {
            SecurityContext sc = c.securityContext();
            if (d.denyPrivilegeEscalation() && !escalationExempt.test(c)
                    && (sc == null || (sc.getAllowPrivilegeEscalation() == null && !Boolean.TRUE.equals(sc.getPrivileged())
                            && !addsSysAdmin(sc)))) {
                c.securityContextForWrite().setAllowPrivilegeEscalation(false);
                changed = true;
            }
            if (d.dropAllCapabilities() && !capsExempt.test(c)) {
                SecurityContext w = c.securityContext();
                Capabilities caps = w == null ? null : w.getCapabilities();
                if (caps == null || caps.getDrop() == null || caps.getDrop().isEmpty()) {
                    if (caps == null) {
                        caps = new Capabilities();
                        c.securityContextForWrite().setCapabilities(caps);
                    }
                    caps.setDrop(new ArrayList<>(List.of("ALL")));
                    changed = true;
                }
            }
        }
        return changed;
    }

    private static Predicate<ContainerView> exemptFrom(PolicyConfig config, String ruleId) {
        PolicyConfig.RuleSettings s = config.rules().get(ruleId);
        if (s == null || s.exemptImages().isEmpty()) {
            return c -> false;
        }
        return c -> s.exempts(c.image());
    }

    /**
     * Sets a pod-level field that containers inherit. When some container is exempt from the
     * field's rule, the value goes on each other container instead, so the exempt one keeps
     * what its image wants.
     */
    private static <T> boolean fill(PodSpecView pod, List<ContainerView> containers, Predicate<ContainerView> exempt,
            Function<PodSecurityContext, T> podGet, BiConsumer<PodSecurityContext, T> podSet,
            Function<SecurityContext, T> containerGet, BiConsumer<SecurityContext, T> containerSet, T value) {
        PodSecurityContext psc = pod.podSecurityContext();
        if (psc != null && podGet.apply(psc) != null) {
            return false;
        }
        if (containers.stream().noneMatch(exempt)) {
            podSet.accept(pod.podSecurityContextForWrite(), value);
            return true;
        }
        boolean changed = false;
        for (ContainerView c : containers) {
            SecurityContext sc = c.securityContext();
            if (!exempt.test(c) && (sc == null || containerGet.apply(sc) == null)) {
                containerSet.accept(c.securityContextForWrite(), value);
                changed = true;
            }
        }
        return changed;
    }

    private static boolean addsSysAdmin(SecurityContext sc) {
        return sc.getCapabilities() != null && sc.getCapabilities().getAdd() != null
                && sc.getCapabilities().getAdd().stream().anyMatch(a -> "SYS_ADMIN".equals(PolicyConfig.normalizeCapability(a)));
    }
}
