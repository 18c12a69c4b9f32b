package dev.rootguard.audit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.cluster.NamespaceCache;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.rule.RuleRegistry;
import dev.rootguard.testing.ControlPlane;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The background audit against a real kube-apiserver. */
@ExtendWith(ControlPlane.class)
class BackgroundAuditIT {

    private static Pod rootPod(String name) {
        return new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("app")
                .withImage("registry.example/app:1")
                .withNewSecurityContext()
                .withRunAsUser(0L)
                .endSecurityContext()
                .endContainer()
                .endSpec()
                .build();
    }

    private static double gauge(SimpleMeterRegistry registry, String rule, String ns, String action) {
        Gauge g = registry.find("rootguard.audit.violations")
                .tags("rule", rule, "namespace", ns, "action", action)
                .gauge();
        return g == null ? 0 : g.value();
    }

    @Test
    void exportsCurrentViolationsAndLogsEachObjectOncePerChange() throws Exception {
        try (KubernetesClient client = ControlPlane.get().client()) {
            client.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName("bg-audit")
                            .endMetadata()
                            .build())
                    .serverSideApply();
            client.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName("bg-audit-warn")
                            .addToLabels("rootguard.dev/mode", "warn")
                            .endMetadata()
                            .build())
                    .serverSideApply();
            client.pods().inNamespace("bg-audit").resource(rootPod("one")).create();
            client.pods().inNamespace("bg-audit-warn").resource(rootPod("two")).create();

            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            NamespaceCache namespaces = new NamespaceCache(() -> client, true, registry);
            namespaces.start();
            BackgroundAudit audit = new BackgroundAudit(
                    () -> client,
                    new Engine(RuleRegistry.standard()),
                    PolicyConfig::standard,
                    namespaces::policyFor,
                    registry);
            try {
                audit.start();
                await("caches are synced")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> audit.synced() && namespaces.synced());
                List<String> first = audit.runOnce();
                assertTrue(first.contains("Pod bg-audit/one"), first.toString());
                assertTrue(first.contains("Pod bg-audit-warn/two"), first.toString());
                assertEquals(1.0, gauge(registry, "run-as-root", "bg-audit", "enforce"));
                assertEquals(1.0, gauge(registry, "run-as-root", "bg-audit-warn", "warn"));
                assertTrue(registry.get("rootguard.audit.objects").gauge().value() >= 2);

                assertEquals(
                        List.of(),
                        audit.runOnce().stream()
                                .filter(k -> k.contains("bg-audit"))
                                .toList(),
                        "logged once, not every run");

                client.pods().inNamespace("bg-audit").resource(rootPod("three")).create();
                client.pods().inNamespace("bg-audit-warn").withName("two").delete();
                List<String> logged = new ArrayList<>();
                await().atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(100))
                        .untilAsserted(() -> {
                            logged.addAll(audit.runOnce());
                            assertEquals(
                                    2.0,
                                    gauge(registry, "run-as-root", "bg-audit", "enforce"),
                                    "the new pod is counted");
                        });
                assertEquals(
                        List.of("Pod bg-audit/three"),
                        logged.stream().filter(k -> k.contains("bg-audit")).toList());
                await().atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(100))
                        .untilAsserted(() -> {
                            audit.runOnce();
                            assertEquals(
                                    0.0,
                                    gauge(registry, "run-as-root", "bg-audit-warn", "warn"),
                                    "the deleted pod is no longer counted");
                        });
            } finally {
                audit.stop();
                namespaces.stop();
            }
        }
    }
}
