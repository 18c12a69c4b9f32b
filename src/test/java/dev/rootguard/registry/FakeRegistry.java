package dev.rootguard.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.rootguard.testing.Pem;
import dev.rootguard.tls.DevCertificate;
import io.smallrye.certs.PemCertificateFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Executors;

/**
 * A registry that breaks the protocol, over HTTPS on loopback: the one stand-in for what a real
 * registry never does (the distribution registry checks every manifest it stores, and never sends
 * endless ones). {@code /v2/bad/manifests/*} answers a manifest that is not JSON;
 * {@code /v2/endless/manifests/*} a manifest body that never ends; {@code /v2/trickle/manifests/*}
 * one byte a second.
 */
final class FakeRegistry implements AutoCloseable {
    private final HttpsServer server;
    private final Path caFile;

    FakeRegistry(Path dir) {
        PemCertificateFiles files = DevCertificate.ensure(dir);
        this.caFile = files.certFile();
        try {
            server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            server.setHttpsConfigurator(
                    new HttpsConfigurator(Pem.context(files.certFile(), files.certFile(), files.keyFile())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-registry");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/v2/", this::handle);
        server.start();
    }

    String host() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    Path caFile() {
        return caFile;
    }

    private void handle(HttpExchange x) throws IOException {
        String path = x.getRequestURI().getPath();
        try (x) {
            if (path.equals("/v2/")) {
                x.sendResponseHeaders(200, -1);
            } else if (path.startsWith("/v2/bad/manifests/")) {
                byte[] body = "{\"schemaVersion\": 2, \"mediaType\": ".getBytes(StandardCharsets.UTF_8);
                x.getResponseHeaders().add("Content-Type", "application/vnd.oci.image.manifest.v1+json");
                x.sendResponseHeaders(200, body.length);
                x.getResponseBody().write(body);
            } else if (path.startsWith("/v2/endless/manifests/")) {
                x.getResponseHeaders().add("Content-Type", "application/vnd.oci.image.manifest.v1+json");
                x.sendResponseHeaders(200, 0);
                OutputStream out = x.getResponseBody();
                byte[] chunk = new byte[64 * 1024];
                java.util.Arrays.fill(chunk, (byte) ' ');
                out.write('{');
                while (true) {
                    out.write(chunk);
                }
            } else if (path.startsWith("/v2/trickle/manifests/")) {
                x.getResponseHeaders().add("Content-Type", "application/vnd.oci.image.manifest.v1+json");
                x.sendResponseHeaders(200, 0);
                OutputStream out = x.getResponseBody();
                while (true) {
                    out.write(' ');
                    out.flush();
                    Thread.sleep(1000);
                }
            } else {
                x.sendResponseHeaders(404, -1);
            }
        } catch (IOException | InterruptedException e) {
            // The client gave up (as it must): nothing to answer.
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
