package dev.rootguard.cli;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rootguard check}: asks the API server for a server-side dry run of a pod that runs as root and passes
 * only if rootguard refuses it. Nothing is created. The chart's {@code helm test} runs it from rootguard's own
 * image, so the test needs no other image and no shell, and proves the whole path: the webhook configuration, the
 * Service, TLS and the decision.
 */
@Command(
        name = "check",
        mixinStandardHelpOptions = true,
        description = "Passes (exit 0) if the API server refuses a dry run of a root pod with rootguard's"
                + " run-as-root rule; exit 1 if it admits it or something else refuses it, 2 if the cluster"
                + " cannot be reached.")
final class CheckCommand implements Callable<Integer> {
    /** What a rootguard denial of the probe contains: the rule's ID in the message. */
    static final String MARK = "[run-as-root]";

    private final CommandFactory io;

    @Option(
            names = {"-n", "--namespace"},
            paramLabel = "NS",
            defaultValue = "default",
            description = "Namespace of the dry run (default: ${DEFAULT-VALUE}).")
    String namespace;

    @Option(
            names = "--kubeconfig",
            paramLabel = "FILE",
            description = "Kubeconfig file (default: in-cluster configuration, $KUBECONFIG or ~/.kube/config).")
    Path kubeconfig;

    @Option(names = "--context", paramLabel = "NAME", description = "Kubeconfig context.")
    String context;

    CheckCommand(CommandFactory io) {
        this.io = io;
    }

    /** The probe: one container that runs as UID 0, nothing else. */
    static Pod rootPod(String namespace) {
        return new PodBuilder()
                .withNewMetadata()
                .withName("rootguard-check")
                .withNamespace(namespace)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("rootguard-check")
                .withImage("busybox")
                .withNewSecurityContext()
                .withRunAsUser(0L)
                .endSecurityContext()
                .endContainer()
                .endSpec()
                .build();
    }

    @Override
    public Integer call() throws Exception {
        Config config = kubeconfig != null
                ? Config.fromKubeconfig(context, Files.readString(kubeconfig), kubeconfig.toString())
                : Config.autoConfigure(context);
        try (KubernetesClient client =
                new KubernetesClientBuilder().withConfig(config).build()) {
            try {
                client.pods()
                        .inNamespace(namespace)
                        .resource(rootPod(namespace))
                        .dryRun()
                        .create();
            } catch (KubernetesClientException e) {
                String message = e.getStatus() != null && e.getStatus().getMessage() != null
                        ? e.getStatus().getMessage()
                        : String.valueOf(e.getMessage());
                if (e.getCode() <= 0) {
                    // No HTTP answer at all: the client's own error, with the I/O failure as its cause.
                    Throwable cause = e;
                    while (cause.getCause() != null) {
                        cause = cause.getCause();
                    }
                    io.err()
                            .println("rootguard check: cannot reach the API server at " + config.getMasterUrl() + ": "
                                    + cause);
                    return ExitCode.ERROR;
                }
                if (message.contains(MARK)) {
                    io.out()
                            .println("rootguard check: passed: a dry run of a root pod in namespace " + namespace
                                    + " was refused:");
                    io.out().println(message);
                    return ExitCode.OK;
                }
                io.out()
                        .println("rootguard check: failed: the dry run was refused, but not by rootguard's run-as-root"
                                + " rule (HTTP " + e.getCode() + "): " + message);
                return ExitCode.VIOLATIONS;
            }
            io.out()
                    .println("rootguard check: failed: the API server admitted a dry run of a pod that runs as root in"
                            + " namespace " + namespace
                            + "; is rootguard's validating webhook registered for it (and the"
                            + " namespace not exempt)?");
            return ExitCode.VIOLATIONS;
        }
    }
}
