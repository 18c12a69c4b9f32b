package dev.rootguard.audit;

import dev.rootguard.cluster.NamespaceCache;
import dev.rootguard.config.PolicyHolder;
import dev.rootguard.config.RootguardConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.time.Duration;
import org.jboss.logging.Logger;

/** Runs the {@link BackgroundAudit} every {@code rootguard.audit.interval} when that is set. */
@ApplicationScoped
public class BackgroundAuditService {
    private static final Logger LOG = Logger.getLogger(BackgroundAuditService.class);

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

    @Inject
    Vertx vertx;

    private BackgroundAudit audit;
    private long timer = -1;

    void start(@Observes StartupEvent event) {
        if (config.audit().interval().isEmpty()) {
            return;
        }
        Duration interval = config.audit().interval().get();
        audit = new BackgroundAudit(client::get, policy.engine(), policy::policy, namespaces::policyFor, registry);
        try {
            audit.start();
        } catch (RuntimeException e) {
            LOG.warnf("background audit cannot start (%s); it is off", e.getMessage());
            return;
        }
        LOG.infof("background audit every %s", interval);
        timer = vertx.setPeriodic(
                Math.max(1000, interval.toMillis()),
                id -> vertx.executeBlocking(
                        () -> {
                            audit.runOnce();
                            return null;
                        },
                        false));
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        if (audit != null) {
            audit.stop();
        }
    }
}
