package dev.rootguard.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.microprofile.config.ConfigProvider;

/** An HTTPS client that trusts only the test certificate, as the API server trusts only its caBundle. */
public final class WebhookClient {
    public static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http;
    private final String base;

    public WebhookClient(Path certFile) {
        this(
                certFile,
                ConfigProvider.getConfig()
                        .getOptionalValue("quarkus.http.test-ssl-port", Integer.class)
                        .orElse(8444));
    }

    /** A client of the webhook on {@code localhost:port}, e.g. a {@link WebhookProcess}. */
    public WebhookClient(Path certFile, int port) {
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(trusting(certFile))
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        this.base = "https://localhost:" + port;
    }

    public static WebhookClient forDefaultCertificate() {
        return new WebhookClient(TestTls.certFile(TestTls.DIR));
    }

    public static SSLContext trusting(Path certFile) {
        try (InputStream in = Files.newInputStream(certFile)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry(
                    "rootguard", CertificateFactory.getInstance("X.509").generateCertificate(in));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<String> post(String path, String contentType, byte[] body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Posts an AdmissionReview and returns its response object, checking the envelope. */
    public JsonNode review(String path, JsonNode admissionReview) {
        try {
            HttpResponse<String> r = post(path, "application/json", JSON.writeValueAsBytes(admissionReview));
            if (r.statusCode() != 200) {
                throw new AssertionError("HTTP " + r.statusCode() + ": " + r.body());
            }
            JsonNode body = JSON.readTree(r.body());
            if (!"admission.k8s.io/v1".equals(body.path("apiVersion").asText())
                    || !"AdmissionReview".equals(body.path("kind").asText())) {
                throw new AssertionError("not an AdmissionReview: " + r.body());
            }
            JsonNode response = body.path("response");
            String uid = admissionReview.path("request").path("uid").asText();
            if (!uid.equals(response.path("uid").asText())) {
                throw new AssertionError("uid not copied: " + r.body());
            }
            return response;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The decoded JSON patch of a mutate response (an empty array when there is none). */
    public static JsonNode patch(JsonNode response) {
        if (!response.has("patch")) {
            return JSON.createArrayNode();
        }
        try {
            return JSON.readTree(
                    Base64.getDecoder().decode(response.path("patch").asText()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** True when a mutate response carries a non-empty patch. */
    public static boolean patchOrEmpty(JsonNode response) {
        return !patch(response).isEmpty();
    }

    /** GET on the management interface (health, metrics). */
    public static HttpResponse<String> management(String path) {
        int port = ConfigProvider.getConfig()
                .getOptionalValue("quarkus.management.test-port", Integer.class)
                .orElse(9001);
        try {
            return HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
