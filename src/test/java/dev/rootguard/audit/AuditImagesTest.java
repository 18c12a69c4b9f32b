package dev.rootguard.audit;

import static dev.rootguard.audit.AuditGoldenTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rootguard audit --resolve-images} offline: image users read from image tarballs (a Docker
 * archive and an OCI one, gzipped or not) and an OCI layout directory, all built here with jib, with
 * no registry contacted ({@code --offline}).
 */
class AuditImagesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private static Path dockerTar;
    private static Path ociTar;
    private static Path ociGz;
    private static Path layout;

    private static final String POD = """
            apiVersion: v1
            kind: Pod
            metadata: {name: cache, namespace: team-a}
            spec:
              securityContext: {runAsNonRoot: true, runAsGroup: 10000, fsGroup: 10000, supplementalGroupsPolicy: Strict, seccompProfile: {type: RuntimeDefault}}
              containers:
              - name: root
                image: registry.example/root:1
                securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
              - name: app
                image: registry.example/app:1
                securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
            """;

    @BeforeAll
    static void images() throws Exception {
        dockerTar = build(Jib.fromScratch(), "registry.example/root:1", ImageFormat.Docker, dir.resolve("root.tar"));
        ociTar = build(
                Jib.fromScratch().setUser("10001"), "registry.example/app:1", ImageFormat.OCI, dir.resolve("app.tar"));
        ociGz = dir.resolve("app.tar.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(ociGz))) {
            Files.copy(ociTar, out);
        }
        layout = Files.createDirectories(dir.resolve("app-layout"));
        try (InputStream in = Files.newInputStream(ociTar);
                TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                Path target = layout.resolve(e.getName()).normalize();
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(tar, target);
                }
            }
        }
    }

    private static Path build(JibContainerBuilder b, String name, ImageFormat format, Path tar) throws Exception {
        b.setFormat(format)
                .setCreationTime(Instant.EPOCH)
                .containerize(Containerizer.to(TarImage.at(tar).named(ImageReference.parse(name)))
                        .setOfflineMode(true)
                        .setBaseImageLayersCache(dir.resolve(".jib-cache"))
                        .setApplicationLayersCache(dir.resolve(".jib-cache")));
        return tar;
    }

    private static AuditGoldenTest.Run audit(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "audit";
        System.arraycopy(args, 0, all, 1, args.length);
        return cli(new ByteArrayInputStream(POD.getBytes(StandardCharsets.UTF_8)), all);
    }

    @Test
    void imageUsersFromArchivesDecideAndAreReportedPerContainer() throws Exception {
        // Both kinds of tarball: jib writes a Docker archive for the Docker format, an OCI layout for OCI.
        assertTrue(Files.exists(layout.resolve("index.json")) && Files.exists(layout.resolve("oci-layout")));
        for (Path app : new Path[] {ociTar, ociGz, layout}) {
            var run = audit(
                    "-f",
                    "-",
                    "--image-archive",
                    dockerTar.toString(),
                    "--image-archive",
                    app.toString(),
                    "--offline",
                    "-o",
                    "json");
            assertEquals(1, run.exit(), run.err() + run.out());
            JsonNode result = JSON.readTree(run.out()).path("results").get(0);
            JsonNode images = result.path("images");
            assertEquals(2, images.size(), images.toString());
            assertEquals("spec.containers[0]", images.get(0).path("container").asText());
            assertEquals("", images.get(0).path("user").asText(), "no USER: " + images);
            assertTrue(images.get(0).path("digest").asText().startsWith("sha256:"), images.toString());
            assertEquals("10001", images.get(1).path("user").asText(), app + ": " + images);
            assertEquals("linux/amd64", images.get(1).path("platform").asText());
            JsonNode rootFinding = null;
            for (JsonNode v : result.path("violations")) {
                if (v.path("rule").asText().equals("image-user")) {
                    rootFinding = v;
                }
            }
            assertTrue(rootFinding != null, result.toString());
            assertEquals(
                    "spec.containers[0].securityContext.runAsUser",
                    rootFinding.path("path").asText());
            assertTrue(
                    rootFinding.path("message").asText().contains("has no USER, so it runs as root"),
                    rootFinding.toString());
        }
    }

    @Test
    void everyFormatCarriesTheImageUsers() throws Exception {
        String[] base = {
            "-f", "-", "--image-archive", dockerTar.toString(), "--image-archive", ociTar.toString(), "--offline"
        };
        String table = audit(concat(base, "-o", "table")).out();
        assertTrue(
                table.contains("IMAGE    spec.containers[1]  registry.example/app:1: USER 10001 (linux/amd64, sha256:"),
                table);
        assertTrue(table.contains("IMAGE    spec.containers[0]  registry.example/root:1: no USER (root)"), table);
        String sarif = audit(concat(base, "-o", "sarif")).out();
        JsonNode results = JSON.readTree(sarif).path("runs").get(0).path("results");
        assertTrue(results.size() > 0, sarif);
        for (JsonNode r : results) {
            assertEquals(
                    "10001",
                    r.path("properties").path("images").get(1).path("user").asText(),
                    r.toString());
        }
        String junit = audit(concat(base, "-o", "junit")).out();
        assertTrue(
                junit.contains(
                        "<property name=\"image spec.containers[1] registry.example/app:1\" value=\"USER 10001 (linux/amd64, sha256:"),
                junit);
    }

    @Test
    void imagesMissingOfflineAreWarnedAboutNotGuessed() throws Exception {
        var run = audit("-f", "-", "--image-archive", ociTar.toString(), "--offline", "-o", "json");
        JsonNode result = JSON.readTree(run.out()).path("results").get(0);
        assertTrue(
                result.toString().contains("not in the --image-archive inputs, and --offline forbids registry lookups"),
                result.toString());
        boolean warned = false;
        for (JsonNode v : result.path("violations")) {
            warned |= v.path("rule").asText().equals("image-user")
                    && v.path("action").asText().equals("warn")
                    && v.path("path").asText().equals("spec.containers[0].image");
        }
        assertTrue(warned, result.toString());
    }

    @Test
    void anUnreadableArchiveIsAnErrorNamingIt() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.tar"), "not a tarball");
        var run = audit("-f", "-", "--image-archive", junk.toString(), "--offline");
        assertEquals(2, run.exit(), run.out());
        assertTrue(run.err().contains("rootguard audit: " + junk), run.err());
        Path empty = Files.createDirectories(dir.resolve("empty-layout"));
        var none = audit("-f", "-", "--image-archive", empty.toString(), "--offline");
        assertTrue(none.err().contains("neither an OCI image layout (index.json) nor a Docker archive"), none.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
