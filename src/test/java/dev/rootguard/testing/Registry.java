package dev.rootguard.testing;

import dev.rootguard.tls.DevCertificate;
import io.smallrye.certs.PemCertificateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;

/**
 * A real OCI registry (the CNCF distribution registry that {@code provision/install-registry.sh}
 * builds) as a process on {@code 127.0.0.1}, serving TLS with a self-signed certificate for
 * {@code 127.0.0.1} and {@code localhost} and storing blobs in a temporary directory. With
 * {@link #startWithBasicAuth()} every request needs {@link #USER}/{@link #PASSWORD}. Output goes to
 * {@code target/e2e/registry-<port>.log}. Close it to stop the process and remove its storage; a
 * shutdown hook stops it too if a test forgets.
 */
public final class Registry implements AutoCloseable {
    /** The user of a registry with basic auth. */
    public static final String USER = "puller";
    /** {@link #USER}'s password. */
    public static final String PASSWORD = "s3cret-pull";

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final int START_ATTEMPTS = 3;

    private final Path dir;
    private final Path caFile;
    private final Path keyFile;
    private final boolean basicAuth;
    private final TokenIssuer tokens;
    private final SSLContext tls;
    private final HttpClient http;
    private int port;
    private Path log;
    private Process process;
    private Thread shutdownHook;

    private Registry(boolean basicAuth, TokenIssuer tokens) throws IOException {
        this.basicAuth = basicAuth || tokens != null;
        this.tokens = tokens;
        this.dir = Files.createTempDirectory("rootguard-registry");
        PemCertificateFiles certificate = DevCertificate.ensure(dir.resolve("tls"));
        this.caFile = certificate.certFile();
        this.keyFile = certificate.keyFile();
        this.tls = Pem.context(caFile, null, null);
        this.http = HttpClient.newBuilder()
                .sslContext(tls)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    /** Starts a registry that anyone may pull from and push to. */
    public static Registry start() {
        return launch(false, null);
    }

    /** Starts a registry that answers only requests with basic auth as {@link #USER}. */
    public static Registry startWithBasicAuth() {
        return launch(true, null);
    }

    /**
     * Starts a registry with token auth: it answers only requests with a bearer token from
     * {@code issuer}, which gives them to {@link #USER}.
     */
    public static Registry startWithTokenAuth(TokenIssuer issuer) {
        return launch(false, issuer);
    }

    /**
     * Where {@code provision/install-registry.sh} puts the pinned registry ({@code REGISTRY_VERSION},
     * or {@code $REGISTRY_VERSION}).
     */
    public static Path binary() {
        String version = Versions.version("REGISTRY_VERSION", "REGISTRY_VERSION");
        return ControlPlane.cacheDir()
                .resolve("registry")
                .resolve("v" + version)
                .resolve("registry");
    }

    private static Registry launch(boolean basicAuth, TokenIssuer tokens) {
        Path binary = binary();
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(
                    "no registry at " + binary + "; run bash " + Versions.PROVISION.resolve("install-registry.sh"));
        }
        Registry r;
        try {
            r = new Registry(basicAuth, tokens);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            r.run(binary);
            return r;
        } catch (RuntimeException | Error e) {
            r.close();
            throw e;
        }
    }

