package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.Violation;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

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
 *
 * <p>Mutation fills in pod {@code runAsNonRoot: true} (also on Windows) and {@code runAsUser}
 * ({@code rootguard.defaults.run-as-user}, or the namespace's range start); where a container's image
 * is exempt, on the other containers instead.
 */
public final class RunAsRootRule implements Rule<RunAsRootRule.Settings> {
    public static final String ID = "run-as-root";
    static final String STRICT_USER_NAMESPACES = "rootguard.rules.run-as-root.strict-user-namespaces";
    static final String RUN_AS_NON_ROOT = "rootguard.defaults.run-as-non-root";
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

    /**
     * Settings of {@code run-as-root}.
     *
     * @param strictUserNamespaces also check pods with {@code hostUsers: false}
     * @param fillRunAsNonRoot     mutation sets pod {@code runAsNonRoot: true} ({@code rootguard.defaults.run-as-non-root})
     */
    public record Settings(boolean strictUserNamespaces, boolean fillRunAsNonRoot) {}

    @Override
    public boolean appliesToWindows() {
        return true;
    }

    @Override
    public List<SettingKey> keys() {
        return List.of(
                new SettingKey(
                        STRICT_USER_NAMESPACES,
                        "false",
                        "Also check pods with hostUsers: false, whose root maps to an unprivileged host UID."),
                new SettingKey(RUN_AS_NON_ROOT, "true", "Mutation sets pod runAsNonRoot: true."),
                new SettingKey(
                        Scope.Ids.RUN_AS_USER,
                        "10000",
                        "Mutation sets pod runAsUser (shared: other rules suggest it)."));
    }

    @Override
    public Settings defaults() {
        return new Settings(false, true);
    }

    @Override
    public Settings settings(SettingsSource source) {
        return new Settings(source.bool(STRICT_USER_NAMESPACES), source.bool(RUN_AS_NON_ROOT));
    }

    @Override
    public boolean fix(
            PodSpecView pod,
            List<ContainerView> containers,
            Predicate<ContainerView> exempt,
            Settings settings,
            Scope scope) {
        boolean changed = false;
        if (settings.fillRunAsNonRoot()) {
            changed |= PodFields.fill(
                    pod,
                    containers,
                    exempt,
                    PodSecurityContext::getRunAsNonRoot,
                    PodSecurityContext::setRunAsNonRoot,
                    SecurityContext::getRunAsNonRoot,
                    SecurityContext::setRunAsNonRoot,
                    true);
        }
        // The API server forbids runAsUser on Windows pods.
        if (!pod.isWindows()) {
            changed |= PodFields.fill(
                    pod,
                    containers,
                    exempt,
                    PodSecurityContext::getRunAsUser,
                    PodSecurityContext::setRunAsUser,
                    SecurityContext::getRunAsUser,
                    SecurityContext::setRunAsUser,
                    scope.ids().runAsUser());
        }
        return changed;
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, Settings settings, Scope scope) {
        if (pod.isUserNamespaced() && !settings.strictUserNamespaces()) {
            return List.of();
        }
        if (pod.isWindows()) {
            return checkWindows(pod, containers);
        }
        long suggestion = scope.ids().runAsUser();
        Findings findings = new Findings(ID);
        List<ContainerView> undecided = new ArrayList<>();
        for (ContainerView c : containers) {
            PodSpecView.Effective<Long> uid = pod.runAsUser(c);
            if (uid.isSet()) {
                if (uid.value() == 0L) {
                    findings.add(
                            uid.path(),
                            c,
                            names -> "runAsUser: 0 runs " + names + " as root; set a non-zero UID such as "
                                    + suggestion);
                }
            } else if (!Boolean.TRUE.equals(pod.runAsNonRoot(c).value())) {
                undecided.add(c);
            }
        }
        if (!undecided.isEmpty() && undecided.size() == containers.size() && !anyContainerSetsNonRoot(undecided)) {
            findings.addPod(
                    pod.podField("runAsUser"),
                    "no runAsUser is set and runAsNonRoot is not true, so the image's USER"
                            + " decides and may be root; set " + pod.podField("runAsUser")
                            + " to a non-zero UID such as "
                            + suggestion + " (or " + pod.podField("runAsNonRoot") + ": true)"
                            + ImageUserRule.imagesSay(pod, undecided, scope));
        } else {
            for (ContainerView c : undecided) {
                findings.add(
                        c.field("runAsUser"),
                        c,
                        names -> names + " sets no runAsUser (here or in "
                                + pod.podField("runAsUser")
                                + ") and runAsNonRoot is not true, so the image's USER decides and may"
                                + " be root; set runAsUser to a non-zero UID such as " + suggestion
                                + ", or runAsNonRoot: true"
                                + ImageUserRule.imagesSay(pod, List.of(c), scope));
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
                findings.add(
                        user.path(),
                        c,
                        names -> "runAsUserName: " + user.value() + " runs " + names
                                + " as the Windows root account; set runAsUserName to ContainerUser or another non-administrator account");
            } else if (!nonRoot.isSet()) {
                missing.add(c);
            } else if (!nonRoot.value()) {
                findings.add(
                        nonRoot.path(),
                        c,
                        names -> "runAsNonRoot: false lets the image run " + names
                                + " as ContainerAdministrator; set runAsNonRoot: true");
            }
        }
        if (!missing.isEmpty() && missing.size() == containers.size()) {
            findings.addPod(
                    pod.podField("runAsNonRoot"),
                    "runAsNonRoot is not set, so the image's user decides and may be" + " ContainerAdministrator; set "
                            + pod.podField("runAsNonRoot") + ": true");
        } else {
            for (ContainerView c : missing) {
                findings.add(
                        c.field("runAsNonRoot"),
                        c,
                        names -> names + " sets no runAsNonRoot (here or in "
                                + pod.podField("runAsNonRoot")
                                + "), so the image's user decides and may be ContainerAdministrator;"
                                + " set runAsNonRoot: true");
            }
        }
        return findings.toList();
    }

    /** A container that says runAsNonRoot: false itself must be told at its own path. */
    private static boolean anyContainerSetsNonRoot(List<ContainerView> cs) {
        return cs.stream()
                .anyMatch(
                        c -> c.securityContext() != null && c.securityContext().getRunAsNonRoot() != null);
    }
}
