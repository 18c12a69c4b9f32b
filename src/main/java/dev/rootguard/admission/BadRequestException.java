package dev.rootguard.admission;

/** A request the webhook cannot read; answered with an HTTP 4xx status and the message. */
public final class BadRequestException extends RuntimeException {
    private final int status;

    public BadRequestException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public BadRequestException(String message) {
        this(400, message);
    }

    public int status() {
        return status;
    }
}
