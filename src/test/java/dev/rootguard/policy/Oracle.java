package dev.rootguard.policy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * An independent statement of the rules in docs/policy.md ("The rules", "Actions and modes", "Exemptions"), for
 * differential testing of the engine. It reads the raw JSON object and the {@link PolicySpec}
 * directly; of the engine it uses only the plain values {@link Action} and {@link NamespacePolicy}
 * (no typed model, no rule classes, no {@link PolicyConfig} normalisation, no {@link Glob}). It is
 * written for clarity, not speed.
 *
 * <p>Field paths follow the reporting convention of docs/policy.md: a bad value is reported at the field that
 * holds it, so a pod-level value inherited by several containers is reported once at the pod field;
 * a missing value is reported at the pod field when every checked container lacks it, otherwise at
 * each container that lacks it; pod-level fields are checked on behalf of the containers a rule
 * checks, so with none left the rule reports nothing.
 */
final class Oracle {

    /**
     * The decision: outcome (EXEMPT, NOT_APPLICABLE or EVALUATED), the mode in force, whether the
     * request is allowed, and every violation as {@code "rule action path"}, sorted.
     */
    record Decision(String outcome, Action mode, boolean allowed, List<String> violations) {}

    private Oracle() {}

    /** A container of any list, with what the rules read. Null when the field is absent or JSON null. */
    private record Container(String path, String image, JsonNode sc) {
        String field(String name) {
            return path + ".securityContext." + name;
        }
    }

    /**
     * @param annotations the namespace's annotations, or null when nothing is known about the namespace
     */
    static Decision decide(
            JsonNode object,
            String namespace,
            String user,
            NamespacePolicy labels,
            Map<String, String> annotations,
            PolicySpec policy) {
        // "A namespace can set its own mode with the label rootguard.dev/mode".
        Action mode = labels.mode().orElse(policy.mode());
        if (namespace != null && policy.exemptNamespaces().contains(namespace)) {
            return new Decision("EXEMPT", mode, true, List.of());
        }
        if (user != null && policy.exemptUsers().stream().anyMatch(g -> globMatches(g, user))) {
            return new Decision("EXEMPT", mode, true, List.of());
        }
        String specPath = podSpecPath(object);
        JsonNode spec = specPath == null ? null : at(object, specPath);
        if (spec == null || !spec.isObject()) {
            return new Decision("NOT_APPLICABLE", mode, true, List.of());
        }
        JsonNode podSc = get(spec, "securityContext");
        boolean windows = "windows".equals(text(get(get(spec, "os"), "name")));
        boolean userNamespaced = Boolean.FALSE.equals(bool(get(spec, "hostUsers")));

        List<Container> all = new ArrayList<>();
        for (String list : List.of("containers", "initContainers", "ephemeralContainers")) {
            JsonNode cs = get(spec, list);
            for (int i = 0; cs != null && i < cs.size(); i++) {
                JsonNode c = cs.get(i);
                if (c != null && c.isObject()) {
                    all.add(new Container(
                            specPath + "." + list + "[" + i + "]", text(get(c, "image")), get(c, "securityContext")));
                }
            }
        }

        List<String> out = new ArrayList<>();
        for (String id : PolicySpec.DEFAULT_ACTIONS.keySet()) {
            Action action = policy.action(id);
            if (action == Action.OFF) {
                continue;
            }
            // Windows pods: only `privileged` and `run-as-root` apply.
            if (windows && !"privileged".equals(id) && !"run-as-root".equals(id)) {
                continue;
            }
            List<Container> checked = all.stream()
                    .filter(c -> policy.exemptImages(id).stream()
                            .noneMatch(g -> c.image() != null && globMatches(g, c.image())))
                    .toList();
            // A rule checks the containers it applies to, and pod-level fields on their behalf: with
            // none left (all exempt, or no containers at all) it has nothing to report.
            if (checked.isEmpty()) {
                continue;
            }
            Set<String> paths = switch (id) {
                case "run-as-root" ->
                    userNamespaced && !policy.strictUserNamespaces()
                            ? Set.of()
                            : windows
                                    ? runAsRootWindows(specPath, podSc, checked)
                                    : runAsRoot(specPath, podSc, checked);
                case "root-group" -> rootGroup(specPath, podSc, checked);
                case "privileged" -> privileged(specPath, podSc, checked);
                case "capabilities" -> capabilities(checked, policy.allowedCapabilities());
                case "required-ids" -> requiredIds(specPath, podSc, checked, policy);
                case "privilege-escalation" -> privilegeEscalation(checked, true);
                case "id-range" ->
                    annotations == null || (userNamespaced && policy.exemptHostUsers())
                            ? Set.of()
                            : idRange(specPath, podSc, checked, annotations, policy.idRangeRequired());
                // The policy is pod-wide: a container exempt from the rule exempts its pod.
                case "image-groups" -> checked.size() < all.size() ? Set.of() : imageGroups(specPath, podSc);
                default -> throw new IllegalStateException(id);
            };
            // "a violation's effective action is the weaker of its rule's action and the mode"
            Action effective = weaker(action, mode);
            for (String p : paths) {
                out.add(id + " " + effective.id() + " " + p);
            }
            // privilege-escalation: an unset field gets at most the unset action; off drops it.
            if ("privilege-escalation".equals(id) && policy.escalationUnsetAction() != Action.OFF) {
                Action unset = weaker(effective, policy.escalationUnsetAction());
                for (String p : privilegeEscalation(checked, false)) {
                    out.add(id + " " + unset.id() + " " + p);
                }
            }
        }
        boolean allowed = out.stream().noneMatch(v -> v.split(" ")[1].equals("enforce"));
        return new Decision("EVALUATED", mode, allowed, out.stream().sorted().toList());
    }

