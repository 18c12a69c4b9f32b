package dev.rootguard.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rootguard.testing.Node;
import dev.rootguard.testing.NodeImages;
import dev.rootguard.testing.Tools;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * rootguard as users run it: its image (target/jib-image.tar, built by {@code package}), in pods, on a real
 * node (kubelet, containerd, runc, the CNI bridge: {@link Node}), installed by helm from charts/rootguard.
 * Nothing is mocked. The steps build on each other, in order: install and {@code helm test}; what the
 * kubelet runs after mutation; what the kubelet does with an image's USER; rollouts under continuous
 * creates; a whole-cluster stop and start; uninstall. What the steps measured (the kubelet's messages, the
 * create counts) is written to target/e2e/node-suite.txt and printed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeSuiteIT {
    private static final Path IMAGE = Path.of("target", "jib-image.tar").toAbsolutePath();
    private static final Path WORK = Path.of("target", "e2e", "node").toAbsolutePath();
    private static final Path REPORT =
            Path.of("target", "e2e", "node-suite.txt").toAbsolutePath();
    private static final String RELEASE = "rootguard";
    private static final String NS = "rootguard";
    private static final String TENANT = "tenant-a";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Pods that must never run: the scheduler leaves a pod with a scheduling gate alone. */
    private static final String GATE = "rootguard.dev/never-scheduled";

    private static Node node;
    private static KubernetesClient client;
    private static String imageRepository;
    private static String imageTag;
    private static final List<String> report = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void up() throws Exception {
        String why = Node.unavailable();
        assumeTrue(why == null, why);
        assertTrue(Files.isRegularFile(IMAGE), IMAGE + " is built by ./mvnw package");
        String tag = repoTag(IMAGE);
        imageRepository = tag.substring(0, tag.lastIndexOf(':'));
        imageTag = tag.substring(tag.lastIndexOf(':') + 1);

        Path images = WORK.resolveSibling("node-images");
        Path busybox = Path.of("/usr/bin/busybox");
        List<Path> tars = List.of(
                IMAGE,
                NodeImages.pause(Node.pauseBinary(), images),
                NodeImages.busybox(busybox, "10001:10001", NodeImages.BUSYBOX, images),
                NodeImages.busybox(busybox, "0", NodeImages.BUSYBOX_ROOT, images),
                NodeImages.busybox(busybox, "redis", NodeImages.BUSYBOX_NAMED, images));
        long t0 = System.nanoTime();
        node = Node.up(WORK, tars);
        record(
                "node Ready in %d ms (Kubernetes %s, images imported)",
                (System.nanoTime() - t0) / 1_000_000, Node.binaries().getFileName());
        client = node.client();
    }

    @AfterAll
    static void down() throws IOException {
        if (client != null) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
        if (!report.isEmpty()) {
            Files.createDirectories(REPORT.getParent());
            Files.write(REPORT, report, StandardCharsets.UTF_8);
            System.out.println("node suite:\n  " + String.join("\n  ", report));
        }
    }

    // --- 1. helm install and helm test --------------------------------------------------------------

    @Test
    @Order(1)
    void helmInstallRunsBothReplicasWithThePdbAndWebhooksAndHelmTestPasses() throws Exception {
        long t0 = System.nanoTime();
        node.helm(
                        "install",
                        RELEASE,
                        "charts/rootguard",
                        "-n",
                        NS,
                        "--create-namespace",
                        "--set",
                        "image.repository=" + imageRepository,
                        "--set",
                        "image.tag=" + imageTag,
                        // containerd 1.6 cannot run Strict pods (step 3 shows the kubelet refusing one), so this
                        // node needs what docs/policy.md tells such clusters to set.
                        "--set",
                        "policy.defaults.strict-supplemental-groups=false",
                        "--wait",
                        "--timeout",
                        "5m")
                .orFail();
        record("helm install --wait: %d ms", (System.nanoTime() - t0) / 1_000_000);

        Deployment d =
                client.apps().deployments().inNamespace(NS).withName(RELEASE).get();
        assertEquals(2, d.getStatus().getReadyReplicas(), "both replicas Ready");
        PodDisruptionBudget pdb = client.policy()
                .v1()
                .podDisruptionBudget()
                .inNamespace(NS)
                .withName(RELEASE)
                .get();
        assertNotNull(pdb, "the PodDisruptionBudget");
        await("the PDB counts both replicas")
                .atMost(Duration.ofSeconds(60))
                .until(() -> client.policy()
                                .v1()
                                .podDisruptionBudget()
                                .inNamespace(NS)
                                .withName(RELEASE)
                                .get()
                                .getStatus()
                                .getCurrentHealthy()
                        == 2);
        assertNotNull(client.admissionRegistration()
                .v1()
                .validatingWebhookConfigurations()
                .withName(RELEASE)
                .get());
        assertNotNull(client.admissionRegistration()
                .v1()
                .mutatingWebhookConfigurations()
                .withName(RELEASE)
                .get());

        Set<String> podIps =
                rootguardPods().stream().map(p -> p.getStatus().getPodIP()).collect(Collectors.toSet());
        assertEquals(2, podIps.size(), "two pod IPs: " + podIps);
        Set<String> endpoints = readyEndpoints();
        assertEquals(podIps, endpoints, "the Service's ready endpoints are the two pods");

        // Every webhook call goes to an endpoint's pod IP (--enable-aggregator-routing): both pods answer some.
        client.namespaces().resource(namespace(TENANT, Map.of())).create();
        for (int i = 0; i < 30; i++) {
            Pod spread = rootPod("spread-" + i);
            refusal(() ->
                    client.pods().inNamespace(TENANT).resource(spread).dryRun().create());
        }
        for (Pod p : rootguardPods()) {
            String log = client.pods()
                    .inNamespace(NS)
                    .withName(p.getMetadata().getName())
                    .getLog();
            assertTrue(log.contains("denied uid="), p.getMetadata().getName() + " decided some of the 30: " + log);
        }

        // The test pod runs `rootguard check` from the same image, which exits 0 only when the API server refused its
        // root pod with rootguard's run-as-root rule (CheckCommandIT); the pod is deleted once it succeeded.
        Tools.Result test = node.helm("test", RELEASE, "-n", NS, "--timeout", "3m");
        record(
                "helm test: exit %d; %s",
                test.exitCode(),
                test.stdout()
                        .lines()
                        .filter(l -> l.startsWith("Phase:"))
                        .findFirst()
                        .orElse(lastLine(test.stdout())));
        test.orFail();
        assertTrue(test.stdout().contains("Phase:          Succeeded"), test.stdout());
    }

    // --- 2. what the kubelet runs after mutation ------------------------------------------------------

    @Test
    @Order(2)
    void aRootPodIsRefusedAndABarePodRunsWithTheIdsOfItsNamespaceRangeAndFsGroupOnItsVolume() throws Exception {
        String refused = refusal(() ->
                client.pods().inNamespace(TENANT).resource(rootPod("root")).create());
        record("root pod refused: %s", refused);
        assertTrue(refused.contains("[run-as-root]"), refused);

        long start = rangeStart(TENANT);
        Pod bare = client.pods()
                .inNamespace(TENANT)
                .resource(barePod("bare", NodeImages.BUSYBOX))
                .create();
        awaitRunning(TENANT, bare.getMetadata().getName());
        String id = exec(TENANT, "bare", "id");
        record("bare pod in %s (uid range from %d): %s", TENANT, start, id);
        assertEquals(
                "uid=%d gid=%d groups=%d".formatted(start, start, start),
                id.trim(),
                "runAsUser, runAsGroup and fsGroup from the namespace's range");
        String file = exec(TENANT, "bare", "stat", "-c", "%u %g", "/data/written");
        assertEquals(start + " " + start, file.trim(), "the emptyDir file carries the fsGroup");
    }

    // --- 3. what the kubelet does with the image's USER ---------------------------------------------

    @Test
    @Order(3)
    void anImageWhoseUserIsRootRunsAsTheMutatedUidAndWithoutMutationTheKubeletRefusesIt() throws Exception {
        long start = rangeStart(TENANT);
        client.pods()
                .inNamespace(TENANT)
                .resource(barePod("root-image", NodeImages.BUSYBOX_ROOT))
                .create();
        awaitRunning(TENANT, "root-image");
        String id = exec(TENANT, "root-image", "id");
        record("image USER 0, mutated: %s", id.trim());
        assertTrue(id.startsWith("uid=" + start + " "), id);

        // Mutation off and warn only in this namespace: the pod reaches the kubelet as written.
        String plain = "no-mutation";
        client.namespaces()
                .resource(namespace(plain, Map.of("rootguard.dev/mutate", "false", "rootguard.dev/mode", "warn")))
                .create();
        await("rootguard sees the namespace's labels")
                .atMost(Duration.ofSeconds(30))
                .until(() -> {
                    Pod p = client.pods()
                            .inNamespace(plain)
                            .resource(nonRootOnly("probe", NodeImages.BUSYBOX))
                            .dryRun()
                            .create();
                    return p.getSpec().getSecurityContext() == null
                            || p.getSpec().getSecurityContext().getRunAsUser() == null;
                });
        client.pods()
                .inNamespace(plain)
                .resource(nonRootOnly("root-image", NodeImages.BUSYBOX_ROOT))
                .create();
        client.pods()
                .inNamespace(plain)
                .resource(nonRootOnly("named-user", NodeImages.BUSYBOX_NAMED))
                .create();
        String rootMessage = awaitWaiting(plain, "root-image", "CreateContainerConfigError");
        String namedMessage = awaitWaiting(plain, "named-user", "CreateContainerConfigError");
        record("kubelet, image USER 0 with runAsNonRoot: %s", rootMessage);
        record("kubelet, image USER redis with runAsNonRoot: %s", namedMessage);
        assertTrue(rootMessage.startsWith("container has runAsNonRoot and image will run as root"), rootMessage);

        // The default the chart was installed without: a runtime that does not support Strict gets it refused by
        // the kubelet, which is why docs/policy.md says to turn it off on such nodes.
        Pod strict = barePod("strict", NodeImages.BUSYBOX);
        strict.getSpec()
                .setSecurityContext(new io.fabric8.kubernetes.api.model.PodSecurityContextBuilder()
                        .withSupplementalGroupsPolicy("Strict")
                        .build());
        client.pods().inNamespace(TENANT).resource(strict).create();
        String[] failed = new String[2];
        await("the kubelet rejects the Strict pod")
                .atMost(Duration.ofMinutes(2))
                .until(() -> {
                    Pod p = client.pods().inNamespace(TENANT).withName("strict").get();
                    failed[0] = p.getStatus().getReason();
                    failed[1] = p.getStatus().getMessage();
                    return failed[0] != null;
                });
        record("kubelet, supplementalGroupsPolicy Strict on containerd 1.6: %s: %s", failed[0], failed[1]);
        assertEquals("SupplementalGroupsPolicyNotSupported", failed[0], failed[1]);
        assertTrue(
                namedMessage.startsWith("container has runAsNonRoot and image has non-numeric user (redis)"),
                namedMessage);
    }

    // --- 4. rollouts while pods are created ----------------------------------------------------------

    @Test
    @Order(4)
    void rolloutRestartHelmUpgradeAndALostReplicaRefuseNoCreateAndAdmitNoRootPod() throws Exception {
        String load = "load";
        client.namespaces().resource(namespace(load, Map.of())).create();
        rangeStart(load);

        Counts restart = underLoad(load, "kubectl rollout restart", () -> {
            node.kubectl(null, "-n", NS, "rollout", "restart", "deployment/" + RELEASE)
                    .orFail();
            node.kubectl(null, "-n", NS, "rollout", "status", "deployment/" + RELEASE, "--timeout=5m")
                    .orFail();
        });
        Set<String> before = twoReadyReplicas();
        Counts upgrade = underLoad(
                load,
                "helm upgrade with a policy change",
                () -> node.helm(
                                "upgrade",
                                RELEASE,
                                "charts/rootguard",
                                "-n",
                                NS,
                                "--reuse-values",
                                "--set",
                                "allocator.enabled=false",
                                "--set",
                                "policy.defaults.run-as-user=20000",
                                "--set",
                                "policy.defaults.run-as-group=20001",
                                "--set",
                                "policy.defaults.fs-group=20002",
                                "--wait",
                                "--timeout",
                                "5m")
                        .orFail());
        Set<String> after = twoReadyReplicas();
        assertTrue(
                Collections.disjoint(before, after), "the policy change rolled every pod: " + before + " -> " + after);
        Counts lost = underLoad(load, "one replica deleted", () -> {
            String victim = twoReadyReplicas().iterator().next();
            client.pods().inNamespace(NS).withName(victim).delete();
            await("a replacement is Ready").atMost(Duration.ofMinutes(3)).until(() -> {
                List<Pod> pods = rootguardPods();
                return pods.size() == 2
                        && pods.stream()
                                .noneMatch(p -> p.getMetadata().getName().equals(victim));
            });
        });
        for (Counts c : List.of(restart, upgrade, lost)) {
            assertEquals(0, c.refusedCompliant.get(), c.phase + ": " + c.firstRefusal);
            assertEquals(0, c.admittedRoot.get(), c.phase + ": a root pod was admitted");
            assertEquals(0, c.storedAsRoot.get(), c.phase + ": an admitted pod would run as root");
            assertTrue(c.admittedCompliant.get() > 0 && c.refusedRoot.get() > 0, c.phase + ": " + c);
        }

        // The new global defaults apply where a namespace has no range (the allocator is off now).
        String plain = "defaults";
        client.namespaces().resource(namespace(plain, Map.of())).create();
        client.pods()
                .inNamespace(plain)
                .resource(barePod("bare", NodeImages.BUSYBOX))
                .create();
        awaitRunning(plain, "bare");
        String id = exec(plain, "bare", "id");
        record("bare pod with the global defaults after the upgrade: %s", id.trim());
        assertEquals("uid=20000 gid=20001 groups=20001,20002", id.trim());
    }

    // --- 5. the whole cluster stopped and started -----------------------------------------------------

    @Test
    @Order(5)
    void afterAWholeClusterStopTheClusterRecoversByItselfAndKubeSystemPodsAreCreatedWhileRootguardIsDown() {
        node.stop();
        long t0 = System.nanoTime();
        node.start(true);
        // No kubelet yet, so no rootguard pod runs; its webhooks are still registered.
        Pod system = client.pods()
                .inNamespace("kube-system")
                .resource(gated(barePod("while-down", NodeImages.BUSYBOX)))
                .create();
        assertNotNull(system.getMetadata().getUid(), "kube-system is never intercepted");
        String closed = refusal(() -> client.pods()
                .inNamespace(TENANT)
                .resource(gated(barePod("while-down", NodeImages.BUSYBOX)))
                .create());
        record("while rootguard is down: kube-system pod created; %s pod refused: %s", TENANT, closed);
        node.startNode();
        await("rootguard admits pods again, with no manual step")
                .atMost(Duration.ofMinutes(3))
                .pollInterval(Duration.ofSeconds(1))
                .ignoreExceptions()
                .until(() -> client.pods()
                                .inNamespace(TENANT)
                                .resource(gated(barePod("after-restart", NodeImages.BUSYBOX)))
                                .create()
                        != null);
        record("cluster start to first admitted pod: %d ms", (System.nanoTime() - t0) / 1_000_000);
        await("both replicas Ready again")
                .atMost(Duration.ofMinutes(3))
                .until(() -> rootguardPods().size() == 2);
        client.pods().inNamespace("kube-system").withName("while-down").delete();
    }

    // --- 6. uninstall -------------------------------------------------------------------------------------

    @Test
    @Order(6)
    void helmUninstallLeavesNoRootguardObjectBehind() {
        node.helm("uninstall", RELEASE, "-n", NS, "--wait", "--timeout", "3m").orFail();
        String selector = "app.kubernetes.io/instance=" + RELEASE;
        // Pods go last: each replica waits out its shutdown delay and grace period after helm has returned.
        List<String> left = new ArrayList<>();
        await("every object of the release is gone")
                .atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> {
                    left.clear();
                    left.addAll(releaseObjects(selector));
                    return left.isEmpty();
                });
        assertEquals(List.of(), left, "objects of the release left after uninstall");
        await("rootguard's pods are gone")
                .atMost(Duration.ofMinutes(2))
                .until(() -> rootguardPods().isEmpty()
                        && client.pods().inNamespace(NS).list().getItems().isEmpty());
        // What is left in its namespace is what the docs say the webhook creates and keeps: the range record and the
        // allocator's Lease (with Kubernetes' own per-namespace objects).
        Set<String> remaining =
                new TreeSet<>(lines(node.kubectl(null, "get", "configmaps,secrets,leases", "-n", NS, "-o", "name")
                        .orFail()
                        .stdout()));
        remaining.remove("configmap/kube-root-ca.crt");
        assertEquals(
                Set.of("configmap/rootguard-id-ranges", "lease.coordination.k8s.io/rootguard-allocator"), remaining);
        Pod root = client.pods()
                .inNamespace(TENANT)
                .resource(gated(rootPod("after-uninstall")))
                .create();
        assertNotNull(root.getMetadata().getUid(), "nothing intercepts pods any more");
    }

    /** Objects labelled as the release's, cluster-wide and in every namespace. */
    private static List<String> releaseObjects(String selector) {
        List<String> found = new ArrayList<>();
        found.addAll(lines(node.kubectl(
                        null,
                        "get",
                        "validatingwebhookconfigurations,mutatingwebhookconfigurations,clusterroles,clusterrolebindings",
                        "-l",
                        selector,
                        "-o",
                        "name")
                .orFail()
                .stdout()));
        found.addAll(lines(node.kubectl(
                        null,
                        "get",
                        "all,configmaps,secrets,serviceaccounts,roles,rolebindings,poddisruptionbudgets,leases",
                        "-A",
                        "-l",
                        selector,
                        "-o",
                        "name")
                .orFail()
                .stdout()));
        return found;
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    /** Pods created from several clients while ACTION runs, counted by outcome. */
    private Counts underLoad(String namespace, String phase, ThrowingRunnable action) throws Exception {
        Counts c = new Counts(phase);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong seq = new AtomicLong();
        int clients = 4;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        for (int t = 0; t < clients; t++) {
            pool.submit(() -> {
                while (running.get()) {
                    long n = seq.incrementAndGet();
                    boolean root = n % 3 == 0;
                    Pod pod = gated(root ? rootPod("load-" + n) : barePod("load-" + n, NodeImages.BUSYBOX));
                    try {
                        Pod created = client.pods()
                                .inNamespace(namespace)
                                .resource(pod)
                                .create();
                        (root ? c.admittedRoot : c.admittedCompliant).incrementAndGet();
                        if (runsAsRoot(created)) {
                            c.storedAsRoot.incrementAndGet();
                        }
                    } catch (KubernetesClientException e) {
                        (root ? c.refusedRoot : c.refusedCompliant).incrementAndGet();
                        if (!root && c.firstRefusal == null) {
                            c.firstRefusal = e.getMessage();
                        }
                    }
                    sleep(100);
                }
                return null;
            });
        }
        long t0 = System.nanoTime();
        try {
            sleep(3000);
            action.run();
            sleep(3000);
        } finally {
            running.set(false);
            pool.shutdown();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
        }
        c.millis = (System.nanoTime() - t0) / 1_000_000;
        record("%s", c);
        client.pods().inNamespace(namespace).delete();
        return c;
    }

    /** Outcomes of creates during one phase. */
    static final class Counts {
        final String phase;
        final AtomicInteger admittedCompliant = new AtomicInteger();
        final AtomicInteger refusedCompliant = new AtomicInteger();
        final AtomicInteger admittedRoot = new AtomicInteger();
        final AtomicInteger refusedRoot = new AtomicInteger();
        final AtomicInteger storedAsRoot = new AtomicInteger();
        volatile String firstRefusal;
        long millis;

        Counts(String phase) {
            this.phase = phase;
        }

        @Override
        public String toString() {
            return "%s (%d ms, 4 clients): bare pods admitted %d, refused %d; root pods refused %d, admitted %d; admitted pods that would run as root %d"
                    .formatted(
                            phase,
                            millis,
                            admittedCompliant.get(),
                            refusedCompliant.get(),
                            refusedRoot.get(),
                            admittedRoot.get(),
                            storedAsRoot.get());
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static boolean runsAsRoot(Pod p) {
        PodSecurityContext pod = p.getSpec().getSecurityContext();
        Long podUser = pod == null ? null : pod.getRunAsUser();
        for (var c : p.getSpec().getContainers()) {
            SecurityContext sc = c.getSecurityContext();
            Long user = sc != null && sc.getRunAsUser() != null ? sc.getRunAsUser() : podUser;
            if (user == null || user == 0) {
                return true;
            }
        }
        return false;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void record(String format, Object... args) {
        String line = format.formatted(args);
        report.add(line);
        System.out.println("node suite: " + line);
    }

    private static String lastLine(String s) {
        String[] l = s.strip().split("\n");
        return l[l.length - 1];
    }

    private static List<String> lines(String s) {
        return s.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    /** The refusal's message; fails if the create went through. */
    private static String refusal(ThrowingRunnable create) {
        try {
            create.run();
        } catch (KubernetesClientException e) {
            return e.getStatus() != null && e.getStatus().getMessage() != null
                    ? e.getStatus().getMessage()
                    : e.getMessage();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return fail("the create was admitted");
    }

    private static List<Pod> rootguardPods() {
        return client.pods().inNamespace(NS).withLabel("app.kubernetes.io/instance", RELEASE).list().getItems().stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .filter(p -> p.getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus())))
                .filter(p -> !p.getMetadata().getName().endsWith("-test"))
                .toList();
    }

    /**
     * The names of the two replicas once both are Ready: on two loaded cores a replica's readiness probe can miss
     * right after a rollout, and that is not what the step is about.
     */
    private static Set<String> twoReadyReplicas() {
        await("both replicas Ready")
                .atMost(Duration.ofMinutes(2))
                .until(() -> podNames().size() == 2);
        return podNames();
    }

    private static Set<String> podNames() {
        return rootguardPods().stream()
                .map(p -> p.getMetadata().getName())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<String> readyEndpoints() {
        return client
                .discovery()
                .v1()
                .endpointSlices()
                .inNamespace(NS)
                .withLabel("kubernetes.io/service-name", RELEASE)
                .list()
                .getItems()
                .stream()
                .flatMap(s -> s.getEndpoints().stream())
                .filter(e -> e.getConditions() != null
                        && Boolean.TRUE.equals(e.getConditions().getReady()))
                .map(Endpoint::getAddresses)
                .flatMap(List::stream)
                .collect(Collectors.toSet());
    }

    /** The start of the namespace's uid range, once the allocator has given it one. */
    private static long rangeStart(String namespace) {
        String[] range = new String[1];
        await(namespace + " gets a uid range").atMost(Duration.ofSeconds(90)).until(() -> {
            var ns = client.namespaces().withName(namespace).get();
            range[0] = ns.getMetadata().getAnnotations() == null
                    ? null
                    : ns.getMetadata().getAnnotations().get("rootguard.dev/uid-range");
            return range[0] != null;
        });
        return Long.parseLong(range[0].split("/")[0]);
    }

    private static void awaitRunning(String namespace, String name) {
        await(namespace + "/" + name + " runs").atMost(Duration.ofMinutes(2)).until(() -> {
            Pod p = client.pods().inNamespace(namespace).withName(name).get();
            return p.getStatus() != null && "Running".equals(p.getStatus().getPhase());
        });
    }

    private static String awaitWaiting(String namespace, String name, String reason) {
        String[] message = new String[1];
        await(namespace + "/" + name + " waits with " + reason)
                .atMost(Duration.ofMinutes(2))
                .until(() -> {
                    Pod p = client.pods().inNamespace(namespace).withName(name).get();
                    for (ContainerStatus s : p.getStatus().getContainerStatuses()) {
                        ContainerStateWaiting w =
                                s.getState() == null ? null : s.getState().getWaiting();
                        if (w != null && reason.equals(w.getReason())) {
                            message[0] = w.getMessage();
                            return true;
                        }
                    }
                    return false;
                });
        return message[0];
    }

    private static String exec(String namespace, String pod, String... command) {
        List<String> args = new ArrayList<>(List.of("-n", namespace, "exec", pod, "--"));
        args.addAll(List.of(command));
        return node.kubectl(null, args.toArray(String[]::new)).orFail().stdout();
    }

    private static io.fabric8.kubernetes.api.model.Namespace namespace(String name, Map<String, String> labels) {
        return new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(labels)
                .endMetadata()
                .build();
    }

    /** No security context at all: mutation fills it in. Writes a file to an emptyDir, then sleeps. */
    private static Pod barePod(String name, String image) {
        return new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("app")
                .withImage(image)
                .withImagePullPolicy("IfNotPresent")
                .withCommand("/bin/sh", "-c", "touch /data/written && exec sleep 3600")
                .addNewVolumeMount()
                .withName("data")
                .withMountPath("/data")
                .endVolumeMount()
                .endContainer()
                .addNewVolume()
                .withName("data")
                .withNewEmptyDir()
                .endEmptyDir()
                .endVolume()
                .withTerminationGracePeriodSeconds(0L)
                .endSpec()
                .build();
    }

    /** runAsNonRoot: true and nothing else: whether it can run is up to the image's USER. */
    private static Pod nonRootOnly(String name, String image) {
        Pod p = barePod(name, image);
        p.getSpec()
                .setSecurityContext(new io.fabric8.kubernetes.api.model.PodSecurityContextBuilder()
                        .withRunAsNonRoot(true)
                        .build());
        return p;
    }

    private static Pod rootPod(String name) {
        Pod p = barePod(name, NodeImages.BUSYBOX_ROOT);
        p.getSpec()
                .setSecurityContext(new io.fabric8.kubernetes.api.model.PodSecurityContextBuilder()
                        .withRunAsUser(0L)
                        .build());
        return p;
    }

    private static Pod gated(Pod p) {
        p.getSpec().setSchedulingGates(List.of(new io.fabric8.kubernetes.api.model.PodSchedulingGate(GATE)));
        return p;
    }

    /** The image's name from the tarball's manifest.json (docker-archive format). */
    private static String repoTag(Path tar) throws IOException {
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                if (e.getName().equals("manifest.json")) {
                    JsonNode manifest = JSON.readTree(in.readAllBytes());
                    return manifest.get(0).path("RepoTags").get(0).asText();
                }
            }
        }
        throw new IllegalStateException("no manifest.json in " + tar);
    }
}
