package dev.rootguard;

import dev.rootguard.admission.DevCertificate;
import dev.rootguard.audit.Cli;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * Entry point. {@code audit}, {@code fix} and {@code rules} run the command line without starting
 * the server; anything else (or {@code serve}) starts the webhook. Before the server starts, makes sure there is a serving certificate: the one named
 * by {@code ROOTGUARD_TLS_CERT}/{@code ROOTGUARD_TLS_KEY}, or a generated self-signed one for local use.
 */
@QuarkusMain
public final class Main {

    private Main() {
    }

    public static void main(String... args) {
        if (args.length > 0 && Cli.COMMANDS.contains(args[0])) {
            System.exit(Cli.run(args, System.in, System.out, System.err));
        }
        if (args.length > 0 && "serve".equals(args[0])) {
            args = java.util.Arrays.copyOfRange(args, 1, args.length);
        }
        fastInMemoryKeyStores();
        try {
            DevCertificate.configureIfAbsent();
        } catch (IllegalStateException e) {
            System.err.println("rootguard: " + e.getMessage());
            System.exit(2);
        }
        Quarkus.run(args);
    }

    /**
     * The TLS layer turns the PEM certificate and key into a PKCS#12 key store that lives only in
     * memory, and the JDK protects its entries with 10,000 rounds of PBKDF2 each time: about a
     * third of a second of CPU at start-up and on every certificate reload, protecting nothing,
     * since the store is never written anywhere. One round keeps the format and drops the cost.
     * An operator's own -D setting wins.
     */
    static void fastInMemoryKeyStores() {
        for (String key : new String[] {"keystore.pkcs12.keyPbeIterationCount", "keystore.pkcs12.macIterationCount",
                "keystore.pkcs12.certPbeIterationCount"}) {
            if (System.getProperty(key) == null) {
                System.setProperty(key, "1");
            }
        }
    }
}
