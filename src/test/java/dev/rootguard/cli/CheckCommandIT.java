package dev.rootguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rootguard.testing.ControlPlane;
import dev.rootguard.testing.WebhookProcess;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code rootguard check} (what {@code helm test} runs) against a real kube-apiserver: it passes only when the
 * API server refuses the dry run with rootguard's run-as-root rule, fails when the root pod is admitted, and
 * reports an unreachable cluster as such. The pod is never created.
 */
@ExtendWith(ControlPlane.class)
class CheckCommandIT {
    record Run(int code, String out, String err) {}

    private static Run check(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] all = new String[args.length + 1];
        all[0] = "check";
        System.arraycopy(args, 0, all, 1, args.length);
        int code = Cli.run(
                all,
                new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void withoutRootguardRegisteredTheRootPodIsAdmittedAndTheCheckFails() {
        Path kubeconfig = ControlPlane.get().kubeconfigFile();
        Run r = check("--namespace", "default", "--kubeconfig", kubeconfig.toString());
        assertEquals(ExitCode.VIOLATIONS, r.code(), r.toString());
        assertTrue(r.out().contains("admitted a dry run of a pod that runs as root"), r.out());
        try (KubernetesClient client = ControlPlane.get().client()) {
            assertEquals(
                    null,
                    client.pods()
                            .inNamespace("default")
                            .withName("rootguard-check")
                            .get(),
                    "a dry run");
        }
    }

    @Test
    void withRootguardRegisteredTheRefusalPassesTheCheck() throws Exception {
        Path dir = Path.of("target", "e2e", "check").toAbsolutePath();
        Files.createDirectories(dir);
        Process gen = new ProcessBuilder("bash", "certs/generate.sh", "--out", dir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String caBundle = new String(gen.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, gen.waitFor(), "certs/generate.sh");
        try (ControlPlane.Handle apiserver = ControlPlane.startDedicated("check", java.util.Map.of());
                WebhookProcess webhook = new WebhookProcess(
                                dir.resolve("tls.crt"),
                                dir.resolve("tls.key"),
                                dir.resolve("unused-kubeconfig"),
                                java.util.Map.of("rootguard.namespace-labels.enabled", "false"))
                        .start();
                KubernetesClient client = apiserver.client()) {
            client.admissionRegistration()
                    .v1()
                    .validatingWebhookConfigurations()
                    .resource(new ValidatingWebhookConfigurationBuilder()
                            .withNewMetadata()
                            .withName("rootguard-check")
                            .endMetadata()
                            .addNewWebhook()
                            .withName("validate.rootguard.dev")
                            .withAdmissionReviewVersions("v1")
                            .withSideEffects("None")
                            .withFailurePolicy("Fail")
                            .withNewClientConfig()
                            .withUrl("https://127.0.0.1:" + webhook.port() + "/validate")
                            .withCaBundle(caBundle)
                            .endClientConfig()
                            .addNewRule()
                            .withApiGroups("")
                            .withApiVersions("v1")
                            .withOperations("CREATE")
                            .withResources("pods")
                            .endRule()
                            .endWebhook()
                            .build())
                    .create();
            Path kubeconfig = apiserver.kubeconfigFile();
            Run r = null;
            // The API server picks up a new webhook configuration within a second or so.
            for (int i = 0; i < 50; i++) {
                r = check("--namespace", "default", "--kubeconfig", kubeconfig.toString());
                if (r.code() == ExitCode.OK) {
                    break;
                }
                Thread.sleep(200);
            }
            assertEquals(ExitCode.OK, r.code(), r.toString());
            assertTrue(r.out().contains("rootguard check: passed") && r.out().contains(CheckCommand.MARK), r.out());
        }
    }

    @Test
    void anUnreachableApiServerIsReportedAsSuch() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path kubeconfig = Files.createTempFile("rootguard-check", ".kubeconfig");
        Files.writeString(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: gone
                  cluster: {server: "https://127.0.0.1:%d", insecure-skip-tls-verify: true}
                users:
                - name: u
                  user: {token: x}
                contexts:
                - name: gone
                  context: {cluster: gone, user: u}
                current-context: gone
                """.formatted(port));
        try {
            Run r = check("--kubeconfig", kubeconfig.toString());
            assertEquals(ExitCode.ERROR, r.code(), r.toString());
            assertTrue(r.err().contains("cannot reach the API server"), r.err());
        } finally {
            Files.delete(kubeconfig);
        }
    }
}
