package dev.rootguard.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The command line: {@code rootguard audit} ({@link AuditCommand}), {@code rootguard fix}
 * ({@link FixCommand}), {@code rootguard rules} ({@link RulesCommand}) and {@code rootguard check}
 * ({@link CheckCommand}); their shared options are
 * {@link PolicyOptions}, their exit codes {@link ExitCode}.
 */
@Command(
        name = "rootguard",
        mixinStandardHelpOptions = true,
        version = "rootguard 0.1.0",
        description = "Admission webhook and policy audit for pods that must not run as root.",
        subcommands = {AuditCommand.class, FixCommand.class, RulesCommand.class, CheckCommand.class})
public final class Cli implements Runnable {
    /** First arguments that run the command line instead of the server. */
    public static final List<String> COMMANDS =
            List.of("audit", "fix", "rules", "check", "-h", "--help", "-V", "--version");

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(
                spec.commandLine(), "name a command: audit, fix, rules or check (or run without arguments to serve)");
    }

    /** Runs the CLI with the given streams and returns the exit code. */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Cli(), new CommandFactory(in, out, err));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            err.println("rootguard: " + e.getMessage());
            return ExitCode.ERROR;
        });
        return cl.execute(args);
    }
}
