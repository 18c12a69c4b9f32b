package dev.rootguard.tls;

import dev.rootguard.config.RootguardConfig;
import io.netty.handler.ssl.OpenSsl;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.tls.TlsConfiguration;
import io.quarkus.tls.TlsConfigurationRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.net.TrustOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.function.Function;
import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509KeyManager;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * Reloads the serving certificate when its files change on disk (cert-manager renewals, Secret
 * updates), without a restart. The files are hashed every {@code rootguard.tls.reload-period};
 * only a change triggers a reload through the TLS registry ({@link FileFingerprint}), and the new
 * pair is only put in use when the key matches the certificate, so a half-written update never
 * breaks the listener.
 *
 * <p>The HTTPS server gets its key from a {@link RotatingKeyManager}, and a reload swaps that key
 * manager's delegate. Replacing the server's TLS options instead drops connections that arrive
 * during the update, which a webhook cannot afford.
 *
 * <p>With {@code rootguard.tls.client-ca} set, the server also requires a client certificate signed
 * by that CA, checked by a {@link RotatingTrustManager} that is reloaded the same way.
 */
@ApplicationScoped
public class CertificateReloader {
    /** The name of the serving certificate in the Quarkus TLS registry. */
    public static final String TLS_NAME = "rootguard";

    private static final Logger LOG = Logger.getLogger(CertificateReloader.class);

    @Inject
    TlsConfigurationRegistry registry;

    @Inject
    Vertx vertx;

    @Inject
    RootguardConfig config;

    private volatile String engine;
    private volatile RotatingKeyManager keyManager;
    private volatile RotatingTrustManager trustManager;
    private long timer = -1;

    /**
     * Serves the registry's certificate through the rotating key manager, on the TLS engine that
     * {@code engines} gives for BoringSSL ({@code true}) or the JDK ({@code false}).
     */
    public void configure(HttpServerOptions options, Function<Boolean, SSLEngineOptions> engines) {
        TlsConfiguration tls = registry.get(TLS_NAME).orElseThrow();
        boolean openssl = useOpenSsl(config.tls().engine(), OpenSSLEngineOptions.isAvailable());
        options.setSslEngineOptions(engines.apply(openssl));
        engine = openssl ? "BoringSSL" : "JDK";
        if (openssl || config.tls().engine() == RootguardConfig.Tls.Engine.JDK) {
            LOG.infof("TLS on the admission port: %s", engine);
        } else {
            LOG.infof(
                    "TLS on the admission port: JDK (BoringSSL cannot be loaded here: %s)",
                    OpenSsl.unavailabilityCause());
        }
        keyManager = new RotatingKeyManager(x509(tls));
        options.setKeyCertOptions(KeyCertOptions.wrap(keyManager));
        if (config.tls().clientCa().isPresent()) {
            trustManager = new RotatingTrustManager(
                    clientTrust(Path.of(config.tls().clientCa().get())));
            options.setTrustOptions(TrustOptions.wrap(trustManager));
            options.setClientAuth(ClientAuth.REQUIRED);
        } else {
            options.setClientAuth(ClientAuth.NONE);
        }
    }

    /**
     * Whether the admission port uses BoringSSL: always for {@code openssl} (refusing to start when
     * it cannot load), never for {@code jdk}, and for {@code auto} whenever it loads.
     */
    static boolean useOpenSsl(RootguardConfig.Tls.Engine wanted, boolean available) {
        return switch (wanted) {
            case JDK -> false;
            case AUTO -> available;
            case OPENSSL -> {
                if (!available) {
                    throw new IllegalStateException(
                            "rootguard.tls.engine=openssl, but BoringSSL cannot be loaded on this platform ("
                                    + OpenSsl.unavailabilityCause() + "); use auto or jdk");
                }
                yield true;
            }
        };
    }

    /** The TLS implementation serving the admission port: "BoringSSL" or "JDK" (null before the server starts). */
    public String engine() {
        return engine;
    }

    /** True when the admission port requires client certificates. */
    boolean mutualTls() {
        return trustManager != null;
    }

    /** True once the server is using the rotating key manager. */
    boolean serving() {
        return keyManager != null;
    }

    void start(@Observes StartupEvent event) {
        Path cert = Path.of(config.tls().cert().orElseThrow());
        Path key = Path.of(config.tls().key().orElseThrow());
        Path clientCa = config.tls().clientCa().map(Path::of).orElse(null);
        // Nothing recorded yet: the first check reloads once, in case the files changed after the registry read them.
        FileFingerprint files = new FileFingerprint(cert, key, clientCa);
        long period = Math.max(100, config.tls().reloadPeriod().toMillis());
        timer = vertx.setPeriodic(
                period,
                id -> vertx.executeBlocking(
                        () -> {
                            try {
                                files.reloadIfChanged(() -> reload(cert, key, clientCa));
                            } catch (RuntimeException | Error e) {
                                // Never let a failed check go unseen; the next period tries again.
                                LOG.warnf(e, "certificate check failed; keeping the current certificate");
                            }
                            return null;
                        },
                        false));
    }

