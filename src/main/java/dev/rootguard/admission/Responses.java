package dev.rootguard.admission;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.rootguard.json.Json;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Builds AdmissionReview responses. Every response goes through {@link #review}, the one place
 * that copies the request's uid.
 */
final class Responses {

    /** Warnings listed in full before the last one says how many more there were (see {@link #withWarnings}). */
    static final int MAX_WARNINGS = 15;
    /** The API server's cut for each warning once a request's warnings exceed {@value #MAX_WARNINGS_TOTAL} characters. */
    static final int MAX_WARNING_LENGTH = 256;
    /** The most characters of warnings the API server passes on for one request. */
    static final int MAX_WARNINGS_TOTAL = 4096;
    /** Violations listed in a denial message and in the {@code violations} audit annotation. */
    static final int MAX_LISTED = 20;
    /**
     * Longest violation line in a denial message: room for the longest message a rule writes (its fix comes
     * last, so it must never be cut off), but not for a name or value of unbounded length.
     */
    static final int MAX_LINE_LENGTH = 1024;
    /** Longest entry ({@code rule(action) path}) in the audit annotation. */
    static final int MAX_ENTRY_LENGTH = 256;
    /**
     * Longest audit annotation value. The API server's audit backends drop an event over 100 KiB
     * ({@code --audit-log-truncate-max-event-size}, when truncation is on) and the event holds every
     * webhook's annotations: ours stays a few kilobytes.
     */
    static final int MAX_ANNOTATION_LENGTH = 4096;
    /** Longest denial message: a heading and 20 lines of {@value #MAX_LINE_LENGTH} characters fit. */
    static final int MAX_MESSAGE_LENGTH = 24 * 1024;

    private Responses() {}

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
     * Adds warnings, as many as the API server keeps: it passes on at most {@value #MAX_WARNINGS_TOTAL}
     * characters of warnings for a request, and once over that cuts each to {@value #MAX_WARNING_LENGTH} and drops
     * the rest; it drops a warning with a control character outright. So control characters are replaced,
     * the first {@value #MAX_WARNINGS} warnings are kept and one last warning says how many were left out, and
     * when those are over {@value #MAX_WARNINGS_TOTAL} characters together each is cut to
     * {@value #MAX_WARNING_LENGTH} (at most 16 × 256 = 4,096): every warning sent is shown, and a few warnings
     * are shown whole, with the fix at their end.
     */
    static AdmissionResponse withWarnings(AdmissionResponse r, List<String> warnings) {
        if (warnings.isEmpty()) {
            return r;
        }
        int listed = warnings.size() <= MAX_WARNINGS + 1 ? warnings.size() : MAX_WARNINGS;
        List<String> kept = new ArrayList<>(listed + 1);
        long total = 0;
        for (int i = 0; i < listed; i++) {
            // Cut at the total first: no warning kept whole can be longer.
            String w = cut(warnings.get(i), MAX_WARNINGS_TOTAL);
            total += w.codePointCount(0, w.length());
            kept.add(w);
        }
        if (listed < warnings.size()) {
            String more = "rootguard: and " + (warnings.size() - listed) + " more warnings";
            total += more.length();
            kept.add(more);
        }
        if (total > MAX_WARNINGS_TOTAL) {
            kept.replaceAll(w -> cut(w, MAX_WARNING_LENGTH));
        }
        r.setWarnings(kept);
        return r;
    }

    /**
     * The first {@value #MAX_LISTED} items, each cut to {@code maxLength} characters, then
     * {@code more.apply(n)} for the n left out: denial messages and audit annotations stay a few kilobytes
     * however many containers a pod has.
     */
    static List<String> firstItems(List<String> items, int maxLength, IntFunction<String> more) {
        List<String> out = new ArrayList<>(Math.min(items.size(), MAX_LISTED) + 1);
        for (int i = 0; i < items.size() && i < MAX_LISTED; i++) {
            out.add(cut(items.get(i), maxLength));
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
        int[] n = {0};
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
            Map<String, String> cut = new HashMap<>(annotations.size() * 2);
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
