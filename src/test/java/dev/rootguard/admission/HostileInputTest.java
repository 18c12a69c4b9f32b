package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.admission.HostileBodies.Case;
import dev.rootguard.admission.HostileBodies.Expect;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.zjsonpatch.JsonPatch;
import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * Hostile input over real HTTPS: a seeded stream of malformed and adversarial bodies
 * ({@link HostileBodies}) goes to {@code /validate} and {@code /mutate} over a few keep-alive
 * connections, and every answer is checked:
 * <ul>
 * <li>a 4xx is 400, 413 or 415 as expected, with a JSON {@code {code, message}} body that names no
 * Java class and carries no stack trace;</li>
 * <li>a 200 is a well-formed {@code admission.k8s.io/v1} AdmissionReview with the request's uid, never an
 * internal-error denial, and from {@code /mutate} an allow whose patch applies to the submitted object;</li>
 * <li>a body that cannot be read is never answered with an allow from {@code /validate}, and a forbidden pod
 * that can be read is denied;</li>
 * <li>a body read as far as the request's uid is answered inside a review, never with a 400: an unreadable
 * one is denied with code 400 by {@code /validate} and allowed unpatched by {@code /mutate};</li>
 * <li>no 5xx, and no answer later than the client timeout.</li>
 * </ul>
 * Afterwards the webhook must still be ready and the heap back near where it started.
 *
 * <p>{@code -Dfuzz.cases=N} (default 5000 bodies, each sent to both endpoints), {@code -Dfuzz.seed=S} to
 * replay a run, {@code -Dfuzz.case=I} to replay one case, {@code -Dfuzz.threads=T} connections (default 4).
 * The {@code fuzz-long} Maven profile runs 200,000.
 */
