package dev.rootguard.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.Pem;
import dev.rootguard.testing.WebhookProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Only TLS 1.2 and 1.3 are negotiated on the admission port, with either engine (auto, which is
 * BoringSSL where it loads, and the JDK's): TLS 1.1 and 1.0 are refused with a protocol-version
 * alert. The JDK client refuses those protocols itself, so openssl offers them; that command (from
 * provision/install-packages.sh) is why this runs with the integration tests, against the packaged
 * webhook. {@code AdmissionHttpTest} and {@code JdkTlsEngineTest} check TLS 1.2 and 1.3 without it.
 */
class OldTlsProtocolsIT {

    @ParameterizedTest(name = "rootguard.tls.engine={0}")
    @ValueSource(strings = {"auto", "jdk"})
    void onlyTls12AndTls13AreNegotiated(String engine) throws Exception {
        Path dir = Path.of("target", "e2e", "tls-protocols-" + engine).toAbsolutePath();
        Files.createDirectories(dir);
        Process gen = new ProcessBuilder("bash", "certs/generate.sh", "--out", dir.toString())
                .redirectErrorStream(true)
                .start();
        gen.getInputStream().readAllBytes();
        assertEquals(0, gen.waitFor());
        try (WebhookProcess webhook = new WebhookProcess(
                        dir.resolve("tls.crt"),
                        dir.resolve("tls.key"),
                        dir.resolve("no-kubeconfig"),
                        Map.of(
                                "rootguard.namespace-labels.enabled",
                                "false",
                                "rootguard.admission.warm-up-requests",
                                "0",
                                "rootguard.tls.engine",
                                engine))
                .start()) {
            String log = Files.readString(webhook.log());
            String expected = engine.equals("jdk") || !boringSslPlatform() ? "JDK" : "BoringSSL";
            assertTrue(
                    log.contains("TLS on the admission port: " + expected), () -> "expected " + expected + ":\n" + log);
            assertOnlyTls12AndTls13(
                    webhook.port(),
                    Pem.context(dir.resolve("ca.crt"), null, null).getSocketFactory());
        }
    }

    /** Linux x86-64 and arm64, where the bundled BoringSSL must load. */
    private static boolean boringSslPlatform() {
        return System.getProperty("os.name").equals("Linux")
                && List.of("amd64", "aarch64").contains(System.getProperty("os.arch"));
    }

    /** TLS 1.2 and 1.3 handshakes succeed on PORT; TLS 1.1 and 1.0 are refused with a protocol-version alert. */
    static void assertOnlyTls12AndTls13(int port, SSLSocketFactory f) throws Exception {
        for (String protocol : List.of("TLSv1.2", "TLSv1.3")) {
            try (SSLSocket s = (SSLSocket) f.createSocket("127.0.0.1", port)) {
                s.setEnabledProtocols(new String[] {protocol});
                s.startHandshake();
                assertEquals(protocol, s.getSession().getProtocol());
            }
        }
        // The JDK client refuses TLS 1.1 itself, so ask openssl, allowing it on the client side.
        for (String flag : List.of("-tls1_1", "-tls1")) {
            Process p = new ProcessBuilder(
                            "openssl",
                            "s_client",
                            "-connect",
                            "127.0.0.1:" + port,
                            flag,
                            "-cipher",
                            "DEFAULT@SECLEVEL=0")
                    .redirectErrorStream(true)
                    .start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertTrue(
                    p.exitValue() != 0 && out.contains("alert protocol version"),
                    () -> flag + " was not refused:\n" + out);
        }
    }
}
