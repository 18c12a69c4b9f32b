package dev.rootguard.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Random admission inputs for the property tests: a raw JSON workload of any kind rootguard
 * checks, the namespace and user of the request, the namespace's labels and the policy.
 *
 * <p>Objects are built as raw JSON so that they can hold what the typed model cannot express:
 * explicit {@code null}s and fields rootguard does not know. Every securityContext field the rules
 * read is independently absent, {@code null} or set (to 0, small, typical or very large IDs), with
 * any number of containers, init containers and ephemeral containers, capability names in mixed
 * case with and without {@code CAP_}, Windows pods (with {@code ContainerUser} or
 * {@code ContainerAdministrator} in any case as {@code runAsUserName}), any
 * {@code supplementalGroupsPolicy}, and {@code hostUsers: false} pods. The namespace
 * is unknown, or known with readable, unreadable or no ID range annotations.
 *
 * <p>Only well-typed values are generated: mistyped fields are a decoding error (HTTP 400), not a
 * decision.
 */
final class RandomPods {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Kind, apiVersion and where the pod spec lives (every kind of {@link WorkloadKind}). */
    record Kind(String kind, String apiVersion, String podSpecPath) {}

    static final List<Kind> KINDS = Arrays.stream(WorkloadKind.values())
            .map(k -> new Kind(k.kind(), k.apiVersion(), k.podSpecPath()))
            .toList();

    static final List<String> NAMESPACES =
            List.of("team-a", "default", "kube-system", "kube-public", "kube-node-lease", "rootguard", "legacy");
    static final List<String> USERS = List.of(
            "alice", "system:serviceaccount:ci:builder", "system:serviceaccount:team-a:app", "system:node:n1", "admin");
    static final List<String> IMAGES = List.of(
            "nginx",
            "nginx:1.27",
            "registry.example/app:1",
            "registry.example/legacy/agent:2",
            "registry.example/csi/driver:1",
            "busybox@sha256:0123abcd",
            "");
    static final List<String> IMAGE_GLOBS = List.of(
            "registry.example/legacy/*",
            "registry.example/csi/*",
            "nginx*",
            "*",
            "busybox@sha256:*",
            "registry.example/?pp:1");
    static final List<String> CAPABILITIES = List.of(
            "NET_BIND_SERVICE",
            "SYS_ADMIN",
            "NET_RAW",
            "NET_ADMIN",
            "ALL",
            "CHOWN",
            "KILL",
            "SETUID",
            "SYS_PTRACE",
            "SYS_TIME");

    /**
     * One admission input.
     *
     * @param raw       the object as the API server (or a manifest) would send it
     * @param kind      its kind
     * @param namespace the request namespace
     * @param user      the requesting user, or null (audit)
     * @param labels      what the namespace's labels say
     * @param annotations the namespace's annotations, or null when nothing is known about the namespace
     * @param policy      the policy
     */
    record Case(
            ObjectNode raw,
            Kind kind,
            String namespace,
            String user,
            NamespacePolicy labels,
            Map<String, String> annotations,
            PolicySpec policy) {
        Engine.Context context() {
            return new Engine.Context(
                    namespace,
                    user,
                    labels.withRanges(
                            annotations == null
                                    ? NamespaceRanges.UNKNOWN
                                    : NamespaceRanges.fromAnnotations(annotations)));
        }

        @Override
        public String toString() {
            return "namespace=" + namespace + " user=" + user + " labels=" + labels + " annotations=" + annotations
                    + "\npolicy: " + policy + "\nobject: " + raw.toPrettyString();
        }
    }

    /** Readable uid ranges ({@code start/size}), around the IDs {@link #idValue} generates. */
    static final List<String> UID_RANGES = List.of("10000/10001", "1/65535", "1000000000/10000", "65534/2", "20000/1");
    /** Values of the uid-range annotation that cannot be read. */
    static final List<String> UNREADABLE_RANGES = List.of("1000-2000", "0/10", "x", "2147483647/2", "10000/0", "");

