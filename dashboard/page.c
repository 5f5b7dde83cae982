/*
 * page.c - the frame shared by all pages and the look of job states.
 *
 * Class names and symbols come from our own state table, never from the
 * snapshot; every string of the snapshot goes through html_escape*(). The
 * pages carry no inline script or style (the coordinator serves them with
 * a strict Content-Security-Policy): style.css and live.js are files next
 * to them, and live.js finds its work through data- attributes.
 */
#include "page.h"

#include <inttypes.h>
#include <string.h>

#include "clock.h"
#include "html.h"

#define EN_DASH "\xE2\x80\x93"
#define EM_DASH "\xE2\x80\x94"

static const struct state_look state_looks[] = {
	{ "queued", "\xE2\x97\x8B", 1 },     /* ○ */
	{ "dispatched", "\xE2\x97\x90", 1 }, /* ◐ */
	{ "running", "\xE2\x97\x8F", 1 },    /* ● */
	{ "passed", "\xE2\x9C\x93", 0 },     /* ✓ */
	{ "failed", "\xE2\x9C\x97", 0 },     /* ✗ */
	{ "error", "!", 0 },
	{ "cancelled", EN_DASH, 0 },         /* – */
};

/* What a state we do not know looks like (a newer store, a bad row). */
static const struct state_look state_unknown = { "unknown", "?", 0 };

const char *page_str(const char *s)
{
	return s ? s : "";
}

const struct state_look *page_state_look(const char *state)
{
	size_t n = sizeof state_looks / sizeof state_looks[0];

	for (size_t i = 0; i < n; i++)
		if (state && !strcmp(state, state_looks[i].name))
			return &state_looks[i];
	return &state_unknown;
}

static void page_head(struct buf *out, const struct page_frame *f)
{
	buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		      "<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, "
		      "initial-scale=1\">\n<title>");
	buf_puts(out, f->title);
	if (f->title_id > 0)
		buf_printf(out, " #%" PRId64, f->title_id);
	buf_printf(out, " &middot; rfarm</title>\n"
			"<link rel=\"stylesheet\" href=\"%sstyle.css\">\n",
		   f->root);
	if (f->script)
		buf_printf(out, "<script src=\"%slive.js\" defer></script>\n",
			   f->root);
	buf_puts(out, "</head>\n");
}

static void page_top(struct buf *out, const struct page_frame *f,
		     const struct dash_header *h)
{
	const char *r = f->root;

	buf_printf(out,
		   "<header class=\"top\">\n<a class=\"brand\" href=\"%sindex.html\">"
		   "rfarm</a>\n<nav class=\"main\"><a href=\"%sindex.html\">Matrix"
		   "</a> <a href=\"%squeue.html\">Queue</a> <a href=\"%s"
		   "failures.html\">Failures</a> <a href=\"%sbuildlets.html\">"
		   "Buildlets</a> <a href=\"%srepos/index.html\">Repositories"
		   "</a></nav>\n", r, r, r, r, r, r);
	buf_printf(out, "<p class=\"status\"><a href=\"%sbuildlets.html\">%d "
			"buildlet%s connected</a> &middot; <a href=\"%squeue.html"
			"\">%d job%s queued</a> &middot; rendered ",
		   r, h->buildlets_connected,
		   h->buildlets_connected == 1 ? "" : "s", r, h->jobs_queued,
		   h->jobs_queued == 1 ? "" : "s");
	html_time(out, h->now_ms);
	buf_puts(out, "</p>\n</header>\n");
}

/* One line per host type short of machines; nothing when none is. */
static void page_alerts(struct buf *out, const struct dash_header *h)
{
	int any = 0;

	for (size_t i = 0; h->alerts && i < h->n_alerts; i++) {
		const struct dash_alert *a = &h->alerts[i];

		if (a->connected >= a->expected)
			continue;
		if (!any++)
			buf_puts(out, "<div class=\"alerts\" role=\"alert\">\n");
		buf_puts(out, "<p class=\"alert\">");
		html_escape(out, page_str(a->host_type));
		buf_printf(out, ": %d of %d machines connected", a->connected,
			   a->expected);
		if (a->owner && a->owner[0]) {
			buf_puts(out, " " EM_DASH " owner ");
			html_escape(out, a->owner);
		}
		buf_puts(out, "</p>\n");
	}
	if (any)
		buf_puts(out, "</div>\n");
}

