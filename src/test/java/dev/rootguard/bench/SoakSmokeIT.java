package dev.rootguard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The soak harness in its short form (20 s instead of 10 minutes): paced load at 80% of the
 * measured peak with the certificate replaced half way. Zero failed requests, zero wrong decisions
 * among the sampled answers, and new connections get the new certificate. Speed is not judged.
 */
class SoakSmokeIT {

    @Test
    void pacedLoadWithACertificateRotationHasNoErrorsAndNoWrongDecisions() throws Exception {
        Path out = Path.of("target", "soak-smoke").toAbsolutePath();
        Tools.Result r =
                Tools.run(List.of("bash", "bench/soak.sh", "--duration", "20s", "--out", out.toString()), null);
        assertEquals(0, r.exitCode(), r.stderr());
        Path report;
        try (Stream<Path> files = Files.list(out)) {
            report = files.filter(p -> p.toString().endsWith("-soak.md"))
                    .findFirst()
                    .orElseThrow();
        }
        String md = Files.readString(report);
        assertTrue(md.contains("Result: passed"), md);
        Matcher checked =
                Pattern.compile("decisions checked against the corpus: (\\d+)").matcher(md);
        assertTrue(checked.find() && Integer.parseInt(checked.group(1)) > 0, "some decisions were checked:\n" + md);
        Matcher rotation = Pattern.compile(
                        "serial (\\S+) -> (\\S+); (\\d+) requests on new connections during the rotation, 0 failed")
                .matcher(md);
        assertTrue(
                rotation.find()
                        && !rotation.group(1).equals(rotation.group(2))
                        && Integer.parseInt(rotation.group(3)) > 0,
                "the rotation took effect for new connections:\n" + md);
    }
}
