package dev.rootguard.server;

import dev.rootguard.cluster.NamespaceCache;
import dev.rootguard.config.PolicyHolder;
import dev.rootguard.config.RootguardConfig;
import dev.rootguard.tls.CertificateReloader;
import io.quarkus.tls.TlsConfiguration;
import io.quarkus.tls.TlsConfigurationRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.lang.management.ManagementFactory;
import java.util.Optional;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once the serving certificate and the policy are loaded. The namespace cache is reported
 * but does not make the webhook unready for long: without it the global mode applies. With the
 * range allocator on, a new replica waits up to {@link #CACHE_WAIT_MS} for the cache's first list,
 * so that it does not mutate pods with the global default IDs in namespaces that have their own
 * range; after that it becomes ready anyway (a cache that cannot list must not keep the webhook,
 * and with it the cluster, down).
 */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements HealthCheck {
    static final long CACHE_WAIT_MS = 30_000;

    @Inject
    TlsConfigurationRegistry tls;

    @Inject
    PolicyHolder policy;

    @Inject
    NamespaceCache namespaces;

    @Inject
    RootguardConfig config;

    @Override
    public HealthCheckResponse call() {
        Optional<TlsConfiguration> conf = tls.get(CertificateReloader.TLS_NAME);
        boolean tlsLoaded = conf.isPresent() && conf.get().getKeyStore() != null;
        boolean policyLoaded = policy.policy() != null;
        HealthCheckResponseBuilder b = HealthCheckResponse.named("rootguard")
                .withData("tls", tlsLoaded)
                .withData("policy", policyLoaded)
                .withData("mode", policyLoaded ? policy.policy().mode().id() : "unknown")
                .withData("namespaceCacheSynced", namespaces.synced());
        boolean waitForRanges = config.allocator().enabled()
                && config.namespaceLabels().enabled()
                && !namespaces.synced()
                && ManagementFactory.getRuntimeMXBean().getUptime() < CACHE_WAIT_MS;
        if (waitForRanges) {
            b.withData("waiting", "namespace ID ranges (first namespace list)");
        }
        return (tlsLoaded && policyLoaded && !waitForRanges ? b.up() : b.down()).build();
    }
}
