package dev.rootguard.audit;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.rootguard.json.JsonErrors;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads manifests: multi-document YAML or JSON, {@code List} objects, directories (recursively,
 * {@code .yaml}, {@code .yml}, {@code .json}) and standard input. Each YAML document is parsed on
 * its own, so a malformed one becomes an error naming the file, document and line while the others
 * are still read.
 */
public final class ManifestReader {
    private static final YAMLFactory YAML = new YAMLFactory();

    private ManifestReader() {}

    /** Reads every input; {@code -} is standard input. Unreadable paths become error documents. */
    public static List<Document> read(List<String> inputs, InputStream stdin) {
        List<Document> out = new ArrayList<>();
        for (String input : inputs) {
            if ("-".equals(input)) {
                try {
                    out.addAll(parse("-", new String(stdin.readAllBytes(), StandardCharsets.UTF_8)));
                } catch (IOException e) {
                    out.add(Document.failed(
                            new Document.Source("-", 0, -1, 1, null), "cannot read standard input: " + e.getMessage()));
                }
                continue;
            }
            Path path = Path.of(input);
            if (Files.isDirectory(path)) {
                try {
                    for (Path f : manifestsIn(path)) {
                        out.addAll(readFile(f));
                    }
                } catch (IOException | UncheckedIOException e) {
                    out.add(Document.failed(
                            new Document.Source(input, 0, -1, 1, null), "cannot read directory: " + e.getMessage()));
                }
            } else {
                out.addAll(readFile(path));
            }
        }
        return out;
    }

