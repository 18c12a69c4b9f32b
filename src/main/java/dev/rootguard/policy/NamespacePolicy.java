package dev.rootguard.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a namespace's labels say about the policy there.
 *
 * <ul>
 * <li>{@code rootguard.dev/mode: enforce|warn|audit} overrides the global mode.</li>
 * <li>{@code rootguard.dev/mutate: "false"} turns mutation off in the namespace.</li>
 * </ul>
 * A label with a value we cannot read is ignored (the global setting applies) and reported in
 * {@link #problems()}, so a typo can never weaken or block anything silently.
 *
 * @param mode     the namespace's mode, if it sets one
 * @param mutate   whether {@code /mutate} fills defaults in this namespace
 * @param problems unreadable labels, for logs
 */
public record NamespacePolicy(Optional<Action> mode, boolean mutate, List<String> problems) {
    public static final String MODE_LABEL = "rootguard.dev/mode";
    public static final String MUTATE_LABEL = "rootguard.dev/mutate";

    /** No labels: global settings apply. */
    public static final NamespacePolicy NONE = new NamespacePolicy(Optional.empty(), true, List.of());

    public NamespacePolicy {
        problems = List.copyOf(problems);
    }

    public static NamespacePolicy fromLabels(Map<String, String> labels) {
        if (labels == null || (!labels.containsKey(MODE_LABEL) && !labels.containsKey(MUTATE_LABEL))) {
            return NONE;
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
