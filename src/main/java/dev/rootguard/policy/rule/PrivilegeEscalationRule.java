package dev.rootguard.policy.rule;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.Violation;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * {@code privilege-escalation}: containers must not allow privilege escalation, so setuid binaries
 * and file capabilities in the image cannot raise a process to UID 0.
 *
 * <p>Restricted field: {@code securityContext.allowPrivilegeEscalation} of every container.
 *
 * <p>Allowed: {@code false}. An explicit {@code true} gets the rule's action (default
 * {@code enforce}): it asks for exactly what rootguard exists to stop. Unset gets at most
 * {@code rootguard.rules.privilege-escalation.unset-action} (default {@code warn}): the runtime then
 * allows escalation too, but mutation fills in {@code false}, so only objects that bypassed mutation
 * reach validation without it, and refusing them would block workloads that predate the policy.
 * One rule with two actions rather than two rules, so the ID, its exemptions and its metrics stay
 * one: {@code action: off} still turns the whole rule off.
 *
 * <p>Mutation fills in {@code allowPrivilegeEscalation: false} ({@code rootguard.defaults.deny-privilege-escalation})
 * except on privileged containers and those adding {@code SYS_ADMIN}, which the API server would reject.
 */
public final class PrivilegeEscalationRule implements Rule<PrivilegeEscalationRule.Settings> {
    public static final String ID = "privilege-escalation";
    static final String UNSET_ACTION = "rootguard.rules.privilege-escalation.unset-action";
    static final String DENY = "rootguard.defaults.deny-privilege-escalation";

    /**
     * Settings of {@code privilege-escalation}.
     *
     * @param unsetAction the strongest action where {@code allowPrivilegeEscalation} is unset (an explicit
     *                    {@code true} gets the rule's action); {@link Action#OFF} reports only explicit {@code true}
     * @param fillFalse   mutation sets {@code allowPrivilegeEscalation: false} where it can
     */
    public record Settings(Action unsetAction, boolean fillFalse) {
        public Settings {
            Objects.requireNonNull(unsetAction, "unsetAction");
        }
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "containers must not set allowPrivilegeEscalation: true, and should set it to false";
    }

    @Override
    public List<SettingKey> keys() {
        return List.of(
                new SettingKey(
                        UNSET_ACTION,
                        "warn",
                        "The action where allowPrivilegeEscalation is unset: enforce, warn,"
                                + " audit or off; never stronger than action."),
                new SettingKey(
                        DENY, "true", "Mutation sets container allowPrivilegeEscalation: false unless privileged."));
    }

    @Override
    public Settings defaults() {
        return new Settings(Action.WARN, true);
    }

    @Override
    public Settings settings(SettingsSource source) {
        String value = source.string(UNSET_ACTION).orElseThrow();
        Action unset;
        try {
            unset = Action.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(UNSET_ACTION + ": " + e.getMessage(), e);
        }
        return new Settings(unset, source.bool(DENY));
    }

    @Override
    public boolean fix(
            PodSpecView pod,
            List<ContainerView> containers,
            Predicate<ContainerView> exempt,
            Settings settings,
            Scope scope) {
        if (!settings.fillFalse()) {
            return false;
        }
        boolean changed = false;
        for (ContainerView c : containers) {
            SecurityContext sc = c.securityContext();
            if (!exempt.test(c)
                    && (sc == null
                            || (sc.getAllowPrivilegeEscalation() == null
                                    && !Boolean.TRUE.equals(sc.getPrivileged())
                                    && !addsSysAdmin(sc)))) {
                c.securityContextForWrite().setAllowPrivilegeEscalation(false);
                changed = true;
            }
        }
        return changed;
    }

    private static boolean addsSysAdmin(SecurityContext sc) {
        return sc.getCapabilities() != null
                && sc.getCapabilities().getAdd() != null
                && sc.getCapabilities().getAdd().stream()
                        .anyMatch(a -> "SYS_ADMIN".equals(CapabilitiesRule.normalize(a)));
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, Settings settings, Scope scope) {
        Findings explicit = new Findings(ID);
        Findings unset = new Findings(ID);
        for (ContainerView c : containers) {
            SecurityContext sc = c.securityContext();
            Boolean ape = sc == null ? null : sc.getAllowPrivilegeEscalation();
            if (Boolean.TRUE.equals(ape)) {
                explicit.add(
                        c.field("allowPrivilegeEscalation"),
                        c,
                        names -> names + " sets allowPrivilegeEscalation: true,"
                                + " so a setuid-root binary in the image can become UID 0; set allowPrivilegeEscalation: false");
            } else if (ape == null) {
                unset.add(
                        c.field("allowPrivilegeEscalation"),
                        c,
                        names -> names + " does not set allowPrivilegeEscalation,"
                                + " so setuid binaries can gain privileges; set allowPrivilegeEscalation: false");
            }
        }
        List<Violation> out = new ArrayList<>(explicit.toList());
        for (Violation v : unset.toList()) {
            out.add(Violation.capped(v.rule(), v.path(), v.message(), settings.unsetAction()));
        }
        return out;
    }
}
