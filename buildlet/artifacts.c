/* artifacts.c - expand artifact patterns and upload the files (see .h). */
#include "artifacts.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "log.h"
#include "os.h"
#include "sha256.h"
#include "source.h"
#include "xalloc.h"

#define UPLOAD_TRIES 4
#define UPLOAD_FIRST_DELAY_MS 500

void artifacts_free(struct proto_artifact **a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((*a)[i].name);
		free((*a)[i].sha256);
	}
	free(*a);
	*a = NULL;
}

/* Reads of an artifact, hashing and sending, are this big: a 1 GiB file
 * is 1024 read()s and 1024 curl buffers instead of 16384 of each. */
#define READ_BYTES ((size_t)1 << 20)

/* The job's file at path, opened for one sequential read; -1 with eb set. */
static int job_file(const char *path, const struct os_user *owner,
		    struct errbuf *eb)
{
	int fd = os_job_file_open(path, owner, eb);

#ifdef POSIX_FADV_SEQUENTIAL
	if (fd >= 0) /* a hint: a larger read-ahead if not cached */
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	return fd;
}

/* read() that rides out EINTR. */
static ssize_t read_some(int fd, void *p, size_t n)
{
	ssize_t r;

	do
		r = read(fd, p, n);
	while (r < 0 && errno == EINTR);
	return r;
}

static rc_t hash_file(const char *path, const struct os_user *owner,
		      char *hex, int64_t *size, struct errbuf *eb)
{
	int fd = job_file(path, owner, eb);
	struct sha256_ctx *sha;
	unsigned char *block;
	ssize_t n;

	if (fd < 0)
		return RC_IO;
	block = xmalloc(READ_BYTES);
	sha = sha256_new();
	*size = 0;
	while ((n = read_some(fd, block, READ_BYTES)) > 0) {
		sha256_update(sha, block, (size_t)n);
		*size += n;
	}
	sha256_final_hex(&sha, hex);
	free(block);
	if (n < 0)
		errbuf_set(eb, "read %s: %s", path, strerror(errno));
	close(fd);
	return n < 0 ? RC_IO : RC_OK;
}

/* libcurl's read callback: the next piece of the file. */
static size_t send_piece(char *p, size_t size, size_t n, void *ud)
{
	ssize_t r = read_some(*(int *)ud, p, size * n);

	return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

/* The start of the coordinator's answer (a small JSON document). */
struct reply {
	char text[512]; /* NUL-terminated */
	size_t len;     /* bytes kept */
};

static size_t keep_reply(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t k = size * n, room = sizeof r->text - 1 - r->len;

	if (k < room)
		room = k;
	memcpy(r->text + r->len, p, room);
	r->len += room;
	r->text[r->len] = '\0';
	return size * n;
}

/* The "message" of an {"error": {...}} answer into out, "" if none. */
static void reply_message(const char *json, char *out, size_t n)
{
	const char *p = strstr(json, "\"message\":");
	size_t k = 0;

	out[0] = '\0';
	if (!p || !(p = strchr(p + 10, '"')))
		return;
	for (p++; *p && *p != '"' && k + 1 < n; p++) {
		if (*p == '\\' && p[1])
			p++;
		out[k++] = *p;
	}
	out[k] = '\0';
}

/* A pattern must stay inside the work directory. */
static int pattern_inside(const char *p)
{
	return p[0] && p[0] != '/' && strncmp(p, "../", 3) && strcmp(p, "..") &&
	       !strstr(p, "/../") &&
	       (strlen(p) < 3 || strcmp(p + strlen(p) - 3, "/.."));
}

/* One streaming PUT: 0 on a 200/201 answer, 1 if the coordinator
 * refused it for good (a 4xx: over a cap, a stale token; trying again
 * gets the same answer), -1 for what another try may cure. */
static int put_once(const char *url, const char *path, int64_t size,
		    const char *token, const char *ca_file, const char *pin,
		    const struct os_user *owner, char *why, size_t why_len)
{
	struct errbuf oeb = {""};
	int fd = job_file(path, owner, &oeb);
	CURL *curl = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char auth[256], msg[300];
	struct reply reply = {"", 0};
	long status = 0;
	CURLcode cc = CURLE_FAILED_INIT;

	if (fd >= 0 && curl) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		if (token[0])
			hdrs = curl_slist_append(hdrs, auth);
		/* No 100-continue round trip: we know the server wants it. */
		hdrs = curl_slist_append(hdrs, "Expect:");
		curl_easy_setopt(curl, CURLOPT_URL, url);
		source_curl_trust(curl, ca_file, pin);
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, send_piece);
		curl_easy_setopt(curl, CURLOPT_READDATA, &fd);
		curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE,
				 (long)READ_BYTES);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
		curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
		/* The answer is a small JSON document: keep its start. */
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_reply);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
		cc = curl_easy_perform(curl);
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	}
	if (fd < 0)
		snprintf(why, why_len, "%s", oeb.msg);
	else if (cc != CURLE_OK)
		snprintf(why, why_len, "%s", curl_easy_strerror(cc));
	else if (status != 200 && status != 201) {
		reply_message(reply.text, msg, sizeof msg);
		snprintf(why, why_len, "HTTP %ld%s%s", status, msg[0] ? ": " : "",
			 msg);
	}
	curl_slist_free_all(hdrs);
	if (curl)
		curl_easy_cleanup(curl);
	if (fd >= 0)
		close(fd);
	if (cc == CURLE_OK && (status == 200 || status == 201))
		return 0;
	return cc == CURLE_OK && status >= 400 && status < 500 &&
	       status != 408 && status != 429 ? 1 : -1;
}

