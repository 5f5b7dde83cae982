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
 *
 * A page shows at most the last DASH_LOG_TAIL_BYTES of the log, from a
 * line's start: the log is collected into a dash_log_tail as it streams
 * by, which keeps that much and only counts the bytes and lines before
 * it, so neither memory nor the page grows with the log. Such a page says
 * what it leaves out and links the whole raw log; its lines keep their
 * true numbers (ids Ln, and data-n drawn by the style sheet, as a CSS
 * counter cannot start past 1 without an inline style, which the
 * Content-Security-Policy forbids).
 */
#include "dashboard.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "jobinfo.h"
#include "page.h"
#include "xalloc.h"

#define EN_DASH "\xE2\x80\x93"

struct log_state {
	struct buf *out;
	int64_t line;  /* lines started so far */
	int open;      /* a line span is open (its newline has not come) */
	int stream;    /* stream of the open line */
	int64_t bytes; /* raw bytes rendered */
	int numbered;  /* lines carry data-n (the head is left out) */
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
			    "href=\"#L%" PRId64 "\"", ls->line,
		   stream_class(stream), ls->line);
	if (ls->numbered)
		buf_printf(ls->out, " data-n=\"%" PRId64 "\"", ls->line);
	buf_puts(ls->out, "></a>");
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

/* ---- the tail of a log ---- */

void dash_log_tail_init(struct dash_log_tail *t, size_t cap)
{
	memset(t, 0, sizeof *t);
	t->cap = cap ? cap : DASH_LOG_TAIL_BYTES;
	t->max_lines = DASH_LOG_TAIL_LINES;
	buf_init(&t->text, 0, 0);
}

void dash_log_tail_free(struct dash_log_tail *t)
{
	buf_free(&t->text);
	free(t->v);
	memset(t, 0, sizeof *t);
}

/* Count p[0..n) into c: raw bytes, and lines as log_run/log_cut begin
 * them (a cut marker closes the open line and is a line of its own).
 * Returns what kept_lines counts of it: its newlines, or 1 for a cut. */
static size_t count_add(struct dash_log_count *c, int stream, const char *p,
			size_t n)
{
	size_t ends = 0;

	if (stream == 0) {
		struct dash_log_piece cut = {0, p, n};
		int pre, post;

		c->bytes += (int64_t)cut_framing(&cut, &pre, &post);
		c->lines++;
		c->open = 0;
		return 1;
	}
	c->bytes += (int64_t)n;
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t seg = nl ? (size_t)(nl - p) + 1 : n;

		if (!c->open)
			c->lines++;
		c->open = !nl;
		ends += nl != NULL;
		p += seg;
		n -= seg;
	}
	return ends;
}

/* Leave out the front of the kept bytes: all of the first piece, or its
 * first n bytes (never part of a cut marker). */
static void tail_drop(struct dash_log_tail *t, size_t n)
{
	struct dash_tail_piece *f = &t->v[t->first];
	const char *text = (const char *)buf_data(&t->text);

	if (f->stream == 0 || n > f->len)
		n = f->len;
	t->kept_lines -= count_add(&t->skipped, f->stream,
				   text ? text + f->off : NULL, n);
	f->off += n;
	f->len -= n;
	t->kept -= n;
	if (!f->len)
		t->first++;
}

/* Bytes of the first kept piece up to its first line's end (all of it
 * if that end is in a later piece). */
static size_t first_line_len(const struct dash_log_tail *t)
{
	const struct dash_tail_piece *f = &t->v[t->first];
	const char *p = (const char *)buf_data(&t->text) + f->off;
	const char *nl = f->stream ? memchr(p, '\n', f->len) : NULL;

	return nl ? (size_t)(nl - p) + 1 : f->len;
}

/* Give back the room of what was left out, once it is the most of it. */
static void tail_compact(struct dash_log_tail *t)
{
	size_t start = t->first < t->n ? t->v[t->first].off : t->text.len;

	if (start > 65536 && start > t->text.len / 2) {
		buf_consume(&t->text, start);
		for (size_t i = t->first; i < t->n; i++)
			t->v[i].off -= start;
	}
	if (t->first > 1024 && t->first > t->n / 2) {
		memmove(t->v, t->v + t->first, (t->n - t->first) * sizeof *t->v);
		t->n -= t->first;
		t->first = 0;
	}
}

void dash_log_tail_add(struct dash_log_tail *t, int stream, const void *data,
		       size_t len)
{
	struct dash_tail_piece *last = t->n > t->first ? &t->v[t->n - 1] : NULL;

	if (stream != 0 && stream != 2)
		stream = 1;
	if (!data)
		len = 0;
	/* Pieces of one stream are joined on the page anyway: one piece
	 * each keeps a log of many small writes in few pieces. */
	if (last && stream && last->stream == stream &&
	    last->off + last->len == t->text.len)
		last->len += len;
	else
		*(struct dash_tail_piece *)xarray_push(&t->v, &t->n, &t->cap_v,
						       sizeof *t->v) =
			(struct dash_tail_piece){stream, t->text.len, len};
	if (len)
		buf_append(&t->text, data, len);
	t->kept += len;
	t->kept_lines += count_add(&t->fed, stream, data, len);
	while (t->first < t->n &&
	       (t->kept > t->cap || t->n - t->first > t->cap / 16 + 1))
		tail_drop(t, t->kept > t->cap ? t->kept - t->cap : t->cap);
	while (t->first < t->n && t->kept_lines > t->max_lines)
		tail_drop(t, first_line_len(t));
	tail_compact(t);
}

/* The pieces a page shows: the kept ones from the first line that starts
 * in them (the kept bytes may begin inside a line), with what is left
 * out before them. *whole is 0 if no line starts in them: the page then
 * shows the end of a line it cannot show whole. */
