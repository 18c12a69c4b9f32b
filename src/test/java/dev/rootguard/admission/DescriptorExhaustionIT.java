package dev.rootguard.admission;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.Pem;
import dev.rootguard.testing.RawHttps;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.WebhookProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/**
 * The packaged webhook under a 1024 file-descriptor limit, flooded right after start-up with 1,100
 * TLS connections that send nothing: the connection cap keeps it below the limit (accept never fails
 * with "Too many open files"), connections within the cap are still served, no class is loaded for
 * the first time from the application's jars while the flood lasts (such a load needs a descriptor,
 * and a failed one wedges the class loader for good), and once the flood is gone new connections are
 * answered at once.
 */
class DescriptorExhaustionIT {
    private static final Path DIR = Path.of("target", "e2e", "descriptors").toAbsolutePath();
    private static final int LIMIT = 1024;
    private static final int FLOOD = 1_100;

    @Test
    void aConnectionFloodBeyondTheDescriptorLimitNeitherExhaustsNorWedgesTheServer() throws Exception {
        Files.createDirectories(DIR);
        Process gen = new ProcessBuilder("bash", "certs/generate.sh", "--out", DIR.toString())
                .redirectErrorStream(true)
                .start();
        gen.getInputStream().readAllBytes();
        assertEquals(0, gen.waitFor());
        SSLContext tls = Pem.context(DIR.resolve("ca.crt"), null, null);
        Path classLog = DIR.resolve("classes.log");
        Files.deleteIfExists(classLog);

        WebhookProcess webhook = new WebhookProcess(
                        DIR.resolve("tls.crt"),
                        DIR.resolve("tls.key"),
                        DIR.resolve("no-kubeconfig"),
                        Map.of(
                                "rootguard.namespace-labels.enabled",
                                "false",
                                "rootguard.admission.warm-up-requests",
                                "0"))
                .launcher(
                        List.of("prlimit", "--nofile=" + LIMIT + ":" + LIMIT),
                        List.of("-Xlog:class+load=info:file=" + classLog));
        List<RawHttps> held = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            webhook.start();
            Thread.sleep(1_000);
            long classesBefore = lines(classLog);
            AtomicInteger closedByServer = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            int[] peakFds = {0};
            for (int i = 0; i < FLOOD; i++) {
                pool.execute(() -> {
                    try {
                        RawHttps c = RawHttps.open(tls, webhook.port());
                        held.add(c);
                    } catch (IOException e) {
                        failed.incrementAndGet();
                    }
                });
            }
            pool.shutdown();
            // A wedged server stalls every handshake; fail in minutes rather than wait out 1,100 client timeouts.
            await().atMost(Duration.ofSeconds(180))
                    .pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> {
                        peakFds[0] = Math.max(peakFds[0], openFds(webhook.pid()));
                        assertTrue(
                                pool.isTerminated(),
                                () -> "the flood's handshakes did not finish within 180 s (" + held.size() + " open, "
                                        + failed.get() + " failed): the server stalled; see " + webhook.log());
                    });
            peakFds[0] = Math.max(peakFds[0], openFds(webhook.pid()));
            // Connections within the cap are still served while the flood holds the rest.
            List<RawHttps> open = new ArrayList<>();
            for (RawHttps c : held) {
                if (!c.closedWithin(1)) {
                    open.add(c);
                } else {
                    closedByServer.incrementAndGet();
                }
            }
            assertTrue(open.size() > 100, "connections within the cap must stay open: " + open.size());
            assertTrue(open.size() < LIMIT, open.size() + " connections open under a " + LIMIT + " descriptor limit");
            RawHttps.Response served = open.get(open.size() / 2)
                    .send("GET /nothing HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    .read();
            assertEquals(404, served.status());
            long classesDuring = lines(classLog);
            List<String> loaded = appClassesLoaded(classLog, classesBefore);

            held.forEach(RawHttps::close);
            held.clear();
            Thread.sleep(500);
            byte[] review = Reviews.recorded("pod-create-root").toString().getBytes(StandardCharsets.UTF_8);
            long recoveredAt = System.nanoTime();
            RawHttps.Response after;
            try (RawHttps c = RawHttps.open(tls, webhook.port())) {
                after = c.send(
                                ("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                                                + review.length + "\r\n\r\n")
                                        .getBytes(StandardCharsets.US_ASCII))
                        .send(review)
                        .read();
            }
            long ms = (System.nanoTime() - recoveredAt) / 1_000_000;
            String log = Files.readString(webhook.log());
            System.out.printf(
                    "descriptor flood: %d connections, %d kept open, %d closed by the cap, %d failed; peak %d descriptors"
                            + " (limit %d); %d app classes loaded during the flood; answered %d ms after the flood%n",
                    FLOOD, open.size(), closedByServer.get(), failed.get(), peakFds[0], LIMIT, loaded.size(), ms);

            assertEquals(200, after.status(), "the webhook must answer once the flood is gone");
            assertTrue(after.body().contains("\"allowed\":false"), after.body());
            assertTrue(
                    !log.contains("Too many open files"),
                    "accept must never run out of descriptors; see " + webhook.log());
            assertTrue(peakFds[0] < LIMIT, "peak " + peakFds[0] + " descriptors");
            assertTrue(
                    loaded.isEmpty(),
                    "classes first loaded from the application's jars during the flood (each needs a descriptor): "
                            + loaded.subList(0, Math.min(20, loaded.size())) + " (" + (classesDuring - classesBefore)
                            + " class-log lines)");
        } finally {
            pool.shutdownNow();
            held.forEach(RawHttps::close);
            webhook.stop();
        }
    }

    private static long lines(Path file) throws IOException {
        try (Stream<String> s = Files.lines(file)) {
            return s.count();
        }
    }

    /** Classes the application's class loader read from its jars after line {@code from} of the class log. */
    private static List<String> appClassesLoaded(Path classLog, long from) throws IOException {
        try (Stream<String> s = Files.lines(classLog)) {
            return s.skip(from)
                    .filter(l -> l.contains("quarkus-app/lib/main/")
                            || l.contains("quarkus-app/app/")
                            || l.contains("quarkus-app/quarkus/"))
                    .map(l -> l.replaceFirst("^.*\\] ", "").split(" ")[0])
                    .toList();
        }
    }

    private static int openFds(long pid) {
        String[] fds = Path.of("/proc", String.valueOf(pid), "fd").toFile().list();
        return fds == null ? 0 : fds.length;
    }
}
