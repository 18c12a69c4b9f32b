package dev.rootguard.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.config.CliConfig;
import dev.rootguard.policy.rule.RuleRegistry;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The image-user rule's defaults and what it asks registries for; its checks are in the fixtures. */
class ImageUserTest {
    private static final Engine ENGINE = new Engine(RuleRegistry.standard());
    private static final String IMAGE = "registry.example/app:1";
    private static final String DIGEST = "sha256:" + "3".repeat(64);
    private static final PolicyConfig FROM_IMAGE = CliConfig.fromProperties(
            Map.of("rootguard.defaults.run-as-user-from-image", "true"), RuleRegistry.standard());
    private static final PolicyConfig STANDARD = CliConfig.fromProperties(Map.of(), RuleRegistry.standard());

    private static Pod pod() {
        return new PodBuilder()
                .withNewMetadata()
                .withName("p")
                .withNamespace("team-a")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("app")
                .withImage(IMAGE)
                .endContainer()
                .endSpec()
                .build();
    }

    private static Engine.Context context(String... users) {
        List<ImageUser> platforms = new java.util.ArrayList<>();
        String[] arch = {"linux/amd64", "linux/arm64"};
        for (int i = 0; i < users.length; i++) {
            platforms.add(new ImageUser(arch[i], DIGEST, users[i]));
        }
        return new Engine.Context("team-a", "alice", NamespacePolicy.UNKNOWN)
                .withImages(new ImageFacts(Map.of(IMAGE, ImageInfo.found(IMAGE, platforms))));
    }

    private static Container app(Pod p) {
        return p.getSpec().getContainers().get(0);
    }

    @Test
    void mutationTakesTheImagesNumericUserAndGroupWhenAsked() {
        Pod p = pod();
        assertTrue(ENGINE.mutate(p, context("10001:10002"), FROM_IMAGE));
        assertEquals(10001L, app(p).getSecurityContext().getRunAsUser());
        assertEquals(10002L, app(p).getSecurityContext().getRunAsGroup());
        // The pod-wide default still covers containers whose image says nothing usable.
        assertEquals(10000L, p.getSpec().getSecurityContext().getRunAsUser());
        assertTrue(ENGINE.review(p, context("10001:10002"), FROM_IMAGE).allowed());
    }

    @Test
    void mutationKeepsTheGlobalDefaultUnlessAsked() {
        Pod p = pod();
        ENGINE.mutate(p, context("10001"), STANDARD);
        assertNull(
                app(p).getSecurityContext() == null
                        ? null
                        : app(p).getSecurityContext().getRunAsUser());
        assertEquals(10000L, p.getSpec().getSecurityContext().getRunAsUser());
    }

    @Test
    void mutationNeverOverridesARunAsUserTheUserSet() {
        Pod p = pod();
        p.getSpec().setSecurityContext(new io.fabric8.kubernetes.api.model.PodSecurityContext());
        p.getSpec().getSecurityContext().setRunAsUser(20000L);
        ENGINE.mutate(p, context("10001"), FROM_IMAGE);
        assertNull(
                app(p).getSecurityContext() == null
                        ? null
                        : app(p).getSecurityContext().getRunAsUser());
        assertEquals(20000L, p.getSpec().getSecurityContext().getRunAsUser());
    }

    @Test
    void mutationSkipsRootNamesAndPlatformsThatDisagree() {
        for (String[] users : List.of(
                new String[] {""}, new String[] {"0"}, new String[] {"redis"}, new String[] {"10001", "10002"})) {
            Pod p = pod();
            ENGINE.mutate(p, context(users), FROM_IMAGE);
            assertNull(
                    app(p).getSecurityContext() == null
                            ? null
                            : app(p).getSecurityContext().getRunAsUser(),
                    () -> "image users " + List.of(users));
            assertEquals(10000L, p.getSpec().getSecurityContext().getRunAsUser());
        }
    }

