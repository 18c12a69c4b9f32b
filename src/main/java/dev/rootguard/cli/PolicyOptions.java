package dev.rootguard.cli;

import dev.rootguard.config.CliConfig;
import dev.rootguard.policy.Action;
import dev.rootguard.policy.IdRange;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.policy.NamespaceRanges;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.rule.RuleRegistry;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Option;

/** Options shared by audit and fix (a picocli mixin): the configuration and what namespaces say. */
final class PolicyOptions {
    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "Configuration file with rootguard.* keys (.properties or .yaml).")
    Path config;

    @Option(
            names = "-D",
            paramLabel = "KEY=VALUE",
            description = "A rootguard.* configuration key, e.g. -Drootguard.mode=warn.")
    Map<String, String> properties = new LinkedHashMap<>();

    @Option(
            names = "--namespace-mode",
            paramLabel = "NS=MODE",
            description =
                    "Offline stand-in for the rootguard.dev/mode namespace label, e.g. --namespace-mode legacy=warn.")
    Map<String, String> namespaceModes = new LinkedHashMap<>();

    @Option(
            names = "--namespace-range",
            paramLabel = "NS=START/SIZE",
            description =
                    "Stand-in for a namespace's rootguard.dev/uid-range annotation (offline), or an override (cluster),"
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
                throw new IllegalArgumentException(
                        "--namespace-mode " + ns + "=" + mode + ": use enforce, warn or audit");
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
                p = p.withRanges(NamespaceRanges.of(
                        ranges.get(ns), p.ranges().supplementalGroups().orElse(null)));
            }
            return p;
        };
    }
}
