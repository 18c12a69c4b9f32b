package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The decision threads, their queue and the in-flight body budget are bounded, and each refuses at once when full. */
class LoadBoundsTest {

    @Test
    void aFullPoolRefusesAtOnceAndRunsWhatItQueued() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DecisionPool pool = new DecisionPool(2, 3, registry);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(2);
        CountDownLatch done = new CountDownLatch(5);
        Set<String> threads = ConcurrentHashMap.newKeySet();
        Runnable task = () -> {
            threads.add(Thread.currentThread().getName());
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            done.countDown();
        };
        try {
            for (int i = 0; i < 5; i++) {
                assertTrue(pool.submit(task), "two running and three queued fit");
            }
            assertTrue(started.await(10, TimeUnit.SECONDS));
            assertEquals(5, pool.pending());
            long before = System.nanoTime();
            assertFalse(pool.submit(task), "a sixth is refused");
            assertTrue(System.nanoTime() - before < TimeUnit.SECONDS.toNanos(1), "and refused without waiting");
            assertEquals(
                    1.0,
                    registry.get("rootguard.admission.refused")
                            .tag("reason", "workers-busy")
                            .counter()
                            .count());
            release.countDown();
            assertTrue(done.await(10, TimeUnit.SECONDS), "every accepted task ran");
            assertEquals(2, threads.size(), "on two threads: " + threads);
            assertTrue(threads.stream().allMatch(n -> n.startsWith("rootguard-decide-")), threads::toString);
        } finally {
            release.countDown();
            pool.stop();
        }
    }

    @Test
    void sizesBelowOneAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new DecisionPool(0, 1, new SimpleMeterRegistry()));
        assertThrows(IllegalArgumentException.class, () -> new DecisionPool(1, 0, new SimpleMeterRegistry()));
    }

    @Test
    void theBudgetTakesWhatFitsAndRefusesTheRest() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BodyBudget budget = new BodyBudget(100, registry);
        assertTrue(budget.tryReserve(60));
        assertTrue(budget.tryReserve(40));
        assertFalse(budget.tryReserve(1), "full");
        assertEquals(100, budget.inFlight(), "a refusal takes nothing");
        budget.release(40);
        assertTrue(budget.tryReserve(30));
        assertEquals(
                90.0,
                registry.get("rootguard.admission.body.bytes.in.flight").gauge().value());
        assertEquals(
                1.0,
                registry.get("rootguard.admission.refused")
                        .tag("reason", "body-budget")
                        .counter()
                        .count());
        assertThrows(IllegalArgumentException.class, () -> new BodyBudget(0, new SimpleMeterRegistry()));
    }
}
