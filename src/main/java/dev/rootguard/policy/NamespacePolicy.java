package dev.rootguard.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a namespace's labels and annotations say about the policy there.
 *
 * <ul>
 * <li>{@code rootguard.dev/mode: enforce|warn|audit} (label) overrides the global mode.</li>
 * <li>{@code rootguard.dev/mutate: "false"} (label) turns mutation off in the namespace.</li>
 * <li>{@code rootguard.dev/uid-range} and {@code rootguard.dev/supplemental-groups} (annotations)
 *     give the namespace its own ID ranges, see {@link NamespaceRanges}.</li>
 * </ul>
 * A label or annotation with a value we cannot read is ignored (the global setting applies) and
 * reported in {@link #problems()}, so a typo can never weaken or block anything silently.
 *
 * @param mode     the namespace's mode, if it sets one
 * @param mutate   whether {@code /mutate} fills defaults in this namespace
 * @param problems unreadable labels and annotations, for logs
 * @param ranges   the namespace's ID ranges
 */
public record NamespacePolicy(Optional<Action> mode, boolean mutate, List<String> problems, NamespaceRanges ranges) {
    public static final String MODE_LABEL = "rootguard.dev/mode";
    public static final String MUTATE_LABEL = "rootguard.dev/mutate";

    /** Nothing known about the namespace: global settings apply, and rule {@code id-range} does not. */
    public static final NamespacePolicy UNKNOWN = new NamespacePolicy(Optional.empty(), true, List.of());

    public NamespacePolicy {
        problems = List.copyOf(problems);
        ranges = Objects.requireNonNullElse(ranges, NamespaceRanges.UNKNOWN);
    }

    /** Labels only; nothing known about ID ranges. */
    public NamespacePolicy(Optional<Action> mode, boolean mutate, List<String> problems) {
        this(mode, mutate, problems, NamespaceRanges.UNKNOWN);
    }

    /** What a namespace that exists says through its labels and annotations; never throws. */
    public static NamespacePolicy fromMetadata(Map<String, String> labels, Map<String, String> annotations) {
        NamespacePolicy l = fromLabels(labels);
        NamespaceRanges r = NamespaceRanges.fromAnnotations(annotations);
        List<String> problems = l.problems();
        if (!r.problems().isEmpty()) {
            problems = new ArrayList<>(l.problems());
            problems.addAll(r.problems());
        }
        return new NamespacePolicy(l.mode(), l.mutate(), problems, r);
    }

    /** A copy with other ID ranges (the audit CLI's {@code --namespace-range}). */
    public NamespacePolicy withRanges(NamespaceRanges newRanges) {
        return new NamespacePolicy(mode, mutate, problems, newRanges);
    }

    /** What the labels say; nothing known about ID ranges. */
    public static NamespacePolicy fromLabels(Map<String, String> labels) {
        if (labels == null || (!labels.containsKey(MODE_LABEL) && !labels.containsKey(MUTATE_LABEL))) {
            return UNKNOWN;
        }
        List<String> problems = new ArrayList<>();
        Optional<Action> mode = Optional.empty();
        String m = labels.get(MODE_LABEL);
        if (m != null) {
            try {
                mode = Optional.of(Action.parseMode(m));
            } catch (IllegalArgumentException e) {
                problems.add("label " + MODE_LABEL + "=" + m + " ignored: " + e.getMessage());
            }
        }
        boolean mutate = true;
        String mu = labels.get(MUTATE_LABEL);
        if (mu != null) {
            if ("false".equalsIgnoreCase(mu.trim())) {
                mutate = false;
            } else if (!"true".equalsIgnoreCase(mu.trim())) {
                problems.add("label " + MUTATE_LABEL + "=" + mu + " ignored: use \"true\" or \"false\"");
            }
        }
        return new NamespacePolicy(mode, mutate, problems);
    }

    /** The mode in force: the namespace's, else the global one. */
    public Action modeOr(Action global) {
        return mode.orElse(global);
    }
}
