package dev.rootguard.audit.format;

import dev.rootguard.audit.AuditReport;

/** How the human-facing formats name an object and where it came from. */
final class ReportText {

    private ReportText() {}

    /** {@code Kind namespace/name}, or a stand-in for a document that could not be read. */
    static String objectName(AuditReport.Result r) {
        if (r.kind() == null) {
            return "(unreadable document)";
        }
        return r.kind() + " " + (r.namespace() == null || r.namespace().isEmpty() ? "" : r.namespace() + "/")
                + r.name();
    }

    /** File, document, list item and line; or the cluster. */
    static String where(AuditReport.Source s) {
        if (s.file() == null) {
            return "cluster " + s.cluster();
        }
        return s.file() + " document " + s.document() + (s.item() != null ? " item " + s.item() : "") + " line "
                + s.line();
    }
}
