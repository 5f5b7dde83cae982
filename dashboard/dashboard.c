/*
 * dashboard.c - the I/O edge of the dashboard: render, then write.
 *
 * Every file is written with fs_replace_file (temporary file, rename; no
 * fsync: a page lost in a crash is rendered again), so a web server
 * reading the directory sees the old page or the new one, never half of
 * one. A page is rendered completely before its
 * file is touched: a render error leaves the old page in place.
 */
#include "dashboard.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assets.h"
#include "fsutil.h"
#include "xalloc.h"

#define DASH_DIR_MODE 0755  /* created output directories */
#define DASH_FILE_MODE 0644 /* pages: readable by any web server */

/* Write dir/sub/name (sub may be NULL) from p[0..n), making directories. */
static rc_t write_file(const char *dir, const char *sub, const char *name,
		       const void *p, size_t n, struct errbuf *eb)
{
	char *d = NULL, *path = NULL;
	rc_t rc;

	if (!dir || !dir[0]) {
		errbuf_set(eb, "dashboard: no output directory");
		return RC_INVALID;
	}
	d = sub ? xasprintf("%s/%s", dir, sub) : xstrdup(dir);
	rc = fs_mkdirs(d, DASH_DIR_MODE, eb);
	if (rc)
		goto out;
	path = xasprintf("%s/%s", d, name);
	/* pages can always be rendered again: no fsync per file */
	rc = fs_replace_file(path, p, n, DASH_FILE_MODE, eb);
out:
	free(path);
	free(d);
	return rc;
}

/* Say which page failed to render, then pass rc on. */
static rc_t render_failed(rc_t rc, const char *sub, const char *name,
			  struct errbuf *eb)
{
	errbuf_set(eb, "render %s%s%s: %s", sub ? sub : "", sub ? "/" : "",
		   name, rc_str(rc));
	return rc;
}

/* Write a rendered page (page->err already checked by the caller). */
static rc_t write_buf(const char *dir, const char *sub, const char *name,
		      struct buf *page, struct errbuf *eb)
{
	return write_file(dir, sub, name, buf_cstr(page), page->len, eb);
}

rc_t dashboard_write_assets(const char *dir, struct errbuf *eb)
{
	rc_t rc = write_file(dir, NULL, "style.css", assets_css,
			     strlen(assets_css), eb);

	if (!rc)
		rc = write_file(dir, NULL, "live.js", assets_js,
				strlen(assets_js), eb);
	return rc;
}

rc_t dashboard_write_index(const struct dash_index *ix, const char *dir,
			   struct errbuf *eb)
{
	struct buf page;
	char name[32];
	rc_t rc;

	buf_init(&page, 0, 0);
	if (!ix) {
		errbuf_set(eb, "dashboard: no index to write");
		rc = RC_INVALID;
		goto out;
	}
	if (ix->page <= 1)
		snprintf(name, sizeof name, "index.html");
	else
		snprintf(name, sizeof name, "page-%d.html", ix->page);
	rc = dashboard_render_index(ix, &page);
	if (rc) {
		render_failed(rc, NULL, name, eb);
		goto out;
	}
	rc = write_buf(dir, NULL, name, &page, eb);
	if (rc || ix->page > 1)
		goto out;
	/* The first page has a JSON twin for scripts and live.js. */
	buf_reset(&page);
	rc = dashboard_render_index_json(ix, &page);
	if (rc) {
		render_failed(rc, NULL, "index.json", eb);
		goto out;
	}
	rc = write_buf(dir, NULL, "index.json", &page, eb);
out:
	buf_free(&page);
	return rc;
}

rc_t dashboard_write_build(const struct dash_header *h,
			   const struct dash_build *b, const char *dir,
			   struct errbuf *eb)
{
	struct buf page;
	char name[48];
	rc_t rc;

	buf_init(&page, 0, 0);
	if (!h || !b) {
		errbuf_set(eb, "dashboard: no build to write");
		rc = RC_INVALID;
		goto out;
	}
	snprintf(name, sizeof name, "%" PRId64 ".html", b->id);
	rc = dashboard_render_build(h, b, &page);
	if (rc) {
		render_failed(rc, "builds", name, eb);
		goto out;
	}
	rc = write_buf(dir, "builds", name, &page, eb);
	if (rc)
		goto out;
	buf_reset(&page);
	snprintf(name, sizeof name, "%" PRId64 ".json", b->id);
	rc = dashboard_render_build_json(b, &page);
	if (rc) {
		render_failed(rc, "builds", name, eb);
		goto out;
	}
	rc = write_buf(dir, "builds", name, &page, eb);
out:
	buf_free(&page);
	return rc;
}