    /** The manifest files under a directory ({@code .yaml}, {@code .yml}, {@code .json}), recursively, sorted. */
    public static List<Path> manifestsIn(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(ManifestReader::isManifest)
                    .sorted()
                    .toList();
        }
    }

    private static boolean isManifest(Path p) {
        String n = p.getFileName().toString().toLowerCase();
        return n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json");
    }

    private static List<Document> readFile(Path file) {
        try {
            return parse(file.toString(), Files.readString(file));
        } catch (IOException | UncheckedIOException e) {
            String why = e instanceof NoSuchFileException ? "no such file" : e.getMessage();
            return List.of(
                    Document.failed(new Document.Source(file.toString(), 0, -1, 1, null), "cannot read file: " + why));
        }
    }

    /**
     * A YAML document's text and where it starts.
     *
     * @param startLine 0-based line of the document's first line in the file
     * @param text      the document, without separators
     * @param separator the separator line that ends it, or null for the last document
     */
    public record Chunk(int startLine, String text, String separator) {
        /** True when the document holds nothing but blank lines and comments. */
        public boolean empty() {
            return onlyComments(text);
        }
    }

    /** Splits a file into YAML documents at {@code ---} lines. */
    public static List<Chunk> split(String text) {
        List<Chunk> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        int start = 0;
        String carried = null;
        for (int i = 0; i <= lines.length; i++) {
            String l = i < lines.length ? lines[i].stripTrailing() : null;
            boolean separator = l != null && (l.equals("---") || l.startsWith("--- ") || l.startsWith("---\t"));
            if (l == null || separator) {
                String body = String.join("\n", Arrays.copyOfRange(lines, start, i));
                int first = start;
                if (carried != null) {
                    // "--- {kind: Pod, ...}": what follows the marker belongs to the next document.
                    body = carried + (body.isEmpty() ? "" : "\n" + body);
                    first = start - 1;
                }
                carried = null;
                String sep = separator ? lines[i] : null;
                if (separator) {
                    String rest = l.substring(3).strip();
                    if (!rest.isEmpty() && !rest.startsWith("#")) {
                        carried = rest;
                        sep = "---";
                    }
                }
                out.add(new Chunk(first, body, sep));
                start = i + 1;
            }
        }
        return out;
    }

    /**
     * Parses the text of one file. Documents are numbered from 0 in order, not counting empty ones.
     * Content after a document end marker ({@code ...}) and before the next {@code ---} is an error of its
     * own: kubectl reads only the document before the marker and silently ignores the rest, so an object
     * there would neither be created nor, without the error, be noticed.
     */
    public static List<Document> parse(String name, String text) {
        List<Document> out = new ArrayList<>();
        int docIndex = 0;
        for (Chunk c : split(text)) {
            if (c.empty()) {
                continue;
            }
            String[] lines = c.text().split("\n", -1);
            int marker = endMarker(lines);
            int after = marker < 0 ? -1 : contentAfter(lines, marker);
            if (after < 0) {
                out.addAll(parseDocument(name, docIndex++, c.startLine(), c.text()));
                continue;
            }
            String before = String.join("\n", Arrays.copyOfRange(lines, 0, marker));
            if (!onlyComments(before)) {
                out.addAll(parseDocument(name, docIndex++, c.startLine(), before));
            }
            out.add(Document.failed(
                    new Document.Source(name, docIndex++, -1, c.startLine() + after + 1, null),
                    afterEndMarker(c.startLine() + marker + 1)));
        }
        return out;
    }

    /** @param markerLine the marker's line in the file, or 0 when not known */
    private static String afterEndMarker(int markerLine) {
        return "content after the document end marker \"...\"" + (markerLine > 0 ? " on line " + markerLine : "")
                + " is ignored by kubectl, so it is not audited; start a new document with \"---\" or remove it";
    }

    /** The index of the first document end marker line ({@code ...}, alone or before a comment), or -1. */
    private static int endMarker(String[] lines) {
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].stripTrailing();
            if (l.equals("...") || l.startsWith("... ") || l.startsWith("...\t")) {
                return i;
            }
        }
        return -1;
    }

    /** The index of the first line after {@code marker} that is neither blank, a comment nor another end marker, or -1. */
    private static int contentAfter(String[] lines, int marker) {
        for (int i = marker + 1; i < lines.length; i++) {
            String l = lines[i].strip();
            if (!l.isEmpty() && !l.startsWith("#") && !l.equals("...") && !l.startsWith("... ")) {
                return i;
            }
        }
        return -1;
    }

    private static boolean onlyComments(String chunk) {
        return chunk.lines().allMatch(l -> l.isBlank() || l.stripLeading().startsWith("#"));
    }

    /** Parses one YAML document starting after {@code offset} lines of the file. */
    private static List<Document> parseDocument(String file, int docIndex, int offset, String chunk) {
        Map<String, Integer> lines = new HashMap<>();
        JsonNode root;
        try (JsonParser p = YAML.createParser(chunk)) {
            p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            root = readWithLines(p, lines, offset);
        } catch (IOException e) {
            int line = offset + 1;
            if (!(e instanceof JsonProcessingException)) {
                return List.of(Document.failed(new Document.Source(file, docIndex, -1, line, null), e.getMessage()));
            }
            if (e instanceof JsonProcessingException jpe
                    && jpe.getLocation() != null
                    && jpe.getLocation().getLineNr() > 0) {
                line = offset + jpe.getLocation().getLineNr();
            }
            // The webhook's description of read errors: no value from the file, no echoed source line.
            return List.of(Document.failed(
                    new Document.Source(file, docIndex, -1, line, null),
                    "malformed YAML: " + JsonErrors.describe(e, false)));
        }
        Document.Source source = new Document.Source(file, docIndex, -1, firstLine(lines, offset), null);
        if (root == null || root.isNull()) {
            return List.of();
        }
        if (!root.isObject()) {
            return List.of(
                    Document.failed(source, "not a Kubernetes object (expected a mapping with apiVersion and kind)"));
        }
        JsonNode items = root.get("items");
        String kind = root.path("kind").asText("");
        if (kind.endsWith("List") && items != null && items.isArray()) {
            List<Document> out = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                JsonNode item = items.get(i);
                String prefix = "/items/" + i;
                Map<String, Integer> itemLines = new HashMap<>();
                lines.forEach((ptr, line) -> {
                    if (ptr.equals(prefix) || ptr.startsWith(prefix + "/")) {
                        itemLines.put(ptr.substring(prefix.length()), line);
                    }
                });
                Document.Source s =
                        new Document.Source(file, docIndex, i, itemLines.getOrDefault("", source.line()), null);
                out.add(
                        item.isObject()
                                ? new Document(s, (ObjectNode) item, itemLines, null)
                                : Document.failed(s, "list item is not a Kubernetes object"));
            }
            return out;
        }
        return List.of(new Document(source, (ObjectNode) root, lines, null));
    }

    private static int firstLine(Map<String, Integer> lines, int offset) {
        Integer l = lines.get("");
        return l == null ? offset + 1 : l;
    }

    /** Reads one YAML document with the same rules as the audit (duplicate keys, aliases and merge keys refused). */
    public static JsonNode readTree(String chunk) throws IOException {
        String[] lines = chunk.split("\n", -1);
        int marker = endMarker(lines);
        if (marker >= 0 && contentAfter(lines, marker) >= 0) {
            // Rewriting the document would keep only what precedes the marker and drop the rest.
            throw new IOException(afterEndMarker(0));
        }
        try (JsonParser p = YAML.createParser(chunk)) {
            p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            return readWithLines(p, new HashMap<>(), 0);
        }
    }

    /** Builds the tree while recording the line of every value, keyed by JSON pointer. */
    private static JsonNode readWithLines(JsonParser p, Map<String, Integer> lines, int offset) throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) {
            return null;
        }
        return readValue(p, lines, offset, "");
    }

    private static JsonNode readValue(JsonParser p, Map<String, Integer> lines, int offset, String pointer)
            throws IOException {
        var nf = JsonNodeFactory.instance;
        lines.putIfAbsent(pointer, offset + p.currentTokenLocation().getLineNr());
        if (p instanceof YAMLParser y && y.isCurrentAlias()) {
            throw new IOException(
                    "YAML aliases (*" + p.getText() + ") are not supported; expand anchors before auditing (line "
                            + (offset + p.currentTokenLocation().getLineNr()) + ")");
        }
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT -> {
                ObjectNode o = nf.objectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    if ("<<".equals(name)) {
                        throw new IOException(
                                "YAML merge keys (<<) are not supported; expand them before auditing (line "
                                        + (offset + p.currentTokenLocation().getLineNr()) + ")");
                    }
                    String child = pointer + "/" + name.replace("~", "~0").replace("/", "~1");
                    lines.put(child, offset + p.currentTokenLocation().getLineNr());
                    p.nextToken();
                    o.set(name, readValue(p, lines, offset, child));
                }
                return o;
            }
            case START_ARRAY -> {
                var a = nf.arrayNode();
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    a.add(readValue(p, lines, offset, pointer + "/" + i++));
                }
                return a;
            }
            case VALUE_STRING -> {
                return nf.textNode(p.getText());
            }
            case VALUE_NUMBER_INT -> {
                // Keep the narrowest type, as a plain JSON parse would: IntOrString fields only accept ints.
                return switch (p.getNumberType()) {
                    case INT -> nf.numberNode(p.getIntValue());
                    case LONG -> nf.numberNode(p.getLongValue());
                    default -> nf.numberNode(p.getBigIntegerValue());
                };
            }
            case VALUE_NUMBER_FLOAT -> {
                return nf.numberNode(p.getDecimalValue());
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return nf.booleanNode(p.getBooleanValue());
            }
            case VALUE_NULL -> {
                return nf.nullNode();
            }
            default -> throw new IOException("unexpected " + t);
        }
    }
}
