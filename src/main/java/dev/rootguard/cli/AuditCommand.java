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
import dev.rootguard.policy.ImageFacts;
import dev.rootguard.policy.ImageInfo;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.rule.RuleRegistry;
import dev.rootguard.registry.ImageLookups;
import dev.rootguard.registry.LookupMetrics;
import dev.rootguard.registry.LookupSettings;
import dev.rootguard.registry.OfflineImages;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
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

    @Option(
            names = "--resolve-images",
            description = "Look up the USER of every container's image (in --image-archive, else its registry):"
                    + " rule image-user applies, and the report lists each image's user and digest.")
    boolean resolveImages;

    @Option(
            names = "--image-archive",
            paramLabel = "DIR|TAR",
            description = "Images to look up offline: an OCI image layout directory or an image tarball (OCI or"
                    + " docker save, optionally gzipped). Repeatable; implies --resolve-images.")
    List<Path> imageArchives = new ArrayList<>();

    @Option(
            names = "--offline",
            description =
                    "With --resolve-images: never contact a registry; images not in --image-archive stay unknown.")
    boolean offline;

    @Option(
            names = "--registries",
            paramLabel = "GLOBS",
            split = ",",
            defaultValue = "*",
            description = "With --resolve-images: registry hosts that may be contacted (default: any).")
    List<String> registries = new ArrayList<>();

    @Option(
            names = "--docker-config",
            paramLabel = "FILE",
            description = "With --resolve-images: registry credentials, a Docker config.json (default: none,"
                    + " anonymous).")
    Path dockerConfig;

    @Option(
            names = "--registry-ca",
            paramLabel = "FILE",
            description =
                    "With --resolve-images: PEM certificate authorities trusted for registries besides the JVM's.")
    Path registryCa;

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
        try (ImageSources images = imageSources()) {
            if (!files.isEmpty()) {
                Auditor auditor = images.apply(
                        new Auditor(engine, policy, namespaces, namespace == null ? "default" : namespace));
                results.addAll(
                        auditor.audit(ManifestReader.read(files, io.in())).results());
            }
            if (cluster) {
                try {
                    results.addAll(scanCluster(engine, policy, images));
                } catch (KubernetesClientException e) {
                    io.err().println("rootguard audit: cannot read the cluster: " + e.getMessage());
                    return ExitCode.ERROR;
                }
            }
        } catch (OfflineImages.UnreadableException | IllegalArgumentException e) {
            io.err().println("rootguard audit: " + e.getMessage());
            return ExitCode.ERROR;
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

    /**
     * Where {@code --resolve-images} finds image users: the archives first, then (unless
     * {@code --offline}) the registries, with no admission budget: each lookup gets its timeout.
     */
    private ImageSources imageSources() throws OfflineImages.UnreadableException {
        if (!resolveImages && imageArchives.isEmpty()) {
            return new ImageSources(null, null);
        }
        LookupSettings settings = LookupSettings.defaults(registries);
        if (dockerConfig != null) {
            settings = settings.withDockerConfig(dockerConfig);
        }
        if (registryCa != null) {
            settings = settings.withCaFile(registryCa);
        }
        // Nothing waits on the CLI: a lookup may take its whole timeout, for each of a few requests.
        settings = settings.withBudget(settings.timeout().multipliedBy(4));
        OfflineImages archives = new OfflineImages(settings.platforms());
        for (Path p : imageArchives) {
            archives.add(p);
        }
        return new ImageSources(archives, offline ? null : new ImageLookups(settings, LookupMetrics.none()));
    }

    /** The archives and registry lookups of one run, closed at its end. */
    private record ImageSources(OfflineImages archives, ImageLookups lookups) implements AutoCloseable {
        Auditor apply(Auditor auditor) {
            return archives == null ? auditor : auditor.resolvingImages(this::resolve);
        }

        ImageFacts resolve(Set<String> images) {
            Map<String, ImageInfo> out = new LinkedHashMap<>();
            Set<String> rest = new LinkedHashSet<>();
            for (String image : images) {
                archives.get(image).ifPresentOrElse(i -> out.put(image, i), () -> rest.add(image));
            }
            if (lookups != null && !rest.isEmpty()) {
                out.putAll(lookups.resolve(rest).join().images());
                rest.removeAll(out.keySet());
            }
            for (String image : rest) {
                out.put(
                        image,
                        ImageInfo.failed(
                                image,
                                lookups == null
                                        ? "not in the --image-archive inputs, and --offline forbids registry lookups"
                                        : "its registry is not in --registries"));
            }
            return new ImageFacts(out);
        }

        @Override
        public void close() {
            if (lookups != null) {
                lookups.close();
            }
        }
    }

    private List<AuditReport.Result> scanCluster(Engine engine, PolicyConfig policy, ImageSources images)
            throws Exception {
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
            Auditor auditor = images.apply(new Auditor(
                    engine,
                    policy,
                    policyOptions.namespaces(ns -> labels.getOrDefault(ns, NamespacePolicy.UNKNOWN)),
                    "default"));
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
