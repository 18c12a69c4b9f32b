package dev.rootguard.admission;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rootguard.cluster.NamespaceCache;
import dev.rootguard.config.PolicyHolder;
import dev.rootguard.json.Json;
import dev.rootguard.policy.Action;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.ImageFacts;
import dev.rootguard.policy.Violation;
import dev.rootguard.policy.mutate.Patcher;
import dev.rootguard.registry.ImageLookupService;
import dev.rootguard.registry.ImageLookups;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Decides validate and mutate requests: body in, AdmissionReview out. Knows nothing of HTTP;
 * {@link AdmissionRoutes} maps a {@link BadRequestException} to a status code, which the handler only
 * throws for a body without a readable request uid (with one, the answer is a review).
 */
@ApplicationScoped
public class AdmissionHandler {
    private static final Logger LOG = Logger.getLogger(AdmissionHandler.class);
    /** Audit annotation keys; the API server prefixes them with the webhook name. */
    static final String ANNOTATION_VIOLATIONS = "violations";

    static final String ANNOTATION_MODE = "mode";
    static final String ANNOTATION_EXEMPT = "exempt";
    /** Longest name in a message or log line: a namespace (63) and a name (253) fit; a direct caller's 8 MB name does not. */
    private static final int MAX_NAME = 320;

    private final PolicyHolder policy;
    private final NamespaceCache namespaces;
    private final AdmissionMetrics metrics;
    private final ImageLookups images;

    @Inject
    public AdmissionHandler(
            PolicyHolder policy, NamespaceCache namespaces, AdmissionMetrics metrics, ImageLookupService images) {
        this.policy = policy;
        this.namespaces = namespaces;
        this.metrics = metrics;
        this.images = images.lookups();
    }

    /** Answers {@code /validate} on the calling thread, waiting for image lookups (within their budget). */
    public byte[] validate(byte[] body) {
        return join(validate(body, Runnable::run));
    }

    /** Answers {@code /mutate} on the calling thread, waiting for image lookups (within their budget). */
    public byte[] mutate(byte[] body) {
        return join(mutate(body, Runnable::run));
    }

