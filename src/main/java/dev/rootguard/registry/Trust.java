package dev.rootguard.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** The certificate authorities registries are trusted by: the JVM's, and those of {@code rootguard.images.ca-file}. */
final class Trust {
    private Trust() {}

    static SSLSocketFactory socketFactory(Optional<Path> caFile) {
        try {
            if (caFile.isEmpty()) {
                return SSLContext.getDefault().getSocketFactory();
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            X509TrustManager jvm = trustManager(null);
            int i = 0;
            for (X509Certificate ca : jvm.getAcceptedIssuers()) {
                store.setCertificateEntry("jvm-" + i++, ca);
            }
            List<Certificate> extra = read(caFile.get());
            if (extra.isEmpty()) {
                throw new IllegalArgumentException(
                        "rootguard.images.ca-file: " + caFile.get() + " holds no certificate");
            }
            for (Certificate c : extra) {
                store.setCertificateEntry("ca-file-" + i++, c);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {trustManager(store)}, null);
            return ctx.getSocketFactory();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException(
                    "rootguard.images.ca-file: " + caFile.orElse(null) + ": " + e.getMessage(), e);
        }
    }

    private static List<Certificate> read(Path file) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(file)) {
            return new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
        }
    }

    private static X509TrustManager trustManager(KeyStore store) throws GeneralSecurityException {
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(store);
        for (TrustManager tm : f.getTrustManagers()) {
            if (tm instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X.509 trust manager");
    }
}