    /**
     * Graceful shutdown (quarkus.shutdown.delay): readiness is already false and every answer closes
     * its connection. Shortly before the delay ends (its last quarter, at most half a second), new
     * TLS handshakes are refused, so by the time the server stops no connection has been accepted
     * whose request the stop would cut. A Service has long stopped sending new connections by then;
     * this covers clients that still connect directly.
     */
    void onShutdownDelay(@Observes ShutdownDelayInitiatedEvent event) {
        long delay = ConfigProvider.getConfig()
                .getOptionalValue("quarkus.shutdown.delay", Duration.class)
                .map(Duration::toMillis)
                .orElse(0L);
        RotatingKeyManager km = keyManager;
        if (km == null) {
            return;
        }
        long refuseAfter = Math.max(0, delay - Math.min(500, delay / 4));
        Runnable refuse = () -> {
            km.refuseNewHandshakes();
            LOG.infof("shutting down: refusing new TLS connections, finishing the open ones");
        };
        if (refuseAfter == 0) {
            refuse.run();
        } else {
            vertx.setTimer(refuseAfter, id -> refuse.run());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }

    /**
     * Loads the certificate, key and client CA from disk and puts them in use. Returns false, keeping
     * what is in use, when they cannot be loaded or the key does not match the certificate (an update
     * still being written).
     */
    private boolean reload(Path cert, Path key, Path clientCa) {
        TlsConfiguration tls = registry.get(TLS_NAME).orElseThrow();
        try {
            if (!tls.reload()) {
                LOG.warnf(
                        "certificate files %s / %s changed but could not be loaded; keeping the current certificate",
                        cert, key);
                return false;
            }
            if (!keyMatchesCertificate(tls)) {
                LOG.warnf(
                        "certificate %s and key %s do not match (update in progress?); keeping the current certificate",
                        cert, key);
                return false;
            }
            X509ExtendedTrustManager trust = null;
            if (trustManager != null) {
                trust = clientTrust(clientCa);
            }
            RotatingKeyManager km = keyManager;
            if (km != null) {
                km.swap(x509(tls));
            }
            if (trust != null) {
                trustManager.swap(trust);
            }
        } catch (RuntimeException e) {
            LOG.warnf("certificate reload failed (%s); keeping the current certificate", e.getMessage());
            return false;
        }
        LOG.infof("reloaded the serving certificate from %s", cert);
        return true;
    }

    private X509KeyManager x509(TlsConfiguration tls) {
        try {
            for (KeyManager m :
                    tls.getKeyStoreOptions().getKeyManagerFactory(vertx).getKeyManagers()) {
                if (m instanceof X509KeyManager km) {
                    return km;
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the serving key: " + e.getMessage(), e);
        }
        throw new IllegalStateException("the TLS configuration has no X.509 key");
    }

    /**
     * The client CA is read with Vert.x's PEM trust options rather than through the TLS registry: the
     * registry has no way to leave a trust store optional (an empty value fails start-up).
     */
    private X509ExtendedTrustManager clientTrust(Path caFile) {
        try {
            for (TrustManager m : new PemTrustOptions()
                    .addCertPath(caFile.toString())
                    .getTrustManagerFactory(vertx)
                    .getTrustManagers()) {
                if (m instanceof X509ExtendedTrustManager tm) {
                    if (tm.getAcceptedIssuers().length == 0) {
                        throw new IllegalStateException(
                                "rootguard.tls.client-ca " + caFile + " holds no CA certificate");
                    }
                    return tm;
                }
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the client CA " + caFile + ": " + e.getMessage(), e);
        }
        throw new IllegalStateException("no X.509 trust manager for the client CA " + caFile);
    }

    private boolean keyMatchesCertificate(TlsConfiguration tls) {
        try {
            boolean any = false;
            for (KeyManager m :
                    tls.getKeyStoreOptions().getKeyManagerFactory(vertx).getKeyManagers()) {
                if (!(m instanceof X509KeyManager km)) {
                    continue;
                }
                for (String type : new String[] {"RSA", "EC"}) {
                    String[] aliases = km.getServerAliases(type, null);
                    for (int i = 0; aliases != null && i < aliases.length; i++) {
                        PrivateKey pk = km.getPrivateKey(aliases[i]);
                        X509Certificate[] chain = km.getCertificateChain(aliases[i]);
                        if (pk == null || chain == null || chain.length == 0 || !signs(pk, chain[0])) {
                            return false;
                        }
                        any = true;
                    }
                }
            }
            return any;
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean signs(PrivateKey pk, X509Certificate cert) throws GeneralSecurityException {
        String alg = pk.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256with" + pk.getAlgorithm();
        byte[] probe = "rootguard".getBytes(StandardCharsets.UTF_8);
        Signature s = Signature.getInstance(alg);
        s.initSign(pk);
        s.update(probe);
        byte[] sig = s.sign();
        s.initVerify(cert.getPublicKey());
        s.update(probe);
        return s.verify(sig);
    }
}
