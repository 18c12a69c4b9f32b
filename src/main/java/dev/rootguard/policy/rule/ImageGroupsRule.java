package dev.rootguard.policy.rule;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.Violation;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import java.util.List;
import java.util.function.Predicate;

/**
 * {@code image-groups}: the image must not decide a container's groups.
 *
 * <p>Restricted field: {@code spec.securityContext.supplementalGroupsPolicy}.
 *
 * <p>Allowed: {@code Strict}. Under the default, {@code Merge}, the runtime adds every group the
 * image's {@code /etc/group} lists for the container's user, so an image can put its process in
 * GID 0 or in another tenant's group although {@code root-group} and {@code id-range} accept every
 * ID the pod names. Default action {@code warn}: API servers that do not know the field (before
 * Kubernetes 1.31, or with the {@code SupplementalGroupsPolicy} feature gate off) drop it before
 * validating webhooks see the object, so enforcing would refuse every pod there.
 *
 * <p>The policy is pod-wide, so a container whose image is exempt from this rule exempts its pod:
 * that image needs its groups, and {@code Strict} would take them from every container. Windows
 * pods are not checked (the API server forbids the field on them).
 *
 * <p>Mutation fills in {@code supplementalGroupsPolicy: Strict} ({@code rootguard.defaults.strict-supplemental-groups}),
 * unless a container's image is exempt from this rule.
 */
public final class ImageGroupsRule implements Rule<ImageGroupsRule.Settings> {
    public static final String ID = "image-groups";
    static final String STRICT = "rootguard.defaults.strict-supplemental-groups";

    /**
     * Settings of {@code image-groups}.
     *
     * @param fillStrict mutation sets pod {@code supplementalGroupsPolicy: Strict}
     */
    public record Settings(boolean fillStrict) {}

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "supplementalGroupsPolicy should be Strict, so the image's /etc/group cannot add groups such as GID 0";
    }

    @Override
    public Action defaultAction() {
        return Action.WARN;
    }

    @Override
    public List<SettingKey> keys() {
        return List.of(new SettingKey(
                STRICT,
                "true",
                "Mutation sets pod supplementalGroupsPolicy: Strict, so the image's"
                        + " /etc/group adds no groups; nodes need containerd 2.0 or CRI-O 1.31 or later."));
    }

    @Override
    public Settings defaults() {
        return new Settings(true);
    }

    @Override
    public Settings settings(SettingsSource source) {
        return new Settings(source.bool(STRICT));
    }

    @Override
    public boolean fix(
            PodSpecView pod,
            List<ContainerView> containers,
            Predicate<ContainerView> exempt,
            Settings settings,
            Scope scope) {
        PodSecurityContext existing = pod.podSecurityContext();
        if (settings.fillStrict()
                && (existing == null || existing.getSupplementalGroupsPolicy() == null)
                && containers.stream().noneMatch(exempt)) {
            pod.podSecurityContextForWrite().setSupplementalGroupsPolicy("Strict");
            return true;
        }
        return false;
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, Settings settings, Scope scope) {
        if (containers.size() < pod.containers().size()) {
            return List.of();
        }
        PodSecurityContext psc = pod.podSecurityContext();
        String policy = psc == null ? null : psc.getSupplementalGroupsPolicy();
        if ("Strict".equals(policy)) {
            return List.of();
        }
        String what = policy == null ? "supplementalGroupsPolicy is not set" : "supplementalGroupsPolicy: " + policy;
        return List.of(Violation.of(
                ID,
                pod.podField("supplementalGroupsPolicy"),
                what
                        + ", so the groups the image's /etc/group gives the container's user (GID 0 included) are added to every"
                        + " container; set " + pod.podField("supplementalGroupsPolicy") + ": Strict"));
    }
}
