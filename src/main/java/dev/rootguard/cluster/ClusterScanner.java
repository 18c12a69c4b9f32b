package dev.rootguard.cluster;

import dev.rootguard.policy.NamespacePolicy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListOptions;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplate;
import io.fabric8.kubernetes.api.model.ReplicationController;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Lists what runs in a cluster for the audit: pods and every workload kind, page by page
 * ({@code limit}/{@code continue}), and namespace labels and annotations. An object controlled by another audited
 * object (a pod of a ReplicaSet, a ReplicaSet of a Deployment, a Job of a CronJob) is left out, so
 * each problem is reported once, at the object a person edits.
 */
public final class ClusterScanner {
    /** Kinds whose pod templates are audited, in listing order. */
    public static final List<Class<? extends HasMetadata>> KINDS = List.of(Deployment.class, StatefulSet.class, DaemonSet.class,
            CronJob.class, Job.class, ReplicaSet.class, ReplicationController.class, PodTemplate.class, Pod.class);
    /** Audited controller kinds, as group/kind: a custom resource with the same kind name is not one of them. */
    private static final Set<String> CONTROLLER_KINDS = Set.of("apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "batch/CronJob",
            "batch/Job", "apps/ReplicaSet", "/ReplicationController");
    private static final long PAGE = 500;

    private final KubernetesClient client;

    public ClusterScanner(KubernetesClient client) {
        this.client = client;
    }

    /**
     * Lists audited objects.
     *
     * @param namespace one namespace, or null for all
     * @param progress  told the running count of objects listed
     */
    public List<HasMetadata> scan(String namespace, IntConsumer progress) {
        List<HasMetadata> out = new ArrayList<>();
        int listed = 0;
        for (Class<? extends HasMetadata> kind : KINDS) {
            String token = null;
            do {
                ListOptions options = new ListOptionsBuilder().withLimit(PAGE).withContinue(token).build();
                KubernetesResourceList<? extends HasMetadata> page = namespace == null
                        ? client.resources(kind).inAnyNamespace().list(options)
                        : client.resources(kind).inNamespace(namespace).list(options);
                for (HasMetadata item : page.getItems()) {
                    listed++;
                    if (!controlledByAuditedObject(item)) {
                        out.add(item);
                    }
                }
                progress.accept(listed);
                token = page.getMetadata() == null ? null : page.getMetadata().getContinue();
            } while (token != null && !token.isEmpty());
        }
        return out;
    }

    /** What each namespace's labels and annotations say (modes, ID ranges), by namespace name. */
    public Map<String, NamespacePolicy> namespacePolicies() {
        Map<String, NamespacePolicy> out = new HashMap<>();
        for (Namespace ns : client.namespaces().list().getItems()) {
            out.put(ns.getMetadata().getName(), NamespacePolicy.fromMetadata(ns.getMetadata().getLabels(), ns.getMetadata().getAnnotations()));
        }
        return out;
    }

    /** True when a controller of an audited kind owns the object, so it is reported at that owner. */
    public static boolean controlledByAuditedObject(HasMetadata item) {
        List<OwnerReference> owners = item.getMetadata() == null ? null : item.getMetadata().getOwnerReferences();
        if (owners == null) {
            return false;
        }
        return owners.stream().anyMatch(o -> Boolean.TRUE.equals(o.getController()) && CONTROLLER_KINDS.contains(group(o.getApiVersion())
                + "/" + o.getKind()));
    }

    private static String group(String apiVersion) {
        int slash = apiVersion == null ? -1 : apiVersion.indexOf('/');
        return slash < 0 ? "" : apiVersion.substring(0, slash);
    }
}
