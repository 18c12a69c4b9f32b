package dev.rootguard.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.RawHttps;
import dev.rootguard.testing.TestTls;
import dev.rootguard.testing.WebhookClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * Connection bounds on the admission port, with short limits: idle timeout 3 s, read deadline 1 s,
 * at most 6 connections. Times are asserted in seconds against limits of seconds, not minutes.
 */
@QuarkusTest
@TestProfile(ConnectionLimitsTest.ShortLimits.class)
@WithTestResource(TestTls.class)
class ConnectionLimitsTest {
    static final int CAP = 6;

    public static class ShortLimits implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "rootguard.admission.idle-timeout",
                    "3s",
                    "rootguard.admission.request-read-timeout",
                    "1s",
                    "rootguard.admission.max-connections",
                    String.valueOf(CAP));
        }
    }

    @Inject
    ConnectionGuard guard;

    private static final SSLContext TLS = WebhookClient.trusting(TestTls.certFile(TestTls.DIR));

    private static int port() {
        return ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
    }

    private static RawHttps open() throws Exception {
        return RawHttps.open(TLS, port());
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() throws Exception {
        try (RawHttps c = open()) {
            long start = System.nanoTime();
            assertTrue(c.closedWithin(15_000), "an idle connection must be closed after the 3 s idle timeout");
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 2_500, "closed after " + ms + " ms, before the idle timeout");
        }
    }

    @Test
    void aKeptAliveConnectionServesRequestsSpacedWithinTheIdleTimeout() throws Exception {
        try (RawHttps c = open()) {
            for (int i = 0; i < 3; i++) {
                assertEquals(404, c.send(get("/nothing-" + i)).read().status());
                Thread.sleep(2_000);
            }
        }
    }

    @Test
    void headersTrickledOneByteAtATimeAreCutAtTheReadDeadline() throws Exception {
        assertTrickleCut("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Padding: "
                + "a".repeat(200) + "\r\n");
    }

    @Test
    void aBodyTrickledOneByteAtATimeIsCutAtTheReadDeadline() throws Exception {
        try (RawHttps c = open()) {
            c.send(
                    "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n");
            assertCutWhileTrickling(c, " ".repeat(500));
        }
    }

    private void assertTrickleCut(String text) throws Exception {
        try (RawHttps c = open()) {
            assertCutWhileTrickling(c, text);
        }
    }

    /**
     * Sends one byte every 250 ms and expects the read deadline (1 s) to cut the connection, before the
     * idle timeout (3 s) could: trickled bytes must not keep a request alive.
     */
    private void assertCutWhileTrickling(RawHttps c, String text) throws Exception {
        long before = guard.readTimeouts();
        long start = System.nanoTime();
        boolean closed = false;
        for (int i = 0; i < text.length() && !closed; i++) {
            try {
                c.send(text.substring(i, i + 1));
            } catch (IOException e) {
                closed = true;
                break;
            }
            closed = c.closedWithin(250);
            if ((System.nanoTime() - start) / 1_000_000 > 15_000) {
                break;
            }
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(closed, "a trickling request must be cut at the 1 s read deadline; still open after " + ms + " ms");
        assertTrue(ms >= 700 && ms < 10_000, "cut after " + ms + " ms");
        assertTrue(guard.readTimeouts() > before, "the read deadline, not another timer, must have cut it");
    }

    @Test
    void connectionsOverTheCapAreClosedAndTheCapFreesUpAgain() throws Exception {
        List<RawHttps> held = new ArrayList<>();
        try {
            for (int i = 0; i < CAP; i++) {
                held.add(open());
            }
            long refused = guard.refusedConnections();
            try (RawHttps over = open()) {
                assertTrue(over.closedWithin(3_000), "connection " + (CAP + 1) + " must be closed: the cap is " + CAP);
            }
            assertEquals(refused + 1, guard.refusedConnections());
            for (RawHttps c : held) {
                assertFalse(c.closedWithin(50), "connections within the cap stay open");
            }
            held.remove(0).close();
            // The close is counted on the server's event loop; allow it a moment.
            await().atMost(Duration.ofSeconds(5))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> guard.openConnections() < CAP);
            try (RawHttps again = open()) {
                assertEquals(404, again.send(get("/nothing")).read().status());
            }
        } finally {
            held.forEach(RawHttps::close);
        }
    }

    @Test
    void theCapLeavesAQuarterOfTheDescriptorLimitFree() {
        assertEquals(768, ConnectionGuard.capFor(1000, 1024));
        assertEquals(1000, ConnectionGuard.capFor(1000, 1_048_576));
        assertEquals(256, ConnectionGuard.capFor(1000, 512));
        assertEquals(1000, ConnectionGuard.capFor(1000, -1));
    }
}