    /** Starts the process, on another free port when the chosen one was taken in the meantime. */
    private void run(Path binary) {
        Path storage = dir.resolve("storage");
        Path htpasswd = dir.resolve("htpasswd");
        try {
            Files.createDirectories(storage);
            if (basicAuth && tokens == null) {
                Files.writeString(htpasswd, htpasswdLine());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int attempt = 1; ; attempt++) {
            port = WebhookProcess.freePort();
            Path config = dir.resolve("config.yml");
            log = Path.of("target", "e2e", "registry-" + port + ".log").toAbsolutePath();
            try {
                Files.writeString(config, config(storage, htpasswd));
                Files.createDirectories(log.getParent());
                ProcessBuilder pb = new ProcessBuilder(binary.toString(), "serve", config.toString())
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile());
                // REGISTRY_* variables override the configuration file; none from this machine may leak in.
                pb.environment().keySet().removeIf(k -> k.startsWith("REGISTRY_") || k.startsWith("OTEL_"));
                // The registry always sets up OpenTelemetry; without this it would export traces to localhost:4318.
                pb.environment().put("OTEL_TRACES_EXPORTER", "none");
                process = pb.start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (shutdownHook == null) {
                shutdownHook = new Thread(this::stopProcess, "registry-" + port + "-shutdown");
                Runtime.getRuntime().addShutdownHook(shutdownHook);
            }
            if (awaitReady()) {
                return;
            }
            String output = logText();
            if (attempt < START_ATTEMPTS && output.contains("address already in use")) {
                continue;
            }
            throw new IllegalStateException(
                    "the registry exited with " + process.exitValue() + "; " + log + ":\n" + output);
        }
    }

    /** The registry's configuration: filesystem storage, TLS on 127.0.0.1 only, htpasswd when asked. */
    private String config(Path storage, Path htpasswd) {
        StringBuilder yaml = new StringBuilder();
        yaml.append("""
                version: 0.1
                log:
                  level: info
                  formatter: text
                storage:
                  filesystem:
                    rootdirectory: "%s"
                  delete:
                    enabled: true
                  maintenance:
                    uploadpurging:
                      enabled: false
                http:
                  addr: "127.0.0.1:%d"
                  tls:
                    certificate: "%s"
                    key: "%s"
                """.formatted(storage, port, caFile, keyFile));
        if (tokens != null) {
            yaml.append("""
                    auth:
                      token:
                        realm: "%s"
                        service: "%s"
                        issuer: "%s"
                        rootcertbundle: "%s"
                    """.formatted(tokens.realm(), TokenIssuer.SERVICE, TokenIssuer.ISSUER, tokens.certFile()));
        } else if (basicAuth) {
            yaml.append("""
                    auth:
                      htpasswd:
                        realm: rootguard-test-registry
                        path: "%s"
                    """.formatted(htpasswd));
        }
        return yaml.toString();
    }

    /** {@link #USER}'s line of an htpasswd file, bcrypt-hashed (the only hash the registry accepts). */
    private static String htpasswdLine() {
        Tools.Result r;
        try {
            r = Tools.run(List.of("htpasswd", "-Bbn", USER, PASSWORD), null);
        } catch (UncheckedIOException e) {
            throw new IllegalStateException(
                    "htpasswd not found; run bash " + Versions.PROVISION.resolve("install-packages.sh"), e);
        }
        return r.orFail().stdout().strip() + "\n";
    }

    /** Polls {@code /v2/} until it answers: 200, or 401 with basic auth. False if the process exited. */
    private boolean awaitReady() {
        Instant deadline = Instant.now().plus(READY_TIMEOUT);
        HttpRequest ping = HttpRequest.newBuilder(url("/v2/"))
                .timeout(Duration.ofSeconds(2))
                .build();
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                return false;
            }
            try {
                int status =
                        http.send(ping, HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status == 200 || (basicAuth && status == 401)) {
                    return true;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException(
                "the registry did not answer /v2/ within " + READY_TIMEOUT + "; " + log + ":\n" + logText());
    }

    /** {@code 127.0.0.1:PORT}: the registry part of an image reference. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    /** An image reference in this registry, e.g. {@code 127.0.0.1:PORT/app:1} for {@code app:1}. */
    public String reference(String repositoryAndTag) {
        return host() + "/" + repositoryAndTag;
    }

    /** {@code https://127.0.0.1:PORT} followed by {@code path}, e.g. {@code /v2/}. */
    public URI url(String path) {
        return URI.create("https://" + host() + path);
    }

    /** The PEM certificate the registry serves, self-signed: what a client must trust. */
    public Path caFile() {
        return caFile;
    }

    /** A TLS context that trusts {@link #caFile()}. */
    public SSLContext sslContext() {
        return tls;
    }

    /** Whether requests need {@link #USER}'s credentials: basic auth, or token auth whose issuer gives tokens for them. */
    public boolean basicAuth() {
        return basicAuth;
    }

    /** The registry's output file. */
    public Path log() {
        return log;
    }

    /** The running process's id. */
    public long pid() {
        return process.pid();
    }

    /**
     * Writes {@code dir/config.json} in Docker's format, with the credentials for {@link #host()}
     * ({@link #USER}; an empty {@code auths} for a registry without basic auth), and returns it.
     */
    public Path dockerConfig(Path dir) {
        return basicAuth ? dockerConfig(dir, USER, PASSWORD) : writeDockerConfig(dir, "{\"auths\":{}}\n");
    }

    /** Writes {@code dir/config.json} with {@code user}'s credentials for {@link #host()}, right or wrong. */
    public Path dockerConfig(Path dir, String user, String password) {
        return writeDockerConfig(
                dir, "{\"auths\":{\"" + host() + "\":{\"auth\":\"" + base64(user, password) + "\"}}}\n");
    }

    private static Path writeDockerConfig(Path dir, String json) {
        try {
            Files.createDirectories(dir);
            return Files.writeString(dir.resolve("config.json"), json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A request to {@code path} with {@link #USER}'s credentials when the registry needs them: basic
     * auth, or a bearer token from the issuer for the repository the path names.
     */
    public HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url(path)).timeout(Duration.ofSeconds(30));
        java.util.regex.Matcher repo = java.util.regex.Pattern.compile("^/v2/(.+)/(manifests|blobs|tags)/")
                .matcher(path);
        if (tokens != null) {
            // The token the issuer would give USER for this repository, without the round trip.
            if (repo.find()) {
                b.header("Authorization", "Bearer " + tokens.token("repository:" + repo.group(1) + ":pull,push"));
            }
        } else if (basicAuth) {
            b.header("Authorization", basicAuthorization(USER, PASSWORD));
        }
        return b;
    }

    /** Sends a request over a client that trusts {@link #caFile()}; never throws on an error status. */
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body) {
        try {
            return http.send(request, body);
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** An {@code Authorization} header value for HTTP basic auth. */
    public static String basicAuthorization(String user, String password) {
        return "Basic " + base64(user, password);
    }

    private static String base64(String user, String password) {
        return Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private String logText() {
        try {
            return Files.isReadable(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** SIGTERM, then SIGKILL when the registry has not exited after a few seconds. */
    private void stopProcess() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    /** Stops the registry and deletes its storage, certificate and configuration. */
    @Override
    public void close() {
        stopProcess();
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down and runs the hook itself
            }
            shutdownHook = null;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
