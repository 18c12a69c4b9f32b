package dev.rootguard.chart;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.ControlPlane;
import dev.rootguard.testing.Tools;
import dev.rootguard.testing.WebhookClient;
import dev.rootguard.testing.WebhookProcess;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The chart installed with helm into a real kube-apiserver. No kubelet runs there, so no webhook
 * pod ever starts: that is exactly the situation where a badly installed webhook bricks a cluster,
 * and the test proves the chart keeps kube-system and its own namespace working.
 */
@ExtendWith(ControlPlane.class)
class HelmInstallIT {
    private static final String RELEASE = "rg";
    private static final String NS = "rootguard-helm";
    private static final String FULLNAME = "rg-rootguard";
    private static final String TARGET = "helm-target";

    private static KubernetesClient client;
    private static Path kubeconfig;

    @BeforeAll
    static void setUp() {
        client = ControlPlane.get().client();
        kubeconfig = ControlPlane.get().kubeconfigFile();
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(TARGET)
                        .endMetadata()
                        .build())
                .serverSideApply();
    }

    @AfterAll
    static void tearDown() {
        helm("uninstall", RELEASE, "-n", NS, "--ignore-not-found");
        client.close();
    }

    private static Tools.Result helm(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--kubeconfig", kubeconfig.toString()));
        return Tools.helm(all.toArray(String[]::new));
    }

    private static Tools.Result kubectl(String stdin, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Tools.kubectl().toString(), "--kubeconfig", kubeconfig.toString()));
        cmd.addAll(List.of(args));
        return Tools.run(cmd, stdin);
    }

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

    private static Pod create(String ns, String name) {
        return client.pods()
                .inNamespace(ns)
                .resource(pod(name + "-" + System.nanoTime()))
                .create();
    }

    private static boolean refusedByUnreachableWebhook() {
        try {
            create(TARGET, "probe");
            return false;
        } catch (KubernetesClientException e) {
            return e.getMessage().contains("failed calling webhook \"validate.rootguard.dev\"");
        }
    }

    @Test
    void theWebhookServesTheCertificateTheChartGenerates() throws Exception {
        Rendered r = Rendered.template("--show-only", "templates/webhooks.yaml");
        var data = r.one("Secret").path("data");
        Path dir = Path.of("target", "helm-tls").toAbsolutePath();
        Files.createDirectories(dir);
        for (String f : List.of("ca.crt", "tls.crt", "tls.key")) {
            Files.write(dir.resolve(f), Base64.getDecoder().decode(data.path(f).asText()));
        }
        try (var webhook =
                new WebhookProcess(dir.resolve("tls.crt"), dir.resolve("tls.key"), kubeconfig, Map.of()).start()) {
            // Connect to loopback but verify the certificate as the API server does, for the Service's DNS name.
            SSLSocketFactory f = WebhookClient.trusting(dir.resolve("ca.crt")).getSocketFactory();
            try (Socket plain = new Socket("127.0.0.1", webhook.port());
                    SSLSocket tls =
                            (SSLSocket) f.createSocket(plain, "rootguard.rootguard.svc", webhook.port(), true)) {
                SSLParameters params = tls.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS");
                tls.setSSLParameters(params);
                tls.startHandshake();
                tls.getOutputStream()
                        .write(
                                ("POST /validate HTTP/1.1\r\nHost: rootguard.rootguard.svc\r\nContent-Type: application/json\r\n"
                                                + "Content-Length: 2\r\nConnection: close\r\n\r\n{}")
                                        .getBytes(StandardCharsets.US_ASCII));
                String status = new BufferedReader(new InputStreamReader(tls.getInputStream())).readLine();
                assertTrue(status.startsWith("HTTP/1.1 400"), status);
            }
        }
    }

    @Test
    void renderedManifestsPassServerSideDryRun() throws Exception {
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName("rootguard")
                        .endMetadata()
                        .build())
                .serverSideApply();
        Tools.Result deploy = kubectl(null, "apply", "--dry-run=server", "-f", "deploy/rootguard.yaml");
        deploy.orFail();
        assertTrue(
                deploy.stdout()
                        .contains(
                                "validatingwebhookconfiguration.admissionregistration.k8s.io/rootguard created (server dry run)"),
                deploy.stdout());

        String caBundle = Tools.run(List.of("bash", "certs/generate.sh", "--out", "target/helm-certs"), null)
                .orFail()
                .stdout()
                .trim();
        String secretMode = Tools.helm(
                        "template",
                        "rootguard",
                        "charts/rootguard",
                        "--namespace",
                        "rootguard",
                        "--skip-tests",
                        "--set",
                        "tls.mode=secret",
                        "--set",
                        "tls.secret.name=my-tls",
                        "--set",
                        "tls.secret.caBundle=" + caBundle,
                        "--set",
                        "replicaCount=1")
                .orFail()
                .stdout();
        kubectl(secretMode, "apply", "--dry-run=server", "-f", "-").orFail();
    }

    @Test
    void installKeepsSystemNamespacesWorkingUpgradeKeepsTheCaAndUninstallRemovesEverything() throws Exception {
        Tools.Result install = helm("install", RELEASE, "charts/rootguard", "-n", NS, "--create-namespace")
                .orFail();
        assertTrue(
                install.stdout().contains("kubectl run rootguard-demo"),
                "NOTES tell the user how to see it work:\n" + install.stdout());
        assertNotNull(client.admissionRegistration()
                .v1()
                .validatingWebhookConfigurations()
                .withName(FULLNAME)
                .get());
        assertNotNull(client.admissionRegistration()
                .v1()
                .mutatingWebhookConfigurations()
                .withName(FULLNAME)
                .get());

        // No webhook pod can run here, so failurePolicy Fail refuses pods in intercepted namespaces...
        await("pods in an intercepted namespace are refused")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .until(HelmInstallIT::refusedByUnreachableWebhook);
        // ...while kube-system and the release namespace are never intercepted.
        assertNotNull(create("kube-system", "system"));
        assertNotNull(create(NS, "own"));

        String ca = client.secrets()
                .inNamespace(NS)
                .withName(FULLNAME + "-tls")
                .get()
                .getData()
                .get("ca.crt");
        String bundle = client.admissionRegistration()
                .v1()
                .validatingWebhookConfigurations()
                .withName(FULLNAME)
                .get()
                .getWebhooks()
                .get(0)
                .getClientConfig()
                .getCaBundle();
        assertEquals(ca, bundle);

        helm("upgrade", RELEASE, "charts/rootguard", "-n", NS, "--set", "policy.mode=warn")
                .orFail();
        assertEquals(
                ca,
                client.secrets()
                        .inNamespace(NS)
                        .withName(FULLNAME + "-tls")
                        .get()
                        .getData()
                        .get("ca.crt"),
                "helm upgrade must keep the CA");
        assertEquals(
                bundle,
                client.admissionRegistration()
                        .v1()
                        .validatingWebhookConfigurations()
                        .withName(FULLNAME)
                        .get()
                        .getWebhooks()
                        .get(0)
                        .getClientConfig()
                        .getCaBundle());
        assertTrue(client.configMaps()
                .inNamespace(NS)
                .withName(FULLNAME)
                .get()
                .getData()
                .get("application.properties")
                .contains("rootguard.mode=warn"));

        helm("uninstall", RELEASE, "-n", NS).orFail();
        assertNull(client.admissionRegistration()
                .v1()
                .validatingWebhookConfigurations()
                .withName(FULLNAME)
                .get());
        assertNull(client.admissionRegistration()
                .v1()
                .mutatingWebhookConfigurations()
                .withName(FULLNAME)
                .get());
        assertNull(client.secrets().inNamespace(NS).withName(FULLNAME + "-tls").get());
        assertNull(client.rbac().clusterRoles().withName(FULLNAME).get());
        assertNull(
                client.apps().deployments().inNamespace(NS).withName(FULLNAME).get());
        await("pods are admitted again after uninstall")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> !refusedByUnreachableWebhook());
    }
}
