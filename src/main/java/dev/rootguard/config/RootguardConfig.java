package dev.rootguard.config;

import dev.rootguard.policy.Engine;
import dev.rootguard.policy.IdRange;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Every {@code rootguard.*} configuration key. Set them in {@code application.properties}, as
 * system properties ({@code -Drootguard.mode=warn}) or as environment variables
 * ({@code ROOTGUARD_MODE=warn}).
 */
@ConfigMapping(prefix = "rootguard")
public interface RootguardConfig {

    /** Global mode: {@code enforce} (deny), {@code warn} (allow with warnings) or {@code audit} (allow, annotate). */
    @WithDefault("enforce")
    String mode();

    /** Per-rule settings. */
    Rules rules();

    /** Values that {@code /mutate} fills in where absent. */
    Defaults defaults();

    /** Mutation as a whole. */
    Mutation mutation();

    /** Requests that are never evaluated or mutated. */
    Exemptions exemptions();

    /**
     * The namespace the webhook runs in; always exempt. Set {@code ROOTGUARD_NAMESPACE} from the downward API.
     */
    @WithDefault("rootguard")
    String namespace();

    /** Reading namespace labels ({@code rootguard.dev/mode}, {@code rootguard.dev/mutate}) from the cluster. */
    @WithName("namespace-labels")
    NamespaceLabels namespaceLabels();

    /** Serving certificate. */
    Tls tls();

    /** Admission request handling. */
    Admission admission();

    /** Background audit of what already runs in the cluster. */
    Audit audit();

    /** Assignment of a UID range to every namespace that has none ({@code rootguard.dev/uid-range}). */
    Allocator allocator();

    /** Looking up images' users in their registries (rule {@code image-user}). */
    Images images();

    /**
     * Image registry lookups. Off until {@link #registries()} names at least one host: the webhook then
     * reads the config of the images of the pods it checks from those registries (never from any other).
     */
    interface Images {
        /**
         * Registry hosts whose images are looked up, as globs ({@code *}, {@code ?}), e.g.
         * {@code docker.io,ghcr.io,*.registry.example:5000}; Docker Hub images are {@code docker.io}.
         * Empty: no lookups.
         */
        Optional<List<String>> registries();

        /** Registry hosts never looked up, even when {@link #registries()} matches them. */
        @WithName("denied-registries")
        Optional<List<String>> deniedRegistries();

        /**
         * Longest an admission request waits for its lookups; what is not known by then is decided
         * without (with a warning) while the lookup goes on to fill the cache. Keep it well under the
         * webhook's timeoutSeconds.
         */
        @WithDefault("1s")
        Duration budget();

        /** Connect and read timeout of one registry request. */
        @WithDefault("5s")
        Duration timeout();

        /** How long a tag's digest is trusted before it is resolved again. Digests never expire. */
        @WithName("tag-ttl")
        @WithDefault("5m")
        Duration tagTtl();

        /** How long a failed lookup is remembered before it is tried again. */
        @WithName("failure-ttl")
        @WithDefault("30s")
        Duration failureTtl();

        /** Most image digests kept in memory. */
        @WithName("cache-size")
        @WithDefault("10000")
        int cacheSize();

        /**
         * Lookups running at once. One registry gets at most half of them (running or waiting), so a
         * registry that hangs cannot hold up lookups from the others; further lookups from it fail at
         * once until its running ones end.
         */
        @WithDefault("8")
        int threads();

        /** Lookups waiting for a thread; when full, further ones fail at once (and are retried later). */
        @WithDefault("64")
        int queue();

        /**
         * A Docker config file ({@code config.json}, as in a {@code kubernetes.io/dockerconfigjson}
         * Secret) with credentials per registry. Without one, lookups are anonymous.
         */
        @WithName("docker-config")
        Optional<String> dockerConfig();

        /** PEM file of certificate authorities trusted besides the JVM's for registries. */
        @WithName("ca-file")
        Optional<String> caFile();

        /** Platforms an index (multi-platform image) is resolved to. */
        @WithDefault("linux/amd64,linux/arm64")
        List<String> platforms();

