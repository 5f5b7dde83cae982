/*
 * blobs.h - the content-addressed blob store: source tarballs and
 * artifacts, named by their SHA-256, kept at <data>/blobs/ab/abcdef...
 *
 * An upload is hashed while it arrives and written to a temporary file in
 * <data>/blobs/tmp; only when the body is complete, its length is what
 * was announced and its digest is its name is it fsynced and renamed into
 * place. Anything else (a wrong digest, a short body, a dropped
 * connection, a full disk) deletes the temporary file: a blob either is
 * there, whole and verified, or is not there at all. An existing blob is
 * never rewritten. Bytes are gathered into 1 MiB writes, direct (O_DIRECT)
 * where the file system takes it: the event loop waits for the disk, not
 * for a page-cache copy.
 *
 * No coordinator internals here: blobs.c does file I/O only.
 */
#ifndef RFARM_BLOBS_H
#define RFARM_BLOBS_H

#include <stdint.h>

#include "rc.h"
#include "sha256.h"

struct blob_upload;

/* Make <root>/tmp and remove temporary files a crash left behind. */
rc_t blobs_init(const char *root, struct errbuf *eb);

/* Path of a blob (malloc'd); the file may not exist. */
char *blobs_path(const char *root, const char *sha);

/* 1 if the blob exists (and its size in *size if size is not NULL). */
int blobs_exists(const char *root, const char *sha, int64_t *size);

/*
 * Start receiving a blob named sha of length bytes (-1 if unknown, up to
 * max bytes). Fails with RC_INVALID for a name that is not a digest and
 * RC_TOO_LARGE for a length over max.
 */
rc_t blob_upload_begin(const char *root, const char *sha, int64_t length,
		       int64_t max, struct blob_upload **out, struct errbuf *eb);
/* Append bytes; the first error is kept and later writes are dropped. */
void blob_upload_write(struct blob_upload *u, const void *p, size_t n);
/* The first error so far (RC_OK if none), with its text in eb. */
rc_t blob_upload_error(const struct blob_upload *u, struct errbuf *eb);
/*
 * Finish: check length and digest, fsync, rename into place. *existed is
 * set when the blob was already there (the new copy is dropped). Frees u.
 * Errors: RC_TRUNCATED (short body), RC_INVALID (digest mismatch),
 * RC_TOO_LARGE, RC_IO (disk).
 */
rc_t blob_upload_finish(struct blob_upload **u, int *existed, int64_t *size,
			struct errbuf *eb);
/* Drop an unfinished upload and its temporary file. */
void blob_upload_abort(struct blob_upload **u);

#endif
