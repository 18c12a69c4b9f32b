package dev.rootguard.policy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Every workload kind rootguard checks, and the one place that says what each is: its API group, versions,
 * kind, resource, fabric8 model class, where its pod template sits and whether it is a controller.
 * Extraction ({@link PodSpecs}), the decoder, metrics labels, the cluster scanner, the background audit,
 * warm-up and the tests all derive from this table, and a test checks the chart's webhook rules against it.
 *
 * <p>Declared in the order the cluster audit lists them: controllers before what they create, pods last.
 */
public enum WorkloadKind {
    DEPLOYMENT(
            "apps",
            "Deployment",
            "deployments",
            Deployment.class,
            true,
            "spec.template",
            o -> ((Deployment) o).getSpec() == null
                    ? null
                    : ((Deployment) o).getSpec().getTemplate()),
    STATEFUL_SET(
            "apps",
            "StatefulSet",
            "statefulsets",
            StatefulSet.class,
            true,
            "spec.template",
            o -> ((StatefulSet) o).getSpec() == null
                    ? null
                    : ((StatefulSet) o).getSpec().getTemplate()),
    DAEMON_SET(
            "apps",
            "DaemonSet",
            "daemonsets",
            DaemonSet.class,
            true,
            "spec.template",
            o -> ((DaemonSet) o).getSpec() == null
                    ? null
                    : ((DaemonSet) o).getSpec().getTemplate()),
    CRON_JOB("batch", "CronJob", "cronjobs", CronJob.class, true, "spec.jobTemplate.spec.template", o -> {
        CronJob cj = (CronJob) o;
        if (cj.getSpec() == null
                || cj.getSpec().getJobTemplate() == null
                || cj.getSpec().getJobTemplate().getSpec() == null) {
            return null;
        }
        return cj.getSpec().getJobTemplate().getSpec().getTemplate();
    }),
    JOB(
            "batch",
            "Job",
            "jobs",
            Job.class,
            true,
            "spec.template",
            o -> ((Job) o).getSpec() == null ? null : ((Job) o).getSpec().getTemplate()),
    REPLICA_SET(
            "apps",
            "ReplicaSet",
            "replicasets",
            ReplicaSet.class,
            true,
            "spec.template",
            o -> ((ReplicaSet) o).getSpec() == null
                    ? null
                    : ((ReplicaSet) o).getSpec().getTemplate()),
    REPLICATION_CONTROLLER(
            "",
            "ReplicationController",
            "replicationcontrollers",
            ReplicationController.class,
            true,
            "spec.template",
            o -> ((ReplicationController) o).getSpec() == null
                    ? null
                    : ((ReplicationController) o).getSpec().getTemplate()),
    POD_TEMPLATE(
            "",
            "PodTemplate",
            "podtemplates",
            PodTemplate.class,
            false,
            "template",
            o -> ((PodTemplate) o).getTemplate()),
    /** A pod has no template: its own spec and metadata are the pod's ({@link #templatePath} is empty). */
    POD("", "Pod", "pods", Pod.class, false, "", o -> null, "ephemeralcontainers");

