package dev.rootguard.registry;

import dev.rootguard.config.RootguardConfig;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

/** The webhook's one {@link ImageLookups}, from {@code rootguard.images.*}. */
@Singleton
public class ImageLookupService {
    private final ImageLookups lookups;

    @Inject
    public ImageLookupService(RootguardConfig config, MeterRegistry meters) {
        this(new ImageLookups(LookupSettings.from(config.images()), new LookupMetrics(meters)));
    }

    /** Around given lookups (tests). */
    public ImageLookupService(ImageLookups lookups) {
        this.lookups = lookups;
    }

    public ImageLookups lookups() {
        return lookups;
    }

    @PreDestroy
    void close() {
        lookups.close();
    }
}