void page_begin(struct buf *out, const struct page_frame *f,
		const struct dash_header *h)
{
	page_head(out, f);
	buf_printf(out, "<body class=\"p-%s\">\n", f->kind);
	page_top(out, f, h);
	page_alerts(out, h);
	buf_puts(out, "<main");
	if (f->poll)
		buf_printf(out, " data-poll=\"%s\" data-root=\"%s\"", f->poll,
			   f->root);
	buf_puts(out, ">\n");
}

void page_end(struct buf *out)
{
	buf_puts(out, "</main>\n</body>\n</html>\n");
}

void page_job_title(struct buf *out, const struct dash_job *j)
{
	buf_printf(out, "job %" PRId64 " ", j->id);
	html_escape(out, page_str(j->platform));
	buf_puts(out, ": ");
	html_escape(out, page_str(j->state));
	if (j->duration_ms > 0) {
		buf_puts(out, " in ");
		html_duration(out, j->duration_ms);
	}
	if (j->exit_code >= 0)
		buf_printf(out, ", exit %d", j->exit_code);
	if (j->signal > 0)
		buf_printf(out, ", signal %d", j->signal);
	if (j->cached)
		buf_printf(out, " (cached from job %" PRId64 ")", j->cached_from);
	if (j->error && j->error[0]) {
		buf_puts(out, ": ");
		html_escape(out, j->error);
	}
}

void page_cell(struct buf *out, const struct dash_job *j, const char *root)
{
	const struct state_look *look = page_state_look(j->state);

	buf_printf(out, "<a class=\"cell s-%s%s\" href=\"%sjobs/%" PRId64
			".html\" data-job=\"%" PRId64 "\" data-state=\"%s\" "
			"title=\"", look->name, j->cached ? " cached" : "",
		   root, j->id, j->id, look->name);
	page_job_title(out, j);
	buf_printf(out, "\">%s<span class=\"t\"> %s</span>", look->sym,
		   look->name);
	if (j->cached)
		buf_puts(out, "<span class=\"cm\"> " CACHED_SYM "</span>");
	buf_puts(out, "</a>");
}

void page_exit(struct buf *out, int exit_code, int signal)
{
	if (signal > 0)
		buf_printf(out, "signal %d", signal);
	else if (exit_code >= 0)
		buf_printf(out, "exit %d", exit_code);
	else
		buf_puts(out, EN_DASH);
}

void page_tags(struct buf *out, const char *const *v, size_t n)
{
	if (n == 0) {
		buf_puts(out, EN_DASH);
		return;
	}
	buf_puts(out, "<ul class=\"tags\">");
	for (size_t i = 0; i < n; i++) {
		buf_puts(out, "<li>");
		html_escape(out, page_str(v[i]));
		buf_puts(out, "</li>");
	}
	buf_puts(out, "</ul>");
}

void page_job_json_fields(struct buf *out, const struct dash_job *j)
{
	buf_printf(out, "\"id\":%" PRId64 ",\"build\":%" PRId64 ",\"platform\":",
		   j->id, j->build_id);
	jsonw_str(out, j->platform);
	buf_puts(out, ",\"state\":");
	jsonw_str(out, j->state);
	buf_printf(out, ",\"cached\":%s,\"cached_from\":", j->cached ? "true" :
		   "false");
	if (j->cached_from)
		buf_printf(out, "%" PRId64, j->cached_from);
	else
		buf_puts(out, "null");
	buf_printf(out, ",\"exit_code\":%d,\"signal\":%d,\"duration_ms\":%" PRId64
			",\"error\":", j->exit_code, j->signal, j->duration_ms);
	jsonw_str(out, j->error);
}

