package dev.rootguard.admission;

import dev.rootguard.policy.Json;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import org.jboss.logging.Logger;

/** Keeps stack traces and internal details out of every HTTP response. */
@Provider
public class InternalErrorMapper implements ExceptionMapper<Throwable> {
    private static final Logger LOG = Logger.getLogger(InternalErrorMapper.class);

    @Override
    public Response toResponse(Throwable e) {
        if (e instanceof WebApplicationException wae) {
            int status = wae.getResponse().getStatus();
            return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(Json.MAPPER.createObjectNode().put("code", status)
                            .put("message", Response.Status.fromStatusCode(status) == null ? "error"
                                    : Response.Status.fromStatusCode(status).getReasonPhrase()).toString())
                    .build();
        }
        LOG.error("unexpected error while handling a request", e);
        return Response.serverError().type(MediaType.APPLICATION_JSON_TYPE)
                .entity(Json.MAPPER.createObjectNode().put("code", 500).put("message", "internal error").toString()).build();
    }
}
