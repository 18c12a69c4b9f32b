package dev.rootguard.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The packaged webhook ({@code target/quarkus-app/quarkus-run.jar}) as a separate process, so tests
 * can stop and restart it under a running API server. Ports stay the same across restarts, since
 * the webhook configurations name them. Output goes to {@code target/e2e/webhook-*.log}.
 */
public final class WebhookProcess implements AutoCloseable {
    private static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");

    private final Path cert;
    private final Path key;
    private Path kubeconfig;
    private final Map<String, String> properties;
    private final int port = freePort();
    private final int managementPort = freePort();
    private Process process;
    private int starts;
    private List<String> launcher = List.of();
    private List<String> jvmOptions = List.of("-Xmx256m");
    private Path log;

    public WebhookProcess(Path cert, Path key, Path kubeconfig, Map<String, String> properties) {
        this.cert = cert;
        this.key = key;
        this.kubeconfig = kubeconfig;
        this.properties = Map.copyOf(properties);
    }

    /** Sets the kubeconfig the webhook reads namespace labels with (before {@link #start()}). */
    public WebhookProcess kubeconfig(Path file) {
        this.kubeconfig = file;
        return this;
    }

    /** JVM options in place of the default {@code -Xmx256m} (before {@link #start()}). */
    public WebhookProcess jvmOptions(List<String> options) {
        this.jvmOptions = List.copyOf(options);
        return this;
    }

    /**
     * Runs the JVM under a launcher command, e.g. {@code prlimit --nofile=1024:1024}, with extra JVM
     * options besides the default {@code -Xmx256m} (before {@link #start()}).
     */
    public WebhookProcess launcher(List<String> command, List<String> options) {
        this.launcher = List.copyOf(command);
        List<String> all = new ArrayList<>(options);
        all.add("-Xmx256m");
        this.jvmOptions = List.copyOf(all);
        return this;
    }

    public int port() {
        return port;
    }

    /** The running process's id. */
    public long pid() {
        return process.pid();
    }

    /** The current start's output file. */
    public Path log() {
        return log;
    }

    public int managementPort() {
        return managementPort;
    }

    /** Starts the process and waits until it is ready. */
    public WebhookProcess start() {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(
                    JAR + " is missing; run the tests through 'mvn verify' so the jar is packaged first");
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(launcher);
        cmd.add(java);
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of(
                "-Dquarkus.http.ssl-port=" + port,
                "-Dquarkus.http.host=127.0.0.1",
                "-Dquarkus.management.port=" + managementPort,
                "-Dquarkus.management.host=127.0.0.1"));
        properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.addAll(List.of("-jar", JAR.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("ROOTGUARD_TLS_CERT", cert.toString());
        pb.environment().put("ROOTGUARD_TLS_KEY", key.toString());
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        try {
            log = Path.of("target", "e2e", "webhook-" + port + "-" + (++starts) + ".log");
            Files.createDirectories(log.getParent());
            pb.redirectErrorStream(true).redirectOutput(log.toFile());
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        awaitReady(Duration.ofSeconds(60));
        return this;
    }

    private void awaitReady(Duration timeout) {
        HttpClient http = HttpClient.newHttpClient();
        try {
            // An exception thrown by the condition (the process exited) ends the wait at once.
            await("the webhook is ready")
                    .atMost(timeout)
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new IllegalStateException(
                                    "webhook exited with " + process.exitValue() + "; see target/e2e/webhook-*.log");
                        }
                        try {
                            HttpResponse<Void> r = http.send(
                                    HttpRequest.newBuilder(URI.create(
                                                    "http://127.0.0.1:" + managementPort + "/q/health/ready"))
                                            .timeout(Duration.ofSeconds(2))
                                            .build(),
                                    HttpResponse.BodyHandlers.discarding());
                            return r.statusCode() == 200;
                        } catch (IOException e) {
                            return false; // not listening yet
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException(e);
                        }
                    });
        } catch (ConditionTimeoutException e) {
            throw new IllegalStateException("webhook not ready within " + timeout, e);
        }
    }

    /** Sends SIGTERM and returns at once, as the kubelet does at the start of a pod's grace period. */
    public void terminate() {
        process.destroy();
    }

    /** Waits for the process to exit; true if it did within the timeout. */
    public boolean awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether the process is running. */
    public boolean alive() {
        return process != null && process.isAlive();
    }

    /** Sends SIGTERM and waits for the process to exit (killing it after 30 s). */
    public void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    @Override
    public void close() {
        stop();
    }

    /** A management endpoint's body, e.g. {@code /q/metrics}. */
    public String management(String path) {
        try {
            return HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