    // ---------------------------------------------------------------- the rules

    /**
     * run-as-root: an effective runAsUser 0; or no effective runAsUser while the effective
     * runAsNonRoot is not true.
     */
    private static Set<String> runAsRoot(String spec, JsonNode podSc, List<Container> cs) {
        Set<String> out = new LinkedHashSet<>();
        List<Container> undecided = new ArrayList<>();
        for (Container c : cs) {
            Long uid = num(get(c.sc(), "runAsUser"));
            Long podUid = num(get(podSc, "runAsUser"));
            if (uid != null || podUid != null) {
                if ((uid != null ? uid : podUid) == 0L) {
                    out.add(uid != null ? c.field("runAsUser") : spec + ".securityContext.runAsUser");
                }
                continue;
            }
            Boolean nonRoot = bool(get(c.sc(), "runAsNonRoot"));
            if (nonRoot == null) {
                nonRoot = bool(get(podSc, "runAsNonRoot"));
            }
            if (!Boolean.TRUE.equals(nonRoot)) {
                undecided.add(c);
            }
        }
        // A container that says runAsNonRoot: false itself is told at its own field.
        boolean someSaysFalse = undecided.stream().anyMatch(c -> bool(get(c.sc(), "runAsNonRoot")) != null);
        if (!undecided.isEmpty() && undecided.size() == cs.size() && !someSaysFalse) {
            out.add(spec + ".securityContext.runAsUser");
        } else {
            undecided.forEach(c -> out.add(c.field("runAsUser")));
        }
        return out;
    }