        /** Largest manifest, token or image config read from a registry. */
        @WithName("max-response-size")
        @WithDefault("4M")
        String maxResponseSize();
    }

    /** Settings every rule has. */
    interface RuleSettings {
        /** {@code enforce}, {@code warn}, {@code audit} or {@code off}; unset means the rule's default. */
        Optional<String> action();

        /** Image globs ({@code *}, {@code ?}) whose containers this rule skips, e.g. {@code registry.example/agents/*}. */
        @WithName("exempt-images")
        Optional<List<String>> exemptImages();
    }

    /** The rules, by ID. */
    interface Rules {
        /** Rule {@code image-user} (checks only images looked up, see {@code rootguard.images.*}). */
        @WithName("image-user")
        RuleSettings imageUser();

        /** Rule {@code run-as-root}. */
        @WithName("run-as-root")
        RunAsRoot runAsRoot();

        /** Rule {@code root-group}. */
        @WithName("root-group")
        RuleSettings rootGroup();

        /** Rule {@code privileged}. */
        RuleSettings privileged();

        /** Rule {@code capabilities}. */
        Capabilities capabilities();

        /** Rule {@code required-ids}. */
        @WithName("required-ids")
        RequiredIds requiredIds();

        /** Rule {@code privilege-escalation}. */
        @WithName("privilege-escalation")
        PrivilegeEscalation privilegeEscalation();

        /** Rule {@code image-groups} (default action {@code warn}). */
        @WithName("image-groups")
        RuleSettings imageGroups();

        /** Rule {@code id-range}. */
        @WithName("id-range")
        IdRange idRange();
    }

    /** Rule {@code id-range}. */
    interface IdRange extends RuleSettings {
        /** Do not check pods with {@code hostUsers: false}: the kubelet maps their IDs to a host range of their own. */
        @WithName("exempt-host-users")
        @WithDefault("false")
        @WithConverter(StrictBoolean.class)
        boolean exemptHostUsers();
    }

    /**
     * Rule {@code privilege-escalation}: its {@code action} (default {@code enforce}) applies to an
     * explicit {@code allowPrivilegeEscalation: true}.
     */
    interface PrivilegeEscalation extends RuleSettings {
        /**
         * The action where {@code allowPrivilegeEscalation} is unset (the runtime then allows
         * escalation, but mutation fills in {@code false}): {@code enforce}, {@code warn},
         * {@code audit} or {@code off}. Never stronger than {@code action}.
         */
        @WithName("unset-action")
        @WithDefault("warn")
        String unsetAction();
    }

    /** Rule {@code run-as-root}. */
    interface RunAsRoot extends RuleSettings {
        /** Also check pods with {@code hostUsers: false}, whose root maps to an unprivileged host UID. */
        @WithName("strict-user-namespaces")
        @WithDefault("false")
        @WithConverter(StrictBoolean.class)
        boolean strictUserNamespaces();
    }

    /** Rule {@code capabilities}. */
    interface Capabilities extends RuleSettings {
        /**
         * Capabilities that may be added; case and the {@code CAP_} prefix do not matter. {@code ALL} only if listed.
         * Set to nothing ({@code allowed=}) for an empty allowlist: no capability may be added. Unset means
         * {@code NET_BIND_SERVICE}. (Optional only so that an empty value means "none" rather than an error.)
         */
        @WithDefault("NET_BIND_SERVICE")
        Optional<List<String>> allowed();
    }

    /** Rule {@code required-ids}. */
    interface RequiredIds extends RuleSettings {
        /** Allowed runAsUser values, {@code min-max}; unset allows any. */
        @WithName("run-as-user-range")
        Optional<String> runAsUserRange();

        /** Allowed runAsGroup values, {@code min-max}; unset allows any. */
        @WithName("run-as-group-range")
        Optional<String> runAsGroupRange();

        /** Allowed fsGroup values, {@code min-max}; unset allows any. */
        @WithName("fs-group-range")
        Optional<String> fsGroupRange();
    }

    /** Mutation defaults. */
    interface Defaults {
        /** Set pod {@code runAsNonRoot: true}. */
        @WithName("run-as-non-root")
        @WithDefault("true")
        @WithConverter(StrictBoolean.class)
        boolean runAsNonRoot();

