package dev.rootguard;

import dev.rootguard.cli.Cli;
import dev.rootguard.config.ConfigErrors;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import java.util.Arrays;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Entry point. {@code audit}, {@code fix} and {@code rules} run the command line without starting
 * the server; anything else (or {@code serve}) starts the webhook. Without a configured serving
 * certificate ({@code rootguard.tls.cert}/{@code key}, set anywhere) it serves a generated self-signed
 * one for local use ({@code DevCertificate}). Configuration errors stop start-up with one line per
 * problem and exit code 2.
 */
@QuarkusMain
public final class Main {

    private Main() {}

    public static void main(String... args) {
        if (args.length > 0 && Cli.COMMANDS.contains(args[0])) {
            System.exit(Cli.run(args, System.in, System.out, System.err));
        }
        if (args.length > 0 && "serve".equals(args[0])) {
            args = Arrays.copyOfRange(args, 1, args.length);
        }
        fastInMemoryKeyStores();
        try {
            Quarkus.run(null, Main::exit, args);
        } catch (Throwable t) {
            // Failures while the application class initialises escape Quarkus.run.
            exit(1, t);
        }
    }

    /** Configuration errors at start-up: one line each, naming key and fix. */
    static final int CONFIG_ERROR = 2;

    /**
     * Replaces Quarkus's exit handler (which would print configuration errors with the library's
     * codes and a stack trace): configuration problems are printed one per line and exit with
     * {@link #CONFIG_ERROR}; any other start-up failure is logged with its cause.
     */
    private static void exit(int code, Throwable failure) {
        if (failure != null) {
            List<String> problems = ConfigErrors.describe(failure);
            if (!problems.isEmpty()) {
                System.err.println("rootguard: invalid configuration, not starting:");
                problems.forEach(p -> System.err.println("  " + p));
                System.err.flush();
                System.exit(CONFIG_ERROR);
            }
            Logger.getLogger(Main.class).error("rootguard failed to start", failure);
        }
        System.exit(code);
    }

    /**
     * The TLS layer turns the PEM certificate and key into a PKCS#12 key store that lives only in
     * memory, and the JDK protects its entries with 10,000 rounds of PBKDF2 each time: about a
     * third of a second of CPU at start-up and on every certificate reload, protecting nothing,
     * since the store is never written anywhere. One round keeps the format and drops the cost.
     * An operator's own -D setting wins.
     */
    static void fastInMemoryKeyStores() {
        for (String key : new String[] {
            "keystore.pkcs12.keyPbeIterationCount",
            "keystore.pkcs12.macIterationCount",
            "keystore.pkcs12.certPbeIterationCount"
        }) {
            if (System.getProperty(key) == null) {
                System.setProperty(key, "1");
            }
        }
    }
}
