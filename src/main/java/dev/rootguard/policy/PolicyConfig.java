package dev.rootguard.policy;

import dev.rootguard.policy.mutate.Mutation;
import dev.rootguard.policy.rule.Rule;
import dev.rootguard.policy.rule.RuleRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Everything the engine needs to decide, as plain values. The admission and audit layers build
 * it from the same configuration keys, so both decide alike.
 *
 * @param mode       global mode: enforce, warn or audit
 * @param rules      per rule ID: action, image exemptions and the rule's own settings; rules not listed use their defaults
 * @param mutation   whether mutation runs at all, and the pod-level defaults no single rule owns
 * @param exemptions namespaces and users that are never evaluated
 */
public record PolicyConfig(Action mode, Map<String, RuleSettings> rules, Mutation mutation, Exemptions exemptions) {

    public PolicyConfig {
        if (mode == Action.OFF) {
            throw new IllegalArgumentException("mode must be enforce, warn or audit");
        }
        rules = Map.copyOf(rules);
    }

    /**
     * One rule's settings.
     *
     * @param action       the rule's action
     * @param exemptImages globs over the images whose containers the rule skips
     * @param settings     the rule's own settings, of its {@code Settings} type
     */
    public record RuleSettings(Action action, List<Glob> exemptImages, Object settings) {
        public RuleSettings {
            exemptImages = List.copyOf(exemptImages);
            Objects.requireNonNull(settings, "settings");
        }

        /** A rule's default action and settings, with no exemptions. */
        public static RuleSettings standard(Rule<?> rule) {
            return new RuleSettings(rule.defaultAction(), List.of(), rule.defaults());
        }

        public boolean exempts(String image) {
            for (Glob g : exemptImages) {
                if (g.matches(image)) {
                    return true;
                }
            }
            return false;
        }

        public RuleSettings withAction(Action newAction) {
            return new RuleSettings(newAction, exemptImages, settings);
        }

        public RuleSettings withExemptImages(List<Glob> images) {
            return new RuleSettings(action, images, settings);
        }

        public RuleSettings withSettings(Object newSettings) {
            return new RuleSettings(action, exemptImages, newSettings);
        }
    }

    /**
     * Requests that are never evaluated or mutated.
     *
     * @param namespaces exact namespace names
     * @param users      globs over the requesting user name (service accounts are
     *                   {@code system:serviceaccount:<namespace>:<name>})
     */
    public record Exemptions(Set<String> namespaces, List<Glob> users) {
        public Exemptions {
            namespaces = Set.copyOf(namespaces);
            users = List.copyOf(users);
        }

        public static Exemptions standard() {
            return new Exemptions(Set.of("kube-system", "kube-public", "kube-node-lease"), List.of());
        }

        /** Why a request is exempt, or empty when it is not. */
        public Optional<String> reason(String namespace, String user) {
            if (namespace != null && namespaces.contains(namespace)) {
                return Optional.of("namespace " + namespace + " is exempt");
            }
            if (user != null) {
                for (Glob g : users) {
                    if (g.matches(user)) {
                        return Optional.of("user " + user + " matches exemption " + g);
                    }
                }
            }
            return Optional.empty();
        }
    }

    /** The built-in defaults: every rule at its default action, nothing exempt but system namespaces. */
    public static PolicyConfig standard() {
        return new PolicyConfig(
                Action.ENFORCE, RuleRegistry.standard().standardSettings(), Mutation.standard(), Exemptions.standard());
    }

    /** The settings for a rule: configured ones, or the rule's defaults with no exemptions. */
    public RuleSettings rule(Rule<?> rule) {
        RuleSettings s = rules.get(rule.id());
        return s != null ? s : RuleSettings.standard(rule);
    }

    /** A rule's own settings, by ID. */
    public <S> S settings(String id, Class<S> type) {
        RuleSettings s = rules.get(id);
        if (s == null) {
            throw new IllegalArgumentException("no settings for rule " + id);
        }
        return type.cast(s.settings());
    }

    /** A copy with one rule's settings changed (used by tests and the CLI). */
    public PolicyConfig withRule(String id, UnaryOperator<RuleSettings> change) {
        RuleSettings s = rules.get(id);
        if (s == null) {
            throw new IllegalArgumentException("no settings for rule " + id);
        }
        Map<String, RuleSettings> copy = new LinkedHashMap<>(rules);
        copy.put(id, change.apply(s));
        return new PolicyConfig(mode, copy, mutation, exemptions);
    }
}
