package dev.rootguard.image;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Image archives and layers read with commons-compress's tar reader (ustar, PAX and GNU long names), as
 * entries in order, each body once.
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
            return type == TarConstants.LF_DIR;
        }

        boolean isFile() {
            return type == TarConstants.LF_NORMAL || type == TarConstants.LF_OLDNORM || type == TarConstants.LF_CONTIG;
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
        TarArchiveInputStream tar = new TarArchiveInputStream(in);
        TarArchiveEntry e;
        while ((e = tar.getNextEntry()) != null) {
            Entry entry = new Entry(
                    e.getName(),
                    e.getMode() & 07777,
                    e.getLongUserId(),
                    e.getLongGroupId(),
                    (char) linkFlag(e),
                    e.getLinkName(),
                    e.getSize());
            // The visitor may read the body or not; closing it must not close the archive.
            visitor.visit(entry, new FilterInputStream(tar) {
                @Override
                public void close() {}
            });
        }
    }

    private static byte linkFlag(TarArchiveEntry e) {
        if (e.isDirectory()) {
            return TarConstants.LF_DIR;
        }
        if (e.isSymbolicLink()) {
            return TarConstants.LF_SYMLINK;
        }
        if (e.isLink()) {
            return TarConstants.LF_LINK;
        }
        if (e.isCharacterDevice()) {
            return TarConstants.LF_CHR;
        }
        if (e.isBlockDevice()) {
            return TarConstants.LF_BLK;
        }
        if (e.isFIFO()) {
            return TarConstants.LF_FIFO;
        }
        return TarConstants.LF_NORMAL;
    }
}
