package dev.rootguard.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.InvalidImageReferenceException;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import com.google.cloud.tools.jib.api.buildplan.Platform;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * Test images in a {@link Registry}: built and pushed with jib-core (from scratch, one small layer,
 * a chosen {@code USER}, architecture and manifest format), multi-arch indexes over them, and raw
 * manifests and blobs through the registry's v2 API for the cases jib would never produce
 * (malformed manifests, oversized or broken configurations).
 *
 * <p>jib pushes with {@link Containerizer#setAllowInsecureRegistries}: the registry is on loopback
 * and its certificate is self-signed, and jib only trusts the JVM-wide trust store. The raw helpers
 * trust the registry's certificate properly ({@link Registry#send}).
 */
public final class RegistryImages {
    /** Docker image manifest, schema 2. */
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    /** Docker manifest list: one Docker manifest per platform. */
    public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    /** Docker image configuration. */
    public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    /** Docker layer, gzipped tar. */
    public static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /** OCI image manifest. */
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    /** OCI image index: one manifest per platform. */
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    /** OCI image configuration. */
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    /** OCI layer, gzipped tar. */
    public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
    /** An {@code Accept} header for every manifest type above, as container runtimes send it. */
    public static final String ACCEPT_ANY_MANIFEST =
            String.join(", ", OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant EPOCH = Instant.ofEpochSecond(1);
    /** An empty gzipped tar: two zero blocks, gzip-compressed (the layer of the raw images). */
    private static final byte[] EMPTY_LAYER = gzip(new byte[1024]);

    private RegistryImages() {}

    /**
     * An image in the registry.
     *
     * @param reference {@code host/repository:tag}
     * @param digest the manifest's digest ({@code sha256:...}), what a pod can pin
     * @param mediaType the manifest's media type
     * @param configDigest the configuration blob's digest
     * @param config the configuration as stored in the registry
     */
    public record Image(String reference, String digest, String mediaType, String configDigest, JsonNode config) {
        /** {@code config.User}, or null when the image sets no user. */
        public String user() {
            JsonNode u = config.path("config").path("User");
            return u.isMissingNode() || u.isNull() || u.asText().isEmpty() ? null : u.asText();
        }

        /** The image reference pinned by digest: {@code host/repository@sha256:...}. */
        public String pinned() {
            int colon = reference.lastIndexOf(':');
            String repo = colon > reference.lastIndexOf('/') ? reference.substring(0, colon) : reference;
            return repo + "@" + digest;
        }
    }

    /**
     * A multi-arch index (OCI) or manifest list (Docker) in the registry.
     *
     * @param reference {@code host/repository:tag}
     * @param digest the index's digest
     * @param mediaType the index's media type
     * @param platforms each architecture's image, in the index's order
     */
    public record Index(String reference, String digest, String mediaType, Map<String, Image> platforms) {}

    /** A manifest as the registry serves it. */
    public record Manifest(int status, String mediaType, String digest, byte[] body) {
        /** The body as JSON. */
        public JsonNode json() {
            return parse(body);
        }
    }

    /**
     * Builds an image from scratch with a one-file layer and pushes it as {@code repoTag} (e.g.
     * {@code app:1}).
     *
     * @param user the {@code USER}, e.g. {@code "10001:10001"}, or null for none (the runtime's default: root)
     * @param arch {@code amd64} or {@code arm64}: the configuration's architecture (OS linux)
     * @param format {@link ImageFormat#Docker} or {@link ImageFormat#OCI} manifest and configuration
     */
    public static Image push(Registry registry, String repoTag, String user, String arch, ImageFormat format) {
        String reference = registry.reference(repoTag);
        RegistryImage target;
        try {
            target = RegistryImage.named(reference);
        } catch (InvalidImageReferenceException e) {
            throw new IllegalArgumentException(reference, e);
        }
        if (registry.basicAuth()) {
            target.addCredential(Registry.USER, Registry.PASSWORD);
        }
        Path work = null;
        try {
            work = Files.createTempDirectory("rootguard-image");
            // Different content per image, so no two test images share a digest by accident.
            Path marker = Files.writeString(work.resolve("image"), reference + " " + user + " " + arch + "\n");
            JibContainer pushed = Jib.fromScratch()
                    .setFormat(format)
                    .setPlatforms(Set.of(new Platform(arch, "linux")))
                    .setCreationTime(EPOCH)
                    .addFileEntriesLayer(FileEntriesLayer.builder()
                            .addEntry(marker, AbsoluteUnixPath.get("/etc/rootguard-test-image"))
                            .build())
                    .setEntrypoint("/bin/true")
                    .setUser(user)
                    .containerize(Containerizer.to(target)
                            .setAllowInsecureRegistries(true)
                            .setToolName("rootguard-tests")
                            .setBaseImageLayersCache(work.resolve("cache"))
                            .setApplicationLayersCache(work.resolve("cache")));
            String repo = repository(repoTag);
            String digest = pushed.getDigest().toString();
            Manifest m = manifest(registry, repo, digest, ACCEPT_ANY_MANIFEST);
            String configDigest = m.json().path("config").path("digest").asText();
            return new Image(reference, digest, m.mediaType(), configDigest, parse(blob(registry, repo, configDigest)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception e) {
            // containerize declares jib's own checked exceptions besides I/O and execution failures.
            throw new IllegalStateException("cannot push " + reference + "; see " + registry.log(), e);
        } finally {
            delete(work);
        }
    }

    /**
     * Pushes an OCI index as {@code repoTag} with one image per architecture, each with its own
     * {@code USER} (null for none). See {@link #pushIndex(Registry, String, Map, ImageFormat)}.
     */
    public static Index pushIndex(Registry registry, String repoTag, Map<String, String> userByArch) {
        return pushIndex(registry, repoTag, userByArch, ImageFormat.OCI);
    }

    /**
     * Pushes a multi-arch index as {@code repoTag}: an OCI index over OCI images, or a Docker
     * manifest list over Docker images, one per architecture (in the map's order) with its own
     * {@code USER}. jib builds multi-platform images only from a multi-platform base, and then with
     * one configuration for all, so each platform is pushed on its own as {@code <tag>-<arch>} and
     * the index is put over them.
     */
    public static Index pushIndex(
            Registry registry, String repoTag, Map<String, String> userByArch, ImageFormat format) {
        String repo = repository(repoTag);
        String tag = tag(repoTag);
        Map<String, Image> platforms = new LinkedHashMap<>();
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        String mediaType = format == ImageFormat.OCI ? OCI_INDEX : DOCKER_MANIFEST_LIST;
        index.put("mediaType", mediaType);
        ArrayNode manifests = index.putArray("manifests");
        userByArch.forEach((arch, user) -> {
            Image image = push(registry, repo + ":" + tag + "-" + arch, user, arch, format);
            platforms.put(arch, image);
            byte[] body =
                    manifest(registry, repo, image.digest(), image.mediaType()).body();
            ObjectNode entry = manifests.addObject();
            entry.put("mediaType", image.mediaType());
            entry.put("digest", image.digest());
            entry.put("size", body.length);
            entry.putObject("platform").put("architecture", arch).put("os", "linux");
        });
        String digest = pushRaw(registry, repo, tag, mediaType, bytes(index));
        return new Index(registry.reference(repoTag), digest, mediaType, Collections.unmodifiableMap(platforms));
    }

    /**
     * Pushes an image whose configuration is exactly {@code config} (which need not be valid JSON,
     * or may be far larger than any real one), over one empty layer, as {@code repo:tag}.
     */
    public static Image pushWithConfig(Registry registry, String repo, String tag, ImageFormat format, byte[] config) {
        boolean oci = format == ImageFormat.OCI;
        String configDigest = pushBlob(registry, repo, config);
        String layerDigest = pushBlob(registry, repo, EMPTY_LAYER);
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", oci ? OCI_MANIFEST : DOCKER_MANIFEST);
        manifest.set("config", descriptor(oci ? OCI_CONFIG : DOCKER_CONFIG, configDigest, config.length));
        manifest.putArray("layers").add(descriptor(oci ? OCI_LAYER : DOCKER_LAYER, layerDigest, EMPTY_LAYER.length));
        String mediaType = manifest.path("mediaType").asText();
        String digest = pushRaw(registry, repo, tag, mediaType, bytes(manifest));
        JsonNode parsed;
        try {
            parsed = JSON.readTree(config);
        } catch (IOException e) {
            parsed = null;
        }
        return new Image(registry.reference(repo + ":" + tag), digest, mediaType, configDigest, parsed);
    }

    /**
     * Puts {@code manifest} as {@code repo:tag} with {@code mediaType} as its content type and returns
     * the digest the registry gives it; fails with the registry's error when it refuses the manifest
     * (distribution checks that referenced blobs exist and that the body parses as the type says).
     * {@link #putManifest} returns the refusal instead.
     */
    public static String pushRaw(Registry registry, String repo, String tag, String mediaType, byte[] manifest) {
        HttpResponse<String> r = putManifest(registry, repo, tag, mediaType, manifest);
        if (r.statusCode() != 201) {
            throw new IllegalStateException(
                    "PUT " + r.uri() + " (" + mediaType + "): " + r.statusCode() + " " + r.body());
        }
        return r.headers().firstValue("Docker-Content-Digest").orElse(sha256(manifest));
    }

    /** Puts a manifest and returns the registry's answer as it is (201 when accepted). */
    public static HttpResponse<String> putManifest(
            Registry registry, String repo, String reference, String mediaType, byte[] manifest) {
        return registry.send(
                registry.request("/v2/" + repo + "/manifests/" + reference)
                        .header("Content-Type", mediaType)
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Uploads {@code content} as a blob of {@code repo} in one piece and returns its digest. */
    public static String pushBlob(Registry registry, String repo, byte[] content) {
        String digest = sha256(content);
        HttpResponse<String> start = registry.send(
                registry.request("/v2/" + repo + "/blobs/uploads/")
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        String location = start.headers().firstValue("Location").orElse(null);
        if (start.statusCode() != 202 || location == null) {
            throw new IllegalStateException("POST " + start.uri() + ": " + start.statusCode() + " " + start.body());
        }
        // The upload URL carries the registry's state in its query; the digest is added to it.
        URI upload = start.uri().resolve(location);
        String query = upload.getRawQuery() == null ? "" : upload.getRawQuery() + "&";
        String path = upload.getRawPath() + "?" + query + "digest=" + digest;
        HttpResponse<String> done = registry.send(
                registry.request(path)
                        .header("Content-Type", "application/octet-stream")
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(content))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (done.statusCode() != 201) {
            throw new IllegalStateException("PUT " + done.uri() + ": " + done.statusCode() + " " + done.body());
        }
        return digest;
    }

    /** Fetches {@code /v2/<repo>/manifests/<reference>} (a tag or digest) with the given {@code Accept}. */
    public static Manifest manifest(Registry registry, String repo, String reference, String accept) {
        HttpResponse<byte[]> r = registry.send(
                registry.request("/v2/" + repo + "/manifests/" + reference)
                        .header("Accept", accept)
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        return new Manifest(
                r.statusCode(),
                r.headers().firstValue("Content-Type").orElse(null),
                r.headers().firstValue("Docker-Content-Digest").orElse(null),
                r.body());
    }

    /** Fetches a blob's content (the registry redirects nowhere: storage is its own filesystem). */
    public static byte[] blob(Registry registry, String repo, String digest) {
        HttpResponse<byte[]> r = registry.send(
                registry.request("/v2/" + repo + "/blobs/" + digest).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET " + r.uri() + ": " + r.statusCode());
        }
        return r.body();
    }

    /** {@code sha256:<hex>} of {@code content}: its digest as a registry names it. */
    public static String sha256(byte[] content) {
        try {
            return "sha256:"
                    + HexFormat.of()
                            .formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode descriptor(String mediaType, String digest, long size) {
        ObjectNode d = JSON.createObjectNode();
        d.put("mediaType", mediaType);
        d.put("digest", digest);
        d.put("size", size);
        return d;
    }

    private static String repository(String repoTag) {
        int colon = repoTag.lastIndexOf(':');
        if (colon < 0 || colon < repoTag.lastIndexOf('/')) {
            throw new IllegalArgumentException("expected repository:tag, got " + repoTag);
        }
        return repoTag.substring(0, colon);
    }

    private static String tag(String repoTag) {
        return repoTag.substring(repository(repoTag).length() + 1);
    }

    private static byte[] bytes(JsonNode json) {
        try {
            return JSON.writeValueAsBytes(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode parse(byte[] json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(new String(json, 0, Math.min(json.length, 200), StandardCharsets.UTF_8), e);
        }
    }

    private static byte[] gzip(byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
