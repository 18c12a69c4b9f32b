package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.IdRange;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.Violation;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * {@code required-ids}: every container must have an explicit UID and GID, and the pod an fsGroup,
 * so that no identity is left to the image.
 *
 * <p>Restricted fields: effective {@code runAsUser} and {@code runAsGroup} of every container
 * (container overrides pod), and {@code spec.securityContext.fsGroup}.
 *
 * <p>Allowed: set, and inside the optional ranges {@code rootguard.rules.required-ids.run-as-user-range},
 * {@code run-as-group-range} and {@code fs-group-range}.
 *
 * <p>Mutation fills in pod {@code fsGroup} ({@code rootguard.defaults.fs-group}, or the namespace's
 * range start); {@code runAsUser} and {@code runAsGroup} are filled by {@code run-as-root} and
 * {@code root-group}, whose image exemptions they follow.
 */
public final class RequiredIdsRule implements Rule<RequiredIdsRule.Settings> {
    public static final String ID = "required-ids";
    static final String USER_RANGE = "rootguard.rules.required-ids.run-as-user-range";
    static final String GROUP_RANGE = "rootguard.rules.required-ids.run-as-group-range";
    static final String FS_RANGE = "rootguard.rules.required-ids.fs-group-range";

    /**
     * Settings of {@code required-ids}.
     *
     * @param runAsUserRange  optional allowed range for runAsUser
     * @param runAsGroupRange optional allowed range for runAsGroup
     * @param fsGroupRange    optional allowed range for fsGroup
     */
    public record Settings(
            Optional<IdRange> runAsUserRange, Optional<IdRange> runAsGroupRange, Optional<IdRange> fsGroupRange) {}

    @Override
    public List<SettingKey> keys() {
        return List.of(
                new SettingKey(USER_RANGE, "", "Allowed runAsUser values, min-max; unset allows any."),
                new SettingKey(GROUP_RANGE, "", "Allowed runAsGroup values, min-max; unset allows any."),
                new SettingKey(FS_RANGE, "", "Allowed fsGroup values, min-max; unset allows any."),
                new SettingKey(
                        Scope.Ids.FS_GROUP, "10000", "Mutation sets pod fsGroup (shared: other rules suggest it)."));
    }

    @Override
    public Settings defaults() {
        return new Settings(Optional.empty(), Optional.empty(), Optional.empty());
    }

    /**
     * Reads the ranges and checks them against the default IDs and, with the allocator on, its block.
     */
    @Override
    public Settings settings(SettingsSource source) {
        Optional<IdRange> uid = range(USER_RANGE, source.string(USER_RANGE));
        Optional<IdRange> gid = range(GROUP_RANGE, source.string(GROUP_RANGE));
        Optional<IdRange> fs = range(FS_RANGE, source.string(FS_RANGE));
        Scope.Ids ids = Scope.Ids.from(source);
        inside(Scope.Ids.RUN_AS_USER, ids.runAsUser(), USER_RANGE, uid);
        inside(Scope.Ids.RUN_AS_GROUP, ids.runAsGroup(), GROUP_RANGE, gid);
        inside(Scope.Ids.FS_GROUP, ids.fsGroup(), FS_RANGE, fs);
        if (source.allocatorBlock().isPresent()) {
            IdRange block = source.allocatorBlock().get();
            within(block, USER_RANGE, uid);
            within(block, GROUP_RANGE, gid);
            within(block, FS_RANGE, fs);
        }
        return new Settings(uid, gid, fs);
    }

