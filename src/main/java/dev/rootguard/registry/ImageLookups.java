package dev.rootguard.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.api.client.http.HttpTransport;
import com.google.cloud.tools.jib.api.Credential;
import com.google.cloud.tools.jib.api.CredentialRetriever;
import com.google.cloud.tools.jib.api.DescriptorDigest;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.InvalidImageReferenceException;
import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.api.RegistryAuthenticationFailedException;
import com.google.cloud.tools.jib.api.RegistryException;
import com.google.cloud.tools.jib.api.RegistryUnauthorizedException;
import com.google.cloud.tools.jib.event.EventHandlers;
import com.google.cloud.tools.jib.frontend.CredentialRetrieverFactory;
import com.google.cloud.tools.jib.http.FailoverHttpClient;
import com.google.cloud.tools.jib.image.json.BuildableManifestTemplate;
import com.google.cloud.tools.jib.image.json.ManifestListTemplate;
import com.google.cloud.tools.jib.image.json.ManifestTemplate;
import com.google.cloud.tools.jib.registry.ManifestAndDigest;
import com.google.cloud.tools.jib.registry.RegistryClient;
import dev.rootguard.json.Json;
import dev.rootguard.policy.Glob;
import dev.rootguard.policy.ImageFacts;
import dev.rootguard.policy.ImageInfo;
import dev.rootguard.policy.ImageUser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import org.jboss.logging.Logger;

/**
 * Looks up the user of images in their registries, with jib-core's registry client: manifests (Docker
 * v2 schema 2 and OCI, single images, manifest lists and indexes) and config blobs, anonymous or with
 * the credentials of a Docker config file, basic or bearer-token auth as the registry asks.
 *
 * <p>What was found is cached by digest (immutable, at most {@code cache-size} entries); a tag's digest
 * for {@code tag-ttl}; a failure for {@code failure-ttl}. The same image asked for by concurrent requests
 * is looked up once. Lookups run on a bounded pool; {@link #resolve} answers within the budget whatever
 * the registries do, and a lookup that is still running then goes on to fill the cache.
 */
