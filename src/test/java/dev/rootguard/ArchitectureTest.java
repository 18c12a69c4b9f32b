package dev.rootguard;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** Keeps the policy engine pure, so the webhook, the audit CLI and tests share one engine. */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.rootguard");

    @Test
    void policyDependsOnNoFrameworkTransportOrClient() {
        noClasses().that().resideInAPackage("dev.rootguard.policy..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "io.quarkus..", "jakarta.ws.rs..", "jakarta.enterprise..", "jakarta.inject..", "io.vertx..",
                        "io.fabric8.kubernetes.client..", "io.micrometer..", "org.eclipse.microprofile..", "io.smallrye..")
                .check(CLASSES);
    }

    @Test
    void policyDependsOnNoOtherRootguardLayer() {
        noClasses().that().resideInAPackage("dev.rootguard.policy..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.rootguard.admission..", "dev.rootguard.cluster..",
                        "dev.rootguard.config..", "dev.rootguard.audit..")
                .check(CLASSES);
    }

    @Test
    void packagesHaveNoCycles() {
        com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices().matching("dev.rootguard.(*)..")
                .should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void onlyAdmissionKnowsHttp() {
        noClasses().that().resideOutsideOfPackage("dev.rootguard.admission..")
                .should().dependOnClassesThat().resideInAnyPackage("jakarta.ws.rs..", "io.vertx.ext.web..")
                .check(CLASSES);
    }
}
