package dev.rootguard.admission;

import dev.rootguard.config.RootguardConfig;
import dev.rootguard.policy.Json;
import io.quarkus.runtime.configuration.MemorySizeConverter;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.PlatformHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * The HTTPS transport for admission, as two Vert.x routes on the event loop (deciding is CPU work on
 * memory; a JAX-RS layer cost 8-12% of the event loop's time and nothing was gained from it). Status codes:
 * <ul>
 * <li>200: an AdmissionReview with a decision (including denials and evaluation failures);</li>
 * <li>400: the body is not an AdmissionReview v1 with a request (the message says what is missing);</li>
 * <li>404 and 405: another path, or another method than POST;</li>
 * <li>413: the body is larger than {@code rootguard.admission.max-body-size};</li>
 * <li>415: the content type is not {@code application/json};</li>
 * <li>500: an unexpected failure, with no detail (the log has it).</li>
 * </ul>
 * Every error body is {@code {"code": N, "message": "..."}}.
 */
@ApplicationScoped
public class AdmissionRoutes {
    private static final Logger LOG = Logger.getLogger(AdmissionRoutes.class);
    private final AdmissionHandler handler;
    private final long maxBody;

    public AdmissionRoutes(AdmissionHandler handler, RootguardConfig config) {
        this.handler = handler;
        this.maxBody = new MemorySizeConverter().convert(config.admission().maxBodySize()).asLongValue();
    }

    void routes(@Observes Router router) {
        BodyHandler body = BodyHandler.create(false).setBodyLimit(maxBody);
        route(router, body, "/validate", "validate", handler::validate);
        route(router, body, "/mutate", "mutate", handler::mutate);
        router.route().last().handler(ctx -> error(ctx, 404, "Not Found"));
        router.route().last().failureHandler(AdmissionRoutes::failure);
    }

    private static void route(Router router, BodyHandler body, String path, String webhook, Function<byte[], byte[]> decide) {
        // The content type is checked before the body is read: a form content type would otherwise be parsed as a form.
        router.post(path).order(-10).handler(new RequireJson()).handler(body).handler(ctx -> handle(ctx, webhook, decide))
                .failureHandler(AdmissionRoutes::failure);
        router.route(path).order(-9).handler(ctx -> {
            ctx.response().putHeader(HttpHeaders.ALLOW, HttpMethod.POST.name());
            error(ctx, 405, "Method Not Allowed");
        });
    }

    /** Vert.x Web runs platform handlers before the body handler; this one only looks at a header. */
    private static final class RequireJson implements PlatformHandler {
        @Override
        public void handle(RoutingContext ctx) {
            requireJson(ctx);
        }
    }

    private static void requireJson(RoutingContext ctx) {
        String contentType = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
        if (isJson(contentType)) {
            ctx.next();
            return;
        }
        // The unread body is discarded, so the connection stays usable.
        ctx.request().resume();
        error(ctx, 415, "content type must be application/json, got " + (contentType == null ? "none" : "\"" + contentType + "\""));
    }

    private static void handle(RoutingContext ctx, String webhook, Function<byte[], byte[]> decide) {
        Buffer in = ctx.body().buffer();
        byte[] out;
        try {
            out = decide.apply(in == null ? new byte[0] : in.getBytes());
        } catch (BadRequestException e) {
            LOG.debugf("%s: rejected request body: %s", webhook, e.getMessage());
            error(ctx, e.status(), e.getMessage());
            return;
        }
        ctx.response().setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(Buffer.buffer(out));
    }

    private static void failure(RoutingContext ctx) {
        if (ctx.response().ended()) {
            return;
        }
        if (ctx.response().closed()) {
            // The client went away, or its connection was cut (read deadline): there is no one to answer.
            LOG.debugf("connection closed before the request was answered: %s", ctx.failure());
            return;
        }
        int status = ctx.statusCode();
        if (status == 413) {
            error(ctx, 413, "Request Entity Too Large");
        } else if (status >= 400 && status < 500) {
            error(ctx, status, status == 404 ? "Not Found" : status == 405 ? "Method Not Allowed" : "Bad Request");
        } else {
            LOG.error("unexpected error while handling a request", ctx.failure());
            error(ctx, 500, "internal error");
        }
    }

    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semi = contentType.indexOf(';');
        String base = (semi < 0 ? contentType : contentType.substring(0, semi)).trim();
        return base.equalsIgnoreCase("application/json");
    }

    private static void error(RoutingContext ctx, int status, String message) {
        byte[] json = Json.MAPPER.createObjectNode().put("code", status).put("message", message).toString().getBytes(StandardCharsets.UTF_8);
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(Buffer.buffer(json));
    }
}