public final class ImageLookups implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ImageLookups.class);
    /** How jib names Docker Hub; configuration and messages call it {@code docker.io}. */
    private static final Set<String> DOCKER_HUB = Set.of("registry-1.docker.io", "docker.io", "index.docker.io");

    private final LookupSettings settings;
    private final LookupMetrics metrics;
    private final ThreadPoolExecutor pool;
    private final FailoverHttpClient http;
    private final Cache<String, List<ImageUser>> byDigest;
    private final Cache<String, String> tags;
    private final Cache<String, String> failures;
    /** Per repository, bounded: a pod may name any repository of an allowed registry. */
    private final Cache<String, RegistryClient> clients;

    private final Map<String, CompletableFuture<ImageInfo>> inFlight = new ConcurrentHashMap<>();
    /** Lookups running or waiting per registry host; an entry goes when its count is back to 0. */
    private final Map<String, Integer> perRegistry = new ConcurrentHashMap<>();
    /** Lookups one registry may have running or waiting at once: half the threads, so a hanging one cannot starve the rest. */
    private final int perRegistryLimit;

    public ImageLookups(LookupSettings settings, LookupMetrics metrics) {
        this.settings = settings;
        this.metrics = metrics;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(
                settings.threads(),
                settings.threads(),
                30,
                TimeUnit.SECONDS,
                settings.queue() == 0
                        ? new java.util.concurrent.SynchronousQueue<>()
                        : new ArrayBlockingQueue<>(settings.queue()),
                r -> {
                    Thread t = new Thread(r, "rootguard-image-lookup-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        this.byDigest = Caffeine.newBuilder().maximumSize(settings.cacheSize()).build();
        this.tags = Caffeine.newBuilder()
                .maximumSize(settings.cacheSize())
                .expireAfterWrite(settings.tagTtl())
                .build();
        this.failures = Caffeine.newBuilder()
                .maximumSize(settings.cacheSize())
                .expireAfterWrite(settings.failureTtl())
                .build();
        // A client keeps its token; re-created after a while, it also reads rotated credentials.
        this.clients = Caffeine.newBuilder()
                .maximumSize(Math.min(settings.cacheSize(), 1000))
                .expireAfterWrite(java.time.Duration.ofMinutes(10))
                .build();
        this.http = httpClient(settings);
        this.perRegistryLimit = Math.max(1, (settings.threads() + 1) / 2);
        metrics.cacheSize(byDigest::estimatedSize);
    }

    public LookupSettings settings() {
        return settings;
    }

    /** Whether any registry is looked up at all. */
    public boolean enabled() {
        return settings.enabled();
    }

    /**
     * Whether an image's registry may be looked up: it matches {@code registries} and not
     * {@code denied-registries}. An unparsable reference is never looked up.
     */
    public boolean allowed(String image) {
        return host(image).map(this::allowedHost).orElse(false);
    }

    private boolean allowedHost(String host) {
        return settings.registries().stream().anyMatch(g -> g.matches(host))
                && settings.denied().stream().noneMatch(g -> g.matches(host));
    }

    /** The registry host of an image as configuration names it ({@code docker.io} for Docker Hub). */
    static Optional<String> host(String image) {
        try {
            String registry = ImageReference.parse(image).getRegistry();
            return Optional.of(DOCKER_HUB.contains(registry) ? "docker.io" : registry);
        } catch (InvalidImageReferenceException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * What is known of these images within the budget: each allowed image's users, or why not. Images
     * whose registry is not allowed are left out. Never fails, and completes within the budget.
     */
    public CompletableFuture<ImageFacts> resolve(Set<String> images) {
        Map<String, CompletableFuture<ImageInfo>> pending = new LinkedHashMap<>();
        for (String image : images) {
            if (allowed(image)) {
                pending.put(image, lookUp(image));
            }
        }
        if (pending.isEmpty()) {
            return CompletableFuture.completedFuture(ImageFacts.NONE);
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(pending.values().toArray(CompletableFuture[]::new));
        if (!all.isDone()) {
            all = all.completeOnTimeout(null, settings.budget().toMillis(), TimeUnit.MILLISECONDS);
        }
        return all.handle((v, e) -> {
            Map<String, ImageInfo> out = new LinkedHashMap<>();
            pending.forEach((image, f) -> {
                if (f.isDone()) {
                    out.put(image, f.join());
                } else {
                    metrics.result("timeout");
                    out.put(
                            image,
                            ImageInfo.failed(
                                    image,
                                    "registry " + host(image).orElse("?") + " gave no answer within the "
                                            + settings.budget().toMillis()
                                            + " ms budget (rootguard.images.budget); decided without it"));
                }
            });
            return new ImageFacts(out);
        });
    }

    /** One image, cached, deduplicated. The future never fails. */
    CompletableFuture<ImageInfo> lookUp(String image) {
        Optional<ImageInfo> cached = cached(image);
        if (cached.isPresent()) {
            return CompletableFuture.completedFuture(cached.get());
        }
        String failure = failures.getIfPresent(image);
        if (failure != null) {
            metrics.result("cached-failure");
            return CompletableFuture.completedFuture(ImageInfo.failed(image, failure));
        }
        CompletableFuture<ImageInfo> mine = new CompletableFuture<>();
        CompletableFuture<ImageInfo> running = inFlight.putIfAbsent(image, mine);
        if (running != null) {
            metrics.result("miss");
            return running;
        }
        String host = host(image).orElse("?");
        boolean[] admitted = {false};
        perRegistry.compute(host, (h, n) -> {
            int now = n == null ? 0 : n;
            admitted[0] = now < perRegistryLimit;
            return admitted[0] ? now + 1 : n;
        });
        if (!admitted[0]) {
            inFlight.remove(image, mine);
            metrics.result("rejected");
            mine.complete(ImageInfo.failed(
                    image,
                    "registry " + host + " already has " + perRegistryLimit
                            + " lookups running (it is slow or not answering); tried again on a later request"));
            return mine;
        }
        try {
            pool.execute(() -> {
                ImageInfo info;
                try {
                    info = lookUpNow(image);
                } catch (RuntimeException | Error e) {
                    LOG.warnf(e, "image lookup of %s failed unexpectedly", image);
                    info = fail(image, "the lookup failed unexpectedly: " + e);
                } finally {
                    release(host);
                    inFlight.remove(image, mine);
                }
                mine.complete(info);
            });
            metrics.result("miss");
        } catch (RejectedExecutionException e) {
            release(host);
            inFlight.remove(image, mine);
            metrics.result("rejected");
            mine.complete(ImageInfo.failed(
                    image,
                    "rootguard's image lookup queue is full (" + settings.threads() + " running, " + settings.queue()
                            + " waiting); tried again on a later request"));
        }
        return mine;
    }

    private void release(String host) {
        perRegistry.computeIfPresent(host, (h, n) -> n <= 1 ? null : n - 1);
    }

    private Optional<ImageInfo> cached(String image) {
        try {
            ImageReference ref = ImageReference.parse(image);
            String repo = ref.getRegistry() + "/" + ref.getRepository();
            String digest = ref.getDigest().orElseGet(() -> tags.getIfPresent(repo + ":" + ref.getQualifier()));
            if (digest == null) {
                return Optional.empty();
            }
            List<ImageUser> users = byDigest.getIfPresent(repo + "@" + digest);
            if (users == null) {
                return Optional.empty();
            }
            metrics.result("hit");
            return Optional.of(ImageInfo.found(image, users));
        } catch (InvalidImageReferenceException e) {
            return Optional.empty();
        }
    }

    /** Looks an image up now, on the calling thread, bypassing the caches it fills. Never throws. */
    public ImageInfo lookUpNow(String image) {
        long start = System.nanoTime();
        ImageReference ref;
        try {
            ref = ImageReference.parse(image);
        } catch (InvalidImageReferenceException e) {
            return fail(image, "\"" + image + "\" is not an image reference");
        }
        String host = DOCKER_HUB.contains(ref.getRegistry()) ? "docker.io" : ref.getRegistry();
        String repo = ref.getRegistry() + "/" + ref.getRepository();
        try {
            RegistryClient client = client(ref);
            ManifestAndDigest<ManifestTemplate> top = pull(client, ref, ref.getQualifier(), ManifestTemplate.class);
            String digest = top.getDigest().toString();
            List<ImageUser> users = byDigest.getIfPresent(repo + "@" + digest);
            if (users == null) {
                users = users(client, ref, top);
                byDigest.put(repo + "@" + digest, users);
            }
            if (ref.getDigest().isEmpty()) {
                tags.put(repo + ":" + ref.getQualifier(), digest);
            }
            metrics.lookup(true, System.nanoTime() - start);
            return ImageInfo.found(image, users);
        } catch (RegistryUnauthorizedException e) {
            metrics.lookup(false, System.nanoTime() - start);
            return fail(
                    image,
                    "registry " + host + " refused access (" + status(e) + "); give rootguard pull credentials for "
                            + host + " in the Docker config file of rootguard.images.docker-config");
        } catch (RegistryAuthenticationFailedException e) {
            metrics.lookup(false, System.nanoTime() - start);
            return fail(
                    image,
                    "registry " + host + " refused access (its token server refused "
                            + (settings.dockerConfig().isPresent() ? "the credentials" : "anonymous access") + ": "
                            + oneLine(e.getMessage()) + "); give rootguard pull credentials for " + host
                            + " in the Docker config file of rootguard.images.docker-config");
        } catch (RegistryException e) {
            metrics.lookup(false, System.nanoTime() - start);
            return fail(image, "registry " + host + " answered: " + oneLine(e.getMessage()));
        } catch (IOException e) {
            metrics.lookup(false, System.nanoTime() - start);
            return fail(image, describe(host, e));
        } catch (NotUsable e) {
            metrics.lookup(false, System.nanoTime() - start);
            return fail(image, e.getMessage());
        }
    }

    private ImageInfo fail(String image, String reason) {
        metrics.result("error");
        failures.put(image, reason);
        LOG.debugf("image lookup of %s failed: %s", image, reason);
        return ImageInfo.failed(image, reason);
    }

    /** A manifest or config that cannot be used: the message says why. */
    private static final class NotUsable extends Exception {
        NotUsable(String message) {
            super(message);
        }
    }

    private List<ImageUser> users(RegistryClient client, ImageReference ref, ManifestAndDigest<ManifestTemplate> top)
            throws IOException, RegistryException, NotUsable {
        ManifestTemplate m = top.getManifest();
        if (m instanceof BuildableManifestTemplate single) {
            return List.of(user(client, ref, single, top.getDigest().toString(), Optional.empty()));
        }
        if (m instanceof ManifestListTemplate list) {
            List<ImageUser> out = new ArrayList<>();
            Set<String> seen = new LinkedHashSet<>();
            for (String platform : settings.platforms()) {
                String[] parts = platform.split("/");
                List<String> digests = list.getDigestsForPlatform(parts[1], parts[0]);
                if (digests.isEmpty() || !seen.add(digests.get(0))) {
                    continue;
                }
                ManifestAndDigest<BuildableManifestTemplate> one =
                        pull(client, ref, digests.get(0), BuildableManifestTemplate.class);
                out.add(user(client, ref, one.getManifest(), one.getDigest().toString(), Optional.of(platform)));
            }
            if (out.isEmpty()) {
                throw new NotUsable("image " + ref + " has no manifest for " + String.join(" or ", settings.platforms())
                        + " (rootguard.images.platforms)");
            }
            return out;
        }
        throw new NotUsable("image " + ref + " has a manifest of an unsupported kind ("
                + m.getClass().getSimpleName() + "); only Docker v2 schema 2 and OCI manifests are read");
    }

    private ImageUser user(
            RegistryClient client,
            ImageReference ref,
            BuildableManifestTemplate manifest,
            String digest,
            Optional<String> platform)
            throws NotUsable {
        if (manifest.getContainerConfiguration() == null
                || manifest.getContainerConfiguration().getDigest() == null) {
            throw new NotUsable("the manifest of image " + ref + " names no config");
        }
        DescriptorDigest config = manifest.getContainerConfiguration().getDigest();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream capped = new CappedOutputStream(bytes, settings.maxResponseSize())) {
            client.pullBlob(config, size -> {}, written -> {}).writeTo(capped);
        } catch (CappedOutputStream.Full e) {
            throw new NotUsable("the config of image " + ref + " is larger than the " + settings.maxResponseSize()
                    + " bytes rootguard.images.max-response-size allows");
        } catch (IOException e) {
            Throwable cause = e.getCause() instanceof RegistryException r ? r : e;
            throw new NotUsable(
                    "could not read the config of image " + ref + ": " + oneLine(String.valueOf(cause.getMessage())));
        }
        JsonNode json;
        try {
            json = Json.MAPPER.readTree(bytes.toByteArray());
        } catch (IOException e) {
            throw new NotUsable("registry sent a config for image " + ref + " that is not JSON");
        }
        if (json == null || !json.isObject()) {
            throw new NotUsable("registry sent a config for image " + ref + " that is not a JSON object");
        }
        String os = json.path("os").asText("");
        String arch = json.path("architecture").asText("");
        String variant = json.path("variant").asText("");
        String p = platform.orElse(os + "/" + arch + (variant.isEmpty() ? "" : "/" + variant));
        JsonNode user = json.path("config").path("User");
        return new ImageUser(p, digest, user.isTextual() ? user.asText() : "");
    }

    /** Pulls a manifest: anonymously first, then with the auth the registry asks for in its 401. */
    private <T extends ManifestTemplate> ManifestAndDigest<T> pull(
            RegistryClient client, ImageReference ref, String qualifier, Class<T> type)
            throws IOException, RegistryException {
        try {
            return client.pullManifest(qualifier, type);
        } catch (RegistryUnauthorizedException e) {
            String challenge = e.getHttpResponseException() == null
                    ? null
                    : e.getHttpResponseException().getHeaders().getAuthenticate();
            if (challenge == null) {
                throw e;
            }
            client.authPullByWwwAuthenticate(challenge);
            return client.pullManifest(qualifier, type);
        }
    }

    private RegistryClient client(ImageReference ref) {
        return clients.get(ref.getRegistry() + "/" + ref.getRepository(), k -> {
            RegistryClient.Factory f =
                    RegistryClient.factory(EventHandlers.NONE, ref.getRegistry(), ref.getRepository(), http);
            credential(ref).ifPresent(f::setCredential);
            return f.setUserAgent("rootguard").newRegistryClient();
        });
    }

    private Optional<Credential> credential(ImageReference ref) {
        if (settings.dockerConfig().isEmpty()) {
            return Optional.empty();
        }
        Consumer<LogEvent> log = e -> LOG.debugf("credentials for %s: %s", ref.getRegistry(), e.getMessage());
        CredentialRetriever r = CredentialRetrieverFactory.forImage(ref, log)
                .dockerConfig(settings.dockerConfig().get());
        try {
            return r.retrieve();
        } catch (Exception e) {
            LOG.warnf(
                    "cannot read credentials for %s from %s: %s",
                    ref.getRegistry(), settings.dockerConfig().get(), e.getMessage());
            return Optional.empty();
        }
    }

    private static String status(RegistryUnauthorizedException e) {
        return e.getHttpResponseException() == null
                ? "unauthorized"
                : "HTTP " + e.getHttpResponseException().getStatusCode();
    }

    private static String describe(String host, IOException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            if (root instanceof BoundedTransport.TooLargeException
                    || root instanceof BoundedTransport.TooSlowException) {
                break;
            }
            root = root.getCause();
        }
        if (root instanceof BoundedTransport.TooLargeException || root instanceof BoundedTransport.TooSlowException) {
            return "registry " + host + ": " + root.getMessage();
        }
        if (root instanceof SocketTimeoutException) {
            return "registry " + host + " did not answer within rootguard.images.timeout";
        }
        if (root instanceof ConnectException || root instanceof UnknownHostException) {
            return "registry " + host + " is unreachable: " + oneLine(root.getMessage());
        }
        if (root instanceof SSLException) {
            return "registry " + host + " failed the TLS handshake (" + oneLine(root.getMessage())
                    + "); trust its certificate authority with rootguard.images.ca-file";
        }
        if (root instanceof com.fasterxml.jackson.core.JsonProcessingException) {
            return "registry " + host + " sent a manifest that is not valid JSON";
        }
        return "registry " + host + ": " + oneLine(String.valueOf(root.getMessage()));
    }

    private static String oneLine(String s) {
        String t = s == null ? "" : s.replaceAll("\\s+", " ").strip();
        return t.length() > 300 ? t.substring(0, 300) + "..." : t;
    }

    /**
     * jib's HTTP client over {@link BoundedTransport}. Its constructor that takes the transport is
     * package-private, so it is called reflectively; the public one would use an unbounded transport
     * and the JVM's trust store only. HTTP is never tried: registries are reached over HTTPS.
     */
    private static FailoverHttpClient httpClient(LookupSettings settings) {
        HttpTransport transport = new BoundedTransport(
                Trust.socketFactory(settings.caFile()), settings.timeout(), settings.maxResponseSize());
        Supplier<HttpTransport> secure = () -> transport;
        try {
            Constructor<FailoverHttpClient> c = FailoverHttpClient.class.getDeclaredConstructor(
                    boolean.class, boolean.class, Consumer.class, Supplier.class, Supplier.class, boolean.class);
            c.setAccessible(true);
            Consumer<LogEvent> log = e -> LOG.debugf("registry client: %s", e.getMessage());
            return c.newInstance(false, false, log, secure, secure, false);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "this jib-core has no FailoverHttpClient(…, Supplier, Supplier, boolean)", e);
        }
    }

    /** Images cached by digest (tests, metrics). */
    public long cachedDigests() {
        byDigest.cleanUp();
        return byDigest.estimatedSize();
    }

    @Override
    public void close() {
        pool.shutdownNow();
        try {
            http.shutDown();
        } catch (IOException e) {
            LOG.debugf("closing the registry client: %s", e.getMessage());
        }
    }

    /** Shared by tests: how a glob list matches a host. */
    static boolean matchesAny(List<Glob> globs, String host) {
        return globs.stream().anyMatch(g -> g.matches(host));
    }
}
