package dev.rootguard.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.rootguard.cli.Cli;
import dev.rootguard.policy.IdRange;
import dev.rootguard.policy.NamespaceRanges;
import dev.rootguard.testing.ControlPlane;
import dev.rootguard.testing.Tools;
import dev.rootguard.testing.WebhookProcess;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Per-namespace ID ranges end to end: two packaged webhook processes with the range allocator on
 * (two replicas competing for the Lease), against a real kube-apiserver of their own, which calls
 * the first of them for admission. The webhooks run as the chart's ServiceAccount with the chart's
 * RBAC, so its least-privilege permissions are proven sufficient.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IdRangeIT {
    private static final Path CERTS = Path.of("target", "e2e", "certs-ranges").toAbsolutePath();
    private static final String OWN_NS = "rootguard";
    private static final IdRange BLOCK = new IdRange(1_000_000_000, 1_999_999_999);
    private static final long SIZE = 10_000;

    private ControlPlane.Handle cluster;
    private KubernetesClient client;
    private final List<WebhookProcess> replicas = new ArrayList<>();

    @BeforeAll
    void setUp() throws Exception {
        Files.createDirectories(CERTS);
        Process p = new ProcessBuilder("bash", "certs/generate.sh", "--out", CERTS.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String caBundle = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("certs/generate.sh failed");
        }
        cluster = ControlPlane.startDedicated("ranges", Map.of());
        client = cluster.client();
        namespace(OWN_NS, Map.of());
        // A workload from before rootguard assigned ranges: the audit must find it once its namespace has one.
        namespace("legacy", Map.of());
        client.apps()
                .deployments()
                .inNamespace("legacy")
                .resource(new DeploymentBuilder()
                        .withNewMetadata()
                        .withName("api")
                        .endMetadata()
                        .withNewSpec()
                        .withNewSelector()
                        .addToMatchLabels("app", "api")
                        .endSelector()
                        .withNewTemplate()
                        .withNewMetadata()
                        .addToLabels("app", "api")
                        .endMetadata()
                        .withNewSpec()
                        .withNewSecurityContext()
                        .withRunAsNonRoot(true)
                        .withRunAsUser(10000L)
                        .withRunAsGroup(10000L)
                        .withFsGroup(10000L)
                        .endSecurityContext()
                        .addNewContainer()
                        .withName("api")
                        .withImage("registry.example/api:1")
                        .endContainer()
                        .endSpec()
                        .endTemplate()
                        .endSpec()
                        .build())
                .create();

        namespace("audit-typo", Map.of(NamespaceRanges.UID_RANGE_ANNOTATION, "1/x"));

        Path kubeconfig = chartServiceAccountKubeconfig();
        for (int i = 0; i < 2; i++) {
            replicas.add(new WebhookProcess(
                            CERTS.resolve("tls.crt"),
                            CERTS.resolve("tls.key"),
                            kubeconfig,
                            Map.of("rootguard.namespace", OWN_NS, "rootguard.allocator.enabled", "true"))
                    .start());
        }
        String url = "https://127.0.0.1:" + replicas.get(0).port();
        List<String> excluded = List.of("kube-system", OWN_NS);
        client.resource(Webhooks.mutating(url, caBundle, excluded)).serverSideApply();
        client.resource(Webhooks.validating(url, caBundle, excluded)).serverSideApply();
        await("the validating webhook is active")
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> denied(() -> client.pods()
                        .inNamespace("legacy")
                        .resource(pod("probe", 0L))
                        .dryRun()
                        .create()));
    }

    @AfterAll
    void tearDown() {
        replicas.forEach(WebhookProcess::stop);
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * A kubeconfig for the chart's ServiceAccount with exactly the chart's RBAC (rendered with default
     * values and applied here), so the webhooks prove those permissions are enough for the allocator.
     */
    private Path chartServiceAccountKubeconfig() throws Exception {
        String rbac = Tools.helm(
                        "template",
                        "rootguard",
                        "charts/rootguard",
                        "--namespace",
                        OWN_NS,
                        "--show-only",
                        "templates/serviceaccount.yaml",
                        "--show-only",
                        "templates/rbac.yaml")
                .orFail()
                .stdout();
        String kubectl = Tools.kubectl().toString();
        String admin = cluster.kubeconfigFile().toString();
        Tools.run(List.of(kubectl, "--kubeconfig", admin, "apply", "-f", "-"), rbac)
                .orFail();
        String token = Tools.run(
                        List.of(
                                kubectl,
                                "--kubeconfig",
                                admin,
                                "-n",
                                OWN_NS,
                                "create",
                                "token",
                                "rootguard",
                                "--duration",
                                "2h"),
                        null)
                .orFail()
                .stdout()
                .trim();
        YAMLMapper yaml = new YAMLMapper();
        ObjectNode config = (ObjectNode) yaml.readTree(cluster.kubeconfig());
        for (JsonNode user : config.withArray("users")) {
            ((ObjectNode) user).set("user", yaml.createObjectNode().put("token", token));
        }
        Path file = Path.of("target", "e2e", "kubeconfig-ranges-serviceaccount").toAbsolutePath();
        Files.writeString(file, yaml.writeValueAsString(config));
        return file;
    }

    private void namespace(String name, Map<String, String> annotations) {
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(name)
                        .withAnnotations(annotations)
                        .endMetadata()
                        .build())
                .create();
    }

    private Optional<IdRange> rangeOf(String namespace) {
        var ns = client.namespaces().withName(namespace).get();
        return ns == null
                ? Optional.empty()
                : NamespaceRanges.fromAnnotations(ns.getMetadata().getAnnotations())
                        .uids();
    }

    private IdRange awaitRange(String namespace) {
        await(namespace + " has a range")
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> rangeOf(namespace).isPresent());
        return rangeOf(namespace).orElseThrow();
    }

    private static boolean denied(Runnable create) {
        try {
            create.run();
            return false;
        } catch (KubernetesClientException e) {
            return e.getCode() == 403 && e.getMessage().contains("rootguard denied");
        }
    }

    /** A pod with the given runAsUser (and nothing else set), or with no securityContext when null. */
    private static Pod pod(String name, Long uid) {
        PodBuilder b = new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("app")
                .withImage("registry.example/app:1")
                .endContainer()
                .endSpec();
        if (uid != null) {
            b.editSpec()
                    .withNewSecurityContext()
                    .withRunAsUser(uid)
                    .endSecurityContext()
                    .endSpec();
        }
        return b.build();
    }

    private static String rejection(Runnable create) {
        KubernetesClientException e = assertThrows(KubernetesClientException.class, create::run);
        assertEquals(403, e.getCode(), e.getMessage());
        return e.getMessage();
    }

    private List<String> createConcurrently(List<String> names) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Object>> creates = names.stream()
                    .map(n -> (Callable<Object>) () -> {
                        namespace(n, Map.of());
                        return null;
                    })
                    .toList();
            for (Future<?> f : pool.invokeAll(creates)) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return names;
    }

    private static void assertDistinctAndAligned(List<IdRange> ranges) {
        for (int i = 0; i < ranges.size(); i++) {
            IdRange r = ranges.get(i);
            assertTrue(BLOCK.contains(r) && r.size() == SIZE && (r.min() - BLOCK.min()) % SIZE == 0, r.toString());
            for (int j = i + 1; j < ranges.size(); j++) {
                assertFalse(r.overlaps(ranges.get(j)), r + " overlaps " + ranges.get(j));
            }
        }
    }

    private long leaders() {
        return replicas.stream()
                .filter(r -> r.management("/q/metrics").contains("rootguard_allocator_leader 1.0"))
                .count();
    }

    private Map<String, IdRange> allRanges() {
        Map<String, IdRange> out = new HashMap<>();
        client.namespaces()
                .list()
                .getItems()
                .forEach(ns -> NamespaceRanges.fromAnnotations(ns.getMetadata().getAnnotations())
                        .uids()
                        .ifPresent(r -> out.put(ns.getMetadata().getName(), r)));
        return out;
    }

    // ---------------------------------------------------------------- scenarios

    @Test
    void namespacesCreatedConcurrentlyGetDistinctRangesFromOneLeaderOfTwoReplicas() throws Exception {
        List<String> names = createConcurrently(
                IntStream.range(0, 16).mapToObj(i -> "burst-" + i).toList());
        List<IdRange> ranges = names.stream().map(this::awaitRange).toList();
        assertDistinctAndAligned(ranges);
        assertEquals(1, leaders(), "exactly one replica allocates");
        assertEquals(Optional.empty(), rangeOf("kube-system"), "exempt namespaces get no range");
        assertEquals(Optional.empty(), rangeOf(OWN_NS), "nor does the webhook's own namespace");
        assertDistinctAndAligned(new ArrayList<>(allRanges().values()));
    }

    @Test
    void podsGetDefaultsFromTheirNamespacesRangeAndAreRejectedOutsideIt() throws Exception {
        createConcurrently(List.of("team-a", "team-b"));
        IdRange a = awaitRange("team-a");
        IdRange b = awaitRange("team-b");
        assertFalse(a.overlaps(b));

        PodSecurityContext psc = client.pods()
                .inNamespace("team-a")
                .resource(pod("bare", null))
                .create()
                .getSpec()
                .getSecurityContext();
        assertEquals(
                List.of(a.min(), a.min(), a.min()), List.of(psc.getRunAsUser(), psc.getRunAsGroup(), psc.getFsGroup()));
        psc = client.pods()
                .inNamespace("team-b")
                .resource(pod("bare", null))
                .create()
                .getSpec()
                .getSecurityContext();
        assertEquals(b.min(), psc.getRunAsUser());

        String usual = rejection(() -> client.pods()
                .inNamespace("team-a")
                .resource(pod("usual", 10000L))
                .create());
        assertTrue(
                usual.contains(
                        "[id-range] spec.securityContext.runAsUser: runAsUser 10000 of container \"app\" is outside the ID range "
                                + a + " of namespace team-a (rootguard.dev/uid-range: " + a.startSize()
                                + "); choose a UID in that range"),
                usual);
        String borrowed = rejection(() -> client.pods()
                .inNamespace("team-a")
                .resource(pod("borrowed", b.min()))
                .create());
        assertTrue(
                borrowed.contains("runAsUser " + b.min() + " of container \"app\" is outside the ID range " + a),
                borrowed);

        Pod inside = client.pods()
                .inNamespace("team-a")
                .resource(pod("inside", a.max()))
                .create();
        assertEquals(a.max(), inside.getSpec().getSecurityContext().getRunAsUser());
    }

    @Test
    void aNamespaceWithoutAUsableRangeAdmitsNoPodUntilItIsFixed() {
        namespace("typo", Map.of(NamespaceRanges.UID_RANGE_ANNOTATION, "1000000000-1000009999"));
        String expected = "[id-range] spec.securityContext.runAsUser: namespace typo has no usable ID range";
        // Until the webhook's cache has seen the namespace, it is denied as one whose range is not assigned yet.
        await("the unreadable annotation is seen")
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> rejection(() -> client.pods()
                                .inNamespace("typo")
                                .resource(pod("x", null))
                                .dryRun()
                                .create())
                        .contains(expected));
        String message = rejection(
                () -> client.pods().inNamespace("typo").resource(pod("x", null)).create());
        assertTrue(
                message.contains(expected) && message.contains("set the annotation to <start>/<size> or remove it"),
                message);
        assertEquals(
                "1000000000-1000009999",
                client.namespaces()
                        .withName("typo")
                        .get()
                        .getMetadata()
                        .getAnnotations()
                        .get(NamespaceRanges.UID_RANGE_ANNOTATION),
                "the allocator leaves it for a person to fix");

        client.namespaces()
                .withName("typo")
                .edit(n -> new NamespaceBuilder(n)
                        .editMetadata()
                        .removeFromAnnotations(NamespaceRanges.UID_RANGE_ANNOTATION)
                        .endMetadata()
                        .build());
        IdRange assigned = awaitRange("typo");
        await("pods are admitted once the namespace has a range")
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    try {
                        client.pods()
                                .inNamespace("typo")
                                .resource(pod("x", null))
                                .dryRun()
                                .create();
                        return true;
                    } catch (KubernetesClientException e) {
                        return false;
                    }
                });
        assertEquals(
                assigned.min(),
                client.pods()
                        .inNamespace("typo")
                        .resource(pod("x", null))
                        .create()
                        .getSpec()
                        .getSecurityContext()
                        .getRunAsUser());
    }

    @Test
    void theAuditReportsExistingWorkloadsOutsideTheirNamespacesRange() throws Exception {
        IdRange legacy = awaitRange("legacy");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Cli.run(
                new String[] {
                    "audit",
                    "--cluster",
                    "--kubeconfig",
                    cluster.kubeconfigFile().toString(),
                    "-n",
                    "legacy",
                    "-o",
                    "json"
                },
                new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(1, exit, err.toString(StandardCharsets.UTF_8));
        assertTrue(
                err.toString(StandardCharsets.UTF_8)
                        .contains("rootguard audit: namespace audit-typo: annotation rootguard.dev/uid-range=\"1/x\""
                                + " ignored: not <start>/<size>"),
                err.toString(StandardCharsets.UTF_8));
        JsonNode result = new ObjectMapper()
                .readTree(out.toString(StandardCharsets.UTF_8))
                .at("/results/0");
        assertEquals("Deployment", result.path("kind").asText());
        List<String> idRange = new ArrayList<>();
        result.path("violations").forEach(v -> {
            if (v.path("rule").asText().equals("id-range")) {
                idRange.add(v.path("path").asText());
                assertTrue(v.path("message").asText().contains(legacy + " of namespace legacy"), v.toString());
            }
        });
        assertEquals(
                List.of(
                        "spec.template.spec.securityContext.runAsUser",
                        "spec.template.spec.securityContext.runAsGroup",
                        "spec.template.spec.securityContext.fsGroup"),
                idRange);
    }

    @Test
    void failoverAndRestartsKeepEveryAssignmentAndNeverHandOutARangeAgain() throws Exception {
        createConcurrently(List.of("before-restart-1", "before-restart-2"));
        awaitRange("before-restart-1");
        awaitRange("before-restart-2");
        await("one replica leads")
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> leaders() == 1);
        Map<String, IdRange> before = allRanges();
        long highest = before.values().stream().mapToLong(IdRange::max).max().orElseThrow();

        // The leader goes away: the other replica takes over.
        WebhookProcess leader = replicas.stream()
                .filter(r -> r.management("/q/metrics").contains("rootguard_allocator_leader 1.0"))
                .findFirst()
                .orElseThrow();
        leader.stop();
        namespace("during-failover", Map.of());
        IdRange failover = awaitRange("during-failover");
        assertTrue(failover.min() > highest, failover + " is above every range handed out before");
        leader.start();

        // Both replicas restart: nothing is reassigned, and the record keeps new ranges above the old ones.
        replicas.forEach(WebhookProcess::stop);
        replicas.forEach(WebhookProcess::start);
        namespace("after-restart", Map.of());
        IdRange later = awaitRange("after-restart");
        assertTrue(later.min() > failover.max(), later + " is above every range handed out before the restart");
        await("one replica leads after the restart")
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> leaders() == 1);
        Map<String, IdRange> after = allRanges();
        before.forEach((ns, r) -> assertEquals(r, after.get(ns), ns + " keeps its range"));
        assertDistinctAndAligned(new ArrayList<>(after.values()));
    }
}