        /** Pod {@code runAsUser}. */
        @WithName("run-as-user")
        @WithDefault("10000")
        long runAsUser();

        /** Pod {@code runAsGroup}. */
        @WithName("run-as-group")
        @WithDefault("10000")
        long runAsGroup();

        /** Pod {@code fsGroup}. */
        @WithName("fs-group")
        @WithDefault("10000")
        long fsGroup();

        /** Pod {@code seccompProfile.type}; {@code none} to leave it unset. */
        @WithName("seccomp-profile")
        @WithDefault("RuntimeDefault")
        String seccompProfile();

        /** Container {@code capabilities.drop: [ALL]} when no drop list exists. */
        @WithName("drop-all-capabilities")
        @WithDefault("true")
        @WithConverter(StrictBoolean.class)
        boolean dropAllCapabilities();

        /** Container {@code allowPrivilegeEscalation: false} unless privileged. */
        @WithName("deny-privilege-escalation")
        @WithDefault("true")
        @WithConverter(StrictBoolean.class)
        boolean denyPrivilegeEscalation();

        /**
         * Pod {@code supplementalGroupsPolicy: Strict} (Linux pods), so that the groups the image's
         * {@code /etc/group} lists for the container's user are not added. Nodes need a runtime that
         * supports it (containerd 2.0, CRI-O 1.31 or later); the kubelet refuses such pods elsewhere.
         */
        @WithName("strict-supplemental-groups")
        @WithDefault("true")
        @WithConverter(StrictBoolean.class)
        boolean strictSupplementalGroups();

        /**
         * Container {@code runAsUser} (and {@code runAsGroup}) from the image's own numeric non-root
         * {@code USER}, instead of {@code run-as-user}, where the image was looked up and every platform
         * agrees. Namespaces with a uid range get the range's start instead.
         */
        @WithName("run-as-user-from-image")
        @WithDefault("false")
        @WithConverter(StrictBoolean.class)
        boolean runAsUserFromImage();
    }

    /** Mutation switch. */
    interface Mutation {
        /** When false, {@code /mutate} allows everything unchanged and {@code rootguard fix} changes nothing. */
        @WithDefault("true")
        @WithConverter(StrictBoolean.class)
        boolean enabled();
    }

    /** Exemptions. */
    interface Exemptions {
        /** Namespaces never evaluated. The webhook's own namespace is always added. */
        @WithDefault("kube-system,kube-public,kube-node-lease")
        List<String> namespaces();

        /** Globs over the requesting user, e.g. {@code system:serviceaccount:ci:*}. */
        Optional<List<String>> users();
    }

    /** Namespace label lookups. */
    interface NamespaceLabels {
        /** Watch namespaces through the Kubernetes API. When off, or no cluster is reachable, the global mode applies. */
        @WithDefault("true")
        @WithConverter(StrictBoolean.class)
        boolean enabled();
    }

    /** Serving certificate ({@code ROOTGUARD_TLS_CERT}, {@code ROOTGUARD_TLS_KEY}). */
    interface Tls {
        /** PEM certificate chain. When neither cert nor key is set, a self-signed localhost certificate is generated. */
        Optional<String> cert();

        /** PEM private key. */
        Optional<String> key();

        /**
         * PEM CA certificates for mutual TLS. When set, the admission port requires a client
         * certificate signed by one of them (the API server presents one when its admission
         * configuration names a kubeconfig for webhooks) and refuses every other client during the
         * TLS handshake. Reloaded with the serving certificate.
         */
        @WithName("client-ca")
        Optional<String> clientCa();

        /** How often the certificate and key files are checked for changes and reloaded. */
        @WithName("reload-period")
        @WithDefault("10s")
        Duration reloadPeriod();

        /** Where the generated self-signed certificate is kept (default {@code ~/.cache/rootguard/dev-tls}). */
        @WithName("dev-dir")
        Optional<String> devDir();

