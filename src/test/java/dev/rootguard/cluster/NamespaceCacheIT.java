package dev.rootguard.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.IdRange;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.policy.NamespaceRanges;
import dev.rootguard.testing.ControlPlane;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The namespace cache against a real kube-apiserver. */
@ExtendWith(ControlPlane.class)
class NamespaceCacheIT {

    @Test
    void labelsSetTheModeAndMutationAndChangesArriveThroughTheWatch() throws Exception {
        try (KubernetesClient client = ControlPlane.get().client()) {
            client.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName("ns-cache-warn")
                            .addToLabels(NamespacePolicy.MODE_LABEL, "warn")
                            .addToLabels(NamespacePolicy.MUTATE_LABEL, "false")
                            .endMetadata()
                            .build())
                    .create();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            NamespaceCache cache = new NamespaceCache(() -> client, true, registry);
            try {
                cache.start();
                await("the cache is synced")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(50))
                        .until(cache::synced);
                assertEquals(
                        1.0,
                        registry.get("rootguard.namespace.cache.synced").gauge().value());

                NamespacePolicy p = cache.policyFor("ns-cache-warn");
                assertEquals(Optional.of(Action.WARN), p.mode());
                assertFalse(p.mutate());
                Assertions.assertSame(
                        p,
                        cache.policyFor("ns-cache-warn"),
                        "an unchanged namespace is not parsed again for every request");
                assertEquals(
                        NamespacePolicy.fromMetadata(null, null),
                        cache.policyFor("does-not-exist"),
                        "no labels; known to have no ID range");

                client.namespaces()
                        .withName("ns-cache-warn")
                        .edit(n -> new NamespaceBuilder(n)
                                .editMetadata()
                                .addToLabels(NamespacePolicy.MODE_LABEL, "audit")
                                .removeFromLabels(NamespacePolicy.MUTATE_LABEL)
                                .endMetadata()
                                .build());
                await("the relabel is seen")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> cache.policyFor("ns-cache-warn").mode().equals(Optional.of(Action.AUDIT)));
                assertTrue(cache.policyFor("ns-cache-warn").mutate());

                client.namespaces()
                        .resource(new NamespaceBuilder()
                                .withNewMetadata()
                                .withName("ns-cache-new")
                                .addToLabels(NamespacePolicy.MODE_LABEL, "enforce")
                                .endMetadata()
                                .build())
                        .create();
                await("a new namespace is seen")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> cache.policyFor("ns-cache-new").mode().isPresent());
            } finally {
                cache.stop();
            }
            assertFalse(cache.synced(), "a stopped cache is not in use");
        }
    }

    @Test
    void annotationsGiveRangesAndUnreadableOnesAreIgnoredWithoutFailingLookups() throws Exception {
        try (KubernetesClient client = ControlPlane.get().client()) {
            client.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName("ns-cache-ranged")
                            .addToAnnotations(NamespaceRanges.UID_RANGE_ANNOTATION, "1000000000/10000")
                            .addToAnnotations(NamespaceRanges.SUPPLEMENTAL_GROUPS_ANNOTATION, "5000/100")
                            .endMetadata()
                            .build())
                    .create();
            client.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName("ns-cache-typo")
                            .addToAnnotations(NamespaceRanges.UID_RANGE_ANNOTATION, "1000000000:10000")
                            .endMetadata()
                            .build())
                    .create();
            NamespaceCache cache = new NamespaceCache(() -> client, true, new SimpleMeterRegistry());
            List<String> seen = new CopyOnWriteArrayList<>();
            try {
                assertEquals(
                        NamespaceRanges.UNKNOWN,
                        cache.policyFor("ns-cache-ranged").ranges(),
                        "not synced: nothing known");
                assertFalse(cache.addHandler(new Recorder(seen)), "no informer yet");
                cache.start();
                await("the cache is synced")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(50))
                        .until(cache::synced);

                NamespaceRanges ranged = cache.policyFor("ns-cache-ranged").ranges();
                assertEquals(Optional.of(new IdRange(1000000000, 1000009999)), ranged.uids());
                assertEquals(Optional.of(new IdRange(5000, 5099)), ranged.supplementalGroups());

                NamespacePolicy typo = cache.policyFor("ns-cache-typo");
                assertTrue(typo.ranges().known() && typo.ranges().uids().isEmpty(), "unreadable: no range");
                assertEquals(1, typo.problems().size(), typo.problems().toString());
                assertEquals(typo, cache.policyFor("ns-cache-typo"), "asking again gives the same answer");

                assertEquals(
                        NamespaceRanges.NO_RANGE,
                        cache.policyFor("ns-cache-not-seen-yet").ranges(),
                        "a namespace the synced cache has not seen exists (the API server checked) and has no range yet");
                assertTrue(cache.namespaces().stream()
                        .anyMatch(n -> n.getMetadata().getName().equals("ns-cache-typo")));

                assertTrue(cache.addHandler(new Recorder(seen)));
                await("a new handler hears of the cached namespaces")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> seen.contains("ns-cache-ranged"));
                client.namespaces()
                        .withName("ns-cache-typo")
                        .edit(n -> new NamespaceBuilder(n)
                                .editMetadata()
                                .addToAnnotations(NamespaceRanges.UID_RANGE_ANNOTATION, "1000010000/10000")
                                .endMetadata()
                                .build());
                await("the fixed annotation is seen")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() ->
                                cache.policyFor("ns-cache-typo").ranges().uids().isPresent());
                await("the handler hears of the update")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() ->
                                seen.stream().filter("ns-cache-typo"::equals).count() >= 2);
            } finally {
                cache.stop();
            }
        }
    }

    /** Records the names of namespaces added or updated. */
    private record Recorder(List<String> seen) implements ResourceEventHandler<Namespace> {
        public void onAdd(Namespace ns) {
            seen.add(ns.getMetadata().getName());
        }

        public void onUpdate(Namespace old, Namespace ns) {
            seen.add(ns.getMetadata().getName());
        }

        public void onDelete(Namespace ns, boolean unknown) {}
    }

    @Test
    void disabledCacheNeverCallsTheClient() {
        NamespaceCache cache = new NamespaceCache(
                () -> {
                    throw new AssertionError("client requested");
                },
                false,
                new SimpleMeterRegistry());
        cache.start();
        assertEquals(NamespacePolicy.UNKNOWN, cache.policyFor("anything"));
        assertFalse(cache.synced());
    }
}
