package dev.rootguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.audit.format.ReportFormat;
import dev.rootguard.audit.format.ReportFormats;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command tree agrees with what the entry point, the report formats and picocli assume. */
class CliTest {
    private static CommandLine commandLine() {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        return new CommandLine(new Cli(), new CommandFactory(new ByteArrayInputStream(new byte[0]), sink, sink));
    }

    @Test
    void everySubcommandIsOneTheEntryPointHandsToTheCli() {
        for (String command : commandLine().getSubcommands().keySet()) {
            assertTrue(
                    Cli.COMMANDS.contains(command),
                    command + " is not in Cli.COMMANDS, so Main would start the server");
        }
    }

    @Test
    void theOutputOptionNamesEveryReportFormat() {
        String description = String.join(
                " ",
                commandLine()
                        .getSubcommands()
                        .get("audit")
                        .getCommandSpec()
                        .findOption("--output")
                        .description());
        for (ReportFormat format : ReportFormats.all()) {
            assertTrue(description.contains(format.name()), format.name() + " missing from: " + description);
        }
    }

    @Test
    void picocliUsageAndHelpOutcomesUseTheSameExitCodes() {
        assertEquals(CommandLine.ExitCode.USAGE, ExitCode.ERROR);
        assertEquals(CommandLine.ExitCode.OK, ExitCode.OK);
    }
}
