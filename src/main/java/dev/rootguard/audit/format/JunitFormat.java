package dev.rootguard.audit.format;

import static dev.rootguard.audit.format.ReportText.objectName;
import static dev.rootguard.audit.format.ReportText.where;

import dev.rootguard.audit.AuditReport;
import dev.rootguard.policy.Action;
import dev.rootguard.policy.rule.RuleRegistry;
import java.io.StringWriter;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * {@code -o junit}: one test case per object; violations at or above {@code --fail-on} are
 * failures, unreadable documents are errors, exempt and skipped objects are skipped.
 */
final class JunitFormat implements ReportFormat {

    @Override
    public String name() {
        return "junit";
    }

    @Override
    public String render(AuditReport report, RuleRegistry rules, Action failOn) {
        try {
            Document doc =
                    DocumentBuilderFactory.newInstance().newDocumentBuilder().newDocument();
            Element suites = doc.createElement("testsuites");
            doc.appendChild(suites);
            Element suite = doc.createElement("testsuite");
            suites.appendChild(suite);
            int failures = 0;
            int errors = 0;
            int skipped = 0;
            for (AuditReport.Result r : report.results()) {
                Element tc = doc.createElement("testcase");
                tc.setAttribute(
                        "classname",
                        r.source().file() != null
                                ? r.source().file()
                                : "cluster " + r.source().cluster());
                tc.setAttribute("name", objectName(r) + (r.kind() == null ? " at " + where(r.source()) : ""));
                tc.setAttribute("time", "0");
                StringBuilder lines = new StringBuilder();
                boolean failed = false;
                for (AuditReport.Finding f : r.violations()) {
                    lines.append('[')
                            .append(f.action().id())
                            .append("] [")
                            .append(f.rule())
                            .append("] ")
                            .append(f.path())
                            .append(": ")
                            .append(f.message())
                            .append('\n');
                    failed |= failOn != null && f.action().atLeast(failOn);
                }
                if (r.images() != null && !r.images().isEmpty()) {
                    // What each container's image runs as (--resolve-images), as testcase properties.
                    Element props = doc.createElement("properties");
                    for (AuditReport.ImageUse u : r.images()) {
                        Element p = doc.createElement("property");
                        p.setAttribute("name", "image " + u.container() + " " + u.image());
                        p.setAttribute("value", u.describe());
                        props.appendChild(p);
                    }
                    tc.appendChild(props);
                }
                if (r.status() == AuditReport.Status.ERROR) {
                    Element e = doc.createElement("error");
                    e.setAttribute("message", r.reason());
                    e.setTextContent(where(r.source()) + ": " + r.reason());
                    tc.appendChild(e);
                    errors++;
                } else if (failed) {
                    Element f = doc.createElement("failure");
                    f.setAttribute("message", r.violations().size() + " violation(s)");
                    f.setAttribute("type", "rootguard");
                    f.setTextContent(lines.toString());
                    tc.appendChild(f);
                    failures++;
                } else if (r.status() == AuditReport.Status.SKIPPED || r.status() == AuditReport.Status.EXEMPT) {
                    Element s = doc.createElement("skipped");
                    s.setAttribute("message", r.reason());
                    tc.appendChild(s);
                    skipped++;
                } else if (lines.length() > 0) {
                    Element out = doc.createElement("system-out");
                    out.setTextContent(lines.toString());
                    tc.appendChild(out);
                }
                suite.appendChild(tc);
            }
            suite.setAttribute("name", "rootguard");
            suite.setAttribute("tests", Integer.toString(report.results().size()));
            suite.setAttribute("failures", Integer.toString(failures));
            suite.setAttribute("errors", Integer.toString(errors));
            suite.setAttribute("skipped", Integer.toString(skipped));
            Transformer t = TransformerFactory.newInstance().newTransformer();
            t.setOutputProperty(OutputKeys.INDENT, "yes");
            t.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
            StringWriter w = new StringWriter();
            t.transform(new DOMSource(doc), new StreamResult(w));
            return w + "\n";
        } catch (Exception e) {
            throw new IllegalStateException("cannot write JUnit XML", e);
        }
    }
}
