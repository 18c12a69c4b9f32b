package dev.rootguard.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.KeepAliveClient;
import dev.rootguard.testing.KeepAliveClient.Outcome;
import dev.rootguard.testing.Pem;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.WebhookProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM under load, against the packaged webhook: readiness turns false at once, requests keep
 * being answered (each with Connection: close, so kept-alive clients move on) until shortly before
 * the configured delay ends, then new connections are refused, nothing sent on an open connection is
 * lost, and the process exits well within a pod's grace period.
 */
class GracefulShutdownIT {
    private static final Path DIR = Path.of("target", "e2e", "shutdown").toAbsolutePath();
    private static final long DELAY_MS = 2000;

    record Sample(long sentAt, long doneAt, KeepAliveClient.Result result) {}

    @Test
    void sigtermUnderLoadLosesNoRequest() throws Exception {
        Files.createDirectories(DIR);
        Process gen = new ProcessBuilder("bash", "certs/generate.sh", "--out", DIR.toString())
                .redirectErrorStream(true)
                .start();
        gen.getInputStream().readAllBytes();
        assertEquals(0, gen.waitFor());
        Supplier<SSLSocketFactory> tls =
                () -> Pem.context(DIR.resolve("ca.crt"), null, null).getSocketFactory();
        byte[] root = Reviews.recorded("pod-create-root").toString().getBytes(StandardCharsets.UTF_8);
        byte[] deployment =
                Reviews.recorded("deployment-create-root").toString().getBytes(StandardCharsets.UTF_8);

        WebhookProcess webhook = new WebhookProcess(
                DIR.resolve("tls.crt"),
                DIR.resolve("tls.key"),
                DIR.resolve("no-kubeconfig"),
                Map.of("quarkus.shutdown.delay", DELAY_MS + "ms", "rootguard.namespace-labels.enabled", "false"));
        Queue<Sample> samples = new ConcurrentLinkedQueue<>();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong notReadyAt = new AtomicLong(-1);
        List<Thread> threads = new ArrayList<>();
        long terminatedAt;
        boolean exited;
        try {
            webhook.start();
            for (int i = 0; i < 4; i++) {
                byte[] body = i % 2 == 0 ? root : deployment;
                threads.add(start(() -> {
                    try (KeepAliveClient c = new KeepAliveClient(tls, "127.0.0.1", webhook.port())) {
                        while (running.get()) {
                            long sent = System.nanoTime();
                            KeepAliveClient.Result r = c.post("/validate", body);
                            samples.add(new Sample(sent, System.nanoTime(), r));
                            if (r.outcome() == Outcome.REFUSED) {
                                sleep(20);
                            }
                        }
                    }
                }));
            }
            HttpClient health =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            threads.add(start(() -> {
                while (running.get() && notReadyAt.get() < 0) {
                    try {
                        HttpResponse<Void> r = health.send(
                                HttpRequest.newBuilder(URI.create(
                                                "http://127.0.0.1:" + webhook.managementPort() + "/q/health/ready"))
                                        .timeout(Duration.ofSeconds(5))
                                        .build(),
                                HttpResponse.BodyHandlers.discarding());
                        if (r.statusCode() == 503) {
                            notReadyAt.compareAndSet(-1, System.nanoTime());
                        }
                    } catch (Exception e) {
                        // a slow or refused probe is not an answer; keep polling
                    }
                    sleep(10);
                }
            }));
            // Load first: SIGTERM arrives while kept-alive connections are busy.
            await("200 answers before SIGTERM")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> samples.stream()
                                    .filter(x -> x.result.outcome() == Outcome.ANSWERED)
                                    .count()
                            >= 200);
            terminatedAt = System.nanoTime();
            webhook.terminate();
            exited = webhook.awaitExit(Duration.ofSeconds(25));
            sleep(300);
        } finally {
            running.set(false);
            for (Thread t : threads) {
                t.join(15_000);
            }
            webhook.stop();
        }

        List<Sample> all = new ArrayList<>(samples);
        long before = all.stream()
                .filter(s -> s.sentAt < terminatedAt && s.result.outcome() == Outcome.ANSWERED)
                .count();
        List<Sample> afterTerm =
                all.stream().filter(s -> s.sentAt >= terminatedAt).toList();
        long answeredAfter = afterTerm.stream()
                .filter(s -> s.result.outcome() == Outcome.ANSWERED)
                .count();
        List<Sample> lost =
                all.stream().filter(s -> s.result.outcome() == Outcome.LOST).toList();
        long firstRefused = all.stream()
                .filter(s -> s.result.outcome() == Outcome.REFUSED)
                .mapToLong(Sample::sentAt)
                .min()
                .orElse(-1);
        String summary = "answered before SIGTERM " + before + ", after " + answeredAfter + ", lost " + lost.size()
                + (lost.isEmpty() ? "" : " e.g. " + lost.get(0).result.error()) + "; lost at ms after SIGTERM: "
                + lost.stream()
                        .map(s -> ms(s.sentAt - terminatedAt) + "-" + ms(s.doneAt - terminatedAt))
                        .toList()
                + "; first refused at " + (firstRefused < 0 ? "never" : ms(firstRefused - terminatedAt))
                + "; not ready at "
                + (notReadyAt.get() < 0 ? "never" : ms(notReadyAt.get() - terminatedAt))
                + "; kept open after SIGTERM at "
                + afterTerm.stream()
                        .filter(s -> s.result.outcome() == Outcome.ANSWERED && !s.result.connectionClose())
                        .map(s -> ms(s.sentAt - terminatedAt))
                        .toList();
        System.out.println("graceful shutdown: " + summary);

        assertTrue(exited, "the process exits within the grace period");
        assertTrue(before >= 200, summary);
        assertTrue(lost.isEmpty(), summary);
        assertTrue(
                all.stream()
                        .filter(s -> s.result.outcome() == Outcome.ANSWERED)
                        .allMatch(s -> s.result.status() == 200),
                "every answer is a 200 AdmissionReview, none a 503");
        assertTrue(
                notReadyAt.get() > 0 && ms(notReadyAt.get() - terminatedAt) < 1000,
                "readiness turns false right after SIGTERM: "
                        + (notReadyAt.get() < 0 ? "never" : ms(notReadyAt.get() - terminatedAt) + " ms"));
        assertTrue(answeredAfter >= 10, "requests are still answered during the shutdown delay: " + summary);
        // Readiness and the connection handling flip in consecutive shutdown listeners; allow them 100 ms apart.
        assertTrue(
                afterTerm.stream()
                        .filter(s ->
                                s.sentAt > notReadyAt.get() + 100_000_000L && s.result.outcome() == Outcome.ANSWERED)
                        .allMatch(s -> s.result.connectionClose()),
                "once shutting down, every answer closes its kept-alive connection");
        assertTrue(firstRefused > 0, "after the delay the listener is closed and connections are refused");
        // New connections are refused only in the delay's last quarter (at most 0.5 s), so nothing accepted is cut.
        assertTrue(
                ms(firstRefused - terminatedAt) >= DELAY_MS - Math.min(500, DELAY_MS / 4) - 100,
                "new connections are accepted until shortly before the delay ends: first refused "
                        + ms(firstRefused - terminatedAt) + " ms after SIGTERM");
    }

    private static Thread start(Runnable r) {
        Thread t = new Thread(r);
        t.start();
        return t;
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
