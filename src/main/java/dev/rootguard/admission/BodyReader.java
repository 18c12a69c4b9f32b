package dev.rootguard.admission;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.Arrays;
import org.jboss.logging.Logger;

/**
 * Reads a request body into one array, as Vert.x's body handler would, but takes every chunk from the
 * {@link BodyBudget} as it arrives, before it is kept. A body over {@code max-body-size} fails with 413; a chunk
 * that does not fit the budget gets 503 at once and the connection is closed, so a stalled upload holds neither
 * memory nor the connection. The bytes go back to the budget when the answer is written or the connection
 * closes, whichever comes first. The body is left in the context under {@link #BODY}.
 */
final class BodyReader implements Handler<RoutingContext> {
    private static final Logger LOG = Logger.getLogger(BodyReader.class);
    /** Context key of the body, a {@code byte[]}. */
    static final String BODY = "rootguard.body";
    /** Vert.x's body handler preallocates at most this much: a header alone must not cost a large buffer. */
    private static final int FIRST_BUFFER = 64 * 1024;

    static final String BUSY_MESSAGE = "too many request bodies are being received at once; retry";

    private final BodyBudget budget;
    private final long maxBody;

    BodyReader(BodyBudget budget, long maxBody) {
        this.budget = budget;
        this.maxBody = maxBody;
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        long announced = contentLength(request);
        if (announced > maxBody) {
            ctx.fail(413);
            return;
        }
        Upload upload = new Upload(ctx, announced);
        // Called when the response ends, fails or its connection closes: the one place the bytes go back.
        ctx.addEndHandler(ar -> upload.release());
        if (request.isEnded()) {
            // Nothing left to read (the router pauses requests, so this is a request without a body).
            upload.end();
            return;
        }
        request.handler(upload::chunk);
        request.endHandler(v -> upload.end());
        request.exceptionHandler(upload::failed);
        request.resume();
    }

    private static long contentLength(HttpServerRequest request) {
        String value = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (value == null) {
            return -1;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            // The HTTP codec has refused the request already; nothing to size a buffer by.
            return -1;
        }
    }

    /** One body being received. Every method runs on the connection's event loop. */
    private final class Upload {
        private final RoutingContext ctx;
        private final long announced;
        private byte[] bytes = new byte[0];
        private int length;
        private long reserved;
        /** Refused, failed or complete: later chunks are dropped without being counted or kept. */
        private boolean done;

        Upload(RoutingContext ctx, long announced) {
            this.ctx = ctx;
            this.announced = announced;
        }

        void chunk(Buffer chunk) {
            if (done) {
                return;
            }
            int n = chunk.length();
            if (length + (long) n > maxBody) {
                stop();
                ctx.fail(413);
                return;
            }
            if (!budget.tryReserve(n)) {
                stop();
                refuse();
                return;
            }
            reserved += n;
            grow(length + n);
            chunk.getBytes(0, n, bytes, length);
            length += n;
        }

        /** Room for NEEDED bytes: doubling, but never past the announced length, so a complete body needs no copy. */
        private void grow(int needed) {
            if (needed <= bytes.length) {
                return;
            }
            long capacity = Math.max(needed, Math.max(FIRST_BUFFER, 2L * bytes.length));
            capacity = Math.min(capacity, maxBody);
            if (announced >= needed) {
                capacity = Math.min(capacity, announced);
            }
            bytes = Arrays.copyOf(bytes, (int) Math.max(capacity, needed));
        }

        void end() {
            if (done) {
                return;
            }
            done = true;
            ctx.put(BODY, length == bytes.length ? bytes : Arrays.copyOf(bytes, length));
            bytes = null;
            ctx.next();
        }

        void failed(Throwable e) {
            boolean wasDone = done;
            stop();
            if (e instanceof HttpClosedException) {
                // The client went away mid-body; nobody is left to answer.
                LOG.debugf("connection closed while a request body was being received");
            } else if (!wasDone) {
                ctx.fail(e);
            }
        }

        /** Stops keeping chunks and gives the bytes held back. */
        private void stop() {
            done = true;
            bytes = null;
            release();
        }

        void release() {
            if (reserved > 0) {
                budget.release(reserved);
                reserved = 0;
            }
        }

        private void refuse() {
            if (ctx.response().ended() || ctx.response().closed()) {
                return;
            }
            ctx.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE).putHeader(HttpHeaders.RETRY_AFTER, "1");
            // The rest of the body is never read: close once the answer is out, which also frees the connection.
            AdmissionRoutes.error(ctx, 503, BUSY_MESSAGE)
                    .onComplete(ar -> ctx.request().connection().close());
        }
    }
}
