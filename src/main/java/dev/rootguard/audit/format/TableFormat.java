package dev.rootguard.audit.format;

import static dev.rootguard.audit.format.ReportText.objectName;
import static dev.rootguard.audit.format.ReportText.where;

import dev.rootguard.audit.AuditReport;
import dev.rootguard.policy.Action;
import dev.rootguard.policy.rule.RuleRegistry;
import java.util.Locale;

/** {@code -o table}, for people: objects with violations or errors, each with rule, path and fix; then the summary. */
final class TableFormat implements ReportFormat {

    @Override
    public String name() {
        return "table";
    }

    @Override
    public String render(AuditReport report, RuleRegistry rules, Action failOn) {
        StringBuilder sb = new StringBuilder();
        for (AuditReport.Result r : report.results()) {
            if (r.status() == AuditReport.Status.VIOLATIONS) {
                sb.append(objectName(r)).append("  (").append(where(r.source())).append(")\n");
                for (AuditReport.Finding f : r.violations()) {
                    sb.append(String.format(
                            "  %-7s  %-20s  %s%s%n",
                            f.action().id().toUpperCase(Locale.ROOT),
                            f.rule(),
                            f.path(),
                            f.line() == null ? "" : "  (line " + f.line() + ")"));
                    sb.append("           ").append(f.message()).append('\n');
                }
                images(sb, r);
                sb.append('\n');
            } else if (r.status() == AuditReport.Status.ERROR) {
                sb.append("ERROR ")
                        .append(where(r.source()))
                        .append(": ")
                        .append(r.reason())
                        .append("\n\n");
            }
        }
        for (AuditReport.Result r : report.results()) {
            if (r.status() == AuditReport.Status.OK
                    && r.images() != null
                    && !r.images().isEmpty()) {
                sb.append(objectName(r)).append("  (").append(where(r.source())).append("): compliant\n");
                images(sb, r);
                sb.append('\n');
            }
        }
        AuditReport.Summary s = report.summary();
        sb.append(String.format(
                "%d objects: %d with violations, %d compliant, %d exempt, %d skipped (no pod spec); %d unreadable%n",
                s.objects(),
                s.withViolations(),
                s.objects() - s.withViolations() - s.exempt() - s.skipped(),
                s.exempt(),
                s.skipped(),
                s.errors()));
        s.violations().forEach((rule, byAction) -> {
            StringBuilder line = new StringBuilder("  ").append(rule).append(':');
            byAction.forEach(
                    (action, n) -> line.append(' ').append(n).append(' ').append(action));
            sb.append(line).append('\n');
        });
        return sb.toString();
    }

    /** With --resolve-images: one line per container image and platform. */
    private static void images(StringBuilder sb, AuditReport.Result r) {
        if (r.images() == null) {
            return;
        }
        for (AuditReport.ImageUse u : r.images()) {
            sb.append("  IMAGE    ")
                    .append(u.container())
                    .append("  ")
                    .append(u.image())
                    .append(": ")
                    .append(u.describe())
                    .append('\n');
        }
    }
}
