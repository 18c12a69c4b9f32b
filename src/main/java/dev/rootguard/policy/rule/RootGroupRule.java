package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.Violation;

import io.fabric8.kubernetes.api.model.PodSecurityContext;
import java.util.List;

/**
 * {@code root-group}: processes and volumes must not get GID 0.
 *
 * <p>Restricted fields: {@code runAsGroup} (container overrides pod), {@code spec.securityContext.fsGroup},
 * {@code spec.securityContext.supplementalGroups[*]}.
 *
 * <p>Allowed: any value other than 0, or unset ({@code required-ids} asks for the IDs to be set).
 */
public final class RootGroupRule implements Rule {
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
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, PolicyConfig config, Engine.Context ctx) {
        long suggestion = config.defaults().runAsGroup();
        Findings findings = new Findings(ID);
        for (ContainerView c : containers) {
            PodSpecView.Effective<Long> gid = pod.runAsGroup(c);
            if (gid.isSet() && gid.value() == 0L) {
                findings.add(gid.path(), c, names -> "runAsGroup: 0 runs " + names
                        + " with the root group; set a non-zero GID such as " + suggestion);
            }
        }
        PodSecurityContext psc = pod.podSecurityContext();
        if (psc != null) {
            if (psc.getFsGroup() != null && psc.getFsGroup() == 0L) {
                findings.addPod(pod.podField("fsGroup"), "fsGroup: 0 makes volumes owned by the root group; set a non-zero GID such as "
                        + config.defaults().fsGroup());
            }
            List<Long> groups = psc.getSupplementalGroups();
            for (int i = 0; groups != null && i < groups.size(); i++) {
                if (groups.get(i) != null && groups.get(i) == 0L) {
                    findings.addPod(pod.podField("supplementalGroups[" + i + "]"),
                            "supplemental group 0 adds the root group to every container; remove it");
                }
            }
        }
        return findings.toList();
    }
}
