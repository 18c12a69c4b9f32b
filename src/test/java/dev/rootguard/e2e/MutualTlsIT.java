package dev.rootguard.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.ControlPlane;
import dev.rootguard.testing.Pem;
import dev.rootguard.testing.WebhookProcess;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/**
 * Mutual TLS end to end: the webhook requires a client certificate from its client CA, and a real
 * kube-apiserver presents one because its admission configuration names a kubeconfig for webhooks
 * (--admission-control-config-file). Its calls succeed; a client without that certificate is refused
 * during the TLS handshake, and so is the API server itself when its kubeconfig has no entry for the
 * webhook's address.
 */
class MutualTlsIT {
    private static final Path DIR = Path.of("target", "e2e", "mtls").toAbsolutePath();

    @Test
    void theApiServerGetsInWithItsClientCertificateAndNothingElseDoes() throws Exception {
        String caBundle = generateCertificates();
        try (WebhookProcess webhook = new WebhookProcess(
                DIR.resolve("tls.crt"),
                DIR.resolve("tls.key"),
                DIR.resolve("unused-kubeconfig"),
                Map.of(
                        "rootguard.tls.client-ca",
                        DIR.resolve("ca.crt").toString(),
                        "rootguard.namespace-labels.enabled",
                        "false",
                        "quarkus.log.category.\"dev.rootguard\".level",
                        "INFO"))) {
            Path admissionConfig = admissionConfiguration(webhook.port());
            try (ControlPlane.Handle apiserver = ControlPlane.startDedicated(
                            "mtls", Map.of("--admission-control-config-file", admissionConfig.toString()));
                    KubernetesClient client = apiserver.client()) {
                webhook.kubeconfig(apiserver.kubeconfigFile()).start();
                client.namespaces()
                        .resource(new NamespaceBuilder()
                                .withNewMetadata()
                                .withName("tenant")
                                .endMetadata()
                                .build())
                        .create();

                // Registered at 127.0.0.1:<port>, the address the API server's kubeconfig has a client certificate for.
                client.resource(Webhooks.validating(
                                "https://127.0.0.1:" + webhook.port(), caBundle, List.of("kube-system")))
                        .serverSideApply();
                String denial = awaitDenial(client);
                assertTrue(denial.contains("rootguard denied Pod tenant/root"), denial);
                assertTrue(denial.contains("runAsUser"), denial);
                Pod ok = client.pods()
                        .inNamespace("tenant")
                        .resource(compliantPod("fine"))
                        .create();
                assertEquals("fine", ok.getMetadata().getName());

                // Other clients: only a certificate from the client CA gets a response.
                assertEquals(
                        200,
                        post(
                                webhook.port(),
                                Pem.context(
                                        DIR.resolve("ca.crt"), DIR.resolve("client.crt"), DIR.resolve("client.key"))));
                assertThrows(
                        IOException.class, () -> post(webhook.port(), Pem.context(DIR.resolve("ca.crt"), null, null)));

                // Registered at localhost:<port>, for which the kubeconfig has no entry: the API server calls
                // without a certificate, the handshake fails, and failurePolicy Fail refuses the create.
                ValidatingWebhookConfiguration byName =
                        Webhooks.validating("https://localhost:" + webhook.port(), caBundle, List.of("kube-system"));
                client.resource(byName).serverSideApply();
                String refused = awaitMessage(client, "failed calling webhook");
                assertTrue(refused.contains("validate.rootguard.dev"), refused);
            }
        }
    }

    private static String generateCertificates() throws Exception {
        Files.createDirectories(DIR);
        Process p = new ProcessBuilder(
                        "bash", "certs/generate.sh", "--out", DIR.toString(), "--client", "kube-apiserver")
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String caBundle = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), "certs/generate.sh");
        return caBundle;
    }

    /** The API server's admission configuration: both webhook plugins use a kubeconfig with the client certificate. */
    private static Path admissionConfiguration(int webhookPort) throws IOException {
        Path kubeconfig = DIR.resolve("webhook-clients.kubeconfig");
        Files.writeString(kubeconfig, """
                apiVersion: v1
                kind: Config
                users:
                  - name: "127.0.0.1:%d"
                    user:
                      client-certificate: %s
                      client-key: %s
                """.formatted(webhookPort, DIR.resolve("client.crt"), DIR.resolve("client.key")));
        Path config = DIR.resolve("admission-config.yaml");
        Files.writeString(config, """
                apiVersion: apiserver.config.k8s.io/v1
                kind: AdmissionConfiguration
                plugins:
                  - name: ValidatingAdmissionWebhook
                    configuration:
                      apiVersion: apiserver.config.k8s.io/v1
                      kind: WebhookAdmissionConfiguration
                      kubeConfigFile: %1$s
                  - name: MutatingAdmissionWebhook
                    configuration:
                      apiVersion: apiserver.config.k8s.io/v1
                      kind: WebhookAdmissionConfiguration
                      kubeConfigFile: %1$s
                """.formatted(kubeconfig));
        return config;
    }

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

    private static Pod compliantPod(String name) {
        return new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewSpec()
                .withNewSecurityContext()
                .withRunAsUser(10000L)
                .withRunAsGroup(10000L)
                .withFsGroup(10000L)
                .withRunAsNonRoot(true)
                .endSecurityContext()
                .addNewContainer()
                .withName("app")
                .withImage("registry.example/app:1")
                .withNewSecurityContext()
                .withAllowPrivilegeEscalation(false)
                .endSecurityContext()
                .endContainer()
                .endSpec()
                .build();
    }

    /** Creates a root pod until the webhook configuration is in effect and the webhook denies it. */
    private static String awaitDenial(KubernetesClient client) throws InterruptedException {
        return awaitMessage(client, "rootguard denied");
    }

    private static String awaitMessage(KubernetesClient client, String fragment) throws InterruptedException {
        String[] last = {"no attempt"};
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> {
                    try {
                        client.pods()
                                .inNamespace("tenant")
                                .resource(rootPod("root"))
                                .create();
                        client.pods()
                                .inNamespace("tenant")
                                .withName("root")
                                .withGracePeriod(0)
                                .delete();
                        last[0] = "the root pod was created";
                    } catch (KubernetesClientException e) {
                        last[0] = e.getMessage();
                    }
                    assertTrue(
                            last[0].contains(fragment),
                            () -> "expected \"" + fragment + "\" within 30 s; last: " + last[0]);
                });
        return last[0];
    }

    private static int post(int port, SSLContext tls) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(tls)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        String body = """
                {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1",
                "kind":"ConfigMap"},"operation":"CREATE","namespace":"tenant","object":{"kind":"ConfigMap"}}}""";
        return http.send(
                        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/validate"))
                                .timeout(Duration.ofSeconds(10))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }
}
