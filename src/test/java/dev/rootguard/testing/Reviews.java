package dev.rootguard.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.UUID;

/** Recorded AdmissionReviews from {@code src/test/resources/reviews/}, and builders for variants. */
public final class Reviews {

    private Reviews() {}

    /** A recorded review, with a fresh uid so responses can be matched. */
    public static ObjectNode recorded(String name) {
        try (InputStream in = Reviews.class.getResourceAsStream("/reviews/" + name + ".json")) {
            if (in == null) {
                throw new IllegalArgumentException("no recorded review " + name);
            }
            ObjectNode review = (ObjectNode) WebhookClient.JSON.readTree(in);
            ((ObjectNode) review.path("request")).put("uid", UUID.randomUUID().toString());
            return review;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A CREATE review for an object. */
    public static ObjectNode create(
            String group, String version, String kind, String resource, String namespace, JsonNode object) {
        ObjectNode review = WebhookClient.JSON
                .createObjectNode()
                .put("apiVersion", "admission.k8s.io/v1")
                .put("kind", "AdmissionReview");
        ObjectNode req =
                review.putObject("request").put("uid", UUID.randomUUID().toString());
        req.putObject("kind").put("group", group).put("version", version).put("kind", kind);
        req.putObject("resource").put("group", group).put("version", version).put("resource", resource);
        req.put("namespace", namespace).put("operation", "CREATE");
        req.putObject("userInfo").put("username", "alice").putArray("groups").add("system:authenticated");
        req.set("object", object);
        req.putNull("oldObject");
        req.put("dryRun", false);
        return review;
    }

    public static ObjectNode request(ObjectNode review) {
        return (ObjectNode) review.path("request");
    }
}
