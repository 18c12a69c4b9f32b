package dev.rootguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.cli.Cli;
import dev.rootguard.testing.ImageDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;

/**
 * The two ways the webhook is launched, {@code ./rootguard} and the image (defined by the
 * jib-maven-plugin in {@code pom.xml}, which the chart runs), agree with each other and with the
 * CLI: the same JVM flags for the server (only the heap sizing differs: a share of the container's
 * memory limit in the image, a small initial heap on a workstation), the same malloc arenas, and
 * the launcher starts the server for exactly what the CLI does not handle. bench/ runs the server
 * through {@code ./rootguard}, and StalledBodiesIT reads the image's flags from pom.xml
 * ({@link ImageDefinition}), so neither repeats them.
 */
class LaunchersTest {
    private static final Path LAUNCHER = Path.of("rootguard");
    private static final Path IMAGE = ImageDefinition.POM;
    /** How each launcher sizes the heap; everything else must be the same. */
    private static final Set<String> IMAGE_HEAP = Set.of("-XX:MaxRAMPercentage=75");

    private static final Set<String> LAUNCHER_HEAP = Set.of("-Xms16m");
    /** picocli's mixinStandardHelpOptions on the top-level command. */
    private static final List<String> HELP_OPTIONS = List.of("-h", "--help", "-V", "--version");

    private static String read(Path p) throws IOException {
        return Files.readString(p);
    }

    private static Matcher find(String regex, String text, String what) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), () -> "cannot find " + what);
        return m;
    }

    /** The server's JVM flags in the launcher: its defaults=(...) and defaults+=(...) arrays. */
    private static List<String> launcherFlags() throws IOException {
        List<String> flags = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s*defaults\\+?=\\(([^)]*)\\)").matcher(read(LAUNCHER));
        while (m.find()) {
            flags.addAll(Arrays.asList(m.group(1).trim().split("\\s+")));
        }
        flags.removeIf(String::isEmpty);
        assertTrue(!flags.isEmpty(), "the launcher sets JVM defaults for the server");
        return flags;
    }

    private static Set<String> jvmFlags(List<String> args) {
        return args.stream()
                .filter(a -> a.startsWith("-XX:") || a.startsWith("-Xm") || a.startsWith("-Xs"))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void theLauncherAndTheImageRunTheServerWithTheSameJvmFlags() throws IOException {
        List<String> entrypoint = ImageDefinition.read().entrypoint();
        assertEquals("java", entrypoint.get(0), entrypoint::toString);
        Set<String> image = jvmFlags(entrypoint);
        Set<String> launcher = jvmFlags(launcherFlags());
        assertTrue(image.containsAll(IMAGE_HEAP), () -> "the image sizes the heap with " + IMAGE_HEAP + ": " + image);
        assertTrue(
                launcher.containsAll(LAUNCHER_HEAP),
                () -> "the launcher sizes the heap with " + LAUNCHER_HEAP + ": " + launcher);
        image.removeAll(IMAGE_HEAP);
        launcher.removeAll(LAUNCHER_HEAP);
        assertEquals(image, launcher, "JVM flags of the image (" + IMAGE + ") and of ./rootguard, heap sizing aside");
    }

    @Test
    void theLauncherAndTheImageUseTheSameMallocArenas() throws IOException {
        String image = ImageDefinition.read().environment().get("MALLOC_ARENA_MAX");
        assertTrue(image != null && image.matches("\\d+"), () -> "MALLOC_ARENA_MAX in " + IMAGE + ": " + image);
        String launcher = find(
                        "MALLOC_ARENA_MAX=\"\\$\\{MALLOC_ARENA_MAX:-(\\d+)}\"",
                        read(LAUNCHER),
                        "MALLOC_ARENA_MAX in ./rootguard")
                .group(1);
        assertEquals(image, launcher);
    }

    @Test
    void theLauncherKeepsServerDefaultsAwayFromExactlyTheCliCommands() throws IOException {
        Matcher m = find(
                "case \"\\$\\{1:-serve}\" in\\s*\\n\\s*([^)\\n]+)\\)",
                read(LAUNCHER),
                "the command case in ./rootguard");
        List<String> launcher = Arrays.asList(m.group(1).trim().split("\\|"));
        assertEquals(Cli.COMMANDS, launcher, "./rootguard's short-lived commands and Cli.COMMANDS (Main's dispatch)");
    }

    @Test
    void theCliCommandListNamesEverySubcommandAndTheHelpOptions() {
        List<String> subcommands = Arrays.stream(
                        Cli.class.getAnnotation(Command.class).subcommands())
                .map(c -> c.getAnnotation(Command.class).name())
                .toList();
        List<String> expected = new ArrayList<>(subcommands);
        expected.addAll(HELP_OPTIONS);
        assertEquals(
                new TreeSet<>(expected),
                new TreeSet<>(Cli.COMMANDS),
                "Cli.COMMANDS and picocli's subcommands and help options");
        assertTrue(Cli.class.getAnnotation(Command.class).mixinStandardHelpOptions());
    }
}
