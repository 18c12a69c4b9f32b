package dev.rootguard.admission;

import dev.rootguard.config.RootguardConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.configuration.MemorySizeConverter;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of request bodies held at once, across all connections ({@code rootguard.admission.max-in-flight-body-size}).
 * Bodies reserve their bytes as they arrive, so that many connections each sending most of a large body and then
 * stalling cannot fill the heap between them; {@link BodyReader} gives the bytes back when the answer is written
 * or the connection closes. Exported as {@code rootguard_admission_body_bytes_in_flight}, from startup (a singleton,
 * not a lazily created bean, so the gauge is there before the first body).
 */
@Singleton
public class BodyBudget {
    private final long limit;
    private final AtomicLong used = new AtomicLong();
    private final Counter refused;

    @Inject
    public BodyBudget(RootguardConfig config, MeterRegistry registry) {
        this(
                new MemorySizeConverter()
                        .convert(config.admission().maxInFlightBodySize())
                        .asLongValue(),
                registry);
    }

    BodyBudget(long limit, MeterRegistry registry) {
        if (limit <= 0) {
            throw new IllegalArgumentException(
                    "rootguard.admission.max-in-flight-body-size must be positive, got " + limit);
        }
        this.limit = limit;
        Gauge.builder("rootguard.admission.body.bytes.in.flight", used, AtomicLong::get)
                .description("Bytes of request bodies received and not yet answered")
                .register(registry);
        this.refused = refusedCounter(registry, "body-budget");
    }

    /** {@code rootguard_admission_refused_total{reason}}: requests answered 503 because a bound was reached. */
    static Counter refusedCounter(MeterRegistry registry, String reason) {
        return Counter.builder("rootguard.admission.refused")
                .description("Requests answered 503 at once because a load bound was reached, by bound")
                .tag("reason", reason)
                .register(registry);
    }

    /** Takes N bytes if they fit; false (and nothing taken) if they would go over the limit. */
    boolean tryReserve(long n) {
        while (true) {
            long now = used.get();
            if (now + n > limit) {
                refused.increment();
                return false;
            }
            if (used.compareAndSet(now, now + n)) {
                return true;
            }
        }
    }

    /** Gives back N bytes taken with {@link #tryReserve}. */
    void release(long n) {
        used.addAndGet(-n);
    }

    /** Bytes held now. */
    public long inFlight() {
        return used.get();
    }

    public long limit() {
        return limit;
    }
}
