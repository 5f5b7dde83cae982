/*
 * index.c - the matrix (index.html, page-N.html) and its JSON twin.
 *
 * Rows are builds in the order given (newest first), columns the given
 * platforms. Cells are filled per build by scanning that build's jobs for
 * each column: builds have few jobs, so a page costs O(builds x platforms
 * x jobs-per-build), never O(all jobs) per cell. With many platforms the
 * table gets class "many": the style sheet then rotates the column heads
 * and shows only the symbols, so 20 columns still fit a laptop, and the
 * wrapper scrolls sideways on a phone.
 */
#include "dashboard.h"

#include <inttypes.h>
#include <string.h>

#include "html.h"
#include "page.h"

#define COMMAND_MAX_CHARS 80 /* command shown in a row; full text on hover */
#define COMMIT_CHARS 10      /* a commit shown in a row */

static const struct page_names index_names = { "index.html", "" };

static void render_empty(struct buf *out)
{
	buf_puts(out, "<p class=\"empty\">No builds yet.</p>\n"
		      "<p>Submit one with <code>rfarm submit --platform "
		      "linux/amd64 -- echo hello</code> and it shows up here.</p>\n");
}

/* One matrix cell: every job of build b on platform, or an empty cell. */
static void render_cell(struct buf *out, const struct dash_build *b,
			const char *platform)
{
	int any = 0;

	for (size_t j = 0; j < b->n_jobs; j++) {
		if (strcmp(page_str(b->jobs[j].platform), platform))
			continue;
		buf_puts(out, any ? " " : "<td>");
		page_cell(out, &b->jobs[j], PAGE_ROOT);
		any = 1;
	}
	buf_puts(out, any ? "</td>" : "<td class=\"none\"></td>");
}

/* Jobs of b whose platform is not a column: said, so none hides. */
static size_t jobs_off_matrix(const struct dash_index *ix,
			      const struct dash_build *b)
{
	size_t n = 0;

	for (size_t j = 0; j < b->n_jobs; j++) {
		size_t p = 0;

		while (p < ix->n_platforms &&
		       strcmp(page_str(b->jobs[j].platform),
			      page_str(ix->platforms[p])))
			p++;
		n += p == ix->n_platforms;
	}
	return n;
}

static void render_build_cell(struct buf *out, const struct dash_index *ix,
			      const struct dash_build *b)
{
	const char *cmd = page_str(b->command);
	const char *commit = page_str(b->commit);
	size_t other = jobs_off_matrix(ix, b);

	buf_printf(out, "<th scope=\"row\" class=\"build\"><a href=\"builds/"
			"%" PRId64 ".html\">#%" PRId64 "</a> ", b->id, b->id);
	html_time(out, b->created_ms);
	if (commit[0]) {
		buf_puts(out, " <code class=\"commit\" title=\"");
		html_escape(out, commit);
		buf_puts(out, "\">");
		html_escape_n(out, commit, html_utf8_prefix(commit, COMMIT_CHARS));
		buf_puts(out, "</code>");
	}
	buf_puts(out, "<code class=\"cmd\" title=\"");
	html_escape(out, cmd);
	buf_puts(out, "\">");
	html_escape_trunc(out, cmd, COMMAND_MAX_CHARS);
	buf_puts(out, "</code>");
	if (other)
		buf_printf(out, "<span class=\"other\">+%zu job%s on other "
				"platforms</span>", other, other == 1 ? "" : "s");
	buf_puts(out, "</th>");
}

static void render_matrix(struct buf *out, const struct dash_index *ix)
{
	page_matrix_head(out, "build", ix->platforms, ix->n_platforms);
	for (size_t b = 0; b < ix->n_builds; b++) {
		buf_puts(out, "<tr>");
		render_build_cell(out, ix, &ix->builds[b]);
		for (size_t p = 0; p < ix->n_platforms; p++)
			render_cell(out, &ix->builds[b],
				    page_str(ix->platforms[p]));
		buf_puts(out, "</tr>\n");
	}
	buf_puts(out, "</tbody>\n</table>\n</div>\n");
}

/* The watched repositories, small, above the matrix of page 1. */
static void render_repos(struct buf *out, const struct dash_index *ix)
{
	int any = 0;

	for (size_t i = 0; ix->repos && i < ix->n_repos; i++) {
		const struct dash_repo *r = &ix->repos[i];

		if (!r->watched)
			continue;
		buf_puts(out, any++ ? " " : "<nav class=\"repos\" aria-label="
				  "\"repositories\">Commits of ");
		buf_printf(out, "<a href=\"repos/%" PRId64 ".html\">", r->id);
		html_escape(out, page_str(r->url));
		buf_puts(out, "</a>");
		if (r->last_error && r->last_error[0])
			buf_puts(out, " <span class=\"poll-error\">(poll failing)"
				      "</span>");
	}
	if (any)
		buf_puts(out, "</nav>\n");
}

rc_t dashboard_render_index(const struct dash_index *ix, struct buf *out)
{
	struct page_frame f = {
		.title = "Matrix",
		.root = PAGE_ROOT,
		.kind = "index",
		.script = 1,
	};

	if (!ix || !out)
		return RC_INVALID;
	/* Only the first page has a JSON twin to poll. */
	f.poll = ix->page <= 1 ? "index.json" : NULL;
	page_begin(out, &f, &ix->h);
	if (ix->page > 1)
		buf_printf(out, "<h1>Builds, page %d of %d</h1>\n", ix->page,
			   ix->n_pages);
	else
		buf_puts(out, "<h1 class=\"vh\">Builds</h1>\n");
	if (ix->page <= 1)
		render_repos(out, ix);
	if (ix->n_builds == 0 && ix->page <= 1)
		render_empty(out);
	else
		render_matrix(out, ix);
	page_pager(out, &index_names, ix->page, ix->n_pages);
	page_end(out);
	return out->err;
}

/* ---- index.json ---- */

static void build_row_json(struct buf *out, const struct dash_build *b)
{
	page_build_json_head(out, b);
	buf_puts(out, ",\"jobs\":[");
	for (size_t j = 0; j < b->n_jobs; j++) {
		if (j)
			buf_putc(out, ',');
		buf_putc(out, '{');
		page_job_json_fields(out, &b->jobs[j]);
		buf_putc(out, '}');
	}
	buf_puts(out, "]}");
}

rc_t dashboard_render_index_json(const struct dash_index *ix, struct buf *out)
{
	if (!ix || !out)
		return RC_INVALID;
	buf_printf(out, "{\"page\":%d,\"pages\":%d,\"rendered\":", ix->page,
		   ix->n_pages);
	jsonw_time(out, ix->h.now_ms);
	buf_printf(out, ",\"buildlets_connected\":%d,\"jobs_queued\":%d,"
			"\"platforms\":[", ix->h.buildlets_connected,
		   ix->h.jobs_queued);
	for (size_t p = 0; p < ix->n_platforms; p++) {
		if (p)
			buf_putc(out, ',');
		jsonw_str(out, ix->platforms[p]);
	}
	buf_puts(out, "],\"builds\":[");
	for (size_t b = 0; b < ix->n_builds; b++) {
		buf_puts(out, b ? ",\n" : "\n");
		build_row_json(out, &ix->builds[b]);
	}
	buf_puts(out, "\n]}\n");
	return out->err;
}
