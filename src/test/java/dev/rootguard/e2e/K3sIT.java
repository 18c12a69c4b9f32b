package dev.rootguard.e2e;

import static org.awaitility.Awaitility.await;

import dev.rootguard.testing.ControlPlane;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.testcontainers.Testcontainers;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The same end-to-end scenarios against k3s in a container, where a Docker engine exists. The
 * webhook runs on this machine and k3s reaches it at {@code host.testcontainers.internal}, which is
 * in the certificate's SANs. Without Docker the class is reported as skipped.
 * The image can be changed with {@code -Drootguard.k3s.image=rancher/k3s:<tag>}.
 */
@org.testcontainers.junit.jupiter.Testcontainers(disabledWithoutDocker = true)
class K3sIT extends AdmissionScenarios {
    /** k3s of the default control plane's minor (KUBERNETES_VERSION), also for {@link K3sImageIT}. */
    static final String IMAGE = System.getProperty("rootguard.k3s.image", "rancher/k3s:v1.37.0-k3s1");

    private static final String AUDIT_LOG = "/var/lib/rancher/k3s/server/audit.log";

    @Override
    Cluster startCluster(int webhookPort) throws Exception {
        Testcontainers.exposeHostPorts(webhookPort);
        K3sContainer k3s = new K3sContainer(DockerImageName.parse(IMAGE))
                .withCopyToContainer(Transferable.of(ControlPlane.AUDIT_POLICY), "/etc/rancher/k3s/audit-policy.yaml")
                .withCopyToContainer(Transferable.of("""
                        kube-apiserver-arg:
                          - audit-policy-file=/etc/rancher/k3s/audit-policy.yaml
                          - audit-log-path=%s
                        """.formatted(AUDIT_LOG)), "/etc/rancher/k3s/config.yaml");
        k3s.start();
        String kubeconfigYaml = k3s.getKubeConfigYaml();
        Path kubeconfig = Path.of("target", "e2e", "k3s-kubeconfig").toAbsolutePath();
        Files.createDirectories(kubeconfig.getParent());
        Files.writeString(kubeconfig, kubeconfigYaml);
        KubernetesClient client = new KubernetesClientBuilder()
                .withConfig(Config.fromKubeconfig(kubeconfigYaml))
                .build();
        return new Cluster() {
            /** k3s creates each namespace's default service account asynchronously, and pods need it. */
            public void namespaceCreated(String namespace) throws InterruptedException {
                await("the default service account of " + namespace)
                        .atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> client.serviceAccounts()
                                        .inNamespace(namespace)
                                        .withName("default")
                                        .get()
                                != null);
            }

            public KubernetesClient client() {
                return client;
            }

            public Path kubeconfigFile() {
                return kubeconfig;
            }

            public String webhookHost() {
                return "host.testcontainers.internal";
            }

            public List<String> auditLog() throws Exception {
                return k3s.execInContainer("cat", AUDIT_LOG).getStdout().lines().toList();
            }

            public void close() {
                k3s.stop();
            }
        };
    }
}
