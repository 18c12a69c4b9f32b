package dev.rootguard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rootguard.admission.AdmissionDecoder;
import dev.rootguard.json.Json;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.NamespacePolicy;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.mutate.Patcher;
import dev.rootguard.policy.rule.RuleRegistry;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Engine micro-benchmarks: evaluation and mutation plus JSON diff per pod, for a small pod and a
 * 20-container pod, and decoding a whole AdmissionReview body. Run with the {@code jmh} profile
 * (see bench/README.md); not part of the test suite.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class EngineBenchmark {
    @Param({"1", "20"})
    public int containers;

    private final Engine engine = new Engine(RuleRegistry.standard());
    private final PolicyConfig policy = PolicyConfig.standard();
    private final Engine.Context ctx = new Engine.Context("team-a", "alice", NamespacePolicy.UNKNOWN);
    private Pod bare;
    private Pod compliant;
    private byte[] review;

    @Setup
    public void setUp() throws Exception {
        List<Container> list = new ArrayList<>();
        for (int i = 0; i < containers; i++) {
            list.add(new ContainerBuilder()
                    .withName("c" + i)
                    .withImage("registry.example/app:" + i)
                    .addNewPort()
                    .withContainerPort(8000 + i)
                    .endPort()
                    .addNewEnv()
                    .withName("MODE")
                    .withValue("production")
                    .endEnv()
                    .build());
        }
        bare = new PodBuilder()
                .withNewMetadata()
                .withName("p")
                .withNamespace("team-a")
                .endMetadata()
                .withNewSpec()
                .withContainers(list)
                .endSpec()
                .build();
        compliant = Json.MAPPER.treeToValue(Json.MAPPER.valueToTree(bare), Pod.class);
        engine.mutate(compliant, ctx, policy);
        JsonNode object = Json.MAPPER.valueToTree(compliant);
        String body = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\","
                + "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"namespace\":\"team-a\","
                + "\"userInfo\":{\"username\":\"alice\"},\"object\":" + object + "}}";
        review = body.getBytes(StandardCharsets.UTF_8);
    }

    /** Rule evaluation of an already-parsed pod. */
    @Benchmark
    public Object evaluate() {
        return engine.review(compliant, ctx, policy);
    }

    /** Copy, default and diff: everything /mutate does after parsing. */
    @Benchmark
    public Object mutateAndDiff() {
        return Patcher.patch(Json.MAPPER, bare, copy -> engine.mutate(copy, ctx, policy));
    }

    /** Parsing an AdmissionReview body into the typed object. */
    @Benchmark
    public Object decode() {
        var call = AdmissionDecoder.decode(review);
        return call.object().bind(Pod.class, "request.object");
    }
}
