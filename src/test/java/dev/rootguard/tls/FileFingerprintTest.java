package dev.rootguard.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When the certificate files count as changed, and that a reload is never lost to a concurrent update. */
class FileFingerprintTest {
    @TempDir
    Path dir;

    /** What each load read from the CA file, in order. */
    private final List<String> loads = new ArrayList<>();

    private Path file(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private boolean load(Path ca) {
        loads.add(read(ca));
        return true;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void theFirstCheckLoadsAndAnUnchangedFileIsNotLoadedAgain() throws IOException {
        Path ca = file("ca.crt", "old CA");
        FileFingerprint f = new FileFingerprint(ca);
        assertTrue(f.reloadIfChanged(() -> load(ca)));
        assertFalse(f.reloadIfChanged(() -> load(ca)));
        assertEquals(List.of("old CA"), loads);
    }

    @Test
    void aChangedFileIsLoaded() throws IOException {
        Path ca = file("ca.crt", "old CA");
        FileFingerprint f = new FileFingerprint(ca);
        f.reloadIfChanged(() -> load(ca));
        Files.writeString(ca, "new CA");
        assertTrue(f.reloadIfChanged(() -> load(ca)));
        assertEquals(List.of("old CA", "new CA"), loads);
    }

    @Test
    void aFailedLoadIsTriedAgainOnTheNextCheck() throws IOException {
        Path ca = file("ca.crt", "old CA");
        FileFingerprint f = new FileFingerprint(ca);
        assertFalse(f.reloadIfChanged(() -> false));
        assertTrue(f.reloadIfChanged(() -> load(ca)));
        assertEquals(List.of("old CA"), loads);
    }

    @Test
    void aMissingFileLoadsNothingUntilItIsBack() throws IOException {
        Path ca = file("ca.crt", "old CA");
        FileFingerprint f = new FileFingerprint(ca);
        f.reloadIfChanged(() -> load(ca));
        Files.delete(ca);
        assertFalse(f.reloadIfChanged(() -> load(ca)));
        Files.writeString(ca, "new CA");
        assertTrue(f.reloadIfChanged(() -> load(ca)));
        assertEquals(List.of("old CA", "new CA"), loads);
    }

    /**
     * The update lands while the load is reading the files, so the load reads the new CA. The file
     * is then put back to the old CA, as a rolled-back rotation does. That restored file must be
     * loaded. A hash taken only before the load would record the old CA's hash for the new CA's
     * load, and the server would keep the new CA for good.
     */
    @Test
    void aFileChangedDuringTheLoadAndThenRestoredIsLoadedAgain() throws IOException {
        Path cert = file("tls.crt", "serving certificate");
        Path ca = file("ca.crt", "old CA");
        FileFingerprint f = new FileFingerprint(cert, ca);
        assertTrue(f.reloadIfChanged(() -> {
            try {
                Files.writeString(ca, "new CA");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return load(ca);
        }));
        Files.writeString(ca, "old CA");
        assertTrue(f.reloadIfChanged(() -> load(ca)), "the restored CA is loaded");
        assertFalse(f.reloadIfChanged(() -> load(ca)), "and only once");
        assertEquals(List.of("new CA", "old CA"), loads);
    }

    @Test
    void bytesMovedFromOneFileToTheNextCountAsAChange() throws IOException {
        Path cert = file("tls.crt", "ab");
        Path key = file("tls.key", "c");
        FileFingerprint f = new FileFingerprint(cert, key);
        f.reloadIfChanged(() -> true);
        Files.writeString(cert, "a");
        Files.writeString(key, "bc");
        assertTrue(f.reloadIfChanged(() -> true));
    }

    @Test
    void anUnsetOptionalFileIsIgnored() throws IOException {
        Path cert = file("tls.crt", "serving certificate");
        FileFingerprint f = new FileFingerprint(cert, null);
        assertTrue(f.reloadIfChanged(() -> load(cert)));
        assertFalse(f.reloadIfChanged(() -> load(cert)));
        assertEquals(List.of("serving certificate"), loads);
    }
}
