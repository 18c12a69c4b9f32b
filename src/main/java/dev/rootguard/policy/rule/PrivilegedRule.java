package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.Violation;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.List;

/**
 * {@code privileged}: no container may run privileged.
 *
 * <p>Restricted fields: {@code securityContext.privileged} of every container, and the Windows
 * equivalent {@code securityContext.windowsOptions.hostProcess} at pod and container level.
 *
 * <p>Allowed: unset or {@code false}. This rule also applies to Windows pods.
 */
public final class PrivilegedRule implements Rule<Rule.NoSettings> {
    public static final String ID = "privileged";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "containers must not set privileged: true (or windowsOptions.hostProcess: true)";
    }

    @Override
    public boolean appliesToWindows() {
        return true;
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
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, NoSettings settings, Scope scope) {
        Findings findings = new Findings(ID);
        for (ContainerView c : containers) {
            SecurityContext sc = c.securityContext();
            if (sc == null) {
                continue;
            }
            if (Boolean.TRUE.equals(sc.getPrivileged())) {
                findings.add(
                        c.field("privileged"),
                        c,
                        names -> "privileged: true gives " + names
                                + " full access to the host's devices and kernel; remove it or set privileged: false");
            }
            if (sc.getWindowsOptions() != null
                    && Boolean.TRUE.equals(sc.getWindowsOptions().getHostProcess())) {
                findings.add(
                        c.field("windowsOptions.hostProcess"),
                        c,
                        names -> "hostProcess: true runs " + names + " as a process on the Windows host; remove it");
            }
        }
        PodSecurityContext psc = pod.podSecurityContext();
        if (psc != null
                && psc.getWindowsOptions() != null
                && Boolean.TRUE.equals(psc.getWindowsOptions().getHostProcess())) {
            findings.addPod(
                    pod.podField("windowsOptions.hostProcess"),
                    "hostProcess: true runs every container as a process on the Windows host; remove it");
        }
        return findings.toList();
    }
}
