package dev.rootguard.json;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DatabindException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.dataformat.yaml.JacksonYAMLParseException;
import java.io.CharConversionException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * The one description of a JSON or YAML read or binding error, for the webhook's answers and the audit
 * CLI's reasons alike. It names positions, field paths and JSON types only: never a value from the input
 * (env values can be secrets, and the text is returned and logged), never a Java type or parser setting,
 * never the input's bytes. It is built from the kind of error, not from the parser's message, so no new
 * parser message can bring a value back.
 */
public final class JsonErrors {
    /** Field names are input too: a path is cut to this many characters. */
    private static final int MAX_PATH = 200;

    private JsonErrors() {}

    /**
     * Describes an error reading or binding JSON or YAML.
     *
     * @param position whether to add {@code (line L, column C)} when the error has a position in the input
     *                 (binding errors never do: their caller names the field path)
     */
    public static String describe(Throwable error, boolean position) {
        Throwable e = innermost(error);
        String text = text(e);
        if (position && e instanceof JacksonException je && !(e instanceof DatabindException)) {
            JsonLocation at = je.getLocation();
            if (at != null && at.getLineNr() > 0) {
                text += " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
            }
        }
        return text;
    }

    /** Binding wraps the parser's own error (a number out of range, say) in one that only adds the path: describe the cause. */
    private static Throwable innermost(Throwable e) {
        Throwable t = e;
        while (!(t instanceof MismatchedInputException)
                && (t.getCause() instanceof JacksonException || t.getCause() instanceof CharConversionException)) {
            t = t.getCause();
        }
        return t;
    }

    private static String text(Throwable e) {
        if (e instanceof MismatchedInputException mi) {
            String original = mi.getOriginalMessage();
            if (original != null && original.startsWith("Trailing token")) {
                return "content after the end of the value";
            }
            return "expected " + expected(mi.getTargetType()) + found(mi.getProcessor());
        }
        if (e instanceof InputCoercionException ic) {
            return "expected " + range(ic.getTargetType()) + ", got a number out of that range";
        }
        if (e instanceof StreamConstraintsException sc) {
            return limit(sc.getOriginalMessage());
        }
        if (e instanceof JsonEOFException) {
            return "unexpected end of input";
        }
        if (e instanceof CharConversionException) {
            return "the text is not valid UTF-8, UTF-16 or UTF-32";
        }
        if (e instanceof JacksonException je) {
            String original = je.getOriginalMessage() == null ? "" : je.getOriginalMessage();
            if (original.startsWith("Duplicate field")) {
                return "Duplicate field " + duplicatePath(je.getProcessor());
            }
            if (e instanceof DatabindException) {
                return "the value cannot be read" + found(je.getProcessor());
            }
            if (e instanceof JacksonYAMLParseException) {
                return yaml(original);
            }
            return syntax(original);
        }
        return "the value cannot be read";
    }

    /** A syntax error by what is wrong, in fixed words. */
    private static String syntax(String original) {
        String m = original.toLowerCase(Locale.ROOT);
        if (m.startsWith("invalid utf-")
                || m.contains("invalid utf-8")
                || m.contains("invalid utf-16")
                || m.contains("invalid utf-32")) {
            return "the text is not valid UTF-8, UTF-16 or UTF-32";
        }
        if (m.startsWith("unexpected end-of-input")) {
            return "unexpected end of input";
        }
        if (m.startsWith("illegal unquoted character")) {
            return "a control character in a string must be escaped";
        }
        if (m.startsWith("unrecognized character escape")) {
            return "invalid escape sequence in a string";
        }
        if (m.startsWith("unexpected close marker")) {
            return "unbalanced brackets";
        }
        if (m.startsWith("non-standard token")) {
            return "NaN and Infinity are not JSON numbers";
        }
        if (m.startsWith("leading zeroes")
                || m.startsWith("invalid numeric value")
                || m.contains("in a number")
                || m.startsWith("unexpected character") && m.contains("expected digit")) {
            return "malformed number";
        }
        if (m.startsWith("unrecognized token")) {
            return "unrecognized token";
        }
        if (m.startsWith("unexpected character") || m.startsWith("invalid white space")) {
            return "unexpected character";
        }
        return "malformed input";
    }

