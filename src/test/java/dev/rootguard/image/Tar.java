package dev.rootguard.image;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Just enough of the tar format to read image archives and layers: ustar headers, PAX extended headers
 * (path, linkpath, uid, gid, size) and GNU long names. Entries are read in order, each body once.
 */
final class Tar {
    private Tar() {}

    /** One entry: its name as stored, owner, permission bits and type flag. */
    record Entry(String name, int mode, long uid, long gid, char type, String link, long size) {
        /** The name without a leading "./" or "/" and, for directories, with a trailing "/". */
        String path() {
            String p = name;
            while (p.startsWith("./") || p.startsWith("/")) {
                p = p.substring(p.startsWith("./") ? 2 : 1);
            }
            return isDirectory() && !p.endsWith("/") && !p.isEmpty() ? p + "/" : p;
        }

        boolean isDirectory() {
            return type == '5';
        }

        boolean isFile() {
            return type == '0' || type == '\0' || type == '7';
        }
    }

    interface Visitor {
        void visit(Entry entry, InputStream body) throws IOException;
    }

    /** A gzip stream's content, or the stream itself when it is not gzip. */
    static InputStream maybeGunzip(InputStream in) throws IOException {
        BufferedInputStream b = new BufferedInputStream(in, 65536);
        b.mark(2);
        int a = b.read();
        int c = b.read();
        b.reset();
        return a == 0x1f && c == 0x8b ? new GZIPInputStream(b, 65536) : b;
    }

    static void read(InputStream in, Visitor visitor) throws IOException {
        byte[] header = new byte[512];
        Map<String, String> pax = new HashMap<>();
        String longName = null;
        String longLink = null;
        while (true) {
            if (!readFully(in, header)) {
                return;
            }
            if (allZero(header)) {
                return;
            }
            char type = (char) header[156];
            long size = octal(header, 124, 12);
            if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
                byte[] data = body(in, size);
                if (type == 'x') {
                    pax = parsePax(data);
                } else if (type == 'L') {
                    longName = cString(data, 0, data.length);
                } else if (type == 'K') {
                    longLink = cString(data, 0, data.length);
                }
                continue;
            }
            String name = cString(header, 0, 100);
            String magic = cString(header, 257, 6);
            if (magic.startsWith("ustar")) {
                String prefix = cString(header, 345, 155);
                if (!prefix.isEmpty()) {
                    name = prefix + "/" + name;
                }
            }
            name = pax.getOrDefault("path", longName != null ? longName : name);
            String link = pax.getOrDefault("linkpath", longLink != null ? longLink : cString(header, 157, 100));
            long uid = pax.containsKey("uid") ? Long.parseLong(pax.get("uid")) : octal(header, 108, 8);
            long gid = pax.containsKey("gid") ? Long.parseLong(pax.get("gid")) : octal(header, 116, 8);
            if (pax.containsKey("size")) {
                size = Long.parseLong(pax.get("size"));
            }
            Entry entry = new Entry(name, (int) octal(header, 100, 8), uid, gid, type, link, size);
            pax = new HashMap<>();
            longName = null;
            longLink = null;
            long dataSize = entry.isFile() ? size : (type == '1' || type == '2' ? 0 : size);
            Bounded body = new Bounded(in, dataSize);
            visitor.visit(entry, body);
            body.skipRest();
            skip(in, (512 - dataSize % 512) % 512);
        }
    }

    private static Map<String, String> parsePax(byte[] data) {
        Map<String, String> out = new HashMap<>();
        int i = 0;
        while (i < data.length) {
            int space = i;
            while (space < data.length && data[space] != ' ') {
                space++;
            }
            if (space >= data.length) {
                break;
            }
            int len = Integer.parseInt(new String(data, i, space - i, StandardCharsets.US_ASCII));
            String record = new String(data, space + 1, len - (space - i) - 2, StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            out.put(record.substring(0, eq), record.substring(eq + 1));
            i += len;
        }
        return out;
    }

    private static byte[] body(InputStream in, long size) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        long left = size;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                throw new EOFException("truncated tar entry");
            }
            out.write(buf, 0, n);
            left -= n;
        }
        skip(in, (512 - size % 512) % 512);
        return out.toByteArray();
    }

    private static boolean readFully(InputStream in, byte[] b) throws IOException {
        int off = 0;
        while (off < b.length) {
            int n = in.read(b, off, b.length - off);
            if (n < 0) {
                if (off == 0) {
                    return false;
                }
                throw new EOFException("truncated tar header");
            }
            off += n;
        }
        return true;
    }

    private static void skip(InputStream in, long n) throws IOException {
        long left = n;
        while (left > 0) {
            long s = in.skip(left);
            if (s <= 0) {
                if (in.read() < 0) {
                    throw new EOFException("truncated tar");
                }
                s = 1;
            }
            left -= s;
        }
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static long octal(byte[] b, int off, int len) {
        if ((b[off] & 0x80) != 0) { // base-256 (GNU), for large values
            long v = b[off] & 0x7f;
            for (int i = off + 1; i < off + len; i++) {
                v = (v << 8) | (b[i] & 0xff);
            }
            return v;
        }
        String s = cString(b, off, len).trim();
        return s.isEmpty() ? 0 : Long.parseLong(s, 8);
    }

    /** An entry's body: reads stop at its end, and the rest is skipped before the next header. */
    private static final class Bounded extends FilterInputStream {
        private long left;

        Bounded(InputStream in, long size) {
            super(in);
            this.left = size;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }

        @Override
        public void close() {
            // the archive stream stays open
        }

        void skipRest() throws IOException {
            Tar.skip(in, left);
            left = 0;
        }
    }
}
