package dev.rootguard.cli;

import dev.rootguard.audit.AuditReport;
import dev.rootguard.audit.Auditor;
import dev.rootguard.audit.Document;
import dev.rootguard.audit.Fixer;
import dev.rootguard.audit.Formats;
import dev.rootguard.audit.ManifestReader;
import dev.rootguard.cluster.ClusterScanner;
import dev.rootguard.config.CliConfig;
import dev.rootguard.policy.Action;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.IdRange;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.policy.NamespaceRanges;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.rule.Rule;
import dev.rootguard.policy.rule.RuleRegistry;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The command line: {@code rootguard audit}, {@code rootguard fix} and {@code rootguard rules}.
 * Exit codes: 0 nothing at or above {@code --fail-on}; 1 violations at or above it (or, for fix,
 * objects still rejected); 2 usage or input errors.
 */
@Command(name = "rootguard", mixinStandardHelpOptions = true, version = "rootguard 0.1.0",
        description = "Admission webhook and policy audit for pods that must not run as root.",
        subcommands = { Cli.Audit.class, Cli.Fix.class, Cli.Rules.class })
public final class Cli implements Runnable {
    public static final int OK = 0;
    public static final int VIOLATIONS = 1;
    public static final int ERROR = 2;
    public static final List<String> COMMANDS = List.of("audit", "fix", "rules", "-h", "--help", "-V", "--version");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command: audit, fix or rules (or run without arguments to serve)");
    }

    /** Runs the CLI with the given streams and returns the exit code. */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Cli(), new Factory(in, out, err));
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            err.println("rootguard: " + e.getMessage());
            return ERROR;
        });
        return cl.execute(args);
    }

    /** Streams for the commands, so tests can run them in-process. */
    record Factory(InputStream in, PrintStream out, PrintStream err) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> cls) throws Exception {
            if (cls == Audit.class) {
                return cls.cast(new Audit(this));
            }
            if (cls == Fix.class) {
                return cls.cast(new Fix(this));
            }
            if (cls == Rules.class) {
                return cls.cast(new Rules(this));
            }
            return CommandLine.defaultFactory().create(cls);
        }
    }

    /** Options shared by audit and fix. */
    static class PolicyOptions {
        @Option(names = "--config", paramLabel = "FILE", description = "Configuration file with rootguard.* keys (.properties or .yaml).")
        Path config;

        @Option(names = "-D", paramLabel = "KEY=VALUE", description = "A rootguard.* configuration key, e.g. -Drootguard.mode=warn.")
        Map<String, String> properties = new LinkedHashMap<>();

        @Option(names = "--namespace-mode", paramLabel = "NS=MODE",
                description = "Offline stand-in for the rootguard.dev/mode namespace label, e.g. --namespace-mode legacy=warn.")
        Map<String, String> namespaceModes = new LinkedHashMap<>();

        @Option(names = "--namespace-range", paramLabel = "NS=START/SIZE",
                description = "Stand-in for a namespace's rootguard.dev/uid-range annotation (offline), or an override (cluster),"
                        + " e.g. --namespace-range team-a=1000000000/10000.")
        Map<String, String> namespaceRanges = new LinkedHashMap<>();

        PolicyConfig policy(RuleRegistry registry) {
            return CliConfig.load(config, properties, registry);
        }

        /** Offline: nothing is known about namespaces but what the options say. */
        Function<String, NamespacePolicy> offlineNamespaces() {
            return namespaces(ns -> NamespacePolicy.UNKNOWN);
        }

        /**
         * What each namespace says, with {@code --namespace-mode} and {@code --namespace-range} over {@code base}.
         *
         * @throws IllegalArgumentException naming the option with an unreadable value
         */
        Function<String, NamespacePolicy> namespaces(Function<String, NamespacePolicy> base) {
            Map<String, Action> modes = new HashMap<>();
            namespaceModes.forEach((ns, mode) -> {
                try {
                    modes.put(ns, Action.parseMode(mode));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--namespace-mode " + ns + "=" + mode + ": use enforce, warn or audit");
                }
            });
            Map<String, IdRange> ranges = new HashMap<>();
            namespaceRanges.forEach((ns, range) -> {
                try {
                    ranges.put(ns, NamespaceRanges.parse(range));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--namespace-range " + ns + "=" + range + ": " + e.getMessage());
                }
            });
            return ns -> {
                NamespacePolicy p = base.apply(ns);
                if (modes.containsKey(ns)) {
                    p = new NamespacePolicy(Optional.of(modes.get(ns)), p.mutate(), p.problems(), p.ranges());
                }
                if (ranges.containsKey(ns)) {
                    p = p.withRanges(NamespaceRanges.of(ranges.get(ns), p.ranges().supplementalGroups().orElse(null)));
                }
                return p;
            };
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Reports what the webhook would reject, in manifests or in a live cluster, without enforcing anything.")
    static final class Audit implements Callable<Integer> {
        private final Factory io;

        Audit(Factory io) {
            this.io = io;
        }

        @Option(names = { "-f", "--filename" }, paramLabel = "FILE|DIR|-",
                description = "Manifests: YAML or JSON files, directories (recursively), or - for standard input. Repeatable.")
        List<String> files = new ArrayList<>();

        @Option(names = "--cluster", description = "Audit the objects in a live cluster.")
        boolean cluster;

        @Option(names = "--kubeconfig", paramLabel = "FILE", description = "Kubeconfig for --cluster (default: KUBECONFIG or ~/.kube/config).")
        Path kubeconfig;

        @Option(names = "--context", paramLabel = "NAME", description = "Kubeconfig context for --cluster.")
        String context;

        @Option(names = { "-n", "--namespace" }, paramLabel = "NS",
                description = "With --cluster: only this namespace (default: all). Offline: namespace for objects that name none (default: default).")
        String namespace;

        @Option(names = { "-A", "--all-namespaces" }, description = "With --cluster: all namespaces (the default).")
        boolean allNamespaces;

        @Option(names = { "-o", "--output" }, paramLabel = "FORMAT", defaultValue = "table",
                description = "table (default), json, yaml, junit or sarif.")
        String output;

        @Option(names = "--fail-on", paramLabel = "LEVEL", defaultValue = "enforce",
                description = "Exit 1 when a violation is at or above: enforce (default), warn, any, never.")
        String failOn;

        @CommandLine.Mixin
        PolicyOptions policyOptions = new PolicyOptions();

        @Override
        public Integer call() throws Exception {
            Formats.Format format;
            Action threshold;
            try {
                format = Formats.Format.parse(output);
                threshold = failOnLevel(failOn);
            } catch (IllegalArgumentException e) {
                io.err().println("rootguard audit: " + e.getMessage());
                return ERROR;
            }
            if (files.isEmpty() && !cluster) {
                io.err().println("rootguard audit: give -f FILE|DIR|- or --cluster (see --help)");
                return ERROR;
            }
            if (allNamespaces && namespace != null) {
                io.err().println("rootguard audit: use either -n or -A");
                return ERROR;
            }
            RuleRegistry registry = RuleRegistry.standard();
            PolicyConfig policy;
            try {
                policy = policyOptions.policy(registry);
            } catch (IllegalArgumentException e) {
                io.err().println("rootguard audit: " + e.getMessage());
                return ERROR;
            }
            Function<String, NamespacePolicy> namespaces;
            try {
                namespaces = policyOptions.offlineNamespaces();
            } catch (IllegalArgumentException e) {
                io.err().println("rootguard audit: " + e.getMessage());
                return ERROR;
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
                    return ERROR;
                }
            }
            AuditReport report = new AuditReport(Auditor.summarize(results), results);
            io.out().print(Formats.render(report, format, registry, threshold));
            io.out().flush();
            if (report.summary().errors() > 0) {
                return ERROR;
            }
            boolean failing = threshold != null && results.stream().flatMap(r -> r.violations().stream())
                    .anyMatch(f -> f.action().atLeast(threshold));
            return failing ? VIOLATIONS : OK;
        }

        private List<AuditReport.Result> scanCluster(Engine engine, PolicyConfig policy) throws Exception {
            Config config = kubeconfig != null
                    ? Config.fromKubeconfig(context, Files.readString(kubeconfig), kubeconfig.toString())
                    : Config.autoConfigure(context);
            String clusterName = context != null ? context
                    : config.getCurrentContext() != null ? config.getCurrentContext().getName() : config.getMasterUrl();
            boolean tty = System.console() != null;
            try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
                ClusterScanner scanner = new ClusterScanner(client);
                Map<String, NamespacePolicy> labels = scanner.namespacePolicies();
                labels.forEach((ns, p) -> p.problems().forEach(problem -> io.err().println("rootguard audit: namespace " + ns + ": " + problem)));
                Auditor auditor = new Auditor(engine, policy,
                        policyOptions.namespaces(ns -> labels.getOrDefault(ns, NamespacePolicy.UNKNOWN)), "default");
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
    }

    static Action failOnLevel(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "enforce" -> Action.ENFORCE;
            case "warn" -> Action.WARN;
            case "any" -> Action.AUDIT;
            case "never" -> null;
            default -> throw new IllegalArgumentException("--fail-on must be enforce, warn, any or never, not '" + s + "'");
        };
    }

    @Command(name = "fix", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Prints manifests with the webhook's defaults applied; lists on stderr what would still be rejected.")
    static final class Fix implements Callable<Integer> {
        private final Factory io;

        Fix(Factory io) {
            this.io = io;
        }

        @Option(names = { "-f", "--filename" }, required = true, paramLabel = "FILE|DIR|-",
                description = "Manifests: files, directories (recursively) or - for standard input. Repeatable.")
        List<String> files = new ArrayList<>();

        @Option(names = "--in-place", description = "Rewrite the files instead of printing them.")
        boolean inPlace;

        @Option(names = { "-n", "--namespace" }, paramLabel = "NS", defaultValue = "default",
                description = "Namespace for objects that name none (default: default).")
        String namespace;

        @CommandLine.Mixin
        PolicyOptions policyOptions = new PolicyOptions();

        @Override
        public Integer call() throws Exception {
            RuleRegistry registry = RuleRegistry.standard();
            Fixer fixer;
            try {
                fixer = new Fixer(new Engine(registry), policyOptions.policy(registry), policyOptions.offlineNamespaces(), namespace);
            } catch (IllegalArgumentException e) {
                io.err().println("rootguard fix: " + e.getMessage());
                return ERROR;
            }
            boolean unreadable = false;
            boolean rejected = false;
            for (String input : files) {
                List<Path> paths = new ArrayList<>();
                if ("-".equals(input)) {
                    if (inPlace) {
                        io.err().println("rootguard fix: --in-place cannot rewrite standard input");
                        return ERROR;
                    }
                    Fixer.Outcome o = fixer.fix("-", new String(io.in().readAllBytes(), StandardCharsets.UTF_8));
                    io.out().print(o.text());
                    o.problems().forEach(io.err()::println);
                    unreadable |= o.unreadable();
                    rejected |= o.rejected();
                    continue;
                }
                Path p = Path.of(input);
                if (Files.isDirectory(p)) {
                    paths.addAll(ManifestReader.manifestsIn(p));
                } else if (Files.isRegularFile(p)) {
                    paths.add(p);
                } else {
                    io.err().println(input + ": no such file");
                    unreadable = true;
                }
                for (Path file : paths) {
                    Fixer.Outcome o = fixer.fix(file.toString(), Files.readString(file));
                    if (inPlace) {
                        if (o.changed() > 0) {
                            Files.writeString(file, o.text());
                            io.err().println(file + ": " + o.changed() + " document(s) updated");
                        }
                    } else {
                        if (paths.size() > 1 || files.size() > 1) {
                            io.out().println("---");
                        }
                        io.out().print(o.text());
                        if (!o.text().endsWith("\n")) {
                            io.out().println();
                        }
                    }
                    o.problems().forEach(io.err()::println);
                    unreadable |= o.unreadable();
                    rejected |= o.rejected();
                }
            }
            io.out().flush();
            return unreadable ? ERROR : rejected ? VIOLATIONS : OK;
        }
    }

    @Command(name = "rules", mixinStandardHelpOptions = true, description = "Lists the rules with their IDs and default actions.")
    static final class Rules implements Callable<Integer> {
        private final Factory io;

        Rules(Factory io) {
            this.io = io;
        }

        @Override
        public Integer call() {
            for (Rule r : RuleRegistry.standard().rules()) {
                io.out().printf("%-22s %-8s %s%n", r.id(), r.defaultAction().id(), r.summary());
            }
            return OK;
        }
    }
}
