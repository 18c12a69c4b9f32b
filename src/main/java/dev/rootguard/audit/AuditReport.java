package dev.rootguard.audit;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.rootguard.policy.Action;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The result of an audit, in the documented JSON/YAML schema ({@code -o json}):
 * a {@code summary} and one entry in {@code results} per object.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AuditReport(Summary summary, List<Result> results) {

    /**
     * Counts over all results.
     *
     * @param objects        objects read (every result that is not an input error)
     * @param withViolations objects with at least one violation
     * @param exempt         objects in exempt namespaces
     * @param skipped        objects of kinds without a pod spec
     * @param errors         documents that could not be read or understood
     * @param violations     per rule ID, per action: how many violations
     */
    public record Summary(
            int objects,
            int withViolations,
            int exempt,
            int skipped,
            int errors,
            Map<String, Map<String, Integer>> violations) {}

    /**
     * One object (or one unreadable document).
     *
     * @param source     where it came from
     * @param kind       object kind
     * @param namespace  namespace the policy was applied for
     * @param name       object name
     * @param status     what the audit found
     * @param violations the violations, empty unless status is {@code violations}
     * @param reason     why it is exempt, skipped, or in error
     * @param images     with {@code --resolve-images}: what each container's image runs as; else null
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Result(
            Source source,
            String kind,
            String namespace,
            String name,
            Status status,
            List<Finding> violations,
            String reason,
            List<ImageUse> images) {

        /** A result without image details. */
        public Result(
                Source source,
                String kind,
                String namespace,
                String name,
                Status status,
                List<Finding> violations,
                String reason) {
            this(source, kind, namespace, name, status, violations, reason, null);
        }
    }

    /**
     * What one container's image runs as, on one platform, as looked up with {@code --resolve-images}.
     *
     * @param container the container's path, e.g. {@code spec.containers[0]}
     * @param image     the image reference
     * @param platform  {@code os/arch}, when known
     * @param digest    the digest of the platform's manifest (of its config, for a Docker archive)
     * @param user      the image's {@code USER}, "" when it has none
     * @param error     why nothing is known, when the lookup failed
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ImageUse(String container, String image, String platform, String digest, String user, String error) {

        /** One line for the table and JUnit: "USER 10001 (linux/amd64, sha256:...)" or the error. */
        public String describe() {
            if (error != null) {
                return "user unknown: " + error;
            }
            return (user.isEmpty() ? "no USER (root)" : "USER " + user) + " (" + platform + ", " + digest + ")";
        }
    }

    /** What the audit found for one object; written in lower case ({@code ok}, {@code violations}, ...). */
    public enum Status {
        /** Evaluated, no violation. */
        OK,
        /** Evaluated, at least one violation. */
        VIOLATIONS,
        /** In an exempt namespace or by an exempt user. */
        EXEMPT,
        /** A kind without a pod spec. */
        SKIPPED,
        /** The document could not be read or understood. */
        ERROR;

        @JsonValue
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Where an object came from: a file and document (and list item), or a cluster.
     *
     * @param file     file path, {@code -} for standard input
     * @param document 0-based document index in the file
     * @param item     0-based index in a List's items
     * @param line     1-based line where the object starts
     * @param cluster  cluster name for live objects
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Source(String file, Integer document, Integer item, Integer line, String cluster) {
        static Source of(Document.Source s) {
            if (s.file() == null) {
                return new Source(null, null, null, null, s.cluster());
            }
            return new Source(s.file(), s.document(), s.item() >= 0 ? s.item() : null, s.line(), null);
        }
    }

    /**
     * One violation.
     *
     * @param rule    rule ID
     * @param path    field path in the object
     * @param message what is wrong and how to fix it
     * @param action  effective action: enforce, warn or audit
     * @param line    1-based line of the field (or its nearest parent) in the file, when read from a file
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Finding(String rule, String path, String message, Action action, Integer line) {}
}
