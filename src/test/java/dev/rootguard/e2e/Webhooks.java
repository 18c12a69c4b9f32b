package dev.rootguard.e2e;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.RuleWithOperations;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.RuleWithOperationsBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfigurationBuilder;
import java.util.List;

/** The webhook configurations the end-to-end tests register, pointing at a URL on loopback. */
public final class Webhooks {
    static final String VALIDATING_NAME = "validate.rootguard.dev";
    static final String MUTATING_NAME = "mutate.rootguard.dev";

    private Webhooks() {
    }

    static List<RuleWithOperations> rules(boolean withUpdates) {
        List<String> ops = withUpdates ? List.of("CREATE", "UPDATE") : List.of("CREATE");
        return List.of(
                new RuleWithOperationsBuilder().withApiGroups("").withApiVersions("v1").withOperations(ops)
                        .withResources("pods", "replicationcontrollers", "podtemplates").build(),
                new RuleWithOperationsBuilder().withApiGroups("").withApiVersions("v1").withOperations("UPDATE")
                        .withResources("pods/ephemeralcontainers").build(),
                new RuleWithOperationsBuilder().withApiGroups("apps").withApiVersions("v1").withOperations(ops)
                        .withResources("deployments", "replicasets", "statefulsets", "daemonsets").build(),
                new RuleWithOperationsBuilder().withApiGroups("batch").withApiVersions("v1").withOperations(ops)
                        .withResources("jobs", "cronjobs").build());
    }

    /** Never call the webhook for these namespaces, whatever the webhook itself would decide. */
    static LabelSelector excluding(List<String> namespaces) {
        return new LabelSelectorBuilder().addNewMatchExpression().withKey("kubernetes.io/metadata.name").withOperator("NotIn")
                .withValues(namespaces).endMatchExpression().build();
    }

    public static ValidatingWebhookConfiguration validating(String baseUrl, String caBundle, List<String> excluded) {
        return new ValidatingWebhookConfigurationBuilder().withNewMetadata().withName("rootguard").endMetadata()
                .addNewWebhook().withName(VALIDATING_NAME)
                .withNewClientConfig().withUrl(baseUrl + "/validate").withCaBundle(caBundle).endClientConfig()
                .withAdmissionReviewVersions("v1").withSideEffects("None").withFailurePolicy("Fail").withMatchPolicy("Equivalent")
                .withTimeoutSeconds(5).withNamespaceSelector(excluding(excluded)).withRules(rules(true))
                .endWebhook().build();
    }

    public static MutatingWebhookConfiguration mutating(String baseUrl, String caBundle, List<String> excluded) {
        return new MutatingWebhookConfigurationBuilder().withNewMetadata().withName("rootguard").endMetadata()
                .addNewWebhook().withName(MUTATING_NAME)
                .withNewClientConfig().withUrl(baseUrl + "/mutate").withCaBundle(caBundle).endClientConfig()
                .withAdmissionReviewVersions("v1").withSideEffects("None").withFailurePolicy("Ignore").withMatchPolicy("Equivalent")
                .withReinvocationPolicy("IfNeeded").withTimeoutSeconds(3).withNamespaceSelector(excluding(excluded))
                .withRules(rules(false))
                .endWebhook().build();
    }
}
