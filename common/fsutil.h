/*
 * fsutil.h - file-system helpers: atomic writes, directory trees.
 *
 * Anything another process may read while we write (dashboard pages, keys,
 * blobs) is written to a temporary file in the same directory, fsynced and
 * renamed into place, so readers see the old or the new file, never half.
 */
#ifndef RFARM_FSUTIL_H
#define RFARM_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rc.h"

/* mkdir -p with the given mode for created directories. */
rc_t fs_mkdirs(const char *path, mode_t mode, struct errbuf *eb);

/* Write p[0..n) to path atomically with the given mode (fsync'd before
 * the rename: it survives a crash). */
rc_t fs_write_atomic(const char *path, const void *p, size_t n, mode_t mode,
		     struct errbuf *eb);
/* The same without the fsync: readers never see half a file, but a
 * crash may lose it. For files that can be made again (the dashboard). */
rc_t fs_replace_file(const char *path, const void *p, size_t n, mode_t mode,
		     struct errbuf *eb);

/* Read a whole file of at most max bytes; *out is NUL-terminated. */
rc_t fs_read_all(const char *path, size_t max, char **out, size_t *len,
		 struct errbuf *eb);

/*
 * Ask the kernel to start writing fd's bytes [off, off+len) to disk now,
 * without waiting, so that a later fsync has little left to do (Linux
 * sync_file_range; elsewhere a no-op).
 */
void fs_start_writeback(int fd, int64_t off, int64_t len);

/* rm -rf; does not follow symbolic links. */
rc_t fs_remove_tree(const char *path, struct errbuf *eb);

#endif
