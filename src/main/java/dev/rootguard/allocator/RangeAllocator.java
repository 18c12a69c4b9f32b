package dev.rootguard.allocator;

import dev.rootguard.policy.IdRange;
import dev.rootguard.policy.NamespaceRanges;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Gives a namespace its own UID range, writing {@code rootguard.dev/uid-range: <start>/<size>}.
 *
 * <p>No range is ever handed out twice, even by two allocators at once (say, two replicas that both
 * believe they lead for a moment). The ConfigMap {@value #RECORD} records {@code next}, the first ID
 * above every range ever handed out. A range is first reserved by raising {@code next} past it with
 * an update that carries the ConfigMap's resourceVersion, so of two allocators that read the same
 * {@code next} only one succeeds and the other reads again; only then is the namespace annotated,
 * again with its resourceVersion, so a namespace that someone annotated meanwhile is never
 * overwritten. A failure between the two steps leaves a range unused, never a range used twice.
 *
 * <p>Because {@code next} only grows, the ranges of deleted namespaces are never reused: files
 * their pods wrote can outlive them (on retained persistent volumes, hostPath directories, backups)
 * and would otherwise belong to the next tenant. When the block runs out, allocation stops with
 * {@link RangeBlock.ExhaustedException}.
 */
public final class RangeAllocator {
    /** The ConfigMap (in the webhook's namespace) that records the high-water mark. */
    public static final String RECORD = "rootguard-id-ranges";
    /** Record key: the first ID above every range handed out. */
    public static final String NEXT = "next";
    /** Record key: the last namespace and range handed out, for people. */
    public static final String LAST = "last";

    private static final int ATTEMPTS = 50;

    /** What happened to a namespace. */
    public enum Outcome {
        /** A new range was written. */
        ASSIGNED,
        /** The namespace already has a readable uid range. */
        PRESENT,
        /** The namespace has an annotation we cannot read; it is left for a person to fix. */
        UNREADABLE,
        /** The namespace is exempt from the policy and gets no range. */
        EXCLUDED,
        /** The namespace does not exist or is being deleted. */
        GONE
    }

    /**
     * @param outcome what happened
     * @param range   the namespace's range when it has one
     */
    public record Result(Outcome outcome, Optional<IdRange> range) {}

    private final KubernetesClient client;
    private final String recordNamespace;
    private final RangeBlock block;
    private final Set<String> excluded;
    private final Supplier<Collection<Namespace>> known;
    /**
     * Ranges reserved in the record but not yet written to their namespace (the update failed): the
     * next attempt reuses them, so a namespace that cannot be annotated does not use up the block.
     */
    private final Map<String, IdRange> pending = new ConcurrentHashMap<>();

    /**
     * @param client          the API client
     * @param recordNamespace where the record ConfigMap lives (the webhook's namespace)
     * @param block           where ranges come from
     * @param excluded        namespaces that get no range (the exempt ones)
     * @param known           the namespaces as last seen (the informer's cache): their ranges are never handed out
     */
    public RangeAllocator(
            KubernetesClient client,
            String recordNamespace,
            RangeBlock block,
            Set<String> excluded,
            Supplier<Collection<Namespace>> known) {
        this.client = client;
        this.recordNamespace = recordNamespace;
        this.block = block;
        this.excluded = Set.copyOf(excluded);
        this.known = known;
    }

    /** True when the allocator would give this namespace a range as it is (cheap: no API call). */
    public boolean needsRange(Namespace ns) {
        return skip(ns).isEmpty();
    }

    /**
     * Makes sure the namespace has a range.
     *
     * @throws RangeBlock.ExhaustedException when the block has no free range left
     * @throws KubernetesClientException     when the API server refuses or cannot be reached; try again later
     */
    public Result ensureRange(String namespace) {
        Namespace ns = client.namespaces().withName(namespace).get();
        Optional<Result> skip = skip(ns);
        if (skip.isPresent()) {
            pending.remove(namespace);
            return skip.get();
        }
        IdRange range = pending.get(namespace);
        if (range == null || overlapsTaken(range)) {
            range = reserve(namespace);
            pending.put(namespace, range);
        }
        for (int attempt = 1; ; attempt++) {
            Map<String, String> annotations = new HashMap<>(
                    Optional.ofNullable(ns.getMetadata().getAnnotations()).orElse(Map.of()));
            annotations.put(NamespaceRanges.UID_RANGE_ANNOTATION, range.startSize());
            ns.getMetadata().setAnnotations(annotations);
            try {
                client.namespaces().resource(ns).update();
                pending.remove(namespace);
                return new Result(Outcome.ASSIGNED, Optional.of(range));
            } catch (KubernetesClientException e) {
                if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
                    pending.remove(namespace);
                    return new Result(Outcome.GONE, Optional.empty());
                }
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT || attempt >= ATTEMPTS) {
                    throw e;
                }
            }
            // Changed since we read it: if it now has a range (or is going away), ours stays unused.
            ns = client.namespaces().withName(namespace).get();
            skip = skip(ns);
            if (skip.isPresent()) {
                pending.remove(namespace);
                return skip.get();
            }
        }
    }

    /** True when a namespace's annotation (perhaps set by hand since) now claims part of this range. */
    private boolean overlapsTaken(IdRange range) {
        return taken().stream().anyMatch(t -> t.min() <= range.max() && range.min() <= t.max());
    }

    private Optional<Result> skip(Namespace ns) {
        if (ns == null || ns.getMetadata() == null || ns.getMetadata().getDeletionTimestamp() != null) {
            return Optional.of(new Result(Outcome.GONE, Optional.empty()));
        }
        if (excluded.contains(ns.getMetadata().getName())) {
            return Optional.of(new Result(Outcome.EXCLUDED, Optional.empty()));
        }
        Map<String, String> annotations = ns.getMetadata().getAnnotations();
        if (annotations != null && annotations.containsKey(NamespaceRanges.UID_RANGE_ANNOTATION)) {
            NamespaceRanges r = NamespaceRanges.fromAnnotations(annotations);
            return Optional.of(
                    r.uids().isPresent()
                            ? new Result(Outcome.PRESENT, r.uids())
                            : new Result(Outcome.UNREADABLE, Optional.empty()));
        }
        return Optional.empty();
    }

    /** Raises the record's high-water mark past a new range and returns the range. */
    private IdRange reserve(String namespace) {
        for (int attempt = 1; ; attempt++) {
            ConfigMap record = client.configMaps()
                    .inNamespace(recordNamespace)
                    .withName(RECORD)
                    .get();
            IdRange range = block.choose(next(record), taken());
            Map<String, String> data =
                    Map.of(NEXT, Long.toString(range.max() + 1), LAST, namespace + " " + range.startSize());
            try {
                if (record == null) {
                    client.configMaps()
                            .inNamespace(recordNamespace)
                            .resource(new ConfigMapBuilder()
                                    .withNewMetadata()
                                    .withName(RECORD)
                                    .addToAnnotations(
                                            "rootguard.dev/description",
                                            "Highest UID range rootguard has handed out; ranges are"
                                                    + " only ever handed out above 'next'. Do not edit.")
                                    .endMetadata()
                                    .withData(data)
                                    .build())
                            .create();
                } else {
                    Map<String, String> updated =
                            new HashMap<>(Optional.ofNullable(record.getData()).orElse(Map.of()));
                    updated.putAll(data);
                    record.setData(updated);
                    // update() sends the resourceVersion we read: a concurrent reservation makes it fail with 409.
                    client.configMaps()
                            .inNamespace(recordNamespace)
                            .resource(record)
                            .update();
                }
                return range;
            } catch (KubernetesClientException e) {
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT || attempt >= ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /** The record's high-water mark; the block's start before anything was handed out. */
    private long next(ConfigMap record) {
        if (record == null) {
            return block.block().min();
        }
        String value = record.getData() == null ? null : record.getData().get(NEXT);
        try {
            return Long.parseLong(value == null ? "" : value.trim());
        } catch (NumberFormatException e) {
            // Never guess: a lost high-water mark could hand out a range twice.
            throw new IllegalStateException("ConfigMap " + recordNamespace + "/" + RECORD + " has no readable '" + NEXT
                    + "'; set it to the first ID above every range handed out so far");
        }
    }

    private List<IdRange> taken() {
        List<IdRange> out = new ArrayList<>();
        for (Namespace ns : known.get()) {
            if (ns.getMetadata() != null) {
                NamespaceRanges r =
                        NamespaceRanges.fromAnnotations(ns.getMetadata().getAnnotations());
                r.uids().ifPresent(out::add);
                r.supplementalGroups().ifPresent(out::add);
            }
        }
        return out;
    }
}
