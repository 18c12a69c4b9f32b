package dev.rootguard.policy;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code run-as-root}: containers must not run as UID 0.
 *
 * <p>Restricted fields: {@code spec.securityContext.runAsUser}, {@code spec.securityContext.runAsNonRoot},
 * and the same under each container's {@code securityContext} (containers, initContainers,
 * ephemeralContainers), where the container value overrides the pod value.
 *
 * <p>Allowed: an effective {@code runAsUser} other than 0; or no effective {@code runAsUser} with an
 * effective {@code runAsNonRoot: true} (the kubelet then refuses to start an image whose USER is root).
 *
 * <p>Pods with {@code hostUsers: false} are skipped unless {@code strict-user-namespaces} is set,
 * as Pod Security Admission does: their UID 0 maps to an unprivileged UID on the host.
 */
public final class RunAsRootRule implements Rule {
    public static final String ID = "run-as-root";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "containers must not run as UID 0, and must set runAsUser or runAsNonRoot: true so the image cannot decide";
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, PolicyConfig config, Engine.Context ctx) {
        if (pod.isUserNamespaced() && !config.strictUserNamespaces()) {
            return List.of();
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

    /** A container that says runAsNonRoot: false itself must be told at its own path. */
    private static boolean anyContainerSetsNonRoot(List<ContainerView> cs) {
        return cs.stream().anyMatch(c -> c.securityContext() != null && c.securityContext().getRunAsNonRoot() != null);
    }
}
