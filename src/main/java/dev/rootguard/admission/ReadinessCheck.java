package dev.rootguard.admission;

import dev.rootguard.config.PolicyHolder;
import dev.rootguard.cluster.NamespaceCache;
import io.quarkus.tls.TlsConfiguration;
import io.quarkus.tls.TlsConfigurationRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once the serving certificate and the policy are loaded. The namespace cache is reported
 * but does not make the webhook unready: without it the global mode applies.
 */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements HealthCheck {
    static final String TLS_NAME = "rootguard";

    @Inject
    TlsConfigurationRegistry tls;

    @Inject
    PolicyHolder policy;

    @Inject
    NamespaceCache namespaces;

    @Override
    public HealthCheckResponse call() {
        Optional<TlsConfiguration> conf = tls.get(TLS_NAME);
        boolean tlsLoaded = conf.isPresent() && conf.get().getKeyStore() != null;
        boolean policyLoaded = policy.policy() != null;
        HealthCheckResponseBuilder b = HealthCheckResponse.named("rootguard")
                .withData("tls", tlsLoaded)
                .withData("policy", policyLoaded)
                .withData("mode", policyLoaded ? policy.policy().mode().id() : "unknown")
                .withData("namespaceCacheSynced", namespaces.synced());
        return (tlsLoaded && policyLoaded ? b.up() : b.down()).build();
    }
}
