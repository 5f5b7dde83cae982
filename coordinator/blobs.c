/* blobs.c - content-addressed blob files (see blobs.h). */
#include "blobs.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "xalloc.h"

#define WRITEBACK_STEP ((int64_t)16 << 20)
/* Bodies arrive in 64 KiB pieces; they are gathered into a buffer this
 * big and written with O_DIRECT where the file system takes it: no copy
 * into the page cache and no writeback for the kernel to do later (a
 * fifth of the coordinator's CPU per uploaded GiB on a 2-core host).
 * Offsets and lengths of direct writes are multiples of DIRECT_ALIGN. */
#define GATHER_BYTES ((size_t)1 << 20)
#define DIRECT_ALIGN ((size_t)4096)

struct blob_upload {
	char *root;              /* blob store root */
	char want[SHA256_HEX_LEN + 1]; /* the name it must hash to */
	char *tmp;               /* temporary file path */
	int fd;                  /* open temporary file */
	int direct;              /* fd has O_DIRECT */
	unsigned char *buf;      /* GATHER_BYTES, DIRECT_ALIGN-aligned */
	size_t fill;             /* bytes in buf not yet written */
	struct sha256_ctx *sha;  /* running digest */
	int64_t length;          /* announced length, -1 if unknown */
	int64_t max;             /* largest accepted */
	int64_t got;             /* bytes received */
	int64_t written;         /* bytes written to fd */
	int64_t flushed;         /* bytes handed to writeback so far */
	rc_t err;                /* first error */
	char errmsg[200];        /* its detail */
};

char *blobs_path(const char *root, const char *sha)
{
	return xasprintf("%s/%.2s/%s", root, sha, sha);
}

int blobs_exists(const char *root, const char *sha, int64_t *size)
{
	char *path = blobs_path(root, sha);
	struct stat st;
	int ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);

	if (ok && size)
		*size = (int64_t)st.st_size;
	free(path);
	return ok;
}

rc_t blobs_init(const char *root, struct errbuf *eb)
{
	char *tmp = xasprintf("%s/tmp", root);
	rc_t rc = fs_remove_tree(tmp, eb);

	if (!rc)
		rc = fs_mkdirs(tmp, 0700, eb);
	free(tmp);
	return rc;
}

/* Create the temporary file, then ask for O_DIRECT: a file system that
 * cannot do it (tmpfs before Linux 6.6) says so with EINVAL, and gets
 * buffered writes. */
static int open_tmp(const char *path, int *direct)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	*direct = 0;
#ifdef O_DIRECT
	if (fd >= 0)
		*direct = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_DIRECT) == 0;
#endif
	return fd;
}

/* Go on without O_DIRECT (a file system that refuses an aligned direct
 * write, or the unaligned tail). */
static int drop_direct(struct blob_upload *u)
{
#ifdef O_DIRECT
	int fl = fcntl(u->fd, F_GETFL);

	if (fl < 0 || fcntl(u->fd, F_SETFL, fl & ~O_DIRECT) < 0)
		return -1;
#endif
	u->direct = 0;
	return 0;
}

rc_t blob_upload_begin(const char *root, const char *sha, int64_t length,
		       int64_t max, struct blob_upload **out, struct errbuf *eb)
{
	struct blob_upload *u;
	char tag[17];

	*out = NULL;
	if (!sha256_hex_valid(sha)) {
		errbuf_set(eb, "\"%.80s\" is not a SHA-256 digest (64 lower-case "
			   "hex characters)", sha);
		return RC_INVALID;
	}
	if (length > max) {
		errbuf_set(eb, "blob of %lld bytes is over the limit of %lld bytes",
			   (long long)length, (long long)max);
		return RC_TOO_LARGE;
	}
	u = xcalloc(1, sizeof *u);
	random_hex(tag, 8);
	u->root = xstrdup(root);
	memcpy(u->want, sha, sizeof u->want);
	u->tmp = xasprintf("%s/tmp/%s.%s", root, sha, tag);
	u->length = length;
	u->max = max;
	u->fd = open_tmp(u->tmp, &u->direct);
	if (u->fd < 0) {
		errbuf_set(eb, "cannot create %s: %s", u->tmp, strerror(errno));
		free(u->tmp);
		free(u->root);
		free(u);
		return RC_IO;
	}
	u->sha = sha256_new();
	if (posix_memalign((void **)&u->buf, DIRECT_ALIGN, GATHER_BYTES))
		abort(); /* as xmalloc does */
	*out = u;
	return RC_OK;
}

static void fail(struct blob_upload *u, rc_t rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct blob_upload *u, rc_t rc, const char *fmt, ...)
{
	va_list ap;

	if (u->err)
		return;
	u->err = rc;
	va_start(ap, fmt);
	vsnprintf(u->errmsg, sizeof u->errmsg, fmt, ap);
	va_end(ap);
}

