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
 * {@code request.object} or {@code request.oldObject} as the decoder read it: already bound to its
 * model class when the decoder knew the class on the way, else as the tokens read from the body,
 * bound on request. Either way the body is parsed once and no JSON tree of the object is built.
 */
public final class RequestObject {
    private final TokenBuffer tokens;
    private final HasMetadata bound;
    private JsonNode tree;

    RequestObject(TokenBuffer tokens) {
        this.tokens = tokens;
        this.bound = null;
    }

    private RequestObject(HasMetadata bound) {
        this.tokens = null;
        this.bound = bound;
    }

    /** An object the decoder already bound while reading the body. */
    static RequestObject bound(HasMetadata object) {
        return new RequestObject(object);
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
        if (bound != null && type == bound.getClass()) {
            return type.cast(bound);
        }
        try (JsonParser p = parser()) {
            return Json.MAPPER.readValue(p, type);
        } catch (JacksonException | IllegalArgumentException e) {
            String path = e instanceof JsonMappingException jm ? Json.fieldPath(jm) : "";
            throw new BadRequestException(where + (path.isEmpty() ? "" : "." + path) + " is not a valid " + type.getSimpleName()
                    + " field: " + JsonErrors.describe(e, false));
        } catch (IOException e) {
            throw new BadRequestException(where + " cannot be read: " + JsonErrors.describe(e, false));
        }
    }

    /** The object as a JSON tree, built on first use (names for logs, tests). */
    public JsonNode tree() {
        if (tree == null) {
            try (JsonParser p = parser()) {
                tree = Json.MAPPER.readTree(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tree;
    }

    private JsonParser parser() throws IOException {
        if (tokens != null) {
            return tokens.asParser(Json.MAPPER);
        }
        return Json.MAPPER.treeAsTokens(Json.MAPPER.valueToTree(bound));
    }
}
