package dev.rootguard.admission;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.net.URL;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Keeps every application jar open once start-up is over, so that loading a class never needs a new
 * file descriptor. The packaged application's class loader closes all its jars right after start-up
 * and reopens each on its next class load; when that reopen fails because the process is out of
 * descriptors (a connection flood), the loader never recovers: every later load from that jar waits
 * forever, and the event loops with it. Error paths load classes for the first time exactly then.
 *
 * <p>So once the main thread has finished starting (and the jars are closed), one resource is looked
 * up in every jar, which reopens them all for good. About 150 descriptors and a few MB; the
 * connection cap keeps the reserve for them ({@link ConnectionGuard#capFor}).
 */
@ApplicationScoped
public class OpenJars {
    private static final Logger LOG = Logger.getLogger(OpenJars.class);
    private static final String PACKAGED_LOADER = "io.quarkus.bootstrap.runner.RunnerClassLoader";
    private static final long WAIT_MS = 120_000;

    private volatile boolean pinned;

    void onStart(@Observes StartupEvent event) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if (!loader.getClass().getName().equals(PACKAGED_LOADER)) {
            // Tests and dev mode load classes from directories and keep their jars open.
            return;
        }
        Thread main = Thread.currentThread();
        Thread t = new Thread(() -> pin(loader, main), "rootguard-open-jars");
        t.setDaemon(true);
        t.start();
    }

    /** True once every application jar has been reopened after start-up. */
    public boolean pinned() {
        return pinned;
    }

    private void pin(ClassLoader loader, Thread main) {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        try {
            // The jars are closed just after start-up returns on the main thread, which then parks until shutdown.
            while (!startupReturned(main)) {
                if (System.currentTimeMillis() > deadline) {
                    LOG.warn("start-up did not finish in time; application jars are not kept open");
                    return;
                }
                Thread.sleep(100);
            }
            Set<String> jars = reopenAll(loader);
            pinned = true;
            LOG.debugf("kept %d application jars open", jars.size());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            LOG.warnf("could not keep the application jars open: %s", e.getMessage());
        }
    }

    private static boolean startupReturned(Thread main) {
        Thread.State state = main.getState();
        if (state == Thread.State.TERMINATED) {
            return true;
        }
        if (state != Thread.State.WAITING && state != Thread.State.TIMED_WAITING) {
            return false;
        }
        for (StackTraceElement frame : main.getStackTrace()) {
            if (frame.getClassName().equals("io.quarkus.runtime.ApplicationLifecycleManager")) {
                // Parked in run(): start-up and its clean-up are done.
                return !frame.getMethodName().equals("longLivedPostBootCleanup");
            }
        }
        return false;
    }

    /** Looks up the manifest of every jar, which makes the loader open each one again; returns their paths. */
    static Set<String> reopenAll(ClassLoader loader) throws IOException {
        Set<String> jars = new HashSet<>();
        Enumeration<URL> manifests = loader.getResources("META-INF/MANIFEST.MF");
        while (manifests.hasMoreElements()) {
            String url = manifests.nextElement().toString();
            int end = url.indexOf("!/");
            jars.add(end < 0 ? url : url.substring(0, end));
        }
        return jars;
    }
}