    private static Optional<IdRange> range(String key, Optional<String> value) {
        try {
            return value.filter(v -> !v.isBlank()).map(IdRange::parse);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
    }

    /** A default outside its allowed range would make every defaulted pod be denied. */
    private static void inside(String key, long value, String rangeKey, Optional<IdRange> range) {
        if (range.isPresent() && !range.get().contains(value)) {
            throw new IllegalArgumentException(key + ": " + value + " is outside " + rangeKey + " (" + range.get()
                    + "), so every pod it defaults would be denied; choose a default inside the range");
        }
    }

    /** With the allocator on, a range that excludes part of the block would deny pods that use their namespace's range. */
    private static void within(IdRange block, String rangeKey, Optional<IdRange> range) {
        if (range.isPresent() && !range.get().contains(block)) {
            throw new IllegalArgumentException(
                    rangeKey + ": " + range.get() + " does not contain rootguard.allocator.block (" + block
                            + "), so pods using their namespace's range would be denied; widen it or move the block");
        }
    }

    /** fsGroup has no image exemption: it concerns the pod's volumes, not one container. */
    @Override
    public boolean fix(
            PodSpecView pod,
            List<ContainerView> containers,
            Predicate<ContainerView> exempt,
            Settings settings,
            Scope scope) {
        PodSecurityContext existing = pod.podSecurityContext();
        if (existing == null || existing.getFsGroup() == null) {
            pod.podSecurityContextForWrite().setFsGroup(scope.ids().fsGroup());
            return true;
        }
        return false;
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "runAsUser and runAsGroup must be set for every container and fsGroup for the pod, inside the configured ranges";
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, Settings settings, Scope scope) {
        Findings findings = new Findings(ID);
        checkId(
                pod,
                containers,
                findings,
                "runAsUser",
                pod::runAsUser,
                settings.runAsUserRange(),
                scope.ids().runAsUser());
        checkId(
                pod,
                containers,
                findings,
                "runAsGroup",
                pod::runAsGroup,
                settings.runAsGroupRange(),
                scope.ids().runAsGroup());
        Long fsGroup = pod.podSecurityContext() == null
                ? null
                : pod.podSecurityContext().getFsGroup();
        String fsPath = pod.podField("fsGroup");
        if (fsGroup == null) {
            findings.addPod(
                    fsPath,
                    "fsGroup is not set, so volumes keep the group the image or volume gives them; set " + fsPath
                            + " to a GID such as " + scope.ids().fsGroup());
        } else if (settings.fsGroupRange().isPresent()
                && !settings.fsGroupRange().get().contains(fsGroup)) {
            findings.addPod(
                    fsPath,
                    "fsGroup " + fsGroup + " is outside the allowed range "
                            + settings.fsGroupRange().get() + "; choose a GID in that range");
        }
        return findings.toList();
    }

    private static void checkId(
            PodSpecView pod,
            List<ContainerView> containers,
            Findings findings,
            String field,
            Function<ContainerView, PodSpecView.Effective<Long>> effective,
            Optional<IdRange> range,
            long suggestion) {
        List<ContainerView> missing = new ArrayList<>();
        for (ContainerView c : containers) {
            PodSpecView.Effective<Long> id = effective.apply(c);
            if (!id.isSet()) {
                missing.add(c);
            } else if (range.isPresent() && !range.get().contains(id.value())) {
                findings.add(
                        id.path(),
                        c,
                        names -> field + " " + id.value() + " of " + names + " is outside the allowed range "
                                + range.get() + "; choose an ID in that range");
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        String example = range.map(r -> Long.toString(r.contains(suggestion) ? suggestion : r.min()))
                .orElse(Long.toString(suggestion));
        if (missing.size() == containers.size()) {
            findings.addPod(
                    pod.podField(field),
                    field + " is not set for any container (" + Findings.names(names(missing)) + "); set "
                            + pod.podField(field) + " to an ID such as " + example);
        } else {
            for (ContainerView c : missing) {
                findings.add(
                        c.field(field),
                        c,
                        names -> field + " is not set for " + names + " (here or in " + pod.podField(field)
                                + "); set it to an ID such as " + example);
            }
        }
    }

    private static List<String> names(List<ContainerView> cs) {
        return cs.stream().map(ContainerView::name).toList();
    }
}
