package dev.rootguard.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The helm and kubectl binaries the install scripts put in the cache, run as processes. */
public final class Tools {
    private Tools() {}

    /** The outcome of a command. */
    public record Result(int exitCode, String stdout, String stderr) {
        public Result orFail() {
            if (exitCode != 0) {
                throw new AssertionError("exit " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr);
            }
            return this;
        }
    }

    /** Where {@code provision/install-helm.sh} puts the pinned helm ({@code HELM_VERSION}, or {@code $ROOTGUARD_HELM_VERSION}). */
    public static Path helm() {
        String version = Versions.version("ROOTGUARD_HELM_VERSION", "HELM_VERSION");
        return ControlPlane.cacheDir().resolve("helm").resolve(version).resolve("helm");
    }

    public static Path kubectl() {
        return ControlPlane.cacheDir()
                .resolve("k8s")
                .resolve(ControlPlane.version() + "-linux-amd64")
                .resolve("kubectl");
    }

    /** Runs a command with optional standard input and returns its result (never throws on a non-zero exit). */
    public static Result run(List<String> command, String stdin) {
        try {
            Process p = new ProcessBuilder(new ArrayList<>(command)).start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            if (stdin != null) {
                p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            p.getOutputStream().close();
            if (!p.waitFor(900, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + command);
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static Result helm(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(helm().toString());
        cmd.addAll(List.of(args));
        return run(cmd, null);
    }

    private static String read(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
