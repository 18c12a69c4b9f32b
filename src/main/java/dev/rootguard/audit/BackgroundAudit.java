package dev.rootguard.audit;

import dev.rootguard.policy.Engine;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.Violation;
import dev.rootguard.policy.WorkloadKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Audits what already runs: informers cache pods and every workload kind, and each run evaluates
 * them all with the webhook's engine (objects owned by an audited controller are evaluated at the
 * owner). It exports {@code rootguard_audit_violations{rule,namespace,action}} (current
 * violations), {@code rootguard_audit_objects} and {@code rootguard_audit_last_run_seconds}, and logs
 * each violating object once, and again only when its violations change.
 */
public final class BackgroundAudit {
    private static final Logger LOG = Logger.getLogger(BackgroundAudit.class);

    private final Supplier<KubernetesClient> client;
    private final Engine engine;
    private final Supplier<PolicyConfig> policy;
    private final Function<String, NamespacePolicy> namespaces;
    private final MultiGauge violations;
    private final AtomicLong objects = new AtomicLong();
    private final AtomicLong lastRun = new AtomicLong();
    private final Map<String, String> logged = new HashMap<>();
    private final List<SharedIndexInformer<? extends HasMetadata>> informers = new ArrayList<>();

    public BackgroundAudit(
            Supplier<KubernetesClient> client,
            Engine engine,
            Supplier<PolicyConfig> policy,
            Function<String, NamespacePolicy> namespaces,
            MeterRegistry registry) {
        this.client = client;
        this.engine = engine;
        this.policy = policy;
        this.namespaces = namespaces;
        this.violations = MultiGauge.builder("rootguard.audit.violations")
                .description("Violations in objects that exist in the cluster now, by rule, namespace and action")
                .register(registry);
        Gauge.builder("rootguard.audit.objects", objects, AtomicLong::get)
                .description("Objects evaluated by the last background audit")
                .register(registry);
        Gauge.builder("rootguard.audit.last.run", lastRun, AtomicLong::get)
                .baseUnit("seconds")
                .description("Unix time of the last completed background audit")
                .register(registry);
    }

    /** Starts the informers (list, then watch); returns at once. */
    public synchronized void start() {
        for (WorkloadKind kind : WorkloadKind.values()) {
            SharedIndexInformer<? extends HasMetadata> inf =
                    client.get().resources(kind.modelClass()).inAnyNamespace().runnableInformer(0);
            inf.exceptionHandler((started, t) -> true);
            inf.start();
            informers.add(inf);
        }
    }

    /** True when every informer has listed once. */
    public boolean synced() {
        return !informers.isEmpty() && informers.stream().allMatch(SharedIndexInformer::hasSynced);
    }

    /**
     * Evaluates every cached object. Returns the objects whose violations are new or changed since
     * the last run (and were logged); nothing when the caches are not synced yet.
     */
    public synchronized List<String> runOnce() {
        if (!synced()) {
            return List.of();
        }
        PolicyConfig config = policy.get();
        Map<List<String>, Integer> counts = new HashMap<>();
        Map<String, String> seen = new HashMap<>();
        List<String> changed = new ArrayList<>();
        long evaluated = 0;
        for (SharedIndexInformer<? extends HasMetadata> inf : informers) {
            for (HasMetadata o : inf.getStore().list()) {
                if (WorkloadKind.controlledByWorkload(o)) {
                    continue;
                }
                evaluated++;
                String ns = o.getMetadata().getNamespace();
                Engine.Review review = engine.review(o, new Engine.Context(ns, null, namespaces.apply(ns)), config);
                if (review.violations().isEmpty()) {
                    continue;
                }
                for (Violation v : review.violations()) {
                    counts.merge(List.of(v.rule(), ns, v.action().id()), 1, Integer::sum);
                }
                String key = o.getKind() + " " + ns + "/" + o.getMetadata().getName();
                String lines = review.violations().stream().map(Violation::line).collect(Collectors.joining("; "));
                seen.put(key, lines);
                if (!Objects.equals(logged.get(key), lines)) {
                    changed.add(key);
                    LOG.infof("audit: %s violates the policy: %s", key, lines);
                }
            }
        }
        logged.keySet().retainAll(seen.keySet());
        logged.putAll(seen);
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        counts.forEach((k, n) ->
                rows.add(MultiGauge.Row.of(Tags.of("rule", k.get(0), "namespace", k.get(1), "action", k.get(2)), n)));
        violations.register(rows, true);
        objects.set(evaluated);
        lastRun.set(System.currentTimeMillis() / 1000);
        return changed;
    }

    public synchronized void stop() {
        informers.forEach(SharedIndexInformer::close);
        informers.clear();
    }
}
