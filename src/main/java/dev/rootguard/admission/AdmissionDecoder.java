package dev.rootguard.admission;

import dev.rootguard.policy.Json;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DatabindException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;

/**
 * Reads an AdmissionReview body. Everything wrong with a body becomes a {@link BadRequestException}
 * naming what is missing or malformed, so the transport can answer 400 with that message.
 */
public final class AdmissionDecoder {
    static final String API_VERSION = "admission.k8s.io/v1";

    private AdmissionDecoder() {
    }

    /** Parses and checks a request body. */
    public static AdmissionCall decode(byte[] body) {
        if (body == null || body.length == 0) {
            throw new BadRequestException("request body is empty; expected an admission.k8s.io/v1 AdmissionReview");
        }
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body);
        } catch (JacksonException e) {
            throw new BadRequestException("request body is not valid JSON: " + describe(e));
        } catch (IOException e) {
            throw new BadRequestException("request body could not be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new BadRequestException("request body must be a JSON object (an admission.k8s.io/v1 AdmissionReview)");
        }
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
        ObjectNode object = objectOrNull(request, "object");
        ObjectNode oldObject = objectOrNull(request, "oldObject");
        if (object != null) {
            String declared = text(object, "kind", "request.object.kind");
            if (declared != null && !declared.isEmpty() && !declared.equals(objectKind)) {
                throw new BadRequestException("request.object.kind " + quote(declared) + " disagrees with request.kind.kind "
                        + quote(objectKind));
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
                user, dryRun != null && dryRun.asBoolean(), object, oldObject);
    }

    /** Reads an object node as a model class; a wrong type or shape is a bad request naming the field. */
    public static <T extends HasMetadata> T typed(ObjectNode node, Class<T> type, String where) {
        try {
            return Json.MAPPER.treeToValue(node, type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            String path = e instanceof JsonMappingException jm ? Json.fieldPath(jm) : "";
            throw new BadRequestException(where + (path.isEmpty() ? "" : "." + path) + " is not a valid " + type.getSimpleName()
                    + " field: " + (e instanceof JacksonException je ? describe(je) : "wrong type or shape"));
        }
    }


    /**
     * A short description of a parse or binding error that names positions, field names and JSON
     * types but never a value from the body (values can be secrets, e.g. env values, and the message
     * is logged and returned) and never a Java type.
     */
    static String describe(JacksonException e) {
        if (e instanceof MismatchedInputException mi && !(e instanceof StreamReadException)) {
            String found = mi.getProcessor() instanceof JsonParser p && p.currentToken() != null ? jsonType(p.currentToken()) : "another type";
            return "expected " + jsonType(mi.getTargetType()) + ", found " + found;
        }
        String msg = e.getOriginalMessage();
        if (msg == null) {
            msg = "malformed input";
        }
        int nl = msg.indexOf('\n');
        if (nl > 0) {
            msg = msg.substring(0, nl);
        }
        if (!msg.startsWith("Duplicate field")) {
            // Jackson quotes offending tokens and characters; field names are only quoted in duplicate-field messages.
            msg = msg.replaceAll("'[^']*'", "'…'").replaceAll("\"[^\"]*\"", "\"…\"").replaceAll("\\(code \\d+\\)", "")
                    .replaceAll("`[^`]*`", "a value");
        }
        if (msg.length() > 300) {
            msg = msg.substring(0, 300) + "...";
        }
        if (e.getLocation() != null && !(e instanceof DatabindException)) {
            msg += " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
        }
        return msg;
    }

    private static String jsonType(Class<?> type) {
        if (type == null) {
            return "another type";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "a boolean";
        }
        if (type == Long.class || type == Integer.class || type == long.class || type == int.class || type == Short.class) {
            return "an integer";
        }
        if (Number.class.isAssignableFrom(type) || type.isPrimitive()) {
            return "a number";
        }
        if (type == String.class || CharSequence.class.isAssignableFrom(type)) {
            return "a string";
        }
        if (type.isArray() || java.util.Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        return "an object";
    }

    private static String jsonType(JsonToken token) {
        return switch (token) {
            case START_OBJECT, END_OBJECT, FIELD_NAME -> "an object";
            case START_ARRAY, END_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT -> "an integer";
            case VALUE_NUMBER_FLOAT -> "a decimal number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> "another type";
        };
    }

    private static String text(JsonNode parent, String field, String path) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw new BadRequestException(path + " must be a string");
        }
        return n.asText();
    }

    private static ObjectNode objectOrNull(JsonNode parent, String field) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            throw new BadRequestException("request." + field + " must be an object");
        }
        return (ObjectNode) n;
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    private static String quote(String s) {
        return s == null ? "(none)" : "\"" + s + "\"";
    }
}
