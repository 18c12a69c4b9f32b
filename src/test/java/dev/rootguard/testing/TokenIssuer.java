package dev.rootguard.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.rootguard.tls.DevCertificate;
import io.smallrye.certs.PemCertificateFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A token server for a registry with token auth ({@code auth.token}), as Docker Hub, GHCR and Harbor
 * run: {@code GET /token?service=...&scope=repository:NAME:pull} with {@link Registry#USER}'s basic
 * credentials answers a JWT (RS256, the signing certificate in its {@code x5c} header and in the
 * registry's {@code rootcertbundle}) granting the scopes asked for; anything else is 401. A test
 * fixture because no token server is available to build here; it follows the Docker registry token
 * specification, and the registry that checks its tokens is the real one.
 */
public final class TokenIssuer implements AutoCloseable {
    public static final String SERVICE = "rootguard-test-registry";
    public static final String ISSUER = "rootguard-test-issuer";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpsServer server;
    private final Path certFile;
    private final PrivateKey key;
    private final String certificate;
    private final AtomicInteger issued = new AtomicInteger();

    public TokenIssuer(Path dir) {
        try {
            PemCertificateFiles files = DevCertificate.ensure(dir);
            this.certFile = files.certFile();
            this.key = privateKey(files.keyFile());
            X509Certificate cert;
            try (InputStream in = Files.newInputStream(certFile)) {
                cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            }
            this.certificate = Base64.getEncoder().encodeToString(cert.getEncoded());
            server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            server.setHttpsConfigurator(new HttpsConfigurator(Pem.context(certFile, certFile, files.keyFile())));
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the token issuer", e);
        }
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "token-issuer");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/token", this::token);
        server.start();
    }

    /** The URL the registry sends clients to. */
    public String realm() {
        return "https://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    /** The certificate that signs the tokens (and serves TLS). */
    public Path certFile() {
        return certFile;
    }

    /** Tokens given out so far. */
    public int issued() {
        return issued.get();
    }

    private void token(HttpExchange x) throws IOException {
        try (x) {
            String auth = x.getRequestHeaders().getFirst("Authorization");
            if (auth == null || !auth.equals(Registry.basicAuthorization(Registry.USER, Registry.PASSWORD))) {
                x.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"" + ISSUER + "\"");
                x.sendResponseHeaders(401, -1);
                return;
            }
            ArrayNode access = JSON.createArrayNode();
            String query = x.getRequestURI().getRawQuery();
            for (String pair : query == null ? new String[0] : query.split("&")) {
                if (!pair.startsWith("scope=")) {
                    continue;
                }
                // repository:NAME:ACTIONS, NAME may hold ':' (a port is not part of it, but be safe).
                String scope = URLDecoder.decode(pair.substring("scope=".length()), StandardCharsets.UTF_8);
                int first = scope.indexOf(':');
                int last = scope.lastIndexOf(':');
                if (first < 0 || last <= first) {
                    continue;
                }
                ObjectNode a = access.addObject()
                        .put("type", scope.substring(0, first))
                        .put("name", scope.substring(first + 1, last));
                ArrayNode actions = a.putArray("actions");
                for (String action : scope.substring(last + 1).split(",")) {
                    actions.add(action);
                }
            }
            String token = jwt(access);
            issued.incrementAndGet();
            byte[] body = JSON.createObjectNode()
                    .put("token", token)
                    .put("access_token", token)
                    .put("expires_in", 300)
                    .toString()
                    .getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
        } catch (Exception e) {
            x.sendResponseHeaders(500, -1);
        }
    }

    /** A token for one scope, e.g. {@code repository:team/app:pull,push}, as {@code GET /token} gives it. */
    public String token(String scope) {
        int first = scope.indexOf(':');
        int last = scope.lastIndexOf(':');
        ArrayNode access = JSON.createArrayNode();
        ArrayNode actions = access.addObject()
                .put("type", scope.substring(0, first))
                .put("name", scope.substring(first + 1, last))
                .putArray("actions");
        for (String action : scope.substring(last + 1).split(",")) {
            actions.add(action);
        }
        try {
            return jwt(access);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private String jwt(ArrayNode access) throws Exception {
        ObjectNode header = JSON.createObjectNode().put("typ", "JWT").put("alg", "RS256");
        header.putArray("x5c").add(certificate);
        long now = System.currentTimeMillis() / 1000;
        ObjectNode claims = JSON.createObjectNode()
                .put("iss", ISSUER)
                .put("sub", Registry.USER)
                .put("aud", SERVICE)
                .put("exp", now + 300)
                .put("nbf", now - 10)
                .put("iat", now)
                .put("jti", UUID.randomUUID().toString());
        claims.set("access", access);
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signingInput = b64.encodeToString(JSON.writeValueAsBytes(header)) + "."
                + b64.encodeToString(JSON.writeValueAsBytes(claims));
        Signature sig = Signature.getInstance("SHA256withRSA");
        sig.initSign(key);
        sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + b64.encodeToString(sig.sign());
    }

    private static PrivateKey privateKey(Path pem) throws Exception {
        String text = Files.readString(pem)
                .replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "")
                .replaceAll("\\s", "");
        return KeyFactory.getInstance("RSA")
                .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(text)));
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
