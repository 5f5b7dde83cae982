/*
 * render.c - the index page: a matrix of builds (rows) by platforms
 * (columns), one cell per job state. Pure: snapshot in, bytes out.
 *
 * Every string of the snapshot is untrusted (commands and errors come from
 * API clients and buildlets), so it reaches the page only through
 * html_escape*(); class names and symbols come from our own state table,
 * never from the snapshot. Cells are filled per build by scanning that
 * build's jobs for each column: builds have few jobs, so the page costs
 * O(builds x platforms x jobs-per-build), never O(all jobs) per cell.
 */
#include "dashboard.h"

#include <inttypes.h>
#include <string.h>

#include "assets.h"
#include "html.h"

#define COMMAND_MAX_CHARS 80 /* command shown in a row; full text on hover */
#define REFRESH_SECONDS 10   /* reload period while anything is moving */

struct state_look {
	const char *name; /* state as the store spells it; also the CSS class */
	const char *sym;  /* symbol that reads without colour */
	int live;         /* the job may still change: keep refreshing */
};

static const struct state_look state_looks[] = {
	{ "queued", "\xE2\x97\x8B", 1 },     /* ○ */
	{ "dispatched", "\xE2\x97\x90", 1 }, /* ◐ */
	{ "running", "\xE2\x97\x8F", 1 },    /* ● */
	{ "passed", "\xE2\x9C\x93", 0 },     /* ✓ */
	{ "failed", "\xE2\x9C\x97", 0 },     /* ✗ */
	{ "error", "!", 0 },
	{ "cancelled", "\xE2\x8A\x98", 0 },  /* ⊘ */
};

/* What a state we do not know looks like (a newer store, a bad row). */
static const struct state_look state_unknown = { "unknown", "?", 0 };

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

static const struct state_look *state_look_of(const char *state)
{
	size_t n = sizeof state_looks / sizeof state_looks[0];

	for (size_t i = 0; i < n; i++)
		if (state && !strcmp(state, state_looks[i].name))
			return &state_looks[i];
	return &state_unknown;
}

/* Does anything on the page still move, so a reload would show news? */
static int snapshot_is_live(const struct dash_snapshot *s)
{
	if (s->jobs_queued > 0)
		return 1;
	for (size_t b = 0; b < s->n_builds; b++) {
		const struct dash_build *build = &s->builds[b];

		for (size_t j = 0; j < build->n_jobs; j++)
			if (state_look_of(build->jobs[j].state)->live)
				return 1;
	}
	return 0;
}

static void render_head(struct buf *out, const struct dash_snapshot *s)
{
	buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		      "<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, "
		      "initial-scale=1\">\n");
	if (snapshot_is_live(s))
		buf_printf(out, "<meta http-equiv=\"refresh\" content=\"%d\">\n",
			   REFRESH_SECONDS);
	buf_puts(out, "<title>rfarm</title>\n<style>\n");
	buf_puts(out, assets_css);
	buf_puts(out, "</style>\n</head>\n<body>\n");
}

static void render_status(struct buf *out, const struct dash_snapshot *s)
{
	buf_printf(out,
		   "<header>\n<h1>rfarm</h1>\n<p class=\"status\">"
		   "%d buildlet%s connected &middot; %d job%s queued &middot; "
		   "rendered ",
		   s->buildlets_connected, s->buildlets_connected == 1 ? "" : "s",
		   s->jobs_queued, s->jobs_queued == 1 ? "" : "s");
	html_time(out, s->now_ms);
	buf_puts(out, "</p>\n</header>\n");
}

static void render_empty(struct buf *out)
{
	buf_puts(out, "<p class=\"empty-page\">No builds yet.</p>\n"
		      "<p>Submit one with <code>rfarm submit --platform "
		      "linux/amd64 -- echo hello</code> and it shows up here.</p>\n");
}

/* Hover text: "job 7: passed in 1.2s, exit 0" or "job 9: error: <text>". */
static void render_job_title(struct buf *out, const struct dash_job *j)
{
	buf_printf(out, "job %" PRId64 ": ", j->id);
	html_escape(out, str_or_empty(j->state));
	if (j->duration_ms > 0) {
		buf_puts(out, " in ");
		html_duration(out, j->duration_ms);
	}
	if (j->exit_code >= 0)
		buf_printf(out, ", exit %d", j->exit_code);
	if (j->error && j->error[0]) {
		buf_puts(out, ": ");
		html_escape(out, j->error);
	}
}

