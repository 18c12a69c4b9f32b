package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.Violation;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.List;
import java.util.function.Predicate;

/**
 * {@code root-group}: processes and volumes must not get GID 0.
 *
 * <p>Restricted fields: {@code runAsGroup} (container overrides pod), {@code spec.securityContext.fsGroup},
 * {@code spec.securityContext.supplementalGroups[*]}.
 *
 * <p>Allowed: any value other than 0, or unset ({@code required-ids} asks for the IDs to be set).
 *
 * <p>Mutation fills in pod {@code runAsGroup} ({@code rootguard.defaults.run-as-group}, or the
 * namespace's range start); where a container's image is exempt, on the other containers instead.
 */
public final class RootGroupRule implements Rule<Rule.NoSettings> {
    public static final String ID = "root-group";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "runAsGroup, fsGroup and supplementalGroups must not be GID 0";
    }

    @Override
    public List<SettingKey> keys() {
        return List.of(new SettingKey(
                Scope.Ids.RUN_AS_GROUP, "10000", "Mutation sets pod runAsGroup (shared: other rules suggest it)."));
    }

    @Override
    public NoSettings defaults() {
        return NoSettings.INSTANCE;
    }

    @Override
    public NoSettings settings(SettingsSource source) {
        return NoSettings.INSTANCE;
    }

    @Override
    public boolean fix(
            PodSpecView pod,
            List<ContainerView> containers,
            Predicate<ContainerView> exempt,
            NoSettings settings,
            Scope scope) {
        return PodFields.fill(
                pod,
                containers,
                exempt,
                PodSecurityContext::getRunAsGroup,
                PodSecurityContext::setRunAsGroup,
                SecurityContext::getRunAsGroup,
                SecurityContext::setRunAsGroup,
                scope.ids().runAsGroup());
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, NoSettings settings, Scope scope) {
        long suggestion = scope.ids().runAsGroup();
        Findings findings = new Findings(ID);
        for (ContainerView c : containers) {
            PodSpecView.Effective<Long> gid = pod.runAsGroup(c);
            if (gid.isSet() && gid.value() == 0L) {
                findings.add(
                        gid.path(),
                        c,
                        names -> "runAsGroup: 0 runs " + names + " with the root group; set a non-zero GID such as "
                                + suggestion);
            }
        }
        PodSecurityContext psc = pod.podSecurityContext();
        if (psc != null) {
            if (psc.getFsGroup() != null && psc.getFsGroup() == 0L) {
                findings.addPod(
                        pod.podField("fsGroup"),
                        "fsGroup: 0 makes volumes owned by the root group; set a non-zero GID such as "
                                + scope.ids().fsGroup());
            }
            List<Long> groups = psc.getSupplementalGroups();
            for (int i = 0; groups != null && i < groups.size(); i++) {
                if (groups.get(i) != null && groups.get(i) == 0L) {
                    findings.addPod(
                            pod.podField("supplementalGroups[" + i + "]"),
                            "supplemental group 0 adds the root group to every container; remove it");
                }
            }
        }
        return findings.toList();
    }
}
