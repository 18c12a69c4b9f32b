package dev.rootguard.admission;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import dev.rootguard.json.Json;
import dev.rootguard.json.JsonErrors;
import dev.rootguard.policy.WorkloadKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.CharConversionException;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads an AdmissionReview body. Everything wrong with a body becomes a {@link BadRequestException}
 * naming what is missing or malformed, so the transport can answer 400 with that message.
 */
public final class AdmissionDecoder {
    public static final String API_VERSION = "admission.k8s.io/v1";
    /** The body is one JSON document: anything after it would be a second one that another reader might take instead. */
    private static final ObjectReader READER =
            Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private AdmissionDecoder() {}

    /**
     * Parses and checks a request body. The body is read once, as a stream: the envelope fields become
     * small JSON nodes, and {@code request.object} / {@code request.oldObject} are bound to the model
     * class on the way when {@code request.kind} came first (as the API server writes it), else kept as
     * tokens ({@link RequestObject}); the object is never built as a JSON tree. An object that does not
     * bind on the way is read past, and only its own bytes are read again, as tokens. The decoder decides
     * here, once, whether the request is one rootguard checks ({@link AdmissionCall#workload()}). Every
     * problem is reported as if the whole body had been read before any check: a body that is not JSON is
     * always reported as such, and the object's own fields are checked last.
     */
    public static AdmissionCall decode(byte[] body) {
        if (body == null || body.length == 0) {
            throw new BadRequestException("request body is empty; expected an admission.k8s.io/v1 AdmissionReview");
        }
        Envelope envelope = read(body);
        if (envelope == null) {
            throw notAnObject(body);
        }
        return check(envelope);
    }

    private static Envelope read(byte[] body) {
        try (JsonParser p = READER.createParser(body)) {
            return Envelope.read(p, body);
        } catch (JacksonException e) {
            throw new BadRequestException("request body is not valid JSON: " + JsonErrors.describe(e, true));
        } catch (IOException e) {
            throw new BadRequestException("request body could not be read: " + JsonErrors.describe(e, true));
        }
    }

    /** The body does not start with an object: says whether it is JSON at all, else that it is not an object. */
    private static BadRequestException notAnObject(byte[] body) {
        try {
            READER.readTree(body);
        } catch (MismatchedInputException e) {
            // The only mismatch a tree read reports: a second value after the first.
            return afterTheEnd(e.getLocation());
        } catch (JacksonException e) {
            return new BadRequestException("request body is not valid JSON: " + JsonErrors.describe(e, true));
        } catch (IOException e) {
            return new BadRequestException("request body could not be read: " + JsonErrors.describe(e, true));
        }
        return new BadRequestException("request body must be a JSON object (an admission.k8s.io/v1 AdmissionReview)");
    }

    private static BadRequestException afterTheEnd(JsonLocation at) {
        return new BadRequestException("request body is not valid JSON: content after the end of the review"
                + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
    }

    /** An object from the request, with its own kind and apiVersion values as read. */
    private record Captured(RequestObject raw, JsonNode kind, JsonNode apiVersion) {}

    /**
     * The envelope as read: the top-level fields and the request's fields as JSON nodes, except
     * {@code request.object} and {@code request.oldObject} when they are objects, which are captured as tokens.
     */
    private record Envelope(ObjectNode root, ObjectNode request, Map<String, Captured> objects) {

        /**
         * Reads a whole body positioned before its first token; null when the body does not start with an
         * object. An object whose kind is known by then (the API server writes {@code request.kind} before
         * {@code request.object}) is bound straight from the parser.
         */
        static Envelope read(JsonParser p, byte[] body) throws IOException {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            ObjectNode root = Json.MAPPER.createObjectNode();
            ObjectNode request = null;
            Map<String, Captured> objects = new HashMap<>(4);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (p.nextToken() == JsonToken.START_OBJECT && "request".equals(name)) {
                    request = Json.MAPPER.createObjectNode();
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String field = p.currentName();
                        if (p.nextToken() == JsonToken.START_OBJECT
                                && ("object".equals(field) || "oldObject".equals(field))) {
                            WorkloadKind kind = kindSoFar(request);
                            // Binding on the way needs byte offsets (UTF-8) to re-read the object alone if it fails.
                            objects.put(
                                    field,
                                    kind == null || p.currentTokenLocation().getByteOffset() < 0
                                            ? capture(p)
                                            : bind(p, kind, body));
                        } else {
                            request.set(field, value(p));
                        }
                    }
                    root.set(name, request);
                } else {
                    root.set(name, value(p));
                }
            }
            if (p.nextToken() != null) {
                throw afterTheEnd(p.currentTokenLocation());
            }
            return new Envelope(root, request, objects);
        }

