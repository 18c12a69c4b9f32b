package dev.rootguard.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;

/**
 * The serving key manager. Every TLS handshake asks it for the key and certificate, and a reload
 * swaps what it delegates to in one step. Swapping here, instead of replacing the server's TLS
 * options, means no connection ever arrives while the server is between two configurations.
 */
final class RotatingKeyManager extends X509ExtendedKeyManager {
    private volatile X509KeyManager delegate;
    private volatile boolean refusing;

    RotatingKeyManager(X509KeyManager initial) {
        this.delegate = initial;
    }

    void swap(X509KeyManager next) {
        this.delegate = next;
    }

    /**
     * From now on offers no certificate, so new TLS handshakes fail and clients see a failed
     * connection rather than an accepted one that shutdown would cut. Existing connections keep
     * working.
     */
    void refuseNewHandshakes() {
        this.refusing = true;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return delegate.getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return delegate.chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return delegate.getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        if (refusing) {
            return null;
        }
        return delegate.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        if (refusing) {
            return null;
        }
        X509KeyManager d = delegate;
        return d instanceof X509ExtendedKeyManager x
                ? x.chooseEngineServerAlias(keyType, issuers, engine)
                : d.chooseServerAlias(keyType, issuers, null);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        X509KeyManager d = delegate;
        return d instanceof X509ExtendedKeyManager x
                ? x.chooseEngineClientAlias(keyType, issuers, engine)
                : d.chooseClientAlias(keyType, issuers, null);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return delegate.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return delegate.getPrivateKey(alias);
    }
}