rc_t dashboard_write_job_page(const struct dash_header *h,
			      const struct dash_build *b,
			      const struct dash_job *j,
			      const struct dash_log_tail *t, const char *dir,
			      struct errbuf *eb)
{
	struct buf page;
	char name[48];
	rc_t rc;

	buf_init(&page, 0, 0);
	if (!h || !j || !t) {
		errbuf_set(eb, "dashboard: no job to write");
		rc = RC_INVALID;
		goto out;
	}
	snprintf(name, sizeof name, "%" PRId64 ".html", j->id);
	rc = dashboard_render_job_tail(h, b, j, t, &page);
	if (rc) {
		render_failed(rc, "jobs", name, eb);
		goto out;
	}
	rc = write_buf(dir, "jobs", name, &page, eb);
out:
	buf_free(&page);
	return rc;
}

rc_t dashboard_write_job(const struct dash_header *h,
			 const struct dash_build *b, const struct dash_job *j,
			 const struct dash_log_piece *log, size_t n_pieces,
			 const char *dir, struct errbuf *eb)
{
	struct dash_log_file *f = NULL;
	struct dash_log_tail t;
	rc_t rc;

	if (!h || !j || (!log && n_pieces)) {
		errbuf_set(eb, "dashboard: no job to write");
		return RC_INVALID;
	}
	dash_log_tail_init(&t, 0);
	/* The raw log first: the page links to it. */
	rc = dashboard_log_file_open(dir, j->id, &f, eb);
	for (size_t i = 0; !rc && i < n_pieces; i++) {
		dashboard_log_file_write(f, log[i].stream, log[i].data,
					 log[i].len);
		dash_log_tail_add(&t, log[i].stream, log[i].data, log[i].len);
	}
	if (!rc)
		rc = dashboard_log_file_close(&f, 1, eb);
	if (!rc)
		rc = dashboard_write_job_page(h, b, j, &t, dir, eb);
	dashboard_log_file_close(&f, 0, NULL);
	dash_log_tail_free(&t);
	return rc;
}

/* A raw log being written: a temporary file renamed into place. */
struct dash_log_file {
	FILE *fp;
	char *tmp, *path;
};

rc_t dashboard_log_file_open(const char *dir, int64_t id,
			     struct dash_log_file **f, struct errbuf *eb)
{
	struct dash_log_file *lf = NULL;
	char *d = NULL;
	int fd = -1;
	rc_t rc = RC_INVALID;

	*f = NULL;
	if (!dir || !dir[0]) {
		errbuf_set(eb, "dashboard: no output directory");
		goto out;
	}
	d = xasprintf("%s/jobs", dir);
	rc = fs_mkdirs(d, DASH_DIR_MODE, eb);
	if (rc)
		goto out;
	lf = xcalloc(1, sizeof *lf);
	lf->path = xasprintf("%s/%" PRId64 ".log", d, id);
	lf->tmp = xasprintf("%s.tmp.%ld", lf->path, (long)getpid());
	fd = open(lf->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  DASH_FILE_MODE);
	if (fd < 0 || !(lf->fp = fdopen(fd, "w"))) {
		errbuf_set(eb, "create %s: %s", lf->tmp, strerror(errno));
		rc = RC_IO;
		goto out;
	}
	fd = -1; /* the FILE has it */
	*f = lf;
	lf = NULL;
out:
	if (fd >= 0)
		close(fd);
	if (lf) {
		unlink(lf->tmp);
		free(lf->tmp);
		free(lf->path);
		free(lf);
	}
	free(d);
	return rc;
}

void dashboard_log_file_write(struct dash_log_file *f, int stream,
			      const void *data, size_t len)
{
	struct dash_log_piece cut = {0, data, len};
	struct buf framed;

	if (!f || !f->fp || (!data && stream != 0))
		return;
	if (stream != 0) {
		fwrite(data, 1, len, f->fp);
		return;
	}
	/* A cut marker (one a log at most): framed as the raw text is. */
	buf_init(&framed, 0, 0);
	dashboard_render_log_text(&cut, 1, &framed);
	fwrite(buf_data(&framed), 1, framed.len, f->fp);
	buf_free(&framed);
}

rc_t dashboard_log_file_close(struct dash_log_file **f, int commit,
			      struct errbuf *eb)
{
	struct dash_log_file *lf = *f;
	rc_t rc = RC_OK;
	int bad;