void page_build_json_head(struct buf *out, const struct dash_build *b)
{
	buf_printf(out, "{\"id\":%" PRId64 ",\"created\":", b->id);
	jsonw_time(out, b->created_ms);
	buf_puts(out, ",\"command\":");
	jsonw_str(out, b->command);
	buf_puts(out, ",\"source\":");
	jsonw_str(out, b->source);
	buf_puts(out, ",\"commit\":");
	jsonw_str(out, b->commit);
	buf_puts(out, ",\"requester\":");
	jsonw_str(out, b->requester);
}

/* ---- shared by the matrices ---- */

/* The file name of page p of a paged list: first for 1, STEMpage-P.html
 * after. */
static void pager_href(struct buf *out, const struct page_names *pn, int p)
{
	if (p <= 1)
		buf_puts(out, pn->first);
	else
		buf_printf(out, "%spage-%d.html", pn->stem, p);
}

static void pager_link(struct buf *out, const struct page_names *pn, int p,
		       int current)
{
	if (p == current) {
		buf_printf(out, " <span aria-current=\"page\">%d</span>", p);
		return;
	}
	buf_puts(out, " <a href=\"");
	pager_href(out, pn, p);
	buf_printf(out, "\">%d</a>", p);
}

void page_pager(struct buf *out, const struct page_names *pn, int page,
		int n)
{
	if (n <= 1)
		return;
	buf_puts(out, "<nav class=\"pager\" aria-label=\"pages\">");
	if (page > 1) {
		buf_puts(out, "<a rel=\"prev\" href=\"");
		pager_href(out, pn, page - 1);
		buf_puts(out, "\">&larr; newer</a>");
	}
	for (int p = 1; p <= n; p++) {
		if (p == 1 || p == n || (p >= page - PAGE_LINKS_AROUND &&
					 p <= page + PAGE_LINKS_AROUND))
			pager_link(out, pn, p, page);
		else if (p == page - PAGE_LINKS_AROUND - 1 ||
			 p == page + PAGE_LINKS_AROUND + 1)
			buf_puts(out, " &hellip;");
	}
	if (page < n) {
		buf_puts(out, " <a rel=\"next\" href=\"");
		pager_href(out, pn, page + 1);
		buf_puts(out, "\">older &rarr;</a>");
	}
	buf_puts(out, "</nav>\n");
}

void page_matrix_head(struct buf *out, const char *corner,
		      const char *const *cols, size_t n)
{
	buf_printf(out, "<div class=\"wrap\">\n<table class=\"matrix%s\">\n"
			"<thead><tr><th scope=\"col\" class=\"build\">%s</th>",
		   n > PAGE_MANY_COLUMNS ? " many" : "", corner);
	for (size_t p = 0; p < n; p++) {
		buf_puts(out, "<th scope=\"col\" class=\"plat\"><span>");
		html_escape(out, page_str(cols[p]));
		buf_puts(out, "</span></th>");
	}
	buf_puts(out, "</tr></thead>\n<tbody>\n");
}

void page_ago(struct buf *out, int64_t then_ms, int64_t now_ms)
{
	int64_t s = (now_ms - then_ms) / 1000;
	char t[40];

	if (then_ms <= 0) {
		buf_puts(out, EN_DASH);
		return;
	}
	clock_format_rfc3339(then_ms, t, sizeof t);
	buf_printf(out, "<time datetime=\"%s\" title=\"%s\">", t, t);
	if (s < 0)
		buf_puts(out, t); /* a clock ahead of ours: say when */
	else if (s < 60)
		buf_printf(out, "%" PRId64 "s ago", s);
	else if (s < 3600)
		buf_printf(out, "%" PRId64 "m ago", s / 60);
	else if (s < 2 * 86400)
		buf_printf(out, "%" PRId64 "h ago", s / 3600);
	else
		buf_printf(out, "%" PRId64 "d ago", s / 86400);
	buf_puts(out, "</time>");
}