    private static final Map<String, WorkloadKind> BY_GROUP_KIND =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(k -> k.group + "/" + k.kind, k -> k));
    private static final Map<Class<?>, WorkloadKind> BY_CLASS =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(k -> k.modelClass, k -> k));

    private final String group;
    private final List<String> versions;
    private final String kind;
    private final String resource;
    private final Class<? extends HasMetadata> modelClass;
    private final boolean controller;
    private final String templatePath;
    private final Function<HasMetadata, PodTemplateSpec> template;
    private final Set<String> subresources;

    WorkloadKind(
            String group,
            String kind,
            String resource,
            Class<? extends HasMetadata> modelClass,
            boolean controller,
            String templatePath,
            Function<HasMetadata, PodTemplateSpec> template,
            String... subresources) {
        this.group = group;
        this.versions = List.of("v1");
        this.kind = kind;
        this.resource = resource;
        this.modelClass = modelClass;
        this.controller = controller;
        this.templatePath = templatePath;
        this.template = template;
        this.subresources = Set.of(subresources);
    }

    /** API group, {@code ""} for the core group. */
    public String group() {
        return group;
    }

    /** API versions handled; the first is the one the model class serializes as. */
    public List<String> versions() {
        return versions;
    }

    /** The {@code apiVersion} of the first version: {@code v1}, {@code apps/v1}, ... */
    public String apiVersion() {
        return group.isEmpty() ? versions.get(0) : group + "/" + versions.get(0);
    }

    public String kind() {
        return kind;
    }

    /** The plural resource name, as in webhook rules and RBAC. */
    public String resource() {
        return resource;
    }

    public Class<? extends HasMetadata> modelClass() {
        return modelClass;
    }

    /** True when the kind creates other objects (its pods or jobs) and owns them as their controller. */
    public boolean controller() {
        return controller;
    }

    /** Where the pod template sits ({@code spec.template}, ...); empty for a Pod, which is its own template. */
    public String templatePath() {
        return templatePath;
    }

    /** Where the pod spec sits: {@code spec} for a Pod, {@code spec.template.spec} for a Deployment, ... */
    public String podSpecPath() {
        return templatePath.isEmpty() ? "spec" : templatePath + ".spec";
    }

    /** Subresources whose requests carry this kind's object and are checked ({@code pods/ephemeralcontainers}). */
    public Set<String> subresources() {
        return subresources;
    }

    /** The pod template of an object of this kind, or null when it has none (a Pod, or a template not set). */
    PodTemplateSpec template(HasMetadata object) {
        return template.apply(object);
    }

    /** The kind of an API group ({@code ""} or null for core) and kind name. */
    public static Optional<WorkloadKind> of(String group, String kind) {
        return Optional.ofNullable(BY_GROUP_KIND.get((group == null ? "" : group) + "/" + kind));
    }

    /** The kind of an {@code apiVersion} ({@code v1}, {@code apps/v1}, ...) and kind name. */
    public static Optional<WorkloadKind> forApiVersion(String apiVersion, String kind) {
        if (apiVersion == null || kind == null) {
            return Optional.empty();
        }
        return of(groupOf(apiVersion), kind);
    }

    /** The kind of a typed object, or empty when its class is not one of the table's. */
    public static Optional<WorkloadKind> of(HasMetadata object) {
        return object == null ? Optional.empty() : Optional.ofNullable(BY_CLASS.get(object.getClass()));
    }

    /** The group of an {@code apiVersion}: {@code ""} for {@code v1} (and for null), {@code apps} for {@code apps/v1}. */
    public static String groupOf(String apiVersion) {
        int slash = apiVersion == null ? -1 : apiVersion.indexOf('/');
        return slash < 0 ? "" : apiVersion.substring(0, slash);
    }

    /** The version of an {@code apiVersion}: {@code v1} for both {@code v1} and {@code apps/v1}. */
    public static String versionOf(String apiVersion) {
        return apiVersion == null ? "" : apiVersion.substring(apiVersion.indexOf('/') + 1);
    }

    /** The owner reference marked {@code controller: true}, if any: the object a controller created. */
    public static Optional<OwnerReference> controllerOf(HasMetadata object) {
        List<OwnerReference> owners =
                object.getMetadata() == null ? null : object.getMetadata().getOwnerReferences();
        if (owners == null) {
            return Optional.empty();
        }
        return owners.stream()
                .filter(o -> Boolean.TRUE.equals(o.getController()))
                .findFirst();
    }

    /**
     * True when the object's controller is a controller kind of this table (by group and kind: a custom
     * resource with the same kind name is not one of them), so it is reported at that owner.
     */
    public static boolean controlledByWorkload(HasMetadata object) {
        // The API server lets at most one owner reference be the controller.
        return controllerOf(object)
                .flatMap(o -> of(groupOf(o.getApiVersion()), o.getKind()))
                .map(WorkloadKind::controller)
                .orElse(false);
    }
}
