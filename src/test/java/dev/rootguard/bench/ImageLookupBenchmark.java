package dev.rootguard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import dev.rootguard.testing.Registry;
import dev.rootguard.testing.RegistryImages;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.WebhookClient;
import dev.rootguard.testing.WebhookProcess;
import dev.rootguard.tls.DevCertificate;
import io.smallrye.certs.PemCertificateFiles;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import java.util.function.Predicate;

/**
 * The latency image lookups add to {@code /validate}, measured one request at a time against the
 * packaged webhook and the real registry on loopback: no lookup (an image of a registry not looked
 * up), a cold lookup (a tag never seen: manifest and config fetched), a cached one (the same image
 * again), the fallback when the registry never answers (the request waits its budget) and when it is
 * down (the failure is cached after the first request). Every answer is checked for the decision the
 * case must give; a wrong one fails the run. Writes a TSV: case, requests, p50_ms, p99_ms,
 * added_p50_ms (over no lookup), budget_fallbacks (answers decided without the image, its budget spent), wrong.
 *
 * <pre>java -cp ... dev.rootguard.bench.ImageLookupBenchmark REQUESTS OUT.tsv</pre>
 */
public final class ImageLookupBenchmark {
    private static final long BUDGET_MS = 250;

    public static void main(String[] args) throws Exception {
        int requests = Integer.parseInt(args[0]);
        Path out = Path.of(args[1]);
        Path dir = Files.createTempDirectory("rootguard-image-bench");
        PemCertificateFiles tls = DevCertificate.ensure(dir.resolve("tls"));
        Set<Socket> held = ConcurrentHashMap.newKeySet();
        try (Registry registry = Registry.start();
                ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread accept = new Thread(() -> {
                while (!silent.isClosed()) {
                    try {
                        held.add(silent.accept());
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            accept.setDaemon(true);
            accept.start();
            int downPort;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                downPort = s.getLocalPort();
            }
            String silentHost = "127.0.0.1:" + silent.getLocalPort();
            String downHost = "127.0.0.1:" + downPort;
            System.err.println("bench: pushing " + (requests + 1) + " images");
            List<String> cold = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                cold.add(RegistryImages.push(registry, "cold/app:" + i, null, "amd64", ImageFormat.OCI)
                        .reference());
            }
            String cached = RegistryImages.push(registry, "cached/app:1", null, "amd64", ImageFormat.OCI)
                    .reference();
            try (WebhookProcess webhook = new WebhookProcess(
                            tls.certFile(),
                            tls.keyFile(),
                            dir.resolve("no-kubeconfig"),
                            Map.of(
                                    "rootguard.namespace-labels.enabled",
                                    "false",
                                    "rootguard.images.registries",
                                    registry.host() + "," + silentHost + "," + downHost,
                                    "rootguard.images.ca-file",
                                    registry.caFile().toString(),
                                    "rootguard.images.budget",
                                    BUDGET_MS + "ms",
                                    "rootguard.images.timeout",
                                    "30s"))
                    .start()) {
                WebhookClient client = new WebhookClient(tls.certFile(), webhook.port());
                // Warm the JIT, the connection and the lookup path (on an image no case uses) first.
                run(client, Math.max(200, requests * 2), i -> "registry.example/app:1", a -> true);
                String warm = RegistryImages.push(registry, "warm/app:1", null, "amd64", ImageFormat.OCI)
                        .reference();
                // The first of these is a cold lookup that may spend the budget: any answer will do.
                run(client, Math.max(200, requests * 2), i -> warm, a -> true);
                List<String[]> rows = new ArrayList<>();
                double[] baseline =
                        run(client, requests, i -> "registry.example/app:" + i, ImageLookupBenchmark::noLookup);
                rows.add(row("no-lookup", baseline, baseline));
                // A cold lookup slower than the budget is a fallback, not a wrong answer: counted apart.
                rows.add(row(
                        "cold",
                        run(client, requests, cold::get, a -> rootFound(a) || warned(a, "gave no answer within")),
                        baseline));
                run(client, 1, i -> cached, ImageLookupBenchmark::rootFound);
                rows.add(row("cached", run(client, requests, i -> cached, ImageLookupBenchmark::rootFound), baseline));
                rows.add(row(
                        "fallback-no-answer",
                        run(
                                client,
                                Math.min(requests, 40),
                                i -> silentHost + "/app:" + i,
                                // The first few wait the budget; once the registry holds its share of
                                // the lookup threads, the next are refused at once.
                                a -> warned(a, "gave no answer within") || warned(a, "lookups running")),
                        baseline));
                run(client, 1, i -> downHost + "/app:1", a -> warned(a, "is unreachable"));
                rows.add(row(
                        "fallback-down-cached",
                        run(client, requests, i -> downHost + "/app:1", a -> warned(a, "is unreachable")),
                        baseline));
                StringBuilder tsv =
                        new StringBuilder("case\trequests\tp50_ms\tp99_ms\tadded_p50_ms\tbudget_fallbacks\twrong\n");
                for (String[] r : rows) {
                    tsv.append(String.join("\t", r)).append('\n');
                }
                Files.writeString(out, tsv);
                System.err.print(tsv);
                if (wrong > 0) {
                    System.err.println("bench: " + wrong + " answers were wrong");
                    System.exit(1);
                }
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    private static int wrong;
    private static int wrongInCase;
    private static int fellBackInCase;

    private static double[] run(WebhookClient client, int n, IntFunction<String> image, Predicate<JsonNode> check) {
        wrongInCase = 0;
        fellBackInCase = 0;
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            ObjectNode review = review(image.apply(i));
            long start = System.nanoTime();
            JsonNode answer = client.review("/validate", review);
            ms[i] = (System.nanoTime() - start) / 1e6;
            if (answer.path("warnings").toString().contains("gave no answer within")) {
                fellBackInCase++;
            }
            if (!check.test(answer)) {
                wrongInCase++;
                wrong++;
                System.err.println("bench: wrong answer for " + image.apply(i) + ": " + answer);
            }
        }
        Arrays.sort(ms);
        return ms;
    }

    private static String[] row(String name, double[] ms, double[] baseline) {
        return new String[] {
            name,
            Integer.toString(ms.length),
            String.format("%.2f", pct(ms, 50)),
            String.format("%.2f", pct(ms, 99)),
            String.format("%.2f", pct(ms, 50) - pct(baseline, 50)),
            Integer.toString(fellBackInCase),
            Integer.toString(wrongInCase)
        };
    }

    private static double pct(double[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    private static boolean noLookup(JsonNode a) {
        return !a.toString().contains("image-user");
    }

    private static boolean rootFound(JsonNode a) {
        return a.path("status").path("message").asText().contains("has no USER, so it runs as root");
    }

    private static boolean warned(JsonNode a, String text) {
        return a.path("warnings").toString().contains(text);
    }

    /** A pod that leaves its user to the image: runAsNonRoot: true, no runAsUser. */
    private static ObjectNode review(String image) {
        ObjectNode pod =
                WebhookClient.JSON.createObjectNode().put("apiVersion", "v1").put("kind", "Pod");
        pod.putObject("metadata").put("name", "p").put("namespace", "team-a");
        ObjectNode spec = pod.putObject("spec");
        spec.putObject("securityContext")
                .put("runAsNonRoot", true)
                .put("runAsGroup", 10000)
                .put("fsGroup", 10000);
        spec.putArray("containers").addObject().put("name", "app").put("image", image);
        return Reviews.create("", "v1", "Pod", "pods", "team-a", pod);
    }
}