    /**
     * run-as-root on Windows pods (docs/policy.md, "Windows pods"): an effective
     * windowsOptions.runAsUserName equal to ContainerAdministrator in any case, at the field that
     * holds it; otherwise an effective runAsNonRoot: false at the field that holds it; a missing
     * runAsNonRoot at the pod's field when every checked container lacks it, else at each container.
     * runAsUser does not count.
     */
    private static Set<String> runAsRootWindows(String spec, JsonNode podSc, List<Container> cs) {
        Set<String> out = new LinkedHashSet<>();
        List<Container> missing = new ArrayList<>();
        for (Container c : cs) {
            String own = text(get(get(c.sc(), "windowsOptions"), "runAsUserName"));
            String pod = text(get(get(podSc, "windowsOptions"), "runAsUserName"));
            String user = own != null ? own : pod;
            Boolean ownNonRoot = bool(get(c.sc(), "runAsNonRoot"));
            Boolean podNonRoot = bool(get(podSc, "runAsNonRoot"));
            if (user != null && user.toLowerCase(Locale.ROOT).equals("containeradministrator")) {
                out.add(
                        own != null
                                ? c.field("windowsOptions.runAsUserName")
                                : spec + ".securityContext.windowsOptions.runAsUserName");
            } else if (ownNonRoot == null && podNonRoot == null) {
                missing.add(c);
            } else if (!(ownNonRoot != null ? ownNonRoot : podNonRoot)) {
                out.add(ownNonRoot != null ? c.field("runAsNonRoot") : spec + ".securityContext.runAsNonRoot");
            }
        }
        if (!missing.isEmpty() && missing.size() == cs.size()) {
            out.add(spec + ".securityContext.runAsNonRoot");
        } else {
            missing.forEach(c -> out.add(c.field("runAsNonRoot")));
        }
        return out;
    }

    /** root-group: an effective runAsGroup 0, pod fsGroup 0, or 0 in supplementalGroups. */
    private static Set<String> rootGroup(String spec, JsonNode podSc, List<Container> cs) {
        Set<String> out = new LinkedHashSet<>();
        for (Container c : cs) {
            Long gid = num(get(c.sc(), "runAsGroup"));
            if (gid != null) {
                if (gid == 0L) {
                    out.add(c.field("runAsGroup"));
                }
            } else if (Long.valueOf(0L).equals(num(get(podSc, "runAsGroup")))) {
                out.add(spec + ".securityContext.runAsGroup");
            }
        }
        if (Long.valueOf(0L).equals(num(get(podSc, "fsGroup")))) {
            out.add(spec + ".securityContext.fsGroup");
        }
        JsonNode groups = get(podSc, "supplementalGroups");
        for (int i = 0; groups != null && i < groups.size(); i++) {
            if (Long.valueOf(0L).equals(num(groups.get(i)))) {
                out.add(spec + ".securityContext.supplementalGroups[" + i + "]");
            }
        }
        return out;
    }

    /** privileged: privileged: true; windowsOptions.hostProcess: true (pod or container). */
    private static Set<String> privileged(String spec, JsonNode podSc, List<Container> cs) {
        Set<String> out = new LinkedHashSet<>();
        for (Container c : cs) {
            if (Boolean.TRUE.equals(bool(get(c.sc(), "privileged")))) {
                out.add(c.field("privileged"));
            }
            if (Boolean.TRUE.equals(bool(get(get(c.sc(), "windowsOptions"), "hostProcess")))) {
                out.add(c.field("windowsOptions.hostProcess"));
            }
        }
        if (Boolean.TRUE.equals(bool(get(get(podSc, "windowsOptions"), "hostProcess")))) {
            out.add(spec + ".securityContext.windowsOptions.hostProcess");
        }
        return out;
    }

    /**
     * capabilities: an add entry outside the allowlist; names compare case-insensitively, with or
     * without CAP_; ALL only if the allowlist lists ALL.
     */
    private static Set<String> capabilities(List<Container> cs, List<String> allowlist) {
        Set<String> allowed = new LinkedHashSet<>();
        allowlist.forEach(a -> allowed.add(capabilityName(a)));
        Set<String> out = new LinkedHashSet<>();
        for (Container c : cs) {
            JsonNode add = get(get(c.sc(), "capabilities"), "add");
            for (int i = 0; add != null && i < add.size(); i++) {
                if (!allowed.contains(capabilityName(add.get(i).asText()))) {
                    out.add(c.field("capabilities.add[" + i + "]"));
                }
            }
        }
        return out;
    }

    private static String capabilityName(String name) {
        String n = name.toUpperCase(Locale.ROOT);
        return n.startsWith("CAP_") ? n.substring("CAP_".length()) : n;
    }

