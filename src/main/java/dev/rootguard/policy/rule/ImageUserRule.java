package dev.rootguard.policy.rule;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.ImageInfo;
import dev.rootguard.policy.ImageUser;
import dev.rootguard.policy.NamespaceRanges;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.Violation;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * {@code image-user}: a container that relies on {@code runAsNonRoot: true} must not have an image
 * whose user makes the kubelet refuse to start it.
 *
 * <p>Checked: containers with an effective {@code runAsNonRoot: true} and no effective
 * {@code runAsUser}, whose image was looked up in its registry ({@code rootguard.images.*}). The
 * kubelet refuses to start such a container when the image's {@code USER} is root (unset, {@code 0},
 * {@code 0:0}) with {@code CreateContainerConfigError: container has runAsNonRoot and image will run
 * as root}, and when it is a name ({@code redis}, {@code root}) with {@code image has non-numeric user
 * (redis), cannot verify user is non-root}; either way {@code kubectl apply} said OK first. For an
 * index (multi-platform image) every platform the pod may run on counts: the node's, when
 * {@code nodeSelector} pins {@code kubernetes.io/arch}, else each one looked up.
 *
 * <p>Images not looked up are not checked here. When a lookup fails or runs out of its budget, the
 * rule warns (never more), naming the image and the reason, and the other rules decide as without lookups.
 *
 * <p>Mutation ({@code rootguard.defaults.run-as-user-from-image}, off by default): where a container
 * has no effective {@code runAsUser} and its image's user is a numeric non-root UID on every platform,
 * sets the container's {@code runAsUser} to it (and {@code runAsGroup} to the image's numeric group,
 * when it names one and none is set), before {@code run-as-root} fills the global default, so the
 * image keeps the file ownership it was built with. Not in namespaces with a uid range: the range wins.
 */
public final class ImageUserRule implements Rule<ImageUserRule.Settings> {
    public static final String ID = "image-user";
    static final String FROM_IMAGE = "rootguard.defaults.run-as-user-from-image";

