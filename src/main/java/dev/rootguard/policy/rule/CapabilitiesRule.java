package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.Violation;
import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * {@code capabilities}: containers may only add Linux capabilities from the allowlist.
 *
 * <p>Restricted field: {@code securityContext.capabilities.add[*]} of every container.
 *
 * <p>Allowed: names in {@code rootguard.rules.capabilities.allowed} (default {@code NET_BIND_SERVICE}),
 * compared case-insensitively and with or without the {@code CAP_} prefix. {@code ALL} is only
 * allowed when the allowlist names {@code ALL} itself.
 *
 * <p>Mutation fills in {@code capabilities.drop: [ALL]} on every container without a drop list
 * ({@code rootguard.defaults.drop-all-capabilities}).
 */
public final class CapabilitiesRule implements Rule<CapabilitiesRule.Settings> {
    public static final String ID = "capabilities";
    static final String ALLOWED = "rootguard.rules.capabilities.allowed";
    static final String DROP_ALL = "rootguard.defaults.drop-all-capabilities";

    /**
     * Settings of {@code capabilities}.
     *
     * @param allowed capabilities that may be added, normalised by {@link #normalize}, in name order
     * @param dropAll mutation sets {@code capabilities.drop: [ALL]} where no drop list exists
     */
    public record Settings(Set<String> allowed, boolean dropAll) {
        public Settings {
            SortedSet<String> caps = new TreeSet<>();
            allowed.forEach(c -> caps.add(normalize(c)));
            allowed = Collections.unmodifiableSortedSet(caps);
        }
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "capabilities.add may only name capabilities from the allowlist (default NET_BIND_SERVICE)";
    }

    @Override
    public List<SettingKey> keys() {
        return List.of(
                new SettingKey(
                        ALLOWED,
                        "NET_BIND_SERVICE",
                        "Capabilities that may be added; case and the CAP_ prefix do not"
                                + " matter, ALL only if listed; set to nothing for none."),
                new SettingKey(
                        DROP_ALL,
                        "true",
                        "Mutation sets container capabilities.drop: [ALL] when no drop list exists."));
    }

    @Override
    public Settings defaults() {
        return new Settings(Set.of("NET_BIND_SERVICE"), true);
    }

    @Override
    public Settings settings(SettingsSource source) {
        return new Settings(Set.copyOf(source.list(ALLOWED).orElse(List.of())), source.bool(DROP_ALL));
    }

    @Override
    public boolean fix(
            PodSpecView pod,
            List<ContainerView> containers,
            Predicate<ContainerView> exempt,
            Settings settings,
            Scope scope) {
        if (!settings.dropAll()) {
            return false;
        }
        boolean changed = false;
        for (ContainerView c : containers) {
            if (exempt.test(c)) {
                continue;
            }
            SecurityContext sc = c.securityContext();
            Capabilities caps = sc == null ? null : sc.getCapabilities();
            if (caps == null || caps.getDrop() == null || caps.getDrop().isEmpty()) {
                if (caps == null) {
                    caps = new Capabilities();
                    c.securityContextForWrite().setCapabilities(caps);
                }
                caps.setDrop(new ArrayList<>(List.of("ALL")));
                changed = true;
            }
        }
        return changed;
    }

    /**
     * Normalises a capability name as the container runtimes do: upper case, without the
     * {@code CAP_} prefix. {@code ALL} stays {@code ALL}.
     */
    public static String normalize(String name) {
        String n = name == null ? "" : name.trim().toUpperCase(Locale.ROOT);
        return n.startsWith("CAP_") ? n.substring(4) : n;
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, Settings settings, Scope scope) {
        Findings findings = new Findings(ID);
        String allowed = settings.allowed().isEmpty() ? "none" : String.join(", ", settings.allowed());
        for (ContainerView c : containers) {
            SecurityContext sc = c.securityContext();
            if (sc == null
                    || sc.getCapabilities() == null
                    || sc.getCapabilities().getAdd() == null) {
                continue;
            }
            List<String> add = sc.getCapabilities().getAdd();
            for (int i = 0; i < add.size(); i++) {
                String name = add.get(i);
                if (!settings.allowed().contains(normalize(name))) {
                    findings.add(
                            c.field("capabilities.add[" + i + "]"),
                            c,
                            names -> "capability \"" + name + "\" added to " + names + " is not allowed (allowed: "
                                    + allowed + "); remove it from capabilities.add");
                }
            }
        }
        return findings.toList();
    }
}
