package dev.rootguard.audit.format;

import dev.rootguard.audit.AuditReport;
import dev.rootguard.policy.Action;
import dev.rootguard.policy.rule.RuleRegistry;

/**
 * One way to write an {@link AuditReport}, chosen by its {@code -o} name. The formats are listed,
 * and looked up by name, in {@link ReportFormats}.
 */
public interface ReportFormat {

    /** The {@code -o} name, lower case. */
    String name();

    /**
     * The whole report as text, ending in a line break.
     *
     * @param rules  the rules that were applied (formats that describe each rule list them)
     * @param failOn the {@code --fail-on} level, or {@code null} for {@code never}
     */
    String render(AuditReport report, RuleRegistry rules, Action failOn);
}
