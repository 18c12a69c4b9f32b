package dev.rootguard.bench;

import dev.rootguard.e2e.Webhooks;
import dev.rootguard.testing.ControlPlane;
import dev.rootguard.testing.WebhookProcess;
import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Pod creates through a real kube-apiserver with no webhook, with the floor webhook (optional) and
 * with rootguard's mutating and validating webhooks, reporting creates per second, the create
 * latency each client saw (p50, p99), and the API server's own
 * {@code apiserver_admission_webhook_admission_duration_seconds} (p50, p99) per webhook, at each
 * level of concurrency. The latency the webhooks add per create is the difference of the client-side
 * latencies at the same concurrency; the API server's histogram is coarse (its first bucket ends at
 * 5 ms).
 *
 * <p>Every target is registered once, each selecting namespaces by the label
 * {@value #TARGET_LABEL}, and the targets take turns: each level runs {@code bench.rounds} rounds
 * (default 5) in which every target creates its share of the pods in a namespace of its own, in an
 * order that rotates from round to round. A shared machine's slow spells then fall on all targets
 * alike instead of on whichever phase ran during them. In the no-webhook rounds the registrations
 * exist but match nothing, as for any excluded namespace.
 *
 * <pre>java -cp ... dev.rootguard.bench.ApiServerBenchmark PODS "1 8" OUT.tsv</pre>
 *
 * Run by bench/run.sh; prints a TSV line per target and level: phase, clients, pods, seconds,
 * creates/s, failures, create p50/p99 ms, mutating p50/p99 ms, validating p50/p99 ms, and the mean
 * time inside rootguard's handlers per mutating and validating call (from its own
 * {@code rootguard_admission_duration_seconds} sum and count). The webhook runs as in production
 * (the packaged jar, HTTP/1.1; -Dbench.http2=true to offer HTTP/2, which the API server uses for
 * loopback webhook URLs only). With -Dbench.echo=PATH (provision/echo-webhook, built by
 * provision/install-echo-webhook.sh), the floor takes part: the same registrations answered by a
 * webhook with no policy, what any webhook adds here. With -Dbench.compliant=true the pods already carry every field
 * rootguard would default, so its mutating webhook returns no patch.
 */
public final class ApiServerBenchmark {
    static final String TARGET_LABEL = "bench.rootguard.dev/target";

    private ApiServerBenchmark() {}

    /** A target: its phase name, its namespace label value, its webhook names, and rootguard's process (or null). */
    private record Target(String phase, String label, String mutateName, String validateName, WebhookProcess webhook) {}

    /** What one round of creates measured. */
    private record Round(long[] latencies, double seconds, int failures) {}

