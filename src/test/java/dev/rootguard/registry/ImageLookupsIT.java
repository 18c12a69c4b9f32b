package dev.rootguard.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import dev.rootguard.policy.ImageFacts;
import dev.rootguard.policy.ImageInfo;
import dev.rootguard.policy.ImageUser;
import dev.rootguard.testing.Registry;
import dev.rootguard.testing.RegistryImages;
import dev.rootguard.testing.TokenIssuer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Image lookups against the real distribution registry on loopback (TLS, with and without basic
 * auth), with images the tests build and push: each USER form, Docker and OCI media types, a
 * multi-platform index whose platforms disagree, and what goes wrong (401, 404, oversized and
 * non-JSON configs). Protocol breakage a real registry never produces comes from {@link FakeRegistry}.
 */
class ImageLookupsIT {
    private static Registry open;
    private static Registry locked;
    private static Path work;

    @BeforeAll
    static void start() throws Exception {
        open = Registry.start();
        locked = Registry.startWithBasicAuth();
        work = Files.createTempDirectory("rootguard-lookups");
    }

    @AfterAll
    static void stop() {
        for (Registry r : new Registry[] {open, locked}) {
            if (r != null) {
                r.close();
            }
        }
    }

    private static LookupSettings settings(Registry r) {
        return LookupSettings.defaults(List.of(r.host())).withCaFile(r.caFile()).withBudget(Duration.ofSeconds(20));
    }

    private static ImageLookups lookups(LookupSettings s) {
        return new ImageLookups(s, LookupMetrics.none());
    }

    @Test
    void everyFormOfUserIsReadWithTheDigestOfItsManifest() {
        Map<String, String> users = new LinkedHashMap<>();
        users.put("none", null);
        users.put("zero", "0");
        users.put("root", "root");
        users.put("uid", "10001");
        users.put("uid-gid", "10001:10001");
        users.put("name", "redis");
        try (ImageLookups lookups = lookups(settings(open))) {
            for (Map.Entry<String, String> e : users.entrySet()) {
                for (ImageFormat format : ImageFormat.values()) {
                    RegistryImages.Image pushed = RegistryImages.push(
                            open,
                            "users/" + e.getKey() + ":" + format.name().toLowerCase(),
                            e.getValue(),
                            "amd64",
                            format);
                    ImageInfo info = lookups.lookUpNow(pushed.reference());
                    assertFalse(info.isFailed(), () -> pushed + ": " + info);
                    assertEquals(
                            List.of(new ImageUser(
                                    "linux/amd64", pushed.digest(), e.getValue() == null ? "" : e.getValue())),
                            info.platforms(),
                            pushed.toString());
                    // By digest too, as a pinned image names it.
                    assertEquals(
                            info.platforms(), lookups.lookUpNow(pushed.pinned()).platforms());
                }
            }
        }
    }

    @Test
    void anIndexIsResolvedPerPlatformAndTheirUsersMayDisagree() {
        for (ImageFormat format : ImageFormat.values()) {
            RegistryImages.Index index = RegistryImages.pushIndex(
                    open, "multi/app:" + format.name().toLowerCase(), Map.of("amd64", "0", "arm64", "10001"), format);
            try (ImageLookups lookups = lookups(settings(open))) {
                ImageInfo info = lookups.lookUpNow(index.reference());
                assertFalse(info.isFailed(), info::toString);
                assertEquals(
                        List.of(
                                new ImageUser(
                                        "linux/amd64",
                                        index.platforms().get("amd64").digest(),
                                        "0"),
                                new ImageUser(
                                        "linux/arm64",
                                        index.platforms().get("arm64").digest(),
                                        "10001")),
                        info.platforms());
                assertEquals(
                        ImageUser.Kind.ROOT,
                        info.on(java.util.Optional.of("amd64")).get(0).kind());
                assertEquals(
                        ImageUser.Kind.NON_ROOT,
                        info.on(java.util.Optional.of("arm64")).get(0).kind());
            }
            try (ImageLookups armOnly = lookups(settings(open).withPlatforms(List.of("linux/arm64")))) {
                assertEquals(
                        List.of("10001"),
                        armOnly.lookUpNow(index.reference()).platforms().stream()
                                .map(ImageUser::user)
                                .toList());
            }
        }
    }

