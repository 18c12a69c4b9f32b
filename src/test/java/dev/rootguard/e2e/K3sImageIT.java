package dev.rootguard.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rootguard.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.Container;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * Where a Docker engine exists: the image {@code package} built (target/jib-image.tar, the one the node suite
 * runs), imported into k3s's containerd and installed with the chart, then asked about a root pod. Without
 * Docker the class is reported as skipped; {@code NodeSuiteIT} runs the same image on a kubelet here.
 */
@org.testcontainers.junit.jupiter.Testcontainers(disabledWithoutDocker = true)
class K3sImageIT {
    private static final Path IMAGE = Path.of("target", "jib-image.tar").toAbsolutePath();

    @Test
    void theBuiltImageInstalledWithHelmInK3sRefusesARootPod() throws Exception {
        String tag = repoTag(IMAGE);
        try (K3sContainer k3s = new K3sContainer(DockerImageName.parse(K3sIT.IMAGE))) {
            k3s.withCopyFileToContainer(MountableFile.forHostPath(IMAGE), "/tmp/rootguard.tar");
            k3s.start();
            Container.ExecResult imported =
                    k3s.execInContainer("ctr", "-n", "k8s.io", "images", "import", "/tmp/rootguard.tar");
            assertEquals(0, imported.getExitCode(), imported.getStderr());
            Path kubeconfig = Path.of("target", "e2e", "k3s-image-kubeconfig").toAbsolutePath();
            Files.createDirectories(kubeconfig.getParent());
            Files.writeString(kubeconfig, k3s.getKubeConfigYaml());

            Tools.helm(
                            "install",
                            "rootguard",
                            "charts/rootguard",
                            "-n",
                            "rootguard",
                            "--create-namespace",
                            "--set",
                            "image.repository=" + tag.substring(0, tag.lastIndexOf(':')),
                            "--set",
                            "image.tag=" + tag.substring(tag.lastIndexOf(':') + 1),
                            "--set",
                            "image.pullPolicy=Never",
                            "--wait",
                            "--timeout",
                            "5m",
                            "--kubeconfig",
                            kubeconfig.toString())
                    .orFail();
            List<String> cmd = new ArrayList<>(
                    List.of(
                            Tools.kubectl().toString(),
                            "--kubeconfig",
                            kubeconfig.toString(),
                            "run",
                            "root",
                            "--image=busybox",
                            "--restart=Never",
                            "--dry-run=server",
                            "--overrides={\"spec\":{\"containers\":[{\"name\":\"root\",\"image\":\"busybox\",\"securityContext\":{\"runAsUser\":0}}]}}"));
            Tools.Result refused = Tools.run(cmd, null);
            assertTrue(refused.exitCode() != 0 && refused.stderr().contains("[run-as-root]"), refused.stderr());
        }
    }

    private static String repoTag(Path tar) throws IOException {
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                if (e.getName().equals("manifest.json")) {
                    return new ObjectMapper()
                            .readTree(in.readAllBytes())
                            .get(0)
                            .path("RepoTags")
                            .get(0)
                            .asText();
                }
            }
        }
        throw new IllegalStateException("no manifest.json in " + tar);
    }
}