        /**
         * Which TLS implementation the admission port uses: {@code auto} (BoringSSL, bundled for
         * Linux x86-64 and arm64, when it loads; otherwise the JDK's), {@code openssl} (BoringSSL or
         * refuse to start) or {@code jdk}. Protocols, cipher suites, certificates, reloads and mutual
         * TLS behave the same with either; BoringSSL costs less CPU per request.
         */
        @WithDefault("auto")
        Engine engine();

        /** The TLS implementations of {@link #engine()}. */
        enum Engine {
            AUTO,
            OPENSSL,
            JDK
        }
    }

    /** Background audit. */
    interface Audit {
        /**
         * How often to evaluate every pod and workload in the cluster (from informer caches) and export
         * {@code rootguard_audit_violations}; unset (the default) turns the background audit off.
         */
        Optional<Duration> interval();
    }

    /**
     * The range allocator. The replica holding the Lease {@code rootguard-allocator} in
     * {@link #namespace()} gives every namespace without {@code rootguard.dev/uid-range} (and not
     * exempt) a free range from {@link #block()}, and records the highest range handed out in the
     * ConfigMap {@code rootguard-id-ranges} so that no range is ever handed out twice.
     */
    interface Allocator {
        /** Assign ranges; also makes a namespace without a readable range a violation of rule {@code id-range}. */
        @WithDefault("false")
        @WithConverter(StrictBoolean.class)
        boolean enabled();

        /** The IDs ranges are taken from, {@code start/size}; the default is 1000000000 to 1999999999. */
        @WithDefault("1000000000/1000000000")
        String block();

        /** IDs per namespace; ranges start at {@code block start + n * range-size}. */
        @WithName("range-size")
        @WithDefault("10000")
        long rangeSize();
    }

    /** Admission request handling. */
    interface Admission {
        /** Largest accepted request body; larger ones get HTTP 413. */
        @WithName("max-body-size")
        @WithDefault("8M")
        String maxBodySize();

        /**
         * Rehearsals of the decision path run in the background after start-up, so that the JIT has
         * compiled it before the first real requests instead of after thousands of them. 0 turns it off.
         */
        @WithName("warm-up-requests")
        @WithDefault("4000")
        int warmUpRequests();

        /**
         * Most bytes of request bodies held at once, counted as they arrive, from the first byte of a body
         * until its answer is written or its connection closes. A body that would go over it is answered
         * 503 at once and its connection closed. The default holds eight bodies at {@link #maxBodySize()}.
         */
        @WithName("max-in-flight-body-size")
        @WithDefault("64M")
        String maxInFlightBodySize();

        /**
         * Bodies smaller than this are decided on the event loop that read them (under a millisecond
         * or two, less than handing them to a worker costs); larger ones go to the decision workers,
         * so that a slow decision never holds up the other connections of its event loop.
         */
        @WithName("inline-body-size")
        @WithDefault("64K")
        String inlineBodySize();

        /** Threads deciding large bodies. Decisions are CPU work: more threads than CPUs only add memory. */
        @WithName("worker-threads")
        @WithDefault("1")
        int workerThreads();

        /**
         * Large bodies waiting for a decision thread. When the queue is full the request is answered 503
         * at once instead of waiting past the API server's timeout.
         */
        @WithName("worker-queue")
        @WithDefault("8")
        int workerQueue();

        /**
         * How long a connection may sit with no request before it is closed. Longer than the API
         * server's own idle keep-alive for webhook connections (Go's {@code http.Transport}
         * {@code IdleConnTimeout}, 90 s), so the API server always closes an idle connection first and
         * never sends a request on one that this side is closing.
         */
        @WithName("idle-timeout")
        @WithDefault("120s")
        Duration idleTimeout();

        /**
         * How long a client may take to send a whole request, headers and body, counted from the
         * request's first byte. A client that trickles bytes is disconnected when it passes.
         */
        @WithName("request-read-timeout")
        @WithDefault("10s")
        Duration requestReadTimeout();

        /**
         * Most connections open at once (including those still in their TLS handshake); further ones
         * are closed as soon as their handshake ends. Lowered at start-up so that a quarter of the
         * process's file-descriptor limit, and at least 256 descriptors, stay free: accepting a
         * connection must never run out of descriptors.
         */
        @WithName("max-connections")
        @WithDefault("1000")
        int maxConnections();
    }
}
