package dev.rootguard.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.ControlPlane;
import dev.rootguard.testing.WebhookProcess;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The webhook's idle timeout against the real kube-apiserver: pod creates spaced further apart than
 * the idle timeout all succeed, with both webhooks called (the mutation is there, so the mutating call,
 * whose failure policy is Ignore, did not fail either). The idle timeout here is 95 s, the shortest
 * value still above the API server's 90 s keep-alive (Go's IdleConnTimeout), so the API server closes
 * idle connections first and never sends a call on one the webhook is closing; two gaps of 100 s.
 */
@ExtendWith(ControlPlane.class)
class IdleKeepAliveIT {
    private static final Path DIR = Path.of("target", "e2e", "keepalive").toAbsolutePath();
    private static final String NS = "keepalive";
    private static final Duration IDLE = Duration.ofSeconds(95);
    private static final Duration GAP = IDLE.plusSeconds(5);

    @Test
    void createsSpacedBeyondTheIdleTimeoutAllSucceed() throws Exception {
        Config config = Config.fromKubeconfig(ControlPlane.get().kubeconfig());
        // No client-side retries: a failed webhook call must show as a failed create.
        config.setRequestRetryBackoffLimit(0);
        Files.createDirectories(DIR);
        Process gen = new ProcessBuilder("bash", "certs/generate.sh", "--out", DIR.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String caBundle = new String(gen.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, gen.waitFor());
        try (KubernetesClient client =
                        new KubernetesClientBuilder().withConfig(config).build();
                WebhookProcess webhook = new WebhookProcess(
                        DIR.resolve("tls.crt"),
                        DIR.resolve("tls.key"),
                        ControlPlane.get().kubeconfigFile(),
                        Map.of(
                                "rootguard.admission.idle-timeout",
                                IDLE.toSeconds() + "s",
                                "rootguard.namespace-labels.enabled",
                                "false"))) {
            client.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName(NS)
                            .endMetadata()
                            .build())
                    .serverSideApply();
            webhook.start();
            String url = "https://127.0.0.1:" + webhook.port();
            client.resource(Webhooks.mutating(url, caBundle, List.of("kube-system")))
                    .serverSideApply();
            client.resource(Webhooks.validating(url, caBundle, List.of("kube-system")))
                    .serverSideApply();
            try {
                awaitInEffect(client);
                List<String> failures = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    if (i > 0) {
                        Thread.sleep(GAP.toMillis());
                    }
                    String name = "after-gap-" + i;
                    try {
                        Pod created = client.pods()
                                .inNamespace(NS)
                                .resource(pod(name))
                                .create();
                        Long uid = created.getSpec().getSecurityContext() == null
                                ? null
                                : created.getSpec().getSecurityContext().getRunAsUser();
                        if (uid == null || uid == 0) {
                            failures.add(name + ": not mutated (the mutating call failed)");
                        }
                    } catch (KubernetesClientException e) {
                        failures.add(name + ": " + e.getMessage());
                    }
                }
                assertTrue(
                        failures.isEmpty(), "creates after idle gaps of " + GAP.toSeconds() + " s failed: " + failures);
            } finally {
                client.admissionRegistration()
                        .v1()
                        .validatingWebhookConfigurations()
                        .withName("rootguard")
                        .delete();
                client.admissionRegistration()
                        .v1()
                        .mutatingWebhookConfigurations()
                        .withName("rootguard")
                        .delete();
                client.pods().inNamespace(NS).withGracePeriod(0).delete();
            }
        }
    }

    /** In effect once a root pod is denied. */
    private static void awaitInEffect(KubernetesClient client) throws InterruptedException {
        Pod root = new PodBuilder()
                .withNewMetadata()
                .withName("probe")
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
        await("webhooks in effect")
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    try {
                        client.pods().inNamespace(NS).resource(root).create();
                        client.pods()
                                .inNamespace(NS)
                                .withName("probe")
                                .withGracePeriod(0)
                                .delete();
                        return false;
                    } catch (KubernetesClientException e) {
                        return String.valueOf(e.getMessage()).contains("rootguard denied");
                    }
                });
    }

    /** Compliant once the mutating webhook fills in the IDs. */
    private static Pod pod(String name) {
        return new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("app")
                .withImage("registry.example/app:1")
                .endContainer()
                .endSpec()
                .build();
    }
}
