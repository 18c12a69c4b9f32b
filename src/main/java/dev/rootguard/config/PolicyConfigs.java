package dev.rootguard.config;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.Glob;
import dev.rootguard.policy.IdRange;
import dev.rootguard.policy.NamespaceRanges;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.mutate.Mutation;
import dev.rootguard.policy.rule.RuleRegistry;
import dev.rootguard.policy.rule.SettingsSource;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns the configuration keys into the engine's {@link PolicyConfig}, failing with the key name on bad values.
 *
 * <p>The keys of {@code rootguard.rules.*}, {@code rootguard.defaults.*} and {@code rootguard.mutation.*}
 * stay typed groups in {@link RootguardConfig}, so that the configuration library keeps converting
 * values, reading environment variables and rejecting unknown keys with their names; their values
 * are handed, by full key, to each rule's settings parser ({@link dev.rootguard.policy.rule.Rule#settings}),
 * which does all the checking.
 */
public final class PolicyConfigs {
    private static final String RULES = "rootguard.rules.";
    private static final String DEFAULTS = "rootguard.defaults.";
    private static final String MUTATION = "rootguard.mutation.";

    private PolicyConfigs() {}

    /**
     * Builds the policy.
     *
     * @throws IllegalArgumentException naming the offending key and value
     */
    public static PolicyConfig from(RootguardConfig c, RuleRegistry registry) {
        Allocation allocation = allocation(c);
        SettingsSource source = new SettingsSource(
                values(c), allocation.enabled() ? Optional.of(allocation.block()) : Optional.empty());
        Mutation mutation = Mutation.from(source);
        Map<String, PolicyConfig.RuleSettings> rules = registry.settings(source);

        Set<String> namespaces = new LinkedHashSet<>(c.exemptions().namespaces());
        namespaces.add(c.namespace());
        List<Glob> users = globs(c.exemptions().users());
        return new PolicyConfig(mode(c.mode()), rules, mutation, new PolicyConfig.Exemptions(namespaces, users));
    }

    /** The values of the rule, defaults and mutation groups, by full key. */
    static Map<String, Object> values(RootguardConfig c) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Method group : getters(RootguardConfig.Rules.class)) {
            flatten(RULES + name(group) + ".", group.getReturnType(), invoke(group, c.rules()), out);
        }
        flatten(DEFAULTS, RootguardConfig.Defaults.class, c.defaults(), out);
        flatten(MUTATION, RootguardConfig.Mutation.class, c.mutation(), out);
        return out;
    }

    /**
     * Every key of the rule, defaults and mutation groups with its {@code @WithDefault} value ("" for
     * none), as the configuration library sees them: what the rules' declared keys are checked against.
     */
    static Map<String, String> declaredKeys() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Method group : getters(RootguardConfig.Rules.class)) {
            keys(RULES + name(group) + ".", group.getReturnType(), out);
        }
        keys(DEFAULTS, RootguardConfig.Defaults.class, out);
        keys(MUTATION, RootguardConfig.Mutation.class, out);
        return out;
    }

    private static void keys(String prefix, Class<?> type, Map<String, String> out) {
        for (Method m : getters(type)) {
            WithDefault d = m.getAnnotation(WithDefault.class);
            out.put(prefix + name(m), d == null ? "" : d.value());
        }
    }

    private static void flatten(String prefix, Class<?> type, Object group, Map<String, Object> out) {
        for (Method m : getters(type)) {
            out.put(prefix + name(m), invoke(m, group));
        }
    }

    private static List<Method> getters(Class<?> type) {
        List<Method> out = new ArrayList<>();
        for (Method m : type.getMethods()) {
            if (m.getParameterCount() == 0 && !m.isDefault() && !Modifier.isStatic(m.getModifiers())) {
                out.add(m);
            }
        }
        return out;
    }

    private static String name(Method m) {
        WithName n = m.getAnnotation(WithName.class);
        return n == null ? m.getName() : n.value();
    }

    private static Object invoke(Method m, Object target) {
        try {
            return m.invoke(target);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The range allocator's settings.
     *
     * @param enabled   whether this webhook assigns ranges (and requires every namespace to have one)
     * @param block     the IDs ranges are taken from
     * @param rangeSize IDs per namespace
     */
    public record Allocation(boolean enabled, IdRange block, long rangeSize) {}

    /**
     * Reads and checks {@code rootguard.allocator.*}.
     *
     * @throws IllegalArgumentException naming the offending key and value
     */
    public static Allocation allocation(RootguardConfig c) {
        RootguardConfig.Allocator a = c.allocator();
        IdRange block;
        try {
            block = NamespaceRanges.parse(a.block());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("rootguard.allocator.block: " + e.getMessage(), e);
        }
        if (a.rangeSize() < 1 || a.rangeSize() > block.size()) {
            throw new IllegalArgumentException("rootguard.allocator.range-size: " + a.rangeSize()
                    + " must be between 1 and the size of" + " rootguard.allocator.block (" + block.size() + ")");
        }
        if (a.enabled() && !c.namespaceLabels().enabled()) {
            throw new IllegalArgumentException(
                    "rootguard.allocator.enabled: the webhook reads ranges from namespace annotations, so"
                            + " it needs rootguard.namespace-labels.enabled=true");
        }
        return new Allocation(a.enabled(), block, a.rangeSize());
    }

    private static Action mode(String value) {
        try {
            return Action.parseMode(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("rootguard.mode: " + e.getMessage(), e);
        }
    }

    private static List<Glob> globs(Optional<List<String>> values) {
        List<Glob> out = new ArrayList<>();
        for (String v : values.orElse(List.of())) {
            if (!v.isBlank()) {
                out.add(Glob.of(v));
            }
        }
        return out;
    }
}
