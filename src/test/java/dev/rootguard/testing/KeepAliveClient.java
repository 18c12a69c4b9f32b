package dev.rootguard.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * An HTTP/1.1 client over one kept-alive TLS connection, as the API server uses webhooks: it
 * reuses the connection until the server answers {@code Connection: close} (or closes it), then
 * opens a new one for the next request. Written out by hand so a test sees exactly which step
 * failed: connecting (nobody listening) or a request sent on an open connection (a lost request).
 * Each connection gets a new TLS context and so a full handshake, like the API server's Go client,
 * which keeps no TLS session cache.
 */
public final class KeepAliveClient implements AutoCloseable {
    private final Supplier<SSLSocketFactory> tls;
    private final String host;
    private final int port;
    private Socket socket;
    private InputStream in;
    private int connections;

    /** How a request ended. */
    public enum Outcome {
        /** A complete response. */
        ANSWERED,
        /** No connection could be opened (TCP or TLS handshake refused): nothing was sent. */
        REFUSED,
        /** Sent on an open connection, but no complete response came back. */
        LOST
    }

    /** A complete response, or how the request failed. */
    public record Result(Outcome outcome, int status, String body, boolean connectionClose, String error) {}

    public KeepAliveClient(Supplier<SSLSocketFactory> tls, String host, int port) {
        this.tls = tls;
        this.host = host;
        this.port = port;
    }

    /** Connections opened so far. */
    public int connections() {
        return connections;
    }

    public Result post(String path, byte[] body) {
        if (socket == null) {
            try {
                Socket raw = new Socket();
                raw.setTcpNoDelay(true);
                raw.connect(new InetSocketAddress(host, port), 2000);
                socket = tls.get().createSocket(raw, host, port, true);
                socket.setSoTimeout(10_000);
                // A connection counts as open once its TLS handshake is done; nothing is sent before.
                ((SSLSocket) socket).startHandshake();
                in = new BufferedInputStream(socket.getInputStream());
                connections++;
            } catch (IOException e) {
                closeQuietly();
                return new Result(Outcome.REFUSED, 0, "", false, e.toString());
            }
        }
        try {
            OutputStream out = socket.getOutputStream();
            byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: " + host
                            + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            byte[] request = Arrays.copyOf(head, head.length + body.length);
            System.arraycopy(body, 0, request, head.length, body.length);
            out.write(request);
            out.flush();
            String status = line(in);
            if (status == null) {
                throw new IOException("connection closed before a response");
            }
            int length = -1;
            boolean close = false;
            for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) {
                    length = Integer.parseInt(lower.substring(15).trim());
                } else if (lower.startsWith("connection:") && lower.contains("close")) {
                    close = true;
                }
            }
            if (length < 0) {
                throw new IOException("response without Content-Length: " + status);
            }
            byte[] content = in.readNBytes(length);
            if (content.length != length) {
                throw new IOException("response body cut short");
            }
            if (close) {
                closeQuietly();
            }
            return new Result(
                    Outcome.ANSWERED,
                    Integer.parseInt(status.split(" ")[1]),
                    new String(content, StandardCharsets.UTF_8),
                    close,
                    null);
        } catch (IOException | RuntimeException e) {
            closeQuietly();
            return new Result(Outcome.LOST, 0, "", false, e.toString());
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    private void closeQuietly() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // already gone
            }
            socket = null;
        }
    }

    @Override
    public void close() {
        closeQuietly();
    }
}
