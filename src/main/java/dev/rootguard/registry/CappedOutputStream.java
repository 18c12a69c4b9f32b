package dev.rootguard.registry;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/** Passes bytes on until {@code max} have been written, then fails with {@link Full}. */
final class CappedOutputStream extends FilterOutputStream {
    private final long max;
    private long written;

    /** More bytes than allowed. */
    static final class Full extends IOException {
        Full(long max) {
            super("more than " + max + " bytes");
        }
    }

    CappedOutputStream(OutputStream out, long max) {
        super(out);
        this.max = max;
    }

    @Override
    public void write(int b) throws IOException {
        count(1);
        out.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        count(len);
        out.write(b, off, len);
    }

    private void count(long n) throws IOException {
        written += n;
        if (written > max) {
            throw new Full(max);
        }
    }
}