        /** The workload kind named by the request's kind read so far, or null. */
        private static WorkloadKind kindSoFar(ObjectNode request) {
            JsonNode gvk = request.get("kind");
            if (gvk == null || !gvk.isObject()) {
                return null;
            }
            JsonNode group = gvk.get("group");
            JsonNode kind = gvk.get("kind");
            if (kind == null || !kind.isTextual() || (group != null && !group.isNull() && !group.isTextual())) {
                return null;
            }
            return WorkloadKind.of(group == null || group.isNull() ? "" : group.asText(), kind.asText())
                    .orElse(null);
        }

        /**
         * Binds an object from the parser, positioned at its start. If the body is not JSON there, that is
         * thrown as a read would; if the object does not bind, the rest of it is read past (checked as a
         * capture would check it) and its own bytes are read again as tokens, so that its problems are
         * reported in the usual order (JSON first, then the envelope, then the object's fields).
         */
        private static Captured bind(JsonParser p, WorkloadKind kind, byte[] body) throws IOException {
            long start = p.currentTokenLocation().getByteOffset();
            JsonStreamContext outside = p.getParsingContext().getParent();
            HasMetadata typed = null;
            try {
                typed = Json.MAPPER.readValue(p, kind.modelClass());
            } catch (IOException | RuntimeException e) {
                IOException unreadable = unreadable(e);
                if (unreadable != null) {
                    throw unreadable;
                }
            }
            if (typed != null) {
                return new Captured(
                        RequestObject.bound(typed), textOrNull(typed.getKind()), textOrNull(typed.getApiVersion()));
            }
            TokenBuffer rest = new TokenBuffer(p);
            while (!(p.currentToken() == JsonToken.END_OBJECT && p.getParsingContext() == outside)) {
                if (p.nextToken() == null) {
                    throw new JsonEOFException(p, null, "unexpected end of input in request object");
                }
                rest.copyCurrentEvent(p);
            }
            long end = p.currentTokenLocation().getByteOffset() + 1;
            try (JsonParser again = READER.createParser(body, (int) start, (int) (end - start))) {
                again.nextToken();
                return capture(again);
            }
        }

