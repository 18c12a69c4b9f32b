package dev.rootguard.policy;

import java.util.List;
import java.util.Optional;

/**
 * What is known of one image reference: the user of each platform looked up, or why the lookup failed.
 *
 * @param image     the image reference as the pod names it
 * @param platforms one entry per platform resolved (one for a single-platform image); empty when failed
 * @param failure   why nothing is known, when the lookup failed
 */
public record ImageInfo(String image, List<ImageUser> platforms, Optional<String> failure) {

    public ImageInfo {
        platforms = List.copyOf(platforms);
    }

    public static ImageInfo found(String image, List<ImageUser> platforms) {
        return new ImageInfo(image, platforms, Optional.empty());
    }

    public static ImageInfo failed(String image, String reason) {
        return new ImageInfo(image, List.of(), Optional.of(reason));
    }

    public boolean isFailed() {
        return failure.isPresent();
    }

    /**
     * The platforms a pod can run the image on: the node architecture's when the pod pins one
     * ({@code kubernetes.io/arch}) and the image has it, else every platform looked up.
     */
    public List<ImageUser> on(Optional<String> architecture) {
        if (architecture.isPresent()) {
            List<ImageUser> pinned = platforms.stream()
                    .filter(p -> p.architecture().equals(architecture.get()))
                    .toList();
            if (!pinned.isEmpty()) {
                return pinned;
            }
        }
        return platforms;
    }

    /** The one user every platform agrees on, when they do. */
    public Optional<ImageUser> agreed(Optional<String> architecture) {
        List<ImageUser> users = on(architecture);
        if (users.isEmpty()) {
            return Optional.empty();
        }
        String first = users.get(0).user();
        return users.stream().allMatch(u -> u.user().equals(first)) ? Optional.of(users.get(0)) : Optional.empty();
    }
}
