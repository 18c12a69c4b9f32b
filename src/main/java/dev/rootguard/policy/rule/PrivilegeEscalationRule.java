package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.Violation;

import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code privilege-escalation}: containers must not allow privilege escalation, so setuid binaries
 * and file capabilities in the image cannot raise a process to UID 0.
 *
 * <p>Restricted field: {@code securityContext.allowPrivilegeEscalation} of every container.
 *
 * <p>Allowed: {@code false}. An explicit {@code true} gets the rule's action (default
 * {@code enforce}): it asks for exactly what rootguard exists to stop. Unset gets at most
 * {@code rootguard.rules.privilege-escalation.unset-action} (default {@code warn}): the runtime then
 * allows escalation too, but mutation fills in {@code false}, so only objects that bypassed mutation
 * reach validation without it, and refusing them would block workloads that predate the policy.
 * One rule with two actions rather than two rules, so the ID, its exemptions and its metrics stay
 * one: {@code action: off} still turns the whole rule off.
 */
public final class PrivilegeEscalationRule implements Rule {
    public static final String ID = "privilege-escalation";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "containers must not set allowPrivilegeEscalation: true, and should set it to false";
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, PolicyConfig config, Engine.Context ctx) {
        Findings explicit = new Findings(ID);
        Findings unset = new Findings(ID);
        for (ContainerView c : containers) {
            SecurityContext sc = c.securityContext();
            Boolean ape = sc == null ? null : sc.getAllowPrivilegeEscalation();
            if (Boolean.TRUE.equals(ape)) {
                explicit.add(c.field("allowPrivilegeEscalation"), c, names -> names + " sets allowPrivilegeEscalation: true,"
                        + " so a setuid-root binary in the image can become UID 0; set allowPrivilegeEscalation: false");
            } else if (ape == null) {
                unset.add(c.field("allowPrivilegeEscalation"), c, names -> names + " does not set allowPrivilegeEscalation,"
                        + " so setuid binaries can gain privileges; set allowPrivilegeEscalation: false");
            }
        }
        List<Violation> out = new ArrayList<>(explicit.toList());
        for (Violation v : unset.toList()) {
            out.add(Violation.capped(v.rule(), v.path(), v.message(), config.escalationUnsetAction()));
        }
        return out;
    }
}
