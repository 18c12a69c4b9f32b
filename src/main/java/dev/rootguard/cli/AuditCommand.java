package dev.rootguard.cli;

import dev.rootguard.audit.AuditReport;
import dev.rootguard.audit.Auditor;
import dev.rootguard.audit.Document;
import dev.rootguard.audit.ManifestReader;
import dev.rootguard.audit.format.ReportFormat;
import dev.rootguard.audit.format.ReportFormats;
import dev.rootguard.cluster.ClusterScanner;
import dev.rootguard.policy.Action;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.rule.RuleRegistry;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rootguard audit}: reports what the webhook would reject, in manifests or a live cluster. */
@Command(
        name = "audit",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description =
                "Reports what the webhook would reject, in manifests or in a live cluster, without enforcing anything.")
final class AuditCommand implements Callable<Integer> {
    private final CommandFactory io;

    AuditCommand(CommandFactory io) {
        this.io = io;
    }

    @Option(
            names = {"-f", "--filename"},
            paramLabel = "FILE|DIR|-",
            description =
                    "Manifests: YAML or JSON files, directories (recursively), or - for standard input. Repeatable.")
    List<String> files = new ArrayList<>();

    @Option(names = "--cluster", description = "Audit the objects in a live cluster.")
    boolean cluster;

    @Option(
            names = "--kubeconfig",
            paramLabel = "FILE",
            description = "Kubeconfig for --cluster (default: KUBECONFIG or ~/.kube/config).")
    Path kubeconfig;

    @Option(names = "--context", paramLabel = "NAME", description = "Kubeconfig context for --cluster.")
    String context;

    @Option(
            names = {"-n", "--namespace"},
            paramLabel = "NS",
            description =
                    "With --cluster: only this namespace (default: all). Offline: namespace for objects that name none (default: default).")
    String namespace;

    @Option(
            names = {"-A", "--all-namespaces"},
            description = "With --cluster: all namespaces (the default).")
    boolean allNamespaces;

    @Option(
            names = {"-o", "--output"},
            paramLabel = "FORMAT",
            defaultValue = "table",
            description = "table (default), json, yaml, junit or sarif.")
    String output;

    @Option(
            names = "--fail-on",
            paramLabel = "LEVEL",
            defaultValue = "enforce",
            description = "Exit 1 when a violation is at or above: enforce (default), warn, any, never.")
    String failOn;

    @Mixin
    PolicyOptions policyOptions = new PolicyOptions();

    @Override
    public Integer call() throws Exception {
        ReportFormat format;
        Action threshold;
        try {
            format = ReportFormats.named(output);
            threshold = failOnLevel(failOn);
        } catch (IllegalArgumentException e) {
            io.err().println("rootguard audit: " + e.getMessage());
            return ExitCode.ERROR;
        }
        if (files.isEmpty() && !cluster) {
            io.err().println("rootguard audit: give -f FILE|DIR|- or --cluster (see --help)");
            return ExitCode.ERROR;
        }
        if (allNamespaces && namespace != null) {
            io.err().println("rootguard audit: use either -n or -A");
            return ExitCode.ERROR;
        }
        RuleRegistry registry = RuleRegistry.standard();
        PolicyConfig policy;
        try {
            policy = policyOptions.policy(registry);
        } catch (IllegalArgumentException e) {
            io.err().println("rootguard audit: " + e.getMessage());
            return ExitCode.ERROR;
        }
        Function<String, NamespacePolicy> namespaces;
        try {
            namespaces = policyOptions.offlineNamespaces();
        } catch (IllegalArgumentException e) {
            io.err().println("rootguard audit: " + e.getMessage());
            return ExitCode.ERROR;
        }
        Engine engine = new Engine(registry);
        List<AuditReport.Result> results = new ArrayList<>();
        if (!files.isEmpty()) {
            Auditor auditor = new Auditor(engine, policy, namespaces, namespace == null ? "default" : namespace);
            results.addAll(auditor.audit(ManifestReader.read(files, io.in())).results());
        }
        if (cluster) {
            try {
                results.addAll(scanCluster(engine, policy));
            } catch (KubernetesClientException e) {
                io.err().println("rootguard audit: cannot read the cluster: " + e.getMessage());
                return ExitCode.ERROR;
            }
        }
        AuditReport report = new AuditReport(Auditor.summarize(results), results);
        io.out().print(format.render(report, registry, threshold));
        io.out().flush();
        if (report.summary().errors() > 0) {
            return ExitCode.ERROR;
        }
        boolean failing = threshold != null
                && results.stream()
                        .flatMap(r -> r.violations().stream())
                        .anyMatch(f -> f.action().atLeast(threshold));
        return failing ? ExitCode.VIOLATIONS : ExitCode.OK;
    }

    private List<AuditReport.Result> scanCluster(Engine engine, PolicyConfig policy) throws Exception {
        Config config = kubeconfig != null
                ? Config.fromKubeconfig(context, Files.readString(kubeconfig), kubeconfig.toString())
                : Config.autoConfigure(context);
        String clusterName = context != null
                ? context
                : config.getCurrentContext() != null
                        ? config.getCurrentContext().getName()
                        : config.getMasterUrl();
        boolean tty = System.console() != null;
        try (KubernetesClient client =
                new KubernetesClientBuilder().withConfig(config).build()) {
            ClusterScanner scanner = new ClusterScanner(client);
            Map<String, NamespacePolicy> labels = scanner.namespacePolicies();
            labels.forEach((ns, p) -> p.problems()
                    .forEach(problem -> io.err().println("rootguard audit: namespace " + ns + ": " + problem)));
            Auditor auditor = new Auditor(
                    engine,
                    policy,
                    policyOptions.namespaces(ns -> labels.getOrDefault(ns, NamespacePolicy.UNKNOWN)),
                    "default");
            List<HasMetadata> objects = scanner.scan(allNamespaces ? null : namespace, n -> {
                if (tty) {
                    io.err().print("\rrootguard: listed " + n + " objects...");
                    io.err().flush();
                }
            });
            if (tty) {
                io.err().print("\r\033[K");
                io.err().flush();
            }
            List<AuditReport.Result> out = new ArrayList<>();
            for (HasMetadata o : objects) {
                out.add(auditor.audit(Document.Source.cluster(clusterName), o));
            }
            return out;
        }
    }

    /** {@code --fail-on}: the lowest action that fails the run, or {@code null} for {@code never}. */
    static Action failOnLevel(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "enforce" -> Action.ENFORCE;
            case "warn" -> Action.WARN;
            case "any" -> Action.AUDIT;
            case "never" -> null;
            default ->
                throw new IllegalArgumentException("--fail-on must be enforce, warn, any or never, not '" + s + "'");
        };
    }
}
