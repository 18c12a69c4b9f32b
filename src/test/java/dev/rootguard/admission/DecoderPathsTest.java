package dev.rootguard.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.admission.HostileBodies.Case;
import dev.rootguard.json.Json;
import dev.rootguard.policy.WorkloadKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The decoder reads the body once and keeps {@code request.object}'s tokens, whether {@code request.kind}
 * came first (the order the API server writes) or after the object: both orders must give the same
 * answer, the same typed objects or the same 400 message.
 */
class DecoderPathsTest {
    private static final ObjectMapper LENIENT = new ObjectMapper();

    @Test
    void bindingWhileReadingAndBindingAfterwardsGiveTheSameObjectsAndTheSameErrors() throws Exception {
        HostileBodies bodies = new HostileBodies(Long.getLong("decoder.seed", 11), 8 * 1024 * 1024);
        int compared = 0;
        int typed = 0;
        int refused = 0;
        for (int i = 0; i < Integer.getInteger("decoder.cases", 3000); i++) {
            Case c = bodies.generate(i);
            ObjectNode root = readable(c.body());
            if (root == null) {
                continue;
            }
            byte[] kindFirst = LENIENT.writeValueAsBytes(reordered(root, List.of("kind")));
            byte[] objectFirst = LENIENT.writeValueAsBytes(reordered(root, List.of("object", "oldObject")));
            String expected = outcome(objectFirst);
            assertEquals(expected, outcome(kindFirst), "case " + i + " (" + c.label() + ")");
            compared++;
            typed += expected.startsWith("decoded") && expected.contains("{") ? 1 : 0;
            refused += expected.startsWith("400") ? 1 : 0;
        }
        assertTrue(typed > 200, "too few bodies with a typed object: " + typed + " of " + compared);
        assertTrue(refused > 200, "too few refused bodies: " + refused + " of " + compared);
    }

    @Test
    void aFieldThatCannotBeBoundIsReportedAfterTheEnvelopeWhicheverComesFirst() {
        String object = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"securityContext\":{\"runAsUser\":\"0\"}}]}}";
        String kind = "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"}";
        // The uid is missing: the envelope is reported, not the object's bad field, in either order.
        String kindFirst = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{" + kind
                + ",\"operation\":\"CREATE\",\"object\":" + object + "}}";
        String objectFirst =
                "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"object\":" + object
                        + "," + kind + ",\"operation\":\"CREATE\"}}";
        assertEquals("400 request.uid is missing", outcome(kindFirst.getBytes()));
        assertEquals("400 request.uid is missing", outcome(objectFirst.getBytes()));
        // With the uid, the bad field is reported with its path.
        String withUid = kindFirst.replace("\"operation\"", "\"uid\":\"u\",\"operation\"");
        String bad = outcome(withUid.getBytes());
        assertTrue(
                bad.contains(
                        "object 400 request.object.spec.containers[0].securityContext.runAsUser is not a valid Pod field: "
                                + "expected an integer, got a string"),
                bad);
        // A syntax error after the object is reported as such, though the object itself bound.
        assertTrue(outcome((withUid.substring(0, withUid.length() - 1) + ",}").getBytes())
                .startsWith("400 request body is not valid JSON"));
    }

    /** The body as a JSON object with a request that has a kind and an object, if the strict mapper reads it. */
    private static ObjectNode readable(byte[] body) {
        if (body == null) {
            return null;
        }
        try {
            Json.MAPPER.readTree(body); // duplicates would be lost by re-writing
            JsonNode root = LENIENT.readTree(body);
            if (root instanceof ObjectNode o
                    && o.get("request") instanceof ObjectNode r
                    && r.has("kind")
                    && r.has("object")) {
                return o;
            }
        } catch (Exception e) {
            // not JSON: nothing to reorder
        }
        return null;
    }

    /** A copy whose request starts with the given fields, the others following in their order. */
    private static ObjectNode reordered(ObjectNode root, List<String> first) {
        ObjectNode copy = root.deepCopy();
        ObjectNode request = (ObjectNode) copy.get("request");
        ObjectNode out = LENIENT.createObjectNode();
        for (String f : first) {
            if (request.has(f)) {
                out.set(f, request.get(f));
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = request.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!out.has(e.getKey())) {
                out.set(e.getKey(), e.getValue());
            }
        }
        copy.set("request", out);
        return copy;
    }

    /** What the handler would get: the decoded call and typed objects, or the 400 message (without positions). */
    private static String outcome(byte[] body) {
        try {
            AdmissionCall call = AdmissionDecoder.decode(body);
            Optional<Class<? extends HasMetadata>> type =
                    WorkloadKind.of(call.group(), call.kind()).map(WorkloadKind::modelClass);
            return "decoded "
                    + List.of(
                            call.uid(),
                            call.group(),
                            call.kind(),
                            call.operation(),
                            call.namespace(),
                            call.name(),
                            String.valueOf(call.user()),
                            String.valueOf(call.dryRun()))
                    + " object " + typed(call.object(), type, "request.object")
                    + " old " + typed(call.oldObject(), type, "request.oldObject");
        } catch (BadRequestException e) {
            return e.status() + " " + e.getMessage().replaceAll(" \\(line \\d+, column \\d+\\)", "");
        }
    }

    private static String typed(RequestObject raw, Optional<Class<? extends HasMetadata>> type, String where) {
        if (raw == null) {
            return "none";
        }
        if (type.isEmpty()) {
            return "unbound";
        }
        try {
            return Json.MAPPER.writeValueAsString(raw.bind(type.get(), where));
        } catch (BadRequestException e) {
            return "400 " + e.getMessage();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
