package dev.rootguard.admission;

import dev.rootguard.policy.Violation;
import dev.rootguard.policy.WorkloadKind;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Admission metrics:
 * <ul>
 * <li>{@code rootguard_admission_requests_total{webhook,kind,operation,decision}}</li>
 * <li>{@code rootguard_admission_duration_seconds{webhook}} (histogram)</li>
 * <li>{@code rootguard_violations_total{rule,action}}</li>
 * </ul>
 * Meters are cached by tag values so the hot path does no registry lookups after warm-up.
 */
@ApplicationScoped
public class AdmissionMetrics {
    private final MeterRegistry registry;
    private final Map<List<String>, Counter> requests = new ConcurrentHashMap<>();
    private final Map<List<String>, Counter> violations = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    public AdmissionMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    private static final Set<String> OPERATIONS = Set.of("CREATE", "UPDATE", "DELETE", "CONNECT");
    /** The workload kinds' names: the only kind label values besides {@code other}. */
    private static final Set<String> KINDS =
            Arrays.stream(WorkloadKind.values()).map(WorkloadKind::kind).collect(Collectors.toUnmodifiableSet());

    /**
     * Counts a request. Kind and operation come from the request body, so values outside the known
     * sets are counted as {@code other}: a client must not be able to create unbounded label values.
     */
    public void request(String webhook, String rawKind, String rawOperation, String decision) {
        String kind = KINDS.contains(rawKind) ? rawKind : "other";
        String operation = OPERATIONS.contains(rawOperation) ? rawOperation : "other";
        requests.computeIfAbsent(
                        List.of(webhook, kind, operation, decision),
                        k -> Counter.builder("rootguard.admission.requests")
                                .description("Admission requests by webhook, object kind, operation and decision")
                                .tags("webhook", webhook, "kind", kind, "operation", operation, "decision", decision)
                                .register(registry))
                .increment();
    }

    public void violations(List<Violation> list) {
        for (Violation v : list) {
            violations
                    .computeIfAbsent(
                            List.of(v.rule(), v.action().id()),
                            k -> Counter.builder("rootguard.violations")
                                    .description("Violations found, by rule and effective action")
                                    .tags("rule", v.rule(), "action", v.action().id())
                                    .register(registry))
                    .increment();
        }
    }

    public void duration(String webhook, long nanos) {
        timers.computeIfAbsent(
                        webhook,
                        w -> Timer.builder("rootguard.admission.duration")
                                .description("Time to decide an admission request, from body to response")
                                .tag("webhook", w)
                                .publishPercentileHistogram()
                                // A decision takes tens to hundreds of microseconds: buckets from 20 µs, not
                                // Micrometer's
                                // default 1 ms, so quantiles say how long it took rather than "under a millisecond".
                                .minimumExpectedValue(Duration.ofNanos(20_000))
                                .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }
}
