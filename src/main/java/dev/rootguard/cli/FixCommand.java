package dev.rootguard.cli;

import dev.rootguard.audit.Fixer;
import dev.rootguard.audit.ManifestReader;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.rule.RuleRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rootguard fix}: prints (or rewrites) manifests with the webhook's defaults applied. */
@Command(
        name = "fix",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description =
                "Prints manifests with the webhook's defaults applied; lists on stderr what would still be rejected.")
final class FixCommand implements Callable<Integer> {
    private final CommandFactory io;

    FixCommand(CommandFactory io) {
        this.io = io;
    }

    @Option(
            names = {"-f", "--filename"},
            required = true,
            paramLabel = "FILE|DIR|-",
            description = "Manifests: files, directories (recursively) or - for standard input. Repeatable.")
    List<String> files = new ArrayList<>();

    @Option(names = "--in-place", description = "Rewrite the files instead of printing them.")
    boolean inPlace;

    @Option(
            names = {"-n", "--namespace"},
            paramLabel = "NS",
            defaultValue = "default",
            description = "Namespace for objects that name none (default: default).")
    String namespace;

    @Mixin
    PolicyOptions policyOptions = new PolicyOptions();

    @Override
    public Integer call() throws Exception {
        RuleRegistry registry = RuleRegistry.standard();
        Fixer fixer;
        try {
            fixer = new Fixer(
                    new Engine(registry), policyOptions.policy(registry), policyOptions.offlineNamespaces(), namespace);
        } catch (IllegalArgumentException e) {
            io.err().println("rootguard fix: " + e.getMessage());
            return ExitCode.ERROR;
        }
        boolean unreadable = false;
        boolean rejected = false;
        for (String input : files) {
            List<Path> paths = new ArrayList<>();
            if ("-".equals(input)) {
                if (inPlace) {
                    io.err().println("rootguard fix: --in-place cannot rewrite standard input");
                    return ExitCode.ERROR;
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
        return unreadable ? ExitCode.ERROR : rejected ? ExitCode.VIOLATIONS : ExitCode.OK;
    }
}
