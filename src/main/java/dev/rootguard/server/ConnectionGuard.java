package dev.rootguard.server;

import com.sun.management.UnixOperatingSystemMXBean;
import dev.rootguard.config.RootguardConfig;
import dev.rootguard.tls.CertificateReloader;
import io.netty.channel.Channel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.spi.tls.SslContextFactory;
import jakarta.enterprise.context.ApplicationScoped;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * Bounds every connection to the admission port: how many may be open, how long one may sit idle and
 * how long a client may take to send a request. Vert.x has no per-connection hook for a TLS server
 * that runs before the HTTP codec, so the TLS context is wrapped ({@link GuardedSslContext}): every
 * connection's TLS handler is counted when it is created, and when its handshake completes, the
 * connection is either closed (over {@link #maxConnections()}) or gets an {@link HttpGuard}.
 *
 * <ul>
 * <li>Idle timeout ({@code rootguard.admission.idle-timeout}, Vert.x's idle handler): longer than the
 * API server's 90 s keep-alive, so the API server is the side that closes idle connections.</li>
 * <li>Read deadline ({@code rootguard.admission.request-read-timeout}): a request's headers and body
 * must arrive within it, or the connection is closed; a byte every few seconds no longer holds a
 * connection.</li>
 * <li>Connection cap ({@code rootguard.admission.max-connections}): never more than the process's
 * file-descriptor limit allows ({@link #capFor}).</li>
 * </ul>
 */
@ApplicationScoped
public class ConnectionGuard implements HttpServerOptionsCustomizer {
    private static final Logger LOG = Logger.getLogger(ConnectionGuard.class);
    /** Descriptors always left free, whatever the limit: jars, certificate files, the API-server client. */
    static final int MIN_RESERVE = 256;

    private final long idleTimeoutMs;
    private final long readTimeoutMs;
    private final int maxConnections;
    private final Map<String, String> headers;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong readTimeouts = new AtomicLong();

    private final CertificateReloader tls;

    public ConnectionGuard(RootguardConfig config, CertificateReloader tls) {
        this.tls = tls;
        RootguardConfig.Admission admission = config.admission();
        this.idleTimeoutMs = Math.max(1, admission.idleTimeout().toMillis());
        this.readTimeoutMs = Math.max(1, admission.requestReadTimeout().toMillis());
        long fdLimit = descriptorLimit();
        this.maxConnections = capFor(admission.maxConnections(), fdLimit);
        if (maxConnections < admission.maxConnections()) {
            LOG.infof(
                    "admission connections capped at %d (file-descriptor limit %d; rootguard.admission.max-connections=%d)",
                    maxConnections, fdLimit, admission.maxConnections());
        }
        this.headers = responseHeaders();
    }

    /**
     * The connection cap for a configured maximum and a file-descriptor limit (≤ 0: unknown): at least a
     * quarter of the limit, and at least {@link #MIN_RESERVE}, stays free for everything else and for
     * connections still in their TLS handshake, which hold a descriptor before they are counted out.
     */
    static int capFor(int configured, long fdLimit) {
        if (fdLimit <= 0) {
            return Math.max(1, configured);
        }
        long reserve = Math.max(MIN_RESERVE, fdLimit / 4);
        return (int) Math.max(1, Math.min(configured, fdLimit - reserve));
    }

    private static long descriptorLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return -1;
    }

    /** The headers every answer carries ({@code quarkus.http.header.*}), for the answers written below the router. */
    private static Map<String, String> responseHeaders() {
        Map<String, String> out = new TreeMap<>();
        var config = ConfigProvider.getConfig();
        for (String name : config.getPropertyNames()) {
            if (name.startsWith("quarkus.http.header.") && name.endsWith(".value")) {
                String header = name.substring("quarkus.http.header.".length(), name.length() - ".value".length())
                        .replace("\"", "");
                config.getOptionalValue(name, String.class).ifPresent(v -> out.put(header, v));
            }
        }
        return Map.copyOf(out);
    }

    @Override
    public void customizeHttpsServer(HttpServerOptions options) {
        tls.configure(options, this::engineOptions);
        options.setIdleTimeout((int) Math.min(Integer.MAX_VALUE, idleTimeoutMs))
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    }

    /** The TLS engine options for the admission port, BoringSSL or the JDK's, with every connection guarded. */
    SSLEngineOptions engineOptions(boolean openssl) {
        return openssl ? new GuardedOpenSsl(this) : new GuardedJdk(this);
    }

    /** Connections open now, including those in their TLS handshake. */
    public int openConnections() {
        return open.get();
    }

    /** The connection cap in force. */
    public int maxConnections() {
        return maxConnections;
    }

    /** Connections closed because the cap was reached. */
    public long refusedConnections() {
        return refused.get();
    }

    /** Connections closed because a request did not arrive within the read deadline. */
    public long readTimeouts() {
        return readTimeouts.get();
    }

    long readTimeoutMs() {
        return readTimeoutMs;
    }

    Map<String, String> headers() {
        return headers;
    }

    void readTimedOut() {
        readTimeouts.incrementAndGet();
    }

    /** Called for every server-side TLS handler as it is created, before its connection is in use. */
    void track(SslHandler handler) {
        boolean over = open.incrementAndGet() > maxConnections;
        handler.handshakeFuture().addListener(done -> {
            if (!done.isSuccess()) {
                open.decrementAndGet();
                return;
            }
            Channel channel = (Channel) done.getNow();
            channel.closeFuture().addListener(closed -> open.decrementAndGet());
            if (over) {
                refused.incrementAndGet();
                LOG.debugf(
                        "closing a connection: %d connections are open (rootguard.admission.max-connections)",
                        open.get());
                channel.close();
                return;
            }
            // Runs before the handshake event reaches Vert.x, which then adds the HTTP codec behind this.
            String tls = channel.pipeline().context(handler).name();
            channel.pipeline().addAfter(tls, HttpGuard.RAW, new HttpGuard.Raw(new HttpGuard(this)));
        });
    }

    private static SslContextFactory wrap(SslContextFactory factory, ConnectionGuard guard) {
        return new SslContextFactory() {
            @Override
            public SslContextFactory useAlpn(boolean useAlpn) {
                factory.useAlpn(useAlpn);
                return this;
            }

            @Override
            public SslContextFactory clientAuth(ClientAuth clientAuth) {
                factory.clientAuth(clientAuth);
                return this;
            }

            @Override
            public SslContextFactory forClient(boolean forClient) {
                factory.forClient(forClient);
                return this;
            }

            @Override
            public SslContextFactory keyMananagerFactory(KeyManagerFactory kmf) {
                factory.keyMananagerFactory(kmf);
                return this;
            }

            @Override
            public SslContextFactory trustManagerFactory(TrustManagerFactory tmf) {
                factory.trustManagerFactory(tmf);
                return this;
            }

            @Override
            public SslContextFactory enabledCipherSuites(Set<String> suites) {
                factory.enabledCipherSuites(suites);
                return this;
            }

            @Override
            public SslContextFactory applicationProtocols(List<String> protocols) {
                factory.applicationProtocols(protocols);
                return this;
            }

            @Override
            public SslContextFactory serverName(String serverName) {
                factory.serverName(serverName);
                return this;
            }

            @Override
            public SslContext create() throws SSLException {
                SslContext context = factory.create();
                return context.isClient() ? context : new GuardedSslContext(context, guard);
            }
        };
    }

    /** Counts each server connection's TLS handler; everything else is the wrapped context's. */
    static final class GuardedSslContext extends DelegatingSslContext {
        private final ConnectionGuard guard;

        GuardedSslContext(SslContext context, ConnectionGuard guard) {
            super(context);
            this.guard = guard;
        }

        @Override
        protected void initEngine(SSLEngine engine) {}

        @Override
        protected void initHandler(SslHandler handler) {
            guard.track(handler);
        }
    }

    /** BoringSSL, guarded. Vert.x copies engine options, so the copy must stay guarded too. */
    static final class GuardedOpenSsl extends OpenSSLEngineOptions {
        private final ConnectionGuard guard;

        GuardedOpenSsl(ConnectionGuard guard) {
            this.guard = guard;
        }

        private GuardedOpenSsl(GuardedOpenSsl other) {
            super(other);
            this.guard = other.guard;
        }

        @Override
        public GuardedOpenSsl copy() {
            return new GuardedOpenSsl(this);
        }

        @Override
        public SslContextFactory sslContextFactory() {
            return wrap(super.sslContextFactory(), guard);
        }
    }

    /** The JDK's TLS, guarded. */
    static final class GuardedJdk extends JdkSSLEngineOptions {
        private final ConnectionGuard guard;

        GuardedJdk(ConnectionGuard guard) {
            this.guard = guard;
        }

        private GuardedJdk(GuardedJdk other) {
            super(other);
            this.guard = other.guard;
        }

        @Override
        public GuardedJdk copy() {
            return new GuardedJdk(this);
        }

        @Override
        public SslContextFactory sslContextFactory() {
            return wrap(super.sslContextFactory(), guard);
        }
    }
}