    static final List<String> SUPPLEMENTAL_GROUP_RANGES = List.of("1000/1000", "65534/3", "1/10000", "0/1", "abc");

    private final Random r;
    private final int size;
    private int names;

    private RandomPods(Random r) {
        this.r = r;
        // Mostly small objects: a failure is then usually found on a small one first.
        this.size = 1 + r.nextInt(1 + r.nextInt(6));
    }

    /** Any input: every kind, namespace, label and policy, including exempt and not-applicable ones. */
    static Case anyCase(Random r) {
        RandomPods g = new RandomPods(r);
        PolicySpec policy = r.nextInt(3) == 0 ? PolicySpec.standard() : g.policy(false);
        Kind kind = g.pick(KINDS);
        String ns = r.nextInt(5) < 3 ? g.pick(List.of("team-a", "default")) : g.pick(NAMESPACES);
        NamespacePolicy labels = g.labels();
        return new Case(
                g.object(kind, ns, true),
                kind,
                ns,
                r.nextInt(4) == 0 ? null : g.pick(USERS),
                labels,
                g.annotations(null),
                policy);
    }

    /**
     * An input that mutation applies to (not exempt, mutation on, no controlling owner, a pod spec),
     * with a policy whose defaults the rules accept: defaults inside the ranges, privilege escalation
     * denied by default, and images exempt from {@code run-as-root} or {@code root-group} also exempt
     * from {@code required-ids} (docs/policy.md, "Exemptions": otherwise required-ids asks them for the IDs
     * mutation deliberately leaves out), and a namespace range, if any, whose start those ranges
     * allow; a range is only required where the namespace has one.
     */
    static Case mutableCase(Random r) {
        RandomPods g = new RandomPods(r);
        PolicySpec policy = r.nextInt(3) == 0 ? PolicySpec.standard() : g.policy(true);
        Kind kind = g.pick(KINDS);
        String ns = g.pick(List.of("team-a", "default", "legacy"));
        Set<String> exemptNs = new LinkedHashSet<>(policy.exemptNamespaces());
        exemptNs.remove(ns);
        PolicySpec p = policy;
        List<String> starts = UID_RANGES.stream()
                .filter(range -> {
                    long start = Long.parseLong(range.substring(0, range.indexOf('/')));
                    return Stream.of(p.runAsUserRange(), p.runAsGroupRange(), p.fsGroupRange())
                            .allMatch(x -> x.isEmpty() || (start >= x.get()[0] && start <= x.get()[1]));
                })
                .toList();
        Map<String, String> annotations = g.annotations(starts);
        boolean required = policy.idRangeRequired()
                && (annotations == null || starts.contains(annotations.get(NamespaceRanges.UID_RANGE_ANNOTATION)));
        policy = new PolicySpec(
                policy.mode(),
                policy.actions(),
                policy.exemptImages(),
                policy.allowedCapabilities(),
                policy.runAsUserRange(),
                policy.runAsGroupRange(),
                policy.fsGroupRange(),
                policy.strictUserNamespaces(),
                required,
                policy.exemptHostUsers(),
                policy.escalationUnsetAction(),
                true,
                policy.defaults(),
                exemptNs,
                List.of());
        NamespacePolicy labels = new NamespacePolicy(g.labels().mode(), true, List.of());
        return new Case(g.object(kind, ns, false), kind, ns, g.pick(USERS), labels, annotations, policy);
    }

    // ---------------------------------------------------------------- objects

