package dev.rootguard.audit.format;

import java.util.List;
import java.util.Locale;

/** The report formats, in the order the CLI documents them, and the lookup by {@code -o} name. */
public final class ReportFormats {
    private static final List<ReportFormat> ALL =
            List.of(new TableFormat(), new JsonFormat(), new YamlFormat(), new JunitFormat(), new SarifFormat());

    private ReportFormats() {}

    /** Every format. */
    public static List<ReportFormat> all() {
        return ALL;
    }

    /**
     * The format called {@code name}, ignoring case and surrounding blanks.
     *
     * @throws IllegalArgumentException naming the unknown format and the known ones
     */
    public static ReportFormat named(String name) {
        // Upper-cased on both sides, as the enum lookup this replaces did, so the same spellings match.
        String wanted = name.trim().toUpperCase(Locale.ROOT);
        for (ReportFormat format : ALL) {
            if (format.name().toUpperCase(Locale.ROOT).equals(wanted)) {
                return format;
            }
        }
        throw new IllegalArgumentException("unknown output format '" + name + "'; use " + names());
    }

    /** "table, json, yaml, junit or sarif". */
    private static String names() {
        List<String> names = ALL.stream().map(ReportFormat::name).toList();
        return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    }
}
