package dev.rootguard.image;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rootguard.testing.ImageDefinition;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.WebhookClient;
import dev.rootguard.testing.WebhookProcess;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The image Jib builds in 'package' ({@code target/jib-image.tar}, docker-archive): its configuration is
 * the one pom.xml defines ({@link ImageDefinition}), it holds no shell, it lays out the Quarkus fast-jar
 * under /deployments, and it runs. Running needs no container engine: the layers are unpacked in order
 * into {@code target/image-root}, and the entrypoint runs there in a chroot as 10001:10001, in its own
 * mount and PID namespaces (unshare), so the JVM is PID 1 as in a pod, with /proc and the four /dev
 * character devices a JVM opens. Network stays the host's, on loopback ports picked here. Needs root,
 * or passwordless sudo (GitHub's runners); otherwise the running test is skipped.
 */
class ImageIT {
    private static final Path TAR = Path.of("target", "jib-image.tar");
    private static final Path WORK = Path.of("target", "image-it").toAbsolutePath();
    private static final Path ROOT = Path.of("target", "image-root").toAbsolutePath();
    private static final Path PID_FILE = Path.of("target", "image-root.pid").toAbsolutePath();
    private static final Path LOG = Path.of("target", "e2e", "image-run.log").toAbsolutePath();
    private static final Set<String> SHELLS = Set.of("sh", "bash", "dash", "ash", "zsh", "ksh", "busybox", "toybox");
    private static final String USER = "10001:10001";
    /** The base.name label of images on provision/build-base-image.sh's base. */
    private static final String LOCAL_BASE = "rootguard/jre-base";

    private static ImageDefinition pom;
    private static JsonNode config;
    /** The image's layers, bottom first, each with its entries. */
    private static List<List<Tar.Entry>> layers;

    private static List<Path> layerFiles;

    @BeforeAll
    static void readImage() throws Exception {
        assertTrue(Files.isRegularFile(TAR), TAR + " is missing; 'package' builds it (unless -Djib.skip)");
        pom = ImageDefinition.read();
        Files.createDirectories(WORK);
        try (Stream<Path> old = Files.list(WORK)) {
            for (Path p : old.toList()) {
                Files.delete(p);
            }
        }
        Map<String, Path> files = new LinkedHashMap<>();
        try (InputStream in = Files.newInputStream(TAR)) {
            Tar.read(in, (entry, body) -> {
                if (entry.isFile() && !entry.name().contains("/")) {
                    Path to = WORK.resolve(entry.name());
                    Files.copy(body, to);
                    files.put(entry.name(), to);
                }
            });
        }
        JsonNode manifest =
                WebhookClient.JSON.readTree(files.get("manifest.json").toFile());
        assertEquals(1, manifest.size(), "one image in " + TAR);
        config = WebhookClient.JSON.readTree(
                files.get(manifest.get(0).path("Config").asText()).toFile());
        assertEquals(
                pom.projectVersion(),
                tagOf(manifest.get(0).path("RepoTags").path(0).asText()),
                "the image is tagged with the project version");
        layers = new ArrayList<>();
        layerFiles = new ArrayList<>();
        for (JsonNode layer : manifest.get(0).path("Layers")) {
            Path file = files.get(layer.asText());
            layerFiles.add(file);
            List<Tar.Entry> entries = new ArrayList<>();
            try (InputStream in = Tar.maybeGunzip(Files.newInputStream(file))) {
                Tar.read(in, (entry, body) -> entries.add(entry));
            }
            layers.add(entries);
        }
        assertEquals(config.path("rootfs").path("diff_ids").size(), layers.size(), "a diff_id for each layer");
    }

    @AfterAll
    static void removeUnpackedArchive() throws IOException {
        try (Stream<Path> files = Files.list(WORK)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
    }

    private static String tagOf(String repoTag) {
        return repoTag.substring(repoTag.lastIndexOf(':') + 1);
    }

    private static JsonNode container() {
        return config.path("config");
    }

    /** Whether the image is on provision/build-base-image.sh's base. */
    private static boolean localBase() {
        return LOCAL_BASE.equals(container()
                .path("Labels")
                .path("org.opencontainers.image.base.name")
                .asText());
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String kv : strings(container().path("Env"))) {
            int eq = kv.indexOf('=');
            env.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return env;
    }

    /** The last entry for a path across the layers (what the container sees, whiteouts aside). */
    private static Optional<Tar.Entry> entry(String path) {
        Tar.Entry found = null;
        for (List<Tar.Entry> layer : layers) {
            for (Tar.Entry e : layer) {
                if (e.path().equals(path)) {
                    found = e;
                }
            }
        }
        return Optional.ofNullable(found);
    }

    private static int layerOf(String path) {
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i).stream().anyMatch(e -> e.path().equals(path))) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void theImageRunsAsTheNumericNonRootUser() {
        assertEquals(USER, container().path("User").asText());
        assertEquals(pom.user(), container().path("User").asText(), "the user pom.xml defines");
    }

    @Test
    void theEntrypointIsTheExecFormJvmCommandPomXmlDefines() {
        List<String> entrypoint = strings(container().path("Entrypoint"));
        assertEquals(pom.entrypoint(), entrypoint);
        assertEquals("java", entrypoint.get(0), "exec form, the JVM as PID 1: " + entrypoint);
        assertTrue(entrypoint.containsAll(List.of("-jar", "/deployments/quarkus-run.jar")), entrypoint::toString);
        assertTrue(
                container().path("Cmd").isMissingNode()
                        || container().path("Cmd").isNull()
                        || container().path("Cmd").isEmpty(),
                "no Cmd that a shell would have to run: " + container().path("Cmd"));
    }

    @Test
    void theEnvironmentIsPomXmlsAndJavaIsOnThePath() {
        Map<String, String> env = env();
        pom.environment().forEach((k, v) -> assertEquals(v, env.get(k), k));
        assertEquals("C.UTF-8", env.get("LANG"));
        assertEquals("2", env.get("MALLOC_ARENA_MAX"));
        String path = env.get("PATH");
        assertTrue(path != null, "the image sets PATH");
        boolean found = false;
        for (String dir : path.split(":")) {
            Optional<Tar.Entry> java = entry(dir.substring(1) + "/java");
            if (java.isPresent()) {
                assertTrue((java.get().mode() & 0111) == 0111, dir + "/java is executable for everyone");
                found = true;
                break;
            }
        }
        assertTrue(found, "java is in a PATH directory (" + path + ")");
    }

    /**
     * No shell anywhere on the offline base (provision/build-base-image.sh), whose image this is unless
     * -Drootguard.image.base chose another; on eclipse-temurin the base's Ubuntu brings /bin/sh along,
     * and only the layers Jib adds are checked.
     */
    @Test
    void noLayerHoldsAShell() {
        boolean localBase = localBase();
        int baseLayers = 0;
        for (JsonNode h : config.path("history")) {
            if (!h.path("empty_layer").asBoolean(false)
                    && !"Jib".equals(h.path("author").asText())) {
                baseLayers++;
            }
        }
        List<String> shells = new ArrayList<>();
        for (int i = localBase ? 0 : baseLayers; i < layers.size(); i++) {
            for (Tar.Entry e : layers.get(i)) {
                String name = e.path().substring(e.path().lastIndexOf('/') + 1);
                if (!e.isDirectory() && SHELLS.contains(name)) {
                    shells.add(e.path());
                }
            }
        }
        assertEquals(List.of(), shells, "shells or multi-call binaries in the image");
    }

    @Test
    void theLabelsNameTheProjectAndItsVersion() {
        JsonNode labels = container().path("Labels");
        assertEquals(
                pom.projectVersion(),
                labels.path("org.opencontainers.image.version").asText());
        assertEquals("rootguard", labels.path("org.opencontainers.image.title").asText());
        for (String key : List.of("description", "source", "licenses", "revision", "url")) {
            assertFalse(
                    labels.path("org.opencontainers.image." + key).asText().isBlank(),
                    "label org.opencontainers.image." + key + ": " + labels);
        }
    }

    @Test
    void theAdmissionAndManagementPortsAreExposedAndTheWorkingDirectoryIsTheApplication() {
        Set<String> ports = new TreeSet<>();
        container().path("ExposedPorts").fieldNames().forEachRemaining(ports::add);
        assertEquals(Set.of("8443/tcp", "9000/tcp"), ports);
        assertEquals(
                new TreeSet<>(pom.ports().stream().map(p -> p + "/tcp").toList()), ports, "the ports pom.xml defines");
        assertEquals("/deployments", container().path("WorkingDir").asText());
        assertEquals(pom.workingDirectory(), container().path("WorkingDir").asText());
    }

    /**
     * The fast-jar laid out in /deployments as the former Dockerfile did, least changing layer first. Root-owned, 644 and 755:
     * the user 10001 reads the application but cannot change it (Jib's Maven plugin sets no ownership).
     */
    @Test
    void theFastJarIsUnderDeploymentsReadableButNotWritableForTheUser() {
        Tar.Entry run = entry("deployments/quarkus-run.jar")
                .orElseThrow(() -> new AssertionError("no deployments/quarkus-run.jar in the image"));
        assertTrue(run.isFile());
        assertEquals(0, run.uid(), "owner of quarkus-run.jar");
        assertEquals(0644, run.mode() & 07777, "mode of quarkus-run.jar");
        int lib = layerOf("deployments/lib/boot/");
        int jar = layerOf("deployments/quarkus-run.jar");
        int quarkus = layerOf("deployments/quarkus/quarkus-application.dat");
        int app = layers.size() - 1;
        assertTrue(lib > 0 && lib < jar && jar < quarkus && quarkus < app, "layers: lib, run jar, quarkus, app");
        assertTrue(
                layers.get(app).stream().anyMatch(e -> e.path().matches("deployments/app/rootguard-.*\\.jar")),
                "the application jar is in the top layer");
        List<String> writable = new ArrayList<>();
        for (List<Tar.Entry> layer : layers) {
            for (Tar.Entry e : layer) {
                if (e.path().startsWith("deployments")) {
                    boolean ok = e.isDirectory() ? (e.mode() & 0777) == 0755 : (e.mode() & 0777) == 0644;
                    if (!ok || e.uid() == 10001 || (e.mode() & 0022) != 0) {
                        writable.add(e.path() + " " + Integer.toOctalString(e.mode()) + " " + e.uid());
                    }
                }
            }
        }
        assertEquals(List.of(), writable, "entries under /deployments that are not root-owned 644/755");
    }

    @Test
    void theImageStartsDecidesAndStopsOnSigtermInAChrootAsTheUser() throws Exception {
        Privileged sys = Privileged.detect();
        Assumptions.assumeTrue(
                sys != null, "running the image needs root or passwordless sudo (unshare, mount, chroot)");
        String chroot = Privileged.which("chroot");
        String unshare = Privileged.which("unshare");
        Assumptions.assumeTrue(chroot != null && unshare != null, "needs chroot and unshare (util-linux)");
        cleanUp(sys);
        Process process = null;
        long jvm = -1;
        try {
            unpack(sys);
            int port = WebhookProcess.freePort();
            int management = WebhookProcess.freePort();
            List<String> cmd = new ArrayList<>(sys.prefix());
            cmd.addAll(List.of(
                    unshare,
                    "--mount",
                    "--pid",
                    "--fork",
                    "--propagation",
                    "private",
                    "--",
                    "/bin/sh",
                    "-c",
                    // In the new mount namespace, so the mounts go away with it; exec keeps the JVM PID 1.
                    "set -e; root=$1; shift; mount -t proc proc \"$root/proc\";"
                            + " for d in null zero random urandom; do mount --bind /dev/$d \"$root/dev/$d\"; done;"
                            + " exec env -i \"$@\"",
                    "sh",
                    ROOT.toString()));
            Map<String, String> env = env();
            // The webhook's configuration, as a pod would set it: loopback ports picked here, no cluster.
            env.put("QUARKUS_HTTP_SSL_PORT", String.valueOf(port));
            env.put("QUARKUS_HTTP_HOST", "127.0.0.1");
            env.put("QUARKUS_MANAGEMENT_PORT", String.valueOf(management));
            env.put("QUARKUS_MANAGEMENT_HOST", "127.0.0.1");
            env.put("ROOTGUARD_NAMESPACE_LABELS_ENABLED", "false");
            env.put("ROOTGUARD_ADMISSION_WARM_UP_REQUESTS", "0");
            env.put("JAVA_TOOL_OPTIONS", "-Xmx256m");
            env.forEach((k, v) -> cmd.add(k + "=" + v));
            cmd.addAll(List.of(chroot, "--userspec=" + USER, ROOT.toString()));
            cmd.addAll(strings(container().path("Entrypoint")));
            Files.createDirectories(LOG.getParent());
            process = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(LOG.toFile())
                    .start();
            Files.writeString(PID_FILE, String.valueOf(process.pid()));
            Process started = process;
            HttpClient http = HttpClient.newHttpClient();
            await("the image's webhook is ready (see " + LOG + ")")
                    .atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(250))
                    .until(() -> {
                        if (!started.isAlive()) {
                            throw new IllegalStateException(
                                    "exited with " + started.exitValue() + ": " + Files.readString(LOG));
                        }
                        try {
                            return http.send(
                                                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management
                                                                    + "/q/health/ready"))
                                                            .timeout(Duration.ofSeconds(2))
                                                            .build(),
                                                    HttpResponse.BodyHandlers.discarding())
                                            .statusCode()
                                    == 200;
                        } catch (IOException e) {
                            return false;
                        }
                    });
            jvm = started.descendants()
                    .filter(p -> isJava(p.pid()))
                    .mapToLong(ProcessHandle::pid)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no java process under " + started.pid()));
            String status = Files.readString(Path.of("/proc", String.valueOf(jvm), "status"));
            assertTrue(status.matches("(?s).*\\nUid:\\s+10001\\s+10001\\s+10001\\s+10001\\n.*"), status);
            assertTrue(status.matches("(?s).*\\nGid:\\s+10001\\s+10001\\s+10001\\s+10001\\n.*"), status);
            assertTrue(status.matches("(?s).*\\nNSpid:\\s+" + jvm + "\\s+1\\n.*"), "the JVM is PID 1: " + status);

            // Without a configured certificate the webhook generated one; /deployments is not writable,
            // so it went to the temporary directory.
            Path cert = ROOT.resolve("tmp/rootguard-dev-tls/rootguard-ca.crt");
            assertTrue(Files.isRegularFile(cert), "the development certificate is in the image's /tmp");
            HttpClient https = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .sslContext(WebhookClient.trusting(cert))
                    .build();
            assertEquals(
                    false,
                    decide(https, port, "pod-create-root").path("allowed").asBoolean(true));
            assertEquals(
                    true,
                    decide(https, port, "configmap-create").path("allowed").asBoolean(false));

            sys.kill("TERM", jvm);
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the JVM stops within 60 s of SIGTERM");
            // The JVM exits with 128 + 15 after its shutdown hooks (Quarkus' graceful stop) ran; unshare
            // and chroot pass the status on.
            assertEquals(143, process.exitValue(), () -> "exit status after SIGTERM; log: " + LOG);
            assertTrue(Files.readString(LOG).contains("rootguard stopped"), "Quarkus stopped gracefully");
        } finally {
            if (process != null && process.isAlive()) {
                if (jvm > 0) {
                    sys.kill("KILL", jvm);
                }
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            cleanUp(sys);
        }
    }

    /** Whether a process runs java; read from /proc, as the JVM's user differs from the test's. */
    private static boolean isJava(long pid) {
        try {
            String argv0 = Files.readString(Path.of("/proc", String.valueOf(pid), "cmdline"))
                    .split("\0", 2)[0];
            return argv0.equals("java") || argv0.endsWith("/java");
        } catch (IOException e) {
            return false; // gone
        }
    }

    private static JsonNode decide(HttpClient https, int port, String review) throws Exception {
        JsonNode body = Reviews.recorded(review);
        HttpResponse<String> r = https.send(
                HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/validate"))
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(20))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(WebhookClient.JSON.writeValueAsBytes(body)))
                        .build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertEquals(200, r.statusCode(), r::body);
        JsonNode response = WebhookClient.JSON.readTree(r.body()).path("response");
        assertEquals(
                body.path("request").path("uid").asText(), response.path("uid").asText());
        return response;
    }

    /** Unpacks the layers bottom first into {@link #ROOT}, honouring whiteouts, as a container runtime does. */
    private static void unpack(Privileged sys) throws Exception {
        sys.run("mkdir", "-p", ROOT.toString());
        for (int i = 0; i < layers.size(); i++) {
            for (Tar.Entry e : layers.get(i)) {
                String name = e.path().substring(e.path().lastIndexOf('/') + 1);
                if (!name.startsWith(".wh.")) {
                    continue;
                }
                String dir =
                        e.path().contains("/") ? e.path().substring(0, e.path().lastIndexOf('/')) : "";
                Path parent = ROOT.resolve(dir).normalize();
                assertTrue(parent.startsWith(ROOT), e.path());
                if (name.equals(".wh..wh..opq")) {
                    sys.run(
                            "find",
                            parent.toString(),
                            "-mindepth",
                            "1",
                            "-maxdepth",
                            "1",
                            "-exec",
                            "rm",
                            "-rf",
                            "{}",
                            "+");
                } else {
                    sys.run("rm", "-rf", parent.resolve(name.substring(4)).toString());
                }
            }
            sys.run(
                    "tar",
                    "--extract",
                    "--file",
                    layerFiles.get(i).toString(),
                    "--directory",
                    ROOT.toString(),
                    "--preserve-permissions",
                    "--same-owner",
                    "--numeric-owner",
                    "--exclude=.wh.*",
                    "--warning=no-unknown-keyword");
        }
        // Mount points for the namespace's /proc and the devices bound in; a runtime creates them too.
        sys.run(
                "mkdir",
                "-p",
                ROOT.resolve("proc").toString(),
                ROOT.resolve("dev").toString());
        for (String d : List.of("null", "zero", "random", "urandom")) {
            sys.run("touch", ROOT.resolve("dev").resolve(d).toString());
        }
        // eclipse-temurin's Ubuntu has a shell, and directories the test's user may not read (/root).
        if (localBase()) {
            try (Stream<Path> all = Files.walk(ROOT)) {
                List<String> shells = all.filter(
                                p -> SHELLS.contains(p.getFileName().toString()))
                        .map(Path::toString)
                        .toList();
                assertEquals(List.of(), shells, "shells in the unpacked image");
            }
        }
        assertEquals(01777, (int) Files.getAttribute(ROOT.resolve("tmp"), "unix:mode") & 07777, "mode of /tmp");
    }

    /**
     * Stops a run an earlier, killed test left behind (its unshare's process group, recorded in
     * target/image-root.pid), unmounts whatever is still mounted under target/image-root*, and
     * removes the unpacked tree.
     */
    private static void cleanUp(Privileged sys) throws Exception {
        if (Files.isRegularFile(PID_FILE)) {
            long pid = Long.parseLong(Files.readString(PID_FILE).trim());
            Optional<ProcessHandle> old = ProcessHandle.of(pid);
            if (old.isPresent() && old.get().info().commandLine().orElse("").contains(ROOT.toString())) {
                for (ProcessHandle p : old.get().descendants().toList()) {
                    sys.kill("KILL", p.pid());
                }
                sys.kill("KILL", pid);
            }
            Files.delete(PID_FILE);
        }
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String point = line.split(" ")[4].replace("\\040", " ");
            if (point.startsWith(ROOT.toString())) {
                mounts.add(point);
            }
        }
        mounts.sort(Comparator.reverseOrder()); // deepest first
        for (String m : mounts) {
            sys.run("umount", "--lazy", m);
        }
        if (Files.exists(ROOT)) {
            sys.run("rm", "-rf", "--one-file-system", ROOT.toString());
        }
    }
}
