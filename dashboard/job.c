/*
 * job.c - a job's page (jobs/ID.html) and its raw log (jobs/ID.log).
 *
 * The log is one <span id="Ln" class="out|err|cut"> per line inside
 * <pre id="log">, each starting with an empty link to #Ln whose number
 * the style sheet draws (a CSS counter), so selecting the text copies the
 * log without line numbers. A line's class is the stream of its first
 * byte; bytes of the other stream in the same line get an inner span.
 *
 * Consecutive pieces of one stream are joined before lines are split, so
 * a character cut in two by the buildlet's pipe reads is escaped whole.
 * The pre carries data-bytes (the raw log length) and data-open (the last
 * line has no newline yet), so live.js can follow the API's log stream
 * from where the page stops and keep numbering the lines.
 */
#include "dashboard.h"

#include <inttypes.h>
#include <string.h>

#include "html.h"
#include "jobinfo.h"
#include "page.h"

#define EN_DASH "\xE2\x80\x93"

struct log_state {
	struct buf *out;
	int64_t line;  /* lines started so far */
	int open;      /* a line span is open (its newline has not come) */
	int stream;    /* stream of the open line */
	int64_t bytes; /* raw bytes rendered */
};

/*
 * A cut marker stands on its own line in the raw text too, as the API's
 * log stream writes it ("\n[rfarm: N bytes of log cut here]\n"): the
 * newlines it lacks are added. Returns the bytes it takes in the raw text.
 */
static size_t cut_framing(const struct dash_log_piece *p, int *pre, int *post)
{
	const char *d = p->data;

	*pre = !(p->len && d && d[0] == '\n');
	*post = !(p->len && d && d[p->len - 1] == '\n');
	return (d ? p->len : 0) + (size_t)*pre + (size_t)*post;
}

static const char *stream_class(int stream)
{
	return stream == 2 ? "err" : stream == 0 ? "cut" : "out";
}

static void line_open(struct log_state *ls, int stream)
{
	ls->line++;
	buf_printf(ls->out, "<span id=\"L%" PRId64 "\" class=\"%s\"><a class=\"ln\" "
			    "href=\"#L%" PRId64 "\"></a>", ls->line,
		   stream_class(stream), ls->line);
	ls->open = 1;
	ls->stream = stream;
}

static void line_close(struct log_state *ls)
{
	buf_puts(ls->out, "</span>");
	ls->open = 0;
}

/* Text of stream s without newlines, into the open line. */
static void line_text(struct log_state *ls, int s, const char *p, size_t n)
{
	if (!n)
		return;
	if (s != ls->stream)
		buf_printf(ls->out, "<span class=\"%s\">", stream_class(s));
	html_escape_n(ls->out, p, n);
	if (s != ls->stream)
		buf_puts(ls->out, "</span>");
}

/* A run of one stream (1 or 2): split into lines. */
static void log_run(struct log_state *ls, int s, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;

		if (!ls->open)
			line_open(ls, s);
		line_text(ls, s, p, len);
		if (!nl)
			return;
		buf_putc(ls->out, '\n');
		line_close(ls);
		p += len + 1;
		n -= len + 1;
	}
}

/* A cut marker: its own line, whatever newlines it comes with. */
static void log_cut(struct log_state *ls, const char *p, size_t n)
{
	while (n && *p == '\n')
		p++, n--;
	while (n && p[n - 1] == '\n')
		n--;
	if (ls->open) {
		buf_putc(ls->out, '\n');
		line_close(ls);
	}
	line_open(ls, 0);
	html_escape_n(ls->out, p, n);
	buf_putc(ls->out, '\n');
	line_close(ls);
}

/* Pieces [i, *end) are one stream; join them into scratch if several. */
static const char *log_join(const struct dash_log_piece *log, size_t n,
			    size_t i, size_t *end, size_t *len,
			    struct buf *scratch)
{
	size_t k = i + 1;

	while (k < n && log[k].stream == log[i].stream && log[k].stream != 0)
		k++;
	*end = k;
	if (k == i + 1) {
		*len = log[i].data ? log[i].len : 0;
		return log[i].data;
	}
	buf_reset(scratch);
	for (size_t q = i; q < k; q++)
		if (log[q].data)
			buf_append(scratch, log[q].data, log[q].len);
	*len = scratch->len;
	return (const char *)buf_data(scratch);
}

static void render_log_lines(struct log_state *ls,
			     const struct dash_log_piece *log, size_t n)
{
	struct buf scratch;
	size_t i = 0;

	buf_init(&scratch, 0, 0);
	while (i < n) {
		size_t end, len;
		const char *p;

		if (log[i].stream == 0) {
			int pre, post;

			ls->bytes += (int64_t)cut_framing(&log[i], &pre, &post);
			log_cut(ls, log[i].data, log[i].data ? log[i].len : 0);
			i++;
			continue;
		}
		p = log_join(log, n, i, &end, &len, &scratch);
		ls->bytes += (int64_t)len;
		if (p)
			log_run(ls, log[i].stream == 2 ? 2 : 1, p, len);
		i = end;
	}
	buf_free(&scratch);
}

