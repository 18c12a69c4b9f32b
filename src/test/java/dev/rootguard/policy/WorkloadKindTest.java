package dev.rootguard.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.json.Json;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The table of workload kinds: lookups, apiVersion splitting, owners, and that each kind's pod spec is where it says. */
class WorkloadKindTest {

    @ParameterizedTest
    @CsvSource({"v1,'',v1", "apps/v1,apps,v1", "batch/v1,batch,v1", "example.com/v1beta1,example.com,v1beta1"})
    void anApiVersionSplitsIntoGroupAndVersion(String apiVersion, String group, String version) {
        assertEquals(group, WorkloadKind.groupOf(apiVersion));
        assertEquals(version, WorkloadKind.versionOf(apiVersion));
    }

    @ParameterizedTest
    @EnumSource(WorkloadKind.class)
    void everyKindIsFoundByGroupAndKindByApiVersionAndByItsModelClass(WorkloadKind k) throws Exception {
        assertEquals(Optional.of(k), WorkloadKind.of(k.group(), k.kind()));
        assertEquals(Optional.of(k), WorkloadKind.forApiVersion(k.apiVersion(), k.kind()));
        HasMetadata object = k.modelClass().getDeclaredConstructor().newInstance();
        assertEquals(Optional.of(k), WorkloadKind.of(object));
        assertEquals(k.apiVersion(), object.getApiVersion(), "the model class serializes as the first version");
        assertEquals(k.kind(), object.getKind());
    }

    @Test
    void aKindOfAnotherGroupIsNotOneOfThem() {
        assertEquals(Optional.empty(), WorkloadKind.of("example.com", "Deployment"));
        assertEquals(Optional.empty(), WorkloadKind.forApiVersion("v1", "Deployment"));
        assertEquals(Optional.empty(), WorkloadKind.forApiVersion(null, "Pod"));
    }

    /** Each kind's pod spec, set at {@link WorkloadKind#podSpecPath}, is the one extraction finds, with that path. */
    @ParameterizedTest
    @EnumSource(WorkloadKind.class)
    void theExtractedPodSpecSitsAtTheKindsPath(WorkloadKind k) throws Exception {
        ObjectNode object =
                Json.MAPPER.createObjectNode().put("apiVersion", k.apiVersion()).put("kind", k.kind());
        ObjectNode at = object;
        for (String step : k.podSpecPath().split("\\.")) {
            at = at.putObject(step);
        }
        at.putArray("containers").addObject().put("name", "marker").put("image", "i");
        PodSpecView view = PodSpecs.extract(Json.MAPPER.treeToValue(object, k.modelClass()))
                .orElseThrow();
        assertEquals(k.podSpecPath(), view.path());
        assertEquals("marker", view.spec().getContainers().get(0).getName());
    }

    @Test
    void anObjectIsControlledByAWorkloadOnlyWhenItsControllerIsAControllerKindOfTheTable() {
        assertTrue(WorkloadKind.controlledByWorkload(owned("apps/v1", "ReplicaSet", true)));
        assertTrue(WorkloadKind.controlledByWorkload(owned("batch/v1", "Job", true)));
        assertTrue(WorkloadKind.controlledByWorkload(owned("v1", "ReplicationController", true)));
        assertFalse(
                WorkloadKind.controlledByWorkload(owned("example.com/v1", "ReplicaSet", true)),
                "a custom resource of the same name");
        assertFalse(
                WorkloadKind.controlledByWorkload(owned("apps/v1", "ReplicaSet", false)),
                "an owner that is not the controller");
        assertFalse(WorkloadKind.controlledByWorkload(owned("v1", "PodTemplate", true)), "not a controller kind");
        assertFalse(WorkloadKind.controlledByWorkload(
                new PodBuilder().withNewMetadata().withName("p").endMetadata().build()));
        assertTrue(
                WorkloadKind.controllerOf(owned("example.com/v1", "Thing", true))
                        .isPresent(),
                "any controller counts as one");
        assertFalse(
                WorkloadKind.controllerOf(owned("apps/v1", "ReplicaSet", false)).isPresent());
    }

    private static HasMetadata owned(String apiVersion, String kind, boolean controller) {
        return new PodBuilder()
                .withNewMetadata()
                .withName("p")
                .withOwnerReferences(new OwnerReferenceBuilder()
                        .withApiVersion(apiVersion)
                        .withKind(kind)
                        .withName("owner")
                        .withUid("u")
                        .withController(controller)
                        .build())
                .endMetadata()
                .build();
    }
}
