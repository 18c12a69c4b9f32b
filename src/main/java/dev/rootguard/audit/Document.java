package dev.rootguard.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * One object to audit, or one input that could not be read, with where it came from.
 *
 * @param source where the object came from
 * @param raw    the object as read, or null when {@code error} is set
 * @param lines  JSON pointer to line number (1-based, in the file) for the object's fields
 * @param error  why the document could not be read, or null
 */
public record Document(Source source, ObjectNode raw, Map<String, Integer> lines, String error) {

    /**
     * Where a document came from.
     *
     * @param file     file path, {@code -} for standard input, or null for a cluster
     * @param document 0-based index of the YAML document in the file
     * @param item     0-based index in a {@code List}'s items, or -1
     * @param line     1-based line where the document (or list item) starts
     * @param cluster  cluster (context) name for live objects, or null
     */
    public record Source(String file, int document, int item, int line, String cluster) {
        public static Source cluster(String name) {
            return new Source(null, -1, -1, 0, name);
        }
    }

    public static Document failed(Source source, String error) {
        return new Document(source, null, Map.of(), error);
    }

    /** The line of the field at a violation path, or of its nearest parent that exists in the input. */
    public int lineOf(String violationPath) {
        String pointer = "/" + violationPath.replaceAll("\\[(\\d+)]", ".$1").replace('.', '/');
        while (!pointer.isEmpty()) {
            Integer line = lines.get(pointer);
            if (line != null) {
                return line;
            }
            pointer = pointer.substring(0, pointer.lastIndexOf('/'));
        }
        return source.line();
    }
}