    /**
     * Settings of {@code image-user}.
     *
     * @param fillFromImage mutation sets a container's {@code runAsUser} to its image's numeric user
     */
    public record Settings(boolean fillFromImage) {}

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "with runAsNonRoot: true and no runAsUser, the image's USER (looked up in its registry) must be a"
                + " non-zero UID, or the kubelet refuses to start the container";
    }

    @Override
    public List<SettingKey> keys() {
        return List.of(new SettingKey(
                FROM_IMAGE,
                "false",
                "Mutation sets a container's runAsUser (and runAsGroup) to its image's numeric non-root USER,"
                        + " when lookups are on and the namespace has no uid range."));
    }

    @Override
    public Settings defaults() {
        return new Settings(false);
    }

    @Override
    public Settings settings(SettingsSource source) {
        return new Settings(source.bool(FROM_IMAGE));
    }

    /**
     * The images worth a registry lookup for this pod spec: those of Linux containers with no
     * effective {@code runAsUser} and not exempt from the rule using the answer. For validation that is
     * this rule (effective {@code runAsNonRoot: true}) or {@code run-as-root}'s message (otherwise);
     * for mutation, only when {@code run-as-user-from-image} is on and the namespace has no uid range.
     */
    public static Set<String> imagesToLookUp(
            PodSpecView pod,
            PolicyConfig.RuleSettings settings,
            PolicyConfig.RuleSettings runAsRoot,
            NamespaceRanges ranges,
            boolean forMutation) {
        if (pod.isWindows()) {
            return Set.of();
        }
        boolean checks = settings.action() != Action.OFF;
        if (forMutation
                && !(((Settings) settings.settings()).fillFromImage()
                        && ranges.uids().isEmpty())) {
            return Set.of();
        }
        Set<String> out = new LinkedHashSet<>();
        for (ContainerView c : pod.containers()) {
            if (c.image() == null || c.image().isBlank() || pod.runAsUser(c).isSet()) {
                continue;
            }
            boolean exempt = settings.exempts(c.image());
            if (forMutation) {
                if (!exempt) {
                    out.add(c.image());
                }
            } else if (Boolean.TRUE.equals(pod.runAsNonRoot(c).value())
                    ? checks && !exempt
                    : runAsRoot.action() != Action.OFF && !runAsRoot.exempts(c.image())) {
                out.add(c.image());
            }
        }
        return out;
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, Settings settings, Scope scope) {
        List<Violation> out = new ArrayList<>();
        for (ContainerView c : containers) {
            if (pod.runAsUser(c).isSet()
                    || !Boolean.TRUE.equals(pod.runAsNonRoot(c).value())) {
                continue;
            }
            Optional<ImageInfo> info = scope.images().get(c.image());
            if (info.isEmpty()) {
                continue;
            }
            if (info.get().isFailed()) {
                out.add(Violation.capped(
                        ID,
                        c.path() + ".image",
                        "could not look up the user of image " + c.image() + " ("
                                + info.get().failure().get()
                                + "); if it is root the kubelet will refuse to start container \"" + c.name()
                                + "\", so set runAsUser to make it certain",
                        Action.WARN));
                continue;
            }
            List<ImageUser> users = info.get().on(pod.nodeArch());
            boolean several = users.size() > 1;
            for (ImageUser u : users) {
                String where = "image " + c.image() + (several ? " on " + u.platform() : "") + " (" + u.digest() + ")";
                String suggestion = " such as " + scope.ids().runAsUser();
                if (u.kind() == ImageUser.Kind.ROOT) {
                    out.add(Violation.of(
                            ID,
                            c.field("runAsUser"),
                            where + " " + u.describe() + "; the kubelet will refuse to start container \""
                                    + c.name() + "\" (CreateContainerConfigError: container has runAsNonRoot and"
                                    + " image will run as root); set runAsUser to a non-zero UID" + suggestion
                                    + " that the image's files allow"));
                } else if (u.kind() == ImageUser.Kind.NAME) {
                    out.add(Violation.of(
                            ID,
                            c.field("runAsUser"),
                            where + " " + u.describe() + ", a name; the kubelet will refuse to start"
                                    + " container \"" + c.name() + "\" (CreateContainerConfigError: image has"
                                    + " non-numeric user (" + userName(u) + "), cannot verify user is non-root);"
                                    + " set runAsUser to the UID of " + userName(u)
                                    + " in the image's /etc/passwd"));
                }
            }
        }
        return out;
    }

    @Override
    public boolean fix(
            PodSpecView pod,
            List<ContainerView> containers,
            Predicate<ContainerView> exempt,
            Settings settings,
            Scope scope) {
        if (!settings.fillFromImage()
                || pod.isWindows()
                || scope.ranges().uids().isPresent()) {
            return false;
        }
        boolean changed = false;
        for (ContainerView c : containers) {
            if (exempt.test(c) || pod.runAsUser(c).isSet()) {
                continue;
            }
            Optional<ImageUser> user = scope.images()
                    .get(c.image())
                    .filter(i -> !i.isFailed())
                    .flatMap(i -> i.agreed(pod.nodeArch()))
                    .filter(u -> u.kind() == ImageUser.Kind.NON_ROOT);
            if (user.isEmpty()) {
                continue;
            }
            c.securityContextForWrite().setRunAsUser(user.get().uid().orElseThrow());
            if (user.get().gid().isPresent() && !pod.runAsGroup(c).isSet()) {
                c.securityContextForWrite().setRunAsGroup(user.get().gid().get());
            }
            changed = true;
        }
        return changed;
    }

    /**
     * What the registry said of the images of containers that leave their user to the image, for
     * {@code run-as-root}'s messages: e.g. " (image redis:7 has no USER, so it runs as root)"; "" when
     * nothing was looked up.
     */
    static String imagesSay(PodSpecView pod, List<ContainerView> containers, Scope scope) {
        List<String> said = new ArrayList<>();
        for (ContainerView c : containers) {
            scope.images().get(c.image()).filter(i -> !i.isFailed()).ifPresent(i -> {
                List<ImageUser> users = i.on(pod.nodeArch());
                for (ImageUser u : users) {
                    String text = "image " + c.image() + (users.size() > 1 ? " on " + u.platform() : "") + " "
                            + u.describe().replace("so it runs", "so it would run");
                    if (!said.contains(text)) {
                        said.add(text);
                    }
                }
            });
        }
        return said.isEmpty() ? "" : " (" + String.join("; ", said) + ")";
    }

    private static String userName(ImageUser u) {
        int colon = u.user().indexOf(':');
        return colon < 0 ? u.user() : u.user().substring(0, colon);
    }
}