@QuarkusTest
@WithTestResource(TestTls.class)
class HostileInputTest {
    /** Java class names, stack frames and parser internals that must never reach a client. */
    private static final Pattern LEAK =
            Pattern.compile("Exception|Error:|\\bat [a-z]+\\.|\\$[A-Z]|com\\.fasterxml|io\\.fabric8"
                    + "|io\\.vertx|io\\.quarkus|io\\.smallrye|org\\.jboss|jakarta\\.|java\\.[a-z]+|dev\\.rootguard|StreamReadConstraints"
                    + "|StreamWriteConstraints|CoercionConfig|MapperFeature|DeserializationFeature|JsonParser|JsonNode"
                    + "|\\b[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+\\.[A-Z][A-Za-z0-9_$]*");
    /** Reads answers strictly: a duplicate key in an answer is as wrong as one in a request. */
    private static final ObjectMapper STRICT = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxStringLength(Integer.MAX_VALUE)
                            .build())
                    .build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private static final int MAX_FAILURES_SHOWN = Integer.getInteger("fuzz.show", 25);

    private final WebhookClient client = WebhookClient.forDefaultCertificate();

    @Test
    void hostileBodiesNeverCrashOrBypassAndTheServerStaysHealthy() throws Exception {
        long seed = Long.getLong("fuzz.seed", new SecureRandom().nextLong());
        int cases = Integer.getInteger("fuzz.cases", 5000);
        int threads = Integer.getInteger("fuzz.threads", 4);
        Integer only = Integer.getInteger("fuzz.case");
        long maxBody = ConfigProvider.getConfig()
                .getValue("quarkus.http.limits.max-body-size", MemorySize.class)
                .asLongValue();
        HostileBodies bodies = new HostileBodies(seed, maxBody);
        System.out.printf(
                "hostile input: seed %d, %s, %d connections, body limit %d bytes (replay: -Dfuzz.seed=%d)%n",
                seed, only == null ? cases + " cases" : "case " + only, threads, maxBody, seed);

        Fuzz fuzz = new Fuzz();
        // Warm up with readable pods (checked too), so that the heap baseline includes what the first requests load
        // once.
        for (int i = 0; i < 50; i++) {
            fuzz.run(bodies.wellFormedPod(i), false);
        }
        long heapBefore = usedHeapAfterGc();
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicInteger next = new AtomicInteger(only == null ? 0 : only);
        int end = only == null ? cases : only + 1;
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(pool.submit(() -> {
                for (int i = next.getAndIncrement(); i < end; i = next.getAndIncrement()) {
                    fuzz.run(bodies.generate(i), true);
                }
                return null;
            }));
        }
        for (var w : workers) {
            w.get();
        }
        pool.shutdown();
        assertTrue(pool.awaitTermination(1, TimeUnit.MINUTES));
        double seconds = (System.nanoTime() - start) / 1e9;
        long heapAfter = usedHeapAfterGc();

        HttpResponse<String> ready = WebhookClient.management("/q/health/ready");
        System.out.print(fuzz.report(seconds, heapBefore, heapAfter));
        assertEquals(0, fuzz.failures.sum(), () -> fuzz.failureReport(seed));
        assertEquals(200, ready.statusCode(), "not ready after the run: " + ready.body());
        assertTrue(ready.body().replace(" ", "").contains("\"status\":\"UP\""), ready.body());
        assertTrue(
                heapAfter - heapBefore < 128L * 1024 * 1024,
                () -> "heap grew from " + mb(heapBefore) + " to " + mb(heapAfter) + " over the run");
        if (only == null) {
            for (String category : HostileBodies.categories()) {
                assertTrue(fuzz.perCategory.containsKey(category), "no case of " + category);
            }
        }
    }

    /** Keys duplicated at every level of a real review, including inside securityContext, are refused by both endpoints. */
    @Test
    void aDuplicateKeyAnywhereIsRefusedNeverResolvedToOneOfItsValues() {
        ObjectNode review = Reviews.recorded("pod-create-root");
        ((ObjectNode) review.at("/request/object/spec/securityContext"))
                .put("runAsUser", 1000)
                .put("runAsNonRoot", true);
        List<String> pointers = new ArrayList<>();
        collectFieldPointers(review, "", pointers);
        assertTrue(pointers.size() > 50, "too few keys to make the point: " + pointers.size());
        for (String pointer : pointers) {
            for (boolean zeroFirst : new boolean[] {true, false}) {
                byte[] body = duplicated(review, pointer, zeroFirst);
                for (String path : List.of("/validate", "/mutate")) {
                    HttpResponse<String> r = client.post(path, "application/json", body);
                    assertEquals(400, r.statusCode(), () -> path + " took duplicate " + pointer + ": " + r.body());
                    assertTrue(r.body().contains("Duplicate field"), () -> path + ": " + r.body());
                }
            }
        }
        // And the same for the decisive field, written as two spellings of one key.
        String plain = review.toString().replace("\"runAsUser\":0", "\"runAsUser\":0,\"runAsUs\\u0065r\":1000");
        assertTrue(plain.contains("runAsUs\\u0065r"));
        for (String path : List.of("/validate", "/mutate")) {
            assertEquals(
                    400,
                    client.post(path, "application/json", plain.getBytes(StandardCharsets.UTF_8))
                            .statusCode());
        }
    }

    /**
     * The decoder reads the body once and binds the typed object on the way: for many generated objects,
     * every security field of the typed model equals the value an independent parser reads from the bytes.
     */
    @Test
    void theTypedObjectHoldsWhatAnIndependentParserReadsFromTheBytes() throws Exception {
        HostileBodies bodies = new HostileBodies(42, 8 * 1024 * 1024);
        ObjectMapper independent = new ObjectMapper();
        int compared = 0;
        int zeros = 0;
        for (int i = 0; i < 500; i++) {
            Case c = bodies.wellFormedPod(i);
            AdmissionCall call = AdmissionDecoder.decode(c.body());
            Pod pod = call.object().bind(Pod.class, "request.object");
            JsonNode tree = independent.readTree(c.body()).path("request").path("object");
            PodSecurityContext psc = pod.getSpec().getSecurityContext();
            JsonNode treePsc = tree.path("spec").path("securityContext");
            assertSame(treePsc, "runAsUser", psc == null ? null : psc.getRunAsUser(), i);
            assertSame(treePsc, "runAsGroup", psc == null ? null : psc.getRunAsGroup(), i);
            assertSame(treePsc, "fsGroup", psc == null ? null : psc.getFsGroup(), i);
            assertSame(treePsc, "runAsNonRoot", psc == null ? null : psc.getRunAsNonRoot(), i);
            List<Container> containers = pod.getSpec().getContainers();
            for (int k = 0; containers != null && k < containers.size(); k++) {
                if (containers.get(k) == null) {
                    continue;
                }
                SecurityContext sc = containers.get(k).getSecurityContext();
                JsonNode treeSc = tree.path("spec").path("containers").path(k).path("securityContext");
                assertSame(treeSc, "runAsUser", sc == null ? null : sc.getRunAsUser(), i);
                zeros += sc != null && Long.valueOf(0).equals(sc.getRunAsUser()) ? 1 : 0;
                assertSame(treeSc, "runAsGroup", sc == null ? null : sc.getRunAsGroup(), i);
                assertSame(treeSc, "privileged", sc == null ? null : sc.getPrivileged(), i);
                assertSame(treeSc, "runAsNonRoot", sc == null ? null : sc.getRunAsNonRoot(), i);
                assertSame(treeSc, "allowPrivilegeEscalation", sc == null ? null : sc.getAllowPrivilegeEscalation(), i);
                JsonNode add = treeSc.path("capabilities").path("add");
                List<String> typedAdd = sc == null || sc.getCapabilities() == null
                        ? null
                        : sc.getCapabilities().getAdd();
                if (add.isArray()) {
                    assertEquals(independent.convertValue(add, List.class), typedAdd, "capabilities.add in case " + i);
                } else {
                    assertTrue(
                            typedAdd == null || typedAdd.isEmpty(),
                            "capabilities.add appeared from nowhere in case " + i);
                }
            }
            compared++;
        }
        assertEquals(500, compared);
        assertTrue(zeros > 20, "too few root containers among the compared pods: " + zeros);

        // What the lenient default parser would coerce or resolve, the decoder refuses.
        String review = Reviews.recorded("pod-create-root").toString();
        for (String variant : List.of(
                review.replace("\"runAsUser\":0", "\"runAsUser\":\"0\""),
                review.replace("\"runAsUser\":0", "\"runAsUser\":0.0"),
                review.replace("\"runAsUser\":0", "\"runAsUser\":1000,\"runAsUser\":0"),
                review.replace("\"runAsUser\":0", "\"runAsUser\":0,\"privileged\":\"false\""),
                review.replace("\"image\":\"nginx:1.27\"", "\"image\":5"),
                review + "{\"apiVersion\":\"admission.k8s.io/v1\"}")) {
            assertNotNull(independent.readTree(variant), "the default parser reads it");
            BadRequestException e = assertThrows(
                    BadRequestException.class,
                    () -> {
                        AdmissionCall call = AdmissionDecoder.decode(variant.getBytes(StandardCharsets.UTF_8));
                        call.object().bind(Pod.class, "request.object");
                    },
                    variant);
            assertEquals(400, e.status());
        }
    }

    private static void assertSame(JsonNode parent, String field, Object typed, int i) {
        JsonNode n = parent.get(field);
        Object fromTree =
                n == null || n.isNull() ? null : n.isBoolean() ? (Object) n.booleanValue() : (Object) n.longValue();
        if (n != null && n.isNumber()) {
            assertTrue(n.canConvertToLong() && n.isIntegralNumber(), field + " in case " + i);
        }
        assertEquals(fromTree, typed, field + " differs between the tree and the typed object in case " + i);
    }

    private static void collectFieldPointers(JsonNode n, String at, List<String> out) {
        if (n.isObject()) {
            n.fields().forEachRemaining(e -> {
                String p = at + "/" + e.getKey();
                out.add(p);
                collectFieldPointers(e.getValue(), p, out);
            });
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                collectFieldPointers(n.get(i), at + "/" + i, out);
            }
        }
    }

    /** The review with the field at {@code pointer} written twice: once as is, once with a conflicting value. */
    private static byte[] duplicated(ObjectNode review, String pointer, boolean originalFirst) {
        ObjectNode copy = review.deepCopy();
        int slash = pointer.lastIndexOf('/');
        ObjectNode parent = (ObjectNode) copy.at(pointer.substring(0, slash));
        String key = pointer.substring(slash + 1);
        JsonNode value = parent.get(key);
        String other = value.isNumber()
                ? (value.asLong() == 0 ? "1000" : "0")
                : value.isBoolean()
                        ? String.valueOf(!value.asBoolean())
                        : value.isTextual()
                                ? HostileBodies.quote(value.asText() + "x")
                                : value.isNull() ? "{}" : "null";
        String marker = "@@RAW0@@";
        parent.put(key, marker);
        String pair = originalFirst
                ? value + "," + HostileBodies.quote(key) + ":" + other
                : other + "," + HostileBodies.quote(key) + ":" + value;
        return copy.toString().replace("\"" + marker + "\"", pair).getBytes(StandardCharsets.UTF_8);
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }

    private static String mb(long bytes) {
        return String.format("%.1f MB", bytes / 1048576.0);
    }

    /** Sends cases, checks answers, counts outcomes. */
    private static final class Fuzz {
        final HttpClient http;
        final String base;
        final int port;
        final LongAdder failures = new LongAdder();
        final ConcurrentLinkedQueue<String> shown = new ConcurrentLinkedQueue<>();
        final Map<String, Map<String, LongAdder>> perCategory = new ConcurrentHashMap<>();
        final LongAdder requests = new LongAdder();
        final LongAdder bytes = new LongAdder();
        final Map<String, LongAdder> nanos = new ConcurrentHashMap<>();

        Fuzz() {
            this.port = ConfigProvider.getConfig()
                    .getOptionalValue("quarkus.http.test-ssl-port", Integer.class)
                    .orElse(8444);
            this.base = "https://localhost:" + port;
            this.http = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .sslContext(WebhookClient.trusting(TestTls.certFile(TestTls.DIR)))
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();
        }

        /** Sends a case to both endpoints; {@code stats} says whether it counts in the per-category report. */
        void run(Case c, boolean stats) {
            for (String path : List.of("/validate", "/mutate")) {
                String outcome;
                long t0 = System.nanoTime();
                try {
                    outcome = c.oversize() > 0 ? sendOversize(c, path) : send(c, path);
                } catch (AssertionError e) {
                    outcome = "FAILED";
                    failures.increment();
                    if (shown.size() < MAX_FAILURES_SHOWN) {
                        shown.add("case " + c.index() + " [" + c.category() + "] " + c.label() + "\n    " + path + ": "
                                + e.getMessage() + "\n    body: " + HostileBodies.excerpt(c.body()));
                    }
                }
                if (stats) {
                    nanos.computeIfAbsent(c.category(), k -> new LongAdder()).add(System.nanoTime() - t0);
                    requests.increment();
                    bytes.add(c.size());
                    perCategory
                            .computeIfAbsent(c.category(), k -> new ConcurrentHashMap<>())
                            .computeIfAbsent(path.substring(1) + " " + outcome, k -> new LongAdder())
                            .increment();
                    perCategory
                            .get(c.category())
                            .computeIfAbsent(" cases", k -> new LongAdder())
                            .add(path.equals("/validate") ? 1 : 0);
                }
            }
        }

        String send(Case c, String path) {
            Duration timeout = Duration.ofSeconds(c.size() > 1_000_000 ? 60 : 20);
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                    .timeout(timeout)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(c.body()));
            if (c.contentType() != null) {
                b.header("Content-Type", c.contentType());
            }
            HttpResponse<byte[]> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (HttpTimeoutException e) {
                throw new AssertionError("no answer within " + timeout.toSeconds() + "s");
            } catch (IOException e) {
                throw new AssertionError("connection failed: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
            return check(c, path, r.statusCode(), r.body());
        }

        /** Bodies over the limit go over a raw TLS socket, because the server answers (and closes) before reading them. */
        String sendOversize(Case c, String path) {
            SSLSocketFactory f =
                    WebhookClient.trusting(TestTls.certFile(TestTls.DIR)).getSocketFactory();
            try (SSLSocket s = (SSLSocket) f.createSocket("localhost", port)) {
                s.setSoTimeout(30_000);
                OutputStream out = s.getOutputStream();
                String head = "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + (c.chunked() ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + c.oversize() + "\r\n")
                        + "\r\n";
                out.write(head.getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Thread writer = new Thread(() -> writeBody(out, c));
                writer.setDaemon(true);
                writer.start();
                InputStream in = new BufferedInputStream(s.getInputStream());
                String status = line(in);
                int contentLength = 0;
                for (String h = line(in); !h.isEmpty(); h = line(in)) {
                    if (h.toLowerCase().startsWith("content-length:")) {
                        contentLength = Integer.parseInt(h.substring(15).trim());
                    }
                }
                byte[] body = in.readNBytes(contentLength);
                String[] parts = status.split(" ");
                if (parts.length < 2 || !parts[0].startsWith("HTTP/1.1")) {
                    throw new AssertionError("not an HTTP answer: " + status);
                }
                return check(c, path, Integer.parseInt(parts[1]), body);
            } catch (IOException e) {
                throw new AssertionError("connection failed before an answer: " + e);
            }
        }

        private static void writeBody(OutputStream out, Case c) {
            if (c.body() != null) {
                try {
                    out.write(c.body());
                    out.flush();
                } catch (IOException e) {
                    // As below: the server may have answered and closed already.
                }
                return;
            }
            byte[] chunk = new byte[64 * 1024];
            Arrays.fill(chunk, (byte) 'a');
            chunk[0] = '{';
            try {
                long sent = 0;
                while (sent < c.oversize()) {
                    int n = (int) Math.min(chunk.length, c.oversize() - sent);
                    if (c.chunked()) {
                        out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write(chunk, 0, n);
                    if (c.chunked()) {
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    sent += n;
                    chunk[0] = 'a';
                }
                if (c.chunked()) {
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                out.flush();
            } catch (IOException e) {
                // The server may close the connection once it has answered; that is the point.
            }
        }

        private static String line(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int ch = in.read(); ch != '\n'; ch = in.read()) {
                if (ch < 0) {
                    throw new IOException("connection closed after \"" + b + "\"");
                }
                if (ch != '\r') {
                    b.write(ch);
                }
            }
            return b.toString(StandardCharsets.US_ASCII);
        }

        /** The oracle. Returns a short outcome name for the report; throws AssertionError on a wrong answer. */
        String check(Case c, String path, int status, byte[] body) {
            boolean validate = path.equals("/validate");
            Expect expect = validate ? c.validate() : c.mutate();
            if (status >= 500) {
                throw new AssertionError("HTTP " + status + ": " + excerpt(body));
            }
            // A body the decoder reads as far as the request's uid is answered inside a review, never with a 400.
            String reviewUid = c.status() == 400 ? reviewUid(c.body()) : null;
            if (status != 200) {
                if (status != 400 && status != 413 && status != 415) {
                    throw new AssertionError("unexpected HTTP " + status + ": " + excerpt(body));
                }
                checkError(status, body);
                if (status == 400 && reviewUid != null) {
                    throw new AssertionError("HTTP 400 for a request with uid " + reviewUid
                            + ", not an answer inside the review: " + excerpt(body));
                }
                if (expect == Expect.REJECT && status != c.status()) {
                    throw new AssertionError("expected HTTP " + c.status() + ", got " + status + ": " + excerpt(body));
                }
                if (expect == Expect.DENY || expect == Expect.ALLOW || expect == Expect.DECIDED) {
                    throw new AssertionError(
                            "expected a decision (" + expect + "), got HTTP " + status + ": " + excerpt(body));
                }
                return String.valueOf(status);
            }
            if (expect == Expect.REJECT && reviewUid == null) {
                throw new AssertionError("expected HTTP " + c.status() + ", got 200: " + excerpt(body));
            }
            JsonNode review;
            try {
                review = STRICT.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("200 with a body that is not JSON: " + excerpt(body));
            }
            if (!"admission.k8s.io/v1".equals(review.path("apiVersion").asText())
                    || !"AdmissionReview".equals(review.path("kind").asText())
                    || !review.path("response").isObject()
                    || review.has("request")) {
                throw new AssertionError("not an admission.k8s.io/v1 AdmissionReview response: " + excerpt(body));
            }
            JsonNode response = review.get("response");
            String uid = c.uid() != null ? c.uid() : uidOf(c.body());
            if (uid == null) {
                throw new AssertionError("200 for a body without a readable uid: " + excerpt(body));
            }
            if (!uid.equals(response.path("uid").asText(null))) {
                throw new AssertionError("response.uid is not the request's uid: " + excerpt(body));
            }
            JsonNode allowedNode = response.get("allowed");
            if (allowedNode == null || !allowedNode.isBoolean()) {
                throw new AssertionError("response.allowed is not a boolean: " + excerpt(body));
            }
            boolean allowed = allowedNode.booleanValue();
            if (validate) {
                if (response.has("patch") || response.has("patchType")) {
                    throw new AssertionError("/validate answered with a patch: " + excerpt(body));
                }
                if (!allowed) {
                    JsonNode st = response.path("status");
                    if (!st.path("code").isInt() || !st.path("message").isTextual()) {
                        throw new AssertionError("a denial without status code and message: " + excerpt(body));
                    }
                    if (st.path("code").intValue() == 500) {
                        throw new AssertionError(
                                "evaluation failed internally (denied with code 500): " + excerpt(body));
                    }
                }
                switch (expect) {
                    case REJECT -> {
                        if (allowed || response.path("status").path("code").intValue() != 400) {
                            throw new AssertionError("an unreadable request was not denied with 400: " + excerpt(body));
                        }
                        if (LEAK.matcher(response.path("status").path("message").asText())
                                .find()) {
                            throw new AssertionError("the denial leaks internals: " + excerpt(body));
                        }
                        return "200 invalid";
                    }
                    case DENY -> {
                        if (allowed || response.path("status").path("code").intValue() != 403) {
                            throw new AssertionError("a forbidden pod was not denied with 403: " + excerpt(body));
                        }
                    }
                    case NOT_ALLOW -> {
                        if (allowed) {
                            throw new AssertionError("a forbidden pod was allowed: " + excerpt(body));
                        }
                    }
                    case ALLOW -> {
                        if (!allowed) {
                            throw new AssertionError("a compliant pod was denied: " + excerpt(body));
                        }
                    }
                    default -> {}
                }
                return allowed ? "200 allowed" : "200 denied";
            }
            if (!allowed) {
                throw new AssertionError("/mutate denied: " + excerpt(body));
            }
            for (JsonNode w : response.path("warnings")) {
                if (w.asText().contains("could not apply defaults")) {
                    throw new AssertionError("mutation failed internally: " + excerpt(body));
                }
            }
            if (expect == Expect.REJECT) {
                if (response.has("patch") || response.has("patchType")) {
                    throw new AssertionError("/mutate patched an unreadable request: " + excerpt(body));
                }
                if (LEAK.matcher(response.path("warnings").toString()).find()) {
                    throw new AssertionError("the warning leaks internals: " + excerpt(body));
                }
                return "200 invalid";
            }
            if (response.has("patch")) {
                checkPatch(c, response);
                return "200 patched";
            }
            return "200 allowed";
        }

        private void checkError(int status, byte[] body) {
            if (status == 413 && body.length == 0) {
                // Bodies over the limit are refused by the HTTP layer before rootguard runs, without a body.
                return;
            }
            JsonNode error;
            try {
                error = STRICT.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("HTTP " + status + " with a body that is not JSON: " + excerpt(body));
            }
            if (error == null
                    || !error.isObject()
                    || error.path("code").intValue() != status
                    || !error.path("message").isTextual()
                    || error.path("message").asText().isBlank()) {
                throw new AssertionError("HTTP " + status + " without {code, message}: " + excerpt(body));
            }
            String message = error.path("message").asText();
            if (LEAK.matcher(message).find()) {
                throw new AssertionError("HTTP " + status + " message leaks internals: " + message);
            }
        }

        private void checkPatch(Case c, JsonNode response) {
            if (!"JSONPatch".equals(response.path("patchType").asText())) {
                throw new AssertionError("a patch without patchType JSONPatch: " + response);
            }
            JsonNode patch;
            try {
                patch = STRICT.readTree(
                        Base64.getDecoder().decode(response.path("patch").asText()));
            } catch (IOException | IllegalArgumentException e) {
                throw new AssertionError("the patch is not base64 JSON: " + e.getMessage());
            }
            if (!patch.isArray() || patch.isEmpty()) {
                throw new AssertionError("the patch is not a non-empty array: " + patch);
            }
            if (c.size() > 2_000_000) {
                return;
            }
            JsonNode object;
            try {
                object = STRICT.readTree(c.body()).path("request").path("object");
            } catch (IOException e) {
                throw new AssertionError("patched a body that a strict parser cannot read: " + e.getMessage());
            }
            try {
                JsonPatch.apply(patch, object);
            } catch (RuntimeException e) {
                throw new AssertionError("the patch does not apply to the submitted object: " + e.getMessage()
                        + "\n    patch: " + patch);
            }
        }

        /**
         * The request uid when the body is one strict JSON document, an {@code admission.k8s.io/v1}
         * AdmissionReview whose request has a non-blank string uid: how far the webhook must read before it
         * answers inside a review. Null otherwise.
         */
        private static String reviewUid(byte[] body) {
            if (body == null) {
                return null;
            }
            try {
                JsonNode root = STRICT.readerFor(JsonNode.class)
                        .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                        .readValue(body);
                if (root == null
                        || !root.isObject()
                        || !root.path("apiVersion").isTextual()
                        || !root.path("kind").isTextual()
                        || !"admission.k8s.io/v1".equals(root.path("apiVersion").asText())
                        || !"AdmissionReview".equals(root.path("kind").asText())
                        || !root.path("request").isObject()) {
                    return null;
                }
                JsonNode uid = root.path("request").path("uid");
                return uid.isTextual() && !uid.asText().isBlank() ? uid.asText() : null;
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        private static String uidOf(byte[] body) {
            try {
                JsonNode uid = STRICT.readTree(body).path("request").path("uid");
                return uid.isTextual() ? uid.asText() : null;
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        private static String excerpt(byte[] body) {
            String s = new String(body, 0, Math.min(body.length, 600), StandardCharsets.UTF_8);
            return body.length > 600 ? s + "...(" + body.length + " bytes)" : s;
        }

        String report(double seconds, long heapBefore, long heapAfter) {
            StringBuilder s = new StringBuilder();
            long total = perCategory.values().stream()
                    .mapToLong(m -> m.get(" cases").sum())
                    .sum();
            s.append(String.format(
                    "hostile input: %d cases (%d requests, %.1f MB of generated bodies) in %.1f s, %d failures;"
                            + " heap after GC %s -> %s%n",
                    total,
                    requests.sum(),
                    bytes.sum() / 1048576.0,
                    seconds,
                    failures.sum(),
                    mb(heapBefore),
                    mb(heapAfter)));
            for (String category : HostileBodies.categories()) {
                Map<String, LongAdder> m = perCategory.get(category);
                if (m == null) {
                    s.append(String.format("  %-15s %6d%n", category, 0));
                    continue;
                }
                Map<String, Long> sorted = new TreeMap<>();
                m.forEach((k, v) -> sorted.put(k, v.sum()));
                long n = sorted.remove(" cases");
                s.append(String.format(
                        "  %-15s %6d  %6.1f s  %s%n",
                        category, n, nanos.get(category).sum() / 1e9, sorted));
            }
            return s.toString();
        }

        String failureReport(long seed) {
            return failures.sum() + " wrong answers (seed " + seed + "; replay one with -Dfuzz.seed=" + seed
                    + " -Dfuzz.case=N):\n  " + String.join("\n  ", shown);
        }
    }
}
