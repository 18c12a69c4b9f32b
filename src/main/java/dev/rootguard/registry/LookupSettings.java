package dev.rootguard.registry;

import dev.rootguard.config.RootguardConfig;
import dev.rootguard.policy.Glob;
import io.quarkus.runtime.configuration.MemorySizeConverter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How images are looked up ({@code rootguard.images.*}), checked.
 *
 * @param registries      hosts looked up; empty turns lookups off
 * @param denied          hosts never looked up
 * @param budget          longest an admission request waits for its lookups
 * @param timeout         connect and read timeout of one registry request
 * @param tagTtl          how long a tag's digest is trusted
 * @param failureTtl      how long a failure is remembered
 * @param cacheSize       most digests kept
 * @param threads         lookups at once
 * @param queue           lookups waiting for a thread
 * @param dockerConfig    credentials, when given
 * @param caFile          extra trusted certificate authorities, when given
 * @param platforms       {@code os/arch[/variant]} an index is resolved to
 * @param maxResponseSize largest manifest, token or config read
 */
public record LookupSettings(
        List<Glob> registries,
        List<Glob> denied,
        Duration budget,
        Duration timeout,
        Duration tagTtl,
        Duration failureTtl,
        int cacheSize,
        int threads,
        int queue,
        Optional<Path> dockerConfig,
        Optional<Path> caFile,
        List<String> platforms,
        long maxResponseSize) {

    public LookupSettings {
        registries = List.copyOf(registries);
        denied = List.copyOf(denied);
        platforms = List.copyOf(platforms);
    }

    /** The defaults of every key, looking up the given registry hosts. */
    public static LookupSettings defaults(List<String> registries) {
        return new LookupSettings(
                globs(registries),
                List.of(),
                Duration.ofSeconds(1),
                Duration.ofSeconds(5),
                Duration.ofMinutes(5),
                Duration.ofSeconds(30),
                10_000,
                8,
                64,
                Optional.empty(),
                Optional.empty(),
                List.of("linux/amd64", "linux/arm64"),
                4L << 20);
    }

    public boolean enabled() {
        return !registries.isEmpty();
    }

    /**
     * Reads and checks {@code rootguard.images.*}.
     *
     * @throws IllegalArgumentException naming the offending key and value
     */
    public static LookupSettings from(RootguardConfig.Images c) {
        positive("rootguard.images.budget", c.budget());
        positive("rootguard.images.timeout", c.timeout());
        positive("rootguard.images.tag-ttl", c.tagTtl());
        if (c.failureTtl().isNegative()) {
            throw new IllegalArgumentException("rootguard.images.failure-ttl: must not be negative");
        }
        atLeast("rootguard.images.cache-size", c.cacheSize(), 1);
        atLeast("rootguard.images.threads", c.threads(), 1);
        atLeast("rootguard.images.queue", c.queue(), 0);
        for (String p : c.platforms()) {
            String[] parts = p.split("/");
            if (parts.length < 2 || parts.length > 3 || parts[0].isBlank() || parts[1].isBlank()) {
                throw new IllegalArgumentException(
                        "rootguard.images.platforms: \"" + p + "\" is not os/architecture[/variant], e.g. linux/amd64");
            }
        }
        long max = new MemorySizeConverter().convert(c.maxResponseSize()).asLongValue();
        atLeast("rootguard.images.max-response-size", max, 1024);
        return new LookupSettings(
                globs(c.registries().orElse(List.of())),
                globs(c.deniedRegistries().orElse(List.of())),
                c.budget(),
                c.timeout(),
                c.tagTtl(),
                c.failureTtl(),
                c.cacheSize(),
                c.threads(),
                c.queue(),
                c.dockerConfig().map(f -> readable("rootguard.images.docker-config", f)),
                c.caFile().map(f -> readable("rootguard.images.ca-file", f)),
                c.platforms(),
                max);
    }

    public LookupSettings withBudget(Duration d) {
        return new LookupSettings(
                registries,
                denied,
                d,
                timeout,
                tagTtl,
                failureTtl,
                cacheSize,
                threads,
                queue,
                dockerConfig,
                caFile,
                platforms,
                maxResponseSize);
    }

    public LookupSettings withTimeout(Duration d) {
        return new LookupSettings(
                registries,
                denied,
                budget,
                d,
                tagTtl,
                failureTtl,
                cacheSize,
                threads,
                queue,
                dockerConfig,
                caFile,
                platforms,
                maxResponseSize);
    }

    public LookupSettings withTtls(Duration tag, Duration failure) {
        return new LookupSettings(
                registries,
                denied,
                budget,
                timeout,
                tag,
                failure,
                cacheSize,
                threads,
                queue,
                dockerConfig,
                caFile,
                platforms,
                maxResponseSize);
    }

    public LookupSettings withDenied(List<String> hosts) {
        return new LookupSettings(
                registries,
                globs(hosts),
                budget,
                timeout,
                tagTtl,
                failureTtl,
                cacheSize,
                threads,
                queue,
                dockerConfig,
                caFile,
                platforms,
                maxResponseSize);
    }

    public LookupSettings withPool(int threadCount, int queueSize) {
        return new LookupSettings(
                registries,
                denied,
                budget,
                timeout,
                tagTtl,
                failureTtl,
                cacheSize,
                threadCount,
                queueSize,
                dockerConfig,
                caFile,
                platforms,
                maxResponseSize);
    }

    public LookupSettings withCaFile(Path file) {
        return new LookupSettings(
                registries,
                denied,
                budget,
                timeout,
                tagTtl,
                failureTtl,
                cacheSize,
                threads,
                queue,
                dockerConfig,
                Optional.of(file),
                platforms,
                maxResponseSize);
    }

    public LookupSettings withDockerConfig(Path file) {
        return new LookupSettings(
                registries,
                denied,
                budget,
                timeout,
                tagTtl,
                failureTtl,
                cacheSize,
                threads,
                queue,
                Optional.of(file),
                caFile,
                platforms,
                maxResponseSize);
    }

    public LookupSettings withPlatforms(List<String> list) {
        return new LookupSettings(
                registries,
                denied,
                budget,
                timeout,
                tagTtl,
                failureTtl,
                cacheSize,
                threads,
                queue,
                dockerConfig,
                caFile,
                list,
                maxResponseSize);
    }

    public LookupSettings withMaxResponseSize(long bytes) {
        return new LookupSettings(
                registries,
                denied,
                budget,
                timeout,
                tagTtl,
                failureTtl,
                cacheSize,
                threads,
                queue,
                dockerConfig,
                caFile,
                platforms,
                bytes);
    }

    private static void positive(String key, Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(key + ": must be more than 0, got " + d);
        }
    }

    private static void atLeast(String key, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(key + ": must be at least " + min + ", got " + value);
        }
    }

    private static Path readable(String key, String file) {
        Path p = Path.of(file);
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException(key + ": cannot read " + file);
        }
        return p;
    }

    private static List<Glob> globs(List<String> values) {
        List<Glob> out = new ArrayList<>();
        for (String v : values) {
            if (!v.isBlank()) {
                out.add(Glob.of(v.strip()));
            }
        }
        return out;
    }
}
