package dev.rootguard.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.testing.ControlPlane;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The namespace cache against a real kube-apiserver. */
@ExtendWith(ControlPlane.class)
class NamespaceCacheTest {

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void labelsSetTheModeAndMutationAndChangesArriveThroughTheWatch() throws Exception {
        try (KubernetesClient client = ControlPlane.get().client()) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("ns-cache-warn")
                    .addToLabels(NamespacePolicy.MODE_LABEL, "warn").addToLabels(NamespacePolicy.MUTATE_LABEL, "false")
                    .endMetadata().build()).create();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            NamespaceCache cache = new NamespaceCache(() -> client, true, registry);
            try {
                cache.start();
                await(cache::synced, "the cache is synced");
                assertEquals(1.0, registry.get("rootguard.namespace.cache.synced").gauge().value());

                NamespacePolicy p = cache.policyFor("ns-cache-warn");
                assertEquals(Optional.of(Action.WARN), p.mode());
                assertFalse(p.mutate());
                assertEquals(NamespacePolicy.NONE, cache.policyFor("does-not-exist"));

                client.namespaces().withName("ns-cache-warn").edit(n -> new NamespaceBuilder(n).editMetadata()
                        .addToLabels(NamespacePolicy.MODE_LABEL, "audit").removeFromLabels(NamespacePolicy.MUTATE_LABEL).endMetadata().build());
                await(() -> cache.policyFor("ns-cache-warn").mode().equals(Optional.of(Action.AUDIT)), "the relabel is seen");
                assertTrue(cache.policyFor("ns-cache-warn").mutate());

                client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("ns-cache-new")
                        .addToLabels(NamespacePolicy.MODE_LABEL, "enforce").endMetadata().build()).create();
                await(() -> cache.policyFor("ns-cache-new").mode().isPresent(), "a new namespace is seen");
            } finally {
                cache.stop();
            }
            assertFalse(cache.synced(), "a stopped cache is not in use");
        }
    }

    @Test
    void disabledCacheNeverCallsTheClient() {
        NamespaceCache cache = new NamespaceCache(() -> {
            throw new AssertionError("client requested");
        }, false, new SimpleMeterRegistry());
        cache.start();
        assertEquals(NamespacePolicy.NONE, cache.policyFor("anything"));
        assertFalse(cache.synced());
    }
}