struct tail_view {
	struct dash_log_piece *p;
	size_t n;
	int64_t bytes, lines;
	int whole;
};

static void tail_view(const struct dash_log_tail *t, struct tail_view *w)
{
	const char *text = (const char *)buf_data(&t->text);
	size_t k = t->first, at = 0;

	w->bytes = t->skipped.bytes;
	w->lines = t->skipped.lines;
	w->whole = !t->skipped.open;
	/* Skip to the first newline or cut marker, counting the bytes. */
	for (size_t i = t->first; !w->whole && i < t->n; i++) {
		const struct dash_tail_piece *v = &t->v[i];
		const char *nl = v->stream ? memchr(text + v->off, '\n', v->len)
					   : NULL;

		if (!v->stream || nl) {
			k = i;
			at = nl ? (size_t)(nl - (text + v->off)) + 1 : 0;
			w->whole = 1;
		}
	}
	if (!w->whole) {
		k = t->first;
		at = 0;
	}
	for (size_t i = t->first; w->whole && i < k; i++)
		w->bytes += (int64_t)t->v[i].len;
	w->bytes += (int64_t)at;
	w->n = t->n - k;
	w->p = xcalloc(w->n + 1, sizeof *w->p);
	for (size_t i = 0; i < w->n; i++) {
		const struct dash_tail_piece *v = &t->v[k + i];
		size_t skip = i ? 0 : at;

		w->p[i] = (struct dash_log_piece){v->stream,
						  text ? text + v->off + skip : NULL,
						  v->len - skip};
	}
}

/* What the page leaves out, and where to find it. */
static void render_skipped(struct buf *out, const struct tail_view *w,
			   const char *raw)
{
	buf_printf(out, "<p class=\"skipped\" id=\"skipped\">Only the end of "
			"the log is shown: its first %" PRId64 " bytes (%"
			PRId64 " lines%s) are left out here; the <a href=\"%s\">"
			"raw log</a> has them all.</p>\n", w->bytes,
		   w->whole ? w->lines : w->lines - 1,
		   w->whole ? "" : " and the start of the next", raw);
}

static void render_log(struct buf *out, const struct dash_job *j,
		       const struct dash_log_tail *t)
{
	const struct state_look *look = page_state_look(j->state);
	struct buf lines, raw;
	struct tail_view w;
	struct log_state ls = { .out = &lines };

	buf_init(&lines, 0, 0);
	buf_init(&raw, 0, 0);
	tail_view(t, &w);
	ls.bytes = w.bytes;
	ls.line = w.whole ? w.lines : w.lines - 1;
	ls.numbered = ls.line > 0;
	render_log_lines(&ls, w.p, w.n);
	/* A job that still runs has no raw file yet (it is written once,
	 * at the end): the API serves its log as it grows. */
	if (look->live)
		buf_printf(&raw, "/api/v1/jobs/%" PRId64 "/log", j->id);
	else
		buf_printf(&raw, "%" PRId64 ".log", j->id);
	buf_printf(out, "<h2>Log</h2>\n<p class=\"links\"><a href=\"%s\">raw "
			"log</a> &middot; <a href=\"/api/v1/jobs/%" PRId64
			"/log\">API</a>", buf_cstr(&raw), j->id);
	if (j->cached)
		buf_printf(out, " &middot; the log of <a href=\"%" PRId64
				".html\">job %" PRId64 "</a>", j->cached_from,
			   j->cached_from);
	buf_puts(out, "</p>\n");
	if (w.bytes)
		render_skipped(out, &w, buf_cstr(&raw));
	if (!ls.line)
		buf_printf(out, "<p class=\"empty\" id=\"nolog\">%s</p>\n",
			   look->live ? "No output yet." : "No output.");
	/* No newline between <pre> and the first line: the parser would
	 * drop it, but live.js counts on the pre holding only lines. */
	buf_printf(out, "<pre id=\"log\" data-job=\"%" PRId64 "\" data-state="
			"\"%s\" data-bytes=\"%" PRId64 "\" data-lines=\"%" PRId64
			"\" data-open=\"%d\"%s>", j->id, look->name, ls.bytes,
		   ls.line, ls.open, ls.numbered ? " class=\"from\"" : "");
	if (ls.open)
		line_close(&ls);
	buf_append(out, buf_data(&lines), lines.len);
	if (lines.err && !out->err)
		out->err = lines.err;
	buf_puts(out, "</pre>\n<p id=\"live\" class=\"live\" hidden></p>\n");
	buf_free(&lines);
	buf_free(&raw);
	free(w.p);
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

rc_t dashboard_render_job_tail(const struct dash_header *h,
			       const struct dash_build *b,
			       const struct dash_job *j,
			       const struct dash_log_tail *t, struct buf *out)
{
	struct page_frame f = {
		.title = "Job",
		.root = PAGE_SUB,
		.kind = "job",
		.script = 1,
	};

	if (!h || !j || !t || !out)
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
	render_log(out, j, t);
	page_end(out);
	return out->err;
}

rc_t dashboard_render_job(const struct dash_header *h,
			  const struct dash_build *b, const struct dash_job *j,
			  const struct dash_log_piece *log, size_t n_pieces,
			  struct buf *out)
{
	struct dash_log_tail t;
	rc_t rc;

	if (!log && n_pieces)
		return RC_INVALID;
	dash_log_tail_init(&t, 0);
	for (size_t i = 0; i < n_pieces; i++)
		dash_log_tail_add(&t, log[i].stream, log[i].data, log[i].len);
	rc = dashboard_render_job_tail(h, b, j, &t, out);
	dash_log_tail_free(&t);
	return rc;
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
