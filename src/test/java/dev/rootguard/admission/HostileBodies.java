package dev.rootguard.admission;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.policy.WorkloadKind;
import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A seeded, reproducible stream of hostile request bodies for {@code /validate} and {@code /mutate},
 * each with what the webhook must answer.
 *
 * <p>Most cases start from a well-formed AdmissionReview of a supported kind whose pod spec is either
 * compliant or carries exactly one enforced violation (the generator knows which, and where), and then
 * apply one hostile change. The change decides the expectation: a body the webhook cannot read must
 * get a 4xx, or inside the review a denial with code 400 once its uid could be read; a change that
 * leaves the meaning intact keeps the base decision (a forbidden pod must still be denied); a change
 * whose meaning is debatable only requires that a forbidden pod is not allowed.
 * Case {@code i} depends only on the seed and {@code i}, so one case can be replayed alone.
 */
final class HostileBodies {

    /** What an endpoint must answer. */
    enum Expect {
        /**
         * Unreadable: a 4xx with the case's status (400, 413 or 415); but where that is 400 and the body
         * is a review with a readable request uid, an answer inside the review (denied with code 400 from
         * {@code /validate}, allowed without a patch from {@code /mutate}).
         */
        REJECT,
        /** 200 with {@code allowed: false} and status code 403. */
        DENY,
        /** 200 with {@code allowed: true}. */
        ALLOW,
        /** A 4xx, or 200 with {@code allowed: false}: never an allow. */
        NOT_ALLOW,
        /** 200 with a decision. */
        DECIDED,
        /** A 4xx or 200; only the general checks apply. */
        ANY
    }

    /**
     * One hostile request.
     *
     * @param oversize when positive, the body is over the limit: the case announces (or streams, when
     *                 {@code chunked}) this many bytes, the body's own or filler when there is none, and expects 413
     * @param uid      the request uid the body carries, when the body carries a readable one
     */
    record Case(
            int index,
            String category,
            String label,
            byte[] body,
            String contentType,
            int status,
            String uid,
            Expect validate,
            Expect mutate,
            long oversize,
            boolean chunked) {

        int size() {
            return body == null ? 0 : body.length;
        }
    }

    static final String RANDOM_BYTES = "random-bytes";
    static final String TRUNCATED = "truncated";
    static final String DEEP_NESTING = "deep-nesting";
    static final String HUGE = "huge";
    static final String BODY_LIMIT = "body-limit";
    static final String DUPLICATE_KEYS = "duplicate-keys";
    static final String WRONG_TYPES = "wrong-types";
    static final String NUMBERS = "numbers";
    static final String OBJECT_SHAPE = "object-shape";
    static final String KIND_MISMATCH = "kind-mismatch";
    static final String ENVELOPE = "envelope";
    static final String ENCODING = "encoding";
    static final String CONTENT_TYPE = "content-type";

    /** Categories and their weights; expensive ones (megabyte bodies) are rare. */
    private static final Map<String, Double> WEIGHTS = new LinkedHashMap<>();

    static {
        WEIGHTS.put(RANDOM_BYTES, 9.0);
        WEIGHTS.put(TRUNCATED, 10.0);
        WEIGHTS.put(DEEP_NESTING, 6.0);
        WEIGHTS.put(HUGE, 1.0);
        WEIGHTS.put(BODY_LIMIT, 0.3);
        WEIGHTS.put(DUPLICATE_KEYS, 10.0);
        WEIGHTS.put(WRONG_TYPES, 16.0);
        WEIGHTS.put(NUMBERS, 8.0);
        WEIGHTS.put(OBJECT_SHAPE, 7.0);
        WEIGHTS.put(KIND_MISMATCH, 8.0);
        WEIGHTS.put(ENVELOPE, 9.0);
        WEIGHTS.put(ENCODING, 9.0);
        WEIGHTS.put(CONTENT_TYPE, 3.0);
    }

