package dev.rootguard.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One POST over its own TLS connection that announces a body of some length and sends only part of it,
 * then stalls with the connection open, as a slow or hostile client would. The body is written on one
 * thread while another reads, so an answer the server sends before the body is complete (and the server
 * closing the connection after it) is seen rather than lost to a failed write.
 */
public final class RawUpload implements AutoCloseable {
    /** The status and body of an answer, or the I/O error that ended the connection without one. */
    public record Answer(int status, String body, String error) {}

    private final SSLSocket socket;
    private final AtomicLong sent = new AtomicLong();
    private final CompletableFuture<Long> written = new CompletableFuture<>();
    private final CompletableFuture<Answer> answer = new CompletableFuture<>();

    /** Opens the connection and starts sending SEND of ANNOUNCED bytes of a body to PATH (a JSON array of spaces). */
    public RawUpload(SSLSocketFactory tls, String host, int port, String path, long announced, long send)
            throws IOException {
        this(tls, host, port, path, announced, send, null);
    }

    /** Opens the connection and sends all of BODY to PATH; the answer is waited for without a timeout. */
    public RawUpload(SSLSocketFactory tls, String host, int port, String path, byte[] body) throws IOException {
        this(tls, host, port, path, body.length, body.length, body);
    }

    private RawUpload(SSLSocketFactory tls, String host, int port, String path, long announced, long send, byte[] body)
            throws IOException {
        socket = (SSLSocket) tls.createSocket(host, port);
        socket.startHandshake();
        OutputStream out = socket.getOutputStream();
        InputStream in = new BufferedInputStream(socket.getInputStream());
        String head = "POST " + path + " HTTP/1.1\r\nHost: " + host
                + "\r\nContent-Type: application/json\r\nContent-Length: " + announced + "\r\n\r\n";
        Thread writer = new Thread(
                () -> {
                    try {
                        out.write(head.getBytes(StandardCharsets.US_ASCII));
                        if (body != null) {
                            out.write(body);
                            out.flush();
                            sent.set(body.length);
                            written.complete(sent.get());
                            return;
                        }
                        byte[] chunk = new byte[64 * 1024];
                        Arrays.fill(chunk, (byte) ' ');
                        chunk[0] = '[';
                        while (sent.get() < send) {
                            int n = (int) Math.min(chunk.length, send - sent.get());
                            out.write(chunk, 0, n);
                            sent.addAndGet(n);
                            chunk[0] = ' ';
                        }
                        out.flush();
                    } catch (IOException e) {
                        // The server answered and closed: the reader has (or will have) the answer.
                    }
                    written.complete(sent.get());
                },
                "raw-upload-writer");
        writer.setDaemon(true);
        Thread reader = new Thread(() -> answer.complete(read(in)), "raw-upload-reader");
        reader.setDaemon(true);
        writer.start();
        reader.start();
    }

    /** Body bytes written so far. */
    public long sent() {
        return sent.get();
    }

    /** Completes when the writer has sent all it meant to, or the connection failed. */
    public CompletableFuture<Long> written() {
        return written;
    }

    /** Completes with the server's answer, or with the error when the connection ends without one. */
    public CompletableFuture<Answer> answer() {
        return answer;
    }

    private static Answer read(InputStream in) {
        try {
            String status = line(in);
            int length = 0;
            for (String h = line(in); !h.isEmpty(); h = line(in)) {
                if (h.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(h.substring(15).trim());
                }
            }
            String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
            return new Answer(Integer.parseInt(status.split(" ")[1]), body, null);
        } catch (IOException | RuntimeException e) {
            return new Answer(0, "", e.toString());
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed after \"" + b + "\"");
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // already gone
        }
    }
}
