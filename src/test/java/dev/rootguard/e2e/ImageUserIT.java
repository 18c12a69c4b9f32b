package dev.rootguard.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import dev.rootguard.testing.ControlPlane;
import dev.rootguard.testing.Registry;
import dev.rootguard.testing.RegistryImages;
import dev.rootguard.testing.Tools;
import dev.rootguard.testing.WebhookProcess;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rule {@code image-user} end to end: a real kube-apiserver calls the webhook, which looks the pods'
 * images up in a real registry on loopback, holding images the test pushed. In a namespace where
 * mutation is off ({@code rootguard.dev/mutate: "false"}), a pod with {@code runAsNonRoot: true} on an
 * image without USER is refused at admission, with the image's user and the kubelet's message; with
 * {@code run-as-user-from-image} on, a pod on a non-root image is admitted and stored with the image's
 * own UID and GID.
 */
class ImageUserIT {
    private static final Path DIR = Path.of("target", "e2e", "image-user").toAbsolutePath();
    private static final String STRICT = "no-defaults";
    private static final String TENANT = "tenant";
    private static String caBundle;
    private static Registry registry;
    private static RegistryImages.Image rootImage;
    private static RegistryImages.Image appImage;

    @BeforeAll
    static void setUp() throws Exception {
        Files.createDirectories(DIR);
        Process p = new ProcessBuilder("bash", "certs/generate.sh", "--out", DIR.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        caBundle = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), "certs/generate.sh");
        registry = Registry.start();
        rootImage = RegistryImages.push(registry, "team/root:1", null, "amd64", ImageFormat.Docker);
        appImage = RegistryImages.push(registry, "team/app:1", "10001:10002", "amd64", ImageFormat.OCI);
    }

    @AfterAll
    static void tearDown() {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void theImagesUserDecidesAtAdmission() throws Exception {
        try (ControlPlane.Handle apiserver = ControlPlane.startDedicated("image-user", Map.of());
                KubernetesClient client = apiserver.client();
                WebhookProcess webhook = new WebhookProcess(
                                DIR.resolve("tls.crt"),
                                DIR.resolve("tls.key"),
                                apiserver.kubeconfigFile(),
                                Map.of(
                                        "rootguard.images.registries",
                                        registry.host(),
                                        "rootguard.images.ca-file",
                                        registry.caFile().toString(),
                                        "rootguard.defaults.run-as-user-from-image",
                                        "true",
                                        "rootguard.allocator.enabled",
                                        "false"))
                        .start()) {
            register(client, webhook.port());

            // Mutation off: runAsNonRoot: true alone, on an image without USER, is what the kubelet would refuse.
            Tools.Result root = kubectlCreate(apiserver, STRICT, pod("root", rootImage.reference(), true));
            assertNotEquals(0, root.exitCode(), root.stderr());
            assertTrue(
                    root.stderr()
                            .contains("[image-user] spec.containers[0].securityContext.runAsUser: image "
                                    + rootImage.reference() + " (" + rootImage.digest()
                                    + ") has no USER, so it runs as root; the kubelet will refuse to start container"
                                    + " \"app\" (CreateContainerConfigError: container has runAsNonRoot and image will"
                                    + " run as root); set runAsUser"),
                    root.stderr());
            assertNull(client.pods().inNamespace(STRICT).withName("root").get(), "nothing was stored");

            // The same pod on the non-root image has no image-user finding there (required-ids still
            // asks for the runAsUser that mutation would have filled in).
            Tools.Result fine = kubectlCreate(apiserver, STRICT, pod("fine", appImage.reference(), true));
            assertTrue(fine.stderr().contains("[required-ids]"), fine.stderr());
            assertFalse(fine.stderr().contains("[image-user]"), fine.stderr());

            // With mutation: the container gets the image's own IDs, the pod the global defaults.
            Tools.Result app = kubectlCreate(apiserver, TENANT, pod("app", appImage.reference(), false));
            assertEquals(0, app.exitCode(), app.stderr());
            Pod stored = client.pods().inNamespace(TENANT).withName("app").get();
            assertEquals(
                    10001L,
                    stored.getSpec().getContainers().get(0).getSecurityContext().getRunAsUser());
            assertEquals(
                    10002L,
                    stored.getSpec().getContainers().get(0).getSecurityContext().getRunAsGroup());
            assertEquals(10000L, stored.getSpec().getSecurityContext().getRunAsUser());

            // A root image under mutation runs as the default UID instead: admitted, nothing from the image.
            Tools.Result defaulted = kubectlCreate(apiserver, TENANT, pod("defaulted", rootImage.reference(), false));
            assertEquals(0, defaulted.exitCode(), defaulted.stderr());
            Pod d = client.pods().inNamespace(TENANT).withName("defaulted").get();
            assertNull(
                    d.getSpec().getContainers().get(0).getSecurityContext() == null
                            ? null
                            : d.getSpec()
                                    .getContainers()
                                    .get(0)
                                    .getSecurityContext()
                                    .getRunAsUser());
            assertEquals(10000L, d.getSpec().getSecurityContext().getRunAsUser());

            String metrics = webhook.management("/q/metrics");
            assertTrue(metrics.contains("rootguard_image_lookups_total{result=\"hit\"}"), metrics);
        }
    }

    private static void register(KubernetesClient client, int port) {
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(STRICT)
                        .addToLabels("rootguard.dev/mutate", "false")
                        .endMetadata()
                        .build())
                .create();
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(TENANT)
                        .endMetadata()
                        .build())
                .create();
        String url = "https://127.0.0.1:" + port;
        client.resource(Webhooks.mutating(url, caBundle, List.of("kube-system")))
                .serverSideApply();
        client.resource(Webhooks.validating(url, caBundle, List.of("kube-system")))
                .serverSideApply();
        String[] last = {"no attempt"};
        // In effect once the strict namespace's label is known and the registry was asked.
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(300))
                .untilAsserted(() -> {
                    try {
                        client.pods()
                                .inNamespace(STRICT)
                                .resource(pod("probe", rootImage.reference(), true))
                                .dryRun()
                                .create();
                        last[0] = "admitted";
                    } catch (KubernetesClientException e) {
                        last[0] = e.getMessage();
                    }
                    assertTrue(last[0].contains("[image-user]"), () -> "not in effect within 60 s; last: " + last[0]);
                });
    }

    private static Pod pod(String name, String image, boolean runAsNonRoot) {
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("app")
                .withImage(image)
                .withNewSecurityContext()
                .withAllowPrivilegeEscalation(false)
                .withNewCapabilities()
                .withDrop("ALL")
                .endCapabilities()
                .endSecurityContext()
                .endContainer()
                .endSpec()
                .build();
        if (runAsNonRoot) {
            pod.getSpec()
                    .setSecurityContext(new PodSecurityContextBuilder()
                            .withRunAsNonRoot(true)
                            .withRunAsGroup(10000L)
                            .withFsGroup(10000L)
                            .withSupplementalGroupsPolicy("Strict")
                            .withNewSeccompProfile()
                            .withType("RuntimeDefault")
                            .endSeccompProfile()
                            .build());
        }
        return pod;
    }

    /** kubectl prints admission errors and warnings on stderr, as users see them. */
    private static Tools.Result kubectlCreate(ControlPlane.Handle apiserver, String namespace, Pod pod) {
        return Tools.run(
                List.of(
                        Tools.kubectl().toString(),
                        "--kubeconfig",
                        apiserver.kubeconfigFile().toString(),
                        "-n",
                        namespace,
                        "create",
                        "-f",
                        "-"),
                Serialization.asYaml(pod));
    }
}
