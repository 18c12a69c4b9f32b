package dev.rootguard.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import dev.rootguard.testing.RegistryImages.Image;
import dev.rootguard.testing.RegistryImages.Index;
import dev.rootguard.testing.RegistryImages.Manifest;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The test registry itself: the real distribution registry on 127.0.0.1 with TLS takes the images
 * {@link RegistryImages} pushes (a USER or none, Docker or OCI, a multi-arch index whose platforms
 * differ in USER, raw manifests) and serves their manifests and configurations back; with basic
 * auth it refuses anonymous requests and takes {@link Registry#USER}'s.
 */
class RegistryIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Registry open;
    private static Registry locked;

    @BeforeAll
    static void start() {
        open = Registry.start();
        locked = Registry.startWithBasicAuth();
    }

    @AfterAll
    static void stop() {
        for (Registry r : new Registry[] {open, locked}) {
            if (r != null) {
                long pid = r.pid();
                r.close();
                assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "registry " + pid);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ImageFormat.class)
    void anImageWithAUserComesBackWithIt(ImageFormat format) {
        String repoTag = "app/nonroot:" + format.name().toLowerCase();
        Image image = RegistryImages.push(open, repoTag, "10001:10001", "amd64", format);

        String manifestType = format == ImageFormat.OCI ? RegistryImages.OCI_MANIFEST : RegistryImages.DOCKER_MANIFEST;
        Manifest m = RegistryImages.manifest(open, "app/nonroot", tag(repoTag), manifestType);
        assertEquals(200, m.status());
        assertEquals(manifestType, m.mediaType());
        assertEquals(image.digest(), m.digest());
        assertEquals(image.digest(), RegistryImages.sha256(m.body()));
        String configDigest = m.json().path("config").path("digest").asText();
        assertEquals(image.configDigest(), configDigest);

        JsonNode config = parse(RegistryImages.blob(open, "app/nonroot", configDigest));
        assertEquals("10001:10001", config.path("config").path("User").asText());
        assertEquals("amd64", config.path("architecture").asText());
        assertEquals("linux", config.path("os").asText());
        assertEquals("10001:10001", image.user());
        assertEquals(open.reference("app/nonroot@" + image.digest()), image.pinned());
    }

    @Test
    void anImageWithoutAUserHasNone() {
        Image image = RegistryImages.push(open, "app/root:1", null, "arm64", ImageFormat.Docker);

        Manifest m = RegistryImages.manifest(open, "app/root", "1", RegistryImages.ACCEPT_ANY_MANIFEST);
        assertEquals(RegistryImages.DOCKER_MANIFEST, m.mediaType());
        JsonNode config = parse(RegistryImages.blob(
                open, "app/root", m.json().path("config").path("digest").asText()));
        JsonNode user = config.path("config").path("User");
        assertTrue(user.isMissingNode() || user.isNull() || user.asText().isEmpty(), config.toString());
        assertEquals("arm64", config.path("architecture").asText());
        assertNull(image.user());
    }

    @ParameterizedTest
    @EnumSource(ImageFormat.class)
    void anIndexHasOneConfigurationPerPlatform(ImageFormat format) {
        Map<String, String> users = new LinkedHashMap<>();
        users.put("amd64", "0");
        users.put("arm64", "10001");
        String tag = "multi-" + format.name().toLowerCase();
        Index index = RegistryImages.pushIndex(open, "app/multi:" + tag, users, format);

        String indexType = format == ImageFormat.OCI ? RegistryImages.OCI_INDEX : RegistryImages.DOCKER_MANIFEST_LIST;
        Manifest m = RegistryImages.manifest(open, "app/multi", tag, RegistryImages.ACCEPT_ANY_MANIFEST);
        assertEquals(200, m.status());
        assertEquals(indexType, m.mediaType());
        assertEquals(index.digest(), m.digest());

        List<String> arches = new ArrayList<>();
        for (JsonNode entry : m.json().path("manifests")) {
            String arch = entry.path("platform").path("architecture").asText();
            arches.add(arch);
            assertEquals("linux", entry.path("platform").path("os").asText());
            Manifest platform = RegistryImages.manifest(
                    open,
                    "app/multi",
                    entry.path("digest").asText(),
                    entry.path("mediaType").asText());
            assertEquals(200, platform.status());
            assertEquals(entry.path("size").asLong(), platform.body().length);
            JsonNode config = parse(RegistryImages.blob(
                    open,
                    "app/multi",
                    platform.json().path("config").path("digest").asText()));
            assertEquals(users.get(arch), config.path("config").path("User").asText(), arch);
            assertEquals(arch, config.path("architecture").asText());
            assertEquals(users.get(arch), index.platforms().get(arch).user());
        }
        assertEquals(List.of("amd64", "arm64"), arches);
    }

    @Test
    void rawManifestsAndConfigurationsGoInAsTheyAre() {
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"User\":\"1234\"},\"padding\":\""
                        + "x".repeat(2 * 1024 * 1024) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        Image big = RegistryImages.pushWithConfig(open, "app/big", "1", ImageFormat.OCI, config);
        assertEquals("1234", big.user());
        assertEquals(config.length, RegistryImages.blob(open, "app/big", big.configDigest()).length);

        Manifest m = RegistryImages.manifest(open, "app/big", "1", RegistryImages.OCI_MANIFEST);
        assertEquals(big.digest(), m.digest());
        assertEquals(config.length, m.json().path("config").path("size").asLong());

        // distribution checks what a manifest references: a config blob it does not have is refused.
        String missing = RegistryImages.sha256("nothing".getBytes(StandardCharsets.UTF_8));
        byte[] dangling = ("{\"schemaVersion\":2,\"mediaType\":\"" + RegistryImages.OCI_MANIFEST
                        + "\",\"config\":{\"mediaType\":\"" + RegistryImages.OCI_CONFIG + "\",\"digest\":\"" + missing
                        + "\",\"size\":7},\"layers\":[]}")
                .getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> refused =
                RegistryImages.putManifest(open, "app/big", "dangling", RegistryImages.OCI_MANIFEST, dangling);
        assertEquals(400, refused.statusCode(), refused.body());
        assertThrows(
                IllegalStateException.class,
                () -> RegistryImages.pushRaw(open, "app/big", "dangling", RegistryImages.OCI_MANIFEST, dangling));
    }

    @Test
    void basicAuthRefusesAnonymousAndTakesTheCredentials(@TempDir Path dir) throws Exception {
        HttpResponse<String> anonymous = locked.send(
                HttpRequest.newBuilder(locked.url("/v2/")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, anonymous.statusCode());
        assertTrue(
                anonymous.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"),
                anonymous.headers().map().toString());

        HttpResponse<String> wrong = locked.send(
                HttpRequest.newBuilder(locked.url("/v2/"))
                        .header("Authorization", Registry.basicAuthorization(Registry.USER, "wrong"))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, wrong.statusCode());

        HttpResponse<String> ok =
                locked.send(locked.request("/v2/").GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ok.statusCode());

        Image image = RegistryImages.push(locked, "private/app:1", "10001:10001", "amd64", ImageFormat.OCI);
        assertEquals("10001:10001", image.user());
        HttpResponse<String> anonymousPull = locked.send(
                HttpRequest.newBuilder(locked.url("/v2/private/app/manifests/1"))
                        .header("Accept", RegistryImages.OCI_MANIFEST)
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, anonymousPull.statusCode());

        JsonNode docker = parse(Files.readAllBytes(locked.dockerConfig(dir)));
        String auth = docker.path("auths").path(locked.host()).path("auth").asText();
        assertEquals(
                Registry.USER + ":" + Registry.PASSWORD,
                new String(Base64.getDecoder().decode(auth), StandardCharsets.UTF_8));
        assertTrue(parse(Files.readAllBytes(open.dockerConfig(dir.resolve("open"))))
                .path("auths")
                .isEmpty());
    }

    @Test
    void itListensOnLoopbackWithItsOwnCertificate() throws Exception {
        assertTrue(open.host().startsWith("127.0.0.1:"), open.host());
        String pem = Files.readString(open.caFile());
        assertTrue(pem.contains("BEGIN CERTIFICATE"), pem);
        assertEquals(
                200,
                open.send(open.request("/v2/").GET().build(), HttpResponse.BodyHandlers.discarding())
                        .statusCode());
    }

    private static String tag(String repoTag) {
        return repoTag.substring(repoTag.lastIndexOf(':') + 1);
    }

    private static JsonNode parse(byte[] json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new AssertionError(new String(json, StandardCharsets.UTF_8), e);
        }
    }
}
