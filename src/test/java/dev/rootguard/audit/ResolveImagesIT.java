package dev.rootguard.audit;

import static dev.rootguard.audit.AuditGoldenTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import dev.rootguard.testing.ControlPlane;
import dev.rootguard.testing.Registry;
import dev.rootguard.testing.RegistryImages;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code rootguard audit --resolve-images} against a real registry on loopback (with basic auth, so
 * the credentials of {@code --docker-config} are used), for manifests and for {@code --cluster}
 * against a real kube-apiserver: the report carries each image's user and digest, and rule
 * {@code image-user} applies.
 */
class ResolveImagesIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Registry registry;
    private static RegistryImages.Image root;
    private static Path dockerConfig;

    @BeforeAll
    static void start() throws Exception {
        registry = Registry.startWithBasicAuth();
        root = RegistryImages.push(registry, "team/redis:7", "redis", "amd64", ImageFormat.Docker);
        dockerConfig = registry.dockerConfig(Files.createTempDirectory("rootguard-audit-auth"));
    }

    @AfterAll
    static void stop() {
        if (registry != null) {
            registry.close();
        }
    }

    private static String pod() {
        return """
                apiVersion: v1
                kind: Pod
                metadata: {name: cache, namespace: team-a}
                spec:
                  securityContext: {runAsNonRoot: true, runAsGroup: 10000, fsGroup: 10000}
                  containers:
                  - name: redis
                    image: %s
                """.formatted(root.reference());
    }

    private static JsonNode result(AuditGoldenTest.Run run) throws Exception {
        return JSON.readTree(run.out()).path("results").get(0);
    }

    @Test
    void manifestsGetTheImageUserFromTheRegistry() throws Exception {
        var run = cli(
                new ByteArrayInputStream(pod().getBytes(StandardCharsets.UTF_8)),
                "audit",
                "-f",
                "-",
                "--resolve-images",
                "--docker-config",
                dockerConfig.toString(),
                "--registry-ca",
                registry.caFile().toString(),
                "-o",
                "json");
        JsonNode r = result(run);
        JsonNode image = r.path("images").get(0);
        assertEquals("redis", image.path("user").asText(), run.out() + run.err());
        assertEquals(root.digest(), image.path("digest").asText());
        assertTrue(
                r.toString().contains("image has non-numeric user (redis), cannot verify user is non-root"),
                r.toString());
    }

    @Test
    void withoutCredentialsTheReportSaysWhy() throws Exception {
        var run = cli(
                new ByteArrayInputStream(pod().getBytes(StandardCharsets.UTF_8)),
                "audit",
                "-f",
                "-",
                "--resolve-images",
                "--registry-ca",
                registry.caFile().toString(),
                "-o",
                "json");
        JsonNode image = result(run).path("images").get(0);
        assertTrue(image.path("error").asText().contains("refused access"), image.toString());
        // Only the registries given are contacted.
        var elsewhere = cli(
                new ByteArrayInputStream(pod().getBytes(StandardCharsets.UTF_8)),
                "audit",
                "-f",
                "-",
                "--resolve-images",
                "--registries",
                "registry.example",
                "-o",
                "json");
        assertTrue(
                result(elsewhere).path("images").get(0).path("error").asText().contains("not in --registries"),
                elsewhere.out());
    }

    @Test
    void clusterAuditsResolveTheImagesOfRunningWorkloads() throws Exception {
        try (ControlPlane.Handle apiserver = ControlPlane.startDedicated("resolve-images", Map.of());
                KubernetesClient client = apiserver.client()) {
            client.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName("team-a")
                            .endMetadata()
                            .build())
                    .create();
            client.pods()
                    .inNamespace("team-a")
                    .resource(new PodBuilder()
                            .withNewMetadata()
                            .withName("cache")
                            .endMetadata()
                            .withNewSpec()
                            .withNewSecurityContext()
                            .withRunAsNonRoot(true)
                            .endSecurityContext()
                            .addNewContainer()
                            .withName("redis")
                            .withImage(root.reference())
                            .endContainer()
                            .endSpec()
                            .build())
                    .create();
            var run = cli(
                    new ByteArrayInputStream(new byte[0]),
                    "audit",
                    "--cluster",
                    "--kubeconfig",
                    apiserver.kubeconfigFile().toString(),
                    "-n",
                    "team-a",
                    "--resolve-images",
                    "--docker-config",
                    dockerConfig.toString(),
                    "--registry-ca",
                    registry.caFile().toString(),
                    "-o",
                    "json");
            JsonNode pod = null;
            for (JsonNode r : JSON.readTree(run.out()).path("results")) {
                if (r.path("kind").asText().equals("Pod")) {
                    pod = r;
                }
            }
            assertTrue(pod != null, run.out() + run.err());
            assertEquals("redis", pod.path("images").get(0).path("user").asText(), pod.toString());
            assertTrue(
                    pod.toString().contains("[image-user]") || pod.toString().contains("\"image-user\""),
                    pod.toString());
        }
    }
}
