package dev.rootguard.cli;

import java.io.InputStream;
import java.io.PrintStream;
import picocli.CommandLine;

/** Creates the commands with the streams they read and write, so tests can run them in-process. */
record CommandFactory(InputStream in, PrintStream out, PrintStream err) implements CommandLine.IFactory {
    @Override
    public <K> K create(Class<K> cls) throws Exception {
        if (cls == AuditCommand.class) {
            return cls.cast(new AuditCommand(this));
        }
        if (cls == FixCommand.class) {
            return cls.cast(new FixCommand(this));
        }
        if (cls == RulesCommand.class) {
            return cls.cast(new RulesCommand(this));
        }
        if (cls == CheckCommand.class) {
            return cls.cast(new CheckCommand(this));
        }
        return CommandLine.defaultFactory().create(cls);
    }
}
