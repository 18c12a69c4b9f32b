package dev.rootguard.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs commands as root: directly when the tests run as root, else through passwordless sudo. */
final class Privileged {
    private final List<String> prefix;

    private Privileged(List<String> prefix) {
        this.prefix = List.copyOf(prefix);
    }

    /** Root or sudo -n, or null when neither is available. */
    static Privileged detect() throws IOException, InterruptedException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:") && line.split("\\s+")[2].equals("0")) {
                return new Privileged(List.of());
            }
        }
        String sudo = which("sudo");
        if (sudo != null) {
            Process p = new ProcessBuilder(sudo, "-n", "true")
                    .redirectErrorStream(true)
                    .start();
            p.getInputStream().readAllBytes();
            if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                return new Privileged(List.of(sudo, "-n"));
            }
        }
        return null;
    }

    /** An executable's path in the usual directories (the test's PATH may lack the sbin ones). */
    static String which(String name) {
        List<String> dirs =
                new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"));
        for (String dir : dirs) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name).toString();
            }
        }
        return null;
    }

    List<String> prefix() {
        return prefix;
    }

    /** Runs a command to completion; fails with its output when it exits non-zero. */
    void run(String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }

    /** Sends a signal to one process by its id (it may run as another user). */
    void kill(String signal, long pid) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of("kill", "-" + signal, String.valueOf(pid)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        p.waitFor(30, TimeUnit.SECONDS);
    }
}
