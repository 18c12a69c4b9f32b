package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.Violation;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code run-as-root}: containers must not run as root.
 *
 * <p>Restricted fields: {@code spec.securityContext.runAsUser}, {@code spec.securityContext.runAsNonRoot},
 * and the same under each container's {@code securityContext} (containers, initContainers,
 * ephemeralContainers), where the container value overrides the pod value. On Windows pods:
 * {@code runAsNonRoot} and {@code windowsOptions.runAsUserName} (pod and container).
 *
 * <p>Allowed on Linux: an effective {@code runAsUser} other than 0; or no effective {@code runAsUser}
 * with an effective {@code runAsNonRoot: true} (the kubelet then refuses to start an image whose USER
 * is root).
 *
 * <p>Allowed on Windows ({@code spec.os.name: windows}), as Pod Security Admission's restricted
 * level requires: an effective {@code runAsNonRoot: true}, and no effective {@code runAsUserName}
 * of {@code ContainerAdministrator} (in any case), the account the kubelet treats as root. The API
 * server forbids {@code runAsUser} on Windows pods and the kubelet ignores it there, so it does not count.
 *
 * <p>Pods with {@code hostUsers: false} are skipped unless {@code strict-user-namespaces} is set,
 * as Pod Security Admission does: their UID 0 maps to an unprivileged UID on the host.
 */
public final class RunAsRootRule implements Rule {
    public static final String ID = "run-as-root";
    /** The Windows account the kubelet counts as root for {@code runAsNonRoot}. */
    static final String WINDOWS_ROOT = "ContainerAdministrator";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "containers must not run as UID 0 (or ContainerAdministrator on Windows), and must set runAsUser or"
                + " runAsNonRoot: true so the image cannot decide";
    }

    @Override
    public boolean appliesToWindows() {
        return true;
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, PolicyConfig config, Engine.Context ctx) {
        if (pod.isUserNamespaced() && !config.strictUserNamespaces()) {
            return List.of();
        }
        if (pod.isWindows()) {
            return checkWindows(pod, containers);
        }
        long suggestion = config.defaults().runAsUser();
        Findings findings = new Findings(ID);
        List<ContainerView> undecided = new ArrayList<>();
        for (ContainerView c : containers) {
            PodSpecView.Effective<Long> uid = pod.runAsUser(c);
            if (uid.isSet()) {
                if (uid.value() == 0L) {
                    findings.add(uid.path(), c, names -> "runAsUser: 0 runs " + names
                            + " as root; set a non-zero UID such as " + suggestion);
                }
            } else if (!Boolean.TRUE.equals(pod.runAsNonRoot(c).value())) {
                undecided.add(c);
            }
        }
        if (!undecided.isEmpty() && undecided.size() == containers.size() && !anyContainerSetsNonRoot(undecided)) {
            findings.addPod(pod.podField("runAsUser"), "no runAsUser is set and runAsNonRoot is not true, so the image's USER"
                    + " decides and may be root; set " + pod.podField("runAsUser") + " to a non-zero UID such as "
                    + suggestion + " (or " + pod.podField("runAsNonRoot") + ": true)");
        } else {
            for (ContainerView c : undecided) {
                findings.add(c.field("runAsUser"), c, names -> names + " sets no runAsUser (here or in "
                        + pod.podField("runAsUser") + ") and runAsNonRoot is not true, so the image's USER decides and may"
                        + " be root; set runAsUser to a non-zero UID such as " + suggestion + ", or runAsNonRoot: true");
            }
        }
        return findings.toList();
    }

    /**
     * Windows: {@code ContainerAdministrator} is root wherever it is the effective user name;
     * otherwise the effective {@code runAsNonRoot} must be true. A {@code false} is reported where it
     * is set; a missing one at the pod's field when every container lacks it, else at each container.
     */
    private static List<Violation> checkWindows(PodSpecView pod, List<ContainerView> containers) {
        Findings findings = new Findings(ID);
        List<ContainerView> missing = new ArrayList<>();
        for (ContainerView c : containers) {
            PodSpecView.Effective<String> user = pod.runAsUserName(c);
            PodSpecView.Effective<Boolean> nonRoot = pod.runAsNonRoot(c);
            // Compared as the kubelet does: case-insensitively, nothing trimmed.
            if (user.isSet() && user.value().equalsIgnoreCase(WINDOWS_ROOT)) {
                findings.add(user.path(), c, names -> "runAsUserName: " + user.value() + " runs " + names
                        + " as the Windows root account; set runAsUserName to ContainerUser or another non-administrator account");
            } else if (!nonRoot.isSet()) {
                missing.add(c);
            } else if (!nonRoot.value()) {
                findings.add(nonRoot.path(), c, names -> "runAsNonRoot: false lets the image run " + names
                        + " as ContainerAdministrator; set runAsNonRoot: true");
            }
        }
        if (!missing.isEmpty() && missing.size() == containers.size()) {
            findings.addPod(pod.podField("runAsNonRoot"), "runAsNonRoot is not set, so the image's user decides and may be"
                    + " ContainerAdministrator; set " + pod.podField("runAsNonRoot") + ": true");
        } else {
            for (ContainerView c : missing) {
                findings.add(c.field("runAsNonRoot"), c, names -> names + " sets no runAsNonRoot (here or in "
                        + pod.podField("runAsNonRoot") + "), so the image's user decides and may be ContainerAdministrator;"
                        + " set runAsNonRoot: true");
            }
        }
        return findings.toList();
    }

    /** A container that says runAsNonRoot: false itself must be told at its own path. */
    private static boolean anyContainerSetsNonRoot(List<ContainerView> cs) {
        return cs.stream().anyMatch(c -> c.securityContext() != null && c.securityContext().getRunAsNonRoot() != null);
    }
}
