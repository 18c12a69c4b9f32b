package dev.rootguard.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.InvalidImageReferenceException;
import dev.rootguard.json.Json;
import dev.rootguard.policy.ImageInfo;
import dev.rootguard.policy.ImageUser;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Image users read from local copies instead of a registry, for audits without registry access:
 * OCI image layout directories ({@code oci-layout}, {@code index.json}, {@code blobs/}) and image
 * tarballs, either an OCI layout in a tar ({@code docker save} since Docker 25, {@code ctr images
 * export}, {@code skopeo copy oci-archive:}) or a Docker archive ({@code manifest.json} with
 * {@code RepoTags}), optionally gzipped.
 *
 * <p>Images are known by the names the layout records: the {@code io.containerd.image.name}
 * annotation, else an {@code org.opencontainers.image.ref.name} that is a full reference, and the
 * {@code RepoTags} of a Docker archive; and by manifest digest. Names compare as references
 * ({@code redis:7} is {@code docker.io/library/redis:7}).
 */
public final class OfflineImages {
    private static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    private static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    private static final long MAX_JSON = 4L << 20;

    private final Map<String, List<ImageUser>> byName = new HashMap<>();
    private final List<String> platforms;

    /** A layout or tarball that cannot be read; the message names the file and what is wrong. */
    public static final class UnreadableException extends Exception {
        UnreadableException(String message) {
            super(message);
        }
    }

    public OfflineImages(List<String> platforms) {
        this.platforms = List.copyOf(platforms);
    }

    /** Adds the images of an OCI layout directory or an image tarball. */
    public OfflineImages add(Path path) throws UnreadableException {
        Function<String, byte[]> files;
        try {
            files = Files.isDirectory(path) ? directory(path) : tarball(path);
        } catch (IOException e) {
            throw new UnreadableException(path + ": cannot read: " + e.getMessage());
        }
        try {
            if (files.apply("index.json") != null) {
                addLayout(path, files);
            } else if (files.apply("manifest.json") != null) {
                addDockerArchive(path, files);
            } else {
                throw new UnreadableException(
                        path + ": neither an OCI image layout (index.json) nor a Docker archive (manifest.json)");
            }
        } catch (IOException e) {
            throw new UnreadableException(path + ": " + e.getMessage());
        }
        return this;
    }

    /** The image's users, when one of the layouts has it. */
    public Optional<ImageInfo> get(String image) {
        return key(image).map(byName::get).map(users -> ImageInfo.found(image, users));
    }

    /** Names known (tests, messages). */
    public int size() {
        return byName.size();
    }

    private void addLayout(Path path, Function<String, byte[]> files) throws IOException, UnreadableException {
        JsonNode index = json(files.apply("index.json"), path + ": index.json");
        for (JsonNode m : index.path("manifests")) {
            JsonNode annotations = m.path("annotations");
            String name = annotations.path("io.containerd.image.name").asText("");
            if (name.isEmpty()) {
                name = annotations.path("org.opencontainers.image.ref.name").asText("");
            }
            String digest = m.path("digest").asText("");
            List<ImageUser> users =
                    users(path, files, digest, m.path("mediaType").asText(""));
            remember(digest, users);
            if (name.contains("/") || name.contains(":")) {
                remember(name, users);
            }
        }
    }

    private List<ImageUser> users(Path path, Function<String, byte[]> files, String digest, String mediaType)
            throws IOException, UnreadableException {
        JsonNode manifest = json(blob(path, files, digest), path + ": manifest " + digest);
        String type = manifest.path("mediaType").asText(mediaType);
        if (OCI_INDEX.equals(type) || DOCKER_LIST.equals(type) || manifest.has("manifests")) {
            List<ImageUser> out = new ArrayList<>();
            for (String platform : platforms) {
                String[] p = platform.split("/");
                for (JsonNode m : manifest.path("manifests")) {
                    JsonNode pl = m.path("platform");
                    if (p[0].equals(pl.path("os").asText())
                            && p[1].equals(pl.path("architecture").asText())) {
                        // A platform whose blobs the layout does not hold (a partial export) is left out.
                        String d = m.path("digest").asText();
                        if (has(files, d)) {
                            out.addAll(users(path, files, d, m.path("mediaType").asText("")));
                        }
                        break;
                    }
                }
            }
            if (out.isEmpty()) {
                throw new UnreadableException(path + ": index " + digest + " has no manifest for "
                        + String.join(" or ", platforms) + " in the layout");
            }
            return out;
        }
        String config = manifest.path("config").path("digest").asText("");
        if (config.isEmpty()) {
            throw new UnreadableException(path + ": manifest " + digest + " names no config");
        }
        return List.of(user(json(blob(path, files, config), path + ": config " + config), digest));
    }

