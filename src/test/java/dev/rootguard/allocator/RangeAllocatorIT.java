package dev.rootguard.allocator;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.cluster.NamespaceCache;
import dev.rootguard.policy.IdRange;
import dev.rootguard.policy.NamespaceRanges;
import dev.rootguard.testing.ControlPlane;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The range allocator against a real kube-apiserver of its own (the allocator annotates every
 * namespace it sees, so it must not share one with other tests). Each test uses its own block and
 * record namespace.
 */
class RangeAllocatorIT {
    private static ControlPlane.Handle cluster;
    private static KubernetesClient client;

    @BeforeAll
    static void start() {
        cluster = ControlPlane.startDedicated("allocator", Map.of());
        client = cluster.client();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static void namespace(String name, Map<String, String> annotations) {
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(name)
                        .withAnnotations(annotations)
                        .endMetadata()
                        .build())
                .create();
    }

    private static RangeAllocator allocator(
            KubernetesClient c, String recordNamespace, IdRange block, long size, Set<String> excluded) {
        if (c.namespaces().withName(recordNamespace).get() == null) {
            namespace(recordNamespace, Map.of());
        }
        return new RangeAllocator(
                c,
                recordNamespace,
                new RangeBlock(block, size),
                excluded,
                () -> c.namespaces().list().getItems());
    }

    private static Optional<IdRange> rangeOf(String namespace) {
        Namespace ns = client.namespaces().withName(namespace).get();
        return NamespaceRanges.fromAnnotations(ns.getMetadata().getAnnotations())
                .uids();
    }

    private static long recordNext(String recordNamespace) {
        ConfigMap cm = client.configMaps()
                .inNamespace(recordNamespace)
                .withName(RangeAllocator.RECORD)
                .get();
        return Long.parseLong(cm.getData().get(RangeAllocator.NEXT));
    }

    private static void assertDistinctAlignedInside(IdRange block, long size, List<IdRange> ranges) {
        for (int i = 0; i < ranges.size(); i++) {
            IdRange r = ranges.get(i);
            assertTrue(
                    block.contains(r) && r.size() == size && (r.min() - block.min()) % size == 0, r + " in " + block);
            for (int j = i + 1; j < ranges.size(); j++) {
                assertFalse(r.overlaps(ranges.get(j)), r + " overlaps " + ranges.get(j));
            }
        }
    }

