package dev.rootguard.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A registry that never answers: a socket on loopback that accepts connections and then sends
 * nothing, not even its side of the TLS handshake. Stands in for a registry that hangs, which a real
 * registry cannot be made to do. Points {@code rootguard.images.*} at it with a short budget and a
 * long timeout, so that only the budget can end an admission request's wait.
 */
public class SilentRegistry implements QuarkusTestResourceLifecycleManager {
    public static final long BUDGET_MILLIS = 300;
    public static final long TIMEOUT_SECONDS = 60;
    private static volatile int port;
    private ServerSocket server;
    private final List<Socket> held = new CopyOnWriteArrayList<>();

    /** The host:port of the running registry, as image references name it. */
    public static String host() {
        return "127.0.0.1:" + port;
    }

    @Override
    public Map<String, String> start() {
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        port = server.getLocalPort();
        Thread accept = new Thread(
                () -> {
                    while (!server.isClosed()) {
                        try {
                            held.add(server.accept());
                        } catch (IOException e) {
                            return;
                        }
                    }
                },
                "silent-registry");
        accept.setDaemon(true);
        accept.start();
        return Map.of(
                "rootguard.images.registries", host(),
                "rootguard.images.budget", BUDGET_MILLIS + "ms",
                "rootguard.images.timeout", TIMEOUT_SECONDS + "s");
    }

    /** Connections accepted so far. */
    public static int connections(SilentRegistry r) {
        return r.held.size();
    }

    @Override
    public void stop() {
        try {
            server.close();
            for (Socket s : held) {
                s.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
