package dev.rootguard.e2e;

import dev.rootguard.testing.ControlPlane;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The end-to-end scenarios against a real kube-apiserver and etcd, built from the Go module
 * proxy and run on loopback; the API server reaches the webhook at 127.0.0.1.
 */
@ExtendWith(ControlPlane.class)
class KubeApiServerIT extends AdmissionScenarios {

    @Override
    Cluster startCluster(int webhookPort) {
        ControlPlane.Handle cp = ControlPlane.get();
        KubernetesClient client = cp.client();
        Path kubeconfig = cp.kubeconfigFile();
        return new Cluster() {
            public KubernetesClient client() {
                return client;
            }

            public Path kubeconfigFile() {
                return kubeconfig;
            }

            public String webhookHost() {
                return "127.0.0.1";
            }

            public List<String> auditLog() throws Exception {
                return Files.readAllLines(cp.auditLog());
            }
        };
    }
}
