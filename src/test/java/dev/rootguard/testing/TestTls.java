package dev.rootguard.testing;

import dev.rootguard.tls.DevCertificate;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Path;
import java.util.Map;

/**
 * Gives each Quarkus test application a real serving certificate (self-signed, for localhost and
 * 127.0.0.1) in its own directory under {@code target/test-tls}, so tests talk HTTPS as the API server does.
 */
public class TestTls implements QuarkusTestResourceLifecycleManager {
    public static final Path DIR = Path.of("target", "test-tls", "default");

    private Path dir = DIR;

    @Override
    public void init(Map<String, String> initArgs) {
        if (initArgs.containsKey("dir")) {
            dir = Path.of(initArgs.get("dir"));
        }
    }

    @Override
    public Map<String, String> start() {
        var files = DevCertificate.ensure(dir);
        return Map.of(
                "rootguard.tls.cert",
                files.certFile().toAbsolutePath().toString(),
                "rootguard.tls.key",
                files.keyFile().toAbsolutePath().toString(),
                "rootguard.tls.reload-period",
                "200ms");
    }

    @Override
    public void stop() {}

    /** The certificate file a test application serves. */
    public static Path certFile(Path dir) {
        return dir.resolve("rootguard.crt");
    }
}