static void render_log(struct buf *out, const struct dash_job *j,
		       const struct dash_log_piece *log, size_t n)
{
	const struct state_look *look = page_state_look(j->state);
	struct buf lines;
	struct log_state ls = { .out = &lines };

	buf_init(&lines, 0, 0);
	render_log_lines(&ls, log, log ? n : 0);
	buf_printf(out, "<h2>Log</h2>\n<p class=\"links\"><a href=\"%" PRId64
			".log\">raw log</a> &middot; <a href=\"/api/v1/jobs/"
			"%" PRId64 "/log\">API</a>", j->id, j->id);
	if (j->cached)
		buf_printf(out, " &middot; the log of <a href=\"%" PRId64
				".html\">job %" PRId64 "</a>", j->cached_from,
			   j->cached_from);
	buf_puts(out, "</p>\n");
	if (!ls.line)
		buf_printf(out, "<p class=\"empty\" id=\"nolog\">%s</p>\n",
			   look->live ? "No output yet." : "No output.");
	/* No newline between <pre> and the first line: the parser would
	 * drop it, but live.js counts on the pre holding only lines. */
	buf_printf(out, "<pre id=\"log\" data-job=\"%" PRId64 "\" data-state="
			"\"%s\" data-bytes=\"%" PRId64 "\" data-lines=\"%" PRId64
			"\" data-open=\"%d\">", j->id, look->name, ls.bytes,
		   ls.line, ls.open);
	if (ls.open)
		line_close(&ls);
	buf_append(out, buf_data(&lines), lines.len);
	if (lines.err && !out->err)
		out->err = lines.err;
	buf_puts(out, "</pre>\n<p id=\"live\" class=\"live\" hidden></p>\n");
	buf_free(&lines);
}

static void render_job_fields(struct buf *out, const struct dash_job *j)
{
	const struct state_look *look = page_state_look(j->state);

	buf_printf(out, "<dl class=\"fields\">\n<dt>State</dt><dd><span "
			"class=\"state s-%s\">%s %s</span>", look->name,
		   look->sym, look->name);
	if (j->cached)
		buf_printf(out, " <span class=\"cm\">" CACHED_SYM " cached from "
				"<a href=\"%" PRId64 ".html\">job %" PRId64 "</a>"
				"</span>", j->cached_from, j->cached_from);
	buf_puts(out, "</dd>\n<dt>Platform</dt><dd>");
	html_escape(out, page_str(j->platform));
	buf_puts(out, "</dd>\n<dt>Buildlet</dt><dd>");
	html_escape(out, j->buildlet && j->buildlet[0] ? j->buildlet : EN_DASH);
	buf_puts(out, "</dd>\n<dt>Exit</dt><dd>");
	page_exit(out, j->exit_code, j->signal);
	buf_puts(out, "</dd>\n<dt>Duration</dt><dd>");
	if (j->duration_ms > 0)
		html_duration(out, j->duration_ms);
	else
		buf_puts(out, EN_DASH);
	buf_puts(out, "</dd>\n<dt>Created</dt><dd>");
	html_time(out, j->created_ms);
	buf_puts(out, "</dd>\n<dt>Started</dt><dd>");
	html_time(out, j->started_ms);
	buf_puts(out, "</dd>\n<dt>Finished</dt><dd>");
	html_time(out, j->finished_ms);
	buf_puts(out, "</dd>\n");
	if (j->reason && j->reason[0] && look->live) {
		buf_puts(out, "<dt>Waiting for</dt><dd>");
		html_escape(out, j->reason);
		buf_puts(out, "</dd>\n");
	}
	if (j->error && j->error[0]) {
		buf_puts(out, "<dt>Error</dt><dd class=\"error\">");
		html_escape(out, j->error);
		buf_puts(out, "</dd>\n");
	}
	buf_puts(out, "</dl>\n");
}

rc_t dashboard_render_job(const struct dash_header *h,
			  const struct dash_build *b, const struct dash_job *j,
			  const struct dash_log_piece *log, size_t n_pieces,
			  struct buf *out)
{
	struct page_frame f = {
		.title = "Job",
		.root = PAGE_SUB,
		.kind = "job",
		.script = 1,
	};

	if (!h || !j || !out)
		return RC_INVALID;
	f.title_id = j->id;
	page_begin(out, &f, h);
	buf_printf(out, "<h1>Job #%" PRId64 " <span class=\"plat\">", j->id);
	html_escape(out, page_str(j->platform));
	buf_puts(out, "</span></h1>\n");
	if (b) {
		buf_printf(out, "<p class=\"crumbs\"><a href=\"../builds/%" PRId64
				".html\">Build #%" PRId64 "</a> <code class=\"cmd\">",
			   b->id, b->id);
		html_escape(out, page_str(b->command));
		buf_puts(out, "</code></p>\n");
	}
	render_job_fields(out, j);
	if (j->attempts && j->n_attempts) {
		buf_puts(out, "<h2>Attempts</h2>\n");
		jobinfo_attempts(out, j);
	}
	if (j->artifacts && j->n_artifacts) {
		buf_puts(out, "<h2>Artifacts</h2>\n");
		jobinfo_artifacts(out, j);
	}
	render_log(out, j, log, n_pieces);
	page_end(out);
	return out->err;
}

rc_t dashboard_render_log_text(const struct dash_log_piece *log,
			       size_t n_pieces, struct buf *out)
{
	if (!out || (!log && n_pieces))
		return RC_INVALID;
	for (size_t i = 0; i < n_pieces; i++) {
		int pre = 0, post = 0;

		if (log[i].stream == 0)
			cut_framing(&log[i], &pre, &post);
		if (pre)
			buf_putc(out, '\n');
		if (log[i].data)
			buf_append(out, log[i].data, log[i].len);
		if (post)
			buf_putc(out, '\n');
	}
	return out->err;
}
