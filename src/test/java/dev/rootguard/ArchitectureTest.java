package dev.rootguard;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SlicesRuleDefinition;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The package layout is the architecture: a pure engine at the bottom, the transports and the
 * command line on top, and the only code that writes to the API server in one package.
 */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.rootguard");

    /** fabric8 client verbs that change objects in the API server. */
    private static final Set<String> WRITE_VERBS = Set.of(
            "create",
            "createOr",
            "createOrReplace",
            "update",
            "updateStatus",
            "patch",
            "patchStatus",
            "edit",
            "editStatus",
            "replace",
            "replaceStatus",
            "delete",
            "serverSideApply",
            "apply");

    private static final DescribedPredicate<JavaMethodCall> WRITES_TO_API_SERVER = DescribedPredicate.describe(
            "a fabric8 client call that writes to the API server",
            call -> call.getTargetOwner().getPackageName().startsWith("io.fabric8.kubernetes.client")
                    && WRITE_VERBS.contains(call.getName()));

    @Test
    void policyDependsOnNoFrameworkTransportOrClient() {
        noClasses()
                .that()
                .resideInAnyPackage("dev.rootguard.policy..", "dev.rootguard.json..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "io.quarkus..",
                        "jakarta.ws.rs..",
                        "jakarta.enterprise..",
                        "jakarta.inject..",
                        "io.vertx..",
                        "io.netty..",
                        "io.fabric8.kubernetes.client..",
                        "io.micrometer..",
                        "org.eclipse.microprofile..",
                        "io.smallrye..",
                        "picocli..")
                .check(CLASSES);
    }

    @Test
    void layersOnlyCallDownwards() {
        layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .layer("Main")
                .definedBy("dev.rootguard")
                .layer("Cli")
                .definedBy("dev.rootguard.cli..")
                .layer("Server")
                .definedBy("dev.rootguard.server..")
                .layer("Admission")
                .definedBy("dev.rootguard.admission..")
                .layer("Audit")
                .definedBy("dev.rootguard.audit..")
                .layer("Allocator")
                .definedBy("dev.rootguard.allocator..")
                .layer("Cluster")
                .definedBy("dev.rootguard.cluster..")
                .layer("Registry")
                .definedBy("dev.rootguard.registry..")
                .layer("Tls")
                .definedBy("dev.rootguard.tls..")
                .layer("Config")
                .definedBy("dev.rootguard.config..")
                .layer("Policy")
                .definedBy("dev.rootguard.policy..")
                .layer("Json")
                .definedBy("dev.rootguard.json..")
                .whereLayer("Main")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("Cli")
                .mayOnlyBeAccessedByLayers("Main")
                .whereLayer("Server")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("Admission")
                .mayOnlyBeAccessedByLayers("Server")
                .whereLayer("Audit")
                .mayOnlyBeAccessedByLayers("Cli", "Server")
                .whereLayer("Allocator")
                .mayOnlyBeAccessedByLayers("Server")
                .whereLayer("Cluster")
                .mayOnlyBeAccessedByLayers("Server", "Admission", "Audit", "Allocator", "Cli")
                // Image registries are read by the webhook and the audit CLI only.
                .whereLayer("Registry")
                .mayOnlyBeAccessedByLayers("Server", "Admission", "Audit", "Cli")
                // Only the server wires serving TLS.
                .whereLayer("Tls")
                .mayOnlyBeAccessedByLayers("Server")
                .whereLayer("Config")
                .mayOnlyBeAccessedByLayers(
                        "Main", "Cli", "Server", "Admission", "Audit", "Allocator", "Cluster", "Tls", "Registry")
                .whereLayer("Policy")
                .mayOnlyBeAccessedByLayers(
                        "Cli", "Server", "Admission", "Audit", "Allocator", "Cluster", "Config", "Registry")
                .whereLayer("Json")
                .mayOnlyBeAccessedByLayers(
                        "Cli", "Server", "Admission", "Audit", "Allocator", "Cluster", "Config", "Policy", "Registry")
                .check(CLASSES);
    }

    @Test
    void rulesAndMutationSitBelowTheEngine() {
        noClasses()
                .that()
                .resideInAnyPackage("dev.rootguard.policy.rule..", "dev.rootguard.policy.mutate..")
                .should()
                .dependOnClassesThat()
                .haveFullyQualifiedName("dev.rootguard.policy.Engine")
                .check(CLASSES);
    }

    @Test
    void packagesHaveNoCycles() {
        SlicesRuleDefinition.slices()
                .matching("dev.rootguard.(*)..")
                .should()
                .beFreeOfCycles()
                .check(CLASSES);
    }

    @Test
    void onlyTheAdmissionAndServerPackagesKnowHttp() {
        noClasses()
                .that()
                .resideOutsideOfPackages("dev.rootguard.admission..", "dev.rootguard.server..", "dev.rootguard.tls..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("jakarta.ws.rs..", "io.vertx.ext.web..", "io.vertx.core.http..")
                .check(CLASSES);
    }

    /**
     * The one other caller is {@code rootguard check}, whose create is a server-side dry run (nothing is persisted,
     * which CheckCommandIT checks); it runs from the helm test pod's own ServiceAccount, not the webhook's.
     */
    @Test
    void onlyTheAllocatorWritesToTheApiServer() {
        noClasses()
                .that()
                .resideOutsideOfPackage("dev.rootguard.allocator..")
                .and()
                .doNotHaveFullyQualifiedName("dev.rootguard.cli.CheckCommand")
                .should()
                .callMethodWhere(WRITES_TO_API_SERVER)
                .check(CLASSES);
    }

    @Test
    void theWriteRuleRecognisesTheAllocatorsWrites() {
        // The rule above is only worth something if it sees real writes: the allocator's must match it.
        List<JavaMethodCall> writes = CLASSES.stream()
                .filter(c -> c.getPackageName().startsWith("dev.rootguard.allocator"))
                .flatMap(c -> c.getMethodCallsFromSelf().stream())
                .filter(WRITES_TO_API_SERVER)
                .toList();
        assertFalse(writes.isEmpty(), "no write to the API server found in dev.rootguard.allocator");
    }
}
