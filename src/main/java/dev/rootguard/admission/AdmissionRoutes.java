package dev.rootguard.admission;

import dev.rootguard.config.RootguardConfig;
import dev.rootguard.json.Json;
import io.quarkus.runtime.configuration.MemorySizeConverter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jboss.logging.Logger;

/**
 * The HTTPS transport for admission, as two Vert.x routes (deciding is CPU work on memory; a JAX-RS layer
 * cost 8-12% of the event loop's time and nothing was gained from it). Bodies are read by {@link BodyReader}
 * within the {@link BodyBudget}; bodies under {@code rootguard.admission.inline-body-size} are decided on the
 * event loop, larger ones on the {@link DecisionPool}, and the answer is written from the event loop either
 * way. Status codes:
 * <ul>
 * <li>200: an AdmissionReview with a decision (including denials and evaluation failures);</li>
 * <li>400: the body is not an AdmissionReview v1 with a request (the message says what is missing);</li>
 * <li>404 and 405: another path, or another method than POST;</li>
 * <li>413: the body is larger than {@code rootguard.admission.max-body-size};</li>
 * <li>415: the content type is not {@code application/json};</li>
 * <li>503: too many bodies are being received at once, or too many large ones wait for a decision
 * ({@code Retry-After: 1});</li>
 * <li>500: an unexpected failure, with no detail (the log has it).</li>
 * </ul>
 * Every error body is {@code {"code": N, "message": "..."}}.
 */
@ApplicationScoped
public class AdmissionRoutes {
    private static final Logger LOG = Logger.getLogger(AdmissionRoutes.class);
    static final String WORKERS_BUSY_MESSAGE = "too many large requests are waiting for a decision; retry";
    private final AdmissionHandler handler;
    private final long maxBody;
    private final long inlineBody;
    private final BodyBudget budget;
    private final DecisionPool pool;

    public AdmissionRoutes(AdmissionHandler handler, RootguardConfig config, BodyBudget budget, DecisionPool pool) {
        this.handler = handler;
        MemorySizeConverter sizes = new MemorySizeConverter();
        this.maxBody = sizes.convert(config.admission().maxBodySize()).asLongValue();
        this.inlineBody = sizes.convert(config.admission().inlineBodySize()).asLongValue();
        this.budget = budget;
        this.pool = pool;
    }

    void routes(@Observes Router router) {
        BodyReader body = new BodyReader(budget, maxBody);
        route(router, body, "/validate", "validate", handler::validate);
        route(router, body, "/mutate", "mutate", handler::mutate);
        router.route().last().handler(ctx -> error(ctx, 404, "Not Found"));
        router.route().last().failureHandler(AdmissionRoutes::failure);
    }

    /** {@link AdmissionHandler#validate(byte[], Executor)} or {@link AdmissionHandler#mutate(byte[], Executor)}. */
    @FunctionalInterface
    interface Decider {
        CompletionStage<byte[]> decide(byte[] body, Executor after);
    }

    private void route(Router router, BodyReader body, String path, String webhook, Decider decide) {
        // The content type is checked before the body is read: a form content type would otherwise be parsed as a form.
        router.post(path)
                .order(-10)
                .handler(new RequireJson())
                .handler(body)
                .handler(ctx -> handle(ctx, webhook, decide))
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
        error(
                ctx,
                415,
                "content type must be application/json, got "
                        + (contentType == null ? "none" : "\"" + contentType + "\""));
    }

    private void handle(RoutingContext ctx, String webhook, Decider decide) {
        byte[] body = ctx.get(BodyReader.BODY);
        Context loop = Vertx.currentContext();
        if (body.length < inlineBody) {
            // Decided here; when the decision waits for image lookups, it continues on this event loop.
            CompletableFuture<Decision> d = decide(decide, body, r -> loop.runOnContext(v -> r.run()));
            if (d.isDone()) {
                answer(ctx, webhook, d.join());
            } else {
                d.thenAccept(decision -> answer(ctx, webhook, decision));
            }
            return;
        }
        boolean queued = pool.submit(() -> {
            // A client that went away while its body waited gets no decision: the thread is free sooner.
            if (ctx.response().closed()) {
                return;
            }
            // After image lookups the decision continues on the thread that completed them.
            decide(decide, body, Runnable::run).thenAccept(d -> loop.runOnContext(v -> answer(ctx, webhook, d)));
        });
        if (!queued) {
            ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
            error(ctx, 503, WORKERS_BUSY_MESSAGE);
        }
    }

    /** An answer, a request the decoder refused, or an unexpected failure (answered 500 by {@link #failure}). */
    private record Decision(byte[] out, BadRequestException bad, Throwable failure) {}

    /** The decision, as a future that never fails. */
    private static CompletableFuture<Decision> decide(Decider decide, byte[] body, Executor after) {
        try {
            return decide.decide(body, after).toCompletableFuture().handle((out, e) -> {
                if (e == null) {
                    return new Decision(out, null, null);
                }
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                return cause instanceof BadRequestException bad
                        ? new Decision(null, bad, null)
                        : new Decision(null, null, cause);
            });
        } catch (BadRequestException e) {
            return CompletableFuture.completedFuture(new Decision(null, e, null));
        } catch (RuntimeException | Error e) {
            // As a route handler's would: Vert.x Web fails the context with it, which answers 500.
            return CompletableFuture.completedFuture(new Decision(null, null, e));
        }
    }

    private static void answer(RoutingContext ctx, String webhook, Decision d) {
        if (ctx.response().ended() || ctx.response().closed()) {
            return;
        }
        if (d.failure() != null) {
            ctx.fail(d.failure());
        } else if (d.bad() != null) {
            LOG.debugf("%s: rejected request body: %s", webhook, d.bad().getMessage());
            error(ctx, d.bad().status(), d.bad().getMessage());
        } else {
            ctx.response()
                    .setStatusCode(200)
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .end(Buffer.buffer(d.out()));
        }
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

    static Future<Void> error(RoutingContext ctx, int status, String message) {
        byte[] json = Json.MAPPER
                .createObjectNode()
                .put("code", status)
                .put("message", message)
                .toString()
                .getBytes(StandardCharsets.UTF_8);
        return ctx.response()
                .setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(Buffer.buffer(json));
    }
}
