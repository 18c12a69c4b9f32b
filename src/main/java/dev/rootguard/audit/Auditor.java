package dev.rootguard.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import dev.rootguard.json.Json;
import dev.rootguard.json.JsonErrors;
import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.ImageFacts;
import dev.rootguard.policy.ImageInfo;
import dev.rootguard.policy.ImageUser;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.PodSpecs;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.Violation;
import dev.rootguard.policy.WorkloadKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/** Audits documents with the webhook's engine and policy, so the audit and the webhook never disagree. */
public final class Auditor {
    private final Engine engine;
    private final PolicyConfig policy;
    private final Function<String, NamespacePolicy> namespaces;
    private final String defaultNamespace;
    private final Optional<ImageResolver> images;

    /** Looks up images for {@code --resolve-images}: the users of these images, or why not. */
    @FunctionalInterface
    public interface ImageResolver {
        ImageFacts resolve(Set<String> images);
    }

    /**
     * @param namespaces       what each namespace's labels say (cluster) or {@code --namespace-mode} (offline)
     * @param defaultNamespace namespace for objects that name none, as kubectl would use
     */
    public Auditor(
            Engine engine, PolicyConfig policy, Function<String, NamespacePolicy> namespaces, String defaultNamespace) {
        this.engine = engine;
        this.policy = policy;
        this.namespaces = namespaces;
        this.defaultNamespace = defaultNamespace;
        this.images = Optional.empty();
    }

    private Auditor(Auditor a, ImageResolver resolver) {
        this.engine = a.engine;
        this.policy = a.policy;
        this.namespaces = a.namespaces;
        this.defaultNamespace = a.defaultNamespace;
        this.images = Optional.of(resolver);
    }

    /**
     * The same audit, with every container's image looked up: rules that read image users use them,
     * and each result lists what each image runs as.
     */
    public Auditor resolvingImages(ImageResolver resolver) {
        return new Auditor(this, resolver);
    }

    public AuditReport audit(List<Document> documents) {
        List<AuditReport.Result> results = new ArrayList<>(documents.size());
        for (Document d : documents) {
            results.add(audit(d));
        }
        return new AuditReport(summarize(results), results);
    }

    /** Audits one document; an unexpected failure becomes an error result for that document only. */
    public AuditReport.Result audit(Document d) {
        try {
            return auditDocument(d);
        } catch (RuntimeException e) {
            return new AuditReport.Result(
                    AuditReport.Source.of(d.source()),
                    d.raw() == null ? null : d.raw().path("kind").asText(null),
                    null,
                    null,
                    AuditReport.Status.ERROR,
                    List.of(),
                    "cannot evaluate: " + e);
        }
    }

    /**
     * Audits one object read from a cluster, as the typed object the client read: no trip through JSON.
     * An unexpected failure becomes an error result for that object only.
     */
    public AuditReport.Result audit(Document.Source source, HasMetadata object) {
        AuditReport.Source at = AuditReport.Source.of(source);
        try {
            ObjectMeta metadata = object.getMetadata();
            String name = metadata == null
                    ? ""
                    : metadata.getName() != null
                            ? metadata.getName()
                            : Objects.requireNonNullElse(metadata.getGenerateName(), "");
            String namespace = metadata == null
                            || metadata.getNamespace() == null
                            || metadata.getNamespace().isEmpty()
                    ? defaultNamespace
                    : metadata.getNamespace();
            if (WorkloadKind.of(object).isEmpty()) {
                return new AuditReport.Result(
                        at,
                        object.getKind(),
                        namespace,
                        name,
                        AuditReport.Status.SKIPPED,
                        List.of(),
                        "no pod spec in " + object.getApiVersion() + " " + object.getKind());
            }
            return evaluate(at, object.getKind(), namespace, name, object, path -> null);
        } catch (RuntimeException e) {
            return new AuditReport.Result(
                    at, object.getKind(), null, null, AuditReport.Status.ERROR, List.of(), "cannot evaluate: " + e);
        }
    }

