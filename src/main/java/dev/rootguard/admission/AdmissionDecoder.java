package dev.rootguard.admission;

import dev.rootguard.json.Json;
import dev.rootguard.json.JsonErrors;
import dev.rootguard.policy.PodSpecs;

import io.fabric8.kubernetes.api.model.HasMetadata;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.util.TokenBuffer;
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
    private static final ObjectReader READER = Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private AdmissionDecoder() {
    }

    /**
     * Parses and checks a request body. The body is read once, as a stream: the envelope fields become
     * small JSON nodes, and {@code request.object} / {@code request.oldObject} are bound to the model
     * class on the way when {@code request.kind} came first (as the API server writes it), else kept as
     * tokens ({@link RequestObject}); the object is never built as a JSON tree. Every problem is reported
     * as if the whole body had been read before any check: a body that is not JSON is always reported
     * as such, and the object's own fields are checked last.
     */
    public static AdmissionCall decode(byte[] body) {
        if (body == null || body.length == 0) {
            throw new BadRequestException("request body is empty; expected an admission.k8s.io/v1 AdmissionReview");
        }
        Envelope envelope;
        try {
            envelope = read(body, true);
        } catch (BindLater e) {
            // The object did not bind on the way: read again keeping its tokens, so that every problem is
            // reported in the usual order (JSON first, then the envelope, then the object's fields).
            envelope = read(body, false);
        }
        if (envelope == null) {
            throw notAnObject(body);
        }
        return check(envelope);
    }

    private static Envelope read(byte[] body, boolean bindOnTheWay) {
        try (JsonParser p = READER.createParser(body)) {
            return Envelope.read(p, bindOnTheWay);
        } catch (JacksonException e) {
            throw new BadRequestException("request body is not valid JSON: " + JsonErrors.describe(e, true));
        } catch (IOException e) {
            throw new BadRequestException("request body could not be read: " + JsonErrors.describe(e, true));
        }
    }

    /** The object could not be bound while reading the body; the caller reads it again without binding. */
    private static final class BindLater extends RuntimeException {
        BindLater() {
            super(null, null, false, false);
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
    private record Captured(RequestObject raw, JsonNode kind, JsonNode apiVersion) {
    }

    /**
     * The envelope as read: the top-level fields and the request's fields as JSON nodes, except
     * {@code request.object} and {@code request.oldObject} when they are objects, which are captured as tokens.
     */
    private record Envelope(ObjectNode root, ObjectNode request, Map<String, Captured> objects) {

        /**
         * Reads a whole body positioned before its first token; null when the body does not start with an
         * object. With {@code bindOnTheWay}, an object whose model class is known by then (the API server
         * writes {@code request.kind} before {@code request.object}) is bound straight from the parser, and
         * {@link BindLater} is thrown if that fails.
         */
        static Envelope read(JsonParser p, boolean bindOnTheWay) throws IOException {
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
                        if (p.nextToken() == JsonToken.START_OBJECT && ("object".equals(field) || "oldObject".equals(field))) {
                            Class<? extends HasMetadata> type = bindOnTheWay ? modelClass(request) : null;
                            objects.put(field, type == null ? capture(p) : bind(p, type));
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

        /** The model class named by the request's kind read so far, or null. */
        private static Class<? extends HasMetadata> modelClass(ObjectNode request) {
            JsonNode gvk = request.get("kind");
            if (gvk == null || !gvk.isObject()) {
                return null;
            }
            JsonNode group = gvk.get("group");
            JsonNode kind = gvk.get("kind");
            if (kind == null || !kind.isTextual() || (group != null && !group.isNull() && !group.isTextual())) {
                return null;
            }
            return PodSpecs.modelClass(group == null || group.isNull() ? "" : group.asText(), kind.asText()).orElse(null);
        }

        private static Captured bind(JsonParser p, Class<? extends HasMetadata> type) {
            HasMetadata typed;
            try {
                typed = Json.MAPPER.readValue(p, type);
            } catch (IOException | RuntimeException e) {
                throw new BindLater();
            }
            if (typed == null) {
                throw new BindLater();
            }
            return new Captured(RequestObject.bound(typed), textOrNull(typed.getKind()), textOrNull(typed.getApiVersion()));
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
            throw new BadRequestException("expected apiVersion " + API_VERSION + " and kind AdmissionReview, got apiVersion "
                    + quote(apiVersion) + " and kind " + quote(kind));
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
            throw e.inRequest(uid, request.path("kind").path("kind").asText(""), request.path("operation").asText(""));
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
            throw new BadRequestException("request.object is missing; a " + operation + " request must carry the object");
        }
        if (object != null) {
            String declared = text(object.kind(), "request.object.kind");
            if (declared != null && !declared.isEmpty() && !declared.equals(objectKind)) {
                throw new BadRequestException("request.object.kind " + quote(declared) + " disagrees with request.kind.kind "
                        + quote(objectKind));
            }
            // The group picks the model class (and whether the object is checked at all), so it must agree too.
            String objectApiVersion = text(object.apiVersion(), "request.object.apiVersion");
            if (objectApiVersion != null && !objectApiVersion.isEmpty()) {
                int slash = objectApiVersion.indexOf('/');
                String declaredGroup = slash < 0 ? "" : objectApiVersion.substring(0, slash);
                if (!declaredGroup.equals(group == null ? "" : group)) {
                    throw new BadRequestException("request.object.apiVersion " + quote(objectApiVersion) + " disagrees with request.kind.group "
                            + quote(group == null ? "" : group));
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
        return new AdmissionCall(uid, group == null ? "" : group, objectKind, nullToEmpty(text(request, "subResource", "request.subResource")),
                operation, nullToEmpty(text(request, "namespace", "request.namespace")), nullToEmpty(text(request, "name", "request.name")),
                user, dryRun != null && dryRun.asBoolean(), object == null ? null : object.raw(), oldObject == null ? null : oldObject.raw());
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