    @Test
    void aRegistryWithBasicAuthNeedsTheDockerConfigsCredentials() throws Exception {
        RegistryImages.Image pushed = RegistryImages.push(locked, "private/app:1", "10001", "amd64", ImageFormat.OCI);
        try (ImageLookups anonymous = lookups(settings(locked))) {
            ImageInfo info = anonymous.lookUpNow(pushed.reference());
            assertTrue(info.isFailed());
            assertTrue(
                    info.failure().get().contains("registry " + locked.host() + " refused access")
                            && info.failure().get().contains("rootguard.images.docker-config"),
                    info.failure().get());
        }
        Path config = locked.dockerConfig(Files.createDirectories(work.resolve("auth")));
        try (ImageLookups withCredentials = lookups(settings(locked).withDockerConfig(config))) {
            ImageInfo info = withCredentials.lookUpNow(pushed.reference());
            assertFalse(info.isFailed(), info::toString);
            assertEquals("10001", info.platforms().get(0).user());
        }
        Path wrong = locked.dockerConfig(Files.createDirectories(work.resolve("wrong")), Registry.USER, "not-it");
        try (ImageLookups withWrong = lookups(settings(locked).withDockerConfig(wrong))) {
            assertTrue(withWrong.lookUpNow(pushed.reference()).failure().get().contains("refused access"));
        }
    }

    @Test
    void aRegistryWithTokenAuthGivesTheLookupABearerTokenForTheCredentials() throws Exception {
        try (TokenIssuer issuer = new TokenIssuer(work.resolve("token-tls"));
                Registry tokens = Registry.startWithTokenAuth(issuer)) {
            RegistryImages.Image pushed =
                    RegistryImages.push(tokens, "private/app:1", "10001", "amd64", ImageFormat.Docker);
            // Both certificates: the registry's and the token server's.
            Path cas = Files.writeString(
                    work.resolve("token-cas.pem"),
                    Files.readString(tokens.caFile()) + Files.readString(issuer.certFile()));
            LookupSettings base = LookupSettings.defaults(List.of(tokens.host()))
                    .withCaFile(cas)
                    .withBudget(Duration.ofSeconds(20));
            try (ImageLookups anonymous = lookups(base)) {
                String failure =
                        anonymous.lookUpNow(pushed.reference()).failure().orElseThrow();
                assertTrue(failure.contains("refused access"), failure);
            }
            int before = issuer.issued();
            Path config = tokens.dockerConfig(Files.createDirectories(work.resolve("token-auth")));
            try (ImageLookups withCredentials = lookups(base.withDockerConfig(config))) {
                ImageInfo info = withCredentials.lookUpNow(pushed.reference());
                assertFalse(info.isFailed(), info::toString);
                assertEquals(
                        new ImageUser("linux/amd64", pushed.digest(), "10001"),
                        info.platforms().get(0));
            }
            assertTrue(issuer.issued() > before, "the lookup was given a token");
        }
    }

    @Test
    void aMissingImageOrRegistryIsAFailureThatNamesIt() throws Exception {
        try (ImageLookups lookups = lookups(settings(open))) {
            ImageInfo missing = lookups.lookUpNow(open.reference("nothing/here:1"));
            assertTrue(missing.failure().get().contains("registry " + open.host() + " answered"), missing.toString());
            assertTrue(missing.failure().get().toLowerCase().contains("manifest unknown"), missing.toString());
        }
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        String down = "127.0.0.1:" + closedPort;
        try (ImageLookups lookups = lookups(LookupSettings.defaults(List.of(down)))) {
            ImageInfo info = lookups.lookUpNow(down + "/app:1");
            assertTrue(info.failure().get().contains("registry " + down + " is unreachable"), info.toString());
        }
    }

