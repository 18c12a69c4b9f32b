package dev.rootguard.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tool versions pinned in {@code provision/versions.env}, the file the provisioning scripts read
 * too, so tests look for exactly what the scripts installed. Maven passes the file's path as the
 * system property {@code provision.versions}; run from an IDE, it is found relative to the checkout.
 */
public final class Versions {
    /** The versions file. */
    public static final Path FILE = Path.of(System.getProperty("provision.versions", "provision/versions.env"));
    /** The provisioning scripts' folder. */
    public static final Path PROVISION = FILE.toAbsolutePath().getParent();

    private Versions() {}

    /** The value of KEY in the versions file. */
    public static String pinned(String key) {
        String v = read().get(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalStateException("no " + key + " in " + FILE.toAbsolutePath());
        }
        return v;
    }

    /** A version without its leading v: the environment variable ENV when set, else KEY from the file. */
    public static String version(String env, String key) {
        String v = System.getenv(env);
        if (v == null || v.isBlank()) {
            v = pinned(key);
        }
        return v.startsWith("v") ? v.substring(1) : v;
    }

    /** KEY=value lines, as the scripts' {@code pinned} reads them: comments and blank lines skipped, the last one wins. */
    static Map<String, String> read() {
        try {
            Map<String, String> values = new LinkedHashMap<>();
            for (String line : Files.readAllLines(FILE)) {
                String l = line.strip();
                int eq = l.indexOf('=');
                if (l.isEmpty() || l.startsWith("#") || eq < 1) {
                    continue;
                }
                String value = l.substring(eq + 1).split("[\\s#]", 2)[0];
                values.put(l.substring(0, eq), value);
            }
            return values;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
