package dev.rootguard.audit.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.rootguard.audit.AuditReport;
import dev.rootguard.policy.Action;
import dev.rootguard.policy.rule.RuleRegistry;

/** {@code -o json}: the report in its documented schema, indented. */
final class JsonFormat implements ReportFormat {
    /** Indented JSON, shared with {@link SarifFormat}. */
    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Override
    public String name() {
        return "json";
    }

    @Override
    public String render(AuditReport report, RuleRegistry rules, Action failOn) {
        try {
            return MAPPER.writeValueAsString(report) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
