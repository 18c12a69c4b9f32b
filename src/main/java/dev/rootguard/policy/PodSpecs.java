package dev.rootguard.policy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import java.util.Optional;

/**
 * Reduces every supported workload kind to the one pod spec it creates pods from, by what
 * {@link WorkloadKind} says about where each kind keeps its pod template.
 */
public final class PodSpecs {

    private PodSpecs() {}

    /** The model class for an API group and kind, or empty if the kind carries no pod spec we handle. */
    public static Optional<Class<? extends HasMetadata>> modelClass(String group, String kind) {
        return WorkloadKind.of(group, kind).map(WorkloadKind::modelClass);
    }

    /** The model class for an {@code apiVersion} ({@code v1}, {@code apps/v1}, ...) and kind. */
    public static Optional<Class<? extends HasMetadata>> modelClassForApiVersion(String apiVersion, String kind) {
        return WorkloadKind.forApiVersion(apiVersion, kind).map(WorkloadKind::modelClass);
    }

    /** The pod spec of an object, or empty when the object has none (or its template is missing). */
    public static Optional<PodSpecView> extract(HasMetadata object) {
        Optional<WorkloadKind> kind = WorkloadKind.of(object);
        if (kind.isEmpty()) {
            return Optional.empty();
        }
        if (object instanceof Pod p) {
            return p.getSpec() == null
                    ? Optional.empty()
                    : Optional.of(new PodSpecView(
                            p.getSpec(), p.getMetadata(), kind.get().podSpecPath()));
        }
        PodTemplateSpec t = kind.get().template(object);
        if (t == null || t.getSpec() == null) {
            return Optional.empty();
        }
        return Optional.of(
                new PodSpecView(t.getSpec(), t.getMetadata(), kind.get().podSpecPath()));
    }
}