static rc_t upload(const char *url, const char *path, int64_t size,
		   const char *token, const char *ca_file, const char *pin,
		   const struct os_user *owner, const char *name,
		   struct errbuf *eb)
{
	char why[400] = "";
	int delay = UPLOAD_FIRST_DELAY_MS, r;

	for (int try = 1; try <= UPLOAD_TRIES; try++) {
		r = put_once(url, path, size, token, ca_file, pin, owner, why,
			     sizeof why);
		if (!r)
			return RC_OK;
		log_warn("artifact %s: upload try %d failed: %s", name, try, why);
		if (r > 0) {
			errbuf_set(eb, "artifact upload refused: %s: %s", name, why);
			return RC_IO;
		}
		if (try < UPLOAD_TRIES) {
			usleep((useconds_t)delay * 1000);
			delay *= 2;
		}
	}
	errbuf_set(eb, "artifact upload failed: %s: %s", name, why);
	return RC_IO;
}

/* glob's error callback has no user pointer; each runner thread has its
 * own copy. */
static _Thread_local int glob_errno;
static _Thread_local char glob_errpath[256];

static int on_glob_error(const char *path, int err)
{
	/* a directory that is not there is just no match */
	if (!glob_errno && err != ENOENT && err != ENOTDIR) {
		glob_errno = err;
		snprintf(glob_errpath, sizeof glob_errpath, "%s", path);
	}
	return 0; /* go on: other directories may match */
}

static int seen(const struct proto_artifact *a, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].name, name))
			return 1;
	return 0;
}

rc_t artifacts_upload(const char *workdir, const struct proto_strv *patterns,
		      const char *base_url, const char *upload_path,
		      const char *token, const char *ca_file, const char *pin,
		      const struct os_user *owner, struct proto_artifact **out,
		      size_t *n, struct errbuf *eb)
{
	size_t prefix = strlen(workdir) + 1, cap = 0;
	rc_t rc = RC_OK;

	*out = NULL;
	*n = 0;
	for (size_t p = 0; !rc && p < patterns->n; p++) {
		char *pat;
		glob_t g;
		int r;

		if (!pattern_inside(patterns->v[p])) {
			errbuf_set(eb, "artifact pattern %.200s leaves the work "
				   "directory", patterns->v[p]);
			rc = RC_INVALID;
			break;
		}
		pat = xasprintf("%s/%s", workdir, patterns->v[p]);

		memset(&g, 0, sizeof g);
		glob_errno = 0;
		r = glob(pat, 0, on_glob_error, &g);
		if (r == GLOB_NOMATCH && glob_errno) {
			/* say why, not "no file matched" */
			errbuf_set(eb, "artifact %.200s: cannot read %.200s: %s",
				   patterns->v[p], glob_errpath, strerror(glob_errno));
			rc = RC_IO;
		}
		if (r == 0)
			for (size_t i = 0; !rc && i < g.gl_pathc; i++) {
				const char *path = g.gl_pathv[i], *name = path + prefix;
				struct proto_artifact *a;
				struct stat st;
				char *url;

				if (lstat(path, &st) || !S_ISREG(st.st_mode) ||
				    seen(*out, *n, name))
					continue;
				a = xarray_push(out, n, &cap, sizeof **out);
				a->name = xstrdup(name);
				a->sha256 = xmalloc(SHA256_HEX_LEN + 1);
				rc = hash_file(path, owner, a->sha256, &a->size,
					       eb);
				if (rc) {
					/* No digest: not an artifact. */
					free(a->name);
					free(a->sha256);
					(*n)--;
					break;
				}
				url = xasprintf("%s%s%s", base_url, upload_path,
						a->sha256);
				rc = upload(url, path, a->size, token, ca_file,
					    pin, owner, name, eb);
				free(url);
			}
		globfree(&g);
		free(pat);
	}
	return rc;
}
