package dev.rootguard.audit.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.audit.AuditReport;
import dev.rootguard.policy.Action;
import dev.rootguard.policy.rule.RuleRegistry;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The lookup of report formats by {@code -o} name, and what every format promises. */
class ReportFormatsTest {

    @ParameterizedTest(name = "''{0}'' is {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "table|table",
                "json|json",
                "yaml|yaml",
                "junit|junit",
                "sarif|sarif",
                "' JSON '|json",
                "Sarif|sarif",
                "TABLE|table",
            })
    void aFormatIsFoundByItsNameIgnoringCaseAndBlanks(String given, String name) {
        assertEquals(name, ReportFormats.named(given).name());
    }

    @Test
    void anUnknownNameIsRefusedNamingTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReportFormats.named("html"));
        assertEquals("unknown output format 'html'; use table, json, yaml, junit or sarif", e.getMessage());
    }

    @Test
    void namesAreLowerCaseAndDistinct() {
        List<String> names =
                ReportFormats.all().stream().map(ReportFormat::name).toList();
        assertEquals(List.of("table", "json", "yaml", "junit", "sarif"), names);
        names.forEach(n -> assertEquals(n.toLowerCase(Locale.ROOT), n));
    }

    @Test
    void everyFormatEndsItsOutputWithALineBreakEvenForAnEmptyReport() {
        AuditReport empty = new AuditReport(new AuditReport.Summary(0, 0, 0, 0, 0, Map.of()), List.of());
        for (ReportFormat format : ReportFormats.all()) {
            for (Action failOn : new Action[] {Action.ENFORCE, null}) {
                String out = format.render(empty, RuleRegistry.standard(), failOn);
                assertTrue(out.endsWith("\n"), format.name() + ": " + out);
            }
        }
    }
}
