package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.IdRange;
import dev.rootguard.policy.NamespaceRanges;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.Violation;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import java.util.List;
import java.util.Optional;

/**
 * {@code id-range}: in a namespace with its own ID range, every ID a pod runs with lies inside it,
 * so two tenants never share a host UID (and with it the kernel's per-user limits).
 *
 * <p>Restricted fields: effective {@code runAsUser} and {@code runAsGroup} of every container,
 * init container and ephemeral container (container overrides pod), {@code spec.securityContext.fsGroup}
 * and {@code spec.securityContext.supplementalGroups[*]}.
 *
 * <p>Allowed: UIDs, GIDs and fsGroup inside the namespace's {@code rootguard.dev/uid-range};
 * supplemental groups inside {@code rootguard.dev/supplemental-groups}, or the uid range when that
 * annotation is absent; unset values ({@code required-ids} asks for them). The rule does not apply
 * where the namespace has no range, unless ranges are required ({@code rootguard.allocator.enabled}):
 * then a namespace known to have no readable uid range is a violation until it gets one. Pods with
 * {@code hostUsers: false} are skipped when {@code exempt-host-users} is set, since their IDs are
 * remapped on the host.
 */
public final class IdRangeRule implements Rule<IdRangeRule.Settings> {
    public static final String ID = "id-range";
    static final String EXEMPT_HOST_USERS = "rootguard.rules.id-range.exempt-host-users";

    /**
     * Settings of {@code id-range}.
     *
     * @param rangeRequired   every namespace must have a uid range ({@code rootguard.allocator.enabled}): in a
     *                        namespace known to have none (not assigned yet, or unreadable) pods are a violation
     * @param exemptHostUsers pods with {@code hostUsers: false} are not checked: their IDs are remapped on the host
     */
    public record Settings(boolean rangeRequired, boolean exemptHostUsers) {}

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "in a namespace with an ID range (rootguard.dev/uid-range), every UID, GID, fsGroup and supplemental group lies inside it";
    }

    @Override
    public List<SettingKey> keys() {
        return List.of(new SettingKey(
                EXEMPT_HOST_USERS,
                "false",
                "Do not check pods with hostUsers: false: the kubelet maps their IDs to a host range of their own."));
    }

    @Override
    public Settings defaults() {
        return new Settings(false, false);
    }

    /** A range is required when the allocator is on ({@code rootguard.allocator.enabled}): it assigns one to every namespace. */
    @Override
    public Settings settings(SettingsSource source) {
        return new Settings(source.allocatorBlock().isPresent(), source.bool(EXEMPT_HOST_USERS));
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, Settings settings, Scope scope) {
        NamespaceRanges ranges = scope.ranges();
        if (!ranges.known() || (settings.exemptHostUsers() && pod.isUserNamespaced())) {
            return List.of();
        }
        Findings findings = new Findings(ID);
        String ns = scope.namespace();
        Optional<IdRange> uids = ranges.uids();
        if (uids.isEmpty() && settings.rangeRequired()) {
            String field = pod.podField("runAsUser");
            Optional<String> unreadable = ranges.problems().stream()
                    .filter(p -> p.contains(NamespaceRanges.UID_RANGE_ANNOTATION))
                    .findFirst();
            findings.addPod(
                    field,
                    unreadable
                            .map(
                                    p -> "namespace " + ns
                                            + " has no usable ID range, so runAsUser cannot be checked against one: its "
                                            + p
                                            + "; set the annotation to <start>/<size> or remove it so that rootguard assigns a range")
                            .orElse("namespace " + ns
                                    + " has no ID range yet, so runAsUser cannot be checked against one; rootguard"
                                    + " assigns one within seconds of the namespace's creation: retry once it has set the annotation "
                                    + NamespaceRanges.UID_RANGE_ANNOTATION
                                    + " (if it never does, see the rootguard log)"));
            return findings.toList();
        }
        if (uids.isPresent()) {
            IdRange r = uids.get();
            String where = describe(ns, r, NamespaceRanges.UID_RANGE_ANNOTATION);
            for (ContainerView c : containers) {
                PodSpecView.Effective<Long> uid = pod.runAsUser(c);
                if (uid.isSet() && !r.contains(uid.value())) {
                    findings.add(
                            uid.path(),
                            c,
                            names -> "runAsUser " + uid.value() + " of " + names + " is outside " + where
                                    + "; choose a UID in that range, such as " + r.min());
                }
                PodSpecView.Effective<Long> gid = pod.runAsGroup(c);
                if (gid.isSet() && !r.contains(gid.value())) {
                    findings.add(
                            gid.path(),
                            c,
                            names -> "runAsGroup " + gid.value() + " of " + names + " is outside " + where
                                    + "; choose a GID in that range, such as " + r.min());
                }
            }
            PodSecurityContext psc = pod.podSecurityContext();
            if (psc != null && psc.getFsGroup() != null && !r.contains(psc.getFsGroup())) {
                findings.addPod(
                        pod.podField("fsGroup"),
                        "fsGroup " + psc.getFsGroup() + " is outside " + where
                                + "; choose a GID in that range, such as " + r.min());
            }
        }
        Optional<IdRange> groups = ranges.supplementalGroupRange();
        PodSecurityContext psc = pod.podSecurityContext();
        List<Long> supplemental = psc == null ? null : psc.getSupplementalGroups();
        if (groups.isPresent() && supplemental != null) {
            IdRange r = groups.get();
            String where = ranges.supplementalGroups().isPresent()
                    ? describe(ns, r, NamespaceRanges.SUPPLEMENTAL_GROUPS_ANNOTATION)
                    : describe(ns, r, NamespaceRanges.UID_RANGE_ANNOTATION);
            for (int i = 0; i < supplemental.size(); i++) {
                Long g = supplemental.get(i);
                if (g != null && !r.contains(g)) {
                    findings.addPod(
                            pod.podField("supplementalGroups[" + i + "]"),
                            "supplementalGroups entry " + g + " is outside " + where
                                    + "; choose a GID in that range or remove it");
                }
            }
        }
        return findings.toList();
    }

    private static String describe(String namespace, IdRange r, String annotation) {
        return "the ID range " + r + " of namespace " + namespace + " (" + annotation + ": " + r.startSize() + ")";
    }
}
