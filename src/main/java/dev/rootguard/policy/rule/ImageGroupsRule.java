package dev.rootguard.policy.rule;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.Violation;

import io.fabric8.kubernetes.api.model.PodSecurityContext;
import java.util.List;

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
 */
public final class ImageGroupsRule implements Rule {
    public static final String ID = "image-groups";

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
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, PolicyConfig config, Engine.Context ctx) {
        if (containers.size() < pod.containers().size()) {
            return List.of();
        }
        PodSecurityContext psc = pod.podSecurityContext();
        String policy = psc == null ? null : psc.getSupplementalGroupsPolicy();
        if ("Strict".equals(policy)) {
            return List.of();
        }
        String what = policy == null ? "supplementalGroupsPolicy is not set" : "supplementalGroupsPolicy: " + policy;
        return List.of(Violation.of(ID, pod.podField("supplementalGroupsPolicy"), what
                + ", so the groups the image's /etc/group gives the container's user (GID 0 included) are added to every"
                + " container; set " + pod.podField("supplementalGroupsPolicy") + ": Strict"));
    }
}
