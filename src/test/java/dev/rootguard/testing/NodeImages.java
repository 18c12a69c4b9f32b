package dev.rootguard.testing;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.InvalidImageReferenceException;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The images the node suite's pods run, built as image tarballs from binaries on this machine with
 * jib-core (no daemon, no registry): the pause image the runtime uses for pod sandboxes, a busybox image
 * that runs as a non-root user, one whose {@code USER} is 0 and one whose {@code USER} is a name. Names are under {@code rootguard.local/}, a registry that does
 * not exist, so nothing is ever pulled: the pods use {@code imagePullPolicy: IfNotPresent} and the
 * images are imported into containerd before the kubelet starts.
 */
public final class NodeImages {
    public static final String PAUSE = "rootguard.local/pause:3.10.2";
    public static final String BUSYBOX = "rootguard.local/busybox:nonroot";
    public static final String BUSYBOX_ROOT = "rootguard.local/busybox:root";
    /** USER redis: a name, as the official redis image has, which the kubelet cannot check against runAsNonRoot. */
    public static final String BUSYBOX_NAMED = "rootguard.local/busybox:named";

    /** The busybox applets the tests call, each a copy of the static binary (jib-core layers hold no links). */
    private static final List<String> APPLETS =
            List.of("sh", "id", "cat", "ls", "stat", "touch", "sleep", "echo", "grep", "true", "env");

    private static final Instant EPOCH = Instant.ofEpochSecond(1);

    private NodeImages() {}

    /** The pause image: the static pause binary (see provision/install-node.sh) as the entrypoint, as nobody. */
    public static Path pause(Path pauseBinary, Path out) throws Exception {
        JibContainerBuilder b = Jib.fromScratch()
                .addFileEntriesLayer(FileEntriesLayer.builder()
                        .addEntry(pauseBinary, AbsoluteUnixPath.get("/pause"), FilePermissions.fromOctalString("755"))
                        .build())
                .setEntrypoint("/pause")
                .setUser("65535:65535");
        return build(b, PAUSE, out.resolve("pause.tar"));
    }

    /** Busybox with USER (for example "10001:10001", or "0"), its applets in /bin. */
    public static Path busybox(Path busybox, String user, String name, Path out) throws Exception {
        JibContainerBuilder b = Jib.fromScratch()
                .addFileEntriesLayer(shell(busybox).build())
                .addFileEntriesLayer(tmp())
                .setEnvironment(Map.of("PATH", "/bin"))
                .setEntrypoint("/bin/sh", "-c")
                .setProgramArguments("sleep 3600")
                .setUser(user);
        return build(b, name, out.resolve(name.replaceAll("[^a-z0-9]+", "-") + ".tar"));
    }

    private static FileEntriesLayer.Builder shell(Path busybox) {
        FileEntriesLayer.Builder layer = FileEntriesLayer.builder().setName("busybox");
        layer.addEntry(busybox, AbsoluteUnixPath.get("/bin/busybox"), FilePermissions.fromOctalString("755"));
        for (String applet : APPLETS) {
            layer.addEntry(busybox, AbsoluteUnixPath.get("/bin/" + applet), FilePermissions.fromOctalString("755"));
        }
        return layer;
    }

    /** An empty, world-writable /tmp (jib-core file modes have no sticky bit). */
    private static FileEntriesLayer tmp() throws Exception {
        Path empty = Files.createTempDirectory("rootguard-image-tmp");
        empty.toFile().deleteOnExit();
        return FileEntriesLayer.builder()
                .setName("tmp")
                .addEntry(empty, AbsoluteUnixPath.get("/tmp"), FilePermissions.fromOctalString("777"))
                .build();
    }

    private static Path build(JibContainerBuilder b, String name, Path tar) throws Exception {
        Files.createDirectories(tar.getParent());
        b.setCreationTime(EPOCH)
                .containerize(Containerizer.to(TarImage.at(tar).named(reference(name)))
                        .setOfflineMode(true)
                        .setBaseImageLayersCache(tar.getParent().resolve(".jib-cache"))
                        .setApplicationLayersCache(tar.getParent().resolve(".jib-cache")));
        return tar;
    }

    private static ImageReference reference(String name) {
        try {
            return ImageReference.parse(name);
        } catch (InvalidImageReferenceException e) {
            throw new IllegalArgumentException(name, e);
        }
    }
}
