package dev.rootguard.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rootguard.admission.AdmissionDecoder;
import dev.rootguard.admission.AdmissionHandler;
import dev.rootguard.config.RootguardConfig;
import dev.rootguard.json.Json;
import dev.rootguard.policy.WorkloadKind;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.GroupVersionKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.zjsonpatch.JsonPatch;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Rehearses the decision path in the background after start-up ({@code rootguard.admission.warm-up-requests}).
 * A cluster that creates a few pods a minute would otherwise run the decoder and the rules in the
 * interpreter for hours, several hundred microseconds per call instead of tens; a rehearsal of a few
 * thousand calls lets the JIT compile them within seconds of start. Rehearsals use built-in objects
 * in no namespace and record no metric or log line; they run at the lowest thread priority and stop
 * at shutdown.
 */
@ApplicationScoped
public class WarmUp {
    private static final Logger LOG = Logger.getLogger(WarmUp.class);
    private final AdmissionHandler handler;
    private final int requests;
    private volatile Thread thread;
    private volatile int rehearsed;

    public WarmUp(AdmissionHandler handler, RootguardConfig config) {
        this.handler = handler;
        this.requests = config.admission().warmUpRequests();
    }

    void start(@Observes StartupEvent event) {
        if (requests <= 0) {
            return;
        }
        Thread t = new Thread(this::run, "rootguard-warm-up");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        thread = t;
        t.start();
    }

    void stop(@Observes ShutdownEvent event) {
        Thread t = thread;
        if (t != null) {
            t.interrupt();
        }
    }

    private void run() {
        long start = System.nanoTime();
        int done = 0;
        try {
            List<byte[]> mutate = new ArrayList<>();
            List<byte[]> validate = new ArrayList<>();
            for (HasMetadata object : samples()) {
                mutate.add(review("CREATE", object));
                validate.add(review("CREATE", compliant(object)));
            }
            while (done < requests && !Thread.currentThread().isInterrupted()) {
                int i = done % mutate.size();
                handler.rehearse(mutate.get(i), true);
                handler.rehearse(validate.get(i), false);
                done += 2;
                rehearsed = done;
            }
            LOG.debugf("warm-up: %d rehearsed decisions in %d ms", done, (System.nanoTime() - start) / 1_000_000);
        } catch (RuntimeException e) {
            // A rehearsal never decides a real request; a failure here only means a colder start.
            LOG.debugf(e, "warm-up stopped after %d rehearsed decisions", done);
        }
    }

    /** Rehearsed decisions so far. */
    int rehearsed() {
        return rehearsed;
    }

    /** True while the rehearsals run. */
    boolean running() {
        Thread t = thread;
        return t != null && t.isAlive();
    }

    /** A pod spec with a few containers, without the fields the mutation fills, in every workload kind's shape. */
    static List<HasMetadata> samples() {
        List<Container> containers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            containers.add(new ContainerBuilder()
                    .withName("c" + i)
                    .withImage("registry.example/app:" + i)
                    .addNewPort()
                    .withContainerPort(8080 + i)
                    .endPort()
                    .addNewEnv()
                    .withName("MODE")
                    .withValue("production")
                    .endEnv()
                    .withNewResources()
                    .addToRequests("cpu", new Quantity("100m"))
                    .addToLimits("memory", new Quantity("256Mi"))
                    .endResources()
                    .build());
        }
        JsonNode spec = Json.MAPPER.valueToTree(
                new PodSpecBuilder().withContainers(containers).build());
        List<HasMetadata> out = new ArrayList<>();
        for (WorkloadKind kind : WorkloadKind.values()) {
            ObjectNode object = Json.MAPPER
                    .createObjectNode()
                    .put("apiVersion", kind.apiVersion())
                    .put("kind", kind.kind());
            object.putObject("metadata").put("name", "warm-up");
            // The pod template sits at the kind's template path; a pod is its own template.
            ObjectNode template = object;
            if (!kind.templatePath().isEmpty()) {
                for (String step : kind.templatePath().split("\\.")) {
                    template = template.putObject(step);
                }
                template.putObject("metadata");
            }
            ((ObjectNode) template.path("metadata")).putObject("labels").put("app", "warm-up");
            template.set("spec", spec.deepCopy());
            try {
                out.add(Json.MAPPER.treeToValue(object, kind.modelClass()));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    /** The object as the mutation would leave it, so that validation allows it. */
    private HasMetadata compliant(HasMetadata object) {
        byte[] response = handler.rehearse(review("CREATE", object), true);
        try {
            AdmissionReview r = Json.MAPPER.readValue(response, AdmissionReview.class);
            String patch = r.getResponse().getPatch();
            if (patch == null) {
                return object;
            }
            JsonNode patched = JsonPatch.apply(
                    Json.MAPPER.readTree(Base64.getDecoder().decode(patch)), Json.MAPPER.valueToTree(object));
            return Json.MAPPER.treeToValue(patched, object.getClass());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] review(String operation, HasMetadata object) {
        AdmissionRequest request = new AdmissionRequest();
        request.setUid("00000000-0000-0000-0000-000000000000");
        GroupVersionKind gvk = new GroupVersionKind();
        gvk.setGroup(WorkloadKind.groupOf(object.getApiVersion()));
        gvk.setVersion(WorkloadKind.versionOf(object.getApiVersion()));
        gvk.setKind(object.getKind());
        request.setKind(gvk);
        request.setOperation(operation);
        request.setObject(object);
        AdmissionReview review = new AdmissionReview();
        review.setApiVersion(AdmissionDecoder.API_VERSION);
        review.setKind("AdmissionReview");
        review.setRequest(request);
        try {
            return Json.MAPPER.writeValueAsBytes(review);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
