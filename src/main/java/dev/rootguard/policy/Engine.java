package dev.rootguard.policy;

import dev.rootguard.policy.mutate.Defaulter;
import dev.rootguard.policy.rule.ImageUserRule;
import dev.rootguard.policy.rule.Rule;
import dev.rootguard.policy.rule.RuleRegistry;
import dev.rootguard.policy.rule.RunAsRootRule;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The one decision path shared by the webhook, the audit CLI and the fix CLI:
 * exemptions, then pod spec extraction, then rule evaluation or defaulting.
 */
public final class Engine {
    private final RuleRegistry registry;
    private final Evaluator evaluator;

    public Engine(RuleRegistry registry) {
        this.registry = registry;
        this.evaluator = new Evaluator(registry);
    }

    /**
     * Who asks, where.
     *
     * @param namespace       the object's namespace
     * @param user            the requesting user, or null when unknown (audit)
     * @param namespacePolicy what the namespace's labels and annotations say
     * @param images          what registries said of the object's images ({@link ImageFacts#NONE}: nothing)
     */
    public record Context(String namespace, String user, NamespacePolicy namespacePolicy, ImageFacts images) {
        public Context {
            namespacePolicy = Objects.requireNonNullElse(namespacePolicy, NamespacePolicy.UNKNOWN);
            images = Objects.requireNonNullElse(images, ImageFacts.NONE);
        }

        /** A context with no image facts. */
        public Context(String namespace, String user, NamespacePolicy namespacePolicy) {
            this(namespace, user, namespacePolicy, ImageFacts.NONE);
        }

        public Context withImages(ImageFacts facts) {
            return new Context(namespace, user, namespacePolicy, facts);
        }
    }

    /** How an object was handled. */
    public enum Outcome {
        /** The object carries no pod spec we check. */
        NOT_APPLICABLE,
        /** A namespace or user exemption applied. */
        EXEMPT,
        /** The rules ran. */
        EVALUATED
    }

    /**
     * The result of a review.
     *
     * @param outcome      how the object was handled
     * @param mode         the mode in force
     * @param exemptReason why it was exempt, when it was
     * @param violations   all violations with effective actions
     */
    public record Review(Outcome outcome, Action mode, Optional<String> exemptReason, List<Violation> violations) {
        public Review {
            violations = List.copyOf(violations);
        }

        /** False when at least one violation is enforced. */
        public boolean allowed() {
            return violations.stream().noneMatch(v -> v.action() == Action.ENFORCE);
        }

        public List<Violation> violationsAt(Action action) {
            return violations.stream().filter(v -> v.action() == action).toList();
        }
    }

    /** Reviews an object: exempt, not applicable, or every violation with its action. */
    public Review review(HasMetadata object, Context ctx, PolicyConfig config) {
        Action mode = ctx.namespacePolicy().modeOr(config.mode());
        Optional<String> exempt = config.exemptions().reason(ctx.namespace(), ctx.user());
        if (exempt.isPresent()) {
            return new Review(Outcome.EXEMPT, mode, exempt, List.of());
        }
        Optional<PodSpecView> pod = PodSpecs.extract(object);
        if (pod.isEmpty()) {
            return new Review(Outcome.NOT_APPLICABLE, mode, Optional.empty(), List.of());
        }
        return new Review(Outcome.EVALUATED, mode, Optional.empty(), evaluator.evaluate(pod.get(), config, mode, ctx));
    }

    /**
     * Whether a request with this operation is mutated at all: mutation is on
     * ({@code rootguard.mutation.enabled}) and the operation is {@code CREATE}. Defaults added on
     * {@code UPDATE} would change the pod templates of running workloads behind their owners' backs.
     * The webhook asks this before reading the object; {@link #mutate} applies the same switch, so
     * {@code rootguard fix} (whose manifests are objects to be created) follows it too.
     */
    public boolean mutates(String operation, PolicyConfig config) {
        return config.mutation().enabled() && "CREATE".equals(operation);
    }

    /**
     * Whether a request with this operation is mutated in this context: {@link #mutates(String, PolicyConfig)}
     * and the namespace has not turned mutation off. The webhook asks this once it knows the namespace.
     */
    public boolean mutates(String operation, Context ctx, PolicyConfig config) {
        return mutates(operation, config) && ctx.namespacePolicy().mutate();
    }

    /**
     * Fills defaults into the object in place, unless mutation is off, the request is exempt, the
     * namespace turned mutation off, or a controller owns the object. Returns true if anything changed.
     *
     * <p>Workloads created by a controller (a Deployment's ReplicaSets, a CronJob's Jobs) are never
     * mutated: the controller finds its objects by comparing pod templates, and a template that
     * differs from its own makes it create new ones without end. Their owner was mutated when it was
     * created, and validation still checks them. Pods are mutated whoever creates them.
     *
     * <p>In a namespace with a uid range, the IDs default to the range's start.
     */
    public boolean mutate(HasMetadata object, Context ctx, PolicyConfig config) {
        if (!config.mutation().enabled()
                || !ctx.namespacePolicy().mutate()
                || config.exemptions().reason(ctx.namespace(), ctx.user()).isPresent()
                || (!(object instanceof Pod)
                        && WorkloadKind.controllerOf(object).isPresent())) {
            return false;
        }
        Action mode = ctx.namespacePolicy().modeOr(config.mode());
        return PodSpecs.extract(object)
                .map(pod -> Defaulter.apply(pod, config, registry, Evaluator.scope(config, mode, ctx)))
                .orElse(false);
    }

    /**
     * The images whose registry lookups could change this review ({@code forMutation} false) or these
     * defaults ({@code forMutation} true); empty for exempt requests, objects without a pod spec, and
     * when no rule would use what a lookup says. See {@link ImageUserRule#imagesToLookUp}.
     */
    public Set<String> imagesToLookUp(HasMetadata object, Context ctx, PolicyConfig config, boolean forMutation) {
        if (config.exemptions().reason(ctx.namespace(), ctx.user()).isPresent()) {
            return Set.of();
        }
        if (forMutation
                && (!config.mutation().enabled()
                        || !ctx.namespacePolicy().mutate()
                        || (!(object instanceof Pod)
                                && WorkloadKind.controllerOf(object).isPresent()))) {
            return Set.of();
        }
        Optional<Rule<?>> rule = registry.get(ImageUserRule.ID);
        if (rule.isEmpty()) {
            return Set.of();
        }
        PolicyConfig.RuleSettings settings = config.rule(rule.get());
        return PodSpecs.extract(object)
                .map(pod -> ImageUserRule.imagesToLookUp(
                        pod,
                        settings,
                        config.rule(registry.get(RunAsRootRule.ID).orElseThrow()),
                        ctx.namespacePolicy().ranges(),
                        forMutation))
                .orElse(Set.of());
    }

    /**
     * True when an update changes nothing the rules look at, so it can be allowed without
     * evaluation (for example scaling a Deployment that predates the policy).
     */
    public static boolean securityUnchanged(HasMetadata oldObject, HasMetadata newObject) {
        Optional<PodSpecView> a = PodSpecs.extract(oldObject);
        Optional<PodSpecView> b = PodSpecs.extract(newObject);
        if (a.isEmpty() || b.isEmpty()) {
            return false;
        }
        return SecurityFingerprint.of(a.get()).equals(SecurityFingerprint.of(b.get()));
    }
}
