package dev.rootguard.admission;

import dev.rootguard.policy.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Builds AdmissionReview responses. Every response goes through {@link #review}, the one place
 * that copies the request's uid.
 */
final class Responses {

    /** Warnings listed in full before the last one says how many more there were (see {@link #withWarnings}). */
    static final int MAX_WARNINGS = 15;
    /** The API server's cut for each warning once a request's warnings exceed 4,096 characters. */
    static final int MAX_WARNING_LENGTH = 256;
    /** Violations listed in a denial message and in the {@code violations} audit annotation. */
    static final int MAX_LISTED = 20;
    /** Longest violation line in a denial message, and longest entry in the audit annotation. */
    static final int MAX_ITEM_LENGTH = 256;
    /**
     * Longest audit annotation value. The API server's audit backends drop an event over 100 KiB
     * ({@code --audit-log-truncate-max-event-size}, when truncation is on) and the event holds every
     * webhook's annotations: ours stays a few kilobytes.
     */
    static final int MAX_ANNOTATION_LENGTH = 4096;
    /** Longest denial message: 20 lines of 256 characters and a heading fit. */
    static final int MAX_MESSAGE_LENGTH = 8192;

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
        status.setMessage(cut(message, MAX_MESSAGE_LENGTH, true));
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

    /**
     * Adds warnings, as many as the API server keeps: it passes on at most 4,096 characters of warnings
     * for a request, and once over that cuts each to 256 and drops the rest; it drops a warning with a
     * control character outright. So each warning is cut to {@value #MAX_WARNING_LENGTH} characters with control
     * characters replaced, and after the first {@value #MAX_WARNINGS} one last warning says how many were left
     * out: at most 16 × 256 = 4,096 characters, all of them shown.
     */
    static AdmissionResponse withWarnings(AdmissionResponse r, List<String> warnings) {
        if (warnings.isEmpty()) {
            return r;
        }
        int listed = warnings.size() <= MAX_WARNINGS + 1 ? warnings.size() : MAX_WARNINGS;
        List<String> kept = new ArrayList<>(listed + 1);
        for (int i = 0; i < listed; i++) {
            kept.add(cut(warnings.get(i), MAX_WARNING_LENGTH));
        }
        if (listed < warnings.size()) {
            kept.add("rootguard: and " + (warnings.size() - listed) + " more warnings");
        }
        r.setWarnings(kept);
        return r;
    }

    /**
     * The first {@value #MAX_LISTED} items, each cut to {@value #MAX_ITEM_LENGTH} characters, then
     * {@code more.apply(n)} for the n left out: denial messages and audit annotations stay a few kilobytes
     * however many containers a pod has.
     */
    static List<String> firstItems(List<String> items, java.util.function.IntFunction<String> more) {
        List<String> out = new ArrayList<>(Math.min(items.size(), MAX_LISTED) + 1);
        for (int i = 0; i < items.size() && i < MAX_LISTED; i++) {
            out.add(cut(items.get(i), MAX_ITEM_LENGTH));
        }
        if (items.size() > MAX_LISTED) {
            out.add(more.apply(items.size() - MAX_LISTED));
        }
        return out;
    }

    /** At most {@code max} characters (code points), control characters replaced by spaces, "..." where cut. */
    static String cut(String s, int max) {
        return cut(s, max, false);
    }

    private static String cut(String s, int max, boolean keepNewlines) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), max + 3));
        int[] n = { 0 };
        s.codePoints().limit(max + 1L).forEach(c -> {
            if (n[0]++ < max) {
                sb.appendCodePoint(Character.isISOControl(c) && !(keepNewlines && c == '\n') ? ' ' : c);
            }
        });
        if (n[0] > max) {
            sb.setLength(sb.offsetByCodePoints(0, Math.max(0, max - 3)));
            sb.append("...");
        }
        return sb.toString();
    }

    static AdmissionResponse withAnnotations(AdmissionResponse r, Map<String, String> annotations) {
        if (!annotations.isEmpty()) {
            Map<String, String> cut = new java.util.HashMap<>(annotations.size() * 2);
            annotations.forEach((k, v) -> cut.put(k, cut(v, MAX_ANNOTATION_LENGTH)));
            r.setAuditAnnotations(cut);
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
