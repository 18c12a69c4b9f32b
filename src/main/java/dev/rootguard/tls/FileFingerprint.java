package dev.rootguard.tls;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * Says whether a set of files changed since they were last loaded, and remembers only what a load
 * really saw.
 *
 * <p>The files are hashed before and after each load. If they changed in between, because an
 * update landed while the load was reading them, no hash is recorded and the next check loads
 * again. A single hash taken before the load is not enough. It can record the old content's hash
 * while the load read the new content. If a file is then put back to the old content, for
 * example when a CA rotation is rolled back, its hash matches and the restored file is never
 * loaded.
 */
final class FileFingerprint {
    private final List<Path> files;
    /** The hash of what the last successful load read; null until a load succeeds on files that held still. */
    private byte[] loaded;

    /** The files to watch, in a fixed order; null entries (an unset optional file) are skipped. */
    FileFingerprint(Path... files) {
        this.files = Arrays.stream(files).filter(Objects::nonNull).toList();
    }

    /**
     * Runs {@code load} when the files differ from what the last successful load read. A load that
     * returns false records nothing, so the next call tries again. Returns true when the load ran
     * and succeeded. A file that cannot be read counts as an update in progress: nothing is loaded.
     */
    synchronized boolean reloadIfChanged(BooleanSupplier load) {
        byte[] before = digest();
        if (before == null || Arrays.equals(before, loaded)) {
            return false;
        }
        if (!load.getAsBoolean()) {
            return false;
        }
        loaded = Arrays.equals(before, digest()) ? before : null;
        return true;
    }

    private byte[] digest() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Path f : files) {
                byte[] content = Files.readAllBytes(f);
                // The length first, so moving bytes from one file to the next changes the hash.
                md.update(ByteBuffer.allocate(Integer.BYTES)
                        .putInt(content.length)
                        .array());
                md.update(content);
            }
            return md.digest();
        } catch (Exception e) {
            return null;
        }
    }
}
