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
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Restarts under a real kube-apiserver while pods are being created, half compliant and half
 * running as root. With one webhook process the validating webhook (failurePolicy Fail) refuses
 * creates while it is away, and the window is measured and reported. With two processes behind one
 * address (haproxy in TCP mode, sending new connections only to processes whose readiness is up,
 * as a Service does), a rolling restart refuses no create. In both, no root pod is ever admitted.
 */
@ExtendWith(ControlPlane.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RolloutIT {
    private static final Path DIR = Path.of("target", "e2e", "rollout").toAbsolutePath();
    private static final String NS = "rollout";
    private KubernetesClient client;
    private String caBundle;

    record Create(long at, boolean root, boolean created, String error) {}

    @BeforeAll
    void setUp() throws Exception {
        // No client-side retries: the fabric8 client retries 5xx answers by default, which would hide refused creates.
        Config config = Config.fromKubeconfig(ControlPlane.get().kubeconfig());
        config.setRequestRetryBackoffLimit(0);
        client = new KubernetesClientBuilder().withConfig(config).build();
        Files.createDirectories(DIR);
        Process gen = new ProcessBuilder("bash", "certs/generate.sh", "--out", DIR.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        caBundle = new String(gen.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, gen.waitFor());
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(NS)
                        .endMetadata()
                        .build())
                .serverSideApply();
    }

    @AfterEach
    void unregister() {
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
        // Removing the thousands of pods a test creates can take longer than the 10 s request timeout on a busy
        // machine, and the next test must not meet this one's pods: delete with a longer timeout and wait until
        // none is left.
        Config config = Config.fromKubeconfig(ControlPlane.get().kubeconfig());
        config.setRequestTimeout((int) Duration.ofMinutes(2).toMillis());
        try (KubernetesClient cleanup =
                new KubernetesClientBuilder().withConfig(config).build()) {
            cleanup.pods().inNamespace(NS).withGracePeriod(0).delete();
            await().atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() ->
                            cleanup.pods().inNamespace(NS).list().getItems().isEmpty());
        }
    }

    /** Shutdown delay 4 s: longer than haproxy needs to see readiness go false (two checks 300 ms apart, 1 s timeout). */
    private WebhookProcess webhook() {
        return new WebhookProcess(
                DIR.resolve("tls.crt"),
                DIR.resolve("tls.key"),
                ControlPlane.get().kubeconfigFile(),
                Map.of("quarkus.shutdown.delay", "4s", "quarkus.log.category.\"dev.rootguard\".level", "WARN"));
    }

    private static String sample(List<Create> failures) {
        return failures.size() + " e.g. "
                + failures.stream()
                        .limit(3)
                        .map(c -> c.error.substring(0, Math.min(300, c.error.length())))
                        .toList();
    }

    private void register(int port) throws InterruptedException {
        String url = "https://127.0.0.1:" + port;
        client.resource(Webhooks.mutating(url, caBundle, List.of("kube-system")))
                .serverSideApply();
        client.resource(Webhooks.validating(url, caBundle, List.of("kube-system")))
                .serverSideApply();
        // In effect once a root pod is denied.
        await("webhooks in effect")
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    try {
                        client.pods()
                                .inNamespace(NS)
                                .resource(pod("probe", true))
                                .create();
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

    private static Pod pod(String name, boolean root) {
        PodBuilder b = new PodBuilder().withNewMetadata().withName(name).endMetadata();
        if (root) {
            return b.withNewSpec()
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
        // Compliant once the mutating webhook fills in the IDs.
        return b.withNewSpec()
                .addNewContainer()
                .withName("app")
                .withImage("registry.example/app:1")
                .endContainer()
                .endSpec()
                .build();
    }

    /** Creates pods from four threads until stopped; half of them would run as root. */
    private final class Creators implements AutoCloseable {
        final Queue<Create> results = new ConcurrentLinkedQueue<>();
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Thread> threads = new ArrayList<>();
        final AtomicInteger seq = new AtomicInteger();

        Creators start() {
            for (int t = 0; t < 4; t++) {
                Thread th = new Thread(() -> {
                    while (running.get()) {
                        int n = seq.incrementAndGet();
                        boolean root = n % 2 == 0;
                        try {
                            client.pods()
                                    .inNamespace(NS)
                                    .resource(pod("p" + n, root))
                                    .create();
                            results.add(new Create(System.nanoTime(), root, true, null));
                        } catch (KubernetesClientException e) {
                            results.add(new Create(System.nanoTime(), root, false, String.valueOf(e.getMessage())));
                        }
                    }
                });
                th.start();
                threads.add(th);
            }
            return this;
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }

        List<Create> refused() {
            return results.stream()
                    .filter(c -> !c.created && !c.error.contains("rootguard denied"))
                    .toList();
        }

        long rootAdmitted() {
            return results.stream().filter(c -> c.root && c.created).count();
        }

        long compliantCreated() {
            return results.stream().filter(c -> !c.root && c.created).count();
        }
    }

    private static void report(String line) throws IOException {
        System.out.println("rollout: " + line);
        Files.writeString(
                DIR.resolve("report.txt"),
                line + "\n",
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    @Test
    void restartingTheOnlyWebhookRefusesCreatesOnlyWhileItIsAwayAndNeverAdmitsRoot() throws Exception {
        try (WebhookProcess a = webhook()) {
            a.start();
            register(a.port());
            long stopAt;
            long readyAgain;
            Creators creators = new Creators().start();
            try {
                Thread.sleep(3000);
                stopAt = System.nanoTime();
                a.stop(); // SIGTERM, graceful: delay, then exit
                a.start(); // same ports; returns once ready
                readyAgain = System.nanoTime();
                Thread.sleep(3000);
            } finally {
                creators.close();
            }
            List<Create> refused = creators.refused();
            long first = refused.stream().mapToLong(Create::at).min().orElse(stopAt);
            long last = refused.stream().mapToLong(Create::at).max().orElse(stopAt);
            report(String.format(
                    "single webhook restarted: %d creates, %d refused (failurePolicy Fail) over %d ms, from %d ms after "
                            + "SIGTERM; webhook down-to-ready %d ms; root pods admitted %d",
                    creators.results.size(),
                    refused.size(),
                    (last - first) / 1_000_000,
                    (first - stopAt) / 1_000_000,
                    (readyAgain - stopAt) / 1_000_000,
                    creators.rootAdmitted()));
            assertEquals(0, creators.rootAdmitted(), "a root pod was admitted while the webhook was away");
            assertTrue(
                    refused.stream().allMatch(c -> c.error.contains("failed calling webhook")),
                    () -> "unexpected failures: " + sample(refused));
            assertTrue(
                    refused.stream()
                            .allMatch(c ->
                                    c.at < readyAgain + Duration.ofSeconds(2).toNanos()),
                    "creates are refused only while the webhook is away");
            assertTrue(
                    creators.results.stream().anyMatch(c -> c.created && c.at > readyAgain),
                    "creates succeed again after the restart");
        }
    }

    @Test
    void rollingRestartOfTwoWebhooksBehindOneAddressRefusesNoCreate() throws Exception {
        try (WebhookProcess a = webhook();
                WebhookProcess b = webhook()) {
            a.start();
            b.start();
            int lb = freePort();
            Path cfg = DIR.resolve("haproxy.cfg");
            Files.writeString(cfg, """
                    global
                      maxconn 2000
                    defaults
                      mode tcp
                      timeout connect 2s
                      timeout client 5m
                      timeout server 5m
                      retries 3
                      option redispatch
                    frontend webhooks
                      bind 127.0.0.1:%d
                      default_backend rootguard
                    backend rootguard
                      balance roundrobin
                      option httpchk GET /q/health/ready
                      http-check expect status 200
                      # Readiness as a Service sees it: two failed checks take an endpoint out, two good ones put it back.
                      default-server inter 300ms fall 2 rise 2
                      timeout check 1s
                      server a 127.0.0.1:%d check port %d
                      server b 127.0.0.1:%d check port %d
                    """.formatted(lb, a.port(), a.managementPort(), b.port(), b.managementPort()));
            Process haproxy = new ProcessBuilder("haproxy", "-db", "-f", cfg.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(DIR.resolve("haproxy.log").toFile())
                    .start();
            try {
                register(lb);
                Creators creators = new Creators().start();
                long started = System.nanoTime();
                try {
                    Thread.sleep(2000);
                    for (WebhookProcess w : List.of(a, b)) {
                        w.stop(); // readiness false at once, haproxy stops sending it connections, it drains and exits
                        w.start();
                        Thread.sleep(2000); // haproxy needs two good checks (rise 2) before it sends traffic again
                    }
                    Thread.sleep(1000);
                } finally {
                    creators.close();
                }
                List<Create> refused = creators.refused();
                report(String.format(
                        "two webhooks behind one address, rolling restart: %d creates in %d ms, %d refused, "
                                + "%d compliant created, root pods admitted %d",
                        creators.results.size(),
                        (System.nanoTime() - started) / 1_000_000,
                        refused.size(),
                        creators.compliantCreated(),
                        creators.rootAdmitted()));
                assertEquals(0, creators.rootAdmitted(), "a root pod was admitted during the rollout");
                assertTrue(refused.isEmpty(), () -> "creates refused during a rolling restart: " + sample(refused));
                assertTrue(creators.compliantCreated() > 20, "pods were created throughout");
            } finally {
                haproxy.destroy();
                if (!haproxy.waitFor(10, TimeUnit.SECONDS)) {
                    haproxy.destroyForcibly();
                }
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