static void render_job(struct buf *out, const struct dash_job *j)
{
	const struct state_look *look = state_look_of(j->state);

	buf_printf(out, "<a class=\"job st-%s\" href=\"/api/v1/jobs/%" PRId64
			"/log\" title=\"", look->name, j->id);
	render_job_title(out, j);
	buf_printf(out, "\"><span class=\"sym\" aria-hidden=\"true\">%s</span>"
			"<span class=\"state\">", look->sym);
	html_escape(out, str_or_empty(j->state));
	buf_puts(out, "</span></a>");
}

/* One matrix cell: every job of build b on platform, or an empty cell. */
static void render_cell(struct buf *out, const struct dash_build *b,
			const char *platform)
{
	int any = 0;

	for (size_t j = 0; j < b->n_jobs; j++) {
		if (strcmp(str_or_empty(b->jobs[j].platform), platform))
			continue;
		if (!any)
			buf_puts(out, "<td class=\"cell\">");
		render_job(out, &b->jobs[j]);
		any = 1;
	}
	buf_puts(out, any ? "</td>" : "<td class=\"empty\"></td>");
}

/* Jobs of b whose platform is not a column: said, so none hides. */
static size_t jobs_off_matrix(const struct dash_snapshot *s,
			      const struct dash_build *b)
{
	size_t n = 0;

	for (size_t j = 0; j < b->n_jobs; j++) {
		size_t p = 0;

		while (p < s->n_platforms &&
		       strcmp(str_or_empty(b->jobs[j].platform),
			      str_or_empty(s->platforms[p])))
			p++;
		n += p == s->n_platforms;
	}
	return n;
}

static void render_build_cell(struct buf *out, const struct dash_snapshot *s,
			      const struct dash_build *b)
{
	const char *cmd = str_or_empty(b->command);
	size_t other = jobs_off_matrix(s, b);

	buf_printf(out, "<th scope=\"row\" class=\"build\"><a href=\"/api/v1/"
			"builds/%" PRId64 "\">#%" PRId64 "</a>", b->id, b->id);
	html_time(out, b->created_ms);
	buf_puts(out, "<code title=\"");
	html_escape(out, cmd);
	buf_puts(out, "\">");
	html_escape_trunc(out, cmd, COMMAND_MAX_CHARS);
	buf_puts(out, "</code>");
	if (other)
		buf_printf(out, "<span class=\"other\">+%zu job%s on other "
				"platforms</span>", other, other == 1 ? "" : "s");
	buf_puts(out, "</th>");
}

static void render_matrix(struct buf *out, const struct dash_snapshot *s)
{
	buf_puts(out, "<table class=\"matrix\">\n<thead><tr>"
		      "<th scope=\"col\">build</th>");
	for (size_t p = 0; p < s->n_platforms; p++) {
		buf_puts(out, "<th scope=\"col\">");
		html_escape(out, str_or_empty(s->platforms[p]));
		buf_puts(out, "</th>");
	}
	buf_puts(out, "</tr></thead>\n<tbody>\n");
	for (size_t b = 0; b < s->n_builds; b++) {
		buf_puts(out, "<tr>");
		render_build_cell(out, s, &s->builds[b]);
		for (size_t p = 0; p < s->n_platforms; p++)
			render_cell(out, &s->builds[b],
				    str_or_empty(s->platforms[p]));
		buf_puts(out, "</tr>\n");
	}
	buf_puts(out, "</tbody>\n</table>\n");
}

rc_t dashboard_render_index(const struct dash_snapshot *s, struct buf *out)
{
	if (!s || !out)
		return RC_INVALID;
	render_head(out, s);
	render_status(out, s);
	buf_puts(out, "<main>\n");
	if (s->n_builds == 0)
		render_empty(out);
	else
		render_matrix(out, s);
	buf_puts(out, "</main>\n</body>\n</html>\n");
	return out->err;
}
