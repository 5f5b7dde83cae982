/* source.c - fetch and safely extract job sources (see source.h). */
#include "source.h"

#include <errno.h>
#include <poll.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>

#include "clock.h"
#include "gitcmd.h"
#include "os.h"
#include "sha256.h"
#include "tlspin.h"
#include "xalloc.h"

const struct source_limits source_default_limits = {
	.max_download = (int64_t)2 << 30,
	.max_entries = 50000,
	.max_bytes = (int64_t)4 << 30,
};

/* Past this much content, a ratio to the archive size above BOMB_RATIO is
 * a decompression bomb, not source code. */
#define BOMB_FLOOR ((int64_t)64 << 20)
#define BOMB_RATIO 200

/* ---- download ---- */

struct download {
	FILE *f;                 /* the archive being written */
	struct sha256_ctx *sha;  /* digest of what arrived */
	int64_t got, max;        /* bytes so far, and the cap */
	int too_large;           /* the cap was hit */
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct download *d = ud;
	size_t len = size * n;

	if (d->got + (int64_t)len > d->max) {
		d->too_large = 1;
		return 0;
	}
	d->got += (int64_t)len;
	sha256_update(d->sha, p, len);
	return fwrite(p, 1, len, d->f);
}

/* libcurl's SSL_CTX hook: trust the server by its pin instead. */
static CURLcode pin_ctx(CURL *curl, void *ssl_ctx, void *pin)
{
	(void)curl;
	return tls_pin_install(ssl_ctx, pin) ? CURLE_SSL_CERTPROBLEM : CURLE_OK;
}

