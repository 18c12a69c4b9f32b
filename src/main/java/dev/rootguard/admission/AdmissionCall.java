package dev.rootguard.admission;

import dev.rootguard.policy.WorkloadKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;

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
 * @param workload    the kind rootguard checks this request as, decided by the decoder; null when the
 *                    request is let through unread (a kind or subresource without a pod spec we check)
 * @param object      the object as read from the body, or null
 * @param oldObject   the previous object on UPDATE as read, or null
 */
public record AdmissionCall(
        String uid,
        String group,
        String kind,
        String subResource,
        String operation,
        String namespace,
        String name,
        String user,
        boolean dryRun,
        WorkloadKind workload,
        RequestObject object,
        RequestObject oldObject) {

    /** True when the request is checked: a handled kind and subresource, with an object to check. */
    public boolean checked() {
        return workload != null && object != null;
    }

    /** {@code request.object} as the workload's model class; only for a {@link #checked} request. */
    public HasMetadata typedObject() {
        return object.bind(workload.modelClass(), "request.object");
    }

    /** {@code request.oldObject} as the workload's model class, or null when there is none; only for a {@link #checked} request. */
    public HasMetadata typedOldObject() {
        return oldObject == null ? null : oldObject.bind(workload.modelClass(), "request.oldObject");
    }

    /** Name for logs when no object was bound: the name, else the generateName prefix with an asterisk. */
    public String displayName() {
        if (name != null && !name.isEmpty()) {
            return name;
        }
        return object == null ? "" : object.displayName();
    }

    /** Name for logs and messages, from the bound object: no second read of the body. */
    public String displayName(HasMetadata typed) {
        if (name != null && !name.isEmpty()) {
            return name;
        }
        ObjectMeta metadata = typed == null ? null : typed.getMetadata();
        if (metadata == null) {
            return "";
        }
        if (metadata.getName() != null && !metadata.getName().isEmpty()) {
            return metadata.getName();
        }
        return metadata.getGenerateName() == null ? "" : metadata.getGenerateName() + "*";
    }
}