    private AuditReport.Result auditDocument(Document d) {
        AuditReport.Source source = AuditReport.Source.of(d.source());
        if (d.error() != null) {
            return new AuditReport.Result(source, null, null, null, AuditReport.Status.ERROR, List.of(), d.error());
        }
        String apiVersion = d.raw().path("apiVersion").asText("");
        String kind = d.raw().path("kind").asText("");
        String name = d.raw()
                .path("metadata")
                .path("name")
                .asText(d.raw().path("metadata").path("generateName").asText(""));
        String namespace = d.raw().path("metadata").path("namespace").asText("");
        if (namespace.isEmpty()) {
            namespace = defaultNamespace;
        }
        if (apiVersion.isEmpty() || kind.isEmpty()) {
            return new AuditReport.Result(
                    source,
                    kind,
                    namespace,
                    name,
                    AuditReport.Status.ERROR,
                    List.of(),
                    "not a Kubernetes object: apiVersion and kind are required");
        }
        Optional<Class<? extends HasMetadata>> type =
                WorkloadKind.forApiVersion(apiVersion, kind).map(WorkloadKind::modelClass);
        if (type.isEmpty()) {
            return new AuditReport.Result(
                    source,
                    kind,
                    namespace,
                    name,
                    AuditReport.Status.SKIPPED,
                    List.of(),
                    "no pod spec in " + apiVersion + " " + kind);
        }
        HasMetadata object;
        try {
            object = Json.MAPPER.treeToValue(d.raw(), type.get());
        } catch (JsonProcessingException | IllegalArgumentException e) {
            String msg = JsonErrors.describe(e, false);
            String field = e instanceof JsonMappingException jm ? Json.fieldPath(jm) : "";
            AuditReport.Source at = field.isEmpty()
                    ? source
                    : new AuditReport.Source(
                            source.file(), source.document(), source.item(), d.lineOf(field), source.cluster());
            return new AuditReport.Result(
                    at,
                    kind,
                    namespace,
                    name,
                    AuditReport.Status.ERROR,
                    List.of(),
                    "not a valid " + kind + (field.isEmpty() ? "" : " at " + field) + ": " + msg);
        }
        return evaluate(
                source, kind, namespace, name, object, path -> d.source().file() == null ? null : d.lineOf(path));
    }

    /** Reviews a typed object; {@code line} gives the input line of a violation path, or null when there is none. */
    private AuditReport.Result evaluate(
            AuditReport.Source source,
            String kind,
            String namespace,
            String name,
            HasMetadata object,
            Function<String, Integer> line) {
        Engine.Context ctx = new Engine.Context(namespace, null, namespaces.apply(namespace));
        List<AuditReport.ImageUse> uses = null;
        Optional<PodSpecView> pod = PodSpecs.extract(object);
        if (images.isPresent()
                && pod.isPresent()
                && policy.exemptions().reason(namespace, null).isEmpty()) {
            Set<String> refs = new LinkedHashSet<>();
            for (ContainerView c : pod.get().containers()) {
                if (c.image() != null && !c.image().isBlank()) {
                    refs.add(c.image());
                }
            }
            ImageFacts facts = refs.isEmpty() ? ImageFacts.NONE : images.get().resolve(refs);
            ctx = ctx.withImages(facts);
            uses = uses(pod.get(), facts);
        }
        Engine.Review review = engine.review(object, ctx, policy);
        return switch (review.outcome()) {
            case EXEMPT ->
                new AuditReport.Result(
                        source,
                        kind,
                        namespace,
                        name,
                        AuditReport.Status.EXEMPT,
                        List.of(),
                        review.exemptReason().orElse(""));
            case NOT_APPLICABLE ->
                new AuditReport.Result(
                        source, kind, namespace, name, AuditReport.Status.SKIPPED, List.of(), "no pod template");
            case EVALUATED -> {
                List<AuditReport.Finding> findings = new ArrayList<>();
                for (Violation v : review.violations()) {
                    findings.add(
                            new AuditReport.Finding(v.rule(), v.path(), v.message(), v.action(), line.apply(v.path())));
                }
                yield new AuditReport.Result(
                        source,
                        kind,
                        namespace,
                        name,
                        findings.isEmpty() ? AuditReport.Status.OK : AuditReport.Status.VIOLATIONS,
                        findings,
                        null,
                        uses);
            }
        };
    }

    private static List<AuditReport.ImageUse> uses(PodSpecView pod, ImageFacts facts) {
        List<AuditReport.ImageUse> out = new ArrayList<>();
        for (ContainerView c : pod.containers()) {
            Optional<ImageInfo> info = facts.get(c.image());
            if (info.isEmpty()) {
                continue;
            }
            if (info.get().isFailed()) {
                out.add(new AuditReport.ImageUse(
                        c.path(),
                        c.image(),
                        null,
                        null,
                        null,
                        info.get().failure().get()));
                continue;
            }
            for (ImageUser u : info.get().on(pod.nodeArch())) {
                out.add(new AuditReport.ImageUse(c.path(), c.image(), u.platform(), u.digest(), u.user(), null));
            }
        }
        return out;
    }

    public static AuditReport.Summary summarize(List<AuditReport.Result> results) {
        int objects = 0;
        int with = 0;
        int exempt = 0;
        int skipped = 0;
        int errors = 0;
        Map<String, Map<String, Integer>> counts = new TreeMap<>();
        for (AuditReport.Result r : results) {
            switch (r.status()) {
                case ERROR -> errors++;
                case EXEMPT -> exempt++;
                case SKIPPED -> skipped++;
                case VIOLATIONS -> with++;
                case OK -> {}
            }
            if (r.status() != AuditReport.Status.ERROR) {
                objects++;
            }
            for (AuditReport.Finding f : r.violations()) {
                counts.computeIfAbsent(f.rule(), k -> new TreeMap<>())
                        .merge(f.action().id(), 1, Integer::sum);
            }
        }
        return new AuditReport.Summary(objects, with, exempt, skipped, errors, counts);
    }
}
