package dev.rootguard.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.policy.mutate.Mutation;
import dev.rootguard.policy.rule.IdRangeRule;
import dev.rootguard.policy.rule.PrivilegeEscalationRule;
import dev.rootguard.policy.rule.RuleRegistry;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.WindowsSecurityContextOptionsBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Modes, exemptions, defaulting edge cases and the update short-cut. */
class EngineTest {
    private static final Engine ENGINE = new Engine(RuleRegistry.standard());
    private static final PolicyConfig POLICY = PolicyConfig.standard();

    private static Pod rootPod() {
        return new PodBuilder()
                .withNewMetadata()
                .withName("p")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("app")
                .withImage("nginx")
                .withNewSecurityContext()
                .withRunAsUser(0L)
                .withPrivileged(true)
                .endSecurityContext()
                .endContainer()
                .endSpec()
                .build();
    }

    private static PolicyConfig withMode(PolicyConfig p, Action mode) {
        return new PolicyConfig(mode, p.rules(), p.mutation(), p.exemptions());
    }

    private static Engine.Context ctx(String ns, NamespacePolicy p) {
        return new Engine.Context(ns, "alice", p);
    }

    @Test
    void enforceModeDeniesAndReportsEveryViolationNotJustTheFirst() {
        Engine.Review r = ENGINE.review(rootPod(), ctx("team-a", NamespacePolicy.UNKNOWN), POLICY);
        assertFalse(r.allowed());
        List<String> rules =
                r.violations().stream().map(Violation::rule).distinct().toList();
        assertEquals(
                List.of("run-as-root", "privileged", "required-ids", "privilege-escalation", "image-groups"), rules);
    }

    @Test
    void warnAndAuditModesWeakenEveryAction() {
        Engine.Review warn =
                ENGINE.review(rootPod(), ctx("team-a", NamespacePolicy.UNKNOWN), withMode(POLICY, Action.WARN));
        assertTrue(warn.allowed());
        assertTrue(warn.violations().stream().allMatch(v -> v.action() == Action.WARN));

        NamespacePolicy audit = new NamespacePolicy(Optional.of(Action.AUDIT), true, List.of());
        Engine.Review a = ENGINE.review(rootPod(), ctx("team-a", audit), POLICY);
        assertTrue(a.allowed());
        assertEquals(Action.AUDIT, a.mode());
        assertTrue(a.violations().stream().allMatch(v -> v.action() == Action.AUDIT));
    }

    @Test
    void namespaceModeCanAlsoBeStricterThanTheGlobalMode() {
        NamespacePolicy enforce = new NamespacePolicy(Optional.of(Action.ENFORCE), true, List.of());
        assertFalse(ENGINE.review(rootPod(), ctx("team-a", enforce), withMode(POLICY, Action.AUDIT))
                .allowed());
    }

    @Test
    void ruleSetToOffIsNotEvaluated() {
        PolicyConfig p =
                POLICY.withRule("privileged", s -> new PolicyConfig.RuleSettings(Action.OFF, List.of(), s.settings()));
        assertTrue(ENGINE.review(rootPod(), ctx("team-a", NamespacePolicy.UNKNOWN), p).violations().stream()
                .noneMatch(v -> v.rule().equals("privileged")));
    }

    @Test
    void exemptNamespacesAreNeitherEvaluatedNorMutated() {
        Pod pod = rootPod();
        Engine.Review r = ENGINE.review(pod, ctx("kube-system", NamespacePolicy.UNKNOWN), POLICY);
        assertEquals(Engine.Outcome.EXEMPT, r.outcome());
        assertTrue(r.allowed());
        assertFalse(ENGINE.mutate(pod, ctx("kube-system", NamespacePolicy.UNKNOWN), POLICY));
    }

    @Test
    void objectsWithoutPodSpecsAreNotApplicable() {
        ConfigMap cm = new ConfigMap();
        assertEquals(
                Engine.Outcome.NOT_APPLICABLE,
                ENGINE.review(cm, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY)
                        .outcome());
        Deployment noTemplate = new DeploymentBuilder()
                .withNewMetadata()
                .withName("d")
                .endMetadata()
                .withNewSpec()
                .endSpec()
                .build();
        assertEquals(
                Engine.Outcome.NOT_APPLICABLE,
                ENGINE.review(noTemplate, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY)
                        .outcome());
    }

