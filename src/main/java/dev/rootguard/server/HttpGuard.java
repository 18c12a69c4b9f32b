package dev.rootguard.server;

import dev.rootguard.json.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One admission connection's request framing, below the router: the read deadline, and the answers
 * that Vert.x would otherwise give with an empty body. Two Netty handlers share it: {@link Raw}, right
 * behind TLS, sees a request's first byte and starts the deadline; the other, right before Vert.x's
 * connection handler, sees decoded requests:
 * <ul>
 * <li>a request line or headers the codec could not read: 400, 414 (URI too long) or 431 (headers too
 * large), as JSON {@code {code, message}}, and the connection is closed;</li>
 * <li>a body whose chunked framing the codec could not read (a chunk size that is not hexadecimal, say):
 * 400, and the connection is closed;</li>
 * <li>a {@code Transfer-Encoding} other than exactly {@code chunked} (RFC 9112 §6.1: the body length
 * cannot be determined, whatever {@code Content-Length} says): 400 and close;</li>
 * <li>the end of a request's body stops the deadline; when it passes first, the connection is closed.</li>
 * </ul>
 */
final class HttpGuard extends ChannelDuplexHandler {
    static final String RAW = "rootguard-request-start";
    static final String HTTP = "rootguard-http";
    /** Vert.x's HTTP/1.x connection handler, last in the pipeline. */
    private static final String VERTX_HANDLER = "handler";

    private final ConnectionGuard guard;
    private ScheduledFuture<?> deadline;
    private boolean reading;
    private boolean rejected;

    HttpGuard(ConnectionGuard guard) {
        this.guard = guard;
    }

    /** Behind TLS: the first byte of each request starts its read deadline. */
    static final class Raw extends ChannelInboundHandlerAdapter {
        private final HttpGuard http;
        private boolean installed;

        Raw(HttpGuard http) {
            this.http = http;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!installed) {
                // By the first application data Vert.x has set up the HTTP codec (at the end of the handshake).
                installed = true;
                if (ctx.pipeline().get(VERTX_HANDLER) != null) {
                    ctx.pipeline().addBefore(VERTX_HANDLER, HTTP, http);
                }
            }
            if (msg instanceof ByteBuf bytes && bytes.isReadable()) {
                http.requestStarted(ctx);
            }
            ctx.fireChannelRead(msg);
        }
    }

    private void requestStarted(ChannelHandlerContext ctx) {
        if (reading || rejected) {
            return;
        }
        reading = true;
        deadline = ctx.executor()
                .schedule(
                        () -> {
                            if (reading && ctx.channel().isOpen()) {
                                guard.readTimedOut();
                                ctx.channel().close();
                            }
                        },
                        guard.readTimeoutMs(),
                        TimeUnit.MILLISECONDS);
    }

    private void requestRead() {
        reading = false;
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (rejected) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest request) {
            String problem = problem(request);
            if (problem != null) {
                ReferenceCountUtil.release(msg);
                reject(ctx, statusFor(request.decoderResult()), problem);
                return;
            }
        }
        if (msg instanceof HttpContent content && content.decoderResult().isFailure()) {
            // Vert.x would only close the connection; the request it holds then ends as a closed connection.
            ReferenceCountUtil.release(msg);
            reject(ctx, 400, "Bad Request: the chunked body cannot be read");
            return;
        }
        if (msg instanceof LastHttpContent) {
            requestRead();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        requestRead();
        ctx.fireChannelInactive();
    }

    /** Why a request is refused before Vert.x sees it, or null. */
    static String problem(HttpRequest request) {
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            return switch (statusFor(result)) {
                case 414 -> "URI Too Long";
                case 431 -> "Request Header Fields Too Large";
                default -> "Bad Request";
            };
        }
        List<String> codings = request.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!codings.isEmpty() && !(codings.size() == 1 && codings.get(0).trim().equalsIgnoreCase("chunked"))) {
            return "Transfer-Encoding must be chunked or absent";
        }
        return null;
    }

    /** The status for a request the codec could not read, as Vert.x chooses it; 400 for a readable but refused one. */
    static int statusFor(DecoderResult result) {
        if (result.isFailure()) {
            if (result.cause() instanceof TooLongHttpLineException) {
                return 414;
            }
            if (result.cause() instanceof TooLongHttpHeaderException) {
                return 431;
            }
        }
        return 400;
    }

    /** Answers {@code {code, message}} and closes: after a framing error nothing more on the connection can be trusted. */
    private void reject(ChannelHandlerContext ctx, int status, String message) {
        rejected = true;
        requestRead();
        byte[] json = Json.MAPPER
                .createObjectNode()
                .put("code", status)
                .put("message", message)
                .toString()
                .getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(json));
        guard.headers().forEach((name, value) -> response.headers().set(name, value));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, json.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
