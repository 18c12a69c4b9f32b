package dev.rootguard.policy;

import dev.rootguard.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ID ranges a namespace's annotations give it, so that tenants never share a host UID.
 *
 * <ul>
 * <li>{@code rootguard.dev/uid-range: <start>/<size>}: the UIDs, GIDs and fsGroup of pods in the
 *     namespace; mutation defaults them to {@code start}.</li>
 * <li>{@code rootguard.dev/supplemental-groups: <start>/<size>}: the supplemental groups; without
 *     it they must lie in the uid range.</li>
 * </ul>
 * An annotation we cannot read is ignored and reported in {@link #problems()}; parsing never throws.
 *
 * @param uids               the uid range, if the namespace has a readable one
 * @param supplementalGroups the supplemental-groups range, if the namespace has a readable one
 * @param known              false when nothing is known about the namespace (offline audit, no
 *                           cluster, namespace cache not synced): rule {@code id-range} does not apply
 * @param problems           unreadable annotations, for logs and messages
 */
public record NamespaceRanges(
        Optional<IdRange> uids, Optional<IdRange> supplementalGroups, boolean known, List<String> problems) {
    public static final String UID_RANGE_ANNOTATION = "rootguard.dev/uid-range";
    public static final String SUPPLEMENTAL_GROUPS_ANNOTATION = "rootguard.dev/supplemental-groups";
    /** The largest ID Kubernetes accepts for runAsUser, runAsGroup, fsGroup and supplemental groups. */
    public static final long MAX_ID = Integer.MAX_VALUE;

    /** Nothing is known about the namespace: rule {@code id-range} does not apply. */
    public static final NamespaceRanges UNKNOWN =
            new NamespaceRanges(Optional.empty(), Optional.empty(), false, List.of());
    /** The namespace is known and has no range. */
    public static final NamespaceRanges NO_RANGE =
            new NamespaceRanges(Optional.empty(), Optional.empty(), true, List.of());

    private static final Pattern START_SIZE = Pattern.compile("(\\d{1,18})/(\\d{1,18})");

    public NamespaceRanges {
        problems = List.copyOf(problems);
    }

    /** A known namespace with these ranges (tests and the audit CLI). */
    public static NamespaceRanges of(IdRange uids, IdRange supplementalGroups) {
        return new NamespaceRanges(Optional.ofNullable(uids), Optional.ofNullable(supplementalGroups), true, List.of());
    }

    /** What a namespace's annotations say; never throws. */
    public static NamespaceRanges fromAnnotations(Map<String, String> annotations) {
        if (annotations == null
                || (!annotations.containsKey(UID_RANGE_ANNOTATION)
                        && !annotations.containsKey(SUPPLEMENTAL_GROUPS_ANNOTATION))) {
            return NO_RANGE;
        }
        List<String> problems = new ArrayList<>();
        Optional<IdRange> uids = read(annotations, UID_RANGE_ANNOTATION, problems);
        Optional<IdRange> groups = read(annotations, SUPPLEMENTAL_GROUPS_ANNOTATION, problems);
        return new NamespaceRanges(uids, groups, true, problems);
    }

    private static Optional<IdRange> read(Map<String, String> annotations, String key, List<String> problems) {
        String value = annotations.get(key);
        if (value == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(parse(value));
        } catch (IllegalArgumentException e) {
            problems.add("annotation " + key + "=" + Json.quote(value) + " ignored: " + e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Parses {@code <start>/<size>}, e.g. {@code 1000000000/10000} for the IDs 1000000000 to 1000009999.
     *
     * @throws IllegalArgumentException saying what is wrong and what to write instead
     */
    public static IdRange parse(String value) {
        String t = value == null ? "" : value.trim();
        Matcher m = START_SIZE.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "not <start>/<size>; write e.g. 1000000000/10000 for the IDs 1000000000 to 1000009999");
        }
        long start = Long.parseLong(m.group(1));
        long size = Long.parseLong(m.group(2));
        if (start < 1) {
            throw new IllegalArgumentException("the range starts at 0, which is root; start at 1 or above");
        }
        if (size < 1) {
            throw new IllegalArgumentException("the range is empty; give a size of at least 1");
        }
        if (size > MAX_ID || start + size - 1 > MAX_ID) {
            throw new IllegalArgumentException(
                    "the range ends above " + MAX_ID + ", the largest ID Kubernetes accepts");
        }
        return new IdRange(start, start + size - 1);
    }

    /** True when the namespace has a readable range of either kind. */
    public boolean any() {
        return uids.isPresent() || supplementalGroups.isPresent();
    }

    /** The range supplemental groups must lie in: their own, else the uid range. */
    public Optional<IdRange> supplementalGroupRange() {
        return supplementalGroups.or(() -> uids);
    }
}
