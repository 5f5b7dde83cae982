/*
 * blobapi.c - PUT, GET and HEAD of /api/v1/blobs/{sha256}.
 *
 * Uploads stream into the blob store as they arrive (blobs.c), so memory
 * does not grow with the size of a blob. Downloads are served from the
 * file, 64 KiB per WRITEABLE, with ETag = the digest, an immutable
 * Cache-Control, If-None-Match and one byte range.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobs.h"
#include "caps.h"
#include "clock.h"
#include "internal.h"
#include "log.h"
#include "xalloc.h"

#define SEND_PIECE (64 * 1024)
#define BLOB_PREFIX "/api/v1/blobs/"

static const char *path_sha(const struct http_conn *h)
{
	return h->path + strlen(BLOB_PREFIX);
}

/* A bearer token on an upload must be the upload token of a running
 * attempt (an artifact: h->upload_job is set), or an API token (http.c's
 * gate checked its scope). Uploads without one are open while no API
 * token exists. */
static int token_ok(struct http_conn *h)
{
	char auth[160], scope[16], why[120];

	if (lws_hdr_copy(h->wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0)
		return 1;
	if (strncmp(auth, "Bearer ", 7))
		return 0;
	if (store_token_lookup(h->c->store, auth + 7, &h->upload_job,
			       &h->upload_attempt))
		return 1;
	return auth_api_token(h->c, auth + 7, scope, sizeof scope, why, sizeof why);
}

static struct caps coord_caps(const struct coord *c)
{
	return (struct caps){c->cfg.max_artifact_bytes, c->cfg.max_artifacts,
			     c->cfg.max_artifact_total};
}

/*
 * The caps, before any byte of the body is read: a source tarball (no
 * upload token) against --max-source-bytes, an artifact against the
 * attempt's caps. A refused artifact is remembered on its attempt, whose
 * result then says why. Returns 1 after answering 413 (*answer is what
 * the callback returns).
 */
static int over_cap(struct http_conn *h, long long length, int *answer)
{
	const struct caps cap = coord_caps(h->c);
	struct store_uploads u;
	const char *code;
	char name[80], why[400];

	if (!h->upload_job) {
		if (length <= h->c->cfg.max_source_bytes)
			return 0;
		h->body.err = RC_TOO_LARGE; /* close after answering: body unread */
		*answer = http_respond_error(h, 413, "source_too_large", "a source "
					     "of %lld bytes is over the limit of "
					     "%lld bytes (--max-source-bytes)",
					     length, (long long)
					     h->c->cfg.max_source_bytes);
		return 1;
	}
	if (store_attempt_uploads(h->c->store, h->upload_job,
				  h->upload_attempt, &u))
		return 0;
	snprintf(name, sizeof name, "blob %.64s", path_sha(h));
	code = caps_artifact_check(&cap, u.count, u.bytes, name, length, why,
				   sizeof why);
	if (!code)
		return 0;
	log_warn("job %lld attempt %d: upload refused: %s",
		 (long long)h->upload_job, h->upload_attempt, why);
	store_attempt_refuse(h->c->store, h->upload_job, h->upload_attempt, why);
	h->body.err = RC_TOO_LARGE;
	*answer = http_respond_error(h, 413, code, "%s", why);
	return 1;
}

int blobapi_put_begin(struct http_conn *h, long long length)
{
	struct errbuf eb = {""};
	int answer;
	rc_t rc;

	if (length < 0)
		return http_respond_error(h, 411, "length_required",
					  "a blob upload needs a Content-Length");
	if (!token_ok(h)) {
		h->body.err = RC_TOO_LARGE; /* close after answering */
		return http_respond_error(h, 403, "bad_upload_token",
					  "the upload token is not valid: its "
					  "attempt has ended, or it is not one");
	}
	if (over_cap(h, length, &answer))
		return answer;
	rc = blob_upload_begin(h->c->blob_dir, path_sha(h), length,
			       h->upload_job ? h->c->cfg.max_artifact_bytes :
			       h->c->cfg.max_source_bytes, &h->upload, &eb);
	if (!rc)
		return 0; /* the body follows */
	h->body.err = RC_TOO_LARGE; /* close after answering: body unread */
	if (rc == RC_TOO_LARGE)
		return http_respond_error(h, 413, "too_large", "%s", eb.msg);
	if (rc == RC_INVALID)
		return http_respond_error(h, 400, "bad_digest", "%s", eb.msg);
	log_error("blob upload: %s", eb.msg);
	return http_respond_error(h, 507, "insufficient_storage", "%s", eb.msg);
}

int blobapi_put_finish(struct http_conn *h)
{
	char sha[SHA256_HEX_LEN + 1];
	struct errbuf eb = {""};
	int64_t size = 0;
	int existed = 0;
	rc_t rc;

	snprintf(sha, sizeof sha, "%s", path_sha(h));
	rc = blob_upload_finish(&h->upload, &existed, &size, &eb);
	if (!rc)
		rc = store_blob_record(h->c->store, sha, size, clock_wall_ms());
	if (!rc && h->upload_job) /* counts against the attempt's caps */
		rc = store_attempt_upload_add(h->c->store, h->upload_job,
					      h->upload_attempt, size);
	if (!rc && !existed)
		log_info("blob %.12s stored (%lld bytes)", sha, (long long)size);
	switch (rc) {
	case RC_OK:
		return http_respond_json(h, existed ? 200 : 201,
					 json_pack("{s:s,s:I,s:b}", "sha256", sha,
						   "size", (json_int_t)size,
						   "existed", existed));
	case RC_TRUNCATED:
		return http_respond_error(h, 400, "short_body", "%s", eb.msg);
	case RC_INVALID:
		return http_respond_error(h, 400, "digest_mismatch", "%s", eb.msg);
	case RC_TOO_LARGE:
		return http_respond_error(h, 413, "too_large", "%s", eb.msg);
	default:
		log_error("blob %.12s not stored: %s", sha, eb.msg);
		return http_respond_error(h, 507, "insufficient_storage", "%s",
					  eb.msg);
	}
}

/* One "bytes=" range of a size-byte blob into [*from, *to]; 0 if none
 * given, 1 if parsed, -1 if unsatisfiable or malformed. */
static int parse_range(const char *v, int64_t size, int64_t *from, int64_t *to)
{
	char *end;
	long long a, b;

	if (strncmp(v, "bytes=", 6) || strchr(v, ','))
		return -1;
	v += 6;
	if (*v == '-') { /* the last n bytes */
		b = strtoll(v + 1, &end, 10);
		if (end == v + 1 || *end || b <= 0)
			return -1;
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return size > 0 ? 1 : -1;
	}
	a = strtoll(v, &end, 10);
	if (end == v || *end != '-' || a < 0 || a >= size)
		return -1;
	v = end + 1;
	b = *v ? strtoll(v, &end, 10) : size - 1;
	if ((*v && *end) || b < a)
		return -1;
	*from = a;
	*to = b >= size ? size - 1 : b;
	return 1;
}

/* Content-Disposition from ?filename=, keeping only safe characters. */
static int download_name(struct http_conn *h, char *out, size_t n)
{
	char name[96], *p;

	if (!http_query_arg(h, "filename", name, sizeof name) || !name[0])
		return 0;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-+", *p)))
			*p = '_';
	snprintf(out, n, "attachment; filename=\"%s\"", name);
	return 1;
}

static int etag_matches(const char *inm, const char *etag)
{
	return !strcmp(inm, "*") || strstr(inm, etag) != NULL;
}

int blobapi_get(struct http_conn *h, const char *sha)
{
	char etag[SHA256_HEX_LEN + 3], range[96], inm[256], crange[96], *path;
	char disp[160];
	struct http_header hdr[5] = {
		{"etag:", etag},
		{"cache-control:", "public, max-age=31536000, immutable"},
		{"accept-ranges:", "bytes"},
		{"content-range:", crange},
		{"content-disposition:", disp},
	};
	size_t n_hdr;
	int64_t size = 0, from = 0, to = 0;
	int head = !strcmp(h->method, "HEAD"), ranged = 0, status = 200;

	if (!sha256_hex_valid(sha))
		return http_respond_error(h, 400, "bad_digest",
					  "\"%.80s\" is not a SHA-256 digest", sha);
	if (!blobs_exists(h->c->blob_dir, sha, &size))
		return http_respond_error(h, 404, "not_found", "no blob %s", sha);
	snprintf(etag, sizeof etag, "\"%s\"", sha);
	if (lws_hdr_copy(h->wsi, inm, sizeof inm, WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
	    etag_matches(inm, sha)) {
		if (http_write_headers(h, 304, NULL, 0, hdr, 3))
			return -1;
		lws_callback_on_writable(h->wsi);
		return 0;
	}
	if (lws_hdr_copy(h->wsi, range, sizeof range, WSI_TOKEN_HTTP_RANGE) > 0 &&
	    (ranged = parse_range(range, size, &from, &to)) < 0) {
		snprintf(crange, sizeof crange, "bytes */%lld", (long long)size);
		if (http_write_headers(h, 416, NULL, 0, hdr, 4))
			return -1;
		lws_callback_on_writable(h->wsi);
		return 0;
	}
	if (ranged) {
		status = 206;
		snprintf(crange, sizeof crange, "bytes %lld-%lld/%lld",
			 (long long)from, (long long)to, (long long)size);
	} else {
		to = size - 1;
	}
	if (!head) {
		path = blobs_path(h->c->blob_dir, sha);
		h->file_fd = open(path, O_RDONLY | O_CLOEXEC);
		free(path);
		if (h->file_fd < 0)
			return http_respond_error(h, 500, "io", "cannot open blob "
						  "%s: %s", sha, strerror(errno));
		h->sending_file = 1;
		h->file_off = from;
		h->file_end = to + 1;
	}
	/* ?filename= names the download (artifact redirects set it). */
	n_hdr = 3;
	if (ranged)
		hdr[n_hdr++] = hdr[3];
	if (download_name(h, disp, sizeof disp))
		hdr[n_hdr++] = hdr[4];
	if (http_write_headers(h, status, "application/octet-stream",
			       (lws_filepos_t)(to + 1 - from), hdr, n_hdr))
		return -1;
	lws_callback_on_writable(h->wsi);
	return 0;
}

int blobapi_send_more(struct http_conn *h)
{
	unsigned char piece[LWS_PRE + SEND_PIECE];
	int64_t want = h->file_end - h->file_off;
	ssize_t n;

	if (want <= 0)
		return 1;
	if (want > SEND_PIECE)
		want = SEND_PIECE;
	n = pread(h->file_fd, piece + LWS_PRE, (size_t)want, h->file_off);
	if (n <= 0)
		return -1; /* the blob shrank: cannot happen to a verified blob */
	if (lws_write(h->wsi, piece + LWS_PRE, (size_t)n, LWS_WRITE_HTTP) != n)
		return -1;
	h->file_off += n;
	return h->file_off >= h->file_end;
}

void blobapi_release(struct http_conn *h)
{
	blob_upload_abort(&h->upload);
	if (h->sending_file || h->file_fd > 0)
		close(h->file_fd);
	h->sending_file = 0;
	h->file_fd = -1;
}