    public static void main(String[] args) throws Exception {
        int pods = Integer.parseInt(args[0]);
        List<Integer> levels = Arrays.stream(args[1].trim().split("[ ,]+"))
                .map(Integer::parseInt)
                .toList();
        Path out = Path.of(args[2]);
        int rounds = Math.max(1, Integer.getInteger("bench.rounds", 5));
        KubeAPIServer server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(ControlPlane.cacheDir().toString())
                .withOfflineMode(true)
                .withApiServerVersion(ControlPlane.version())
                .withUpdateKubeConfig(false)
                .withApiServerFlag("--advertise-address", "127.0.0.1")
                // 1.37 refuses a loopback advertise address while it reconciles the kubernetes Service's endpoints;
                // nothing reaches the API server through that Service here.
                .withApiServerFlag("--endpoint-reconciler-type", "none")
                .build());
        server.start();
        List<String> lines = new ArrayList<>();
        lines.add(
                "phase\tclients\tpods\tseconds\tcreates_per_s\tfailures\tcreate_p50_ms\tcreate_p99_ms\tmutate_p50_ms\tmutate_p99_ms"
                        + "\tvalidate_p50_ms\tvalidate_p99_ms\tinside_mutate_ms\tinside_validate_ms");
        Path kubeconfig = Files.createTempFile("bench-kubeconfig", ".yaml");
        Files.writeString(kubeconfig, server.getKubeConfigYaml());
        Process floor = null;
        WebhookProcess rootguard = null;
        try (KubernetesClient client = new KubernetesClientBuilder()
                .withConfig(Config.fromKubeconfig(server.getKubeConfigYaml()))
                .build()) {
            List<Target> targets = new ArrayList<>();
            targets.add(new Target("no-webhooks", "none", null, null, null));
            Path certs = Path.of("target", "bench", "certs").toAbsolutePath();
            Process gen = new ProcessBuilder("bash", "certs/generate.sh", "--out", certs.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            String caBundle = new String(gen.getInputStream().readAllBytes()).trim();
            if (gen.waitFor() != 0) {
                throw new IllegalStateException("certs/generate.sh failed");
            }
            String echo = System.getProperty("bench.echo");
            if (echo != null && !echo.isEmpty()) {
                // The floor: the same two webhook registrations answered by a webhook with no policy at all.
                int port = WebhookProcess.freePort();
                floor = new ProcessBuilder(
                                echo,
                                "-addr",
                                "127.0.0.1:" + port,
                                "-cert",
                                certs.resolve("tls.crt").toString(),
                                "-key",
                                certs.resolve("tls.key").toString())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start();
                register(client, "bench-echo", "echo.bench", "https://127.0.0.1:" + port, caBundle, "echo");
                targets.add(new Target("echo-webhooks", "echo", "mutate.echo.bench", "validate.echo.bench", null));
            }
            rootguard = new WebhookProcess(
                            certs.resolve("tls.crt"),
                            certs.resolve("tls.key"),
                            kubeconfig,
                            Map.of(
                                    "quarkus.log.category.\"dev.rootguard\".level",
                                    "WARN",
                                    "quarkus.http.http2",
                                    System.getProperty("bench.http2", "false")))
                    .start();
            register(
                    client,
                    "rootguard",
                    "rootguard.dev",
                    "https://127.0.0.1:" + rootguard.port(),
                    caBundle,
                    "rootguard");
            targets.add(new Target(
                    "with-webhooks", "rootguard", "mutate.rootguard.dev", "validate.rootguard.dev", rootguard));
            // The API server reads webhook registrations from an informer.
            Thread.sleep(2000);
            // Warm every target (and the API server's clients for them) before measuring.
            level(client, targets, "warmup", Math.max(50, pods / 5) * targets.size(), levels.get(levels.size() - 1), 1);
            for (int c : levels) {
                lines.addAll(level(client, targets, null, pods, c, rounds));
            }
        } finally {
            if (rootguard != null) {
                rootguard.close();
            }
            if (floor != null) {
                floor.destroy();
                floor.waitFor();
            }
            server.stop();
            Files.deleteIfExists(kubeconfig);
        }
        Files.write(out, lines);
        lines.forEach(System.out::println);
        // Client and informer threads are not daemons; this is a command, so end it.
        System.exit(0);
    }

    /**
     * Registers the production mutating and validating webhooks at URL under their own names
     * ({@code mutate.SUFFIX}, {@code validate.SUFFIX}), selecting only namespaces labelled
     * {@value #TARGET_LABEL}=LABEL.
     */
    private static void register(
            KubernetesClient client, String configName, String suffix, String url, String caBundle, String label) {
        LabelSelector selector =
                new LabelSelectorBuilder().addToMatchLabels(TARGET_LABEL, label).build();
        client.resource(Webhooks.mutating(url, caBundle, List.of("kube-system"))
                        .edit()
                        .editMetadata()
                        .withName(configName)
                        .endMetadata()
                        .editFirstWebhook()
                        .withName("mutate." + suffix)
                        .withNamespaceSelector(selector)
                        .endWebhook()
                        .build())
                .serverSideApply();
        client.resource(Webhooks.validating(url, caBundle, List.of("kube-system"))
                        .edit()
                        .editMetadata()
                        .withName(configName)
                        .endMetadata()
                        .editFirstWebhook()
                        .withName("validate." + suffix)
                        .withNamespaceSelector(selector)
                        .endWebhook()
                        .build())
                .serverSideApply();
    }