    /**
     * required-ids: a container without an effective runAsUser or runAsGroup, a pod without
     * fsGroup, or a value outside the optional ranges.
     */
    private static Set<String> requiredIds(String spec, JsonNode podSc, List<Container> cs, PolicySpec policy) {
        Set<String> out = new LinkedHashSet<>();
        for (String field : List.of("runAsUser", "runAsGroup")) {
            long[] range =
                    ("runAsUser".equals(field) ? policy.runAsUserRange() : policy.runAsGroupRange()).orElse(null);
            List<Container> missing = new ArrayList<>();
            for (Container c : cs) {
                Long own = num(get(c.sc(), field));
                Long pod = num(get(podSc, field));
                if (own == null && pod == null) {
                    missing.add(c);
                } else if (range != null && !inRange(own != null ? own : pod, range)) {
                    out.add(own != null ? c.field(field) : spec + ".securityContext." + field);
                }
            }
            if (!missing.isEmpty() && missing.size() == cs.size()) {
                out.add(spec + ".securityContext." + field);
            } else {
                missing.forEach(c -> out.add(c.field(field)));
            }
        }
        Long fsGroup = num(get(podSc, "fsGroup"));
        if (fsGroup == null
                || (policy.fsGroupRange().isPresent()
                        && !inRange(fsGroup, policy.fsGroupRange().get()))) {
            out.add(spec + ".securityContext.fsGroup");
        }
        return out;
    }

    /**
     * id-range (docs/uid-ranges.md): effective runAsUser and runAsGroup of each
     * container, the pod's fsGroup, inside {@code rootguard.dev/uid-range}; each supplemental group
     * inside {@code rootguard.dev/supplemental-groups}, or the uid range without it. Unset values are
     * fine. Where a range is required, a namespace without a readable uid range is reported at the
     * pod's runAsUser.
     */
    private static Set<String> idRange(
            String spec, JsonNode podSc, List<Container> cs, Map<String, String> annotations, boolean required) {
        Set<String> out = new LinkedHashSet<>();
        long[] uids = startSize(annotations.get("rootguard.dev/uid-range"));
        long[] groups = startSize(annotations.get("rootguard.dev/supplemental-groups"));
        if (uids == null && required) {
            out.add(spec + ".securityContext.runAsUser");
            return out;
        }
        if (uids != null) {
            for (String field : List.of("runAsUser", "runAsGroup")) {
                for (Container c : cs) {
                    Long own = num(get(c.sc(), field));
                    Long pod = num(get(podSc, field));
                    Long effective = own != null ? own : pod;
                    if (effective != null && !inRange(effective, uids)) {
                        out.add(own != null ? c.field(field) : spec + ".securityContext." + field);
                    }
                }
            }
            Long fsGroup = num(get(podSc, "fsGroup"));
            if (fsGroup != null && !inRange(fsGroup, uids)) {
                out.add(spec + ".securityContext.fsGroup");
            }
        }
        long[] supplemental = groups != null ? groups : uids;
        JsonNode list = get(podSc, "supplementalGroups");
        for (int i = 0; supplemental != null && list != null && i < list.size(); i++) {
            Long g = num(get(list, i));
            if (g != null && !inRange(g, supplemental)) {
                out.add(spec + ".securityContext.supplementalGroups[" + i + "]");
            }
        }
        return out;
    }

    /** {@code <start>/<size>} as {@code [first, last]}, or null when absent or not a range of IDs 1 to 2147483647. */
    private static long[] startSize(String value) {
        if (value == null) {
            return null;
        }
        String[] parts = value.trim().split("/", -1);
        if (parts.length != 2 || !parts[0].matches("[0-9]{1,18}") || !parts[1].matches("[0-9]{1,18}")) {
            return null;
        }
        long start = Long.parseLong(parts[0]);
        long size = Long.parseLong(parts[1]);
        long last = start + size - 1;
        return start >= 1 && size >= 1 && last <= 2147483647L ? new long[] {start, last} : null;
    }

