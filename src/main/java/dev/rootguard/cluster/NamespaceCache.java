package dev.rootguard.cluster;

import dev.rootguard.config.RootguardConfig;
import dev.rootguard.policy.NamespacePolicy;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Namespace labels and annotations (modes, mutation, ID ranges), from an informer that lists and
 * watches namespaces. Lookups never call the API server: while the cache is not synced (no cluster
 * reachable, no permission, still starting) every namespace gets the global settings and no ID
 * range, which shows in the log and in the metrics {@code rootguard_namespace_cache_synced} (0/1)
 * and {@code rootguard_namespace_cache_fallbacks_total}. The range allocator reuses the informer.
 */
@ApplicationScoped
public class NamespaceCache {
    private static final Logger LOG = Logger.getLogger(NamespaceCache.class);

    private final Provider<KubernetesClient> client;
    private final boolean enabled;
    private final Counter fallbacks;
    private final AtomicBoolean warned = new AtomicBoolean();
    private final Map<String, String> reported = new ConcurrentHashMap<>();
    /** Each namespace's policy as parsed from its labels and annotations, for the resourceVersion it was parsed at. */
    private final Map<String, Parsed> parsed = new ConcurrentHashMap<>();

    private record Parsed(String resourceVersion, NamespacePolicy policy) {}

    private volatile SharedIndexInformer<Namespace> informer;

    @Inject
    public NamespaceCache(Instance<KubernetesClient> client, RootguardConfig config, MeterRegistry registry) {
        this(client, config.namespaceLabels().enabled(), registry);
    }

    /**
     * @param client   where to get the client from; only called when enabled
     * @param enabled  whether to watch namespaces at all
     * @param registry where to register the cache metrics
     */
    public NamespaceCache(Provider<KubernetesClient> client, boolean enabled, MeterRegistry registry) {
        this.client = client;
        this.enabled = enabled;
        Gauge.builder("rootguard.namespace.cache.synced", this, c -> c.synced() ? 1 : 0)
                .description("1 when namespace labels are read from a synced informer, 0 when the global mode applies")
                .register(registry);
        this.fallbacks = Counter.builder("rootguard.namespace.cache.fallbacks")
                .description("Lookups answered with the global settings because the namespace cache was not synced")
                .register(registry);
    }

    void onStart(@Observes StartupEvent event) {
        start();
    }

    /** Starts watching namespaces; returns at once, the cache syncs in the background. */
    public void start() {
        if (!enabled) {
            LOG.info(
                    "namespace labels are not read (rootguard.namespace-labels.enabled=false); the global mode applies everywhere");
            return;
        }
        try {
            SharedIndexInformer<Namespace> inf = client.get().namespaces().runnableInformer(0);
            // Keep retrying after failures: a cluster that is unreachable now may come back.
            inf.exceptionHandler((started, t) -> {
                if (warned.compareAndSet(false, true)) {
                    LOG.warnf(
                            "cannot list/watch namespaces (%s); using the global mode until it works", t.getMessage());
                }
                return true;
            });
            inf.start().whenComplete((v, t) -> {
                if (t == null) {
                    warned.set(false);
                    LOG.info("namespace cache synced; namespace labels rootguard.dev/mode and rootguard.dev/mutate and"
                            + " annotations rootguard.dev/uid-range and rootguard.dev/supplemental-groups apply");
                } else if (warned.compareAndSet(false, true)) {
                    LOG.warnf(
                            "cannot list/watch namespaces (%s); using the global mode until it works", t.getMessage());
                }
            });
            informer = inf;
            String server = client.get().getConfiguration().getMasterUrl();
            // The client retries quietly for minutes before the informer reports a failure; say it sooner.
            CompletableFuture.delayedExecutor(10, TimeUnit.SECONDS).execute(() -> {
                if (!synced() && warned.compareAndSet(false, true)) {
                    LOG.warnf(
                            "namespace cache not synced after 10s (API server %s); the global mode applies until it is",
                            server);
                }
            });
        } catch (RuntimeException e) {
            LOG.warnf("cannot start the namespace informer (%s); the global mode applies everywhere", e.getMessage());
        }
    }

    /** True when lookups come from a synced cache. */
    public boolean synced() {
        SharedIndexInformer<Namespace> inf = informer;
        return inf != null && inf.hasSynced() && inf.isWatching();
    }

    /**
     * What the namespace's labels and annotations say; {@link NamespacePolicy#NONE} when the cache
     * cannot tell. A namespace missing from a synced cache (created a moment ago, not seen yet) is
     * known to have no labels and no range.
     */
    public NamespacePolicy policyFor(String namespace) {
        if (!enabled || namespace == null || namespace.isEmpty()) {
            return NamespacePolicy.UNKNOWN;
        }
        SharedIndexInformer<Namespace> inf = informer;
        if (inf == null || !inf.hasSynced()) {
            fallbacks.increment();
            return NamespacePolicy.UNKNOWN;
        }
        Namespace ns = inf.getStore().getByKey(namespace);
        if (ns == null || ns.getMetadata() == null) {
            return NamespacePolicy.fromMetadata(null, null);
        }
        // Parsed once per version of the namespace, not once per request.
        String version = ns.getMetadata().getResourceVersion();
        Parsed known = parsed.get(namespace);
        if (known != null && version != null && version.equals(known.resourceVersion())) {
            return known.policy();
        }
        NamespacePolicy p = NamespacePolicy.fromMetadata(
                ns.getMetadata().getLabels(), ns.getMetadata().getAnnotations());
        if (!p.problems().isEmpty()) {
            // Once per namespace and problem, not once per request.
            String problem = String.join("; ", p.problems());
            if (!problem.equals(reported.put(namespace, problem))) {
                LOG.warnf("namespace %s: %s", namespace, problem);
            }
        }
        if (version != null) {
            parsed.put(namespace, new Parsed(version, p));
            if (parsed.size() > 2 * inf.getStore().list().size() + 64) {
                // Forget deleted namespaces.
                parsed.keySet().removeIf(name -> inf.getStore().getByKey(name) == null);
            }
        }
        return p;
    }

    /** Every cached namespace; empty while the cache is not synced. */
    public List<Namespace> namespaces() {
        SharedIndexInformer<Namespace> inf = informer;
        return inf == null || !inf.hasSynced() ? List.of() : inf.getStore().list();
    }

    /**
     * Tells a handler about every namespace now cached and every later change, until
     * {@link #removeHandler}. Returns false when the cache is not running (disabled or failed to start).
     */
    public boolean addHandler(ResourceEventHandler<Namespace> handler) {
        SharedIndexInformer<Namespace> inf = informer;
        if (inf == null) {
            return false;
        }
        inf.addEventHandler(handler);
        return true;
    }

    /** Stops telling a handler about namespaces. */
    public void removeHandler(ResourceEventHandler<Namespace> handler) {
        SharedIndexInformer<Namespace> inf = informer;
        if (inf != null) {
            inf.removeEventHandler(handler);
        }
    }

    /** Stops watching. */
    @PreDestroy
    public void stop() {
        SharedIndexInformer<Namespace> inf = informer;
        if (inf != null) {
            inf.close();
        }
    }
}
