package dev.rootguard.policy;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Runs a property over many random cases, reproducibly, with plain JUnit.
 *
 * <ul>
 * <li>{@code -Dproperties.tries=N}: cases per property (default 10,000; the
 *     {@code properties-long} Maven profile sets 1,000,000).</li>
 * <li>{@code -Dproperties.seed=S}: the run's seed (default random, always printed).</li>
 * <li>{@code -Dproperties.case=C}: run only the case with this seed, as printed in a
 *     failure.</li>
 * </ul>
 *
 * <p>Each case has its own seed, drawn from the run's seed, and is generated from a
 * {@link java.util.Random} with that seed alone. There is no shrinking; instead the generator makes
 * mostly small objects, and when a property fails the run goes on to collect a few more failures
 * and reports the smallest one.
 *
 * <p>A property labels its cases ({@link Labels#add}); a full run prints how often each label
 * occurred and fails when a label the property names as required never did, so that a generator
 * that stops producing the interesting cases cannot let a property pass without testing anything.
 */
final class PropertyRunner {
    static final int TRIES = Integer.getInteger("properties.tries", 10_000);
    private static final int MAX_FAILURES = 25;

    private PropertyRunner() {
    }

    /** Labels of the cases a property saw, each counted once per case over a run. */
    static final class Labels {
        private final Map<String, Integer> counts = new TreeMap<>();
        private final Set<String> current = new HashSet<>();

        void add(String label) {
            current.add(label);
        }

        private void endCase() {
            current.forEach(l -> counts.merge(l, 1, Integer::sum));
            current.clear();
        }
    }

    /**
     * Checks a property.
     *
     * @param name     the property, for messages
     * @param required labels that a full run must have seen at least once
     * @param generate makes one case from a seeded random source
     * @param property throws (an assertion error) when the case breaks the property; labels the case
     */
    static <T> void forAll(String name, List<String> required, Function<Random, T> generate, BiConsumer<T, Labels> property) {
        Labels labels = new Labels();
        String only = System.getProperty("properties.case");
        if (only != null && !only.isBlank()) {
            long seed = Long.parseLong(only.trim());
            T input = generate.apply(new Random(seed));
            try {
                property.accept(input, labels);
            } catch (AssertionError | RuntimeException e) {
                throw failure(name, null, seed, input, e, 1, 1);
            }
            System.out.printf("property %s: case %d holds%n", name, seed);
            return;
        }
        long runSeed = Long.getLong("properties.seed", new SplittableRandom().nextLong());
        SplittableRandom seeds = new SplittableRandom(runSeed);
        long start = System.nanoTime();
        long failedSeed = 0;
        T failedInput = null;
        Throwable failedError = null;
        int failedSize = Integer.MAX_VALUE;
        int failures = 0;
        int tried = 0;
        for (int i = 0; i < TRIES && failures < MAX_FAILURES; i++) {
            long seed = seeds.nextLong();
            T input = generate.apply(new Random(seed));
            tried++;
            try {
                property.accept(input, labels);
                labels.endCase();
            } catch (AssertionError | RuntimeException e) {
                labels.current.clear();
                failures++;
                int size = String.valueOf(input).length();
                if (size < failedSize) {
                    failedSize = size;
                    failedSeed = seed;
                    failedInput = input;
                    failedError = e;
                }
            }
        }
        System.out.printf("property %s: %d tries, %d failed, seed %d, %d ms%n", name, tried, failures, runSeed,
                (System.nanoTime() - start) / 1_000_000);
        int total = tried;
        labels.counts.forEach((label, n) -> System.out.printf("  %6.2f%% %s%n", 100.0 * n / total, label));
        if (failures > 0) {
            throw failure(name, runSeed, failedSeed, failedInput, failedError, failures, tried);
        }
        List<String> missing = required.stream().filter(l -> !labels.counts.containsKey(l)).toList();
        if (TRIES >= 1000 && !missing.isEmpty()) {
            throw new AssertionError("property '" + name + "' never saw " + missing + " in " + tried + " cases (seed " + runSeed
                    + "): the generator no longer produces them");
        }
    }

    private static AssertionError failure(String name, Long runSeed, long seed, Object input, Throwable e, int failures,
            int tried) {
        String msg = "property '" + name + "' failed in " + failures + " of " + tried + " cases"
                + (runSeed == null ? "" : " (run seed " + runSeed + ")") + "; smallest failing case:\n"
                + e.getMessage() + "\n\nreproduce with -Dproperties.case=" + seed + "\n" + input;
        return new AssertionError(msg, e);
    }
}
