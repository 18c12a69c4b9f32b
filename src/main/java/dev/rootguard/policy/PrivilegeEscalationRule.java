package dev.rootguard.policy;

import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.List;

/**
 * {@code privilege-escalation}: containers should set {@code allowPrivilegeEscalation: false}, so
 * setuid binaries and file capabilities cannot raise a process's privileges.
 *
 * <p>Restricted field: {@code securityContext.allowPrivilegeEscalation} of every container.
 *
 * <p>Allowed: {@code false}. Default action {@code warn}.
 */
public final class PrivilegeEscalationRule implements Rule {
    public static final String ID = "privilege-escalation";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "containers should set allowPrivilegeEscalation: false";
    }

    @Override
    public Action defaultAction() {
        return Action.WARN;
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, PolicyConfig config, Engine.Context ctx) {
        Findings findings = new Findings(ID);
        for (ContainerView c : containers) {
            SecurityContext sc = c.securityContext();
            Boolean ape = sc == null ? null : sc.getAllowPrivilegeEscalation();
            if (!Boolean.FALSE.equals(ape)) {
                String what = ape == null ? "does not set allowPrivilegeEscalation" : "sets allowPrivilegeEscalation: true";
                findings.add(c.field("allowPrivilegeEscalation"), c, names -> names + " " + what
                        + ", so setuid binaries can gain privileges; set allowPrivilegeEscalation: false");
            }
        }
        return findings.toList();
    }
}
