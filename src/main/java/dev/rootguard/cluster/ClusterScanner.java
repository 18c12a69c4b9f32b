package dev.rootguard.cluster;

import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.policy.WorkloadKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListOptions;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Lists what runs in a cluster for the audit: every {@link WorkloadKind}, in the table's order, page by page
 * ({@code limit}/{@code continue}), and namespace labels and annotations. An object controlled by another audited
 * object (a pod of a ReplicaSet, a ReplicaSet of a Deployment, a Job of a CronJob) is left out, so
 * each problem is reported once, at the object a person edits. The objects are handed on as the typed
 * model objects the client read.
 */
public final class ClusterScanner {
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
        for (WorkloadKind kind : WorkloadKind.values()) {
            String token = null;
            do {
                ListOptions options = new ListOptionsBuilder()
                        .withLimit(PAGE)
                        .withContinue(token)
                        .build();
                KubernetesResourceList<? extends HasMetadata> page = namespace == null
                        ? client.resources(kind.modelClass()).inAnyNamespace().list(options)
                        : client.resources(kind.modelClass())
                                .inNamespace(namespace)
                                .list(options);
                for (HasMetadata item : page.getItems()) {
                    listed++;
                    if (!WorkloadKind.controlledByWorkload(item)) {
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
            out.put(
                    ns.getMetadata().getName(),
                    NamespacePolicy.fromMetadata(
                            ns.getMetadata().getLabels(), ns.getMetadata().getAnnotations()));
        }
        return out;
    }
}
