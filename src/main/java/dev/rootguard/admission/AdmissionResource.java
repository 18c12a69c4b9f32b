package dev.rootguard.admission;

import dev.rootguard.policy.Json;
import io.smallrye.common.annotation.NonBlocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * The HTTPS transport for admission. Status codes:
 * <ul>
 * <li>200: an AdmissionReview with a decision (including denials and evaluation failures);</li>
 * <li>400: the body is not an AdmissionReview v1 with a request (message says what is missing);</li>
 * <li>413: the body is larger than {@code rootguard.admission.max-body-size} (answered by the HTTP layer);</li>
 * <li>415: the content type is not {@code application/json}.</li>
 * </ul>
 * Deciding is CPU work on parsed memory, so it runs on the event loop.
 */
@Path("/")
public class AdmissionResource {
    private static final Logger LOG = Logger.getLogger(AdmissionResource.class);

    @Inject
    AdmissionHandler handler;

    @POST
    @Path("validate")
    @Consumes(MediaType.WILDCARD)
    @NonBlocking
    public Response validate(@HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, byte[] body) {
        return handle("validate", contentType, body, handler::validate);
    }

    @POST
    @Path("mutate")
    @Consumes(MediaType.WILDCARD)
    @NonBlocking
    public Response mutate(@HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, byte[] body) {
        return handle("mutate", contentType, body, handler::mutate);
    }

    private static Response handle(String webhook, String contentType, byte[] body, Function<byte[], byte[]> decide) {
        if (!isJson(contentType)) {
            return error(415, "content type must be application/json, got " + (contentType == null ? "none" : "\"" + contentType + "\""));
        }
        try {
            return Response.ok(decide.apply(body), MediaType.APPLICATION_JSON_TYPE).build();
        } catch (BadRequestException e) {
            LOG.debugf("%s: rejected request body: %s", webhook, e.getMessage());
            return error(e.status(), e.getMessage());
        }
    }

    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semi = contentType.indexOf(';');
        String base = (semi < 0 ? contentType : contentType.substring(0, semi)).trim();
        return base.equalsIgnoreCase(MediaType.APPLICATION_JSON);
    }

    private static Response error(int status, String message) {
        byte[] json = Json.MAPPER.createObjectNode().put("code", status).put("message", message).toString()
                .getBytes(StandardCharsets.UTF_8);
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(json).build();
    }
}