    /** Deletes a namespace for good: no namespace controller runs here, so its finalizer is removed by hand. */
    private static void deleteForGood(String name) throws InterruptedException {
        client.namespaces().withName(name).delete();
        Namespace ns = client.namespaces().withName(name).get();
        if (ns != null) {
            ns.getSpec().setFinalizers(List.of());
            client.raw("/api/v1/namespaces/" + name + "/finalize", "PUT", ns);
        }
        await(name + " is gone")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> client.namespaces().withName(name).get() == null);
    }

    @Test
    void namespacesCreatedConcurrentlyGetDistinctRangesFromTwoAllocatorsRacingEachOther() throws Exception {
        IdRange block = new IdRange(2_000_000, 2_999_999);
        List<String> names = IntStream.range(0, 24).mapToObj(i -> "race-" + i).toList();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (KubernetesClient c1 = cluster.client();
                KubernetesClient c2 = cluster.client()) {
            for (Future<?> f : pool.invokeAll(names.stream()
                    .map(n -> (Callable<Object>) () -> {
                        namespace(n, Map.of());
                        return null;
                    })
                    .toList())) {
                f.get();
            }
            // Two allocators with their own clients, as two replicas that both believe they lead, each
            // with two workers, all working through every namespace at once in different orders.
            RangeAllocator a1 = allocator(c1, "race-records", block, 1000, Set.of());
            RangeAllocator a2 = allocator(c2, "race-records", block, 1000, Set.of());
            Map<String, List<RangeAllocator.Result>> results = new ConcurrentHashMap<>();
            List<Callable<Object>> workers = new ArrayList<>();
            for (RangeAllocator a : List.of(a1, a2, a1, a2)) {
                List<String> order = new ArrayList<>(names);
                Collections.shuffle(order);
                workers.add(() -> {
                    for (String n : order) {
                        results.computeIfAbsent(n, k -> Collections.synchronizedList(new ArrayList<>()))
                                .add(a.ensureRange(n));
                    }
                    return null;
                });
            }
            for (Future<?> f : pool.invokeAll(workers)) {
                f.get();
            }
            List<IdRange> ranges = new ArrayList<>();
            for (String n : names) {
                List<RangeAllocator.Result> rs = results.get(n);
                List<RangeAllocator.Result> assigned = rs.stream()
                        .filter(r -> r.outcome() == RangeAllocator.Outcome.ASSIGNED)
                        .toList();
                assertEquals(1, assigned.size(), () -> n + " was assigned once, never overwritten: " + rs);
                assertEquals(assigned.get(0).range(), rangeOf(n), n);
                rs.stream()
                        .filter(r -> r.outcome() != RangeAllocator.Outcome.ASSIGNED)
                        .forEach(r ->
                                assertEquals(new RangeAllocator.Result(RangeAllocator.Outcome.PRESENT, rangeOf(n)), r));
                ranges.add(rangeOf(n).orElseThrow());
            }
            assertDistinctAlignedInside(block, 1000, ranges);
            long highest = ranges.stream().mapToLong(IdRange::max).max().orElseThrow();
            assertTrue(recordNext("race-records") > highest, "the record is above every range handed out");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rangesOfDeletedNamespacesAreNeverHandedOutAgainAlsoAfterARestart() throws Exception {
        IdRange block = new IdRange(3_000_000, 3_999_999);
        RangeAllocator first = allocator(client, "reuse-records", block, 1000, Set.of());
        namespace("reuse-old", Map.of());
        IdRange old = first.ensureRange("reuse-old").range().orElseThrow();
        assertEquals(new IdRange(3_000_000, 3_000_999), old);
        deleteForGood("reuse-old");

        namespace("reuse-new", Map.of());
        IdRange fresh = first.ensureRange("reuse-new").range().orElseThrow();
        assertTrue(fresh.min() > old.max(), fresh + " reuses the range of a deleted namespace");

        try (KubernetesClient restarted = cluster.client()) {
            RangeAllocator second = allocator(restarted, "reuse-records", block, 1000, Set.of());
            assertEquals(
                    new RangeAllocator.Result(RangeAllocator.Outcome.PRESENT, Optional.of(fresh)),
                    second.ensureRange("reuse-new"),
                    "an existing assignment is kept");
            namespace("reuse-after-restart", Map.of());
            IdRange later = second.ensureRange("reuse-after-restart").range().orElseThrow();
            assertEquals(new IdRange(fresh.max() + 1, fresh.max() + 1000), later, "the record survives the restart");
        }
    }

    @Test
    void namespacesWithRangesUnreadableAnnotationsExclusionsOrDeletionAreLeftAlone() throws Exception {
        IdRange block = new IdRange(4_000_000, 4_999_999);
        RangeAllocator a = allocator(client, "skip-records", block, 1000, Set.of("skip-excluded"));
        namespace("skip-by-hand", Map.of(NamespaceRanges.UID_RANGE_ANNOTATION, "4000000/1000"));
        namespace("skip-typo", Map.of(NamespaceRanges.UID_RANGE_ANNOTATION, "4001000-4001999"));
        namespace("skip-excluded", Map.of());
        namespace("skip-going", Map.of());
        namespace("skip-plain", Map.of(NamespaceRanges.SUPPLEMENTAL_GROUPS_ANNOTATION, "4001000/1000"));
        client.namespaces().withName("skip-going").delete();

        assertEquals(
                RangeAllocator.Outcome.PRESENT, a.ensureRange("skip-by-hand").outcome());
        assertEquals(
                RangeAllocator.Outcome.UNREADABLE, a.ensureRange("skip-typo").outcome());
        assertEquals(
                "4001000-4001999",
                client.namespaces()
                        .withName("skip-typo")
                        .get()
                        .getMetadata()
                        .getAnnotations()
                        .get(NamespaceRanges.UID_RANGE_ANNOTATION),
                "an unreadable annotation is never overwritten");
        assertEquals(
                RangeAllocator.Outcome.EXCLUDED, a.ensureRange("skip-excluded").outcome());
        assertEquals(Optional.empty(), rangeOf("skip-excluded"));
        assertEquals(RangeAllocator.Outcome.GONE, a.ensureRange("skip-going").outcome());
        assertEquals(
                RangeAllocator.Outcome.GONE, a.ensureRange("skip-never-existed").outcome());
        assertNull(
                client.configMaps()
                        .inNamespace("skip-records")
                        .withName(RangeAllocator.RECORD)
                        .get(),
                "nothing was reserved");

        // The hand-set uid range and the supplemental-groups range are both taken: the first free one follows them.
        assertEquals(
                Optional.of(new IdRange(4_002_000, 4_002_999)),
                a.ensureRange("skip-plain").range());
        assertEquals(
                "4001000/1000",
                client.namespaces()
                        .withName("skip-plain")
                        .get()
                        .getMetadata()
                        .getAnnotations()
                        .get(NamespaceRanges.SUPPLEMENTAL_GROUPS_ANNOTATION),
                "other annotations are kept");
    }

    @Test
    void aNamespaceThatCannotBeAnnotatedKeepsItsReservedRangeInsteadOfUsingUpTheBlock() throws Exception {
        namespace("stuck", Map.of());
        // A ValidatingAdmissionPolicy in the API server refuses every update of that namespace, as another
        // admission policy or missing RBAC would.
        String policy = """
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicy
                metadata: {name: refuse-stuck}
                spec:
                  failurePolicy: Fail
                  matchConstraints:
                    resourceRules:
                      - {apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["namespaces"]}
                  validations:
                    - {expression: "object.metadata.name != 'stuck'", message: "namespace stuck is frozen"}
                """;
        String binding = """
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicyBinding
                metadata: {name: refuse-stuck}
                spec: {policyName: refuse-stuck, validationActions: [Deny]}
                """;
        client.resource(policy).create();
        client.resource(binding).create();
        await("the policy refusing updates of namespace stuck")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    try {
                        client.namespaces()
                                .withName("stuck")
                                .edit(n -> new NamespaceBuilder(n)
                                        .editMetadata()
                                        .addToLabels("probe", "x")
                                        .endMetadata()
                                        .build());
                        return false;
                    } catch (KubernetesClientException e) {
                        return true;
                    }
                });

        IdRange block = new IdRange(7_000_000, 7_099_999);
        RangeAllocator a = allocator(client, "stuck-records", block, 1000, Set.of());
        assertThrows(KubernetesClientException.class, () -> a.ensureRange("stuck"));
        long next = recordNext("stuck-records");
        for (int i = 0; i < 5; i++) {
            assertThrows(KubernetesClientException.class, () -> a.ensureRange("stuck"));
        }
        assertEquals(next, recordNext("stuck-records"), "retries reuse the reserved range; the record does not move");

        client.resource(binding).delete();
        RangeAllocator.Result[] last = new RangeAllocator.Result[1];
        await("namespace stuck annotated once the policy is gone")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    try {
                        last[0] = a.ensureRange("stuck");
                        return true;
                    } catch (KubernetesClientException e) {
                        return false;
                    }
                });
        assertEquals(
                new RangeAllocator.Result(
                        RangeAllocator.Outcome.ASSIGNED, Optional.of(new IdRange(7_000_000, 7_000_999))),
                last[0]);
        assertEquals(next, recordNext("stuck-records"));
    }

    @Test
    void anExhaustedBlockIsAClearErrorAndWritesNothing() throws Exception {
        IdRange block = new IdRange(5_000_000, 5_001_999);
        RangeAllocator a = allocator(client, "full-records", block, 1000, Set.of());
        for (String n : List.of("full-1", "full-2", "full-3")) {
            namespace(n, Map.of());
        }
        assertTrue(a.ensureRange("full-1").range().isPresent());
        assertTrue(a.ensureRange("full-2").range().isPresent());
        RangeBlock.ExhaustedException e =
                assertThrows(RangeBlock.ExhaustedException.class, () -> a.ensureRange("full-3"));
        assertTrue(
                e.getMessage().contains("no free range of 1000 IDs is left in rootguard.allocator.block 5000000/2000"),
                e.getMessage());
        assertEquals(Optional.empty(), rangeOf("full-3"));
        assertEquals(5_002_000, recordNext("full-records"));
    }

    @Test
    void anUnreadableRecordStopsAllocationInsteadOfGuessing() throws Exception {
        RangeAllocator a = allocator(client, "bad-records", new IdRange(6_000_000, 6_999_999), 1000, Set.of());
        client.configMaps()
                .inNamespace("bad-records")
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName(RangeAllocator.RECORD)
                        .endMetadata()
                        .addToData(RangeAllocator.NEXT, "lots")
                        .build())
                .create();
        namespace("bad-record-ns", Map.of());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.ensureRange("bad-record-ns"));
        assertTrue(e.getMessage().contains("bad-records/rootguard-id-ranges has no readable 'next'"), e.getMessage());
        assertEquals(Optional.empty(), rangeOf("bad-record-ns"));
    }

    @Test
    void exactlyOneOfTwoElectedAllocatorsAssignsAndTheOtherTakesOverWithoutReassigning() throws Exception {
        IdRange block = new IdRange(1_000_000_000, 1_999_999_999);
        LeaderAllocator.Timing fast = new LeaderAllocator.Timing(
                Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofMillis(300), Duration.ofSeconds(1));
        Set<String> excluded = Set.of("kube-system", "kube-public", "kube-node-lease", "elected");
        namespace("elected", Map.of());
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            List<LeaderAllocator> replicas = new ArrayList<>();
            for (String id : List.of("replica-a", "replica-b")) {
                KubernetesClient c = cluster.client();
                NamespaceCache cache = new NamespaceCache(() -> c, true, new SimpleMeterRegistry());
                cache.start();
                RangeAllocator ranges =
                        new RangeAllocator(c, "elected", new RangeBlock(block, 10_000), excluded, cache::namespaces);
                LeaderAllocator replica =
                        new LeaderAllocator(c, cache, ranges, "elected", id, fast, new SimpleMeterRegistry());
                resources.add(c);
                resources.add(cache::stop);
                resources.add(replica);
                replicas.add(replica);
                replica.start();
            }
            await("one replica leads")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() ->
                            replicas.stream().filter(LeaderAllocator::leading).count() == 1);
            List<String> names =
                    IntStream.range(0, 12).mapToObj(i -> "tenant-" + i).toList();
            ExecutorService pool = Executors.newFixedThreadPool(6);
            try {
                for (Future<?> f : pool.invokeAll(names.stream()
                        .map(n -> (Callable<Object>) () -> {
                            namespace(n, Map.of());
                            return null;
                        })
                        .toList())) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            await("every new namespace has a range")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> names.stream().allMatch(n -> rangeOf(n).isPresent()));
            Map<String, IdRange> before = new HashMap<>();
            names.forEach(n -> before.put(n, rangeOf(n).orElseThrow()));
            assertDistinctAlignedInside(block, 10_000, new ArrayList<>(before.values()));
            assertEquals(Optional.empty(), rangeOf("kube-system"), "excluded namespaces get no range");
            // The API server creates "default" itself, shortly after start-up, so its range may come after the
            // tenants'.
            await("namespaces that existed before are given one too")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> rangeOf("default").isPresent());
            assertEquals(1, replicas.stream().filter(LeaderAllocator::leading).count(), "still exactly one leader");

            LeaderAllocator leader = replicas.stream()
                    .filter(LeaderAllocator::leading)
                    .findFirst()
                    .orElseThrow();
            LeaderAllocator other = replicas.get(1 - replicas.indexOf(leader));
            leader.close();
            assertFalse(leader.leading());
            await("the other replica takes over the released lease")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(50))
                    .until(other::leading);
            namespace("tenant-after-failover", Map.of());
            await("the new leader assigns ranges")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> rangeOf("tenant-after-failover").isPresent());
            IdRange after = rangeOf("tenant-after-failover").orElseThrow();
            before.values().forEach(r -> assertFalse(r.overlaps(after), after + " overlaps " + r));
            names.forEach(n -> assertEquals(before.get(n), rangeOf(n).orElseThrow(), n + " keeps its range"));
            assertNotNull(client.leases()
                    .inNamespace("elected")
                    .withName(LeaderAllocator.LEASE)
                    .get());
        } finally {
            for (int i = resources.size() - 1; i >= 0; i--) {
                resources.get(i).close();
            }
        }
    }
}
