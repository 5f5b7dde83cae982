/*
 * build.c - a build's page (builds/ID.html) and its JSON twin.
 *
 * The page shows the request as it was made (source, commit, command,
 * environment, labels, requester), a table of its jobs whose state cells
 * live.js refreshes from ID.json, then each job's attempts and artifacts.
 */
#include "dashboard.h"

#include <inttypes.h>
#include <stdio.h>

#include "html.h"
#include "jobinfo.h"
#include "page.h"

#define EN_DASH "\xE2\x80\x93"

/* <dt>name</dt><dd>escaped value, or – when empty</dd> in a <code>. */
static void field_code(struct buf *out, const char *name, const char *v)
{
	buf_printf(out, "<dt>%s</dt><dd>", name);
	if (v && v[0]) {
		buf_puts(out, "<code>");
		html_escape(out, v);
		buf_puts(out, "</code>");
	} else {
		buf_puts(out, EN_DASH);
	}
	buf_puts(out, "</dd>\n");
}

static void render_request(struct buf *out, const struct dash_build *b)
{
	buf_puts(out, "<dl class=\"fields\">\n<dt>Created</dt><dd>");
	html_time(out, b->created_ms);
	buf_puts(out, "</dd>\n<dt>Requester</dt><dd>");
	html_escape(out, b->requester && b->requester[0] ? b->requester :
		    EN_DASH);
	buf_puts(out, "</dd>\n");
	field_code(out, "Source", b->source);
	field_code(out, "Commit", b->commit);
	buf_puts(out, "<dt>Command</dt><dd><pre class=\"cmd\">");
	html_escape(out, page_str(b->command));
	buf_puts(out, "</pre></dd>\n<dt>Environment</dt><dd>");
	page_tags(out, b->env, b->env ? b->n_env : 0);
	buf_puts(out, "</dd>\n<dt>Labels</dt><dd>");
	page_tags(out, b->labels, b->labels ? b->n_labels : 0);
	buf_puts(out, "</dd>\n</dl>\n");
}

static void job_row(struct buf *out, const struct dash_job *j)
{
	buf_printf(out, "<tr><td><a href=\"../jobs/%" PRId64 ".html\">#%" PRId64
			"</a></td><td>", j->id, j->id);
	html_escape(out, page_str(j->platform));
	buf_puts(out, "</td><td>");
	page_cell(out, j, PAGE_SUB);
	buf_puts(out, "</td><td>");
	html_escape(out, page_str(j->buildlet));
	buf_puts(out, "</td><td>");
	if (j->duration_ms > 0)
		html_duration(out, j->duration_ms);
	buf_puts(out, "</td><td>");
	page_exit(out, j->exit_code, j->signal);
	buf_printf(out, "</td><td>%zu</td><td class=\"error\">",
		   j->attempts ? j->n_attempts : 0);
	html_escape(out, page_str(j->error));
	buf_puts(out, "</td></tr>\n");
}

static void render_jobs(struct buf *out, const struct dash_build *b)
{
	buf_puts(out, "<h2>Jobs</h2>\n");
	if (!b->n_jobs) {
		buf_puts(out, "<p class=\"empty\">This build has no jobs.</p>\n");
		return;
	}
	buf_puts(out, "<div class=\"wrap\"><table class=\"jobs\">\n<thead><tr>"
		      "<th>job</th><th>platform</th><th>state</th>"
		      "<th>buildlet</th><th>duration</th><th>exit</th>"
		      "<th>attempts</th><th>error</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < b->n_jobs; i++)
		job_row(out, &b->jobs[i]);
	buf_puts(out, "</tbody></table></div>\n");
}

/* Each job's attempts and artifacts, when it has any. */
static void render_job_details(struct buf *out, const struct dash_build *b)
{
	for (size_t i = 0; i < b->n_jobs; i++) {
		const struct dash_job *j = &b->jobs[i];

		if (!(j->attempts && j->n_attempts) &&
		    !(j->artifacts && j->n_artifacts))
			continue;
		buf_printf(out, "<section class=\"jobinfo\" id=\"job-%" PRId64
				"\">\n<h3><a href=\"../jobs/%" PRId64 ".html\">"
				"Job #%" PRId64 "</a> ", j->id, j->id, j->id);
		html_escape(out, page_str(j->platform));
		buf_puts(out, "</h3>\n");
		jobinfo_attempts(out, j);
		jobinfo_artifacts(out, j);
		buf_puts(out, "</section>\n");
	}
}

rc_t dashboard_render_build(const struct dash_header *h,
			    const struct dash_build *b, struct buf *out)
{
	struct page_frame f = {
		.title = "Build",
		.root = PAGE_SUB,
		.kind = "build",
		.script = 1,
	};
	char poll[32];

	if (!h || !b || !out)
		return RC_INVALID;
	snprintf(poll, sizeof poll, "%" PRId64 ".json", b->id);
	f.title_id = b->id;
	f.poll = poll;
	page_begin(out, &f, h);
	buf_printf(out, "<h1>Build #%" PRId64 "</h1>\n<p class=\"links\">"
			"<a href=\"%" PRId64 ".json\">JSON</a> &middot; "
			"<a href=\"/api/v1/builds/%" PRId64 "\">API</a></p>\n",
		   b->id, b->id, b->id);
	render_request(out, b);
	render_jobs(out, b);
	render_job_details(out, b);
	page_end(out);
	return out->err;
}

static void strings_json(struct buf *out, const char *const *v, size_t n)
{
	buf_putc(out, '[');
	for (size_t i = 0; v && i < n; i++) {
		if (i)
			buf_putc(out, ',');
		jsonw_str(out, v[i]);
	}
	buf_putc(out, ']');
}

static void job_json(struct buf *out, const struct dash_job *j)
{
	buf_putc(out, '{');
	page_job_json_fields(out, j);
	buf_puts(out, ",\"buildlet\":");
	jsonw_str(out, j->buildlet);
	buf_puts(out, ",\"created\":");
	jsonw_time(out, j->created_ms);
	buf_puts(out, ",\"started\":");
	jsonw_time(out, j->started_ms);
	buf_puts(out, ",\"finished\":");
	jsonw_time(out, j->finished_ms);
	buf_puts(out, ",\"reason\":");
	jsonw_str(out, j->reason);
	jobinfo_json(out, j);
	buf_putc(out, '}');
}

rc_t dashboard_render_build_json(const struct dash_build *b, struct buf *out)
{
	if (!b || !out)
		return RC_INVALID;
	page_build_json_head(out, b);
	buf_puts(out, ",\"env\":");
	strings_json(out, b->env, b->n_env);
	buf_puts(out, ",\"labels\":");
	strings_json(out, b->labels, b->n_labels);
	buf_puts(out, ",\"jobs\":[");
	for (size_t i = 0; b->jobs && i < b->n_jobs; i++) {
		buf_puts(out, i ? ",\n" : "\n");
		job_json(out, &b->jobs[i]);
	}
	buf_puts(out, "\n]}\n");
	return out->err;
}
