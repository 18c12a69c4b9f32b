package dev.rootguard.bench;

import dev.rootguard.testing.ControlPlane;
import dev.rootguard.testing.WebhookProcess;
import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Pod creates through a real kube-apiserver, without webhooks and then with rootguard's mutating
 * and validating webhooks registered, reporting creates per second and the API server's own
 * {@code apiserver_admission_webhook_admission_duration_seconds} (p50, p99) per webhook, and the
 * create latency each client saw (p50, p99), at each level of concurrency. The latency the webhooks
 * add per create is the difference of the client-side latencies at the same concurrency; the API
 * server's histogram is coarse (its first bucket ends at 5 ms).
 *
 * <pre>java -cp ... dev.rootguard.bench.ApiServerBenchmark PODS "1 8" OUT.tsv</pre>
 *
 * Run by bench/run.sh; prints a TSV line per phase: phase, clients, pods, seconds, creates/s,
 * failures, create p50/p99 ms, mutating p50/p99 ms, validating p50/p99 ms. The webhook runs as in
 * production (the packaged jar, HTTP/1.1; -Dbench.http2=true to offer HTTP/2, which the API
 * server uses for loopback webhook URLs only). With -Dbench.echo=PATH (bench/targets/echo-webhook,
 * built by bench/run.sh), the same registrations are first answered by that webhook with no policy:
 * the floor of what any webhook adds here.
 */
public final class ApiServerBenchmark {

