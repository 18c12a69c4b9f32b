package dev.rootguard.admission;

import dev.rootguard.policy.Json;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DatabindException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.util.Collection;
import java.util.regex.Pattern;

/**
 * Reads an AdmissionReview body. Everything wrong with a body becomes a {@link BadRequestException}
 * naming what is missing or malformed, so the transport can answer 400 with that message.
 */
public final class AdmissionDecoder {
    static final String API_VERSION = "admission.k8s.io/v1";
    /** The body is one JSON document: anything after it would be a second one that another reader might take instead. */
    private static final ObjectReader READER = Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Pattern SOURCE = Pattern.compile("\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)]");
    private static final Pattern INTERNAL_NAME = Pattern.compile(",? ?(from )?`[^`]*`( disabled)?");

    private AdmissionDecoder() {
    }

    /** Parses and checks a request body. */
    public static AdmissionCall decode(byte[] body) {
        if (body == null || body.length == 0) {
            throw new BadRequestException("request body is empty; expected an admission.k8s.io/v1 AdmissionReview");
        }
        JsonNode root;
        try {
            root = READER.readTree(body);
        } catch (MismatchedInputException e) {
            // The only mismatch a tree read reports: a second value after the first.
            throw new BadRequestException("request body is not valid JSON: content after the end of the review"
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")"));
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
        if (object == null && ("CREATE".equals(operation) || "UPDATE".equals(operation))) {
            // Without the object there is nothing to decide on; allowing would let it through unchecked.
            throw new BadRequestException("request.object is missing; a " + operation + " request must carry the object");
        }
        if (object != null) {
            String declared = text(object, "kind", "request.object.kind");
            if (declared != null && !declared.isEmpty() && !declared.equals(objectKind)) {
                throw new BadRequestException("request.object.kind " + quote(declared) + " disagrees with request.kind.kind "
                        + quote(objectKind));
            }
            // The group picks the model class (and whether the object is checked at all), so it must agree too.
            String objectApiVersion = text(object, "apiVersion", "request.object.apiVersion");
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
                user, dryRun != null && dryRun.asBoolean(), object, oldObject);
    }

    /** Reads an object node as a model class; a wrong type or shape is a bad request naming the field. */
    public static <T extends HasMetadata> T typed(ObjectNode node, Class<T> type, String where) {
        try {
            return Json.MAPPER.treeToValue(node, type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            String path = e instanceof JsonMappingException jm ? Json.fieldPath(jm) : "";
            throw new BadRequestException(where + (path.isEmpty() ? "" : "." + path) + " is not a valid " + type.getSimpleName()
                    + " field: " + (e instanceof JacksonException je ? describe(je) : "it cannot be read"));
        }
    }

    /**
     * A parse or binding error in the terms of JSON, for the client: no Java type or parser setting names
     * (the field path is added by the caller) and no value from the body.
     */
    static String describe(JacksonException e) {
        if (e instanceof MismatchedInputException mi) {
            return "expected " + expected(mi.getTargetType()) + found(mi);
        }
        String msg = e.getOriginalMessage();
        if (msg == null || msg.startsWith("(was ")) {
            // A wrapped exception without a message of its own would only name its class.
            return "the value cannot be read";
        }
        int nl = msg.indexOf('\n');
        if (nl > 0) {
            msg = msg.substring(0, nl);
        }
        msg = INTERNAL_NAME.matcher(SOURCE.matcher(msg).replaceAll("line $1, column $2")).replaceAll("");
        if (!msg.startsWith("Duplicate field")) {
            // Jackson quotes offending tokens and characters, which are body values (env values can be
            // secrets; this message is logged and returned). Field names are quoted only in duplicate-field messages.
            msg = msg.replaceAll("'[^']*'", "'…'").replaceAll("\"[^\"]*\"", "\"…\"").replaceAll("\\(code \\d+\\)", "");
        }
        if (msg.length() > 300) {
            msg = msg.substring(0, 300) + "...";
        }
        if (e.getLocation() != null && !(e instanceof DatabindException)) {
            msg += " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
        }
        return msg;
    }

    private static String expected(Class<?> type) {
        if (type == null) {
            return "another type";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == Long.class || type == Integer.class || type == Short.class || type == long.class || type == int.class
                || type == short.class || type == java.math.BigInteger.class) {
            return "an integer";
        }
        if (Number.class.isAssignableFrom(type) || type == double.class || type == float.class) {
            return "a number";
        }
        if (CharSequence.class.isAssignableFrom(type)) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "a list";
        }
        if (type.isEnum()) {
            return "one of the allowed values";
        }
        return "an object";
    }

    private static String found(MismatchedInputException e) {
        JsonToken t = e.getProcessor() instanceof JsonParser p ? p.currentToken() : null;
        if (t == null) {
            return "";
        }
        return switch (t) {
            case VALUE_STRING -> ", got a string";
            case VALUE_NUMBER_INT -> ", got an integer";
            case VALUE_NUMBER_FLOAT -> ", got a number with a fraction or exponent";
            case VALUE_TRUE, VALUE_FALSE -> ", got " + t.asString();
            case VALUE_NULL -> ", got null";
            case START_ARRAY -> ", got a list";
            case START_OBJECT, FIELD_NAME -> ", got an object";
            default -> "";
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
        return Json.quote(s);
    }
}
