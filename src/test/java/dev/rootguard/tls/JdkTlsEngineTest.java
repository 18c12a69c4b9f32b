package dev.rootguard.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rootguard.admission.AdmissionHttpTest;
import dev.rootguard.config.RootguardConfig.Tls.Engine;
import dev.rootguard.testing.Reviews;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * rootguard.tls.engine=jdk: the admission port falls back to the JDK's TLS (the path platforms
 * without BoringSSL take under auto) and still decides, with the same protocols (TLS 1.1 and 1.0
 * refused: {@code OldTlsProtocolsIT}). The choice itself is checked for every setting.
 */
@QuarkusTest
@TestProfile(JdkTlsEngineTest.Jdk.class)
@WithTestResource(TestTls.class)
class JdkTlsEngineTest {

    public static class Jdk implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("rootguard.tls.engine", "jdk");
        }
    }

    @Inject
    CertificateReloader reloader;

    @Test
    void theJdkEngineServesAdmissionOverTls12AndTls13() throws Exception {
        assertEquals("JDK", reloader.engine());
        JsonNode r = WebhookClient.forDefaultCertificate().review("/validate", Reviews.recorded("pod-create-root"));
        assertFalse(r.path("allowed").asBoolean(), r.toString());
        AdmissionHttpTest.assertTls12AndTls13(
                ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class));
    }

    @Test
    void eachEngineSettingPicksItsImplementation() {
        assertTrue(CertificateReloader.useOpenSsl(Engine.AUTO, true));
        assertFalse(CertificateReloader.useOpenSsl(Engine.AUTO, false));
        assertFalse(CertificateReloader.useOpenSsl(Engine.JDK, true));
        assertFalse(CertificateReloader.useOpenSsl(Engine.JDK, false));
        assertTrue(CertificateReloader.useOpenSsl(Engine.OPENSSL, true));
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> CertificateReloader.useOpenSsl(Engine.OPENSSL, false));
        assertTrue(e.getMessage().contains("rootguard.tls.engine=openssl"), e.getMessage());
    }
}
