package dev.rootguard.policy.rule;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The rules in evaluation order, keyed by ID. Refuses duplicate IDs. */
public final class RuleRegistry {
    private final Map<String, Rule> rules = new LinkedHashMap<>();

    public RuleRegistry(List<? extends Rule> list) {
        for (Rule r : list) {
            if (rules.putIfAbsent(r.id(), r) != null) {
                throw new IllegalArgumentException("duplicate rule ID " + r.id());
            }
        }
    }

    /** The built-in rules. */
    public static RuleRegistry standard() {
        return new RuleRegistry(List.of(new RunAsRootRule(), new RootGroupRule(), new PrivilegedRule(),
                new CapabilitiesRule(), new RequiredIdsRule(), new PrivilegeEscalationRule(), new IdRangeRule(),
                new ImageGroupsRule()));
    }

    public Collection<Rule> rules() {
        return Collections.unmodifiableCollection(rules.values());
    }

    public Optional<Rule> get(String id) {
        return Optional.ofNullable(rules.get(id));
    }

    public Set<String> ids() {
        return Collections.unmodifiableSet(rules.keySet());
    }
}
