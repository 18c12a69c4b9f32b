package dev.rootguard.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Writes the tables of {@code docs/configuration.md} from the typed configuration: every key of
 * {@link RootguardConfig} with its type, its default ({@link WithDefault}) and its description (the
 * method's Javadoc in {@code RootguardConfig.java}). One table per group, keys in name order.
 */
final class ConfigReference {
    static final Path SOURCE = Path.of("src/main/java/dev/rootguard/config/RootguardConfig.java");
    static final Path DOC = Path.of("docs/configuration.md");
    static final String BEGIN =
            "<!-- generated from RootguardConfig by ConfigReferenceTest; edit the Javadoc there, not these tables -->";
    static final String END = "<!-- end of generated tables -->";

    private static final Pattern INTERFACE = Pattern.compile("\\binterface\\s+(\\w+)[^{]*\\{");
    private static final Pattern METHOD = Pattern.compile(
            "/\\*\\*((?:(?!\\*/).)*)\\*/\\s*((?:@\\w+(?:\\([^)]*\\))?\\s*)*)[\\w.<>?, ]+?\\s+(\\w+)\\(\\);",
            Pattern.DOTALL);

    /** One key. */
    record Key(String name, String type, String defaultValue, String description) {}

    /** One group: a table. */
    record Group(String prefix, String description, List<Key> keys) {}

    private final Map<String, String> javadoc;

    private ConfigReference(String source) {
        this.javadoc = javadoc(source);
    }

    static ConfigReference read() throws IOException {
        return new ConfigReference(Files.readString(SOURCE));
    }

    /** The groups in the order of their prefixes, each with its keys in name order. */
    List<Group> groups() {
        Map<String, Group> groups = new HashMap<>();
        String prefix = RootguardConfig.class.getAnnotation(ConfigMapping.class).prefix();
        walk(RootguardConfig.class, prefix, "Top-level keys.", groups);
        List<Group> out = new ArrayList<>(groups.values());
        out.removeIf(g -> g.keys().isEmpty());
        out.forEach(g -> g.keys().sort(Comparator.comparing(Key::name)));
        out.sort(Comparator.comparing(Group::prefix));
        return out;
    }

    /** The generated Markdown, between {@link #BEGIN} and {@link #END}. */
    String markdown() {
        StringBuilder md = new StringBuilder(BEGIN).append('\n');
        for (Group g : groups()) {
            md.append("\n## `").append(g.prefix()).append("`\n\n");
            md.append(g.description()).append("\n\n");
            md.append("| key | type | default | description |\n|---|---|---|---|\n");
            for (Key k : g.keys()) {
                md.append("| `")
                        .append(k.name())
                        .append("` | ")
                        .append(k.type())
                        .append(" | ")
                        .append(k.defaultValue().isEmpty() ? "unset" : "`" + k.defaultValue() + "`")
                        .append(" | ")
                        .append(k.description().replace("|", "\\|"))
                        .append(" |\n");
            }
        }
        return md.append('\n').append(END).toString();
    }

    /** The document with its generated part replaced. */
    static String replaceGenerated(String doc, String generated) {
        int begin = doc.indexOf(BEGIN);
        int end = doc.indexOf(END);
        if (begin < 0 || end < begin) {
            throw new IllegalStateException(DOC + " lacks the markers " + BEGIN + " and " + END);
        }
        return doc.substring(0, begin) + generated + doc.substring(end + END.length());
    }

    private void walk(Class<?> type, String prefix, String description, Map<String, Group> groups) {
        Group group = groups.computeIfAbsent(prefix, p -> new Group(p, description, new ArrayList<>()));
        for (Method m : type.getMethods()) {
            if (m.isDefault() || m.getParameterCount() > 0 || Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            WithName named = m.getAnnotation(WithName.class);
            String key = prefix + "." + (named != null ? named.value() : kebab(m.getName()));
            String doc = javadoc.getOrDefault(m.getDeclaringClass().getSimpleName() + "." + m.getName(), "");
            Class<?> raw = m.getReturnType();
            if (raw.isInterface() && raw.getEnclosingClass() == RootguardConfig.class) {
                walk(raw, key, doc, groups);
                continue;
            }
            WithDefault def = m.getAnnotation(WithDefault.class);
            group.keys().add(new Key(key, typeWord(m.getGenericReturnType()), def == null ? "" : def.value(), doc));
        }
    }

    private static String typeWord(Type type) {
        if (type instanceof ParameterizedType p && p.getRawType() == Optional.class) {
            return typeWord(p.getActualTypeArguments()[0]);
        }
        if (type instanceof ParameterizedType p && p.getRawType() == List.class) {
            return "list";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "switch";
        }
        if (type == int.class || type == long.class || type == Integer.class || type == Long.class) {
            return "integer";
        }
        if (type == Duration.class) {
            return "duration";
        }
        if (type instanceof Class<?> c && c.isEnum()) {
            return Arrays.stream(c.getEnumConstants())
                    .map(e -> ((Enum<?>) e).name().toLowerCase(Locale.ROOT))
                    .collect(Collectors.joining(", "));
        }
        return "string";
    }

    private static String kebab(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /** Javadoc per {@code Interface.method}, as one line of Markdown. */
    private static Map<String, String> javadoc(String source) {
        List<int[]> blocks = new ArrayList<>();
        List<String> names = new ArrayList<>();
        Matcher i = INTERFACE.matcher(source);
        while (i.find()) {
            int depth = 0;
            int end = i.end() - 1;
            for (int p = i.end() - 1; p < source.length(); p++) {
                char ch = source.charAt(p);
                depth += ch == '{' ? 1 : ch == '}' ? -1 : 0;
                if (depth == 0) {
                    end = p;
                    break;
                }
            }
            blocks.add(new int[] {i.end(), end});
            names.add(i.group(1));
        }
        Map<String, String> out = new HashMap<>();
        Matcher m = METHOD.matcher(source);
        while (m.find()) {
            String owner = null;
            int size = Integer.MAX_VALUE;
            for (int b = 0; b < blocks.size(); b++) {
                int[] block = blocks.get(b);
                if (block[0] <= m.start() && m.end() <= block[1] && block[1] - block[0] < size) {
                    owner = names.get(b);
                    size = block[1] - block[0];
                }
            }
            if (owner != null) {
                out.put(owner + "." + m.group(3), markdown(m.group(1)));
            }
        }
        return out;
    }

    private static String markdown(String javadoc) {
        String text =
                javadoc.replaceAll("(?m)^\\s*\\*", " ").replaceAll("\\s+", " ").trim();
        text = text.replaceAll("\\{@code ([^}]*)}", "`$1`");
        text = text.replaceAll("\\{@link #(\\w+)\\(\\)}", "`$1`");
        text = text.replaceAll("\\{@link ([^}]*)}", "`$1`");
        return text;
    }
}
