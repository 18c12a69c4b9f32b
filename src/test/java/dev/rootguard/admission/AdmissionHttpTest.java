package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.fabric8.zjsonpatch.JsonPatch;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** /validate and /mutate over real HTTPS in the default (enforce) configuration. */
@QuarkusTest
@WithTestResource(TestTls.class)
class AdmissionHttpTest {
    private final WebhookClient client = WebhookClient.forDefaultCertificate();

    @jakarta.inject.Inject
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
        assertTrue(message.contains("[run-as-root] spec.containers[0].securityContext.runAsUser: runAsUser: 0 runs container \"app\" as root;"
                + " set a non-zero UID such as 10000"), message);
        assertTrue(message.contains("[required-ids] spec.securityContext.runAsGroup"), message);
        assertTrue(message.contains("[required-ids] spec.securityContext.fsGroup"), message);
        assertTrue(message.startsWith("rootguard denied Pod team-a/root-pod: 3 violations"), message);
        assertTrue(r.path("warnings").get(0).asText().startsWith("[privilege-escalation] spec.containers[0].securityContext"));
    }

    @Test
    void validateDeniesAWorkloadTemplateListingEveryViolation() {
        JsonNode r = client.review("/validate", Reviews.recorded("deployment-create-root"));
        assertFalse(r.path("allowed").asBoolean(true));
        String message = r.path("status").path("message").asText();
        for (String line : List.of("[run-as-root] spec.template.spec.securityContext.runAsUser: runAsUser: 0 runs containers \"api\", \"migrate\" as root",
                "[privileged] spec.template.spec.containers[0].securityContext.privileged",
                "[capabilities] spec.template.spec.initContainers[0].securityContext.capabilities.add[0]: capability \"SYS_ADMIN\"")) {
            assertTrue(message.contains(line), () -> "missing " + line + " in " + message);
        }
    }

    @Test
    void validateAllowsACompliantPod() {
        ObjectNode review = Reviews.recorded("pod-create-root");
        ObjectNode spec = (ObjectNode) Reviews.request(review).path("object").path("spec");
        spec.putObject("securityContext").put("runAsNonRoot", true).put("runAsUser", 10000).put("runAsGroup", 10000).put("fsGroup", 10000)
                .put("supplementalGroupsPolicy", "Strict");
        ((ObjectNode) spec.path("containers").get(0)).putObject("securityContext").put("allowPrivilegeEscalation", false);
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
                json("{\"op\":\"add\",\"path\":\"/spec/securityContext/seccompProfile\",\"value\":{\"type\":\"RuntimeDefault\"}}"),
                json("{\"op\":\"add\",\"path\":\"/spec/securityContext/supplementalGroupsPolicy\",\"value\":\"Strict\"}"),
                json("{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext\",\"value\":{\"allowPrivilegeEscalation\":false,"
                        + "\"capabilities\":{\"drop\":[\"ALL\"]}}}"),
                json("{\"op\":\"add\",\"path\":\"/spec/containers/1/securityContext/allowPrivilegeEscalation\",\"value\":false}"),
                json("{\"op\":\"add\",\"path\":\"/spec/initContainers/0/securityContext\",\"value\":{\"allowPrivilegeEscalation\":false,"
                        + "\"capabilities\":{\"drop\":[\"ALL\"]}}}"));
        assertEquals(expected, ops(patch));

        // The patched raw object passes validation and a second mutation changes nothing.
        JsonNode patched = JsonPatch.apply(patch, Reviews.request(review).path("object"));
        assertEquals(2000, patched.at("/spec/containers/1/securityContext/runAsUser").asInt(), "user value kept");
        assertEquals(List.of("NET_RAW"), List.of(patched.at("/spec/containers/1/securityContext/capabilities/drop/0").asText()));
        ObjectNode again = Reviews.recorded("pod-create-bare");
        Reviews.request(again).set("object", patched);
        assertTrue(client.review("/validate", again).path("allowed").asBoolean());
        assertFalse(client.review("/mutate", Reviews.recorded("pod-create-bare").deepCopy()).path("patch").isMissingNode());
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
        ((ObjectNode) Reviews.request(changed).at("/object/spec/template/spec/containers/0")).put("image", "registry.example/legacy:2");
        assertFalse(client.review("/validate", changed).path("allowed").asBoolean(true), "a new image is re-evaluated");
    }

    @Test
    void ephemeralContainersAddedThroughTheSubresourceAreChecked() {
        JsonNode r = client.review("/validate", Reviews.recorded("pod-ephemeralcontainers-root"));
        assertFalse(r.path("allowed").asBoolean(true));
        assertTrue(r.path("status").path("message").asText().contains("[run-as-root] spec.ephemeralContainers[0].securityContext.runAsUser"));
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
    private static final java.util.regex.Pattern JAVA_NAME = java.util.regex.Pattern.compile(
            "\\b[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+\\.[A-Z]|Exception|Constraints|Feature|CoercionConfig|`");

    static Stream<Arguments> badBodies() {
        String valid = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u1\","
                + "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"namespace\":\"team-a\","
                + "\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\","
                + "\"image\":\"x\",\"securityContext\":{\"runAsUser\":5}}]}}}}";
        return Stream.of(
                Arguments.of("not JSON", "hello", "not valid JSON"),
                Arguments.of("empty body", "", "empty"),
                Arguments.of("truncated JSON", valid.substring(0, valid.length() / 2), "not valid JSON"),
                Arguments.of("JSON array", "[1,2]", "must be a JSON object"),
                Arguments.of("wrong apiVersion", valid.replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1"), "admission.k8s.io/v1beta1"),
                Arguments.of("wrong kind", valid.replace("\"AdmissionReview\"", "\"Pod\""), "kind AdmissionReview"),
                Arguments.of("no request", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}", "no request"),
                Arguments.of("request not an object", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":7}",
                        "request must be an object"),
                Arguments.of("no uid", valid.replace("\"uid\":\"u1\",", ""), "request.uid is missing"),
                Arguments.of("no kind", valid.replace("\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},", ""), "request.kind is missing"),
                Arguments.of("no operation", valid.replace("\"operation\":\"CREATE\",", ""), "request.operation is missing"),
                Arguments.of("object not an object", valid.replaceFirst("\"object\":\\{.*}}}$", "\"object\":\"pod\"}}"), "request.object must be an object"),
                Arguments.of("string for a UID", valid.replace("\"runAsUser\":5", "\"runAsUser\":\"0\""),
                        "request.object.spec.containers[0].securityContext.runAsUser"),
                Arguments.of("float for a UID", valid.replace("\"runAsUser\":5", "\"runAsUser\":5.5"), "runAsUser"),
                Arguments.of("string for a boolean", valid.replace("\"runAsUser\":5", "\"runAsUser\":5,\"privileged\":\"true\""), "privileged"),
                Arguments.of("object for a list", valid.replace("\"containers\":[{", "\"containers\":{\"x\":{").replace("5}}]}", "5}}}}"),
                        "containers"),
                Arguments.of("duplicate key", valid.replace("\"runAsUser\":5", "\"runAsUser\":5,\"runAsUser\":0"), "Duplicate field"),
                Arguments.of("object kind disagrees with request kind", valid.replace("\"apiVersion\":\"v1\",\"kind\":\"Pod\"",
                        "\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\""), "disagrees"),
                Arguments.of("deep nesting", "{\"a\":".repeat(3000) + "1" + "}".repeat(3000), "not valid JSON"),
                // Regressions found by HostileInputTest: each of these was allowed (or read another way) before.
                Arguments.of("CREATE without an object", valid.replaceFirst(",\"object\":\\{.*}}}$", "}}"), "request.object is missing"),
                Arguments.of("CREATE with a null object", valid.replaceFirst("\"object\":\\{.*}}}$", "\"object\":null}}"),
                        "request.object is missing"),
                Arguments.of("object group disagrees with request group", valid.replace("\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"",
                        "\"group\":\"apps\",\"version\":\"v1\",\"kind\":\"Pod\""), "disagrees with request.kind.group"),
                Arguments.of("string for the os object", valid.replace("\"runAsUser\":5", "\"runAsUser\":0").replace("\"spec\":{",
                        "\"spec\":{\"os\":\"windows\","), "request.object.spec.os is not a valid Pod field: expected an object, got a string"),
                Arguments.of("number for a string", valid.replace("\"image\":\"x\"", "\"image\":5"),
                        "request.object.spec.containers[0].image is not a valid Pod field: expected a string, got an integer"),
                Arguments.of("boolean for a string", valid.replace("\"name\":\"p\"", "\"name\":true"), "request.object.metadata.name"),
                Arguments.of("a second document after the review", valid + "{\"request\":{}}", "not valid JSON: content after the end"));
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

    @Test
    void wrongContentTypeGets415() {
        for (String type : new String[] { "text/plain", "application/yaml", null }) {
            HttpResponse<String> r = client.post("/validate", type, "{}".getBytes(StandardCharsets.UTF_8));
            assertEquals(415, r.statusCode(), r.body());
            assertTrue(r.body().contains("application/json"), r.body());
        }
        assertEquals(200, client.post("/validate", "application/json; charset=utf-8",
                Reviews.recorded("configmap-create").toString().getBytes(StandardCharsets.UTF_8)).statusCode());
    }

    @Test
    void bodyOverTheLimitGets413() throws Exception {
        // Announce a 9 MiB body and read the answer before sending it, as the server refuses on the header.
        javax.net.ssl.SSLSocketFactory f = WebhookClient.trusting(TestTls.certFile(TestTls.DIR)).getSocketFactory();
        int port = org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
        try (Socket s = f.createSocket("localhost", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + (9 * 1024 * 1024) + "\r\n\r\n{").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String status = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            assertTrue(status.startsWith("HTTP/1.1 413"), status);
        }
    }

    @Test
    void onlyTls12AndTls13AreNegotiated() throws Exception {
        assertOnlyTls12AndTls13(org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class));
    }

    @Test
    void theAdmissionPortUsesBoringSslWhereItLoads() {
        // Linux x86-64 and arm64 (the image's platforms) load it; elsewhere auto falls back to the JDK.
        assertEquals(io.netty.handler.ssl.OpenSsl.isAvailable() ? "BoringSSL" : "JDK", reloader.engine());
        // This build's platforms: where the tests run, BoringSSL must load, or the image would silently fall back.
        if (System.getProperty("os.name").equals("Linux") && List.of("amd64", "aarch64").contains(System.getProperty("os.arch"))) {
            assertEquals("BoringSSL", reloader.engine(), () -> "BoringSSL did not load: " + io.netty.handler.ssl.OpenSsl.unavailabilityCause());
        }
    }

    /** TLS 1.2 and 1.3 handshakes succeed on PORT; TLS 1.1 and 1.0 are refused with a protocol-version alert. */
    static void assertOnlyTls12AndTls13(int port) throws Exception {
        javax.net.ssl.SSLSocketFactory f = WebhookClient.trusting(TestTls.certFile(TestTls.DIR)).getSocketFactory();
        for (String protocol : List.of("TLSv1.2", "TLSv1.3")) {
            try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) f.createSocket("localhost", port)) {
                s.setEnabledProtocols(new String[] { protocol });
                s.startHandshake();
                assertEquals(protocol, s.getSession().getProtocol());
            }
        }
        // The JDK client refuses TLS 1.1 itself, so ask openssl, allowing it on the client side.
        for (String flag : List.of("-tls1_1", "-tls1")) {
            Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, flag,
                    "-cipher", "DEFAULT@SECLEVEL=0").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(p.exitValue() != 0 && out.contains("alert protocol version"), () -> flag + " was not refused:\n" + out);
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
        assertTrue(metrics.contains("rootguard_admission_requests_total{decision=\"denied\",kind=\"Pod\",operation=\"CREATE\",webhook=\"validate\"}"),
                metrics);
        assertTrue(metrics.contains("rootguard_violations_total{action=\"enforce\",rule=\"run-as-root\"}"));
        assertTrue(metrics.contains("rootguard_admission_duration_seconds_bucket"));
        // Buckets fine enough for decisions that take microseconds: the smallest ends below 50 µs.
        double smallest = java.util.regex.Pattern.compile("rootguard_admission_duration_seconds_bucket\\{[^}]*le=\"([0-9.eE+-]+)\"")
                .matcher(metrics).results().mapToDouble(m -> Double.parseDouble(m.group(1))).min().orElse(Double.NaN);
        assertTrue(smallest < 50e-6, "smallest duration bucket: " + smallest);
        assertTrue(metrics.contains("rootguard_namespace_cache_synced 0.0"));
        assertTrue(metrics.contains("kind=\"other\",operation=\"other\""), "request-supplied values never become label values");
        assertFalse(metrics.contains("XXXX"));
    }
}
