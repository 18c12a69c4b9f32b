package dev.rootguard.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Decides which client certificates the admission port accepts when mutual TLS is on
 * ({@code rootguard.tls.client-ca}). Like {@link RotatingKeyManager}, a reload of the CA file swaps
 * the delegate in one step, so no handshake sees a half-updated trust configuration.
 */
final class RotatingTrustManager extends X509ExtendedTrustManager {
    private volatile X509ExtendedTrustManager delegate;

    RotatingTrustManager(X509ExtendedTrustManager initial) {
        this.delegate = initial;
    }

    void swap(X509ExtendedTrustManager next) {
        this.delegate = next;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        delegate.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        delegate.checkClientTrusted(chain, authType, engine);
    }

    /** The admission port never acts as a TLS client. */
    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("the admission port does not verify servers");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("the admission port does not verify servers");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw new CertificateException("the admission port does not verify servers");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return delegate.getAcceptedIssuers();
    }
}