    @Test
    void oversizedAndNonJsonConfigsAreRefusedWithoutReadingThemWhole() {
        byte[] big = ("{\"config\":{\"User\":\"10001\"},\"pad\":\"" + " ".repeat(2 << 20) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        RegistryImages.Image large = RegistryImages.pushWithConfig(open, "odd/large", "1", ImageFormat.OCI, big);
        RegistryImages.Image garbage = RegistryImages.pushWithConfig(
                open, "odd/garbage", "1", ImageFormat.OCI, "not json at all".getBytes(StandardCharsets.UTF_8));
        try (ImageLookups lookups = lookups(settings(open).withMaxResponseSize(1 << 20))) {
            String tooBig = lookups.lookUpNow(large.reference()).failure().orElseThrow();
            assertTrue(
                    tooBig.contains("larger than the 1048576 bytes rootguard.images.max-response-size allows"), tooBig);
            String notJson = lookups.lookUpNow(garbage.reference()).failure().orElseThrow();
            assertTrue(notJson.contains("that is not JSON"), notJson);
        }
    }

    @Test
    void malformedEndlessAndTricklingManifestsAreBounded() {
        try (FakeRegistry fake = new FakeRegistry(work.resolve("fake-tls"));
                ImageLookups lookups = lookups(LookupSettings.defaults(List.of(fake.host()))
                        .withCaFile(fake.caFile())
                        .withMaxResponseSize(1 << 20)
                        .withTimeout(Duration.ofSeconds(2)))) {
            String bad = lookups.lookUpNow(fake.host() + "/bad:1").failure().orElseThrow();
            assertTrue(bad.contains("registry " + fake.host()), bad);
            String endless =
                    lookups.lookUpNow(fake.host() + "/endless:1").failure().orElseThrow();
            assertTrue(endless.contains("is larger than the 1048576 bytes"), endless);
            String trickle =
                    lookups.lookUpNow(fake.host() + "/trickle:1").failure().orElseThrow();
            assertTrue(trickle.contains("took longer than 4000 ms"), trickle);
        }
    }

    @Test
    void digestsAreCachedAndTagsResolvedAgainAfterTheirTtl() throws Exception {
        RegistryImages.push(open, "moving/app:1", "10001", "amd64", ImageFormat.OCI);
        LookupMetrics metrics = LookupMetrics.none();
        try (ImageLookups lookups =
                new ImageLookups(settings(open).withTtls(Duration.ofMillis(500), Duration.ofSeconds(30)), metrics)) {
            String ref = open.reference("moving/app:1");
            assertEquals("10001", user(lookups.resolve(Set.of(ref)).join(), ref));
            assertEquals(1, metrics.count("miss"));
            assertEquals("10001", user(lookups.resolve(Set.of(ref)).join(), ref));
            assertEquals(1, metrics.count("hit"));
            RegistryImages.push(open, "moving/app:1", "10002", "amd64", ImageFormat.OCI);
            // Within the TTL the tag still means the digest it was resolved to.
            assertEquals("10001", user(lookups.resolve(Set.of(ref)).join(), ref));
            Thread.sleep(700);
            assertEquals("10002", user(lookups.resolve(Set.of(ref)).join(), ref));
            assertEquals(2, lookups.cachedDigests());
        }
    }

    @Test
    void onlyAllowedRegistriesAreContacted() {
        RegistryImages.Image pushed = RegistryImages.push(open, "allowed/app:1", "10001", "amd64", ImageFormat.OCI);
        try (ImageLookups denied = lookups(settings(open).withDenied(List.of("127.0.0.1:*")))) {
            assertEquals(
                    ImageFacts.NONE, denied.resolve(Set.of(pushed.reference())).join());
        }
        try (ImageLookups other = lookups(LookupSettings.defaults(List.of("registry.example")))) {
            assertEquals(
                    ImageFacts.NONE,
                    other.resolve(Set.of(pushed.reference(), "nginx:1")).join());
            assertFalse(other.allowed(pushed.reference()));
            assertTrue(
                    lookups(LookupSettings.defaults(List.of("docker.io"))).allowed("nginx:1"),
                    "Docker Hub images are docker.io");
        }
    }

    @Test
    void concurrentRequestsForOneImageShareOneLookup() {
        RegistryImages.Image pushed = RegistryImages.push(open, "shared/app:1", "10001", "amd64", ImageFormat.OCI);
        LookupMetrics metrics = LookupMetrics.none();
        try (ImageLookups lookups = new ImageLookups(settings(open), metrics)) {
            var a = lookups.lookUp(pushed.reference());
            var b = lookups.lookUp(pushed.reference());
            assertTrue(a == b || (a.isDone() && b.isDone()), "the second request joined the first lookup");
            assertEquals("10001", a.join().platforms().get(0).user());
            assertEquals("10001", b.join().platforms().get(0).user());
        }
    }

    private static String user(ImageFacts facts, String ref) {
        return facts.get(ref).orElseThrow().platforms().get(0).user();
    }
}
