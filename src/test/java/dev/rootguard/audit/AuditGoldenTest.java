package dev.rootguard.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.rootguard.cli.Cli;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden-file tests: each directory under {@code testdata/audit/} has an input, the CLI arguments
 * ({@code args}, one per line; {@code $INPUT} and {@code $DIR} are replaced), the expected exit
 * code and the expected JSON report. Run with {@code -Dgolden.update=true} to rewrite the
 * expected files after a deliberate change, then review the diff.
 */
class AuditGoldenTest {
    static final Path ROOT = Path.of("src/test/resources/testdata/audit");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Output, error output and exit code of one CLI run. */
    record Run(int exit, String out, String err) {}

    static Run cli(InputStream stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Cli.run(
                args,
                stdin,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Stream<String> cases() throws IOException {
        try (Stream<Path> dirs = Files.list(ROOT)) {
            return dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList().stream();
        }
    }

    static Path input(Path dir) {
        for (String name : List.of("input.yaml", "input.json", "input")) {
            if (Files.exists(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        throw new IllegalStateException("no input in " + dir);
    }

    static Run runCase(String name, String... extra) throws IOException {
        Path dir = ROOT.resolve(name);
        Path input = input(dir);
        List<String> args = new ArrayList<>(List.of("audit"));
        for (String a : Files.readAllLines(dir.resolve("args"))) {
            if (!a.isBlank()) {
                args.add(a.replace("$INPUT", input.toString()).replace("$DIR", dir.toString()));
            }
        }
        List<String> extras = List.of(extra);
        // Options given again replace the ones in the args file (picocli takes single-valued options once).
        for (String opt : List.of("-o", "--fail-on")) {
            int i = args.indexOf(opt);
            if (extras.contains(opt) && i >= 0) {
                args.remove(i + 1);
                args.remove(i);
            }
        }
        args.addAll(extras);
        InputStream stdin =
                Files.isRegularFile(input) ? Files.newInputStream(input) : new ByteArrayInputStream(new byte[0]);
        return cli(stdin, args.toArray(String[]::new));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void reportAndExitCodeMatchTheGoldenFiles(String name) throws Exception {
        Path dir = ROOT.resolve(name);
        Run run = runCase(name);
        JsonNode actual = JSON.readTree(run.out());
        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(dir.resolve("expected.json"), JSON.writeValueAsString(actual) + "\n");
            Files.writeString(dir.resolve("exit"), run.exit() + "\n");
        }
        assertEquals(JSON.readTree(Files.readString(dir.resolve("expected.json"))), actual, run.err());
        assertEquals(Integer.parseInt(Files.readString(dir.resolve("exit")).trim()), run.exit(), run.err());
    }
}
