/*
 * failures.c - failures.html: recent failed and error jobs, newest first
 * (by finish time, then id), each with the last lines of its log.
 *
 * The caller picks how much tail to hand over; the page shows at most
 * TAIL_LINES of it, escaped like the job page (invalid UTF-8 becomes
 * U+FFFD), so one noisy failure cannot drown the rest.
 */
#include "dashboard.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "page.h"
#include "xalloc.h"

#define TAIL_LINES 20 /* log lines shown per failure */
#define COMMAND_MAX_CHARS 120

static int by_finish(const void *a, const void *b)
{
	const struct dash_failure *x = *(const struct dash_failure *const *)a;
	const struct dash_failure *y = *(const struct dash_failure *const *)b;
	int64_t fx = x->job ? x->job->finished_ms : 0;
	int64_t fy = y->job ? y->job->finished_ms : 0;
	int64_t ix = x->job ? x->job->id : 0, iy = y->job ? y->job->id : 0;

	if (fx != fy)
		return fx > fy ? -1 : 1;
	return ix > iy ? -1 : ix < iy;
}

/* Offset of the last `lines` lines of p[0..n) (a final newline ends the
 * last line, it does not start another). */
static size_t tail_start(const char *p, size_t n, int lines)
{
	size_t i = n;

	if (i && p[i - 1] == '\n')
		i--;
	while (i > 0) {
		if (p[i - 1] == '\n' && --lines == 0)
			break;
		i--;
	}
	return i;
}

static void render_failure(struct buf *out, const struct dash_failure *f)
{
	const struct dash_job *j = f->job;
	size_t from;

	buf_printf(out, "<section class=\"failure\" id=\"job-%" PRId64 "\">\n"
			"<h2>", j->id);
	page_cell(out, j, PAGE_ROOT);
	buf_printf(out, " <a href=\"jobs/%" PRId64 ".html\">Job #%" PRId64
			"</a> ", j->id, j->id);
	html_escape(out, page_str(j->platform));
	buf_printf(out, " <span class=\"sub\">of <a href=\"builds/%" PRId64
			".html\">build #%" PRId64 "</a></span></h2>\n<p class="
			"\"meta\">", j->build_id, j->build_id);
	page_exit(out, j->exit_code, j->signal);
	if (j->duration_ms > 0) {
		buf_puts(out, " after ");
		html_duration(out, j->duration_ms);
	}
	buf_puts(out, " &middot; finished ");
	html_time(out, j->finished_ms);
	if (j->buildlet && j->buildlet[0]) {
		buf_puts(out, " on ");
		html_escape(out, j->buildlet);
	}
	buf_puts(out, "</p>\n<p><code class=\"cmd\" title=\"");
	html_escape(out, page_str(f->command));
	buf_puts(out, "\">");
	html_escape_trunc(out, page_str(f->command), COMMAND_MAX_CHARS);
	buf_puts(out, "</code></p>\n");
	if (j->error && j->error[0]) {
		buf_puts(out, "<p class=\"error\">");
		html_escape(out, j->error);
		buf_puts(out, "</p>\n");
	}
	if (f->log_tail && f->log_tail_len) {
		from = tail_start(f->log_tail, f->log_tail_len, TAIL_LINES);
		buf_puts(out, "<pre class=\"tail\">");
		html_escape_n(out, f->log_tail + from, f->log_tail_len - from);
		buf_puts(out, "</pre>\n");
	}
	buf_puts(out, "</section>\n");
}

rc_t dashboard_render_failures(const struct dash_header *h,
			       const struct dash_failure *v, size_t n,
			       struct buf *out)
{
	static const struct page_frame f = {
		.title = "Failures",
		.root = PAGE_ROOT,
		.kind = "failures",
	};
	const struct dash_failure **order;
	size_t shown = 0;

	if (!h || !out || (!v && n))
		return RC_INVALID;
	order = xcalloc(n ? n : 1, sizeof *order);
	for (size_t i = 0; i < n; i++)
		if (v[i].job)
			order[shown++] = &v[i];
	qsort(order, shown, sizeof *order, by_finish);
	page_begin(out, &f, h);
	buf_puts(out, "<h1>Recent failures</h1>\n");
	if (!shown)
		buf_puts(out, "<p class=\"empty\">No recent failures.</p>\n");
	for (size_t i = 0; i < shown; i++)
		render_failure(out, order[i]);
	page_end(out);
	free(order);
	return out->err;
}
