package dev.rootguard.allocator;

import dev.rootguard.cluster.NamespaceCache;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Runs the {@link RangeAllocator} on exactly one replica: the holder of the coordination.k8s.io
 * Lease {@value #LEASE}. The leader hears of every namespace through the {@link NamespaceCache}'s
 * informer and gives each one that needs it a range, one namespace at a time; every
 * {@code sweep} it looks at all namespaces again, so failures (API errors, an exhausted block that
 * was since extended) are retried. Losing the lease stops the work; the elector then competes for
 * the lease again. Leadership only avoids duplicate work: the allocator's optimistic-concurrency
 * record keeps ranges unique even when two replicas briefly both lead.
 *
 * <p>Metrics: {@code rootguard_allocator_leader} (1 on the leader), {@code rootguard_allocator_assigned_total},
 * {@code rootguard_allocator_failures_total}.
 */
public final class LeaderAllocator implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LeaderAllocator.class);
    /** The Lease in the webhook's namespace whose holder allocates. */
    public static final String LEASE = "rootguard-allocator";

    /**
     * Leader election timing.
     *
     * @param leaseDuration how long a lease is valid without renewal (others wait this long after a crash)
     * @param renewDeadline how long the leader keeps trying to renew before it gives up leading
     * @param retryPeriod   how often candidates try to acquire and the leader renews
     * @param sweep         how often the leader looks at every namespace again
     */
    public record Timing(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod, Duration sweep) {
        /** The Kubernetes controllers' defaults: 15 s, 10 s, 2 s; and a sweep every 30 s. */
        public static final Timing STANDARD = new Timing(
                Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofSeconds(30));
    }

    private final KubernetesClient client;
    private final NamespaceCache namespaces;
    private final RangeAllocator allocator;
    private final String leaseNamespace;
    private final String identity;
    private final Timing timing;
    private final Counter assigned;
    private final Counter failures;
    private final ScheduledExecutorService worker;
    private final Set<String> queued = ConcurrentHashMap.newKeySet();
    private final ResourceEventHandler<Namespace> handler = new ResourceEventHandler<>() {
        @Override
        public void onAdd(Namespace ns) {
            offer(ns);
        }

        @Override
        public void onUpdate(Namespace oldNs, Namespace ns) {
            offer(ns);
        }

        @Override
        public void onDelete(Namespace ns, boolean deletedFinalStateUnknown) {}
    };

    private volatile boolean leading;
    private volatile boolean closed;
    private boolean handlerAdded;
    private ScheduledFuture<?> sweep;
    private CompletableFuture<?> election;
    private String lastFailure;

    /**
     * @param client         the API client (for the Lease and the allocator)
     * @param namespaces     the namespace cache, whose informer tells the leader about namespaces
     * @param allocator      what assigns one namespace its range
     * @param leaseNamespace where the Lease lives (the webhook's namespace)
     * @param identity       this replica's name in the Lease, unique among replicas
     * @param timing         leader election timing
     * @param registry       where to register the metrics
     */
    public LeaderAllocator(
            KubernetesClient client,
            NamespaceCache namespaces,
            RangeAllocator allocator,
            String leaseNamespace,
            String identity,
            Timing timing,
            MeterRegistry registry) {
        this.client = client;
        this.namespaces = namespaces;
        this.allocator = allocator;
        this.leaseNamespace = leaseNamespace;
        this.identity = identity;
        this.timing = timing;
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rootguard-allocator");
            t.setDaemon(true);
            return t;
        });
        Gauge.builder("rootguard.allocator.leader", this, a -> a.leading ? 1 : 0)
                .description("1 while this replica holds the allocator Lease and assigns namespace ID ranges")
                .register(registry);
        this.assigned = Counter.builder("rootguard.allocator.assigned")
                .description("Namespace ID ranges assigned by this replica")
                .register(registry);
        this.failures = Counter.builder("rootguard.allocator.failures")
                .description(
                        "Namespaces this replica could not give a range (API errors, exhausted block); retried every sweep")
                .register(registry);
    }

    /** Starts competing for the Lease; returns at once. */
    public synchronized void start() {
        if (closed || election != null) {
            return;
        }
        elect();
    }

    /** True while this replica holds the Lease. */
    public boolean leading() {
        return leading;
    }

    private synchronized void elect() {
        if (closed) {
            return;
        }
        election = client.leaderElector()
                .withConfig(new LeaderElectionConfigBuilder()
                        .withName(LEASE)
                        .withLock(new LeaseLock(leaseNamespace, LEASE, identity))
                        .withLeaseDuration(timing.leaseDuration())
                        .withRenewDeadline(timing.renewDeadline())
                        .withRetryPeriod(timing.retryPeriod())
                        .withReleaseOnCancel(true)
                        .withLeaderCallbacks(new LeaderCallbacks(
                                this::startLeading,
                                this::stopLeading,
                                leader -> LOG.debugf(
                                        "allocator lease %s/%s is held by %s", leaseNamespace, LEASE, leader)))
                        .build())
                .build()
                .start();
        // An elector that lost the lease is done; compete again unless we are closing.
        election.whenComplete((v, t) -> {
            stopLeading();
            if (!closed) {
                worker.schedule(this::electSafely, timing.retryPeriod().toMillis(), TimeUnit.MILLISECONDS);
            }
        });
    }

    /** elect() from the worker: a failure to start an election is logged and retried, never lost. */
    private void electSafely() {
        try {
            elect();
        } catch (RuntimeException e) {
            LOG.warnf(
                    "cannot compete for the allocator lease %s/%s (%s); trying again",
                    leaseNamespace, LEASE, e.getMessage());
            if (!closed) {
                worker.schedule(this::electSafely, timing.retryPeriod().toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    private synchronized void startLeading() {
        if (leading || closed) {
            return;
        }
        leading = true;
        LOG.infof("%s leads the range allocator (lease %s/%s)", identity, leaseNamespace, LEASE);
        sweep = worker.scheduleWithFixedDelay(this::sweep, 0, timing.sweep().toMillis(), TimeUnit.MILLISECONDS);
    }

    private synchronized void stopLeading() {
        if (!leading) {
            return;
        }
        leading = false;
        LOG.infof("%s no longer leads the range allocator", identity);
        if (sweep != null) {
            sweep.cancel(false);
        }
        if (handlerAdded) {
            namespaces.removeHandler(handler);
            handlerAdded = false;
        }
        queued.clear();
    }

    /** Subscribes to namespace events (once the cache runs) and queues every namespace that needs a range. */
    private void sweep() {
        synchronized (this) {
            if (!leading) {
                return;
            }
            if (!handlerAdded) {
                handlerAdded = namespaces.addHandler(handler);
                if (!handlerAdded) {
                    LOG.warn("the namespace cache is not running, so no ranges are assigned until it is");
                }
            }
        }
        namespaces.namespaces().forEach(this::offer);
    }

    private void offer(Namespace ns) {
        if (!leading || closed || !allocator.needsRange(ns)) {
            return;
        }
        String name = ns.getMetadata().getName();
        if (queued.add(name)) {
            try {
                worker.execute(() -> {
                    queued.remove(name);
                    if (leading) {
                        allocate(name);
                    }
                });
            } catch (RejectedExecutionException e) {
                queued.remove(name);
            }
        }
    }

    private void allocate(String name) {
        if (!namespaces.synced()) {
            // Until the first list completes the cache knows no ranges, and one could be handed out twice:
            // try again shortly.
            if (queued.add(name)) {
                try {
                    worker.schedule(
                            () -> {
                                queued.remove(name);
                                if (leading) {
                                    allocate(name);
                                }
                            },
                            200,
                            TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException e) {
                    queued.remove(name);
                }
            }
            return;
        }
        try {
            RangeAllocator.Result r = allocator.ensureRange(name);
            switch (r.outcome()) {
                case ASSIGNED -> {
                    assigned.increment();
                    lastFailure = null;
                    LOG.infof(
                            "namespace %s: assigned UID range %s",
                            name, r.range().orElseThrow().startSize());
                }
                case UNREADABLE ->
                    LOG.warnf(
                            "namespace %s: annotation rootguard.dev/uid-range is unreadable and is left as it is;"
                                    + " fix it or remove it so that a range is assigned",
                            name);
                default -> {}
            }
        } catch (RuntimeException e) { // exhausted block, API errors, unreadable record: retried every sweep
            failures.increment();
            // Once per distinct problem, not once per namespace and sweep.
            String message = e.getMessage();
            if (!Objects.equals(message, lastFailure)) {
                lastFailure = message;
                LOG.errorf(
                        "cannot assign namespace %s a UID range (retried every %ss): %s",
                        name, timing.sweep().toSeconds(), message);
            }
        }
    }

    /** Stops competing, releases the Lease if held, and stops assigning. */
    @Override
    public void close() {
        CompletableFuture<?> e;
        synchronized (this) {
            closed = true;
            e = election;
        }
        if (e != null) {
            e.cancel(true);
        }
        stopLeading();
        worker.shutdownNow();
        try {
            worker.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }
}