    /**
     * Creates PODS pods per target at CONCURRENCY, in ROUNDS rounds in which the targets take turns
     * (the order rotating each round), and returns a TSV line per target (none when WARMUP names
     * a warm-up).
     */
    private static List<String> level(
            KubernetesClient client, List<Target> targets, String warmup, int pods, int concurrency, int rounds)
            throws Exception {
        // Every namespace up front, so no round pays for the API server's or rootguard's first sight of one.
        String prefix = "bench-" + (warmup != null ? warmup : "c" + concurrency) + "-";
        for (Target t : targets) {
            for (int r = 0; r < rounds; r++) {
                client.namespaces()
                        .resource(new NamespaceBuilder()
                                .withNewMetadata()
                                .withName(prefix + t.label() + "-" + r)
                                .addToLabels(TARGET_LABEL, t.label())
                                .endMetadata()
                                .build())
                        .serverSideApply();
            }
        }
        Thread.sleep(1000);
        Map<String, double[]> before = webhookHistograms(client);
        WebhookProcess rootguard = targets.stream()
                .map(Target::webhook)
                .filter(Objects::nonNull)
                .findFirst()
                .orElse(null);
        Map<String, double[]> insideBefore =
                rootguard == null ? Map.of() : insideHistograms(rootguard.management("/q/metrics"));
        Map<Target, List<Round>> results = new LinkedHashMap<>();
        targets.forEach(t -> results.put(t, new ArrayList<>()));
        int perRound = Math.max(1, pods / rounds);
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < targets.size(); i++) {
                Target t = targets.get((i + r) % targets.size());
                results.get(t).add(createPods(client, prefix + t.label() + "-" + r, perRound, concurrency));
            }
        }
        Map<String, double[]> after = webhookHistograms(client);
        Map<String, double[]> insideAfter =
                rootguard == null ? Map.of() : insideHistograms(rootguard.management("/q/metrics"));
        for (Target t : targets) {
            for (int r = 0; r < rounds; r++) {
                client.namespaces().withName(prefix + t.label() + "-" + r).delete();
            }
        }
        if (warmup != null) {
            return List.of();
        }
        List<String> lines = new ArrayList<>();
        for (Target t : targets) {
            List<Round> rs = results.get(t);
            long[] latencies = rs.stream()
                    .flatMapToLong(x -> Arrays.stream(x.latencies()))
                    .sorted()
                    .toArray();
            double seconds = rs.stream().mapToDouble(Round::seconds).sum();
            int failures = rs.stream().mapToInt(Round::failures).sum();
            double[] m = t.mutateName() == null
                    ? new double[] {Double.NaN, Double.NaN}
                    : quantiles(before, after, t.mutateName());
            double[] v = t.validateName() == null
                    ? new double[] {Double.NaN, Double.NaN}
                    : quantiles(before, after, t.validateName());
            double insideMutate = t.webhook() == null ? Double.NaN : mean(insideBefore, insideAfter, "mutate");
            double insideValidate = t.webhook() == null ? Double.NaN : mean(insideBefore, insideAfter, "validate");
            int n = latencies.length;
            lines.add(String.format(
                    Locale.ROOT,
                    "%s\t%d\t%d\t%.2f\t%.1f\t%d\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s",
                    t.phase(),
                    concurrency,
                    n,
                    seconds,
                    n / seconds,
                    failures,
                    latencies[n / 2] / 1e6,
                    latencies[Math.min(n - 1, n * 99 / 100)] / 1e6,
                    fmt(m[0]),
                    fmt(m[1]),
                    fmt(v[0]),
                    fmt(v[1]),
                    fmt3(insideMutate),
                    fmt3(insideValidate)));
        }
        return lines;
    }

    /** Creates PODS pods in NS from CONCURRENCY threads. */
    private static Round createPods(KubernetesClient client, String ns, int pods, int concurrency) throws Exception {
        AtomicInteger failures = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        long[] latencies = new long[pods];
        long start = System.nanoTime();
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < pods; i++) {
            int n = i;
            futures.add(pool.submit(() -> {
                long t0 = System.nanoTime();
                try {
                    client.pods().inNamespace(ns).resource(pod("p" + n)).create();
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
        return new Round(latencies, seconds, failures.get());
    }

    /** A pod that needs rootguard's defaults, or with -Dbench.compliant=true one that already has them all. */
    static Pod pod(String name) {
        PodBuilder b = new PodBuilder().withNewMetadata().withName(name).endMetadata();
        if (Boolean.getBoolean("bench.compliant")) {
            return b.withNewSpec()
                    .withNewSecurityContext()
                    .withRunAsNonRoot(true)
                    .withRunAsUser(10001L)
                    .withRunAsGroup(10001L)
                    .withFsGroup(10001L)
                    .withNewSeccompProfile()
                    .withType("RuntimeDefault")
                    .endSeccompProfile()
                    .endSecurityContext()
                    .addNewContainer()
                    .withName("app")
                    .withImage("registry.example/app:1")
                    .withNewSecurityContext()
                    .withAllowPrivilegeEscalation(false)
                    .withNewCapabilities()
                    .withDrop("ALL")
                    .endCapabilities()
                    .endSecurityContext()
                    .endContainer()
                    .endSpec()
                    .build();
        }
        return b.withNewSpec()
                .addNewContainer()
                .withName("app")
                .withImage("registry.example/app:1")
                .endContainer()
                .endSpec()
                .build();
    }

    private static String fmt(double ms) {
        return Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%.2f", ms);
    }

    private static String fmt3(double ms) {
        return Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%.3f", ms);
    }

    /**
     * Sum and count of rootguard's own rootguard_admission_duration_seconds (body in to response
     * out, inside the handler), keyed by "webhook|sum" and "webhook|count": the part of the API
     * server's figure that is rootguard's work. The mean is exact, where quantiles from histogram
     * buckets would only say "below the first bucket".
     */
    static Map<String, double[]> insideHistograms(String metrics) {
        Map<String, double[]> out = new TreeMap<>();
        for (String line : metrics.split("\n")) {
            String key;
            if (line.startsWith("rootguard_admission_duration_seconds_sum{")) {
                key = "sum";
            } else if (line.startsWith("rootguard_admission_duration_seconds_count{")) {
                key = "count";
            } else {
                continue;
            }
            String labels = line.substring(line.indexOf('{') + 1, line.indexOf('}'));
            double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            out.merge(label(labels, "webhook") + "|" + key, new double[] {value}, (a, b) -> new double[] {a[0] + b[0]});
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
            out.merge(webhook + "|" + le, new double[] {count}, (a, b) -> new double[] {a[0] + b[0]});
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

    /** Mean in milliseconds over the phase, from the sum and count before and after it. */
    static double mean(Map<String, double[]> before, Map<String, double[]> after, String webhook) {
        double count = after.getOrDefault(webhook + "|count", new double[] {0})[0]
                - before.getOrDefault(webhook + "|count", new double[] {0})[0];
        double sum = after.getOrDefault(webhook + "|sum", new double[] {0})[0]
                - before.getOrDefault(webhook + "|sum", new double[] {0})[0];
        return count <= 0 ? Double.NaN : sum / count * 1000;
    }

    /** p50 and p99 in milliseconds, by linear interpolation inside the histogram bucket. */
    static double[] quantiles(Map<String, double[]> before, Map<String, double[]> after, String webhook) {
        TreeMap<Double, Double> buckets = new TreeMap<>();
        after.forEach((k, v) -> {
            if (k.startsWith(webhook + "|")) {
                String le = k.substring(webhook.length() + 1);
                double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
                double prev = before.getOrDefault(k, new double[] {0})[0];
                buckets.put(bound, v[0] - prev);
            }
        });
        if (buckets.isEmpty() || buckets.lastEntry().getValue() == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double total = buckets.lastEntry().getValue();
        return new double[] {quantile(buckets, total * 0.5) * 1000, quantile(buckets, total * 0.99) * 1000};
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