	if (!lf)
		return RC_OK;
	*f = NULL;
	bad = ferror(lf->fp);
	if ((fclose(lf->fp) || bad) && commit) {
		errbuf_set(eb, "write %s: %s", lf->tmp, strerror(errno));
		rc = RC_IO;
	} else if (commit && rename(lf->tmp, lf->path) < 0) {
		errbuf_set(eb, "rename %s: %s", lf->path, strerror(errno));
		rc = RC_IO;
	}
	if (!commit || rc)
		unlink(lf->tmp);
	free(lf->tmp);
	free(lf->path);
	free(lf);
	return rc;
}

/* The three list pages differ only in renderer and name. */
static rc_t write_list(const char *name, rc_t rc, struct buf *page,
		       const char *dir, struct errbuf *eb)
{
	if (rc)
		rc = render_failed(rc, NULL, name, eb);
	else
		rc = write_buf(dir, NULL, name, page, eb);
	buf_free(page);
	return rc;
}

rc_t dashboard_write_buildlets(const struct dash_header *h,
			       const struct dash_buildlet *v, size_t n,
			       const char *dir, struct errbuf *eb)
{
	struct buf page;

	buf_init(&page, 0, 0);
	return write_list("buildlets.html",
			  dashboard_render_buildlets(h, v, n, &page), &page,
			  dir, eb);
}

rc_t dashboard_write_queue(const struct dash_header *h,
			   const struct dash_job *v, size_t n, const char *dir,
			   struct errbuf *eb)
{
	struct buf page;

	buf_init(&page, 0, 0);
	return write_list("queue.html", dashboard_render_queue(h, v, n, &page),
			  &page, dir, eb);
}

rc_t dashboard_write_failures(const struct dash_header *h,
			      const struct dash_failure *v, size_t n,
			      const char *dir, struct errbuf *eb)
{
	struct buf page;

	buf_init(&page, 0, 0);
	return write_list("failures.html",
			  dashboard_render_failures(h, v, n, &page), &page,
			  dir, eb);
}

rc_t dashboard_write_repos(const struct dash_header *h,
			   const struct dash_repo *v, size_t n,
			   const char *dir, struct errbuf *eb)
{
	struct buf page;
	rc_t rc;

	buf_init(&page, 0, 0);
	rc = dashboard_render_repos(h, v, n, &page);
	if (rc)
		rc = render_failed(rc, "repos", "index.html", eb);
	else
		rc = write_buf(dir, "repos", "index.html", &page, eb);
	buf_free(&page);
	return rc;
}

rc_t dashboard_write_repo(const struct dash_repo_page *rp, const char *dir,
			  struct errbuf *eb)
{
	struct buf page;
	char name[48];
	rc_t rc;

	buf_init(&page, 0, 0);
	if (!rp) {
		errbuf_set(eb, "dashboard: no repository page to write");
		rc = RC_INVALID;
		goto out;
	}
	if (rp->page <= 1)
		snprintf(name, sizeof name, "%" PRId64 ".html", rp->repo.id);
	else
		snprintf(name, sizeof name, "%" PRId64 "-page-%d.html",
			 rp->repo.id, rp->page);
	rc = dashboard_render_repo(rp, &page);
	if (rc) {
		render_failed(rc, "repos", name, eb);
		goto out;
	}
	rc = write_buf(dir, "repos", name, &page, eb);
	if (rc || rp->page > 1)
		goto out;
	/* The first page has a JSON twin for scripts and live.js. */
	buf_reset(&page);
	snprintf(name, sizeof name, "%" PRId64 ".json", rp->repo.id);
	rc = dashboard_render_repo_json(rp, &page);
	if (rc) {
		render_failed(rc, "repos", name, eb);
		goto out;
	}
	rc = write_buf(dir, "repos", name, &page, eb);
out:
	buf_free(&page);
	return rc;
}

/* Unlink dir/sub/ID.ext for each of exts. */
static void remove_pages(const char *dir, const char *sub, int64_t id,
			 const char *const *exts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s/%" PRId64 ".%s", dir, sub, id, exts[i]);

		unlink(path);
		free(path);
	}
}

void dashboard_remove_build(const char *dir, int64_t id)
{
	static const char *const exts[] = {"html", "json"};

	remove_pages(dir, "builds", id, exts, 2);
}

void dashboard_remove_job(const char *dir, int64_t id)
{
	static const char *const exts[] = {"html", "log"};

	remove_pages(dir, "jobs", id, exts, 2);
}
