package dev.rootguard.policy;

import java.util.Optional;

/**
 * The user an image's config names ({@code config.User}), for one platform, as its registry reported it.
 *
 * <p>The kubelet reads it as containerd and CRI-O report it: {@code user[:group]}, where a numeric
 * {@code user} is a UID and anything else a name; no user at all runs as UID 0. With
 * {@code runAsNonRoot: true} and no {@code runAsUser}, it refuses to start a container whose image
 * user is UID 0 ("container has runAsNonRoot and image will run as root") or a name ("image has
 * non-numeric user (NAME), cannot verify user is non-root").
 *
 * @param platform {@code os/architecture[/variant]}, e.g. {@code linux/arm64}
 * @param digest   the digest of the platform's manifest, e.g. {@code sha256:...}
 * @param user     {@code config.User} as written in the image, "" when it has none
 */
public record ImageUser(String platform, String digest, String user) {

    public ImageUser {
        user = user == null ? "" : user.strip();
    }

    /** How the kubelet sees the user. */
    public enum Kind {
        /** No user, or UID 0: runs as root. */
        ROOT,
        /** A UID other than 0. */
        NON_ROOT,
        /** A user name, which the kubelet cannot check against {@code runAsNonRoot}. */
        NAME
    }

    public Kind kind() {
        String name = userPart();
        if (name.isEmpty()) {
            return Kind.ROOT;
        }
        Optional<Long> uid = number(name);
        if (uid.isEmpty()) {
            return Kind.NAME;
        }
        return uid.get() == 0 ? Kind.ROOT : Kind.NON_ROOT;
    }

    /** The UID, when the user is numeric. */
    public Optional<Long> uid() {
        return number(userPart());
    }

    /** The GID, when the user names a numeric group ({@code 10001:10001}). */
    public Optional<Long> gid() {
        int colon = user.indexOf(':');
        return colon < 0 ? Optional.empty() : number(user.substring(colon + 1));
    }

    /** The architecture part of the platform: {@code arm64} for {@code linux/arm64/v8}. */
    public String architecture() {
        String[] parts = platform.split("/");
        return parts.length > 1 ? parts[1] : platform;
    }

    /** What the user means: "has no USER, so it runs as root", "runs as USER 0 (root)", "runs as USER redis". */
    public String describe() {
        if (user.isEmpty()) {
            return "has no USER, so it runs as root";
        }
        return "runs as USER " + user + (kind() == Kind.ROOT ? " (root)" : "");
    }

    private String userPart() {
        int colon = user.indexOf(':');
        return colon < 0 ? user : user.substring(0, colon);
    }

    private static Optional<Long> number(String s) {
        if (s.isEmpty() || s.length() > 10 || !s.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
            return Optional.empty();
        }
        long v = Long.parseLong(s);
        return v > 0xFFFFFFFFL ? Optional.empty() : Optional.of(v);
    }
}