    private static byte[] join(CompletionStage<byte[]> stage) {
        try {
            return stage.toCompletableFuture().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * Answers {@code /validate}. A failure to decide is a denial with code 500, never an allow. When the
     * object's images need registry lookups ({@code rootguard.images.*}), the answer completes once they
     * are known or their budget is spent, and the decision runs on {@code after}; otherwise it is
     * decided on the calling thread and the stage is already complete.
     *
     * @throws BadRequestException for a body without a readable request uid
     */
    public CompletionStage<byte[]> validate(byte[] body, Executor after) {
        long start = System.nanoTime();
        AdmissionCall call;
        try {
            call = AdmissionDecoder.decode(body);
        } catch (BadRequestException e) {
            return CompletableFuture.completedFuture(invalid("validate", e, e.uid(), e.kind(), e.operation(), start));
        }
        Set<String> wanted = imagesToLookUp(call, false);
        if (wanted.isEmpty()) {
            return CompletableFuture.completedFuture(validate(call, start, ImageFacts.NONE));
        }
        return images.resolve(wanted).thenApplyAsync(facts -> validate(call, start, facts), after);
    }

    /**
     * Answers {@code /mutate}. A failure to compute defaults allows the object unchanged with a warning.
     * Waits for image lookups only when a default comes from the image ({@code rootguard.defaults.run-as-user-from-image}).
     *
     * @throws BadRequestException for a body without a readable request uid
     */
    public CompletionStage<byte[]> mutate(byte[] body, Executor after) {
        long start = System.nanoTime();
        AdmissionCall call;
        try {
            call = AdmissionDecoder.decode(body);
        } catch (BadRequestException e) {
            return CompletableFuture.completedFuture(invalid("mutate", e, e.uid(), e.kind(), e.operation(), start));
        }
        Set<String> wanted = imagesToLookUp(call, true);
        if (wanted.isEmpty()) {
            return CompletableFuture.completedFuture(mutate(call, start, ImageFacts.NONE));
        }
        return images.resolve(wanted).thenApplyAsync(facts -> mutate(call, start, facts), after);
    }

    /**
     * The images whose lookups could change this request's answer; none when lookups are off, the
     * request is not checked or exempt, or an update leaves the security fields alone. A request that
     * cannot be read here gets none: deciding it reports the same problem.
     */
    private Set<String> imagesToLookUp(AdmissionCall call, boolean forMutation) {
        if (!images.enabled() || !call.checked()) {
            return Set.of();
        }
        try {
            Engine engine = policy.engine();
            if (forMutation && !engine.mutates(call.operation(), policy.policy())) {
                return Set.of();
            }
            HasMetadata object = call.typedObject();
            if (!forMutation
                    && "UPDATE".equals(call.operation())
                    && call.oldObject() != null
                    && Engine.securityUnchanged(call.typedOldObject(), object)) {
                return Set.of();
            }
            return engine.imagesToLookUp(object, context(call, object), policy.policy(), forMutation);
        } catch (RuntimeException e) {
            return Set.of();
        }
    }

    private byte[] validate(AdmissionCall call, long start, ImageFacts facts) {
        String decision = "error";
        AdmissionResponse response;
        try {
            Decided d = decideValidation(call, true, facts);
            decision = d.decision;
            response = d.response;
        } catch (BadRequestException e) {
            return invalid("validate", e, call.uid(), call.kind(), call.operation(), start);
        } catch (RuntimeException e) {
            LOG.errorf(
                    e,
                    "validation failed uid=%s kind=%s namespace=%s name=%s",
                    call.uid(),
                    call.kind(),
                    call.namespace(),
                    call.displayName());
            response = Responses.denied(
                    500,
                    "InternalError",
                    "rootguard could not evaluate request " + call.uid()
                            + "; the request is refused until it can be evaluated (see the rootguard log)");
        } finally {
            metrics.duration("validate", System.nanoTime() - start);
        }
        metrics.request("validate", call.kind(), call.operation(), decision);
        return Responses.review(call.uid(), response);
    }

    private byte[] mutate(AdmissionCall call, long start, ImageFacts facts) {
        String decision = "error";
        AdmissionResponse response;
        try {
            Decided d = decideMutation(call, facts);
            decision = d.decision;
            response = d.response;
        } catch (BadRequestException e) {
            return invalid("mutate", e, call.uid(), call.kind(), call.operation(), start);
        } catch (RuntimeException e) {
            LOG.errorf(
                    e,
                    "mutation failed uid=%s kind=%s namespace=%s name=%s",
                    call.uid(),
                    call.kind(),
                    call.namespace(),
                    call.displayName());
            response = Responses.withWarnings(
                    Responses.allowed(),
                    List.of("rootguard could not apply defaults to request " + call.uid()
                            + "; the object is unchanged and validation still applies"));
        } finally {
            metrics.duration("mutate", System.nanoTime() - start);
        }
        metrics.request("mutate", call.kind(), call.operation(), decision);
        return Responses.review(call.uid(), response);
    }

    /**
     * Answers a request that cannot be read. Without a uid there is no review to answer: the transport
     * answers 4xx. With one, the answer is a review, so that the API server shows the reason instead of
     * "failed calling webhook" and applying the failurePolicy: {@code /validate} denies with code 400;
     * {@code /mutate} allows the object unchanged with a warning, since it has nothing to add to an
     * object it cannot read and {@code /validate} refuses it (a mutating webhook with failurePolicy
     * Ignore would let it through unmutated either way; this way the user sees why).
     */
    private byte[] invalid(
            String webhook, BadRequestException e, String uid, String kind, String operation, long start) {
        if (uid == null) {
            throw e;
        }
        LOG.debugf("%s: request %s cannot be read: %s", webhook, uid, e.getMessage());
        AdmissionResponse response = "validate".equals(webhook)
                ? Responses.denied(400, "BadRequest", "rootguard cannot read the request: " + e.getMessage())
                : Responses.withWarnings(
                        Responses.allowed(),
                        List.of("rootguard added no defaults, it cannot read the request: " + e.getMessage()));
        metrics.duration(webhook, System.nanoTime() - start);
        metrics.request(webhook, kind, operation, "invalid");
        return Responses.review(uid, response);
    }

    /**
     * Decides a request as {@link #validate} or {@link #mutate} would, but records no metric and logs
     * nothing: for {@link WarmUp} only.
     */
    public byte[] rehearse(byte[] body, boolean mutate) {
        AdmissionCall call = AdmissionDecoder.decode(body);
        Decided d = mutate ? decideMutation(call, ImageFacts.NONE) : decideValidation(call, false, ImageFacts.NONE);
        return Responses.review(call.uid(), d.response);
    }

    private record Decided(String decision, AdmissionResponse response) {}

    private Decided decideValidation(AdmissionCall call, boolean record, ImageFacts facts) {
        if (!call.checked()) {
            return new Decided("skipped", Responses.allowed());
        }
        HasMetadata object = call.typedObject();
        if ("UPDATE".equals(call.operation()) && call.oldObject() != null) {
            HasMetadata old = call.typedOldObject();
            if (Engine.securityUnchanged(old, object)) {
                return new Decided("unchanged", Responses.allowed());
            }
        }
        Engine.Context ctx = context(call, object).withImages(facts);
        Engine.Review review = policy.engine().review(object, ctx, policy.policy());
        Map<String, String> annotations = new LinkedHashMap<>();
        if (review.outcome() == Engine.Outcome.EXEMPT) {
            annotations.put(ANNOTATION_EXEMPT, review.exemptReason().orElse("exempt"));
            return new Decided("exempt", Responses.withAnnotations(Responses.allowed(), annotations));
        }
        List<Violation> violations = review.violations();
        if (violations.isEmpty()) {
            return new Decided("allowed", Responses.allowed());
        }
        if (record) {
            metrics.violations(violations);
        }
        annotations.put(ANNOTATION_MODE, review.mode().id());
        annotations.put(
                ANNOTATION_VIOLATIONS,
                String.join(
                        "; ",
                        Responses.firstItems(
                                violations.stream()
                                        .map(v -> v.rule() + "(" + v.action().id() + ") " + v.path())
                                        .toList(),
                                Responses.MAX_ENTRY_LENGTH,
                                n -> "and " + n + " more")));
        List<String> warnings =
                review.violationsAt(Action.WARN).stream().map(Violation::line).toList();
        if (review.allowed()) {
            AdmissionResponse r =
                    Responses.withAnnotations(Responses.withWarnings(Responses.allowed(), warnings), annotations);
            return new Decided(warnings.isEmpty() ? "audited" : "warned", r);
        }
        List<Violation> enforced = review.violationsAt(Action.ENFORCE);
        String message = "rootguard denied " + call.kind() + " " + qualifiedName(call, object) + ": " + enforced.size()
                + (enforced.size() == 1 ? " violation" : " violations") + "\n"
                + String.join(
                        "\n",
                        Responses.firstItems(
                                enforced.stream().map(v -> "- " + v.line()).toList(),
                                Responses.MAX_LINE_LENGTH,
                                n -> "- and " + n + " more"));
        if (record) {
            LOG.infof(
                    "denied uid=%s kind=%s namespace=%s name=%s operation=%s dryRun=%s rules=%s",
                    call.uid(),
                    call.kind(),
                    call.namespace(),
                    Responses.cut(call.displayName(object), MAX_NAME),
                    call.operation(),
                    call.dryRun(),
                    enforced.stream().map(Violation::rule).distinct().collect(Collectors.joining(",")));
        }
        AdmissionResponse r = Responses.denied(403, "Forbidden", message);
        return new Decided("denied", Responses.withAnnotations(Responses.withWarnings(r, warnings), annotations));
    }

    private Decided decideMutation(AdmissionCall call, ImageFacts facts) {
        // The engine decides what is mutated; asked before the object is read, and again once its namespace is known.
        if (!policy.engine().mutates(call.operation(), policy.policy()) || !call.checked()) {
            return new Decided("skipped", Responses.allowed());
        }
        HasMetadata original = call.typedObject();
        Engine.Context ctx = context(call, original).withImages(facts);
        if (!policy.engine().mutates(call.operation(), ctx, policy.policy())) {
            return new Decided("skipped", Responses.allowed());
        }
        // The bound object is this request's own and is not used after the diff: mutate it in place.
        JsonNode patch =
                Patcher.patchInPlace(Json.MAPPER, original, o -> policy.engine().mutate(o, ctx, policy.policy()));
        if (patch.isEmpty()) {
            return new Decided("unchanged", Responses.allowed());
        }
        try {
            return new Decided("patched", Responses.patched(Json.MAPPER.writeValueAsBytes(patch)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Engine.Context context(AdmissionCall call, HasMetadata object) {
        String ns = call.namespace();
        if (ns.isEmpty() && object.getMetadata() != null && object.getMetadata().getNamespace() != null) {
            ns = object.getMetadata().getNamespace();
        }
        return new Engine.Context(ns, call.user(), namespaces.policyFor(ns));
    }

    private static String qualifiedName(AdmissionCall call, HasMetadata object) {
        String name = call.displayName(object);
        return Responses.cut(call.namespace().isEmpty() ? name : call.namespace() + "/" + name, MAX_NAME);
    }
}