    private void addDockerArchive(Path path, Function<String, byte[]> files) throws IOException, UnreadableException {
        JsonNode manifest = json(files.apply("manifest.json"), path + ": manifest.json");
        for (JsonNode image : manifest) {
            String configFile = image.path("Config").asText("");
            byte[] config = files.apply(configFile);
            if (config == null) {
                throw new UnreadableException(
                        path + ": manifest.json names config " + configFile + ", which is missing");
            }
            String digest = "sha256:" + configFile.replaceAll("^.*/", "").replace(".json", "");
            List<ImageUser> users = List.of(user(json(config, path + ": " + configFile), digest));
            for (JsonNode tag : image.path("RepoTags")) {
                remember(tag.asText(), users);
            }
        }
    }

    private static ImageUser user(JsonNode config, String digest) {
        String os = config.path("os").asText("");
        String arch = config.path("architecture").asText("");
        String variant = config.path("variant").asText("");
        JsonNode user = config.path("config").path("User");
        return new ImageUser(
                os + "/" + arch + (variant.isEmpty() ? "" : "/" + variant),
                digest,
                user.isTextual() ? user.asText() : "");
    }

    private void remember(String name, List<ImageUser> users) {
        if (name.startsWith("sha256:")) {
            byName.put(name, users);
            return;
        }
        key(name).ifPresent(k -> byName.put(k, users));
    }

    /** A reference as the key both sides compare by: registry/repository:tag, or the digest. */
    private static Optional<String> key(String image) {
        try {
            ImageReference ref = ImageReference.parse(image);
            if (ref.getDigest().isPresent()) {
                return ref.getDigest();
            }
            return Optional.of(ref.getRegistry() + "/" + ref.getRepository() + ":" + ref.getQualifier());
        } catch (InvalidImageReferenceException e) {
            return image.startsWith("sha256:") ? Optional.of(image) : Optional.empty();
        }
    }

    private static boolean has(Function<String, byte[]> files, String digest) {
        return files.apply("blobs/" + digest.replace(':', '/')) != null;
    }

    private static byte[] blob(Path path, Function<String, byte[]> files, String digest) throws UnreadableException {
        byte[] b = files.apply("blobs/" + digest.replace(':', '/'));
        if (b == null) {
            throw new UnreadableException(
                    path + ": blob " + digest + " is missing (or larger than " + MAX_JSON + " bytes)");
        }
        return b;
    }

    private static JsonNode json(byte[] bytes, String what) throws UnreadableException {
        if (bytes == null) {
            throw new UnreadableException(what + " is missing");
        }
        try {
            JsonNode n = Json.MAPPER.readTree(bytes);
            if (n == null || !(n.isObject() || n.isArray())) {
                throw new UnreadableException(what + " is not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new UnreadableException(what + " is not JSON");
        }
    }

    /** Files of a directory, by relative path; files over the JSON cap read as missing. */
    private static Function<String, byte[]> directory(Path dir) {
        return name -> {
            if (name.isEmpty() || name.contains("..")) {
                return null;
            }
            Path f = dir.resolve(name);
            try {
                return Files.isRegularFile(f) && Files.size(f) <= MAX_JSON ? Files.readAllBytes(f) : null;
            } catch (IOException e) {
                return null;
            }
        };
    }

    /** The small entries of a tarball (gzipped or not), by name; layers are skipped, not held. */
    private static Function<String, byte[]> tarball(Path file) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            int b1 = raw.read();
            int b2 = raw.read();
            raw.reset();
            InputStream in = b1 == 0x1f && b2 == 0x8b ? new GZIPInputStream(raw) : raw;
            try (TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    if (e.isFile() && e.getSize() <= MAX_JSON) {
                        String name = e.getName().startsWith("./") ? e.getName().substring(2) : e.getName();
                        entries.put(name, tar.readAllBytes());
                    }
                }
            }
        }
        if (entries.isEmpty()) {
            throw new IOException("not a tar archive, or an empty one");
        }
        return entries::get;
    }
}
