package dev.rootguard.admission;

import dev.rootguard.config.RootguardConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that decide large request bodies ({@code rootguard.admission.worker-threads}), so that a decision
 * taking seconds never holds up the other connections of an event loop. Both the threads and the queue
 * ({@code rootguard.admission.worker-queue}) are bounded: when both are full, {@link #submit} refuses at once and
 * the request is answered 503, rather than waiting past the API server's timeout behind unbounded work.
 */
@ApplicationScoped
public class DecisionPool {
    private final ThreadPoolExecutor executor;
    private final Counter refused;

    @Inject
    public DecisionPool(RootguardConfig config, MeterRegistry registry) {
        this(config.admission().workerThreads(), config.admission().workerQueue(), registry);
    }

    DecisionPool(int threads, int queue, MeterRegistry registry) {
        if (threads < 1 || queue < 1) {
            throw new IllegalArgumentException(
                    "rootguard.admission.worker-threads and worker-queue must be at least 1, got " + threads + " and "
                            + queue);
        }
        AtomicInteger n = new AtomicInteger();
        executor = new ThreadPoolExecutor(
                threads,
                threads,
                0,
                TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(queue),
                r -> {
                    Thread t = new Thread(r, "rootguard-decide-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                },
                new ThreadPoolExecutor.AbortPolicy());
        refused = BodyBudget.refusedCounter(registry, "workers-busy");
    }

    /** Runs the task on a decision thread; false, at once, when every thread is busy and the queue is full. */
    boolean submit(Runnable task) {
        try {
            executor.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            refused.increment();
            return false;
        }
    }

    /** Decisions running or waiting. */
    int pending() {
        return executor.getActiveCount() + executor.getQueue().size();
    }

    @PreDestroy
    void stop() {
        // Quarkus has already waited for in-flight requests; anything left belongs to closed connections.
        executor.shutdownNow();
    }
}
