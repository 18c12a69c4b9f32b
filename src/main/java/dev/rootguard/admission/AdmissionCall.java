package dev.rootguard.admission;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The fields of an {@code admission.k8s.io/v1} AdmissionRequest that the webhook uses, read
 * from the body and checked by {@link AdmissionDecoder}.
 *
 * @param uid         request UID, copied into the response
 * @param group       API group of the object ({@code ""} for core)
 * @param kind        kind of the object
 * @param subResource subresource, {@code ""} when none
 * @param operation   CREATE, UPDATE, DELETE or CONNECT
 * @param namespace   namespace of the object, possibly empty
 * @param name        name of the object, possibly empty on create
 * @param user        requesting user name, possibly null
 * @param dryRun      whether the request is a dry run
 * @param object      the object as read from the body, or null
 * @param oldObject   the previous object on UPDATE as read, or null
 */
public record AdmissionCall(String uid, String group, String kind, String subResource, String operation, String namespace,
        String name, String user, boolean dryRun, RequestObject object, RequestObject oldObject) {

    /** Name for logs: the name, else the generateName prefix with an asterisk. */
    public String displayName() {
        if (name != null && !name.isEmpty()) {
            return name;
        }
        if (object != null) {
            JsonNode metadata = object.tree().path("metadata");
            JsonNode n = metadata.path("name");
            if (n.isTextual() && !n.asText().isEmpty()) {
                return n.asText();
            }
            JsonNode gn = metadata.path("generateName");
            if (gn.isTextual()) {
                return gn.asText() + "*";
            }
        }
        return "";
    }

    /** Name for logs and messages, from the bound object: no second read of the body. */
    public String displayName(io.fabric8.kubernetes.api.model.HasMetadata typed) {
        if (name != null && !name.isEmpty()) {
            return name;
        }
        var metadata = typed == null ? null : typed.getMetadata();
        if (metadata == null) {
            return "";
        }
        if (metadata.getName() != null && !metadata.getName().isEmpty()) {
            return metadata.getName();
        }
        return metadata.getGenerateName() == null ? "" : metadata.getGenerateName() + "*";
    }
}