    @Test
    void mutationOffInNamespaceLeavesTheObjectAlone() {
        Pod pod = new PodBuilder()
                .withNewSpec()
                .addNewContainer()
                .withName("a")
                .withImage("x")
                .endContainer()
                .endSpec()
                .build();
        NamespacePolicy off = new NamespacePolicy(Optional.empty(), false, List.of());
        assertFalse(ENGINE.mutate(pod, ctx("team-a", off), POLICY));
        assertEquals(null, pod.getSpec().getSecurityContext());
    }

    @Test
    void defaulterSkipsPrivilegeEscalationWhereTheApiServerWouldRejectIt() {
        Pod pod = new PodBuilder()
                .withNewSpec()
                .addNewContainer()
                .withName("priv")
                .withImage("x")
                .withNewSecurityContext()
                .withPrivileged(true)
                .endSecurityContext()
                .endContainer()
                .addNewContainer()
                .withName("admin")
                .withImage("x")
                .withNewSecurityContext()
                .withNewCapabilities()
                .addToAdd("CAP_SYS_ADMIN")
                .endCapabilities()
                .endSecurityContext()
                .endContainer()
                .addNewContainer()
                .withName("plain")
                .withImage("x")
                .endContainer()
                .endSpec()
                .build();
        assertTrue(ENGINE.mutate(pod, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY));
        assertEquals(
                null, pod.getSpec().getContainers().get(0).getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals(
                null, pod.getSpec().getContainers().get(1).getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals(
                false, pod.getSpec().getContainers().get(2).getSecurityContext().getAllowPrivilegeEscalation());
    }

    @Test
    void defaulterGivesWindowsPodsOnlyRunAsNonRootAndLeavesSeccompAnnotatedPodsAlone() {
        Pod windows = new PodBuilder()
                .withNewSpec()
                .withNewOs("windows")
                .addNewContainer()
                .withName("a")
                .withImage("x")
                .endContainer()
                .endSpec()
                .build();
        assertTrue(ENGINE.mutate(windows, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY));
        // Every other field the defaulter knows is forbidden on Windows pods by the API server.
        assertEquals(
                new PodSecurityContextBuilder().withRunAsNonRoot(true).build(),
                windows.getSpec().getSecurityContext());
        assertEquals(null, windows.getSpec().getContainers().get(0).getSecurityContext());
        assertTrue(
                ENGINE.review(windows, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY)
                        .violations()
                        .isEmpty(),
                "a mutated Windows pod passes");

        Pod annotated = new PodBuilder()
                .withNewMetadata()
                .addToAnnotations("seccomp.security.alpha.kubernetes.io/pod", "unconfined")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("a")
                .withImage("x")
                .endContainer()
                .endSpec()
                .build();
        ENGINE.mutate(annotated, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY);
        assertEquals(null, annotated.getSpec().getSecurityContext().getSeccompProfile());
        assertEquals(10000L, annotated.getSpec().getSecurityContext().getRunAsUser());
    }

    @Test
    void containerExemptFromRunAsRootKeepsItsImageUserWhileOthersGetTheDefault() {
        PolicyConfig p = POLICY.withRule(
                "run-as-root",
                s -> new PolicyConfig.RuleSettings(
                        Action.ENFORCE, List.of(Glob.of("registry.example/legacy/*")), s.settings()));
        Pod pod = new PodBuilder()
                .withNewSpec()
                .addNewContainer()
                .withName("legacy")
                .withImage("registry.example/legacy/agent:1")
                .endContainer()
                .addNewContainer()
                .withName("app")
                .withImage("registry.example/app:1")
                .endContainer()
                .endSpec()
                .build();
        ENGINE.mutate(pod, ctx("team-a", NamespacePolicy.UNKNOWN), p);
        assertEquals(null, pod.getSpec().getSecurityContext().getRunAsUser());
        assertEquals(null, pod.getSpec().getSecurityContext().getRunAsNonRoot());
        assertEquals(
                null, pod.getSpec().getContainers().get(0).getSecurityContext().getRunAsUser());
        assertEquals(
                10000L,
                pod.getSpec().getContainers().get(1).getSecurityContext().getRunAsUser());
        assertTrue(ENGINE.review(pod, ctx("team-a", NamespacePolicy.UNKNOWN), p).violations().stream()
                .noneMatch(v -> v.rule().equals("run-as-root")));
    }

    @Test
    void aRuleWithNoContainerLeftToCheckReportsNothingPodFieldsIncluded() {
        PolicyConfig p = POLICY.withRule(
                "root-group",
                s -> new PolicyConfig.RuleSettings(
                        Action.ENFORCE, List.of(Glob.of("registry.example/csi/*")), s.settings()));
        Pod allExempt = new PodBuilder()
                .withNewSpec()
                .withNewSecurityContext()
                .withFsGroup(0L)
                .endSecurityContext()
                .addNewContainer()
                .withName("csi")
                .withImage("registry.example/csi/driver:1")
                .endContainer()
                .endSpec()
                .build();
        Pod noContainers = new PodBuilder()
                .withNewSpec()
                .withNewSecurityContext()
                .withFsGroup(0L)
                .endSecurityContext()
                .withContainers(List.of())
                .endSpec()
                .build();
        for (Pod pod : List.of(allExempt, noContainers)) {
            assertTrue(
                    ENGINE.review(pod, ctx("team-a", NamespacePolicy.UNKNOWN), p).violations().stream()
                            .noneMatch(v -> v.rule().equals("root-group")),
                    () -> "root-group reported for " + pod.getSpec().getContainers());
        }
        // The same without any exemption configured: an empty pod gave required-ids and root-group findings before.
        assertEquals(
                List.of(),
                ENGINE.review(noContainers, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY)
                        .violations());
        Pod oneChecked = new PodBuilder(allExempt)
                .editSpec()
                .addNewContainer()
                .withName("app")
                .withImage("registry.example/app:1")
                .endContainer()
                .endSpec()
                .build();
        assertTrue(ENGINE.review(oneChecked, ctx("team-a", NamespacePolicy.UNKNOWN), p).violations().stream()
                .anyMatch(v -> v.rule().equals("root-group") && v.path().equals("spec.securityContext.fsGroup")));
    }

    private static final NamespacePolicy TEAM_A_RANGE =
            NamespacePolicy.fromMetadata(Map.of(), Map.of(NamespaceRanges.UID_RANGE_ANNOTATION, "1000000000/10000"));

    @Test
    void inANamespaceWithARangeMutationDefaultsToItsStartAndTheResultPasses() {
        Pod pod = new PodBuilder()
                .withNewSpec()
                .addNewContainer()
                .withName("a")
                .withImage("x")
                .endContainer()
                .endSpec()
                .build();
        assertTrue(ENGINE.mutate(pod, ctx("team-a", TEAM_A_RANGE), POLICY));
        var psc = pod.getSpec().getSecurityContext();
        assertEquals(
                List.of(1000000000L, 1000000000L, 1000000000L),
                List.of(psc.getRunAsUser(), psc.getRunAsGroup(), psc.getFsGroup()));
        assertEquals(
                List.of(),
                ENGINE.review(pod, ctx("team-a", TEAM_A_RANGE), POLICY).violations());

        Pod elsewhere = new PodBuilder()
                .withNewSpec()
                .addNewContainer()
                .withName("a")
                .withImage("x")
                .endContainer()
                .endSpec()
                .build();
        ENGINE.mutate(elsewhere, ctx("team-b", NamespacePolicy.fromMetadata(Map.of(), Map.of())), POLICY);
        assertEquals(10000L, elsewhere.getSpec().getSecurityContext().getRunAsUser(), "no range: the global default");
    }

    @Test
    void idRangeViolationsNameThePathTheRangeAndTheNamespaceAndFollowTheNamespaceMode() {
        Pod pod = new PodBuilder()
                .withNewSpec()
                .withNewSecurityContext()
                .withRunAsUser(10000L)
                .withRunAsGroup(1000000000L)
                .withFsGroup(1000000000L)
                .endSecurityContext()
                .addNewContainer()
                .withName("a")
                .withImage("x")
                .endContainer()
                .endSpec()
                .build();
        Engine.Review r = ENGINE.review(pod, ctx("team-a", TEAM_A_RANGE), POLICY);
        assertFalse(r.allowed());
        Violation v = r.violations().stream()
                .filter(x -> x.rule().equals(IdRangeRule.ID))
                .findFirst()
                .orElseThrow();
        assertEquals(
                "[id-range] spec.securityContext.runAsUser: runAsUser 10000 of container \"a\" is outside the ID range"
                        + " 1000000000-1000009999 of namespace team-a (rootguard.dev/uid-range: 1000000000/10000); choose a UID in that range,"
                        + " such as 1000000000",
                v.line());
        assertEquals(Action.ENFORCE, v.action());

        NamespacePolicy warn = NamespacePolicy.fromMetadata(
                Map.of(NamespacePolicy.MODE_LABEL, "warn"),
                Map.of(NamespaceRanges.UID_RANGE_ANNOTATION, "1000000000/10000"));
        assertTrue(ENGINE.review(pod, ctx("team-a", warn), POLICY).allowed());
        PolicyConfig off = POLICY.withRule(
                IdRangeRule.ID, s -> new PolicyConfig.RuleSettings(Action.OFF, List.of(), s.settings()));
        assertTrue(ENGINE.review(pod, ctx("team-a", TEAM_A_RANGE), off).violations().stream()
                .noneMatch(x -> x.rule().equals("id-range")));
    }

    @Test
    void messagesOfOtherRulesSuggestAnIdFromTheNamespaceRange() {
        Pod pod = new PodBuilder()
                .withNewSpec()
                .addNewContainer()
                .withName("a")
                .withImage("x")
                .withNewSecurityContext()
                .withRunAsUser(0L)
                .endSecurityContext()
                .endContainer()
                .endSpec()
                .build();
        Violation v = ENGINE.review(pod, ctx("team-a", TEAM_A_RANGE), POLICY)
                .violations()
                .get(0);
        assertEquals("run-as-root", v.rule());
        assertTrue(v.message().endsWith("set a non-zero UID such as 1000000000"), v.message());
    }

    @Test
    void workloadsOwnedByAControllerAreNotMutatedButTheirPodsAre() {
        var owner = new OwnerReferenceBuilder()
                .withApiVersion("apps/v1")
                .withKind("Deployment")
                .withName("web")
                .withUid("u1")
                .withController(true)
                .build();
        var rs = new ReplicaSetBuilder()
                .withNewMetadata()
                .withName("web-1")
                .withOwnerReferences(owner)
                .endMetadata()
                .withNewSpec()
                .withNewTemplate()
                .withNewSpec()
                .addNewContainer()
                .withName("a")
                .withImage("x")
                .endContainer()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
        assertFalse(
                ENGINE.mutate(rs, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY),
                "the Deployment controller would not recognise a mutated template and create ReplicaSets forever");
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName("web-1-x")
                .withOwnerReferences(owner)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("a")
                .withImage("x")
                .endContainer()
                .endSpec()
                .build();
        assertTrue(ENGINE.mutate(pod, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY));
        var unowned = new ReplicaSetBuilder(rs)
                .editMetadata()
                .withOwnerReferences()
                .endMetadata()
                .build();
        assertTrue(ENGINE.mutate(unowned, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY));
    }

    @Test
    void updatesThatChangeNothingSecurityRelevantAreRecognised() {
        Deployment a = new DeploymentBuilder()
                .withNewMetadata()
                .withName("d")
                .endMetadata()
                .withNewSpec()
                .withReplicas(1)
                .withNewTemplate()
                .withNewSpec()
                .addToContainers(
                        new ContainerBuilder().withName("a").withImage("x:1").build())
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
        Deployment scaled =
                new DeploymentBuilder(a).editSpec().withReplicas(5).endSpec().build();
        Deployment relabelled = new DeploymentBuilder(a)
                .editSpec()
                .editTemplate()
                .withNewMetadata()
                .addToLabels("v", "2")
                .endMetadata()
                .endTemplate()
                .endSpec()
                .build();
        Deployment newImage = new DeploymentBuilder(a)
                .editSpec()
                .editTemplate()
                .editSpec()
                .editContainer(0)
                .withImage("x:2")
                .endContainer()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
        Deployment rootNow = new DeploymentBuilder(a)
                .editSpec()
                .editTemplate()
                .editSpec()
                .withNewSecurityContext()
                .withRunAsUser(0L)
                .endSecurityContext()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
        assertTrue(Engine.securityUnchanged(a, scaled));
        assertTrue(Engine.securityUnchanged(a, relabelled));
        assertFalse(Engine.securityUnchanged(a, newImage));
        assertFalse(Engine.securityUnchanged(a, rootNow));
    }

    private static Pod windowsPod(Boolean podNonRoot, String podUser, String containerUser) {
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName("w")
                .endMetadata()
                .withNewSpec()
                .withNewOs("windows")
                .addNewContainer()
                .withName("app")
                .withImage("mcr.example/app:1")
                .endContainer()
                .endSpec()
                .build();
        if (podNonRoot != null || podUser != null) {
            pod.getSpec()
                    .setSecurityContext(new PodSecurityContextBuilder()
                            .withRunAsNonRoot(podNonRoot)
                            .withWindowsOptions(
                                    podUser == null
                                            ? null
                                            : new WindowsSecurityContextOptionsBuilder()
                                                    .withRunAsUserName(podUser)
                                                    .build())
                            .build());
        }
        if (containerUser != null) {
            pod.getSpec()
                    .getContainers()
                    .get(0)
                    .setSecurityContext(new SecurityContextBuilder()
                            .withNewWindowsOptions()
                            .withRunAsUserName(containerUser)
                            .endWindowsOptions()
                            .build());
        }
        return pod;
    }

    private static List<String> runAsRoot(Pod pod) {
        Engine.Review r = ENGINE.review(pod, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY);
        return r.violations().stream()
                .filter(v -> v.rule().equals("run-as-root"))
                .map(v -> v.action() + " " + v.path())
                .toList();
    }

    @Test
    void windowsPodsMustRunAsNonRootAsPodSecurityAdmissionRequires() {
        assertEquals(
                List.of("enforce spec.securityContext.runAsNonRoot"),
                runAsRoot(windowsPod(null, null, null)),
                "the image's user decides");
        assertEquals(List.of("enforce spec.securityContext.runAsNonRoot"), runAsRoot(windowsPod(false, null, null)));
        assertEquals(
                List.of("enforce spec.containers[0].securityContext.windowsOptions.runAsUserName"),
                runAsRoot(windowsPod(true, null, "containeradministrator")),
                "ContainerAdministrator is root, in any case");
        assertEquals(
                List.of("enforce spec.securityContext.windowsOptions.runAsUserName"),
                runAsRoot(windowsPod(true, "ContainerAdministrator", null)));
        assertEquals(
                List.of(),
                runAsRoot(windowsPod(true, "ContainerAdministrator", "ContainerUser")),
                "the container's user wins");
        assertEquals(List.of(), runAsRoot(windowsPod(true, null, null)));
        Engine.Review denied =
                ENGINE.review(windowsPod(null, null, null), ctx("team-a", NamespacePolicy.UNKNOWN), POLICY);
        assertFalse(denied.allowed());
        assertTrue(
                denied.violations().get(0).message().contains("set spec.securityContext.runAsNonRoot: true"),
                denied.violations().get(0).line());
    }

    private static Pod escalationPod(Boolean allow) {
        return new PodBuilder()
                .withNewMetadata()
                .withName("e")
                .endMetadata()
                .withNewSpec()
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withRunAsUser(10000L)
                .withRunAsGroup(10000L)
                .withFsGroup(10000L)
                .withSupplementalGroupsPolicy("Strict")
                .endSecurityContext()
                .addNewContainer()
                .withName("app")
                .withImage("x")
                .withNewSecurityContext()
                .withAllowPrivilegeEscalation(allow)
                .endSecurityContext()
                .endContainer()
                .endSpec()
                .build();
    }

    @Test
    void explicitAllowPrivilegeEscalationIsDeniedWhileUnsetIsOnlyAWarning() {
        Engine.Review explicit = ENGINE.review(escalationPod(true), ctx("team-a", NamespacePolicy.UNKNOWN), POLICY);
        assertFalse(explicit.allowed(), explicit.violations().toString());
        assertEquals(
                List.of("privilege-escalation enforce spec.containers[0].securityContext.allowPrivilegeEscalation"),
                explicit.violations().stream()
                        .map(v -> v.rule() + " " + v.action() + " " + v.path())
                        .toList());

        Engine.Review unset = ENGINE.review(escalationPod(null), ctx("team-a", NamespacePolicy.UNKNOWN), POLICY);
        assertTrue(unset.allowed());
        assertEquals(
                List.of("privilege-escalation warn spec.containers[0].securityContext.allowPrivilegeEscalation"),
                unset.violations().stream()
                        .map(v -> v.rule() + " " + v.action() + " " + v.path())
                        .toList());

        // The unset action is a cap: never stronger than the rule's action, and off drops only the unset case.
        PolicyConfig ruleWarn = POLICY.withRule(
                "privilege-escalation", s -> new PolicyConfig.RuleSettings(Action.WARN, List.of(), s.settings()));
        assertTrue(ENGINE.review(escalationPod(true), ctx("team-a", NamespacePolicy.UNKNOWN), ruleWarn)
                .allowed());
        PolicyConfig unsetOff = POLICY.withRule(
                "privilege-escalation", s -> s.withSettings(new PrivilegeEscalationRule.Settings(Action.OFF, true)));
        assertEquals(
                List.of(),
                ENGINE.review(escalationPod(null), ctx("team-a", NamespacePolicy.UNKNOWN), unsetOff)
                        .violations());
        assertFalse(ENGINE.review(escalationPod(true), ctx("team-a", NamespacePolicy.UNKNOWN), unsetOff)
                .allowed());
    }

    @Test
    void mutationMakesSupplementalGroupsStrictAndValidationWarnsWithoutIt() {
        Pod merge = escalationPod(false);
        merge.getSpec().getSecurityContext().setSupplementalGroupsPolicy(null);
        Engine.Review r = ENGINE.review(merge, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY);
        assertTrue(r.allowed(), "warn by default: API servers that drop the field must not refuse every pod");
        assertEquals(
                List.of("image-groups warn spec.securityContext.supplementalGroupsPolicy"),
                r.violations().stream()
                        .map(v -> v.rule() + " " + v.action() + " " + v.path())
                        .toList());

        assertTrue(ENGINE.mutate(merge, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY));
        assertEquals("Strict", merge.getSpec().getSecurityContext().getSupplementalGroupsPolicy());
        assertTrue(ENGINE.review(merge, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY)
                .violations()
                .isEmpty());

        Pod explicitMerge = escalationPod(false);
        explicitMerge.getSpec().getSecurityContext().setSupplementalGroupsPolicy("Merge");
        ENGINE.mutate(explicitMerge, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY);
        assertEquals(
                "Merge",
                explicitMerge.getSpec().getSecurityContext().getSupplementalGroupsPolicy(),
                "a value the user set is kept");
        assertEquals(
                List.of("image-groups"),
                ENGINE.review(explicitMerge, ctx("team-a", NamespacePolicy.UNKNOWN), POLICY).violations().stream()
                        .map(Violation::rule)
                        .toList());
    }

    @Test
    void anImageExemptFromImageGroupsKeepsItsWholePodOnTheImagesGroups() {
        PolicyConfig exempt = POLICY.withRule(
                "image-groups",
                s -> new PolicyConfig.RuleSettings(Action.WARN, List.of(Glob.of("legacy/*")), s.settings()));
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName("x")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("old")
                .withImage("legacy/agent:1")
                .endContainer()
                .addNewContainer()
                .withName("new")
                .withImage("registry.example/app:1")
                .endContainer()
                .endSpec()
                .build();
        ENGINE.mutate(pod, ctx("team-a", NamespacePolicy.UNKNOWN), exempt);
        assertEquals(null, pod.getSpec().getSecurityContext().getSupplementalGroupsPolicy());
        assertTrue(ENGINE.review(pod, ctx("team-a", NamespacePolicy.UNKNOWN), exempt).violations().stream()
                .noneMatch(v -> v.rule().equals("image-groups")));
    }

    @Test
    void mutationTurnedOffInThePolicyMutatesNothingAnywhere() {
        Mutation m = POLICY.mutation();
        PolicyConfig off = new PolicyConfig(
                POLICY.mode(), POLICY.rules(), new Mutation(false, m.ids(), m.seccompProfile()), POLICY.exemptions());
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName("bare")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("a")
                .withImage("x")
                .endContainer()
                .endSpec()
                .build();
        assertFalse(ENGINE.mutate(pod, ctx("team-a", NamespacePolicy.UNKNOWN), off));
        assertEquals(null, pod.getSpec().getSecurityContext());
        assertFalse(ENGINE.mutates("CREATE", off));
        assertTrue(ENGINE.mutates("CREATE", POLICY));
        assertFalse(ENGINE.mutates("UPDATE", POLICY), "defaults are only added to new objects");
    }
}
