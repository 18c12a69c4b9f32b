package dev.rootguard.admission;

import dev.rootguard.policy.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Builds AdmissionReview responses. Every response goes through {@link #review}, the one place
 * that copies the request's uid.
 */
final class Responses {

    private Responses() {
    }

    static AdmissionResponse allowed() {
        AdmissionResponse r = new AdmissionResponse();
        r.setAllowed(true);
        return r;
    }

    static AdmissionResponse denied(int code, String reason, String message) {
        AdmissionResponse r = new AdmissionResponse();
        r.setAllowed(false);
        Status status = new Status();
        status.setCode(code);
        status.setReason(reason);
        status.setMessage(message);
        status.setStatus("Failure");
        r.setStatus(status);
        return r;
    }

    static AdmissionResponse patched(byte[] jsonPatch) {
        AdmissionResponse r = allowed();
        r.setPatchType("JSONPatch");
        r.setPatch(Base64.getEncoder().encodeToString(jsonPatch));
        return r;
    }

    static AdmissionResponse withWarnings(AdmissionResponse r, List<String> warnings) {
        if (!warnings.isEmpty()) {
            r.setWarnings(List.copyOf(warnings));
        }
        return r;
    }

    static AdmissionResponse withAnnotations(AdmissionResponse r, Map<String, String> annotations) {
        if (!annotations.isEmpty()) {
            r.setAuditAnnotations(Map.copyOf(annotations));
        }
        return r;
    }

    /** Wraps a response in an AdmissionReview carrying the request's uid, as JSON bytes. */
    static byte[] review(String uid, AdmissionResponse response) {
        response.setUid(uid);
        AdmissionReview review = new AdmissionReview();
        review.setApiVersion(AdmissionDecoder.API_VERSION);
        review.setKind("AdmissionReview");
        review.setResponse(response);
        try {
            return Json.MAPPER.writeValueAsBytes(review);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise an AdmissionReview", e);
        }
    }
}
