package dev.rootguard.admission;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rootguard.testing.ImageDefinition;
import dev.rootguard.testing.KeepAliveClient;
import dev.rootguard.testing.Pem;
import dev.rootguard.testing.RawUpload;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.WebhookClient;
import dev.rootguard.testing.WebhookProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.Test;

/**
 * Forty connections each send 8,000,000 bytes of an announced 8,000,001 and stall, against the packaged
 * webhook with the heap the chart gives it (the image's -XX:MaxRAMPercentage of the chart's memory limit,
 * and its collector and exit-on-OOM flags). The process must stay up and keep deciding, refuse what does
 * not fit with a 503, and hold no byte of the stalled bodies once their connections close.
 */
class StalledBodiesIT {
    private static final Path DIR = Path.of("target", "e2e", "stalled-bodies").toAbsolutePath();
    private static final Pattern IN_FLIGHT =
            Pattern.compile("(?m)^rootguard_admission_body_bytes_in_flight\\s+([0-9.eE+-]+)$");
    private static final Pattern HEAP =
            Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\",id=\"([^\"]+)\"}\\s+([0-9.eE+-]+)$");

    /** The chart's JVM: the image's flags, with the container's memory limit standing in for the cgroup's. */
    static List<String> chartJvm() throws Exception {
        String values = Files.readString(Path.of("charts/rootguard/values.yaml"));
        Matcher limit = Pattern.compile("(?s)resources:.*?limits:.*?memory:\\s*(\\d+)Mi")
                .matcher(values);
        assertTrue(limit.find(), "the chart sets a memory limit");
        String image = String.join(" ", ImageDefinition.read().entrypoint());
        Matcher percent = Pattern.compile("-XX:MaxRAMPercentage=(\\d+)").matcher(image);
        assertTrue(percent.find(), "the image sets MaxRAMPercentage");
        List<String> flags = new ArrayList<>(
                List.of("-XX:MaxRAM=" + limit.group(1) + "m", "-XX:MaxRAMPercentage=" + percent.group(1)));
        for (String flag : List.of("-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError")) {
            assertTrue(image.contains(flag), "the image runs with " + flag);
            flags.add(flag);
        }
        return flags;
    }

    private static double metric(WebhookProcess webhook, Pattern p) {
        Matcher m = p.matcher(webhook.management("/q/metrics"));
        assertTrue(m.find(), () -> p + " is exported");
        return Double.parseDouble(m.group(m.groupCount()));
    }

    private static double heapUsedMb(WebhookProcess webhook) {
        Matcher m = HEAP.matcher(webhook.management("/q/metrics"));
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(2));
        }
        return sum / (1024 * 1024);
    }

    @Test
    void fortyStalledNearLimitBodiesNeitherExhaustTheHeapNorStopDecisions() throws Exception {
        Files.createDirectories(DIR);
        Process gen = new ProcessBuilder("bash", "certs/generate.sh", "--out", DIR.toString())
                .redirectErrorStream(true)
                .start();
        gen.getInputStream().readAllBytes();
        assertEquals(0, gen.waitFor());
        SSLSocketFactory tls = Pem.context(DIR.resolve("ca.crt"), null, null).getSocketFactory();
        byte[] root = Reviews.recorded("pod-create-root").toString().getBytes(StandardCharsets.UTF_8);
        List<String> jvm = chartJvm();
        List<RawUpload> uploads = new ArrayList<>();
        StringBuilder report = new StringBuilder("JVM: " + jvm + "\n");
        try (WebhookProcess webhook = new WebhookProcess(
                        DIR.resolve("tls.crt"),
                        DIR.resolve("tls.key"),
                        DIR.resolve("no-kubeconfig"),
                        Map.of(
                                "rootguard.namespace-labels.enabled",
                                "false",
                                "rootguard.admission.warm-up-requests",
                                "0"))
                .jvmOptions(jvm)) {
            webhook.start();
            report.append(String.format("heap used after start: %.0f MB%n", heapUsedMb(webhook)));
            long start = System.nanoTime();
            for (int i = 0; i < 40; i++) {
                try {
                    uploads.add(new RawUpload(
                            tls,
                            "127.0.0.1",
                            webhook.port(),
                            i % 2 == 0 ? "/validate" : "/mutate",
                            8_000_001,
                            8_000_000));
                } catch (IOException e) {
                    assertTrue(
                            webhook.alive(),
                            "the webhook exited after " + i + " uploads (see target/e2e/webhook-*.log): " + e);
                    throw e;
                }
            }
            for (RawUpload u : uploads) {
                u.written().get(300, TimeUnit.SECONDS);
            }
            long sentMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(
                    webhook.alive(),
                    "the webhook is still running after 40 stalled uploads (see target/e2e/webhook-*.log)");
            double heapStalled = heapUsedMb(webhook);

            // Still deciding, on new connections, while all forty hold their connections open.
            try (KeepAliveClient c = new KeepAliveClient(() -> tls, "127.0.0.1", webhook.port())) {
                for (int i = 0; i < 20; i++) {
                    KeepAliveClient.Result r = c.post("/validate", root);
                    assertEquals(KeepAliveClient.Outcome.ANSWERED, r.outcome(), () -> r.error());
                    assertEquals(200, r.status(), r.body());
                    assertTrue(r.body().contains("\"allowed\":false"), r.body());
                }
            }
            int refused = 0;
            for (RawUpload u : uploads) {
                if (u.answer().isDone() && u.answer().join().status() == 503) {
                    JsonNode json =
                            WebhookClient.JSON.readTree(u.answer().join().body());
                    assertEquals(503, json.path("code").asInt());
                    assertTrue(json.path("message").asText().contains("too many request bodies"), json.toString());
                    refused++;
                }
            }
            double held = metric(webhook, IN_FLIGHT);
            assertTrue(refused >= 1, "uploads over the budget are refused");
            assertTrue(held <= 64 * 1024 * 1024, "bytes held within the budget: " + held);
            report.append(String.format(
                    "40 uploads of 8,000,000 bytes sent in %d ms; %d refused with 503; %.0f bytes held;"
                            + " heap used while they stall: %.0f MB%n",
                    sentMs, refused, held, heapStalled));

            uploads.forEach(RawUpload::close);
            await("the budget is back at zero once the connections close")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> metric(webhook, IN_FLIGHT) == 0);
            assertTrue(webhook.alive());
            report.append(String.format(
                    "after the connections closed: 0 bytes held, heap used %.0f MB%n", heapUsedMb(webhook)));
        } finally {
            uploads.forEach(RawUpload::close);
            Files.writeString(DIR.resolve("report.txt"), report);
        }
    }
}
