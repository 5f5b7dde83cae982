/*
 * pack.h - a source directory to a deterministic .tar.gz for
 * `rfarm submit --src DIR`.
 *
 * The archive is the content address of the source: the same tree must
 * always give the same bytes, so that a second submit of an unchanged
 * tree finds its blob already on the coordinator and uploads nothing.
 * Hence entries are sorted by path and carry no time, owner or group, and
 * the gzip header carries no time or name. Only regular files,
 * directories and symbolic links are packed; anything else is an error,
 * not something silently left out.
 *
 * DIR/.rfarmignore leaves paths out, one pattern per line:
 *   - blank lines and lines starting with '#' are skipped; white space
 *     around a pattern is trimmed;
 *   - a pattern with a '/' (other than a trailing one) matches the path
 *     from DIR (fnmatch with FNM_PATHNAME, so '*' never crosses a '/';
 *     a leading '/' only anchors);
 *   - a pattern without one matches the name of a file or directory at
 *     any depth;
 *   - a trailing '/' matches directories only;
 *   - an ignored directory is left out with everything under it;
 *   - '!' (negation) is refused rather than taken as a file name, and
 *     '**' has no special meaning.
 */
#ifndef RFARM_PACK_H
#define RFARM_PACK_H

#include <stdint.h>

#include "rc.h"

/* The file with the ignore patterns, at the top of the packed directory. */
#define PACK_IGNORE_FILE ".rfarmignore"
/* Most bytes of file contents a packed tree may hold (2 GiB). */
#define PACK_MAX_BYTES ((int64_t)2 << 30)

/*
 * Write a gzip-compressed pax (ustar where it fits) archive of dir's
 * regular files, directories and symbolic links to out_path (created or
 * truncated, mode 0600), with paths relative to dir ("src/main.c"; a
 * directory ends in '/'). Permission bits are kept without setuid, setgid
 * and sticky; mtime, uid and gid are 0 and there are no owner names. The
 * file out_path itself is never packed, even when it lies inside dir.
 *
 * On RC_OK sha_hex holds the SHA-256 of the archive (64 hex characters and
 * a NUL) and *size its length in bytes. On failure eb names the path at
 * fault: RC_INVALID for a special file (socket, fifo, device) or a bad
 * .rfarmignore line, RC_TOO_LARGE for more than PACK_MAX_BYTES of
 * contents, RC_IO for a system call that failed (or a file that changed
 * while it was read). out_path may then hold a partial archive: the caller
 * created it and removes it.
 */
rc_t pack_dir(const char *dir, const char *out_path, char sha_hex[65],
	      int64_t *size, struct errbuf *eb);

#endif
