package dev.rootguard.policy;

import java.util.Map;
import java.util.Optional;

/**
 * What registries said about the images of one object, by image reference. Images that were not
 * looked up (lookups off, registry not allowed, image or request exempt) are absent: the rules then
 * decide from the pod spec alone.
 */
public record ImageFacts(Map<String, ImageInfo> images) {
    public static final ImageFacts NONE = new ImageFacts(Map.of());

    public ImageFacts {
        images = Map.copyOf(images);
    }

    public Optional<ImageInfo> get(String image) {
        return image == null ? Optional.empty() : Optional.ofNullable(images.get(image));
    }
}
