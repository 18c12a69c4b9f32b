package dev.rootguard.json;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.module.blackbird.BlackbirdModule;

/**
 * The one JSON mapper for admission requests and audited manifests. It is strict so that no body can mean two things:
 * duplicate keys are refused (two parsers could keep different copies), and scalars are never
 * coerced ({@code "privileged": "true"} is an error, not {@code true}; {@code "image": 5} is an error,
 * not {@code "5"}). Model objects are only built from JSON objects: a string is never passed to a
 * one-argument constructor, so {@code "os": "windows"} is an error, not {@code os.name: windows}
 * (the API server rejects both the same way).
 */
public final class Json {
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            // ALLOW_COERCION_OF_SCALARS does not cover numbers and booleans read into strings.
            .withCoercionConfig(
                    LogicalType.Textual,
                    c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                            .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                            .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            // No implicit creators: the model classes' one-argument constructors would take a bare string.
            .visibility(PropertyAccessor.CREATOR, JsonAutoDetect.Visibility.NONE)
            // Creates model objects and sets their fields through generated lambdas rather than reflection.
            .addModule(new BlackbirdModule())
            .build();

    private Json() {}

    /**
     * The field path of a mapping error, in the form rule violations use:
     * {@code spec.containers[0].securityContext.runAsUser}.
     */
    public static String fieldPath(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    /**
     * A value from a request or annotation for a message: in quotes, at most 64 characters,
     * control characters replaced, so that a message can neither grow with the input nor break a log
     * line. {@code (none)} for null.
     */
    public static String quote(String value) {
        if (value == null) {
            return "(none)";
        }
        String v = value.length() > 64 ? value.substring(0, 64) + "..." : value;
        StringBuilder sb = new StringBuilder("\"");
        v.codePoints().forEach(c -> sb.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return sb.append('"').toString();
    }
}
