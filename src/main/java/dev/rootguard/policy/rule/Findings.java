package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.Violation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Collects a rule's findings and merges those at the same path, so a bad pod-level value
 * inherited by three containers is reported once, naming all three.
 */
final class Findings {
    private record Entry(List<String> containers, Function<String, String> message) {}

    private final String rule;
    private final Map<String, Entry> byPath = new LinkedHashMap<>();

    Findings(String rule) {
        this.rule = rule;
    }

    /**
     * Records a finding for a container at a path. The message function receives the affected
     * containers, formatted as {@code container "a"} or {@code containers "a", "b"}.
     */
    void add(String path, ContainerView container, Function<String, String> message) {
        byPath.computeIfAbsent(path, p -> new Entry(new ArrayList<>(), message))
                .containers()
                .add(container.name());
    }

    /** Records a finding that concerns the pod as a whole. */
    void addPod(String path, String message) {
        byPath.putIfAbsent(path, new Entry(List.of(), any -> message));
    }

    List<Violation> toList() {
        List<Violation> out = new ArrayList<>(byPath.size());
        byPath.forEach((path, e) -> out.add(Violation.of(rule, path, e.message().apply(names(e.containers())))));
        return out;
    }

    /** {@code container "a"} or {@code containers "a", "b"}. */
    static String names(List<String> containers) {
        String quoted = containers.stream().map(n -> "\"" + n + "\"").collect(Collectors.joining(", "));
        return (containers.size() == 1 ? "container " : "containers ") + quoted;
    }
}
