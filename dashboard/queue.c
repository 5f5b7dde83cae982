/*
 * queue.c - queue.html: jobs waiting for a buildlet, longest waiting
 * first, with how long they have waited (now - created) and why.
 *
 * The order is made here, on a copy of pointers, so the caller may hand
 * the jobs in any order; the sort is stable on ties (then by id).
 */
#include "dashboard.h"

#include <inttypes.h>
#include <stdlib.h>

#include "html.h"
#include "page.h"
#include "xalloc.h"

#define EN_DASH "\xE2\x80\x93"

static int by_wait(const void *a, const void *b)
{
	const struct dash_job *x = *(const struct dash_job *const *)a;
	const struct dash_job *y = *(const struct dash_job *const *)b;

	if (x->created_ms != y->created_ms)
		return x->created_ms < y->created_ms ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void render_row(struct buf *out, const struct dash_job *j,
		       int64_t now_ms)
{
	buf_puts(out, "<tr><td>");
	page_cell(out, j, PAGE_ROOT);
	buf_printf(out, "</td><td><a href=\"jobs/%" PRId64 ".html\">#%" PRId64
			"</a></td><td><a href=\"builds/%" PRId64 ".html\">#%"
			PRId64 "</a></td><td>", j->id, j->id, j->build_id,
		   j->build_id);
	html_escape(out, page_str(j->platform));
	buf_puts(out, "</td><td class=\"num\">");
	html_duration(out, now_ms - j->created_ms);
	buf_puts(out, "</td><td>");
	html_escape(out, j->reason && j->reason[0] ? j->reason : EN_DASH);
	buf_puts(out, "</td></tr>\n");
}

static void render_table(struct buf *out, const struct dash_job *v, size_t n,
			 int64_t now_ms)
{
	const struct dash_job **order = xcalloc(n, sizeof *order);

	for (size_t i = 0; i < n; i++)
		order[i] = &v[i];
	qsort(order, n, sizeof *order, by_wait);
	buf_puts(out, "<div class=\"wrap\"><table class=\"list\">\n<thead><tr>"
		      "<th>state</th><th>job</th><th>build</th><th>platform</th>"
		      "<th>waiting</th><th>reason</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < n; i++)
		render_row(out, order[i], now_ms);
	buf_puts(out, "</tbody></table></div>\n");
	free(order);
}

rc_t dashboard_render_queue(const struct dash_header *h,
			    const struct dash_job *v, size_t n, struct buf *out)
{
	static const struct page_frame f = {
		.title = "Queue",
		.root = PAGE_ROOT,
		.kind = "queue",
	};

	if (!h || !out || (!v && n))
		return RC_INVALID;
	page_begin(out, &f, h);
	buf_printf(out, "<h1>Queue</h1>\n<p>%zu job%s waiting.</p>\n", n,
		   n == 1 ? "" : "s");
	if (n)
		render_table(out, v, n, h->now_ms);
	else
		buf_puts(out, "<p class=\"empty\">Nothing waits.</p>\n");
	page_end(out);
	return out->err;
}
