package dev.rootguard.admission;

/**
 * A request the webhook cannot read. Without a uid it is answered with an HTTP 4xx status and the message.
 * Once the body is known to be an AdmissionReview with a request uid, the exception carries that uid (and
 * the request's kind and operation as far as they could be read), and the handler answers inside a review
 * instead: the API server only reports a 4xx as a failed call and then applies the webhook's failurePolicy.
 */
public final class BadRequestException extends RuntimeException {
    private final int status;
    private final String uid;
    private final String kind;
    private final String operation;

    public BadRequestException(int status, String message) {
        this(status, message, null, null, null);
    }

    public BadRequestException(String message) {
        this(400, message);
    }

    private BadRequestException(int status, String message, String uid, String kind, String operation) {
        super(message, null, false, false);
        this.status = status;
        this.uid = uid;
        this.kind = kind;
        this.operation = operation;
    }

    /** The same problem, in a request whose uid is known: to be answered inside a review. */
    BadRequestException inRequest(String uid, String kind, String operation) {
        return new BadRequestException(status, getMessage(), uid, kind, operation);
    }

    public int status() {
        return status;
    }

    /** The request's uid, or null when the body was not read far enough to know it. */
    public String uid() {
        return uid;
    }

    /** The request's {@code kind.kind} as read, or {@code ""}. */
    String kind() {
        return kind == null ? "" : kind;
    }

    /** The request's operation as read, or {@code ""}. */
    String operation() {
        return operation == null ? "" : operation;
    }
}