    static List<String> categories() {
        return List.copyOf(WEIGHTS.keySet());
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String API_VERSION = "admission.k8s.io/v1";
    private static final int MAX_DEPTH = StreamReadConstraints.defaults().getMaxNestingDepth();

    private final long seed;
    private final long maxBody;

    HostileBodies(long seed, long maxBody) {
        this.seed = seed;
        this.maxBody = maxBody;
    }

    /** The case with this index: the first of each category come first, then a weighted mix. */
    Case generate(int index) {
        SplittableRandom r = new SplittableRandom(mix(seed + 0x9E3779B97F4A7C15L * (index + 1L)));
        List<String> names = categories();
        String category = index < names.size() ? names.get(index) : pick(r);
        Gen g = new Gen(r, index, category);
        return switch (category) {
            case RANDOM_BYTES -> g.randomBytes();
            case TRUNCATED -> g.truncated();
            case DEEP_NESTING -> g.deepNesting();
            case HUGE -> g.huge();
            case BODY_LIMIT -> g.bodyLimit();
            case DUPLICATE_KEYS -> g.duplicateKeys();
            case WRONG_TYPES -> g.wrongTypes();
            case NUMBERS -> g.numbers();
            case OBJECT_SHAPE -> g.objectShape();
            case KIND_MISMATCH -> g.kindMismatch();
            case ENVELOPE -> g.envelope();
            case ENCODING -> g.encoding();
            case CONTENT_TYPE -> g.contentType();
            default -> throw new IllegalStateException(category);
        };
    }

    /**
     * A readable CREATE review of a Pod, compliant or not, with security values in varied spellings (escaped
     * keys, {@code -0}, the largest long), for comparing what the decoder checked with what it bound.
     */
    Case wellFormedPod(int index) {
        Gen g = new Gen(new SplittableRandom(mix(~seed + 31L * index)), index, "well-formed");
        Base b = g.base(POD, g.chance(0.5));
        if (g.chance(0.5)) {
            ObjectNode sc = g.containerSc(b, 0);
            sc.put(
                    g.oneOf("runAsUser", "runAsGroup"),
                    g.raw.of(g.oneOf("0", "-0", "1", "9223372036854775807", "-1", "4294967296")));
        }
        if (g.chance(0.5)) {
            g.escapeSecurityKeys(b);
        }
        return g.expect("well-formed", b, Expect.DECIDED, Expect.DECIDED);
    }

    private static String pick(SplittableRandom r) {
        double total =
                WEIGHTS.values().stream().mapToDouble(Double::doubleValue).sum();
        double x = r.nextDouble() * total;
        for (Map.Entry<String, Double> e : WEIGHTS.entrySet()) {
            x -= e.getValue();
            if (x < 0) {
                return e.getKey();
            }
        }
        return RANDOM_BYTES;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A supported workload kind and where it keeps its pod spec. */
    record Kind(String group, String version, String kind, String resource, List<String> specPath) {
        String apiVersion() {
            return group.isEmpty() ? version : group + "/" + version;
        }
    }

    /** Every workload kind, from the one table of them. */
    static final List<Kind> KINDS = Arrays.stream(WorkloadKind.values())
            .map(k -> new Kind(
                    k.group(),
                    k.versions().get(0),
                    k.kind(),
                    k.resource(),
                    List.of(k.podSpecPath().split("\\."))))
            .toList();

    static final Kind POD = KINDS.stream()
            .filter(k -> k.kind().equals(WorkloadKind.POD.kind()))
            .findFirst()
            .orElseThrow();

    /**
     * A well-formed CREATE review. {@code violation} is null for a compliant pod spec, else the name of
     * the one enforced violation, found at {@code violationAt} (a JSON pointer into the object, possibly
     * of an absent field).
     */
    static final class Base {
        Kind kind;
        ObjectNode review;
        ObjectNode request;
        ObjectNode object;
        ObjectNode spec;
        String specPointer;
        String uid;
        String violation;
        String violationAt;

        boolean forbidden() {
            return violation != null;
        }

        /** The decision when the meaning of the body is unchanged. */
        Expect decision() {
            return forbidden() ? Expect.DENY : Expect.ALLOW;
        }

        /** The weakest acceptable answer when a change may or may not be readable: never allow a forbidden pod. */
        Expect safe() {
            return forbidden() ? Expect.NOT_ALLOW : Expect.ANY;
        }

        String label() {
            return kind.kind() + (forbidden() ? " with " + violation : " compliant");
        }
    }

    /** Text written verbatim in place of placeholders, to produce what a JSON tree cannot hold. */
    static final class Raw {
        private final List<byte[]> parts = new ArrayList<>();

        /** A placeholder for a key or string value; its quotes are replaced too. */
        String of(String json) {
            return of(json.getBytes(StandardCharsets.UTF_8));
        }

        String of(byte[] bytes) {
            parts.add(bytes);
            return "@@RAW" + (parts.size() - 1) + "@@";
        }

        byte[] render(JsonNode tree) {
            byte[] text;
            try {
                text = JSON.writeValueAsBytes(tree);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            return substitute(text);
        }

        byte[] substitute(byte[] text) {
            if (parts.isEmpty()) {
                return text;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream(text.length + 64);
            int i = 0;
            while (i < text.length) {
                int ph = placeholderAt(text, i);
                if (ph >= 0) {
                    byte[] part = parts.get(ph);
                    out.write(part, 0, part.length);
                    i = skipPlaceholder(text, i);
                } else {
                    out.write(text[i++]);
                }
            }
            return out.toByteArray();
        }

        /** {@code "@@RAWn@@"} including its quotes at {@code i}, or -1. */
        private static int placeholderAt(byte[] t, int i) {
            if (t[i] != '"' || i + 7 >= t.length || t[i + 1] != '@' || t[i + 2] != '@' || t[i + 3] != 'R') {
                return -1;
            }
            int j = i + 6;
            int n = 0;
            while (j < t.length && t[j] >= '0' && t[j] <= '9') {
                n = n * 10 + (t[j++] - '0');
            }
            return j + 2 < t.length && t[j] == '@' && t[j + 1] == '@' && t[j + 2] == '"' ? n : -1;
        }

        private static int skipPlaceholder(byte[] t, int i) {
            int j = i + 6;
            while (t[j] >= '0' && t[j] <= '9') {
                j++;
            }
            return j + 3;
        }
    }

    /** The generator state of one case. */
    private final class Gen {
        final SplittableRandom r;
        final int index;
        final String category;
        final Raw raw = new Raw();

        Gen(SplittableRandom r, int index, String category) {
            this.r = r;
            this.index = index;
            this.category = category;
        }

        // ---------------------------------------------------------------- results

        Case reject(String label, byte[] body, int status) {
            return new Case(
                    index,
                    category,
                    label,
                    body,
                    "application/json",
                    status,
                    null,
                    Expect.REJECT,
                    Expect.REJECT,
                    0,
                    false);
        }

        /** A body that cannot be decided: 400 from both endpoints. */
        Case reject(String label, Base b) {
            return new Case(
                    index,
                    category,
                    b.label() + "; " + label,
                    raw.render(b.review),
                    "application/json",
                    400,
                    b.uid,
                    Expect.REJECT,
                    Expect.REJECT,
                    0,
                    false);
        }

        Case expect(String label, Base b, Expect validate, Expect mutate) {
            return expect(label, b, raw.render(b.review), validate, mutate);
        }

        Case expect(String label, Base b, byte[] body, Expect validate, Expect mutate) {
            return new Case(
                    index,
                    category,
                    b.label() + "; " + label,
                    body,
                    "application/json",
                    400,
                    b.uid,
                    validate,
                    mutate,
                    0,
                    false);
        }

        /** The meaning is unchanged: the base decision from /validate, any decision from /mutate. */
        Case same(String label, Base b) {
            return expect(label, b, b.decision(), Expect.DECIDED);
        }

        Case same(String label, Base b, byte[] body) {
            return expect(label, b, body, b.decision(), Expect.DECIDED);
        }

        /** Readable or not, a forbidden pod is never allowed. */
        Case safe(String label, Base b) {
            return expect(label, b, b.safe(), Expect.ANY);
        }

        Case safe(String label, Base b, byte[] body) {
            return expect(label, b, body, b.safe(), Expect.ANY);
        }

        // ---------------------------------------------------------------- random values

        boolean chance(double p) {
            return r.nextDouble() < p;
        }

        @SafeVarargs
        final <T> T oneOf(T... values) {
            return values[r.nextInt(values.length)];
        }

        <T> T oneOf(List<T> values) {
            return values.get(r.nextInt(values.size()));
        }

        long id() {
            return oneOf(1L, 1000L, 10000L, 65534L, 2147483647L, 1L + r.nextInt(Integer.MAX_VALUE - 1));
        }

        String word() {
            return oneOf("app", "api", "web", "db", "worker", "sidecar", "proxy", "init", "migrate", "cache")
                    + (chance(0.5) ? "" : "-" + r.nextInt(100));
        }

        String image() {
            return oneOf(
                    "nginx:1.27",
                    "registry.example/app:1.0",
                    "busybox",
                    "ghcr.example/team/api@sha256:" + "ab".repeat(32),
                    "alpine:3.20");
        }

        String letters(int n) {
            char[] c = new char[n];
            for (int i = 0; i < n; i++) {
                c[i] = (char) ('a' + r.nextInt(26));
            }
            return new String(c);
        }

        // ---------------------------------------------------------------- well-formed bases

        Base base() {
            return base(oneOf(KINDS), chance(0.6));
        }

        Base base(Kind kind, boolean forbidden) {
            Base b = new Base();
            b.kind = kind;
            b.uid = uid();
            ObjectNode review = JSON.createObjectNode();
            if (chance(0.5)) {
                review.put("kind", "AdmissionReview").put("apiVersion", API_VERSION);
            } else {
                review.put("apiVersion", API_VERSION).put("kind", "AdmissionReview");
            }
            ObjectNode req = review.putObject("request");
            String ns = "team-" + letters(3);
            String name = word();
            req.put("uid", b.uid);
            req.putObject("kind")
                    .put("group", kind.group())
                    .put("version", kind.version())
                    .put("kind", kind.kind());
            req.putObject("resource")
                    .put("group", kind.group())
                    .put("version", kind.version())
                    .put("resource", kind.resource());
            if (chance(0.5)) {
                req.set("requestKind", req.get("kind").deepCopy());
                req.set("requestResource", req.get("resource").deepCopy());
            }
            req.put("name", name).put("namespace", ns).put("operation", "CREATE");
            ObjectNode user = req.putObject("userInfo")
                    .put("username", oneOf("alice", "bob", "system:serviceaccount:ci:deployer"));
            user.putArray("groups").add("system:authenticated");
            ObjectNode obj = req.putObject("object");
            obj.put("apiVersion", kind.apiVersion()).put("kind", kind.kind());
            ObjectNode meta = obj.putObject("metadata").put("name", name).put("namespace", ns);
            if (chance(0.5)) {
                meta.putObject("labels").put("app", name);
            }
            if (chance(0.3)) {
                meta.putObject("annotations").put("team", "a");
            }
            ObjectNode spec = obj;
            StringBuilder pointer = new StringBuilder();
            for (String step : kind.specPath()) {
                spec = spec.putObject(step);
                pointer.append('/').append(step);
                if ("template".equals(step)) {
                    spec.putObject("metadata").putObject("labels").put("app", name);
                }
            }
            if (kind.kind().equals("Deployment")
                    || kind.kind().equals("ReplicaSet")
                    || kind.kind().equals("StatefulSet")) {
                obj.with("spec").put("replicas", 1 + r.nextInt(5));
            }
            if (kind.kind().equals("CronJob")) {
                obj.with("spec").put("schedule", "*/5 * * * *");
            }
            b.review = review;
            b.request = req;
            b.object = obj;
            b.spec = spec;
            b.specPointer = pointer.toString();
            req.putNull("oldObject");
            req.put("dryRun", chance(0.2));
            if (chance(0.5)) {
                req.putObject("options").put("kind", "CreateOptions").put("apiVersion", "meta.k8s.io/v1");
            }
            compliantSpec(spec);
            if (forbidden) {
                inject(b);
            }
            return b;
        }

        String uid() {
            StringBuilder s = new StringBuilder(36);
            for (int i = 0; i < 32; i++) {
                if (i == 8 || i == 12 || i == 16 || i == 20) {
                    s.append('-');
                }
                s.append(Character.forDigit(r.nextInt(16), 16));
            }
            return s.toString();
        }

        /** A pod spec every rule accepts (privilege-escalation only warns). */
        void compliantSpec(ObjectNode spec) {
            ObjectNode psc = spec.putObject("securityContext");
            psc.put("runAsNonRoot", true)
                    .put("runAsUser", id())
                    .put("runAsGroup", id())
                    .put("fsGroup", id());
            if (chance(0.4)) {
                psc.putArray("supplementalGroups").add(id()).add(id());
            }
            if (chance(0.4)) {
                psc.putObject("seccompProfile").put("type", "RuntimeDefault");
            }
            ArrayNode containers = spec.putArray("containers");
            int n = 1 + r.nextInt(3);
            for (int i = 0; i < n; i++) {
                containers.add(container(i));
            }
            if (chance(0.3)) {
                spec.putArray("initContainers").add(container(n));
            }
            if (chance(0.3)) {
                spec.put("restartPolicy", oneOf("Always", "Never", "OnFailure"));
            }
        }

        ObjectNode container(int i) {
            ObjectNode c =
                    JSON.createObjectNode().put("name", "c" + i + "-" + word()).put("image", image());
            if (chance(0.8)) {
                ObjectNode sc = c.putObject("securityContext");
                if (chance(0.7)) {
                    sc.put("allowPrivilegeEscalation", false);
                }
                if (chance(0.3)) {
                    sc.put("privileged", false);
                }
                if (chance(0.3)) {
                    sc.put("runAsUser", id());
                }
                if (chance(0.3)) {
                    sc.put("runAsGroup", id());
                }
                if (chance(0.3)) {
                    sc.put("runAsNonRoot", true);
                }
                if (chance(0.5)) {
                    ObjectNode caps = sc.putObject("capabilities");
                    caps.putArray("drop").add("ALL");
                    if (chance(0.4)) {
                        caps.putArray("add").add(oneOf("NET_BIND_SERVICE", "CAP_NET_BIND_SERVICE", "net_bind_service"));
                    }
                }
                if (chance(0.3)) {
                    sc.put("readOnlyRootFilesystem", true);
                }
            }
            if (chance(0.2)) {
                c.putArray("ports").addObject().put("containerPort", 8080).put("protocol", "TCP");
            }
            return c;
        }

        ArrayNode containers(Base b) {
            return (ArrayNode) b.spec.get("containers");
        }

        ObjectNode containerSc(Base b, int i) {
            return ((ObjectNode) containers(b).get(i)).with("securityContext");
        }

        /** Adds exactly one violation that the default policy enforces. */
        void inject(Base b) {
            ObjectNode psc = (ObjectNode) b.spec.get("securityContext");
            int k = r.nextInt(containers(b).size());
            String c = b.specPointer + "/containers/" + k + "/securityContext";
            String p = b.specPointer + "/securityContext";
            switch (r.nextInt(12)) {
                case 0 -> {
                    containerSc(b, k).put("runAsUser", 0);
                    mark(b, "container runAsUser 0", c + "/runAsUser");
                }
                case 1 -> {
                    psc.put("runAsUser", 0);
                    forEachContainer(b, sc -> sc.remove("runAsUser"));
                    mark(b, "pod runAsUser 0", p + "/runAsUser");
                }
                case 2 -> {
                    containerSc(b, k).put("privileged", true);
                    mark(b, "privileged", c + "/privileged");
                }
                case 3 -> {
                    ObjectNode caps = containerSc(b, k).with("capabilities");
                    caps.putArray("add")
                            .add(oneOf("SYS_ADMIN", "ALL", "CAP_SYS_ADMIN", "sys_admin", "NET_ADMIN", " SYS_PTRACE "));
                    mark(b, "added capability", c + "/capabilities/add");
                }
                case 4 -> {
                    psc.put("fsGroup", 0);
                    mark(b, "fsGroup 0", p + "/fsGroup");
                }
                case 5 -> {
                    psc.put("runAsGroup", 0);
                    forEachContainer(b, sc -> sc.remove("runAsGroup"));
                    mark(b, "pod runAsGroup 0", p + "/runAsGroup");
                }
                case 6 -> {
                    containerSc(b, k).put("runAsGroup", 0);
                    mark(b, "container runAsGroup 0", c + "/runAsGroup");
                }
                case 7 -> {
                    psc.putArray("supplementalGroups").add(id()).add(0);
                    mark(b, "supplemental group 0", p + "/supplementalGroups");
                }
                case 8 -> {
                    containerSc(b, k).putObject("windowsOptions").put("hostProcess", true);
                    mark(b, "container hostProcess", c + "/windowsOptions/hostProcess");
                }
                case 9 -> {
                    psc.putObject("windowsOptions").put("hostProcess", true);
                    mark(b, "pod hostProcess", p + "/windowsOptions/hostProcess");
                }
                case 10 -> {
                    psc.remove("fsGroup");
                    mark(b, "no fsGroup", p + "/fsGroup");
                }
                default -> {
                    psc.remove("runAsUser");
                    psc.put("runAsNonRoot", false);
                    forEachContainer(b, sc -> {
                        sc.remove("runAsUser");
                        sc.remove("runAsNonRoot");
                    });
                    mark(b, "runAsNonRoot false without runAsUser", p + "/runAsNonRoot");
                }
            }
        }

        void mark(Base b, String violation, String at) {
            b.violation = violation;
            b.violationAt = at;
        }

        void forEachContainer(Base b, Consumer<ObjectNode> f) {
            for (String list : List.of("containers", "initContainers")) {
                JsonNode cs = b.spec.get(list);
                if (cs != null) {
                    for (JsonNode c : cs) {
                        if (c.get("securityContext") instanceof ObjectNode sc) {
                            f.accept(sc);
                        }
                    }
                }
            }
        }

        // ---------------------------------------------------------------- random bytes

        Case randomBytes() {
            int mode = r.nextInt(4);
            if (mode == 0) {
                int len = oneOf(r.nextInt(17), r.nextInt(257), r.nextInt(4097), r.nextInt(65537));
                byte[] b = new byte[len];
                for (int i = 0; i < len; i++) {
                    b[i] = (byte) r.nextInt(256);
                }
                if (len > 0 && chance(0.3)) {
                    b[0] = '{';
                }
                return reject("random bytes (" + len + ")", b, 400);
            }
            if (mode == 1) {
                StringBuilder s = new StringBuilder();
                int n = 1 + r.nextInt(200);
                for (int i = 0; i < n; i++) {
                    s.append(oneOf(
                            "{",
                            "}",
                            "[",
                            "]",
                            ":",
                            ",",
                            "\"",
                            "\"uid\"",
                            "\"request\"",
                            "\"kind\"",
                            "\"AdmissionReview\"",
                            "\"admission.k8s.io/v1\"",
                            "true",
                            "false",
                            "null",
                            "0",
                            "-1",
                            "1e9",
                            "\\",
                            "\\u",
                            " ",
                            "\n"));
                }
                return reject("token soup", s.toString().getBytes(StandardCharsets.UTF_8), 400);
            }
            if (mode == 2) {
                JsonNode v = randomValue(0);
                byte[] body = raw.render(v);
                // A random JSON value is a readable document but never an AdmissionReview with a request.
                return reject("random JSON " + v.getNodeType().name().toLowerCase(), body, 400);
            }
            // A valid review with a few bytes flipped, inserted or removed: anything may happen, nothing may crash.
            Base b = base();
            byte[] body = raw.render(b.review);
            int edits = 1 + r.nextInt(4);
            for (int e = 0; e < edits; e++) {
                int at = r.nextInt(body.length);
                switch (r.nextInt(3)) {
                    case 0 -> body[at] = (byte) r.nextInt(256);
                    case 1 ->
                        body = concat(
                                Arrays.copyOf(body, at),
                                new byte[] {(byte) r.nextInt(256)},
                                Arrays.copyOfRange(body, at, body.length));
                    default -> body = concat(Arrays.copyOf(body, at), Arrays.copyOfRange(body, at + 1, body.length));
                }
            }
            return new Case(
                    index,
                    category,
                    "mutated bytes of " + b.label(),
                    body,
                    "application/json",
                    400,
                    null,
                    Expect.ANY,
                    Expect.ANY,
                    0,
                    false);
        }

        JsonNode randomValue(int depth) {
            int t = depth > 4 ? 2 + r.nextInt(5) : r.nextInt(7);
            return switch (t) {
                case 0 -> {
                    ObjectNode o = JSON.createObjectNode();
                    int n = r.nextInt(5);
                    for (int i = 0; i < n; i++) {
                        o.set(
                                oneOf("apiVersion", "kind", "request", "uid", "object", "spec", "runAsUser", word()),
                                randomValue(depth + 1));
                    }
                    // Never a readable review: the top-level object lacks the right apiVersion/kind pair.
                    if (depth == 0) {
                        o.put("apiVersion", oneOf("v1", "admission.k8s.io/v1beta1", ""));
                    }
                    yield o;
                }
                case 1 -> {
                    ArrayNode a = JSON.createArrayNode();
                    int n = r.nextInt(5);
                    for (int i = 0; i < n; i++) {
                        a.add(randomValue(depth + 1));
                    }
                    yield a;
                }
                case 2 ->
                    JSON.getNodeFactory()
                            .textNode(
                                    oneOf("", "x", "AdmissionReview", "admission.k8s.io/v1", "\u0000", "\ud83d\ude00"));
                case 3 -> JSON.getNodeFactory().numberNode(r.nextLong());
                case 4 -> JSON.getNodeFactory().numberNode(r.nextDouble() * 1e6);
                case 5 -> JSON.getNodeFactory().booleanNode(r.nextBoolean());
                default -> JSON.getNodeFactory().nullNode();
            };
        }

        // ---------------------------------------------------------------- truncation

        Case truncated() {
            Base b = base();
            if (chance(0.5)) {
                // Non-ASCII text, so that a cut can fall inside a multi-byte character.
                b.object.with("metadata").with("annotations").put("note", "caf\u00e9 \u6771\u4eac \ud83d\ude80");
            }
            byte[] body = chance(0.3) ? pretty(b.review) : raw.render(b.review);
            Map<String, List<Integer>> classes = cutClasses(body);
            List<String> names = new ArrayList<>(classes.keySet());
            String cls = oneOf(names);
            List<Integer> at = classes.get(cls);
            int cut = at.get(r.nextInt(at.size()));
            return new Case(
                    index,
                    category,
                    "cut " + cls + " at " + cut + "/" + body.length + " of " + b.label(),
                    Arrays.copyOf(body, cut),
                    "application/json",
                    400,
                    b.uid,
                    Expect.REJECT,
                    Expect.REJECT,
                    0,
                    false);
        }

        byte[] pretty(JsonNode tree) {
            try {
                return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(tree);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        // ---------------------------------------------------------------- deep nesting

        Case deepNesting() {
            int depth = chance(0.02)
                    ? 1_000_000
                    : oneOf(
                            oneOf(
                                    10,
                                    100,
                                    400,
                                    900,
                                    MAX_DEPTH - 50,
                                    MAX_DEPTH - 5,
                                    MAX_DEPTH,
                                    MAX_DEPTH + 1,
                                    MAX_DEPTH + 10),
                            oneOf(2 * MAX_DEPTH, 10_000, 100_000),
                            1 + r.nextInt(3 * MAX_DEPTH));
            String form = oneOf("array", "object", "mixed");
            boolean closed = chance(0.85);
            String nest = nested(depth, form, closed);
            String where = oneOf(
                    "document",
                    "request field",
                    "object field",
                    "securityContext field",
                    "container field",
                    "runAsUser",
                    "annotations",
                    "oldObject");
            Base b = base();
            boolean typed = false;
            int above;
            byte[] body;
            if (where.equals("document")) {
                body = nest.getBytes(StandardCharsets.UTF_8);
                above = 0;
                typed = true;
            } else {
                String ph = raw.of(nest);
                switch (where) {
                    case "request field" -> {
                        b.request.put("x-extra", ph);
                        above = 2;
                    }
                    case "object field" -> {
                        b.object.put("x-extra", ph);
                        above = 3;
                    }
                    case "securityContext field" -> {
                        ((ObjectNode) b.spec.get("securityContext")).put("x-extra", ph);
                        above = 4 + b.kind.specPath().size();
                    }
                    case "container field" -> {
                        ((ObjectNode) containers(b).get(0)).put("x-extra", ph);
                        above = 5 + b.kind.specPath().size();
                    }
                    case "runAsUser" -> {
                        ((ObjectNode) b.spec.get("securityContext")).put("runAsUser", ph);
                        above = 4 + b.kind.specPath().size();
                        typed = true;
                    }
                    case "annotations" -> {
                        b.object.with("metadata").with("annotations").put("deep", ph);
                        above = 5;
                        typed = true;
                    }
                    default -> {
                        // Read on CREATE only as "an object or null": nested objects pass, arrays do not.
                        b.request.put("oldObject", ph);
                        above = 2;
                        typed = !form.equals("object");
                    }
                }
                body = raw.render(b.review);
            }
            String label = where + ", " + depth + " deep " + form + (closed ? "" : ", unclosed");
            if (!closed || depth + above > MAX_DEPTH || typed) {
                return new Case(
                        index,
                        category,
                        b.label() + "; " + label,
                        body,
                        "application/json",
                        400,
                        b.uid,
                        Expect.REJECT,
                        Expect.REJECT,
                        0,
                        false);
            }
            return safe(label, b, body);
        }

        String nested(int depth, String form, boolean closed) {
            StringBuilder open = new StringBuilder(depth * 6);
            StringBuilder close = new StringBuilder(depth * 2);
            for (int i = 0; i < depth; i++) {
                boolean array = form.equals("array") || (form.equals("mixed") && (i % 2 == 0));
                open.append(array ? "[" : "{\"a\":");
                close.append(array ? ']' : '}');
            }
            return open.append(closed ? "1" : "")
                    .append(closed ? close.reverse() : "")
                    .toString();
        }

        // ---------------------------------------------------------------- huge

        Case huge() {
            Base b = base();
            long room = maxBody - raw.render(b.review).length - 4096;
            // Mostly hundreds of kilobytes to a few megabytes; now and then as much as the limit allows.
            boolean full = chance(0.05);
            int target =
                    (int) Math.min(room, full ? room : oneOf(64 * 1024L, 256 * 1024L, 1024 * 1024L, 2L * 1024 * 1024));
            // Every container costs evaluation and patch work, so their number is capped unless the body is full.
            int maxContainers = full ? Integer.MAX_VALUE : 5000;
            Case c = huge(b, target, maxContainers);
            if (c.size() > maxBody) {
                // The estimate overshot: then the answer is 413, which is as good a check (sent like the other oversize
                // bodies).
                return new Case(
                        index,
                        category,
                        c.label() + ", over the limit",
                        c.body(),
                        "application/json",
                        413,
                        c.uid(),
                        Expect.REJECT,
                        Expect.REJECT,
                        c.size(),
                        false);
            }
            return c;
        }

        private Case huge(Base b, int target, int maxContainers) {
            int form = r.nextInt(9);
            switch (form) {
                case 0 -> {
                    String field = oneOf("image", "name", "x-unknown");
                    ((ObjectNode) containers(b).get(0)).put(field, letters(target));
                    return same("huge container " + field + " (" + target + " chars)", b);
                }
                case 1 -> {
                    b.object.with("metadata").with("annotations").put("big", letters(target));
                    return same("huge annotation (" + target + " chars)", b);
                }
                case 2 -> {
                    // Many compliant containers next to the base ones.
                    ArrayNode cs = containers(b);
                    int n = Math.min(maxContainers, target / 150);
                    for (int i = 0; i < n; i++) {
                        cs.addObject()
                                .put("name", "x" + i)
                                .put("image", "busybox")
                                .putObject("securityContext")
                                .put("allowPrivilegeEscalation", false)
                                .put("runAsUser", 1000 + i);
                    }
                    return same(n + " extra containers", b);
                }
                case 3 -> {
                    // Many containers, every one running as root.
                    ArrayNode cs = containers(b);
                    int n = Math.min(maxContainers, target / 120);
                    for (int i = 0; i < n; i++) {
                        cs.addObject()
                                .put("name", "r" + i)
                                .put("image", "busybox")
                                .putObject("securityContext")
                                .put("runAsUser", 0);
                    }
                    b.violation = n + " root containers";
                    return same(n + " containers as root", b);
                }
                case 4 -> {
                    ObjectNode psc = (ObjectNode) b.spec.get("securityContext");
                    // Appended, so a violation already in the list stays.
                    ArrayNode groups = psc.withArray("supplementalGroups");
                    int n = target / 6;
                    for (int i = 0; i < n; i++) {
                        groups.add(1 + r.nextInt(99999));
                    }
                    if (chance(0.5)) {
                        groups.add(0);
                        b.violation = "supplemental group 0 at the end of " + n;
                    }
                    return same(n + " supplemental groups", b);
                }
                case 5 -> {
                    ArrayNode add = containerSc(b, 0).with("capabilities").withArray("add");
                    int n = target / 20;
                    for (int i = 0; i < n; i++) {
                        add.add("NET_BIND_SERVICE");
                    }
                    if (chance(0.5)) {
                        add.add("SYS_ADMIN");
                        b.violation = "SYS_ADMIN after " + n + " allowed capabilities";
                    }
                    return same(n + " added capabilities", b);
                }
                case 6 -> {
                    // Many distinct keys in one object (duplicate detection keeps a set of them).
                    ObjectNode sc = (ObjectNode) b.spec.get("securityContext");
                    int n = target / 16;
                    for (int i = 0; i < n; i++) {
                        sc.put("k" + i, i);
                    }
                    return same(n + " unknown keys in securityContext", b);
                }
                case 7 -> {
                    // A huge uid must come back unchanged.
                    b.uid = letters(Math.min(target, 1024 * 1024));
                    b.request.put("uid", b.uid);
                    return same("uid of " + b.uid.length() + " chars", b);
                }
                default -> {
                    ArrayNode a = b.object.putArray("x-numbers");
                    int n = target / 8;
                    for (int i = 0; i < n; i++) {
                        a.add(r.nextInt());
                    }
                    return same(n + "-element unknown array", b);
                }
            }
        }

        // ---------------------------------------------------------------- body size limit

        Case bodyLimit() {
            int mode = r.nextInt(5);
            Base b = base();
            if (mode == 0) {
                // Exactly at the limit is still read.
                ObjectNode annotations = b.object.with("metadata").with("annotations");
                annotations.put("pad", "");
                int size = raw.render(b.review).length;
                annotations.put("pad", letters((int) (maxBody - size)));
                byte[] body = raw.render(b.review);
                return same("exactly " + body.length + " bytes", b, body);
            }
            long size = switch (mode) {
                case 1 -> maxBody + 1;
                case 2 -> maxBody + 1 + r.nextInt(100_000);
                case 3 -> maxBody * 8;
                default -> maxBody + 1 + r.nextInt(1_000_000);
            };
            boolean chunked = mode == 4;
            return new Case(
                    index,
                    category,
                    (chunked ? "chunked " : "Content-Length ") + size + " bytes",
                    null,
                    "application/json",
                    413,
                    null,
                    Expect.REJECT,
                    Expect.REJECT,
                    size,
                    chunked);
        }

        // ---------------------------------------------------------------- duplicate keys

        Case duplicateKeys() {
            Base b = base();
            List<ObjectNode> objects = new ArrayList<>();
            collectObjects(b.review, objects);
            ObjectNode target;
            String key;
            if (chance(0.4)) {
                // The security fields, where two readings would differ the most.
                target = (ObjectNode) b.spec.get("securityContext");
                if (chance(0.5)) {
                    target = containerSc(b, r.nextInt(containers(b).size()));
                }
                key = oneOf(
                        "runAsUser", "runAsGroup", "runAsNonRoot", "privileged", "fsGroup", "allowPrivilegeEscalation");
                if (!target.has(key)) {
                    if (key.startsWith("run") && key.endsWith("Root")
                            || key.endsWith("privileged")
                            || key.startsWith("allow")) {
                        target.put(key, false);
                    } else {
                        target.put(key, 1000);
                    }
                }
            } else {
                List<ObjectNode> nonEmpty =
                        objects.stream().filter(o -> o.size() > 0).toList();
                target = oneOf(nonEmpty);
                List<String> keys = new ArrayList<>();
                target.fieldNames().forEachRemaining(keys::add);
                key = oneOf(keys);
            }
            JsonNode value = target.get(key);
            String other = conflicting(key, value);
            String first = text(value);
            boolean flip = chance(0.5);
            String firstValue = flip ? other : first;
            String secondValue = flip ? first : other;
            String style = oneOf("adjacent", "escaped", "apart");
            String keyText = style.equals("escaped") ? escapeOneChar(key) : quote(key);
            if (style.equals("apart")) {
                // The first copy stays where it was, the second goes after every other field.
                target.put(key, raw.of(firstValue));
                target.put(raw.of(keyText), raw.of(secondValue));
            } else {
                target.put(key, raw.of(firstValue + "," + keyText + ":" + secondValue));
            }
            return reject("duplicate \"" + key + "\" (" + style + ") " + firstValue + " / " + secondValue, b);
        }

        void replaceContents(ObjectNode target, ObjectNode with) {
            target.removeAll();
            target.setAll(with);
        }

        void collectObjects(JsonNode n, List<ObjectNode> out) {
            if (n instanceof ObjectNode o) {
                out.add(o);
            }
            for (JsonNode child : n) {
                collectObjects(child, out);
            }
        }

        /** A value of the same kind that means something else. */
        String conflicting(String key, JsonNode value) {
            if (value == null || value.isNull()) {
                return "{}";
            }
            if (value.isNumber()) {
                return value.asLong() == 0 ? "1000" : "0";
            }
            if (value.isBoolean()) {
                return value.asBoolean() ? "false" : "true";
            }
            if (value.isTextual()) {
                return quote(value.asText() + "-other");
            }
            if (value.isArray()) {
                return "[]";
            }
            return "{\"other\":true}";
        }

        // ---------------------------------------------------------------- wrong types

        /** A security field: where it lives (relative to the pod spec, {@code c} for container 0) and its JSON type. */
        record Field(String path, String type) {}

        static final List<Field> FIELDS = List.of(
                new Field("securityContext", "object"),
                new Field("securityContext/runAsUser", "int"),
                new Field("securityContext/runAsGroup", "int"),
                new Field("securityContext/fsGroup", "int"),
                new Field("securityContext/runAsNonRoot", "bool"),
                new Field("securityContext/supplementalGroups", "int-list"),
                new Field("securityContext/windowsOptions", "object"),
                new Field("securityContext/windowsOptions/hostProcess", "bool"),
                new Field("securityContext/seccompProfile", "object"),
                new Field("securityContext/seccompProfile/type", "string"),
                new Field("hostUsers", "bool"),
                new Field("os", "object"),
                new Field("os/name", "string"),
                new Field("containers", "object-list"),
                new Field("initContainers", "object-list"),
                new Field("ephemeralContainers", "object-list"),
                new Field("c/name", "string"),
                new Field("c/image", "string"),
                new Field("c/securityContext", "object"),
                new Field("c/securityContext/runAsUser", "int"),
                new Field("c/securityContext/runAsGroup", "int"),
                new Field("c/securityContext/runAsNonRoot", "bool"),
                new Field("c/securityContext/privileged", "bool"),
                new Field("c/securityContext/allowPrivilegeEscalation", "bool"),
                new Field("c/securityContext/readOnlyRootFilesystem", "bool"),
                new Field("c/securityContext/capabilities", "object"),
                new Field("c/securityContext/capabilities/add", "string-list"),
                new Field("c/securityContext/capabilities/drop", "string-list"),
                new Field("c/securityContext/windowsOptions", "object"),
                new Field("c/securityContext/windowsOptions/hostProcess", "bool"),
                new Field("metadata/annotations", "string-map"),
                new Field("metadata/namespace", "string"),
                new Field("metadata", "object"),
                new Field("spec", "object"));

        static final Map<String, List<String>> WRONG = Map.of(
                "int",
                        List.of(
                                "\"0\"",
                                "\"1000\"",
                                "\"\"",
                                "0.5",
                                "1.0",
                                "-0.0",
                                "1e3",
                                "1E3",
                                "0e0",
                                "true",
                                "false",
                                "{}",
                                "[]",
                                "[0]",
                                "99999999999999999999",
                                "9223372036854775808",
                                "-9223372036854775809",
                                "1e400",
                                "-1e400",
                                "\"0x0\""),
                "bool",
                        List.of(
                                "\"true\"",
                                "\"false\"",
                                "\"\"",
                                "1",
                                "0",
                                "1.0",
                                "{}",
                                "[]",
                                "[true]",
                                "\"yes\"",
                                "\"TRUE\""),
                "string", List.of("5", "0", "true", "false", "1.5", "{}", "[]", "[\"windows\"]"),
                "int-list",
                        List.of(
                                "0",
                                "\"0\"",
                                "{}",
                                "{\"0\":0}",
                                "[\"0\"]",
                                "[0.5]",
                                "[true]",
                                "[{}]",
                                "[[0]]",
                                "\"\"",
                                "true"),
                "string-list",
                        List.of(
                                "\"SYS_ADMIN\"",
                                "{}",
                                "{\"0\":\"SYS_ADMIN\"}",
                                "[[\"SYS_ADMIN\"]]",
                                "[{}]",
                                "[1]",
                                "[true]",
                                "[1.5]",
                                "\"\"",
                                "0",
                                "true"),
                // "windows" for os (a bare string into a one-field object) must not become os.name.
                "object",
                        List.of(
                                "\"x\"",
                                "\"\"",
                                "\"windows\"",
                                "0",
                                "1.5",
                                "true",
                                "false",
                                "[]",
                                "[{}]",
                                "[{\"runAsUser\":0}]"),
                "object-list",
                        List.of(
                                "{}",
                                "{\"name\":\"x\",\"image\":\"y\"}",
                                "\"x\"",
                                "0",
                                "true",
                                "[1]",
                                "[\"x\"]",
                                "[[{}]]",
                                "[true]",
                                "\"\""),
                "string-map",
                        List.of(
                                "\"x\"",
                                "[]",
                                "[\"a\"]",
                                "0",
                                "true",
                                "{\"a\":1}",
                                "{\"a\":true}",
                                "{\"a\":{}}",
                                "{\"a\":[]}"));

        /** Readable values that are odd but typed right. */
        static final Map<String, List<String>> ODD = Map.of(
                "int", List.of("null", "-1", "2147483648", "4294967296", "9223372036854775807", "-9223372036854775808"),
                "bool", List.of("null"),
                "string", List.of("null", "\"\"", "\"\\u0000\"", "\" \""),
                "int-list", List.of("null", "[]", "[null]"),
                "string-list", List.of("null", "[]", "[null]", "[\"\"]"),
                "object", List.of("null", "{}"),
                "object-list", List.of("null", "[]", "[null]", "[{}]"),
                "string-map", List.of("null", "{}", "{\"a\":null}"));

        Case wrongTypes() {
            Base b = base();
            Field f = oneOf(FIELDS);
            boolean odd = chance(0.2);
            String value = oneOf((odd ? ODD : WRONG).get(f.type()));
            String pointer = place(b, f, raw.of(value));
            String label = pointer + " = " + value;
            if (!odd) {
                return reject(label, b);
            }
            return expect(label, b, Expect.ANY, Expect.ANY);
        }

        /** Sets a field (creating its parents) to a placeholder; returns its pointer in the object. */
        String place(Base b, Field f, String placeholder) {
            String path = f.path();
            ObjectNode parent;
            String pointer;
            if (path.equals("spec")) {
                // The first step to the pod spec: spec, or template for a PodTemplate.
                path = b.kind.specPath().get(0);
                parent = b.object;
                pointer = "";
            } else if (path.startsWith("metadata")) {
                parent = b.object;
                pointer = "";
            } else if (path.startsWith("c/")) {
                int k = r.nextInt(containers(b).size());
                parent = (ObjectNode) containers(b).get(k);
                path = path.substring(2);
                pointer = b.specPointer + "/containers/" + k;
            } else {
                parent = b.spec;
                pointer = b.specPointer;
            }
            String[] steps = path.split("/");
            for (int i = 0; i < steps.length - 1; i++) {
                parent = parent.with(steps[i]);
                pointer += "/" + steps[i];
            }
            parent.put(steps[steps.length - 1], placeholder);
            return pointer + "/" + steps[steps.length - 1];
        }

        // ---------------------------------------------------------------- numbers

        Case numbers() {
            Base b = base(oneOf(KINDS), false);
            String target = oneOf(
                    "container runAsUser",
                    "pod runAsUser",
                    "container runAsGroup",
                    "pod fsGroup",
                    "supplementalGroups");
            String literal = oneOf(
                    "0",
                    "-0",
                    "0.0",
                    "-0.0",
                    "0e0",
                    "0E+0",
                    "1e3",
                    "1000.0",
                    "1000",
                    "00",
                    "01000",
                    "+1",
                    ".5",
                    "0x10",
                    "NaN",
                    "Infinity",
                    "-Infinity",
                    "1e400",
                    "-1e400",
                    "1e-400",
                    "-1",
                    "4294967296",
                    "2147483648",
                    "9223372036854775807",
                    "9223372036854775808",
                    "-9223372036854775809",
                    "99999999999999999999",
                    "1" + "0".repeat(999),
                    "1" + "0".repeat(1500),
                    "0".repeat(5),
                    "1 000",
                    "1_000",
                    "'0'");
            String ph = raw.of(literal);
            ObjectNode psc = (ObjectNode) b.spec.get("securityContext");
            switch (target) {
                case "container runAsUser" -> containerSc(b, 0).put("runAsUser", ph);
                case "pod runAsUser" -> {
                    forEachContainer(b, sc -> sc.remove("runAsUser"));
                    psc.put("runAsUser", ph);
                }
                case "container runAsGroup" -> containerSc(b, 0).put("runAsGroup", ph);
                case "pod fsGroup" -> psc.put("fsGroup", ph);
                default -> psc.putArray("supplementalGroups").add(1000).add(ph);
            }
            String label = target + " = "
                    + (literal.length() > 30
                            ? literal.substring(0, 12) + "...(" + literal.length() + " chars)"
                            : literal);
            Long value = parseJsonLong(literal);
            if (value == null) {
                return reject(label, b);
            }
            if (value == 0L) {
                b.violation = target + " " + literal;
                return same(label, b);
            }
            // Non-zero, possibly negative or beyond 32 bits: a decision, whichever it is.
            return expect(label, b, Expect.DECIDED, Expect.DECIDED);
        }

        /** The value of a JSON integer literal that fits a long, or null when it is not one. */
        Long parseJsonLong(String literal) {
            if (!literal.matches("-?(0|[1-9][0-9]*)")) {
                return null;
            }
            try {
                return Long.parseLong(literal);
            } catch (NumberFormatException e) {
                return null;
            }
        }

        // ---------------------------------------------------------------- object shape

        Case objectShape() {
            Base b = base();
            int mode = r.nextInt(14);
            switch (mode) {
                case 0 -> {
                    String op = oneOf("CREATE", "UPDATE");
                    b.request.put("operation", op);
                    b.request.remove("object");
                    if (op.equals("UPDATE")) {
                        b.request.set("oldObject", b.object);
                    }
                    return reject(op + " without request.object", b);
                }
                case 1 -> {
                    String op = oneOf("CREATE", "UPDATE");
                    b.request.put("operation", op);
                    b.request.putNull("object");
                    if (op.equals("UPDATE")) {
                        b.request.set("oldObject", b.object);
                    }
                    return reject(op + " with request.object null", b);
                }
                case 2 -> {
                    String v = oneOf("\"pod\"", "\"\"", "[]", "[{}]", "0", "true", "\"{}\"");
                    b.request.put("object", raw.of(v));
                    return reject("request.object = " + v, b);
                }
                case 3 -> {
                    // DELETE carries the old object only; there is nothing to admit.
                    b.request.put("operation", "DELETE");
                    b.request.set("oldObject", b.object);
                    b.request.putNull("object");
                    return expect("DELETE with oldObject only", b, Expect.DECIDED, Expect.DECIDED);
                }
                case 4 -> {
                    b.request.put("object", raw.of("{}"));
                    return expect("request.object = {}", b, Expect.ANY, Expect.ANY);
                }
                case 5 -> {
                    String v = oneOf("null", "{}");
                    b.object.put(b.kind.specPath().get(0), raw.of(v));
                    return expect("object " + b.kind.specPath().get(0) + " = " + v, b, Expect.ANY, Expect.ANY);
                }
                case 6 -> {
                    String v = oneOf("[]", "\"x\"", "0", "true");
                    b.object.put(b.kind.specPath().get(0), raw.of(v));
                    return reject("object " + b.kind.specPath().get(0) + " = " + v, b);
                }
                case 7 -> {
                    String v = oneOf("[]", "[null]", "[{}]", "null");
                    b.spec.put("containers", raw.of(v));
                    return expect("containers = " + v, b, Expect.ANY, Expect.ANY);
                }
                case 8 -> {
                    // A null entry next to the real containers changes nothing.
                    containers(b).insertNull(r.nextInt(containers(b).size() + 1));
                    return same("null entry in containers", b);
                }
                case 9 -> {
                    // UPDATE with an unreadable old object: validate must read it, mutate does not.
                    b.request.put("operation", "UPDATE");
                    ObjectNode old = b.object.deepCopy();
                    b.request.set("oldObject", old);
                    Field f = oneOf(FIELDS.stream()
                            .filter(x -> !x.path().startsWith("metadata")
                                    && !x.path().equals("spec"))
                            .toList());
                    String value = oneOf(WRONG.get(f.type()));
                    Base oldBase = new Base();
                    oldBase.kind = b.kind;
                    oldBase.object = old;
                    oldBase.spec = (ObjectNode) old.at(b.specPointer);
                    oldBase.specPointer = b.specPointer;
                    place(oldBase, f, raw.of(value));
                    // Make the new object differ in security, so validate has to compare both.
                    containerSc(b, 0).put("readOnlyRootFilesystem", false);
                    return expect(
                            "UPDATE with oldObject " + f.path() + " = " + value, b, Expect.REJECT, Expect.DECIDED);
                }
                case 10 -> {
                    String v = oneOf("\"old\"", "[]", "0", "true");
                    b.request.put("oldObject", raw.of(v));
                    return reject("request.oldObject = " + v, b);
                }
                case 11 -> {
                    // UPDATE from a compliant old object to the base: decided on the new object.
                    Base old = base(b.kind, false);
                    b.request.put("operation", "UPDATE");
                    old.object.put("metadata", b.object.get("metadata").deepCopy());
                    b.request.set("oldObject", old.object);
                    return expect("UPDATE from a compliant object", b, b.decision(), Expect.DECIDED);
                }
                case 12 -> {
                    // Unknown fields everywhere are ignored.
                    List<ObjectNode> objects = new ArrayList<>();
                    collectObjects(b.review, objects);
                    for (ObjectNode o : objects) {
                        if (chance(0.3)) {
                            o.put("x-unknown-" + r.nextInt(100), oneOf("v", "0"));
                        }
                    }
                    return same("unknown fields", b);
                }
                default -> {
                    // A review that already carries an allowing response: the webhook decides itself.
                    ObjectNode resp =
                            b.review.putObject("response").put("uid", b.uid).put("allowed", true);
                    if (chance(0.5)) {
                        resp.putObject("status").put("code", 200);
                    }
                    return same("pre-filled response allowed: true", b);
                }
            }
        }

        // ---------------------------------------------------------------- kind / resource disagreement

        Case kindMismatch() {
            Base b = base();
            int mode = r.nextInt(13);
            switch (mode) {
                case 0 -> {
                    Kind other = oneOf(KINDS.stream()
                            .filter(k -> !k.kind().equals(b.kind.kind()))
                            .toList());
                    b.object.put("kind", other.kind());
                    if (chance(0.5)) {
                        b.object.put("apiVersion", other.apiVersion());
                    }
                    return reject("object is a " + other.kind(), b);
                }
                case 1 -> {
                    String k = oneOf(
                            "ConfigMap",
                            "Secret",
                            b.kind.kind().toLowerCase(),
                            b.kind.kind().toUpperCase(),
                            b.kind.kind() + " ",
                            "List");
                    b.object.put("kind", k);
                    return reject("object kind \"" + k + "\"", b);
                }
                case 2 -> {
                    String v = oneOf("5", "true", "{}", "[]");
                    b.object.put("kind", raw.of(v));
                    return reject("object kind = " + v, b);
                }
                case 3 -> {
                    String v = oneOf("5", "true", "{}", "[]");
                    b.object.put("apiVersion", raw.of(v));
                    return reject("object apiVersion = " + v, b);
                }
                case 4 -> {
                    // The request says another API group than the object: the group picks the model, so it must agree.
                    String group = oneOf(List.of("apps", "batch", "", "extensions", "example.com").stream()
                            .filter(g -> !g.equals(b.kind.group()))
                            .toList());
                    ((ObjectNode) b.request.get("kind")).put("group", group);
                    return reject("request.kind.group \"" + group + "\" for a " + b.kind.apiVersion() + " object", b);
                }
                case 5 -> {
                    String group = oneOf(List.of("apps", "batch", "", "example.com").stream()
                            .filter(g -> !g.equals(b.kind.group()))
                            .toList());
                    String apiVersion = group.isEmpty() ? "v1" : group + "/v1";
                    b.object.put("apiVersion", apiVersion);
                    return reject(
                            "object apiVersion \"" + apiVersion + "\" for request.kind " + b.kind.apiVersion(), b);
                }
                case 6 -> {
                    // The object omits kind and apiVersion: the request's kind decides.
                    b.object.remove(
                            oneOf(List.of(List.of("kind"), List.of("apiVersion"), List.of("kind", "apiVersion"))));
                    return same("object without kind/apiVersion", b);
                }
                case 7 -> {
                    ObjectNode res = (ObjectNode) b.request.get("resource");
                    String v = oneOf("configmaps", "secrets", "pods", "deployments", "namespaces", "");
                    res.put("resource", v);
                    if (chance(0.5)) {
                        res.put("group", oneOf("", "apps", "batch", "rbac.authorization.k8s.io"));
                    }
                    return same("request.resource " + res, b);
                }
                case 8 -> {
                    String v = oneOf("5", "\"pods\"", "[]", "null");
                    b.request.put("resource", raw.of(v));
                    return same("request.resource = " + v, b);
                }
                case 9 -> {
                    b.request
                            .putObject("requestKind")
                            .put("group", "")
                            .put("version", "v1")
                            .put("kind", "ConfigMap");
                    b.request
                            .putObject("requestResource")
                            .put("group", "")
                            .put("version", "v1")
                            .put("resource", "configmaps");
                    return same("requestKind/requestResource of a ConfigMap", b);
                }
                case 10 -> {
                    // Request and object agree on a kind rootguard does not check: allowed is correct.
                    String k = oneOf("ConfigMap", "PodX", b.kind.kind().toLowerCase());
                    ((ObjectNode) b.request.get("kind")).put("kind", k);
                    b.object.put("kind", k);
                    return expect("request and object kind \"" + k + "\"", b, Expect.ANY, Expect.ANY);
                }
                case 11 -> {
                    b.request.put("subResource", "ephemeralcontainers");
                    boolean pod = b.kind.kind().equals("Pod");
                    return expect(
                            "subResource ephemeralcontainers", b, pod ? b.decision() : Expect.DECIDED, Expect.DECIDED);
                }
                default -> {
                    String v = oneOf("status", "scale", "binding", "eviction");
                    b.request.put("subResource", v);
                    return expect("subResource " + v, b, Expect.DECIDED, Expect.DECIDED);
                }
            }
        }

        // ---------------------------------------------------------------- envelope

        Case envelope() {
            Base b = base();
            int mode = r.nextInt(16);
            switch (mode) {
                case 0 -> {
                    String v = oneOf(
                            "\"admission.k8s.io/v1beta1\"",
                            "\"admission.k8s.io/v2\"",
                            "\"\"",
                            "\"v1\"",
                            "1",
                            "null",
                            "\"ADMISSION.K8S.IO/V1\"",
                            "\"admission.k8s.io/v1 \"",
                            "[\"admission.k8s.io/v1\"]");
                    b.review.put("apiVersion", raw.of(v));
                    return reject("review apiVersion = " + v, b);
                }
                case 1 -> {
                    b.review.remove(oneOf("apiVersion", "kind"));
                    return reject("review without apiVersion or kind", b);
                }
                case 2 -> {
                    String v = oneOf("\"AdmissionReviewX\"", "\"admissionreview\"", "\"Pod\"", "5", "null", "{}");
                    b.review.put("kind", raw.of(v));
                    return reject("review kind = " + v, b);
                }
                case 3 -> {
                    String v = oneOf("null", "\"x\"", "[]", "5", "true", "[{}]");
                    b.review.put("request", raw.of(v));
                    return reject("request = " + v, b);
                }
                case 4 -> {
                    if (chance(0.3)) {
                        b.request.remove("uid");
                        return reject("no uid", b);
                    }
                    String v = oneOf("null", "\"\"", "\" \"", "5", "true", "{}", "[]", "[\"x\"]");
                    b.request.put("uid", raw.of(v));
                    return reject("uid = " + v, b);
                }
                case 5 -> {
                    // Odd but readable uids come back unchanged.
                    b.uid = oneOf(
                            "\u0000",
                            "x\u2028y",
                            "\ud83d\ude00",
                            "'; DROP TABLE",
                            "<script>",
                            "a\"b\\c",
                            "\u202e",
                            "\ufeffid");
                    b.request.put("uid", b.uid);
                    return same("uid " + JSON.getNodeFactory().textNode(b.uid), b);
                }
                case 6 -> {
                    String v = oneOf("null", "\"Pod\"", "[]", "5");
                    b.request.put("kind", raw.of(v));
                    return reject("request.kind = " + v, b);
                }
                case 7 -> {
                    ObjectNode k = (ObjectNode) b.request.get("kind");
                    String field = oneOf("kind", "group");
                    String v = field.equals("kind") ? oneOf("null", "\"\"", "5", "{}") : oneOf("5", "true", "{}", "[]");
                    k.put(field, raw.of(v));
                    return reject("request.kind." + field + " = " + v, b);
                }
                case 8 -> {
                    if (chance(0.3)) {
                        b.request.remove("operation");
                        return reject("no operation", b);
                    }
                    String v = oneOf("null", "\"\"", "5", "[\"CREATE\"]", "{}");
                    b.request.put("operation", raw.of(v));
                    return reject("operation = " + v, b);
                }
                case 9 -> {
                    String op = oneOf("create", "Create", "CONNECT", "PATCH", "X");
                    b.request.put("operation", op);
                    // Validate still evaluates the object; mutate only defaults CREATE.
                    return expect(
                            "operation " + op, b, op.equals("CONNECT") ? Expect.DECIDED : b.decision(), Expect.DECIDED);
                }
                case 10 -> {
                    String v = oneOf("\"true\"", "1", "0", "{}", "[]", "\"false\"");
                    b.request.put("dryRun", raw.of(v));
                    return reject("dryRun = " + v, b);
                }
                case 11 -> {
                    b.request.put("dryRun", true);
                    return same("dryRun true", b);
                }
                case 12 -> {
                    String v = oneOf(
                            "\"alice\"", "[]", "5", "null", "{\"username\":null}", "{\"groups\":\"system:masters\"}");
                    b.request.put("userInfo", raw.of(v));
                    return same("userInfo = " + v, b);
                }
                case 13 -> {
                    String v = oneOf("5", "true", "{}", "[\"alice\"]");
                    ((ObjectNode) b.request.get("userInfo")).put("username", raw.of(v));
                    return reject("userInfo.username = " + v, b);
                }
                case 14 -> {
                    String field = oneOf("namespace", "name", "subResource");
                    String v = oneOf("5", "true", "{}", "[]");
                    b.request.put(field, raw.of(v));
                    return reject("request." + field + " = " + v, b);
                }
                default -> {
                    // Extra and unknown envelope fields are ignored.
                    b.review.put("x-extra", "1");
                    b.request.putObject("x-extra").put("allowed", true);
                    b.request.put("options", raw.of(oneOf("null", "\"x\"", "[]", "5")));
                    return same("unknown envelope fields", b);
                }
            }
        }

        // ---------------------------------------------------------------- encoding

        Case encoding() {
            Base b = base();
            int mode = r.nextInt(14);
            switch (mode) {
                case 0 -> {
                    // A key spelled with \\u escapes is the same key: a forbidden value stays forbidden.
                    escapeSecurityKeys(b);
                    return same("security keys spelled with \\u escapes", b);
                }
                case 1 -> {
                    // The plain key and an escaped spelling of it: a duplicate.
                    ObjectNode sc = containerSc(b, 0);
                    String key = oneOf("runAsUser", "privileged", "runAsNonRoot");
                    String v1 = key.equals("runAsUser") ? "1000" : "false";
                    String v2 = key.equals("runAsUser") ? "0" : "true";
                    boolean flip = chance(0.5);
                    sc.put(key, raw.of((flip ? v2 : v1) + "," + escapeOneChar(key) + ":" + (flip ? v1 : v2)));
                    return reject("\"" + key + "\" and an escaped spelling of it", b);
                }
                case 2 -> {
                    byte[] bad = oneOf(
                            new byte[] {(byte) 0xFF},
                            new byte[] {(byte) 0xC3, 0x28},
                            new byte[] {(byte) 0x80},
                            new byte[] {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80},
                            new byte[] {(byte) 0xFE},
                            new byte[] {(byte) 0xE2, (byte) 0x28, (byte) 0xA1},
                            new byte[] {(byte) 0xF0, (byte) 0x28, (byte) 0x8C, (byte) 0xBC});
                    String where = placeInString(
                            b,
                            concat(
                                    "\"ap".getBytes(StandardCharsets.UTF_8),
                                    bad,
                                    "p\"".getBytes(StandardCharsets.UTF_8)),
                            true);
                    return reject("invalid UTF-8 " + hex(bad) + " in " + where, b);
                }
                case 3 -> {
                    // Encodings a strict decoder may or may not take: a lone surrogate or an overlong form.
                    byte[] odd = oneOf(
                            new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                            new byte[] {(byte) 0xC0, (byte) 0xAF},
                            new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},
                            new byte[] {(byte) 0xC0, (byte) 0x80});
                    String where = placeInString(
                            b,
                            concat(
                                    "\"ap".getBytes(StandardCharsets.UTF_8),
                                    odd,
                                    "p\"".getBytes(StandardCharsets.UTF_8)),
                            false);
                    return safe("odd UTF-8 " + hex(odd) + " in " + where, b);
                }
                case 4 -> {
                    byte[] body = concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, raw.render(b.review));
                    return safe("UTF-8 byte order mark", b, body);
                }
                case 5 -> {
                    Charset cs = oneOf(
                            StandardCharsets.UTF_16BE,
                            StandardCharsets.UTF_16LE,
                            StandardCharsets.UTF_16,
                            Charset.forName("UTF-32BE"),
                            Charset.forName("UTF-32LE"));
                    byte[] body = new String(raw.render(b.review), StandardCharsets.UTF_8).getBytes(cs);
                    return safe("body in " + cs.name(), b, body);
                }
                case 6 -> {
                    // Raw control characters are not allowed inside strings.
                    byte ctl = oneOf((byte) 0, (byte) 1, (byte) '\n', (byte) '\t', (byte) 0x1F, (byte) '\r');
                    String where = placeInString(b, new byte[] {'"', 'a', ctl, 'b', '"'}, true);
                    return reject("raw control char " + ctl + " in " + where, b);
                }
                case 7 -> {
                    // A NUL byte between tokens.
                    byte[] body = raw.render(b.review);
                    int at = indexOf(body, (byte) ',');
                    body = concat(
                            Arrays.copyOf(body, at + 1), new byte[] {0}, Arrays.copyOfRange(body, at + 1, body.length));
                    return reject("NUL between tokens", b.uid, body);
                }
                case 8 -> {
                    // Escaped NUL, line separators, lone surrogates and right-to-left marks are just text.
                    String name = oneOf(
                            "a\\u0000b", "\\ud800", "\\udfff", "x\\u2028y", "\\u202eevil", "\\ud83d\\ude00", "\\u0000");
                    ((ObjectNode) containers(b).get(0)).put("name", raw.of("\"" + name + "\""));
                    return same("container name \"" + name + "\"", b);
                }
                case 9 -> {
                    // Escaped forms of values mean the same value.
                    ObjectNode sc = containerSc(b, 0);
                    if (b.forbidden()
                            && sc.has("capabilities")
                            && sc.get("capabilities").has("add")) {
                        ((ObjectNode) sc.get("capabilities")).put("add", raw.of("[\"\\u0053YS_ADMIN\"]"));
                        b.violation = "escaped SYS_ADMIN";
                        return same("capability \\u0053YS_ADMIN", b);
                    }
                    ((ObjectNode) containers(b).get(0)).put("image", raw.of("\"\\u006eginx:1.27\""));
                    return same("escaped image", b);
                }
                case 10 -> {
                    // Whitespace of every legal kind between tokens.
                    byte[] body = pretty(b.review);
                    String ws = new String(body, StandardCharsets.UTF_8).replace("  ", oneOf("\t", "\r\n", " \n\t\r "));
                    return same("unusual whitespace", b, ws.getBytes(StandardCharsets.UTF_8));
                }
                case 11 -> {
                    // Non-JSON whitespace and comments.
                    String junk = oneOf("\u00a0", "\u2028", "/* c */", "// c\n", "#c\n", "\u000b", "\u000c");
                    byte[] body = raw.render(b.review);
                    int at = indexOf(body, (byte) ',');
                    body = concat(
                            Arrays.copyOf(body, at + 1),
                            junk.getBytes(StandardCharsets.UTF_8),
                            Arrays.copyOfRange(body, at + 1, body.length));
                    return reject("non-JSON " + JSON.getNodeFactory().textNode(junk) + " between tokens", b.uid, body);
                }
                case 12 -> {
                    // Trailing content after the document.
                    String tail = oneOf("x", "{}", "]", "}", ",", "\u0000", "{\"request\":{}}");
                    byte[] body = concat(raw.render(b.review), tail.getBytes(StandardCharsets.UTF_8));
                    return reject("trailing " + JSON.getNodeFactory().textNode(tail), b.uid, body);
                }
                default -> {
                    // Single quotes and unquoted keys are not JSON.
                    byte[] body = new String(raw.render(b.review), StandardCharsets.UTF_8)
                            .replaceFirst(chance(0.5) ? "\"uid\"" : "\"operation\"", chance(0.5) ? "'uid'" : "uid")
                            .getBytes(StandardCharsets.UTF_8);
                    return reject("non-JSON quoting", b.uid, body);
                }
            }
        }

        Case reject(String label, String uid, byte[] body) {
            return new Case(
                    index, category, label, body, "application/json", 400, uid, Expect.REJECT, Expect.REJECT, 0, false);
        }

        void escapeSecurityKeys(Base b) {
            List<ObjectNode> scs = new ArrayList<>();
            scs.add((ObjectNode) b.spec.get("securityContext"));
            forEachContainer(b, scs::add);
            for (ObjectNode sc : scs) {
                List<String> keys = new ArrayList<>();
                sc.fieldNames().forEachRemaining(keys::add);
                ObjectNode copy = JSON.createObjectNode();
                for (String k : keys) {
                    copy.set(raw.of(escapeOneChar(k)), sc.get(k));
                }
                replaceContents(sc, copy);
            }
        }

        /** Puts a raw JSON string (quotes included) as a container name, image, annotation or label. */
        String placeInString(Base b, byte[] rawString, boolean uidToo) {
            String where = uidToo
                    ? oneOf("container name", "image", "annotation", "uid")
                    : oneOf("container name", "image", "annotation");
            String ph = raw.of(rawString);
            switch (where) {
                case "container name" -> ((ObjectNode) containers(b).get(0)).put("name", ph);
                case "image" -> ((ObjectNode) containers(b).get(0)).put("image", ph);
                case "annotation" ->
                    b.object.with("metadata").with("annotations").put("note", ph);
                default -> {
                    b.request.put("uid", ph);
                    b.uid = null;
                }
            }
            return where;
        }

        // ---------------------------------------------------------------- content type

        Case contentType() {
            Base b = base();
            byte[] body = raw.render(b.review);
            if (chance(0.6)) {
                String type = oneOf(
                        null,
                        "text/plain",
                        "application/x-www-form-urlencoded",
                        "application/jsonp",
                        "application/json-patch+json",
                        "application/yaml",
                        "json",
                        "*/*",
                        "application/*",
                        "multipart/form-data; boundary=x",
                        "application/jsonx",
                        "application/merge-patch+json",
                        "text/json");
                return new Case(
                        index,
                        category,
                        "Content-Type " + type,
                        body,
                        type,
                        415,
                        b.uid,
                        Expect.REJECT,
                        Expect.REJECT,
                        0,
                        false);
            }
            String type = oneOf(
                    "application/json; charset=utf-8",
                    "APPLICATION/JSON",
                    "Application/Json;charset=UTF-8",
                    "application/json;foo=bar",
                    "application/json ; charset=utf-8");
            return new Case(
                    index,
                    category,
                    b.label() + "; Content-Type " + type,
                    body,
                    type,
                    400,
                    b.uid,
                    b.decision(),
                    Expect.DECIDED,
                    0,
                    false);
        }
    }

    // ---------------------------------------------------------------- helpers

    static String quote(String s) {
        return JSON.getNodeFactory().textNode(s).toString();
    }

    static String text(JsonNode n) {
        return n == null ? "null" : n.toString();
    }

    /** The key as a JSON string with one character written as a unicode escape: {@code "runAsUs\u0065r"}. */
    static String escapeOneChar(String key) {
        if (key.isEmpty()) {
            return "\"\"";
        }
        int i = Math.max(0, key.length() - 2);
        String inner = quote(key);
        inner = inner.substring(1, inner.length() - 1);
        if (inner.length() != key.length()) {
            return quote(key);
        }
        return "\"" + inner.substring(0, i) + String.format("\\u%04x", (int) key.charAt(i)) + inner.substring(i + 1)
                + "\"";
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    static int indexOf(byte[] b, byte v) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02X", x & 0xFF));
        }
        return s.toString();
    }

    /**
     * Prefix lengths of a JSON text grouped by where the cut falls: inside a key, a string value, a number
     * or a literal, after each kind of punctuation, inside a multi-byte character, and the edge cases.
     */
    static Map<String, List<Integer>> cutClasses(byte[] json) {
        Map<String, List<Integer>> out = new LinkedHashMap<>();
        Function<String, List<Integer>> list = k -> out.computeIfAbsent(k, x -> new ArrayList<>());
        list.apply("empty").add(0);
        list.apply("first byte").add(1);
        list.apply("last byte missing").add(json.length - 1);
        boolean inString = false;
        boolean escaped = false;
        boolean isKey = false;
        ArrayList<Boolean> inObject = new ArrayList<>();
        boolean expectKey = false;
        for (int p = 1; p < json.length; p++) {
            byte c = json[p - 1];
            if (inString) {
                if (escaped) {
                    escaped = false;
                } else if (c == '\\') {
                    escaped = true;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
                isKey = expectKey;
                expectKey = false;
            } else if (c == '{') {
                inObject.add(true);
                expectKey = true;
            } else if (c == '[') {
                inObject.add(false);
            } else if (c == '}' || c == ']') {
                if (!inObject.isEmpty()) {
                    inObject.remove(inObject.size() - 1);
                }
            } else if (c == ',') {
                expectKey = !inObject.isEmpty() && inObject.get(inObject.size() - 1);
            }
            String cls;
            if ((json[p] & 0xC0) == 0x80) {
                cls = "inside a multi-byte character";
            } else if (inString) {
                cls = escaped ? "inside an escape" : isKey ? "inside a key" : "inside a string value";
            } else if (c == '"') {
                cls = "after a closing quote";
            } else {
                cls = switch (c) {
                    case ':' -> "after a colon";
                    case ',' -> "after a comma";
                    case '{' -> "after an opening brace";
                    case '[' -> "after an opening bracket";
                    case '}', ']' -> "after a closing bracket";
                    case ' ', '\n', '\t', '\r' -> "after whitespace";
                    default ->
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == 'e' && json[p] >= '0' && json[p] <= '9'
                                ? "inside a number"
                                : "inside a literal";
                };
            }
            list.apply(cls).add(p);
        }
        return out;
    }

    /** For error messages: a short, printable excerpt of a body. */
    static String excerpt(byte[] body) {
        if (body == null) {
            return "(not materialised)";
        }
        String s = new String(body, 0, Math.min(body.length, 300), StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder();
        for (Iterator<Integer> it = s.codePoints().iterator(); it.hasNext(); ) {
            int cp = it.next();
            out.append(cp < 0x20 || cp == 0xFFFD ? String.format("\\x%02x", cp) : new String(Character.toChars(cp)));
        }
        return out + (body.length > 300 ? "...(" + body.length + " bytes)" : "");
    }
}