    @Test
    void aNamespaceUidRangeWinsOverTheImage() {
        Pod p = pod();
        NamespacePolicy ns =
                NamespacePolicy.fromMetadata(Map.of(), Map.of(NamespaceRanges.UID_RANGE_ANNOTATION, "50000/100"));
        Engine.Context ctx = new Engine.Context("team-a", "alice", ns)
                .withImages(context("10001").images());
        ENGINE.mutate(p, ctx, FROM_IMAGE);
        assertNull(
                app(p).getSecurityContext() == null
                        ? null
                        : app(p).getSecurityContext().getRunAsUser());
        assertEquals(50000L, p.getSpec().getSecurityContext().getRunAsUser());
        assertEquals(Set.of(), ENGINE.imagesToLookUp(pod(), ctx, FROM_IMAGE, true));
    }

    @Test
    void onlyImagesWhoseUserMattersAreLookedUp() {
        Engine.Context ctx = new Engine.Context("team-a", "alice", NamespacePolicy.UNKNOWN);
        assertEquals(Set.of(IMAGE), ENGINE.imagesToLookUp(pod(), ctx, STANDARD, false));
        // Mutation only asks when a default comes from the image.
        assertEquals(Set.of(), ENGINE.imagesToLookUp(pod(), ctx, STANDARD, true));
        assertEquals(Set.of(IMAGE), ENGINE.imagesToLookUp(pod(), ctx, FROM_IMAGE, true));
        Pod withUid = pod();
        withUid.getSpec()
                .getContainers()
                .get(0)
                .setSecurityContext(new io.fabric8.kubernetes.api.model.SecurityContext());
        withUid.getSpec().getContainers().get(0).getSecurityContext().setRunAsUser(10001L);
        assertEquals(Set.of(), ENGINE.imagesToLookUp(withUid, ctx, STANDARD, false));
        Engine.Context system = new Engine.Context("kube-system", "alice", NamespacePolicy.UNKNOWN);
        assertEquals(Set.of(), ENGINE.imagesToLookUp(pod(), system, STANDARD, false));
        PolicyConfig exempt = CliConfig.fromProperties(
                Map.of(
                        "rootguard.rules.image-user.exempt-images", "registry.example/*",
                        "rootguard.rules.run-as-root.action", "off"),
                RuleRegistry.standard());
        assertEquals(Set.of(), ENGINE.imagesToLookUp(pod(), ctx, exempt, false));
        // An image exempt from both rules that could use the answer is not looked up either.
        PolicyConfig exemptFromBoth = CliConfig.fromProperties(
                Map.of(
                        "rootguard.rules.image-user.exempt-images", "registry.example/*",
                        "rootguard.rules.run-as-root.exempt-images", "registry.example/*"),
                RuleRegistry.standard());
        assertEquals(Set.of(), ENGINE.imagesToLookUp(pod(), ctx, exemptFromBoth, false));
    }

    @Test
    void imageUsersReadAsTheKubeletReadsThem() {
        assertEquals(ImageUser.Kind.ROOT, new ImageUser("linux/amd64", DIGEST, "").kind());
        assertEquals(ImageUser.Kind.ROOT, new ImageUser("linux/amd64", DIGEST, "0").kind());
        assertEquals(ImageUser.Kind.ROOT, new ImageUser("linux/amd64", DIGEST, "0:0").kind());
        assertEquals(ImageUser.Kind.NAME, new ImageUser("linux/amd64", DIGEST, "root").kind());
        assertEquals(ImageUser.Kind.NAME, new ImageUser("linux/amd64", DIGEST, "redis").kind());
        assertEquals(ImageUser.Kind.NON_ROOT, new ImageUser("linux/amd64", DIGEST, "10001:10001").kind());
        assertEquals(ImageUser.Kind.NON_ROOT, new ImageUser("linux/amd64", DIGEST, "10001:staff").kind());
        assertFalse(new ImageUser("linux/amd64", DIGEST, "10001:staff").gid().isPresent());
        assertEquals("arm64", new ImageUser("linux/arm64/v8", DIGEST, "").architecture());
    }
}
