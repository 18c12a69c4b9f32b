package dev.rootguard;

import dev.rootguard.admission.DevCertificate;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * Entry point. Before the server starts, makes sure there is a serving certificate: the one named
 * by {@code ROOTGUARD_TLS_CERT}/{@code ROOTGUARD_TLS_KEY}, or a generated self-signed one for local use.
 */
@QuarkusMain
public final class Main {

    private Main() {
    }

    public static void main(String... args) {
        try {
            DevCertificate.configureIfAbsent();
        } catch (IllegalStateException e) {
            System.err.println("rootguard: " + e.getMessage());
            System.exit(2);
        }
        Quarkus.run(args);
    }
}
