package dev.rootguard.registry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Image lookup metrics:
 * <ul>
 * <li>{@code rootguard_image_lookups_total{result}}: per image asked for, {@code hit} (cached),
 * {@code miss} (looked up), {@code error} (the lookup failed), {@code cached-failure} (a recent failure
 * answered again), {@code timeout} (not known within the budget), {@code rejected} (the lookup queue was full);</li>
 * <li>{@code rootguard_image_lookup_seconds{outcome}}: time of each registry lookup, {@code ok} or {@code error};</li>
 * <li>{@code rootguard_image_cache_size}: image digests cached.</li>
 * </ul>
 */
public final class LookupMetrics {
    private final MeterRegistry registry;
    private final Map<String, Counter> results = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    public LookupMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Metrics kept nowhere (the CLI). */
    public static LookupMetrics none() {
        return new LookupMetrics(new SimpleMeterRegistry());
    }

    void result(String result) {
        results.computeIfAbsent(
                        result,
                        r -> Counter.builder("rootguard.image.lookups")
                                .description("Images asked for at admission, by how they were answered")
                                .tag("result", r)
                                .register(registry))
                .increment();
    }

    void lookup(boolean ok, long nanos) {
        timers.computeIfAbsent(
                        ok ? "ok" : "error",
                        o -> Timer.builder("rootguard.image.lookup")
                                .description("Registry lookups of an image's config")
                                .tag("outcome", o)
                                .publishPercentileHistogram()
                                .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    void cacheSize(Supplier<Number> size) {
        registry.gauge("rootguard.image.cache.size", size, s -> s.get().doubleValue());
    }

    /** How often {@code result} was counted (tests). */
    public double count(String result) {
        Counter c = results.get(result);
        return c == null ? 0 : c.count();
    }
}
