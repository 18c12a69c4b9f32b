package dev.rootguard.admission;

import dev.rootguard.json.Json;
import dev.rootguard.json.JsonErrors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * {@code request.object} or {@code request.oldObject} as the decoder read it: the tokens read from the
 * body, bound to a model class on request. The body is parsed once and no JSON tree of the object is built
 * on the way to a decision.
 */
public final class RequestObject {
    private final TokenBuffer tokens;

    RequestObject(TokenBuffer tokens) {
        this.tokens = tokens;
    }

    /** The tokens of an existing tree, for callers that hold one. */
    public static RequestObject of(JsonNode tree) {
        TokenBuffer tb = new TokenBuffer(Json.MAPPER, false);
        try {
            Json.MAPPER.writeTree(tb, tree);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new RequestObject(tb);
    }

    /** Reads the object as a model class; a wrong type or shape is a bad request naming the field. */
    public <T extends HasMetadata> T bind(Class<T> type, String where) {
        try (JsonParser p = tokens.asParser(Json.MAPPER)) {
            return Json.MAPPER.readValue(p, type);
        } catch (JacksonException | IllegalArgumentException e) {
            String path = e instanceof JsonMappingException jm ? Json.fieldPath(jm) : "";
            throw new BadRequestException(where + (path.isEmpty() ? "" : "." + path) + " is not a valid " + type.getSimpleName()
                    + " field: " + JsonErrors.describe(e, false));
        } catch (IOException e) {
            throw new BadRequestException(where + " cannot be read: " + JsonErrors.describe(e, false));
        }
    }

    /**
     * The object's {@code metadata.name}, else its {@code metadata.generateName} with an asterisk, else "":
     * for a log line about a request that could not be decided, read from the tokens.
     */
    String displayName() {
        JsonNode metadata;
        try (JsonParser p = tokens.asParser(Json.MAPPER)) {
            JsonNode tree = Json.MAPPER.readTree(p);
            metadata = tree == null ? null : tree.path("metadata");
        } catch (IOException e) {
            return "";
        }
        if (metadata == null) {
            return "";
        }
        JsonNode n = metadata.path("name");
        if (n.isTextual() && !n.asText().isEmpty()) {
            return n.asText();
        }
        JsonNode gn = metadata.path("generateName");
        return gn.isTextual() ? gn.asText() + "*" : "";
    }
}