    private static JsonNode get(JsonNode array, int index) {
        JsonNode v = array.isArray() ? array.get(index) : null;
        return v == null || v.isNull() ? null : v;
    }

    /** privilege-escalation: allowPrivilegeEscalation explicitly true ({@code explicit}), or unset. */
    private static Set<String> privilegeEscalation(List<Container> cs, boolean explicit) {
        Set<String> out = new LinkedHashSet<>();
        for (Container c : cs) {
            Boolean ape = bool(get(c.sc(), "allowPrivilegeEscalation"));
            if (explicit ? Boolean.TRUE.equals(ape) : ape == null) {
                out.add(c.field("allowPrivilegeEscalation"));
            }
        }
        return out;
    }

    /** image-groups: the pod's supplementalGroupsPolicy is not Strict (absent, null or Merge). */
    private static Set<String> imageGroups(String spec, JsonNode podSc) {
        return "Strict".equals(text(get(podSc, "supplementalGroupsPolicy")))
                ? Set.of()
                : Set.of(spec + ".securityContext.supplementalGroupsPolicy");
    }

    // ---------------------------------------------------------------- plain helpers

    /**
     * Where each kind keeps its pod spec (docs/policy.md: the kinds /validate checks). Written out here rather than
     * taken from {@link WorkloadKind}: the oracle checks the engine independently, so a wrong path in the
     * table shows up as a disagreement.
     */
    static String podSpecPath(JsonNode object) {
        String apiVersion = text(get(object, "apiVersion"));
        String kind = text(get(object, "kind"));
        if (apiVersion == null || kind == null) {
            return null;
        }
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        return switch (group + "/" + kind) {
            case "/Pod" -> "spec";
            case "/PodTemplate" -> "template.spec";
            case "/ReplicationController",
                    "apps/Deployment",
                    "apps/ReplicaSet",
                    "apps/StatefulSet",
                    "apps/DaemonSet",
                    "batch/Job" -> "spec.template.spec";
            case "batch/CronJob" -> "spec.jobTemplate.spec.template.spec";
            default -> null;
        };
    }

    private static JsonNode at(JsonNode node, String dotted) {
        JsonNode n = node;
        for (String seg : dotted.split("\\.")) {
            n = get(n, seg);
        }
        return n;
    }

    /** A member, or null when the parent is absent, the member is absent, or it is JSON null. */
    private static JsonNode get(JsonNode parent, String field) {
        if (parent == null || !parent.isObject()) {
            return null;
        }
        JsonNode v = parent.get(field);
        return v == null || v.isNull() ? null : v;
    }

    private static Long num(JsonNode n) {
        return n == null || n.isNull() ? null : n.longValue();
    }

    private static Boolean bool(JsonNode n) {
        return n == null || n.isNull() ? null : n.booleanValue();
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? null : n.asText();
    }

    private static boolean inRange(long v, long[] range) {
        return v >= range[0] && v <= range[1];
    }

    private static Action weaker(Action a, Action b) {
        List<Action> strongestFirst = List.of(Action.ENFORCE, Action.WARN, Action.AUDIT);
        return strongestFirst.get(Math.max(strongestFirst.indexOf(a), strongestFirst.indexOf(b)));
    }

    /**
     * docs/policy.md: in globs {@code *} matches any run of characters (including {@code /}) and {@code ?} one
     * character; a value longer than 4,096 characters matches no glob.
     */
    static boolean globMatches(String glob, String value) {
        return value.length() <= 4096 && match(glob.trim(), 0, value, 0);
    }

    private static boolean match(String g, int gi, String v, int vi) {
        if (gi == g.length()) {
            return vi == v.length();
        }
        char c = g.charAt(gi);
        if (c == '*') {
            for (int k = vi; k <= v.length(); k++) {
                if (match(g, gi + 1, v, k)) {
                    return true;
                }
            }
            return false;
        }
        if (vi == v.length()) {
            return false;
        }
        return (c == '?' || c == v.charAt(vi)) && match(g, gi + 1, v, vi + 1);
    }
}
