package dev.rootguard.policy.mutate;

import dev.rootguard.policy.rule.Scope;
import dev.rootguard.policy.rule.SettingKey;
import dev.rootguard.policy.rule.SettingsSource;
import java.util.List;
import java.util.Optional;

/**
 * Mutation as a whole, and the pod-level defaults that belong to no single rule. What each rule
 * fills in for itself sits in the rule's own file ({@link dev.rootguard.policy.rule.Rule#fix}).
 *
 * @param enabled        whether {@code /mutate} and {@code rootguard fix} fill in defaults at all
 * @param ids            the default IDs: several rules suggest them and fill them in, so they are shared
 * @param seccompProfile pod {@code seccompProfile.type}, empty for none
 */
public record Mutation(boolean enabled, Scope.Ids ids, Optional<String> seccompProfile) {
    static final String ENABLED = "rootguard.mutation.enabled";
    static final String SECCOMP_PROFILE = "rootguard.defaults.seccomp-profile";

    public static Mutation standard() {
        return new Mutation(true, Scope.Ids.standard(), Optional.of("RuntimeDefault"));
    }

    /** The keys read here, for the configuration reference. */
    public static List<SettingKey> keys() {
        return List.of(
                new SettingKey(
                        ENABLED,
                        "true",
                        "When false, /mutate allows everything unchanged and rootguard fix changes nothing."),
                new SettingKey(Scope.Ids.RUN_AS_USER, "10000", "Pod runAsUser."),
                new SettingKey(Scope.Ids.RUN_AS_GROUP, "10000", "Pod runAsGroup."),
                new SettingKey(Scope.Ids.FS_GROUP, "10000", "Pod fsGroup."),
                new SettingKey(SECCOMP_PROFILE, "RuntimeDefault", "Pod seccompProfile.type; none to leave it unset."));
    }

    /**
     * Reads the keys.
     *
     * @throws IllegalArgumentException naming the offending key and value
     */
    public static Mutation from(SettingsSource source) {
        Scope.Ids ids = Scope.Ids.from(source);
        String seccomp = source.string(SECCOMP_PROFILE).orElse("").trim();
        return new Mutation(
                source.bool(ENABLED),
                ids,
                seccomp.equalsIgnoreCase("none") || seccomp.isEmpty() ? Optional.empty() : Optional.of(seccomp));
    }
}