    private ApiServerBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int pods = Integer.parseInt(args[0]);
        List<Integer> levels = java.util.Arrays.stream(args[1].trim().split("[ ,]+")).map(Integer::parseInt).toList();
        Path out = Path.of(args[2]);
        KubeAPIServer server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(ControlPlane.cacheDir().toString()).withOfflineMode(true).withApiServerVersion(ControlPlane.version())
                .withUpdateKubeConfig(false).withApiServerFlag("--advertise-address", "127.0.0.1").build());
        server.start();
        List<String> lines = new ArrayList<>();
        lines.add("phase\tclients\tpods\tseconds\tcreates_per_s\tfailures\tcreate_p50_ms\tcreate_p99_ms\tmutate_p50_ms\tmutate_p99_ms"
                + "\tvalidate_p50_ms\tvalidate_p99_ms\tinside_mutate_ms\tinside_validate_ms");
        Path kubeconfig = Files.createTempFile("bench-kubeconfig", ".yaml");
        Files.writeString(kubeconfig, server.getKubeConfigYaml());
        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(server.getKubeConfigYaml())).build()) {
            phase(client, "warmup-plain", Math.max(50, pods / 5), levels.get(levels.size() - 1), null);
            for (int c : levels) {
                lines.add(phase(client, "no-webhooks", pods, c, null));
            }
            Path certs = Path.of("target", "bench", "certs").toAbsolutePath();
            Process gen = new ProcessBuilder("bash", "certs/generate.sh", "--out", certs.toString()).redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            String caBundle = new String(gen.getInputStream().readAllBytes()).trim();
            if (gen.waitFor() != 0) {
                throw new IllegalStateException("certs/generate.sh failed");
            }
            String echo = System.getProperty("bench.echo");
            if (echo != null && !echo.isEmpty()) {
                // The floor: the same two webhook registrations answered by a webhook with no policy at all.
                int port = WebhookProcess.freePort();
                Process floor = new ProcessBuilder(echo, "-addr", "127.0.0.1:" + port, "-cert", certs.resolve("tls.crt").toString(), "-key",
                        certs.resolve("tls.key").toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                try {
                    lines.addAll(measureWebhooks(client, "https://127.0.0.1:" + port, caBundle, "echo-webhooks", pods, levels, null));
                } finally {
                    floor.destroy();
                    floor.waitFor();
                }
            }
            try (WebhookProcess webhook = new WebhookProcess(certs.resolve("tls.crt"), certs.resolve("tls.key"), kubeconfig,
                    Map.of("quarkus.log.category.\"dev.rootguard\".level", "WARN", "quarkus.http.http2", System.getProperty("bench.http2", "false"))).start()) {
                lines.addAll(measureWebhooks(client, "https://127.0.0.1:" + webhook.port(), caBundle, "with-webhooks", pods, levels, webhook));
            }
        } finally {
            server.stop();
            Files.deleteIfExists(kubeconfig);
        }
        Files.write(out, lines);
        lines.forEach(System.out::println);
        // Client and informer threads are not daemons; this is a command, so end it.
        System.exit(0);
    }

    /** Registers both webhooks at URL, warms up, and measures a phase per level; webhook is rootguard's process, or null. */
    private static List<String> measureWebhooks(KubernetesClient client, String url, String caBundle, String name, int pods, List<Integer> levels,
            WebhookProcess webhook) throws Exception {
        client.resource(dev.rootguard.e2e.Webhooks.mutating(url, caBundle, List.of("kube-system"))).serverSideApply();
        client.resource(dev.rootguard.e2e.Webhooks.validating(url, caBundle, List.of("kube-system"))).serverSideApply();
        Thread.sleep(2000);
        // Warm the webhook (and the API server's client for it) before measuring.
        phase(client, "warmup-" + name, Math.max(50, pods / 5), levels.get(levels.size() - 1), webhook);
        List<String> lines = new ArrayList<>();
        for (int c : levels) {
            lines.add(phase(client, name, pods, c, webhook));
        }
        return lines;
    }

    private static String phase(KubernetesClient client, String name, int pods, int concurrency, WebhookProcess webhook) throws Exception {
        String ns = "bench-" + name + "-" + concurrency;
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).serverSideApply();
        Map<String, double[]> before = webhookHistograms(client);
        Map<String, double[]> insideBefore = webhook == null ? Map.of() : insideHistograms(webhook.management("/q/metrics"));
        AtomicInteger failures = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        long start = System.nanoTime();
        List<Future<?>> futures = new ArrayList<>();
        long[] latencies = new long[pods];
        for (int i = 0; i < pods; i++) {
            int n = i;
            futures.add(pool.submit(() -> {
                long t0 = System.nanoTime();
                try {
                    client.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withName("p" + n).endMetadata().withNewSpec()
                            .addNewContainer().withName("app").withImage("registry.example/app:1").endContainer().endSpec().build()).create();
                } catch (RuntimeException e) {
                    failures.incrementAndGet();
                } finally {
                    latencies[n] = System.nanoTime() - t0;
                }
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        Map<String, double[]> after = webhookHistograms(client);
        double[] m = quantiles(before, after, "mutate.rootguard.dev");
        double[] v = quantiles(before, after, "validate.rootguard.dev");
        double insideMutate = Double.NaN;
        double insideValidate = Double.NaN;
        if (webhook != null) {
            Map<String, double[]> insideAfter = insideHistograms(webhook.management("/q/metrics"));
            insideMutate = quantiles(insideBefore, insideAfter, "mutate")[0];
            insideValidate = quantiles(insideBefore, insideAfter, "validate")[0];
        }
        client.namespaces().withName(ns).delete();
        java.util.Arrays.sort(latencies);
        return String.format(Locale.ROOT, "%s\t%d\t%d\t%.2f\t%.1f\t%d\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s", name, concurrency, pods, seconds,
                pods / seconds, failures.get(), latencies[pods / 2] / 1e6, latencies[Math.min(pods - 1, pods * 99 / 100)] / 1e6,
                fmt(m[0]), fmt(m[1]), fmt(v[0]), fmt(v[1]), fmt3(insideMutate), fmt3(insideValidate));
    }

    private static String fmt(double ms) {
        return Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%.2f", ms);
    }

    private static String fmt3(double ms) {
        return Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%.3f", ms);
    }

    /**
     * Cumulative bucket counts of rootguard's own rootguard_admission_duration_seconds (body in to
     * response out, inside the handler), keyed by "webhook|le": the part of the API server's figure
     * that is rootguard's work.
     */
    static Map<String, double[]> insideHistograms(String metrics) {
        Map<String, double[]> out = new TreeMap<>();
        for (String line : metrics.split("\n")) {
            if (!line.startsWith("rootguard_admission_duration_seconds_bucket{")) {
                continue;
            }
            String labels = line.substring(line.indexOf('{') + 1, line.indexOf('}'));
            double count = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            out.merge(label(labels, "webhook") + "|" + label(labels, "le"), new double[] { count }, (a, b) -> new double[] { a[0] + b[0] });
        }
        return out;
    }

    /** Cumulative bucket counts of the webhook duration histogram, keyed by "webhook|le". */
    private static Map<String, double[]> webhookHistograms(KubernetesClient client) {
        String metrics = client.raw("/metrics");
        Map<String, double[]> out = new TreeMap<>();
        for (String line : metrics.split("\n")) {
            if (!line.startsWith("apiserver_admission_webhook_admission_duration_seconds_bucket{")) {
                continue;
            }
            String labels = line.substring(line.indexOf('{') + 1, line.indexOf('}'));
            String webhook = label(labels, "name");
            String le = label(labels, "le");
            double count = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            out.merge(webhook + "|" + le, new double[] { count }, (a, b) -> new double[] { a[0] + b[0] });
        }
        return out;
    }

    private static String label(String labels, String name) {
        int i = labels.indexOf(name + "=\"");
        if (i < 0) {
            return "";
        }
        int s = i + name.length() + 2;
        return labels.substring(s, labels.indexOf('"', s));
    }

    /** p50 and p99 in milliseconds, by linear interpolation inside the histogram bucket. */
    static double[] quantiles(Map<String, double[]> before, Map<String, double[]> after, String webhook) {
        TreeMap<Double, Double> buckets = new TreeMap<>();
        after.forEach((k, v) -> {
            if (k.startsWith(webhook + "|")) {
                String le = k.substring(webhook.length() + 1);
                double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
                double prev = before.getOrDefault(k, new double[] { 0 })[0];
                buckets.put(bound, v[0] - prev);
            }
        });
        if (buckets.isEmpty() || buckets.lastEntry().getValue() == 0) {
            return new double[] { Double.NaN, Double.NaN };
        }
        double total = buckets.lastEntry().getValue();
        return new double[] { quantile(buckets, total * 0.5) * 1000, quantile(buckets, total * 0.99) * 1000 };
    }

    private static double quantile(TreeMap<Double, Double> cumulative, double rank) {
        double prevBound = 0;
        double prevCount = 0;
        for (Map.Entry<Double, Double> e : cumulative.entrySet()) {
            if (e.getValue() >= rank) {
                if (e.getKey().isInfinite()) {
                    return prevBound;
                }
                double inBucket = e.getValue() - prevCount;
                return prevBound + (e.getKey() - prevBound) * (inBucket == 0 ? 0 : (rank - prevCount) / inBucket);
            }
            prevBound = e.getKey();
            prevCount = e.getValue();
        }
        return prevBound;
    }
}
