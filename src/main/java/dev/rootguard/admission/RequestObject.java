package dev.rootguard.admission;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import dev.rootguard.json.Json;
import dev.rootguard.json.JsonErrors;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * {@code request.object} or {@code request.oldObject} as the decoder read it: already bound to its
 * model class when the decoder knew the class on the way, else as the tokens read from the body,
 * bound on request. Either way no JSON tree of the object is built on the way to a decision, and a
 * bound object is never written back to JSON.
 */
public final class RequestObject {
    private final TokenBuffer tokens;
    private final HasMetadata bound;

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
        if (bound != null) {
            // The decoder bound it to the class of the request's kind, the one the call is checked as.
            if (type != bound.getClass()) {
                throw new IllegalStateException(where + " was read as a "
                        + bound.getClass().getSimpleName() + ", not a " + type.getSimpleName());
            }
            return type.cast(bound);
        }
        try (JsonParser p = tokens.asParser(Json.MAPPER)) {
            return Json.MAPPER.readValue(p, type);
        } catch (JacksonException | IllegalArgumentException e) {
            String path = e instanceof JsonMappingException jm ? Json.fieldPath(jm) : "";
            throw new BadRequestException(where + (path.isEmpty() ? "" : "." + path) + " is not a valid "
                    + type.getSimpleName() + " field: " + JsonErrors.describe(e, false));
        } catch (IOException e) {
            throw new BadRequestException(where + " cannot be read: " + JsonErrors.describe(e, false));
        }
    }

    /**
     * The object's {@code metadata.name}, else its {@code metadata.generateName} with an asterisk, else "":
     * for a log line about a request that could not be decided, read from the tokens.
     */
    String displayName() {
        if (bound != null) {
            ObjectMeta m = bound.getMetadata();
            if (m == null) {
                return "";
            }
            if (m.getName() != null && !m.getName().isEmpty()) {
                return m.getName();
            }
            return m.getGenerateName() == null ? "" : m.getGenerateName() + "*";
        }
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
