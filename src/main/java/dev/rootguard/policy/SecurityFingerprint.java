package dev.rootguard.policy;

import io.fabric8.kubernetes.api.model.PodOS;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.List;

/**
 * The parts of a pod spec that any rule reads: pod securityContext, OS, hostUsers, and each
 * container's list, name, image and securityContext. Two pod specs with equal fingerprints get
 * the same decision.
 */
record SecurityFingerprint(PodSecurityContext pod, PodOS os, Boolean hostUsers, List<ContainerPart> containers) {

    record ContainerPart(ContainerView.Type type, String name, String image, SecurityContext securityContext) {}

    static SecurityFingerprint of(PodSpecView view) {
        return new SecurityFingerprint(
                view.podSecurityContext(),
                view.spec().getOs(),
                view.spec().getHostUsers(),
                view.containers().stream()
                        .map(c -> new ContainerPart(c.type(), c.name(), c.image(), c.securityContext()))
                        .toList());
    }
}
