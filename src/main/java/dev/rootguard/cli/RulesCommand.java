package dev.rootguard.cli;

import dev.rootguard.policy.rule.Rule;
import dev.rootguard.policy.rule.RuleRegistry;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code rootguard rules}: one line per rule with its ID, default action and summary. */
@Command(
        name = "rules",
        mixinStandardHelpOptions = true,
        description = "Lists the rules with their IDs and default actions.")
final class RulesCommand implements Callable<Integer> {
    private final CommandFactory io;

    RulesCommand(CommandFactory io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        for (Rule r : RuleRegistry.standard().rules()) {
            io.out().printf("%-22s %-8s %s%n", r.id(), r.defaultAction().id(), r.summary());
        }
        return ExitCode.OK;
    }
}