    /**
     * An object of the kind. With {@code anyShape} it may also be owned by a controller, or lack its
     * pod spec (a missing or null template or spec).
     */
    private ObjectNode object(Kind kind, String ns, boolean anyShape) {
        ObjectNode o = F.objectNode();
        o.put("apiVersion", kind.apiVersion());
        o.put("kind", kind.kind());
        ObjectNode meta = o.putObject("metadata");
        meta.put("name", "obj");
        if (r.nextInt(4) != 0) {
            meta.put("namespace", ns);
        }
        if (anyShape && r.nextInt(6) == 0) {
            ArrayNode owners = meta.putArray("ownerReferences");
            ObjectNode owner = owners.addObject()
                    .put("apiVersion", "apps/v1")
                    .put("kind", "Deployment")
                    .put("name", "owner")
                    .put("uid", "u1");
            switch (r.nextInt(3)) {
                case 0 -> owner.put("controller", true);
                case 1 -> owner.put("controller", false);
                default -> {}
            }
        }
        maybeUnknown(o);
        String[] segments = kind.podSpecPath().split("\\.");
        ObjectNode parent = o;
        for (int i = 0; i < segments.length; i++) {
            String seg = segments[i];
            if (anyShape && r.nextInt(60) == 0) {
                // No pod spec: a template or spec that is missing or null.
                if (r.nextBoolean()) {
                    parent.putNull(seg);
                }
                return o;
            }
            if (i == segments.length - 1) {
                if ("Pod".equals(kind.kind()) || "template".equals(segments[i - 1])) {
                    ObjectNode podMeta = "Pod".equals(kind.kind()) ? meta : templateMetadata(parent);
                    if (podMeta != null && r.nextInt(10) == 0) {
                        podMeta.putObject("annotations")
                                .put("seccomp.security.alpha.kubernetes.io/pod", "runtime/default");
                    }
                }
                parent.set(seg, podSpec(anyShape));
            } else {
                parent = parent.putObject(seg);
                maybeUnknown(parent);
            }
        }
        return o;
    }

    private ObjectNode templateMetadata(ObjectNode template) {
        if (r.nextBoolean()) {
            return null;
        }
        ObjectNode m = template.putObject("metadata");
        m.putObject("labels").put("app", "x");
        return m;
    }

    private ObjectNode podSpec(boolean anyShape) {
        ObjectNode spec = F.objectNode();
        switch (r.nextInt(8)) {
            case 0 -> {}
            case 1 -> spec.putNull("securityContext");
            default -> spec.set("securityContext", podSecurityContext());
        }
        int regular = r.nextInt(25) == 0 ? 0 : 1 + r.nextInt(size);
        if (regular > 0 || r.nextBoolean()) {
            spec.set("containers", containers(regular, false));
        }
        optionalList(spec, "initContainers", false);
        optionalList(spec, "ephemeralContainers", true);
        switch (r.nextInt(12)) {
            case 0 -> spec.putObject("os").put("name", "windows");
            case 1 -> spec.putObject("os").put("name", "linux");
            case 2 -> spec.putNull("os");
            case 3 -> spec.putObject("os").put("name", r.nextBoolean() ? "Windows" : "WINDOWS");
            default -> {}
        }
        switch (r.nextInt(6)) {
            case 0 -> spec.put("hostUsers", false);
            case 1 -> spec.put("hostUsers", true);
            case 2 -> spec.putNull("hostUsers");
            default -> {}
        }
        if (r.nextInt(5) == 0) {
            spec.put("restartPolicy", "Always");
        }
        maybeUnknown(spec);
        return spec;
    }

    private void optionalList(ObjectNode spec, String field, boolean ephemeral) {
        switch (r.nextInt(5)) {
            case 0 -> spec.putNull(field);
            case 1, 2 -> {}
            default -> spec.set(field, containers(r.nextInt(1 + Math.min(size, 3)), ephemeral));
        }
    }

    private ArrayNode containers(int n, boolean ephemeral) {
        ArrayNode list = F.arrayNode();
        for (int i = 0; i < n; i++) {
            if (r.nextInt(40) == 0) {
                list.addNull(); // cannot come from the API server, but can from a manifest
            } else {
                list.add(container(ephemeral));
            }
        }
        return list;
    }

    private ObjectNode container(boolean ephemeral) {
        ObjectNode c = F.objectNode();
        c.put("name", "c" + names++);
        switch (r.nextInt(12)) {
            case 0 -> {}
            case 1 -> c.putNull("image");
            default -> c.put("image", pick(IMAGES));
        }
        if (ephemeral && r.nextBoolean()) {
            c.put("targetContainerName", "c0");
        }
        switch (r.nextInt(6)) {
            case 0 -> {}
            case 1 -> c.putNull("securityContext");
            default -> c.set("securityContext", containerSecurityContext());
        }
        maybeUnknown(c);
        return c;
    }