    /**
     * snakeyaml's grammar words ("while parsing a block mapping: expected &lt;block end&gt;, but found
     * '&lt;block mapping start&gt;'"), with anything quoted from the input replaced: token names in angle
     * brackets are kept.
     */
    private static String yaml(String original) {
        List<String> kept = new ArrayList<>();
        original.lines().findFirst().ifPresent(kept::add);
        original.lines()
                .skip(1)
                .filter(l -> l.startsWith("expected ") || l.startsWith("found "))
                .findFirst()
                .ifPresent(kept::add);
        String s = String.join(": ", kept)
                .replaceAll("'(?!<[a-z ]+>')[^']*'", "'…'")
                .replaceAll("\"[^\"]*\"", "\"…\"");
        s = s.replaceAll(" in '[^']*', line \\d+, column \\d+:?", "").replaceAll("\\(code \\d+\\)", "");
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private static String limit(String original) {
        String m = original == null ? "" : original.toLowerCase(Locale.ROOT);
        if (m.contains("nesting depth")) {
            return "nested deeper than the reader allows";
        }
        if (m.startsWith("string value length")) {
            return "a string is longer than the reader allows";
        }
        if (m.startsWith("number value length")) {
            return "a number has more digits than the reader allows";
        }
        if (m.startsWith("name length")) {
            return "a field name is longer than the reader allows";
        }
        return "the input exceeds a reader limit";
    }

    /** The path of the object holding the duplicated key, and the key: {@code request.object.spec.hostPID}. */
    private static String duplicatePath(Object processor) {
        if (!(processor instanceof JsonParser p) || p.getParsingContext() == null) {
            return "";
        }
        List<String> steps = new ArrayList<>();
        for (JsonStreamContext c = p.getParsingContext(); c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                steps.add(0, "[" + Math.max(c.getCurrentIndex(), 0) + "]");
            } else if (c.getCurrentName() != null) {
                steps.add(0, "." + c.getCurrentName());
            }
        }
        String path = String.join("", steps);
        path = path.startsWith(".") ? path.substring(1) : path;
        StringBuilder sb = new StringBuilder();
        path.codePoints().limit(MAX_PATH).forEach(ch -> sb.appendCodePoint(Character.isISOControl(ch) ? '?' : ch));
        return path.codePointCount(0, path.length()) > MAX_PATH ? sb + "..." : sb.toString();
    }

    private static String expected(Class<?> type) {
        if (type == null) {
            return "another type";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == Long.class
                || type == Integer.class
                || type == Short.class
                || type == long.class
                || type == int.class
                || type == short.class
                || type == BigInteger.class) {
            return "an integer";
        }
        if (Number.class.isAssignableFrom(type) || type == double.class || type == float.class) {
            return "a number";
        }
        if (CharSequence.class.isAssignableFrom(type)) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "a list";
        }
        if (type.isEnum()) {
            return "one of the allowed values";
        }
        return "an object";
    }

    private static String range(Class<?> type) {
        if (type == Integer.class || type == int.class) {
            return "an integer from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE;
        }
        if (type == Long.class || type == long.class) {
            return "an integer from " + Long.MIN_VALUE + " to " + Long.MAX_VALUE;
        }
        if (type == Short.class || type == short.class) {
            return "an integer from " + Short.MIN_VALUE + " to " + Short.MAX_VALUE;
        }
        return "a smaller number";
    }

    /** The JSON type of the value the reader stood on, when it still knows. */
    private static String found(Object processor) {
        JsonToken t = processor instanceof JsonParser p ? p.currentToken() : null;
        if (t == null) {
            return "";
        }
        return switch (t) {
            case VALUE_STRING -> ", got a string";
            case VALUE_NUMBER_INT -> ", got an integer";
            case VALUE_NUMBER_FLOAT -> ", got a number with a fraction or exponent";
            case VALUE_TRUE, VALUE_FALSE -> ", got " + t.asString();
            case VALUE_NULL -> ", got null";
            case START_ARRAY -> ", got a list";
            case START_OBJECT, FIELD_NAME -> ", got an object";
            default -> "";
        };
    }
}
