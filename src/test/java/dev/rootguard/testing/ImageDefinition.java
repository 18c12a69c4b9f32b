package dev.rootguard.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

/**
 * The container image as pom.xml defines it: the jib-maven-plugin's {@code <container>}, read with the
 * JDK's XML parser. The one place the tests take the image's entrypoint, environment and user from, so
 * that none of them repeats what the image runs with.
 */
public final class ImageDefinition {
    public static final Path POM = Path.of("pom.xml");

    private final Element project;
    private final Element container;

    private ImageDefinition(Element project, Element container) {
        this.project = project;
        this.container = container;
    }

    /** pom.xml's image definition; fails when there is no jib-maven-plugin with a container. */
    public static ImageDefinition read() {
        return read(POM);
    }

    static ImageDefinition read(Path pom) {
        Document doc;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            doc = f.newDocumentBuilder().parse(pom.toFile());
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw new IllegalStateException("cannot read " + pom, e);
        }
        Element project = doc.getDocumentElement();
        Element build = child(project, "build");
        Element plugins = build == null ? null : child(build, "plugins");
        if (plugins != null) {
            for (Element plugin : children(plugins, "plugin")) {
                if ("jib-maven-plugin".equals(text(child(plugin, "artifactId")))) {
                    Element configuration = child(plugin, "configuration");
                    Element container = configuration == null ? null : child(configuration, "container");
                    if (container != null) {
                        return new ImageDefinition(project, container);
                    }
                }
            }
        }
        throw new IllegalStateException(pom + " has no jib-maven-plugin with a <configuration><container>");
    }

    /** The project's version, which the image is tagged and labelled with. */
    public String projectVersion() {
        return text(child(project, "version"));
    }

    /** The exec-form entrypoint, one element per argument. */
    public List<String> entrypoint() {
        return values("entrypoint", "arg");
    }

    /** The environment the image sets (on top of its base's). */
    public Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        Element e = required("environment");
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element var) {
                env.put(var.getTagName(), text(var));
            }
        }
        return env;
    }

    public String user() {
        return text(required("user"));
    }

    public String workingDirectory() {
        return text(required("workingDirectory"));
    }

    public List<String> ports() {
        return values("ports", "port");
    }

    private List<String> values(String list, String item) {
        List<String> out = new ArrayList<>();
        for (Element e : children(required(list), item)) {
            out.add(text(e));
        }
        return out;
    }

    private Element required(String name) {
        Element e = child(container, name);
        if (e == null) {
            throw new IllegalStateException("the image definition in " + POM + " has no <" + name + ">");
        }
        return e;
    }

    private static Element child(Element parent, String name) {
        List<Element> all = children(parent, name);
        return all.isEmpty() ? null : all.get(0);
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                out.add(e);
            }
        }
        return out;
    }

    private static String text(Element e) {
        return e == null ? null : e.getTextContent().trim();
    }
}
