package dev.rootguard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The benchmark harness in its smoke form: every target (rootguard /validate and /mutate, nginx,
 * OPA, the API server with and without webhooks, image lookups, the audit) starts, answers correctly, and the
 * report is written. It asserts correctness only, never speed.
 */
class BenchSmokeIT {

    @Test
    void everyTargetAnswersCorrectlyAndTheReportIsWritten() throws Exception {
        Path out = Path.of("target", "bench-smoke").toAbsolutePath();
        Tools.Result r = Tools.run(List.of("bash", "bench/run.sh", "--smoke", "--out", out.toString()), null);
        assertEquals(0, r.exitCode(), r.stderr());
        Path report;
        try (Stream<Path> files = Files.list(out)) {
            report = files.filter(p -> p.toString().endsWith("-smoke.md"))
                    .findFirst()
                    .orElseThrow();
        }
        String md = Files.readString(report);
        for (String target : List.of(
                "| rootguard-validate |",
                "| rootguard-mutate |",
                "| nginx-limit |",
                "| opa-peer |",
                "| no-webhooks |",
                "| with-webhooks |",
                "| cold |",
                "| cached |",
                "| fallback-no-answer |",
                "audit throughput:")) {
            assertTrue(md.contains(target), target + " missing from\n" + md);
        }
        assertTrue(Files.size(Path.of(report.toString().replace(".md", ".png"))) > 1000, "chart written");
    }
}