        /** The parser's own error in a binding error (the body is not JSON there), or null when the JSON read fine. */
        private static IOException unreadable(Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if ((t instanceof StreamReadException && !(t instanceof InputCoercionException))
                        || t instanceof StreamConstraintsException
                        || t instanceof CharConversionException) {
                    return (IOException) t;
                }
            }
            return null;
        }

        private static JsonNode textOrNull(String s) {
            return s == null ? null : TextNode.valueOf(s);
        }

        private static JsonNode value(JsonParser p) throws IOException {
            JsonNode n = Json.MAPPER.readTree(p);
            return n == null ? NullNode.getInstance() : n;
        }

        /** Copies an object's tokens, keeping its kind and apiVersion values for the agreement checks. */
        private static Captured capture(JsonParser p) throws IOException {
            TokenBuffer tokens = new TokenBuffer(p);
            tokens.writeStartObject();
            JsonNode kind = null;
            JsonNode apiVersion = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                tokens.writeFieldName(field);
                p.nextToken();
                if ("kind".equals(field) || "apiVersion".equals(field)) {
                    JsonNode v = value(p);
                    Json.MAPPER.writeTree(tokens, v);
                    if ("kind".equals(field)) {
                        kind = v;
                    } else {
                        apiVersion = v;
                    }
                } else {
                    tokens.copyCurrentStructure(p);
                }
            }
            tokens.writeEndObject();
            return new Captured(new RequestObject(tokens), kind, apiVersion);
        }
    }

    private static AdmissionCall check(Envelope envelope) {
        ObjectNode root = envelope.root();
        String apiVersion = text(root, "apiVersion", "apiVersion");
        String kind = text(root, "kind", "kind");
        if (!API_VERSION.equals(apiVersion) || !"AdmissionReview".equals(kind)) {
            throw new BadRequestException("expected apiVersion " + API_VERSION
                    + " and kind AdmissionReview, got apiVersion " + quote(apiVersion) + " and kind " + quote(kind));
        }
        JsonNode request = root.get("request");
        if (request == null || request.isNull()) {
            throw new BadRequestException("AdmissionReview has no request");
        }
        if (!request.isObject()) {
            throw new BadRequestException("request must be an object");
        }
        String uid = text(request, "uid", "request.uid");
        if (uid == null || uid.isBlank()) {
            throw new BadRequestException("request.uid is missing");
        }
        try {
            return check(envelope, request, uid);
        } catch (BadRequestException e) {
            // From here on the answer is a review with this uid, so the API server shows the message.
            throw e.inRequest(
                    uid,
                    request.path("kind").path("kind").asText(""),
                    request.path("operation").asText(""));
        }
    }

    /** Checks the rest of a request whose uid is known. */
    private static AdmissionCall check(Envelope envelope, JsonNode request, String uid) {
        JsonNode gvk = request.get("kind");
        if (gvk == null || !gvk.isObject()) {
            throw new BadRequestException("request.kind is missing (expected {group, version, kind})");
        }
        String group = text(gvk, "group", "request.kind.group");
        String objectKind = text(gvk, "kind", "request.kind.kind");
        if (objectKind == null || objectKind.isEmpty()) {
            throw new BadRequestException("request.kind.kind is missing");
        }
        String operation = text(request, "operation", "request.operation");
        if (operation == null || operation.isEmpty()) {
            throw new BadRequestException("request.operation is missing");
        }
        Captured object = objectOrNull(envelope, "object");
        Captured oldObject = objectOrNull(envelope, "oldObject");
        if (object == null && ("CREATE".equals(operation) || "UPDATE".equals(operation))) {
            // Without the object there is nothing to decide on; allowing would let it through unchecked.
            throw new BadRequestException(
                    "request.object is missing; a " + operation + " request must carry the object");
        }
        if (object != null) {
            String declared = text(object.kind(), "request.object.kind");
            if (declared != null && !declared.isEmpty() && !declared.equals(objectKind)) {
                throw new BadRequestException("request.object.kind " + quote(declared)
                        + " disagrees with request.kind.kind " + quote(objectKind));
            }
            // The group picks the model class (and whether the object is checked at all), so it must agree too.
            String objectApiVersion = text(object.apiVersion(), "request.object.apiVersion");
            if (objectApiVersion != null && !objectApiVersion.isEmpty()) {
                String declaredGroup = WorkloadKind.groupOf(objectApiVersion);
                if (!declaredGroup.equals(group == null ? "" : group)) {
                    throw new BadRequestException("request.object.apiVersion " + quote(objectApiVersion)
                            + " disagrees with request.kind.group " + quote(group == null ? "" : group));
                }
            }
        }
        String user = null;
        JsonNode userInfo = request.get("userInfo");
        if (userInfo != null && userInfo.isObject()) {
            user = text(userInfo, "username", "request.userInfo.username");
        }
        JsonNode dryRun = request.get("dryRun");
        if (dryRun != null && !dryRun.isNull() && !dryRun.isBoolean()) {
            throw new BadRequestException("request.dryRun must be a boolean");
        }
        String subResource = nullToEmpty(text(request, "subResource", "request.subResource"));
        return new AdmissionCall(
                uid,
                group == null ? "" : group,
                objectKind,
                subResource,
                operation,
                nullToEmpty(text(request, "namespace", "request.namespace")),
                nullToEmpty(text(request, "name", "request.name")),
                user,
                dryRun != null && dryRun.asBoolean(),
                handled(group, objectKind, subResource),
                object == null ? null : object.raw(),
                oldObject == null ? null : oldObject.raw());
    }

    /**
     * The kind when rootguard checks requests for this kind and subresource, else null: every other
     * request is let through unread. A subresource is checked only where the table says its request
     * carries the whole object ({@code pods/ephemeralcontainers}).
     */
    private static WorkloadKind handled(String group, String kind, String subResource) {
        return WorkloadKind.of(group, kind)
                .filter(k -> subResource.isEmpty() || k.subresources().contains(subResource))
                .orElse(null);
    }

    private static String text(JsonNode parent, String field, String path) {
        return text(parent.get(field), path);
    }

    private static String text(JsonNode n, String path) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw new BadRequestException(path + " must be a string");
        }
        return n.asText();
    }

    private static Captured objectOrNull(Envelope envelope, String field) {
        Captured captured = envelope.objects().get(field);
        if (captured != null) {
            return captured;
        }
        JsonNode n = envelope.request().get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        throw new BadRequestException("request." + field + " must be an object");
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    private static String quote(String s) {
        return Json.quote(s);
    }
}