void source_curl_trust(void *curl, const char *ca_file, const char *pin)
{
	if (ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
	if (pin && *pin) {
		curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, pin_ctx);
		curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, (void *)pin);
		/* The pin names the certificate: names do not matter then. */
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

static rc_t download(const char *url, const char *path, const char *want,
		     int64_t max, const char *ca_file, const char *pin,
		     const char *token, struct errbuf *eb)
{
	struct download d = {fopen(path, "wbe"), sha256_new(), 0, max, 0};
	char got[SHA256_HEX_LEN + 1];
	CURL *curl = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	long status = 0;
	CURLcode cc;
	rc_t rc = RC_IO;

	if (!d.f || !curl) {
		errbuf_set(eb, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	source_curl_trust(curl, ca_file, pin);
	/* The attempt's upload token also opens its source on a coordinator
	 * that wants API tokens. */
	if (token && *token) {
		char auth[200];

		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, auth);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	}
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (d.too_large) {
		errbuf_set(eb, "the archive is over %lld bytes", (long long)max);
		rc = RC_TOO_LARGE;
	} else if (cc != CURLE_OK) {
		errbuf_set(eb, "download %s: %s", url, curl_easy_strerror(cc));
	} else if (status != 200) {
		errbuf_set(eb, "download %s: HTTP %ld", url, status);
		rc = status == 404 ? RC_NOT_FOUND : RC_IO;
	} else if (fflush(d.f) != 0) {
		errbuf_set(eb, "cannot write %s: %s", path, strerror(errno));
	} else {
		sha256_final_hex(&d.sha, got);
		rc = strcmp(got, want) ? RC_INVALID : RC_OK;
		if (rc)
			errbuf_set(eb, "the archive's SHA-256 is %s, not %s", got, want);
	}
out:
	if (d.sha)
		sha256_final_hex(&d.sha, got);
	if (d.f)
		fclose(d.f);
	if (curl)
		curl_easy_cleanup(curl);
	curl_slist_free_all(hdrs);
	return rc;
}

/* ---- extraction ---- */

/* A relative path with no "..", "." or empty component. */
static int path_inside(const char *p)
{
	const char *c = p;

	if (!*p || *p == '/')
		return 0;
	while (*c) {
		size_t n = strcspn(c, "/");

		if ((n == 2 && !strncmp(c, "..", 2)) || n == 0)
			return 0;
		c += n;
		if (*c == '/')
			c++;
	}
	return 1;
}

/* Normalise "./a/b/" to "a/b"; returns a malloc'd copy. */
static char *clean_name(const char *name)
{
	char *s;
	size_t n;

	while (name[0] == '.' && name[1] == '/')
		name += 2;
	s = xstrdup(name);
	n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

static rc_t check_entry(struct archive_entry *e, const char *name,
			struct errbuf *eb)
{
	mode_t type = archive_entry_filetype(e);
	const char *link = archive_entry_hardlink(e);

	if (!path_inside(name)) {
		errbuf_set(eb, "entry %.200s leaves the work directory", name);
		return RC_INVALID;
	}
	/* A hard link's type is 0 in tar; its target is checked below. */
	if (!link && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
		errbuf_set(eb, "entry %.200s is a device, fifo or socket", name);
		return RC_INVALID;
	}
	if (link) {
		char *target = clean_name(link);
		int ok = path_inside(target);

		free(target);
		if (!ok) {
			errbuf_set(eb, "hard link %.200s points outside the work "
				   "directory (%.200s)", name, link);
			return RC_INVALID;
		}
	}
	return RC_OK;
}

/* Re-root the entry's path (and hard link target) under root. */
static void reroot(struct archive_entry *e, const char *root, const char *name)
{
	char *path = xasprintf("%s/%s", root, name);
	const char *link = archive_entry_hardlink(e);

	archive_entry_set_pathname(e, path);
	free(path);
	if (link) {
		char *target = clean_name(link), *full = xasprintf("%s/%s", root, target);

		archive_entry_set_hardlink(e, full);
		free(full);
		free(target);
	}
	/* Sources carry no owners and no special bits. */
	archive_entry_set_perm(e, archive_entry_perm(e) & 0777);
}

struct extract {
	struct archive *in, *out;   /* reader and disk writer */
	const struct source_limits *lim;
	int64_t entries, bytes;     /* so far */
	int64_t archive_size;       /* of the compressed file */
};

static rc_t copy_data(struct extract *x, const char *name, struct errbuf *eb)
{
	const void *block;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(x->in, &block, &size, &off)) == ARCHIVE_OK) {
		x->bytes += (int64_t)size;
		if (x->bytes > x->lim->max_bytes) {
			errbuf_set(eb, "more than %lld bytes of content",
				   (long long)x->lim->max_bytes);
			return RC_TOO_LARGE;
		}
		if (x->bytes > BOMB_FLOOR && x->bytes / BOMB_RATIO > x->archive_size) {
			errbuf_set(eb, "a decompression bomb: over %lld bytes out of "
				   "%lld", (long long)x->bytes, (long long)x->archive_size);
			return RC_TOO_LARGE;
		}
		if (archive_write_data_block(x->out, block, size, off) != ARCHIVE_OK) {
			errbuf_set(eb, "write %.200s: %s", name,
				   archive_error_string(x->out));
			return RC_IO;
		}
	}
	if (r != ARCHIVE_EOF) {
		errbuf_set(eb, "read %.200s: %s", name, archive_error_string(x->in));
		return RC_INVALID;
	}
	return RC_OK;
}

static rc_t extract_entry(struct extract *x, struct archive_entry *e,
			  const char *root, struct errbuf *eb)
{
	char *name = clean_name(archive_entry_pathname(e));
	rc_t rc = RC_OK;

	if (!strcmp(name, ".") || !strcmp(name, "")) {
		free(name);
		return RC_OK; /* the root itself */
	}
	if (++x->entries > x->lim->max_entries) {
		errbuf_set(eb, "more than %lld entries", (long long)x->lim->max_entries);
		rc = RC_TOO_LARGE;
	}
	if (!rc)
		rc = check_entry(e, name, eb);
	if (!rc) {
		reroot(e, root, name);
		if (archive_write_header(x->out, e) != ARCHIVE_OK) {
			errbuf_set(eb, "entry %.200s: %s", name,
				   archive_error_string(x->out));
			rc = RC_INVALID;
		}
	}
	if (!rc && archive_entry_size(e) > 0)
		rc = copy_data(x, name, eb);
	if (!rc && archive_write_finish_entry(x->out) != ARCHIVE_OK) {
		errbuf_set(eb, "entry %.200s: %s", name, archive_error_string(x->out));
		rc = RC_IO;
	}
	free(name);
	return rc;
}

rc_t source_extract(const char *archive, const char *workdir,
		    const struct source_limits *lim, struct errbuf *eb)
{
	struct extract x = {archive_read_new(), archive_write_disk_new(), lim, 0, 0, 0};
	char root[PATH_MAX];
	struct archive_entry *e;
	struct stat st;
	rc_t rc = RC_OK;
	int r;

	/* Absolute, symlink-free root: entries are re-rooted under it, and
	 * SECURE_SYMLINKS then refuses any write through a link inside. */
	if (!realpath(workdir, root) || stat(archive, &st) < 0) {
		errbuf_set(eb, "%s: %s", workdir, strerror(errno));
		rc = RC_IO;
		goto out;
	}
	x.archive_size = (int64_t)st.st_size;
	archive_read_support_filter_all(x.in);
	archive_read_support_format_tar(x.in);
	archive_read_support_format_gnutar(x.in);
	archive_write_disk_set_options(
		x.out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
			       ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	if (archive_read_open_filename(x.in, archive, 64 * 1024) != ARCHIVE_OK) {
		errbuf_set(eb, "not a tar archive: %s", archive_error_string(x.in));
		rc = RC_INVALID;
		goto out;
	}
	while (!rc && (r = archive_read_next_header(x.in, &e)) == ARCHIVE_OK)
		rc = extract_entry(&x, e, root, eb);
	if (!rc && r != ARCHIVE_EOF) {
		errbuf_set(eb, "bad archive: %s", archive_error_string(x.in));
		rc = RC_INVALID;
	}
out:
	archive_read_free(x.in);
	archive_write_free(x.out);
	return rc;
}

/* ---- git ---- */

#define GIT_TIMEOUT_MS (10 * 60 * 1000)
#define GIT_OUTPUT_MAX 4096

/* Run git in dir; its stdout (trimmed) goes to out. */
static rc_t git(const char *dir, const char *what, const char *const *args,
		char *out, size_t out_len, struct errbuf *eb)
{
	struct buf text;
	size_t len;
	rc_t rc;

	buf_init(&text, 0, GIT_OUTPUT_MAX);
	rc = git_run(dir, what, args, GIT_TIMEOUT_MS, NULL, &text, eb);
	if (!rc && out) {
		const char *t = buf_cstr(&text);

		len = strlen(t);
		while (len && strchr(" \n\r\t", t[len - 1]))
			len--;
		snprintf(out, out_len, "%.*s", (int)len, t);
	}
	buf_free(&text);
	return rc;
}

/* Fetch only ref, shallow, and check it out; commit gets the hash. */
static rc_t git_fetch(const struct proto_source *src, const char *workdir,
		      char *commit, size_t commit_len, struct errbuf *eb)
{
	const char *init[] = {"git", "init", "-q", ".", NULL};
	/* "--" ends the options: a URL or ref cannot become one. */
	const char *fetch[] = {"git", "fetch", "-q", "--depth", "1", "--no-tags",
			       "--", src->url, src->ref, NULL};
	const char *checkout[] = {"git", "-c", "advice.detachedHead=false",
				  "checkout", "-q", "FETCH_HEAD", NULL};
	const char *rev[] = {"git", "rev-parse", "HEAD", NULL};
	rc_t rc = git(workdir, "init", init, NULL, 0, eb);

	if (!rc)
		rc = git(workdir, "fetch", fetch, NULL, 0, eb);
	if (!rc)
		rc = git(workdir, "checkout", checkout, NULL, 0, eb);
	if (!rc)
		rc = git(workdir, "rev-parse", rev, commit, commit_len, eb);
	return rc;
}

rc_t source_fetch(const struct proto_source *src, const char *base_url,
		  const char *workdir, const char *tmp_path,
		  const struct source_limits *lim, char *commit,
		  size_t commit_len, struct errbuf *eb)
{
	char *url;
	rc_t rc;

	if (!src->kind || !src->kind[0])
		return RC_OK;
	if (!strcmp(src->kind, "git"))
		return git_fetch(src, workdir, commit, commit_len, eb);
	if (strcmp(src->kind, "tarball")) {
		errbuf_set(eb, "unsupported source kind \"%.40s\"", src->kind);
		return RC_INVALID;
	}
	if (!lim)
		lim = &source_default_limits;
	url = src->url[0] == '/' ? xasprintf("%s%s", base_url, src->url)
				 : xstrdup(src->url);
	rc = download(url, tmp_path, src->sha256, lim->max_download, lim->ca_file,
		      lim->pin, lim->token, eb);
	if (!rc)
		rc = source_extract(tmp_path, workdir, lim, eb);
	unlink(tmp_path);
	free(url);
	return rc;
}
