package dev.rootguard.policy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplate;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.ReplicationController;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobTemplateSpec;
import java.util.Map;
import java.util.Optional;

/**
 * Reduces every supported workload kind to the one pod spec it creates pods from.
 * This is the only place that knows where each kind keeps its pod template.
 */
public final class PodSpecs {

    /** Supported kinds, by {@code group/kind} (core group is empty), with their model class. */
    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "/Pod", Pod.class,
            "/PodTemplate", PodTemplate.class,
            "/ReplicationController", ReplicationController.class,
            "apps/Deployment", Deployment.class,
            "apps/ReplicaSet", ReplicaSet.class,
            "apps/StatefulSet", StatefulSet.class,
            "apps/DaemonSet", DaemonSet.class,
            "batch/Job", Job.class,
            "batch/CronJob", CronJob.class);

    private PodSpecs() {
    }

    /** The model class for an API group and kind, or empty if the kind carries no pod spec we handle. */
    public static Optional<Class<? extends HasMetadata>> modelClass(String group, String kind) {
        return Optional.ofNullable(KINDS.get((group == null ? "" : group) + "/" + kind));
    }

    /** The model class for an {@code apiVersion} ({@code v1}, {@code apps/v1}, ...) and kind. */
    public static Optional<Class<? extends HasMetadata>> modelClassForApiVersion(String apiVersion, String kind) {
        if (apiVersion == null || kind == null) {
            return Optional.empty();
        }
        int slash = apiVersion.indexOf('/');
        return modelClass(slash < 0 ? "" : apiVersion.substring(0, slash), kind);
    }

    /** The pod spec of an object, or empty when the object has none (or its template is missing). */
    public static Optional<PodSpecView> extract(HasMetadata object) {
        if (object instanceof Pod p) {
            return p.getSpec() == null ? Optional.empty() : Optional.of(new PodSpecView(p.getSpec(), p.getMetadata(), "spec"));
        }
        if (object instanceof PodTemplate t) {
            return template(t.getTemplate(), "template");
        }
        if (object instanceof ReplicationController rc) {
            return rc.getSpec() == null ? Optional.empty() : template(rc.getSpec().getTemplate(), "spec.template");
        }
        if (object instanceof Deployment d) {
            return d.getSpec() == null ? Optional.empty() : template(d.getSpec().getTemplate(), "spec.template");
        }
        if (object instanceof ReplicaSet rs) {
            return rs.getSpec() == null ? Optional.empty() : template(rs.getSpec().getTemplate(), "spec.template");
        }
        if (object instanceof StatefulSet s) {
            return s.getSpec() == null ? Optional.empty() : template(s.getSpec().getTemplate(), "spec.template");
        }
        if (object instanceof DaemonSet ds) {
            return ds.getSpec() == null ? Optional.empty() : template(ds.getSpec().getTemplate(), "spec.template");
        }
        if (object instanceof Job j) {
            return j.getSpec() == null ? Optional.empty() : template(j.getSpec().getTemplate(), "spec.template");
        }
        if (object instanceof CronJob cj) {
            if (cj.getSpec() == null) {
                return Optional.empty();
            }
            JobTemplateSpec jt = cj.getSpec().getJobTemplate();
            if (jt == null || jt.getSpec() == null) {
                return Optional.empty();
            }
            return template(jt.getSpec().getTemplate(), "spec.jobTemplate.spec.template");
        }
        return Optional.empty();
    }

    private static Optional<PodSpecView> template(PodTemplateSpec t, String path) {
        if (t == null || t.getSpec() == null) {
            return Optional.empty();
        }
        return Optional.of(new PodSpecView(t.getSpec(), t.getMetadata(), path + ".spec"));
    }
}
