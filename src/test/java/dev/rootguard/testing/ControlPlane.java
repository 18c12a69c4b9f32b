package dev.rootguard.testing;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real kube-apiserver and etcd on loopback, shared by every test class that uses this extension
 * and stopped at the end of the test run. The binaries are built from the Go module proxy by
 * {@code provision/install-control-plane.sh} (Maven runs it before the integration tests) into
 * {@code ~/.cache/rootguard/k8s/<version>-linux-amd64}, where kube-api-test finds them offline.
 */
public final class ControlPlane implements BeforeAllCallback {
    private static final Path SCRIPT = Versions.PROVISION.resolve("install-control-plane.sh");
    private static final Path AUDIT_LOG = Path.of("target", "e2e", "audit.log").toAbsolutePath();
    /** The audit policy the end-to-end clusters use: pods and workloads at Metadata level. */
    public static final String AUDIT_POLICY = """
            apiVersion: audit.k8s.io/v1
            kind: Policy
            omitStages: ["RequestReceived"]
            rules:
            - level: Metadata
              resources:
              - group: ""
                resources: ["pods", "pods/ephemeralcontainers"]
              - group: "apps"
              - group: "batch"
            - level: None
            """;

    /** The running control plane. */
    public static final class Handle implements AutoCloseable {
        private final KubeAPIServer server;
        private final String kubeconfig;
        private final String name;

        Handle(KubeAPIServer server, String name) {
            this.server = server;
            this.kubeconfig = server.getKubeConfigYaml();
            this.name = name;
        }

        public String kubeconfig() {
            return kubeconfig;
        }

        /** The API server's audit log (JSON lines; pods are logged at Metadata level). */
        public Path auditLog() {
            return AUDIT_LOG;
        }

        /** The kubeconfig written to a file, for processes such as the webhook and kubectl. */
        public Path kubeconfigFile() {
            try {
                Path f = Path.of("target", "e2e", name == null ? "kubeconfig" : "kubeconfig-" + name);
                Files.createDirectories(f.getParent());
                Files.writeString(f, kubeconfig);
                return f.toAbsolutePath();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        public KubernetesClient client() {
            return new KubernetesClientBuilder()
                    .withConfig(Config.fromKubeconfig(kubeconfig))
                    .build();
        }

        @Override
        public void close() {
            server.stop();
        }
    }

    private static volatile Handle handle;

    @Override
    public void beforeAll(ExtensionContext context) {
        handle = context.getRoot()
                .getStore(ExtensionContext.Namespace.GLOBAL)
                .computeIfAbsent(ControlPlane.class.getName(), k -> start(), Handle.class);
    }

    /** The control plane; only valid in a class that uses this extension. */
    public static Handle get() {
        if (handle == null) {
            throw new IllegalStateException("annotate the test class with @ExtendWith(ControlPlane.class)");
        }
        return handle;
    }

    /**
     * The Kubernetes version of the control plane: the system property {@code kubernetes.version}, a version or
     * {@code oldest} for {@code OLDEST_KUBERNETES_VERSION} in provision/versions.env (the failsafe execution
     * {@code oldest-kubernetes} sets it so), else what the install script builds by default,
     * {@code ROOTGUARD_K8S_VERSION} or {@code KUBERNETES_VERSION}.
     */
    public static String version() {
        String v = System.getProperty("kubernetes.version", "");
        if (v.equals("oldest")) {
            v = Versions.pinned("OLDEST_KUBERNETES_VERSION");
        }
        if (!v.isBlank()) {
            return v.startsWith("v") ? v.substring(1) : v;
        }
        return Versions.version("ROOTGUARD_K8S_VERSION", "KUBERNETES_VERSION");
    }

    /** The minor version of {@link #version()}: 37 for 1.37.2. */
    public static int minor() {
        return Integer.parseInt(version().split("\\.")[1]);
    }

    /** Where the binaries live: {@code $ROOTGUARD_CACHE} or {@code ~/.cache/rootguard}. */
    public static Path cacheDir() {
        String env = System.getenv("ROOTGUARD_CACHE");
        return env != null && !env.isBlank()
                ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".cache", "rootguard");
    }

    /**
     * A second API server with its own etcd and extra flags, for tests that need start-up
     * configuration the shared one does not have; the caller closes it.
     */
    public static Handle startDedicated(String name, Map<String, String> flags) {
        Path bin = cacheDir().resolve("k8s").resolve(version() + "-linux-amd64");
        if (!Files.isExecutable(bin.resolve("kube-apiserver"))) {
            throw new IllegalStateException("no kube-apiserver in " + bin + "; run bash " + SCRIPT);
        }
        KubeAPIServerConfigBuilder b = KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(cacheDir().toString())
                .withOfflineMode(true)
                .withApiServerVersion(version())
                .withUpdateKubeConfig(false)
                .withStartupTimeout(120_000)
                .withApiServerFlag("--advertise-address", "127.0.0.1")
                // 1.37 refuses a loopback advertise address while it reconciles the kubernetes Service's endpoints;
                // nothing reaches the API server through that Service here.
                .withApiServerFlag("--endpoint-reconciler-type", "none");
        flags.forEach(b::withApiServerFlag);
        KubeAPIServer server = new KubeAPIServer(b.build());
        server.start();
        return new Handle(server, name);
    }

    private static Handle start() {
        Path bin = cacheDir().resolve("k8s").resolve(version() + "-linux-amd64");
        System.out.println("control plane: kube-apiserver and etcd from " + bin);
        if (!Files.isExecutable(bin.resolve("kube-apiserver"))) {
            throw new IllegalStateException("no kube-apiserver in " + bin + "; run bash " + SCRIPT);
        }
        Path policy;
        try {
            Files.createDirectories(AUDIT_LOG.getParent());
            Files.deleteIfExists(AUDIT_LOG);
            policy = AUDIT_LOG.resolveSibling("audit-policy.yaml");
            Files.writeString(policy, AUDIT_POLICY);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        KubeAPIServer server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(cacheDir().toString())
                .withOfflineMode(true)
                .withApiServerVersion(version())
                .withUpdateKubeConfig(false)
                .withStartupTimeout(120_000)
                // There may be no default route to derive an advertise address from.
                .withApiServerFlag("--advertise-address", "127.0.0.1")
                // 1.37 refuses a loopback advertise address while it reconciles the kubernetes Service's endpoints;
                // nothing reaches the API server through that Service here.
                .withApiServerFlag("--endpoint-reconciler-type", "none")
                .withApiServerFlag("--audit-policy-file", policy.toString())
                .withApiServerFlag("--audit-log-path", AUDIT_LOG.toString())
                .build());
        server.start();
        return new Handle(server, null);
    }
}
