package dev.rootguard.server;

import dev.rootguard.config.PolicyHolder;
import dev.rootguard.config.RootguardConfig;
import dev.rootguard.tls.DevCertificate;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.file.Path;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/** Says at start-up which policy and certificate are in use. */
@ApplicationScoped
public class StartupLog {
    private static final Logger LOG = Logger.getLogger(StartupLog.class);

    void onStart(@Observes StartupEvent event, PolicyHolder policy, RootguardConfig config) {
        Path generated = DevCertificate.generated();
        if (generated != null) {
            LOG.warnf(
                    "rootguard.tls.cert/key (ROOTGUARD_TLS_CERT/ROOTGUARD_TLS_KEY) are not set anywhere: serving a"
                            + " self-signed certificate for localhost and"
                            + " 127.0.0.1 from %s (for local use only)",
                    generated);
        }
        config.tls()
                .clientCa()
                .ifPresentOrElse(
                        ca -> LOG.infof("mutual TLS: clients must present a certificate signed by a CA in %s", ca),
                        () -> LOG.info(
                                "mutual TLS off: any client that trusts the serving certificate may call the webhook"
                                        + " (set rootguard.tls.client-ca to accept only the API server)"));
        LOG.infof(
                "policy: mode=%s rules=%s exempt namespaces=%s",
                policy.policy().mode(),
                policy.registry().rules().stream()
                        .map(r -> r.id() + ":" + policy.policy().rule(r).action())
                        .collect(Collectors.joining(",")),
                String.join(",", new TreeSet<>(policy.policy().exemptions().namespaces())));
    }
}
