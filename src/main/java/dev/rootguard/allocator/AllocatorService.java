package dev.rootguard.allocator;

import dev.rootguard.cluster.NamespaceCache;
import dev.rootguard.config.PolicyConfigs;
import dev.rootguard.config.PolicyHolder;
import dev.rootguard.config.RootguardConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.util.UUID;
import org.jboss.logging.Logger;

/** Runs the {@link LeaderAllocator} when {@code rootguard.allocator.enabled} is set. */
@ApplicationScoped
public class AllocatorService {
    private static final Logger LOG = Logger.getLogger(AllocatorService.class);

    @Inject
    Instance<KubernetesClient> client;

    @Inject
    PolicyHolder policy;

    @Inject
    NamespaceCache namespaces;

    @Inject
    MeterRegistry registry;

    @Inject
    RootguardConfig config;

    private LeaderAllocator allocator;

    void start(@Observes StartupEvent event) {
        PolicyConfigs.Allocation a = PolicyConfigs.allocation(config);
        if (!a.enabled()) {
            return;
        }
        try {
            KubernetesClient c = client.get();
            RangeAllocator ranges = new RangeAllocator(
                    c,
                    config.namespace(),
                    new RangeBlock(a.block(), a.rangeSize()),
                    policy.policy().exemptions().namespaces(),
                    namespaces::namespaces);
            allocator = new LeaderAllocator(
                    c, namespaces, ranges, config.namespace(), identity(), LeaderAllocator.Timing.STANDARD, registry);
            allocator.start();
            LOG.infof(
                    "range allocator on: ranges of %d IDs from %s, lease %s/%s",
                    a.rangeSize(), a.block().startSize(), config.namespace(), LeaderAllocator.LEASE);
        } catch (RuntimeException e) {
            LOG.errorf("the range allocator cannot start (%s); namespaces get no new ID ranges", e.getMessage());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (allocator != null) {
            allocator.close();
        }
    }

    /** The pod name (HOSTNAME in Kubernetes) and a random suffix, so that a restarted process is a new candidate. */
    private static String identity() {
        String host = System.getenv("HOSTNAME");
        return (host == null || host.isBlank() ? "rootguard" : host) + "-"
                + UUID.randomUUID().toString().substring(0, 8);
    }
}
