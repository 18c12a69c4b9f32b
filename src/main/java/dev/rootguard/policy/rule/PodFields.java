package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.PodSpecView;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Predicate;

/** Filling a pod-level field that containers inherit, shared by the rules that default such fields. */
final class PodFields {

    private PodFields() {}

    /**
     * Sets a pod-level field that containers inherit. When some container is exempt from the
     * field's rule, the value goes on each other container instead, so the exempt one keeps
     * what its image wants.
     */
    static <T> boolean fill(
            PodSpecView pod,
            List<ContainerView> containers,
            Predicate<ContainerView> exempt,
            Function<PodSecurityContext, T> podGet,
            BiConsumer<PodSecurityContext, T> podSet,
            Function<SecurityContext, T> containerGet,
            BiConsumer<SecurityContext, T> containerSet,
            T value) {
        PodSecurityContext psc = pod.podSecurityContext();
        if (psc != null && podGet.apply(psc) != null) {
            return false;
        }
        if (containers.stream().noneMatch(exempt)) {
            podSet.accept(pod.podSecurityContextForWrite(), value);
            return true;
        }
        boolean changed = false;
        for (ContainerView c : containers) {
            SecurityContext sc = c.securityContext();
            if (!exempt.test(c) && (sc == null || containerGet.apply(sc) == null)) {
                containerSet.accept(c.securityContextForWrite(), value);
                changed = true;
            }
        }
        return changed;
    }
}
