package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.Violation;

import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.List;

/**
 * {@code capabilities}: containers may only add Linux capabilities from the allowlist.
 *
 * <p>Restricted field: {@code securityContext.capabilities.add[*]} of every container.
 *
 * <p>Allowed: names in {@code rootguard.rules.capabilities.allowed} (default {@code NET_BIND_SERVICE}),
 * compared case-insensitively and with or without the {@code CAP_} prefix. {@code ALL} is only
 * allowed when the allowlist names {@code ALL} itself.
 */
public final class CapabilitiesRule implements Rule {
    public static final String ID = "capabilities";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "capabilities.add may only name capabilities from the allowlist (default NET_BIND_SERVICE)";
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, PolicyConfig config, Engine.Context ctx) {
        Findings findings = new Findings(ID);
        String allowed = config.allowedCapabilities().isEmpty() ? "none" : String.join(", ", config.allowedCapabilities());
        for (ContainerView c : containers) {
            SecurityContext sc = c.securityContext();
            if (sc == null || sc.getCapabilities() == null || sc.getCapabilities().getAdd() == null) {
                continue;
            }
            List<String> add = sc.getCapabilities().getAdd();
            for (int i = 0; i < add.size(); i++) {
                String name = add.get(i);
                if (!config.allowedCapabilities().contains(PolicyConfig.normalizeCapability(name))) {
                    findings.add(c.field("capabilities.add[" + i + "]"), c, names -> "capability \"" + name + "\" added to "
                            + names + " is not allowed (allowed: " + allowed + "); remove it from capabilities.add");
                }
            }
        }
        return findings.toList();
    }
}
