package dev.rootguard.testing;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A one-node cluster of real parts, driven through {@code src/test/node/node.sh}: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, containerd and the kubelet in a network namespace of the run's
 * own, with the API server reached at {@code https://127.0.0.1:<port>} through a relay. The binaries come
 * from {@code provision/install-node.sh} (Maven runs it before the integration tests). Leftovers of a
 * killed earlier run are removed before a new one starts; {@link #close()} removes everything this one made,
 * and a shutdown hook does the same if the JVM exits without closing it.
 */
public final class Node implements AutoCloseable {
    public static final Path SCRIPT = Path.of("src", "test", "node", "node.sh").toAbsolutePath();
    private static final Path LOGS = Path.of("target", "e2e", "node-logs").toAbsolutePath();

    private final Path dir;
    private final int port;
    private final Thread hook;
    private boolean closed;

    private Node(Path dir, int port) {
        this.dir = dir;
        this.port = port;
        this.hook = new Thread(this::down, "node-teardown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Where the node's binaries are: the control plane's cache directory. */
    public static Path binaries() {
        return ControlPlane.cacheDir().resolve("k8s").resolve(ControlPlane.version() + "-linux-amd64");
    }

    /** The pause binary install-node.sh builds. */
    public static Path pauseBinary() {
        return ControlPlane.cacheDir()
                .resolve("node")
                .resolve("pause-" + Versions.pinned("PAUSE_VERSION"))
                .resolve("pause");
    }

    /** Why a node cannot run here, or null when it can (Linux, root, the binaries installed). */
    public static String unavailable() {
        if (!System.getProperty("os.name").toLowerCase().contains("linux")) {
            return "the node suite needs Linux";
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return "the node suite needs root (network namespaces, cgroups, mounts)";
        }
        for (String b : List.of("kubelet", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")) {
            if (!Files.isExecutable(binaries().resolve(b))) {
                return "no " + b + " in " + binaries() + "; run bash provision/install-node.sh";
            }
        }
        if (!Files.isExecutable(pauseBinary())) {
            return "no " + pauseBinary() + "; run bash provision/install-node.sh";
        }
        return null;
    }

    /** Removes leftovers of killed runs, then starts a node with IMAGES (image tarballs) imported. */
    public static Node up(Path dir, List<Path> images) {
        Tools.Result clean = script(List.of("clean"));
        if (clean.exitCode() != 0) {
            throw new IllegalStateException("node.sh clean failed:\n" + clean.stderr());
        }
        int port = freePort();
        Node node = new Node(dir.toAbsolutePath(), port);
        List<String> args = new ArrayList<>(List.of("up", node.dir.toString(), Integer.toString(port)));
        images.forEach(i -> args.add(i.toAbsolutePath().toString()));
        Tools.Result r = script(args);
        if (r.exitCode() != 0) {
            node.close();
            throw new IllegalStateException("node.sh up failed:\n" + r.stderr());
        }
        return node;
    }

    /** Stops the whole cluster as a power cut would (processes and containers killed, etcd's data kept). */
    public void stop() {
        script(List.of("stop", dir.toString())).orFail();
    }

    /** Starts the stopped cluster: all of it, or with CONTROL_PLANE_ONLY only etcd, the API server and the controllers. */
    public void start(boolean controlPlaneOnly) {
        List<String> args = new ArrayList<>(List.of("start", dir.toString()));
        if (controlPlaneOnly) {
            args.add("--control-plane-only");
        }
        script(args).orFail();
    }

    /** Starts containerd and the kubelet after {@code start(true)}. */
    public void startNode() {
        script(List.of("start-node", dir.toString())).orFail();
    }

    public int port() {
        return port;
    }

    /** The admin kubeconfig, pointing at the relay on host loopback. */
    public Path kubeconfig() {
        return dir.resolve("kubeconfig");
    }

    public KubernetesClient client() {
        try {
            return new KubernetesClientBuilder()
                    .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig())))
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** kubectl of the node's version against this node. */
    public Tools.Result kubectl(String stdin, String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                binaries().resolve("kubectl").toString(),
                "--kubeconfig",
                kubeconfig().toString()));
        cmd.addAll(List.of(args));
        return Tools.run(cmd, stdin);
    }

    /** helm against this node. */
    public Tools.Result helm(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--kubeconfig", kubeconfig().toString()));
        return Tools.helm(all.toArray(String[]::new));
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        down();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook is running this.
        }
    }

    private synchronized void down() {
        if (closed) {
            return;
        }
        closed = true;
        keepLogs();
        Tools.Result r = script(List.of("down", dir.toString()));
        if (r.exitCode() != 0) {
            System.err.println("node.sh down failed:\n" + r.stderr());
        }
    }

    /** The components' logs, kept under target/e2e for a failed run's report. */
    private void keepLogs() {
        Path logs = dir.resolve("logs");
        if (!Files.isDirectory(logs)) {
            return;
        }
        try (Stream<Path> files = Files.list(logs)) {
            Files.createDirectories(LOGS);
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, LOGS.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            System.err.println("could not keep the node's logs: " + e);
        }
    }

    private static Tools.Result script(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(
                "env",
                "NODE_BIN=" + binaries(),
                "NODE_OWNER=" + ProcessHandle.current().pid(),
                "bash",
                SCRIPT.toString()));
        cmd.addAll(args);
        return Tools.run(cmd, null);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
