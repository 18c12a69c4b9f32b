package dev.rootguard.e2e;

import dev.rootguard.policy.WorkloadKind;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.RuleWithOperations;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.RuleWithOperationsBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfigurationBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The webhook configurations the end-to-end tests register, pointing at a URL on loopback. */
public final class Webhooks {
    static final String VALIDATING_NAME = "validate.rootguard.dev";
    static final String MUTATING_NAME = "mutate.rootguard.dev";

    private Webhooks() {}

    /** One rule per API group of the workload kinds, and the subresources they check (on UPDATE only). */
    static List<RuleWithOperations> rules(boolean withUpdates) {
        List<String> ops = withUpdates ? List.of("CREATE", "UPDATE") : List.of("CREATE");
        Map<String, List<WorkloadKind>> byGroup = Arrays.stream(WorkloadKind.values())
                .collect(Collectors.groupingBy(WorkloadKind::group, LinkedHashMap::new, Collectors.toList()));
        List<RuleWithOperations> rules = new ArrayList<>();
        byGroup.forEach((group, kinds) -> rules.add(new RuleWithOperationsBuilder()
                .withApiGroups(group)
                .withApiVersions(kinds.get(0).versions())
                .withOperations(ops)
                .withResources(kinds.stream().map(WorkloadKind::resource).toList())
                .build()));
        for (WorkloadKind k : WorkloadKind.values()) {
            for (String sub : k.subresources()) {
                rules.add(new RuleWithOperationsBuilder()
                        .withApiGroups(k.group())
                        .withApiVersions(k.versions())
                        .withOperations("UPDATE")
                        .withResources(k.resource() + "/" + sub)
                        .build());
            }
        }
        return rules;
    }

    /** Never call the webhook for these namespaces, whatever the webhook itself would decide. */
    static LabelSelector excluding(List<String> namespaces) {
        return new LabelSelectorBuilder()
                .addNewMatchExpression()
                .withKey("kubernetes.io/metadata.name")
                .withOperator("NotIn")
                .withValues(namespaces)
                .endMatchExpression()
                .build();
    }

    public static ValidatingWebhookConfiguration validating(String baseUrl, String caBundle, List<String> excluded) {
        return new ValidatingWebhookConfigurationBuilder()
                .withNewMetadata()
                .withName("rootguard")
                .endMetadata()
                .addNewWebhook()
                .withName(VALIDATING_NAME)
                .withNewClientConfig()
                .withUrl(baseUrl + "/validate")
                .withCaBundle(caBundle)
                .endClientConfig()
                .withAdmissionReviewVersions("v1")
                .withSideEffects("None")
                .withFailurePolicy("Fail")
                .withMatchPolicy("Equivalent")
                .withTimeoutSeconds(5)
                .withNamespaceSelector(excluding(excluded))
                .withRules(rules(true))
                .endWebhook()
                .build();
    }

    public static MutatingWebhookConfiguration mutating(String baseUrl, String caBundle, List<String> excluded) {
        return new MutatingWebhookConfigurationBuilder()
                .withNewMetadata()
                .withName("rootguard")
                .endMetadata()
                .addNewWebhook()
                .withName(MUTATING_NAME)
                .withNewClientConfig()
                .withUrl(baseUrl + "/mutate")
                .withCaBundle(caBundle)
                .endClientConfig()
                .withAdmissionReviewVersions("v1")
                .withSideEffects("None")
                .withFailurePolicy("Ignore")
                .withMatchPolicy("Equivalent")
                .withReinvocationPolicy("IfNeeded")
                .withTimeoutSeconds(3)
                .withNamespaceSelector(excluding(excluded))
                .withRules(rules(false))
                .endWebhook()
                .build();
    }
}
