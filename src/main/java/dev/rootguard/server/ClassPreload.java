package dev.rootguard.server;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.jboss.logging.Logger;

/**
 * Loads, during start-up, the classes that serving connections and refusing them need, so that no
 * class is loaded for the first time while the process may be out of file descriptors.
 *
 * <p>Why: right after start-up the packaged application's class loader closes its jars and then keeps
 * only a few open, reopening a jar whenever a class is loaded from it. If that reopen fails for want of
 * a descriptor (a connection flood), the loader never recovers: every later load from that jar waits
 * forever, and with it the event loop that asked. Error paths (a refused accept, a closed handshake, a
 * framing error) load classes for the first time exactly when descriptors run out. While start-up runs,
 * all jars are still open, so loading the classes then costs no descriptor later.
 *
 * <p>The list ({@value #LIST}) holds the application-loader classes a freshly started server loaded
 * while answering every kind of request and refusal, and while being flooded with connections beyond
 * its descriptor limit; classes missing from this build are skipped. Loaded, not initialised: nothing
 * runs early.
 */
@ApplicationScoped
public class ClassPreload {
    private static final Logger LOG = Logger.getLogger(ClassPreload.class);
    static final String LIST = "rootguard/preload-classes.txt";

    private volatile int loaded = -1;

    void onStart(@Observes StartupEvent event) {
        loaded = preload(Thread.currentThread().getContextClassLoader());
    }

    /** Classes loaded at start-up (-1 before). */
    public int loaded() {
        return loaded;
    }

    static int preload(ClassLoader loader) {
        long start = System.nanoTime();
        int count = 0;
        int missing = 0;
        try (InputStream in = loader.getResourceAsStream(LIST)) {
            if (in == null) {
                LOG.warnf("%s is missing; classes will load on first use", LIST);
                return 0;
            }
            BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                String name = line.trim();
                if (name.isEmpty() || name.startsWith("#")) {
                    continue;
                }
                try {
                    Class.forName(name, false, loader);
                    count++;
                } catch (ClassNotFoundException | LinkageError e) {
                    missing++;
                }
            }
        } catch (IOException e) {
            LOG.warnf("cannot read %s: %s", LIST, e.getMessage());
        }
        LOG.debugf(
                "preloaded %d classes in %d ms (%d not in this build)",
                count, (System.nanoTime() - start) / 1_000_000, missing);
        return count;
    }
}
