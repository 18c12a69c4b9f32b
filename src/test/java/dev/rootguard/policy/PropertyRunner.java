package dev.rootguard.policy;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.quicktheories.QuickTheory;
import org.quicktheories.core.Gen;
import org.quicktheories.core.RandomnessSource;
import org.quicktheories.impl.Constraint;

/**
 * Runs a property over many random cases with QuickTheories, reproducibly, under plain JUnit.
 *
 * <ul>
 * <li>{@code -Dproperties.tries=N}: cases per property (default 10,000; the
 *     {@code properties-long} Maven profile sets 1,000,000).</li>
 * <li>{@code -Dproperties.seed=S}: the run's seed (default random, always printed, and printed
 *     again in a failure as "Seed was S"); the same seed gives the same cases and the same
 *     smallest failing case.</li>
 * </ul>
 *
 * <p>The generators take a {@link Random}. Here every number that {@code Random} draws comes from
 * QuickTheories' randomness source ({@link Draws}), so a failing case is shrunk by QuickTheories at
 * the level of those draws: smaller draws mean fewer containers, shorter lists, the first choice of
 * each alternative. A failure reports the smallest failing case found, its assertion message and the
 * seed.
 *
 * <p>A property labels its cases ({@link Labels#add}); a full run prints how often each label
 * occurred and fails when a label the property names as required never did, so that a generator
 * that stops producing the interesting cases cannot let a property pass without testing anything.
 */
final class PropertyRunner {
    static final int TRIES = Integer.getInteger("properties.tries", 10_000);

    private PropertyRunner() {}

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
     * A {@link Random} whose every draw is one draw from QuickTheories' source, so that QuickTheories
     * can replay and shrink what a generator made from it.
     */
    static final class Draws extends Random {
        private final transient RandomnessSource source;

        Draws(RandomnessSource source) {
            super(0);
            this.source = source;
        }

        @Override
        protected int next(int bits) {
            return (int) source.next(Constraint.between(0, (1L << bits) - 1));
        }
    }

    /**
     * Checks a property.
     *
     * @param name     the property, for messages
     * @param required labels that a full run must have seen at least once
     * @param generate makes one case from a random source
     * @param property throws (an assertion error) when the case breaks the property; labels the case
     */
    static <T> void forAll(
            String name, List<String> required, Function<Random, T> generate, BiConsumer<T, Labels> property) {
        long seed = Long.getLong("properties.seed", new SplittableRandom().nextLong());
        Gen<T> cases = in -> generate.apply(new Draws(in));
        Labels labels = new Labels();
        AtomicInteger tried = new AtomicInteger();
        long start = System.nanoTime();
        System.out.printf("property %s: seed %d (-Dproperties.seed=%d reruns these cases)%n", name, seed, seed);
        try {
            QuickTheory.qt()
                    .withFixedSeed(seed)
                    .withExamples(TRIES)
                    .forAll(cases.describedAs(String::valueOf))
                    .checkAssert(input -> {
                        labels.current.clear();
                        property.accept(input, labels);
                        tried.incrementAndGet();
                        labels.endCase();
                    });
        } catch (AssertionError e) {
            throw new AssertionError(
                    "property '" + name + "' failed; rerun with -Dproperties.seed=" + seed + "\n" + e.getMessage(), e);
        }
        int total = tried.get();
        System.out.printf(
                "property %s: %d tries, seed %d, %d ms%n", name, total, seed, (System.nanoTime() - start) / 1_000_000);
        labels.counts.forEach((label, n) -> System.out.printf("  %6.2f%% %s%n", 100.0 * n / total, label));
        List<String> missing =
                required.stream().filter(l -> !labels.counts.containsKey(l)).toList();
        if (TRIES >= 1000 && !missing.isEmpty()) {
            throw new AssertionError("property '" + name + "' never saw " + missing + " in " + total + " cases (seed "
                    + seed + "): the generator no longer produces them");
        }
    }
}
