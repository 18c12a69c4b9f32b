package dev.rootguard.policy.rule;

import dev.rootguard.policy.Action;
import dev.rootguard.policy.ImageFacts;
import dev.rootguard.policy.NamespaceRanges;

/**
 * What a rule knows about where the object lives.
 *
 * @param namespace the object's namespace
 * @param mode      the mode in force there (global or the namespace's label)
 * @param ranges    the namespace's ID ranges, from its annotations
 * @param ids       the IDs that mutation fills in and messages suggest there
 * @param images    what registries said of the object's images
 */
public record Scope(String namespace, Action mode, NamespaceRanges ranges, Ids ids, ImageFacts images) {

    public Scope {
        images = images == null ? ImageFacts.NONE : images;
    }

    /** A scope with no image facts. */
    public Scope(String namespace, Action mode, NamespaceRanges ranges, Ids ids) {
        this(namespace, mode, ranges, ids, ImageFacts.NONE);
    }

    /**
     * Default IDs ({@code rootguard.defaults.run-as-user}, {@code run-as-group}, {@code fs-group}).
     * Several rules suggest them and mutation fills them in, so they are shared rather than one rule's.
     */
    public record Ids(long runAsUser, long runAsGroup, long fsGroup) {
        public static final String RUN_AS_USER = "rootguard.defaults.run-as-user";
        public static final String RUN_AS_GROUP = "rootguard.defaults.run-as-group";
        public static final String FS_GROUP = "rootguard.defaults.fs-group";

        public static Ids standard() {
            return new Ids(10000, 10000, 10000);
        }

        /**
         * Reads the three keys.
         *
         * @throws IllegalArgumentException naming the key when an ID is not positive
         */
        public static Ids from(SettingsSource source) {
            return new Ids(
                    id(RUN_AS_USER, source.number(RUN_AS_USER)),
                    id(RUN_AS_GROUP, source.number(RUN_AS_GROUP)),
                    id(FS_GROUP, source.number(FS_GROUP)));
        }

        /** Where the namespace has a uid range, every ID defaults to its start. */
        public Ids in(NamespaceRanges ranges) {
            return ranges.uids().map(r -> new Ids(r.min(), r.min(), r.min())).orElse(this);
        }

        private static long id(String key, long value) {
            if (value <= 0) {
                throw new IllegalArgumentException(key + ": " + value
                        + " would default to root or an invalid ID; use a positive number such as 10000");
            }
            return value;
        }
    }
}
