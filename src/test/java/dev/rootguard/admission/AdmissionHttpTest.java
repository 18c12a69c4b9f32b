package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import dev.rootguard.tls.CertificateReloader;
import io.fabric8.zjsonpatch.JsonPatch;
import io.netty.handler.ssl.OpenSsl;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** /validate and /mutate over real HTTPS in the default (enforce) configuration. */
@QuarkusTest
@WithTestResource(TestTls.class)
public class AdmissionHttpTest {
    private final WebhookClient client = WebhookClient.forDefaultCertificate();

    @Inject
    CertificateReloader reloader;

    private static Set<JsonNode> ops(JsonNode patch) {
        Set<JsonNode> set = new HashSet<>();
        patch.forEach(set::add);
        return set;
    }

    private static JsonNode json(String s) {
        try {
            return WebhookClient.JSON.readTree(s);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Test
    void validateDeniesARootPodNamingRuleFieldAndFix() {
        JsonNode r = client.review("/validate", Reviews.recorded("pod-create-root"));
        assertFalse(r.path("allowed").asBoolean(true));
        assertEquals(403, r.path("status").path("code").asInt());
        String message = r.path("status").path("message").asText();
        assertTrue(
                message.contains(
                        "[run-as-root] spec.containers[0].securityContext.runAsUser: runAsUser: 0 runs container \"app\" as root;"
                                + " set a non-zero UID such as 10000"),
                message);
        assertTrue(message.contains("[required-ids] spec.securityContext.runAsGroup"), message);
        assertTrue(message.contains("[required-ids] spec.securityContext.fsGroup"), message);
        assertTrue(message.startsWith("rootguard denied Pod team-a/root-pod: 3 violations"), message);
        assertTrue(r.path("warnings")
                .get(0)
                .asText()
                .startsWith("[privilege-escalation] spec.containers[0].securityContext"));
    }

    @Test
    void validateDeniesAWorkloadTemplateListingEveryViolation() {
        JsonNode r = client.review("/validate", Reviews.recorded("deployment-create-root"));
        assertFalse(r.path("allowed").asBoolean(true));
        String message = r.path("status").path("message").asText();
        for (String line : List.of(
                "[run-as-root] spec.template.spec.securityContext.runAsUser: runAsUser: 0 runs containers \"api\", \"migrate\" as root",
                "[privileged] spec.template.spec.containers[0].securityContext.privileged",
                "[capabilities] spec.template.spec.initContainers[0].securityContext.capabilities.add[0]: capability \"SYS_ADMIN\"")) {
            assertTrue(message.contains(line), () -> "missing " + line + " in " + message);
        }
    }

    @Test
    void validateAllowsACompliantPod() {
        ObjectNode review = Reviews.recorded("pod-create-root");
        ObjectNode spec = (ObjectNode) Reviews.request(review).path("object").path("spec");
        spec.putObject("securityContext")
                .put("runAsNonRoot", true)
                .put("runAsUser", 10000)
                .put("runAsGroup", 10000)
                .put("fsGroup", 10000)
                .put("supplementalGroupsPolicy", "Strict");
        ((ObjectNode) spec.path("containers").get(0))
                .putObject("securityContext")
                .put("allowPrivilegeEscalation", false);
        JsonNode r = client.review("/validate", review);
        assertTrue(r.path("allowed").asBoolean());
        assertFalse(r.has("warnings"));
        assertFalse(r.has("status"));
    }

    @Test
    void mutatePatchesOnlyAbsentFieldsAndThePatchAppliesToTheRawObject() {
        ObjectNode review = Reviews.recorded("pod-create-bare");
        JsonNode r = client.review("/mutate", review);
        assertTrue(r.path("allowed").asBoolean());
        assertEquals("JSONPatch", r.path("patchType").asText());
        JsonNode patch = WebhookClient.patch(r);
        Set<JsonNode> expected = Set.of(
                json("{\"op\":\"add\",\"path\":\"/spec/securityContext/runAsNonRoot\",\"value\":true}"),
                json("{\"op\":\"add\",\"path\":\"/spec/securityContext/runAsUser\",\"value\":10000}"),
                json("{\"op\":\"add\",\"path\":\"/spec/securityContext/runAsGroup\",\"value\":10000}"),
                json("{\"op\":\"add\",\"path\":\"/spec/securityContext/fsGroup\",\"value\":10000}"),
                json(
                        "{\"op\":\"add\",\"path\":\"/spec/securityContext/seccompProfile\",\"value\":{\"type\":\"RuntimeDefault\"}}"),
                json(
                        "{\"op\":\"add\",\"path\":\"/spec/securityContext/supplementalGroupsPolicy\",\"value\":\"Strict\"}"),
                json(
                        "{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext\",\"value\":{\"allowPrivilegeEscalation\":false,"
                                + "\"capabilities\":{\"drop\":[\"ALL\"]}}}"),
                json(
                        "{\"op\":\"add\",\"path\":\"/spec/containers/1/securityContext/allowPrivilegeEscalation\",\"value\":false}"),
                json(
                        "{\"op\":\"add\",\"path\":\"/spec/initContainers/0/securityContext\",\"value\":{\"allowPrivilegeEscalation\":false,"
                                + "\"capabilities\":{\"drop\":[\"ALL\"]}}}"));
        assertEquals(expected, ops(patch));

        // The patched raw object passes validation and a second mutation changes nothing.
        JsonNode patched = JsonPatch.apply(patch, Reviews.request(review).path("object"));
        assertEquals(
                2000, patched.at("/spec/containers/1/securityContext/runAsUser").asInt(), "user value kept");
        assertEquals(
                List.of("NET_RAW"),
                List.of(patched.at("/spec/containers/1/securityContext/capabilities/drop/0")
                        .asText()));
        ObjectNode again = Reviews.recorded("pod-create-bare");
        Reviews.request(again).set("object", patched);
        assertTrue(client.review("/validate", again).path("allowed").asBoolean());
        assertFalse(client.review("/mutate", Reviews.recorded("pod-create-bare").deepCopy())
                .path("patch")
                .isMissingNode());
        ObjectNode second = Reviews.recorded("pod-create-bare");
        Reviews.request(second).set("object", patched);
        assertTrue(WebhookClient.patch(client.review("/mutate", second)).isEmpty());
    }

    @Test
    void mutateLeavesUpdatesAndUnhandledKindsUnchanged() {
        JsonNode update = client.review("/mutate", Reviews.recorded("deployment-update-scale"));
        assertTrue(update.path("allowed").asBoolean());
        assertFalse(update.has("patch"));
        JsonNode cm = client.review("/mutate", Reviews.recorded("configmap-create"));
        assertTrue(cm.path("allowed").asBoolean());
        assertFalse(cm.has("patch"));
    }

    @Test
    void validateAllowsUnhandledKinds() {
        JsonNode r = client.review("/validate", Reviews.recorded("configmap-create"));
        assertTrue(r.path("allowed").asBoolean());
        assertFalse(r.has("auditAnnotations"));
    }

    @Test
    void updateThatChangesNothingSecurityRelevantIsAllowedWithoutEvaluation() {
        JsonNode r = client.review("/validate", Reviews.recorded("deployment-update-scale"));
        assertTrue(r.path("allowed").asBoolean(), "scaling a deployment that predates the policy must work");
        assertFalse(r.has("warnings"));

        ObjectNode changed = Reviews.recorded("deployment-update-scale");
        ((ObjectNode) Reviews.request(changed).at("/object/spec/template/spec/containers/0"))
                .put("image", "registry.example/legacy:2");
        assertFalse(client.review("/validate", changed).path("allowed").asBoolean(true), "a new image is re-evaluated");
    }

    @Test
    void ephemeralContainersAddedThroughTheSubresourceAreChecked() {
        JsonNode r = client.review("/validate", Reviews.recorded("pod-ephemeralcontainers-root"));
        assertFalse(r.path("allowed").asBoolean(true));
        assertTrue(r.path("status")
                .path("message")
                .asText()
                .contains("[run-as-root] spec.ephemeralContainers[0].securityContext.runAsUser"));
    }

    @Test
    void otherSubresourcesAreNotEvaluated() {
        ObjectNode review = Reviews.recorded("pod-create-root");
        Reviews.request(review).put("subResource", "status").put("operation", "UPDATE");
        assertTrue(client.review("/validate", review).path("allowed").asBoolean());
    }

    @Test
    void dryRunRequestsGetTheSameDecision() {
        ObjectNode review = Reviews.recorded("pod-create-root");
        Reviews.request(review).put("dryRun", true);
        JsonNode dry = client.review("/validate", review);
        JsonNode real = client.review("/validate", Reviews.recorded("pod-create-root"));
        assertFalse(dry.path("allowed").asBoolean(true));
        assertEquals(real.path("status"), dry.path("status"));
    }

    /** Qualified class names, and the parser's own setting names, have no place in an answer. */
    private static final Pattern JAVA_NAME = Pattern.compile(
            "\\b[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+\\.[A-Z]|Exception|Constraints|Feature|CoercionConfig|`");

    private static final String VALID =
            "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u1\","
                    + "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"namespace\":\"team-a\","
                    + "\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\","
                    + "\"image\":\"x\",\"securityContext\":{\"runAsUser\":5}}]}}}}";

    /** Bodies that are not a review with a request uid: there is no review to answer, so HTTP 400. */
    static Stream<Arguments> badBodies() {
        String valid = VALID;
        return Stream.of(
                Arguments.of("not JSON", "hello", "not valid JSON"),
                Arguments.of("empty body", "", "empty"),
                Arguments.of("truncated JSON", valid.substring(0, valid.length() / 2), "not valid JSON"),
                Arguments.of("JSON array", "[1,2]", "must be a JSON object"),
                Arguments.of(
                        "wrong apiVersion",
                        valid.replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1"),
                        "admission.k8s.io/v1beta1"),
                Arguments.of("wrong kind", valid.replace("\"AdmissionReview\"", "\"Pod\""), "kind AdmissionReview"),
                Arguments.of(
                        "no request",
                        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}",
                        "no request"),
                Arguments.of(
                        "request not an object",
                        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":7}",
                        "request must be an object"),
                Arguments.of("no uid", valid.replace("\"uid\":\"u1\",", ""), "request.uid is missing"),
                Arguments.of(
                        "duplicate key",
                        valid.replace("\"runAsUser\":5", "\"runAsUser\":5,\"runAsUser\":0"),
                        "Duplicate field request.object.spec.containers[0].securityContext.runAsUser"),
                Arguments.of("deep nesting", "{\"a\":".repeat(3000) + "1" + "}".repeat(3000), "not valid JSON"),
                Arguments.of(
                        "a second document after the review",
                        valid + "{\"request\":{}}",
                        "not valid JSON: content after the end"));
    }

    /**
     * Reviews whose request uid is known but which cannot be decided on: answered inside the review (a 400
     * would make the API server report a failed call and apply the failurePolicy, so /mutate with
     * Ignore would let the object through unmutated without saying why).
     */
    static Stream<Arguments> unreadableRequests() {
        String valid = VALID;
        return Stream.of(
                Arguments.of(
                        "no kind",
                        valid.replace("\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},", ""),
                        "request.kind is missing"),
                Arguments.of(
                        "no operation", valid.replace("\"operation\":\"CREATE\",", ""), "request.operation is missing"),
                Arguments.of(
                        "object not an object",
                        valid.replaceFirst("\"object\":\\{.*}}}$", "\"object\":\"pod\"}}"),
                        "request.object must be an object"),
                Arguments.of(
                        "string for a UID",
                        valid.replace("\"runAsUser\":5", "\"runAsUser\":\"0\""),
                        "request.object.spec.containers[0].securityContext.runAsUser"),
                Arguments.of("float for a UID", valid.replace("\"runAsUser\":5", "\"runAsUser\":5.5"), "runAsUser"),
                Arguments.of(
                        "string for a boolean",
                        valid.replace("\"runAsUser\":5", "\"runAsUser\":5,\"privileged\":\"true\""),
                        "privileged"),
                Arguments.of(
                        "object for a list",
                        valid.replace("\"containers\":[{", "\"containers\":{\"x\":{")
                                .replace("5}}]}", "5}}}}"),
                        "containers"),
                Arguments.of(
                        "string for a port",
                        valid.replace("\"image\":\"x\"", "\"image\":\"x\",\"ports\":[{\"containerPort\":\"8080\"}]"),
                        "request.object.spec.containers[0].ports[0].containerPort is not a valid Pod field: expected an integer, got a string"),
                Arguments.of(
                        "object kind disagrees with request kind",
                        valid.replace(
                                "\"apiVersion\":\"v1\",\"kind\":\"Pod\"",
                                "\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\""),
                        "disagrees"),
                // Regressions found by HostileInputTest: each of these was allowed (or read another way) before.
                Arguments.of(
                        "CREATE without an object",
                        valid.replaceFirst(",\"object\":\\{.*}}}$", "}}"),
                        "request.object is missing"),
                Arguments.of(
                        "CREATE with a null object",
                        valid.replaceFirst("\"object\":\\{.*}}}$", "\"object\":null}}"),
                        "request.object is missing"),
                Arguments.of(
                        "object group disagrees with request group",
                        valid.replace(
                                "\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"",
                                "\"group\":\"apps\",\"version\":\"v1\",\"kind\":\"Pod\""),
                        "disagrees with request.kind.group"),
                Arguments.of(
                        "string for the os object",
                        valid.replace("\"runAsUser\":5", "\"runAsUser\":0")
                                .replace("\"spec\":{", "\"spec\":{\"os\":\"windows\","),
                        "request.object.spec.os is not a valid Pod field: expected an object, got a string"),
                Arguments.of(
                        "number for a string",
                        valid.replace("\"image\":\"x\"", "\"image\":5"),
                        "request.object.spec.containers[0].image is not a valid Pod field: expected a string, got an integer"),
                Arguments.of(
                        "boolean for a string",
                        valid.replace("\"name\":\"p\"", "\"name\":true"),
                        "request.object.metadata.name"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badBodies")
    void malformedReviewsGet400WithAMessage(String name, String body, String fragment) {
        for (String path : List.of("/validate", "/mutate")) {
            HttpResponse<String> r = client.post(path, "application/json", body.getBytes(StandardCharsets.UTF_8));
            assertEquals(400, r.statusCode(), () -> path + ": " + r.body());
            String message = json(r.body()).path("message").asText();
            assertTrue(message.contains(fragment), () -> path + ": message '" + message + "' lacks '" + fragment + "'");
            assertFalse(JAVA_NAME.matcher(message).find(), () -> path + ": message names Java internals: " + message);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unreadableRequests")
    void unreadableRequestsWithAUidAreAnsweredInsideTheReview(String name, String body, String fragment) {
        HttpResponse<String> v = client.post("/validate", "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertEquals(200, v.statusCode(), () -> "/validate: " + v.body());
        JsonNode denied = json(v.body()).path("response");
        assertEquals("u1", denied.path("uid").asText(), v.body());
        assertFalse(denied.path("allowed").asBoolean(true), v.body());
        assertEquals(400, denied.path("status").path("code").asInt(), v.body());
        assertEquals("BadRequest", denied.path("status").path("reason").asText(), v.body());
        String message = denied.path("status").path("message").asText();
        assertTrue(message.contains(fragment), () -> "/validate: message '" + message + "' lacks '" + fragment + "'");
        assertFalse(JAVA_NAME.matcher(message).find(), () -> "/validate: message names Java internals: " + message);

        HttpResponse<String> m = client.post("/mutate", "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertEquals(200, m.statusCode(), () -> "/mutate: " + m.body());
        JsonNode allowed = json(m.body()).path("response");
        assertEquals("u1", allowed.path("uid").asText(), m.body());
        assertTrue(allowed.path("allowed").asBoolean(false), m.body());
        assertFalse(allowed.has("patch") || allowed.has("patchType"), m.body());
        String warning = allowed.path("warnings").path(0).asText();
        assertTrue(
                warning.contains("cannot read the request") && warning.contains(fragment),
                () -> "/mutate: warning '" + warning + "'");
    }

    @Test
    void anUnbindableObjectIsCountedAsInvalid() {
        String body = VALID.replace("\"image\":\"x\"", "\"image\":\"x\",\"ports\":[{\"containerPort\":\"8080\"}]");
        double validateBefore = counter("validate", "invalid");
        double mutateBefore = counter("mutate", "invalid");
        client.post("/validate", "application/json", body.getBytes(StandardCharsets.UTF_8));
        client.post("/mutate", "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertEquals(validateBefore + 1, counter("validate", "invalid"));
        assertEquals(mutateBefore + 1, counter("mutate", "invalid"));
    }

    /** The value of rootguard_admission_requests_total for a Pod CREATE with this webhook and decision, 0 when absent. */
    private static double counter(String webhook, String decision) {
        String series = "rootguard_admission_requests_total{decision=\"" + decision
                + "\",kind=\"Pod\",operation=\"CREATE\",webhook=\"" + webhook + "\"} ";
        return WebhookClient.management("/q/metrics")
                .body()
                .lines()
                .filter(l -> l.startsWith(series))
                .mapToDouble(
                        l -> Double.parseDouble(l.substring(series.length()).trim()))
                .findFirst()
                .orElse(0);
    }

    /**
     * A pod with 10,000 root containers once got a 3.4 MB answer (10,000 warnings, a 0.9 MB annotation): the
     * answer now lists the first 20 violations, says how many more there are, and keeps its warnings within
     * what the API server passes on (4,096 characters in all, 256 each).
     */
    @Test
    void aPodWithTenThousandViolatingContainersGetsAnAnswerOfAFewKilobytes() throws Exception {
        ObjectNode review = Reviews.recorded("pod-create-root");
        ArrayNode containers = ((ObjectNode) review.at("/request/object/spec")).putArray("containers");
        for (int i = 0; i < 10_000; i++) {
            containers
                    .addObject()
                    .put("name", "c" + i)
                    .put("image", "registry.example/app:1")
                    .putObject("securityContext")
                    .put("runAsUser", 0);
        }
        byte[] request = WebhookClient.JSON.writeValueAsBytes(review);
        HttpResponse<String> r = client.post("/validate", "application/json", request);
        assertEquals(200, r.statusCode(), r.body());
        System.out.printf(
                "10,000 root containers: request %d bytes, answer %d bytes%n",
                request.length, r.body().length());
        assertTrue(
                r.body().length() < 20_000,
                "answer of " + r.body().length() + " bytes to a request of " + request.length);
        JsonNode response = json(r.body()).path("response");
        assertFalse(response.path("allowed").asBoolean(true));

        List<String> lines =
                response.path("status").path("message").asText().lines().toList();
        int total = Integer.parseInt(lines.get(0).replaceAll(".*: (\\d+) violations$", "$1"));
        assertTrue(total > 10_000, lines.get(0));
        assertEquals(22, lines.size(), "a heading, 20 violations and how many more: " + lines);
        assertTrue(
                lines.get(1).startsWith("- [run-as-root] spec.containers[0].securityContext.runAsUser: "),
                lines.get(1));
        assertEquals("- and " + (total - 20) + " more", lines.get(21));

        JsonNode warnings = response.path("warnings");
        assertEquals(16, warnings.size(), warnings.toString());
        int characters = 0;
        for (JsonNode w : warnings) {
            int n = w.asText().codePointCount(0, w.asText().length());
            assertTrue(n <= 256, w.asText());
            characters += n;
        }
        assertTrue(characters <= 4096, "warnings of " + characters + " characters");
        // One allowPrivilegeEscalation warning per container at least: 15 shown, the rest counted.
        String more = warnings.get(15).asText();
        assertTrue(
                more.matches("rootguard: and \\d+ more warnings")
                        && Integer.parseInt(more.replaceAll("\\D", "")) >= 10_000 - 15,
                more);

        String annotation = response.path("auditAnnotations").path("violations").asText();
        assertTrue(annotation.length() <= 4096, "annotation of " + annotation.length() + " characters");
        assertEquals(21, annotation.split("; ").length, annotation);
        // The annotation lists warned violations too, so it leaves out at least as many as the message.
        String left = annotation.substring(annotation.lastIndexOf("; ") + 2);
        assertTrue(
                left.matches("and \\d+ more") && Integer.parseInt(left.replaceAll("\\D", "")) >= total - 20,
                annotation);
    }

    @Test
    void wrongContentTypeGets415() {
        for (String type : new String[] {"text/plain", "application/yaml", null}) {
            HttpResponse<String> r = client.post("/validate", type, "{}".getBytes(StandardCharsets.UTF_8));
            assertEquals(415, r.statusCode(), r.body());
            assertTrue(r.body().contains("application/json"), r.body());
        }
        assertEquals(
                200,
                client.post(
                                "/validate",
                                "application/json; charset=utf-8",
                                Reviews.recorded("configmap-create").toString().getBytes(StandardCharsets.UTF_8))
                        .statusCode());
    }

    @Test
    void bodyOverTheLimitGets413() throws Exception {
        // Announce a 9 MiB body and read the answer before sending it, as the server refuses on the header.
        SSLSocketFactory f =
                WebhookClient.trusting(TestTls.certFile(TestTls.DIR)).getSocketFactory();
        int port = ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
        try (Socket s = f.createSocket("localhost", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream()
                    .write(("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                                    + "Content-Length: " + (9 * 1024 * 1024) + "\r\n\r\n{")
                            .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String status =
                    new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            assertTrue(status.startsWith("HTTP/1.1 413"), status);
        }
    }

    /** TLS 1.1 and 1.0 are refused too: {@code tls.OldTlsProtocolsIT}, which needs the openssl command. */
    @Test
    void tls12AndTls13AreNegotiated() throws Exception {
        assertTls12AndTls13(ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class));
    }

    @Test
    void theAdmissionPortUsesBoringSslWhereItLoads() {
        // Linux x86-64 and arm64 (the image's platforms) load it; elsewhere auto falls back to the JDK.
        assertEquals(OpenSsl.isAvailable() ? "BoringSSL" : "JDK", reloader.engine());
        // This build's platforms: where the tests run, BoringSSL must load, or the image would silently fall back.
        if (System.getProperty("os.name").equals("Linux")
                && List.of("amd64", "aarch64").contains(System.getProperty("os.arch"))) {
            assertEquals(
                    "BoringSSL", reloader.engine(), () -> "BoringSSL did not load: " + OpenSsl.unavailabilityCause());
        }
    }

    /**
     * TLS 1.2 and 1.3 handshakes succeed on PORT (serving the test certificate). That TLS 1.1 and 1.0
     * are refused is {@code tls.OldTlsProtocolsIT}'s: the JDK client cannot even offer them.
     */
    public static void assertTls12AndTls13(int port) throws Exception {
        SSLSocketFactory f =
                WebhookClient.trusting(TestTls.certFile(TestTls.DIR)).getSocketFactory();
        for (String protocol : List.of("TLSv1.2", "TLSv1.3")) {
            try (SSLSocket s = (SSLSocket) f.createSocket("localhost", port)) {
                s.setEnabledProtocols(new String[] {protocol});
                s.startHandshake();
                assertEquals(protocol, s.getSession().getProtocol());
            }
        }
    }

    @Test
    void thereIsNoPlaintextAdmissionPort() {
        assertThrows(IOException.class, () -> {
            try (Socket s = new Socket("localhost", 8081)) {
                s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
        });
    }

    @Test
    void healthAndMetricsAreOnTheManagementPort() {
        client.review("/validate", Reviews.recorded("pod-create-root"));
        ObjectNode odd = Reviews.recorded("configmap-create");
        ((ObjectNode) Reviews.request(odd).path("kind")).put("kind", "X".repeat(2000));
        Reviews.request(odd).remove("object");
        Reviews.request(odd).put("operation", "NOT-AN-OPERATION");
        client.review("/validate", odd);
        HttpResponse<String> ready = WebhookClient.management("/q/health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("\"tls\": true") || ready.body().contains("\"tls\":true"), ready.body());
        assertEquals(200, WebhookClient.management("/q/health/live").statusCode());
        String metrics = WebhookClient.management("/q/metrics").body();
        assertTrue(
                metrics.contains(
                        "rootguard_admission_requests_total{decision=\"denied\",kind=\"Pod\",operation=\"CREATE\",webhook=\"validate\"}"),
                metrics);
        assertTrue(metrics.contains("rootguard_violations_total{action=\"enforce\",rule=\"run-as-root\"}"));
        assertTrue(metrics.contains("rootguard_admission_duration_seconds_bucket"));
        // Buckets fine enough for decisions that take microseconds: the smallest ends below 50 µs.
        double smallest = Pattern.compile("rootguard_admission_duration_seconds_bucket\\{[^}]*le=\"([0-9.eE+-]+)\"")
                .matcher(metrics)
                .results()
                .mapToDouble(m -> Double.parseDouble(m.group(1)))
                .min()
                .orElse(Double.NaN);
        assertTrue(smallest < 50e-6, "smallest duration bucket: " + smallest);
        assertTrue(metrics.contains("rootguard_namespace_cache_synced 0.0"));
        assertTrue(
                metrics.contains("kind=\"other\",operation=\"other\""),
                "request-supplied values never become label values");
        assertFalse(metrics.contains("XXXX"));
    }
}
