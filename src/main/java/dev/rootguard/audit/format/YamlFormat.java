package dev.rootguard.audit.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.rootguard.audit.AuditReport;
import dev.rootguard.policy.Action;
import dev.rootguard.policy.rule.RuleRegistry;

/** {@code -o yaml}: the JSON report's schema, written as YAML without a document start marker. */
final class YamlFormat implements ReportFormat {
    private static final ObjectMapper MAPPER = new ObjectMapper(YAMLFactory.builder()
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .build());

    @Override
    public String name() {
        return "yaml";
    }

    @Override
    public String render(AuditReport report, RuleRegistry rules, Action failOn) {
        try {
            return MAPPER.writeValueAsString(report);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