    private ObjectNode podSecurityContext() {
        ObjectNode sc = F.objectNode();
        id(sc, "runAsUser");
        id(sc, "runAsGroup");
        bool(sc, "runAsNonRoot");
        id(sc, "fsGroup");
        switch (r.nextInt(6)) {
            case 0 -> sc.putNull("supplementalGroups");
            case 1 -> sc.putArray("supplementalGroups");
            case 2, 3 -> {
                ArrayNode groups = sc.putArray("supplementalGroups");
                for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
                    groups.add(idValue());
                }
            }
            default -> {}
        }
        switch (r.nextInt(8)) {
            case 0, 1 -> sc.put("supplementalGroupsPolicy", "Strict");
            case 2 -> sc.put("supplementalGroupsPolicy", "Merge");
            case 3 -> sc.putNull("supplementalGroupsPolicy");
            default -> {}
        }
        windowsOptions(sc);
        seccomp(sc);
        maybeUnknown(sc);
        return sc;
    }

    private ObjectNode containerSecurityContext() {
        ObjectNode sc = F.objectNode();
        id(sc, "runAsUser");
        id(sc, "runAsGroup");
        bool(sc, "runAsNonRoot");
        if (r.nextInt(5) == 0) {
            sc.put("privileged", r.nextInt(3) == 0);
        } else if (r.nextInt(10) == 0) {
            sc.putNull("privileged");
        }
        bool(sc, "allowPrivilegeEscalation");
        bool(sc, "readOnlyRootFilesystem");
        switch (r.nextInt(5)) {
            case 0 -> sc.putNull("capabilities");
            case 1, 2 -> {
                ObjectNode caps = sc.putObject("capabilities");
                capabilityList(caps, "add", 4);
                capabilityList(caps, "drop", 2);
                maybeUnknown(caps);
            }
            default -> {}
        }
        windowsOptions(sc);
        seccomp(sc);
        maybeUnknown(sc);
        return sc;
    }

    private void capabilityList(ObjectNode caps, String field, int max) {
        switch (r.nextInt(5)) {
            case 0 -> caps.putNull(field);
            case 1 -> caps.putArray(field);
            case 2 -> {}
            default -> {
                ArrayNode list = caps.putArray(field);
                for (int i = 0, n = 1 + r.nextInt(max); i < n; i++) {
                    list.add(capabilitySpelling(pick(CAPABILITIES)));
                }
            }
        }
    }

    /** A capability name as users write it: any case, with or without a {@code CAP_} prefix in any case. */
    private String capabilitySpelling(String name) {
        String n = switch (r.nextInt(4)) {
            case 0 -> name.toLowerCase(Locale.ROOT);
            case 1 -> mixedCase(name);
            default -> name;
        };
        if (!"ALL".equals(name) || r.nextInt(4) == 0) {
            n = switch (r.nextInt(5)) {
                case 0 -> "CAP_" + n;
                case 1 -> "cap_" + n;
                case 2 -> "Cap_" + n;
                default -> n;
            };
        }
        return n;
    }

    private String mixedCase(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            sb.append(r.nextBoolean() ? Character.toLowerCase(c) : Character.toUpperCase(c));
        }
        return sb.toString();
    }

    private void windowsOptions(ObjectNode sc) {
        switch (r.nextInt(10)) {
            case 0 -> sc.putNull("windowsOptions");
            case 1, 2 -> {
                ObjectNode w = sc.putObject("windowsOptions");
                bool(w, "hostProcess");
                switch (r.nextInt(6)) {
                    case 0, 1 -> w.put("runAsUserName", "ContainerUser");
                    case 2 -> w.put("runAsUserName", "ContainerAdministrator");
                    case 3 -> w.put("runAsUserName", "containeradministrator");
                    case 4 -> w.putNull("runAsUserName");
                    default -> {}
                }
                maybeUnknown(w);
            }
            default -> {}
        }
    }

    private void seccomp(ObjectNode sc) {
        switch (r.nextInt(8)) {
            case 0 ->
                sc.putObject("seccompProfile").put("type", pick(List.of("RuntimeDefault", "Unconfined", "Localhost")));
            case 1 -> sc.putNull("seccompProfile");
            default -> {}
        }
    }

    /** Absent, null, or an ID: 0 (root) often, typical, boundary and very large values. */
    private void id(ObjectNode o, String field) {
        switch (r.nextInt(7)) {
            case 0, 1, 2 -> {}
            case 3 -> o.putNull(field);
            default -> o.put(field, idValue());
        }
    }

    private long idValue() {
        return switch (r.nextInt(12)) {
            case 0, 1, 2, 3 -> 0L;
            case 4 -> 10000L;
            case 5 -> 1L;
            case 6 -> pick(List.of(65534L, 65535L, 65536L, 999L, 1000L, 20000L, 1000000000L, 1000009999L, 1000010000L));
            case 7 -> pick(List.of((long) Integer.MAX_VALUE, 2147483648L, 4294967295L, 4294967296L, Long.MAX_VALUE));
            case 8 -> -1L;
            default -> 1 + r.nextInt(70000);
        };
    }

    private void bool(ObjectNode o, String field) {
        switch (r.nextInt(6)) {
            case 0, 1 -> o.put(field, true);
            case 2, 3 -> o.put(field, false);
            case 4 -> o.putNull(field);
            default -> {}
        }
    }

    /** Sometimes a field rootguard does not know, with any JSON value, including null. */
    private void maybeUnknown(ObjectNode o) {
        if (r.nextInt(4) != 0) {
            return;
        }
        String name = pick(List.of("xRootguardTest", "x-unknown", "futureField", "x~odd/name"));
        JsonNode value = switch (r.nextInt(6)) {
            case 0 -> F.nullNode();
            case 1 -> F.textNode("kept");
            case 2 -> F.numberNode(r.nextInt(100));
            case 3 -> F.booleanNode(r.nextBoolean());
            case 4 -> F.arrayNode().add(1).addNull().add("a");
            default -> F.objectNode().put("nested", true).putNull("gone");
        };
        o.set(name, value);
    }

    // ---------------------------------------------------------------- context and policy

    /**
     * The namespace's annotations: null (nothing known) half of the time, else any of no range,
     * a readable or an unreadable uid range, and a supplemental-groups range. With {@code uidRanges}
     * not null, the uid range is one of those, or absent.
     */
    private Map<String, String> annotations(List<String> uidRanges) {
        if (r.nextBoolean()) {
            return null;
        }
        Map<String, String> a = new HashMap<>();
        if (r.nextInt(8) == 0) {
            a.put("team", "a");
        }
        List<String> candidates = uidRanges != null ? uidRanges : r.nextInt(5) == 0 ? UNREADABLE_RANGES : UID_RANGES;
        if (r.nextInt(4) != 0 && !candidates.isEmpty()) {
            a.put(NamespaceRanges.UID_RANGE_ANNOTATION, pick(candidates));
        }
        if (r.nextInt(3) == 0) {
            a.put(NamespaceRanges.SUPPLEMENTAL_GROUPS_ANNOTATION, pick(SUPPLEMENTAL_GROUP_RANGES));
        }
        return a;
    }

    private NamespacePolicy labels() {
        Optional<Action> mode = r.nextInt(4) == 0
                ? Optional.of(pick(List.of(Action.ENFORCE, Action.WARN, Action.AUDIT)))
                : Optional.empty();
        return new NamespacePolicy(mode, r.nextInt(6) != 0, List.of());
    }

    /**
     * A random policy. With {@code consistent}, its defaults satisfy its own rules (see
     * {@link #mutableCase}).
     */
    private PolicySpec policy(boolean consistent) {
        Action mode = r.nextInt(3) == 0 ? pick(List.of(Action.WARN, Action.AUDIT)) : Action.ENFORCE;
        Map<String, Action> actions = new HashMap<>();
        Map<String, List<String>> exempt = new HashMap<>();
        for (String rule : PolicySpec.DEFAULT_ACTIONS.keySet()) {
            if (r.nextInt(3) == 0) {
                actions.put(rule, pick(List.of(Action.ENFORCE, Action.WARN, Action.AUDIT, Action.OFF)));
            }
            if (r.nextInt(4) == 0) {
                List<String> globs = new ArrayList<>();
                for (int i = 0, n = 1 + r.nextInt(2); i < n; i++) {
                    globs.add(pick(IMAGE_GLOBS));
                }
                exempt.put(rule, List.copyOf(new LinkedHashSet<>(globs)));
            }
        }
        List<String> caps = new ArrayList<>();
        for (int i = 0, n = r.nextInt(4); i < n; i++) {
            caps.add(capabilitySpelling(pick(CAPABILITIES)));
        }
        PolicySpec.Defaults defaults = new PolicySpec.Defaults(
                r.nextBoolean() || consistent,
                pick(List.of(10000L, 1000L, 20000L, 65534L)),
                pick(List.of(10000L, 1000L, 20000L, 65534L)),
                pick(List.of(10000L, 1000L, 20000L, 65534L)),
                r.nextBoolean() ? Optional.of("RuntimeDefault") : Optional.empty(),
                r.nextBoolean(),
                consistent || r.nextInt(3) != 0,
                consistent || r.nextInt(3) != 0);
        Optional<long[]> users = range(consistent ? defaults.runAsUser() : -1);
        Optional<long[]> groups = range(consistent ? defaults.runAsGroup() : -1);
        Optional<long[]> fsGroups = range(consistent ? defaults.fsGroup() : -1);
        if (consistent) {
            Set<String> idsExempt = new LinkedHashSet<>(exempt.getOrDefault("required-ids", List.of()));
            idsExempt.addAll(exempt.getOrDefault("run-as-root", List.of()));
            idsExempt.addAll(exempt.getOrDefault("root-group", List.of()));
            if (!idsExempt.isEmpty()) {
                exempt.put("required-ids", List.copyOf(idsExempt));
            }
        }
        Set<String> namespaces = new LinkedHashSet<>();
        for (String ns : List.of("kube-system", "kube-public", "kube-node-lease", "rootguard", "legacy")) {
            if (r.nextInt(3) != 0) {
                namespaces.add(ns);
            }
        }
        List<String> users2 = new ArrayList<>();
        for (String u : List.of("system:serviceaccount:ci:*", "admin", "system:node:?1")) {
            if (r.nextInt(4) == 0) {
                users2.add(u);
            }
        }
        Action escalationUnset =
                r.nextInt(3) == 0 ? pick(List.of(Action.ENFORCE, Action.WARN, Action.AUDIT, Action.OFF)) : Action.WARN;
        return new PolicySpec(
                mode,
                Map.copyOf(actions),
                Map.copyOf(exempt),
                List.copyOf(caps),
                users,
                groups,
                fsGroups,
                r.nextBoolean(),
                r.nextInt(3) == 0,
                r.nextBoolean(),
                escalationUnset,
                consistent || r.nextInt(8) != 0,
                defaults,
                namespaces,
                users2);
    }

    /** Optionally a range; when {@code mustContain >= 0} the range contains it. */
    private Optional<long[]> range(long mustContain) {
        if (r.nextInt(3) != 0) {
            return Optional.empty();
        }
        List<long[]> ranges = new ArrayList<>(List.of(
                new long[] {1, 65535},
                new long[] {10000, 20000},
                new long[] {0, 0},
                new long[] {1000, 1000},
                new long[] {100, 4294967295L},
                new long[] {65534, Long.MAX_VALUE}));
        if (mustContain >= 0) {
            ranges.removeIf(x -> mustContain < x[0] || mustContain > x[1]);
        }
        return ranges.isEmpty() ? Optional.empty() : Optional.of(pick(ranges));
    }

    private <T> T pick(List<T> list) {
        return list.get(r.nextInt(list.size()));
    }
}
