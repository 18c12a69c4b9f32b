package dev.rootguard.config;

import dev.rootguard.policy.Engine;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.rule.RuleRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Holds the rule registry, the engine and the policy built from configuration. Building the policy
 * fails start-up with the offending key when a value is invalid, so a typo never runs.
 */
@ApplicationScoped
public class PolicyHolder {
    private final RuleRegistry registry = RuleRegistry.standard();
    private final Engine engine = new Engine(registry);
    private final PolicyConfig policy;

    @Inject
    public PolicyHolder(RootguardConfig config) {
        this.policy = PolicyConfigs.from(config, registry);
    }

    public PolicyConfig policy() {
        return policy;
    }

    public Engine engine() {
        return engine;
    }

    public RuleRegistry registry() {
        return registry;
    }
}