/* Write out the gathered bytes; 0 or -1 with errno set. */
static int flush_buf(struct blob_upload *u)
{
	const unsigned char *c = u->buf;
	size_t n = u->fill;

	while (n) {
		ssize_t w = write(u->fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EINVAL && u->direct && !drop_direct(u))
			continue;
		if (w < 0)
			return -1;
		c += w;
		n -= (size_t)w;
		u->written += w;
	}
	u->fill = 0;
	return 0;
}

void blob_upload_write(struct blob_upload *u, const void *p, size_t n)
{
	const unsigned char *c = p;

	if (u->err)
		return;
	if (u->got + (int64_t)n > u->max ||
	    (u->length >= 0 && u->got + (int64_t)n > u->length)) {
		fail(u, RC_TOO_LARGE, "body is longer than %lld bytes",
		     (long long)(u->length >= 0 ? u->length : u->max));
		return;
	}
	sha256_update(u->sha, p, n);
	u->got += (int64_t)n;
	while (n) {
		size_t k = GATHER_BYTES - u->fill;

		if (k > n)
			k = n;
		memcpy(u->buf + u->fill, c, k);
		u->fill += k;
		c += k;
		n -= k;
		if (u->fill == GATHER_BYTES && flush_buf(u) < 0) {
			fail(u, RC_IO, "cannot store the blob: %s", strerror(errno));
			return;
		}
	}
	/* Buffered: keep the disk busy during the upload, so the fsync at
	 * the end waits for the tail only. */
	if (!u->direct && u->written - u->flushed >= WRITEBACK_STEP) {
		fs_start_writeback(u->fd, u->flushed, u->written - u->flushed);
		u->flushed = u->written;
	}
}

rc_t blob_upload_error(const struct blob_upload *u, struct errbuf *eb)
{
	if (u->err)
		errbuf_set(eb, "%s", u->errmsg);
	return u->err;
}

static void upload_free(struct blob_upload *u)
{
	if (u->fd >= 0)
		close(u->fd);
	unlink(u->tmp);
	if (u->sha)
		sha256_final_hex(&u->sha, (char[SHA256_HEX_LEN + 1]){0});
	free(u->buf);
	free(u->tmp);
	free(u->root);
	free(u);
}

void blob_upload_abort(struct blob_upload **up)
{
	if (*up)
		upload_free(*up);
	*up = NULL;
}

/* Check what arrived; on success the digest context is consumed. */
static rc_t verify(struct blob_upload *u, struct errbuf *eb)
{
	char got[SHA256_HEX_LEN + 1];

	if (u->err)
		return blob_upload_error(u, eb);
	if (u->length >= 0 && u->got != u->length) {
		errbuf_set(eb, "body ended after %lld of %lld bytes",
			   (long long)u->got, (long long)u->length);
		return RC_TRUNCATED;
	}
	sha256_final_hex(&u->sha, got);
	if (strcmp(got, u->want)) {
		errbuf_set(eb, "the body's SHA-256 is %s, not %s", got, u->want);
		return RC_INVALID;
	}
	/* The tail is not a whole number of blocks: write it buffered. */
	if (u->direct && u->fill % DIRECT_ALIGN && drop_direct(u) < 0) {
		errbuf_set(eb, "cannot store the blob: %s", strerror(errno));
		return RC_IO;
	}
	if (flush_buf(u) < 0 || fsync(u->fd) < 0 || close(u->fd) < 0) {
		u->fd = -1;
		errbuf_set(eb, "cannot store the blob: %s", strerror(errno));
		return RC_IO;
	}
	u->fd = -1;
	return RC_OK;
}

rc_t blob_upload_finish(struct blob_upload **up, int *existed, int64_t *size,
			struct errbuf *eb)
{
	struct blob_upload *u = *up;
	char *dir = NULL, *path = NULL;
	rc_t rc = verify(u, eb);

	*existed = 0;
	*size = u->got;
	if (rc)
		goto out;
	if (blobs_exists(u->root, u->want, NULL)) {
		*existed = 1; /* never rewrite: the copy we have is verified */
		goto out;
	}
	dir = xasprintf("%s/%.2s", u->root, u->want);
	path = blobs_path(u->root, u->want);
	rc = fs_mkdirs(dir, 0755, eb);
	if (!rc && rename(u->tmp, path) < 0) {
		errbuf_set(eb, "cannot store the blob: %s", strerror(errno));
		rc = RC_IO;
	}
out:
	free(dir);
	free(path);
	upload_free(u); /* unlinks the temporary name, gone after a rename */
	*up = NULL;
	return rc;
}
