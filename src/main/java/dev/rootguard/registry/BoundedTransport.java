package dev.rootguard.registry;

import com.google.api.client.http.HttpTransport;
import com.google.api.client.http.LowLevelHttpRequest;
import com.google.api.client.http.LowLevelHttpResponse;
import com.google.api.client.http.javanet.NetHttpTransport;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Duration;
import javax.net.ssl.SSLSocketFactory;

/**
 * The HTTP transport of registry requests: the library's own ({@link NetHttpTransport}), with a fixed
 * connect and read timeout, a cap on the bytes any response may have, and a deadline for reading a
 * whole response, so a registry that answers endlessly or a byte at a time cannot hold a lookup thread
 * or memory. The registry client library sets its own 20 s timeouts on each request and reads
 * manifests whole; this is where both are bounded.
 *
 * <p>{@code HttpTransport.buildRequest} is protected and {@code NetHttpTransport} final, so the
 * delegate's is called reflectively (google-http-client's API, unchanged since 1.x).
 */
final class BoundedTransport extends HttpTransport {
    private static final Method BUILD_REQUEST;

    static {
        try {
            BUILD_REQUEST = HttpTransport.class.getDeclaredMethod("buildRequest", String.class, String.class);
            BUILD_REQUEST.setAccessible(true);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final NetHttpTransport delegate;
    private final int timeoutMillis;
    private final long maxBytes;
    private final long deadlineNanos;

    BoundedTransport(SSLSocketFactory tls, Duration timeout, long maxBytes) {
        this.delegate = new NetHttpTransport.Builder().setSslSocketFactory(tls).build();
        this.timeoutMillis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        this.maxBytes = maxBytes;
        // A whole response may take two timeouts: a large one on a slow link, never an endless trickle.
        this.deadlineNanos = timeout.toNanos() * 2;
    }

    @Override
    public boolean supportsMethod(String method) throws IOException {
        return delegate.supportsMethod(method);
    }

    @Override
    protected LowLevelHttpRequest buildRequest(String method, String url) throws IOException {
        LowLevelHttpRequest request;
        try {
            request = (LowLevelHttpRequest) BUILD_REQUEST.invoke(delegate, method, url);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        return new Request(request, url);
    }

    @Override
    public void shutdown() throws IOException {
        delegate.shutdown();
    }

    /** A response larger than {@code rootguard.images.max-response-size}. */
    static final class TooLargeException extends IOException {
        TooLargeException(String url, long max) {
            super("the answer to " + url + " is larger than the " + max
                    + " bytes rootguard.images.max-response-size allows");
        }
    }

    /** A response that took longer than its deadline to read. */
    static final class TooSlowException extends IOException {
        TooSlowException(String url, long millis) {
            super("reading the answer to " + url + " took longer than " + millis + " ms");
        }
    }

    private final class Request extends LowLevelHttpRequest {
        private final LowLevelHttpRequest target;
        private final String url;

        Request(LowLevelHttpRequest target, String url) {
            this.target = target;
            this.url = url;
        }

        @Override
        public void addHeader(String name, String value) throws IOException {
            target.addHeader(name, value);
        }

        @Override
        public void setTimeout(int connectTimeout, int readTimeout) throws IOException {
            target.setTimeout(timeoutMillis, timeoutMillis);
        }

        @Override
        public void setWriteTimeout(int writeTimeout) throws IOException {
            target.setWriteTimeout(timeoutMillis);
        }

        @Override
        public LowLevelHttpResponse execute() throws IOException {
            target.setTimeout(timeoutMillis, timeoutMillis);
            target.setContentLength(getContentLength());
            target.setContentType(getContentType());
            target.setContentEncoding(getContentEncoding());
            target.setStreamingContent(getStreamingContent());
            long start = System.nanoTime();
            LowLevelHttpResponse r = target.execute();
            if (r.getContentLength() > maxBytes) {
                r.disconnect();
                throw new TooLargeException(url, maxBytes);
            }
            return new Response(r, url, start + deadlineNanos);
        }
    }

    private final class Response extends LowLevelHttpResponse {
        private final LowLevelHttpResponse target;
        private final String url;
        private final long deadline;

        Response(LowLevelHttpResponse target, String url, long deadline) {
            this.target = target;
            this.url = url;
            this.deadline = deadline;
        }

        @Override
        public InputStream getContent() throws IOException {
            InputStream in = target.getContent();
            return in == null ? null : new Capped(in, url, deadline);
        }

        @Override
        public String getContentEncoding() throws IOException {
            return target.getContentEncoding();
        }

        @Override
        public long getContentLength() throws IOException {
            return target.getContentLength();
        }

        @Override
        public String getContentType() throws IOException {
            return target.getContentType();
        }

        @Override
        public String getStatusLine() throws IOException {
            return target.getStatusLine();
        }

        @Override
        public int getStatusCode() throws IOException {
            return target.getStatusCode();
        }

        @Override
        public String getReasonPhrase() throws IOException {
            return target.getReasonPhrase();
        }

        @Override
        public int getHeaderCount() throws IOException {
            return target.getHeaderCount();
        }

        @Override
        public String getHeaderName(int index) throws IOException {
            return target.getHeaderName(index);
        }

        @Override
        public String getHeaderValue(int index) throws IOException {
            return target.getHeaderValue(index);
        }

        @Override
        public void disconnect() throws IOException {
            target.disconnect();
        }
    }

    /** Counts the bytes read and the time taken, and fails past either bound. */
    private final class Capped extends FilterInputStream {
        private final String url;
        private final long deadline;
        private long read;

        Capped(InputStream in, String url, long deadline) {
            super(in);
            this.url = url;
            this.deadline = deadline;
        }

        @Override
        public int read() throws IOException {
            check(0);
            int b = super.read();
            if (b >= 0) {
                check(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            check(0);
            int n = super.read(buf, off, len);
            if (n > 0) {
                check(n);
            }
            return n;
        }

        private void check(int n) throws IOException {
            read += n;
            if (read > maxBytes) {
                throw new TooLargeException(url, maxBytes);
            }
            if (System.nanoTime() - deadline > 0) {
                throw new TooSlowException(url, deadlineNanos / 1_000_000);
            }
        }
    }
}
