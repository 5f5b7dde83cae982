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
#define MANY_PLATFORMS 6     /* more columns than this: compact matrix */
#define PAGE_LINKS_AROUND 2  /* page numbers shown either side of this one */

/* "index.html" for page 1, "page-N.html" after. */
static void page_href(struct buf *out, int page)
{
	if (page <= 1)
		buf_puts(out, "index.html");
	else
		buf_printf(out, "page-%d.html", page);
}

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
	buf_printf(out, "<div class=\"wrap\">\n<table class=\"matrix%s\">\n"
			"<thead><tr><th scope=\"col\" class=\"build\">build</th>",
		   ix->n_platforms > MANY_PLATFORMS ? " many" : "");
	for (size_t p = 0; p < ix->n_platforms; p++) {
		buf_puts(out, "<th scope=\"col\" class=\"plat\"><span>");
		html_escape(out, page_str(ix->platforms[p]));
		buf_puts(out, "</span></th>");
	}
	buf_puts(out, "</tr></thead>\n<tbody>\n");
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

static void render_page_link(struct buf *out, int page, int current)
{
	if (page == current) {
		buf_printf(out, " <span aria-current=\"page\">%d</span>", page);
		return;
	}
	buf_puts(out, " <a href=\"");
	page_href(out, page);
	buf_printf(out, "\">%d</a>", page);
}

/* Newer / older links both ways and a window of page numbers. */
static void render_pager(struct buf *out, const struct dash_index *ix)
{
	int page = ix->page, n = ix->n_pages;

	if (n <= 1)
		return;
	buf_puts(out, "<nav class=\"pager\" aria-label=\"pages\">");
	if (page > 1) {
		buf_puts(out, "<a rel=\"prev\" href=\"");
		page_href(out, page - 1);
		buf_puts(out, "\">&larr; newer</a>");
	}
	for (int p = 1; p <= n; p++) {
		if (p == 1 || p == n || (p >= page - PAGE_LINKS_AROUND &&
					 p <= page + PAGE_LINKS_AROUND))
			render_page_link(out, p, page);
		else if (p == page - PAGE_LINKS_AROUND - 1 ||
			 p == page + PAGE_LINKS_AROUND + 1)
			buf_puts(out, " &hellip;");
	}
	if (page < n) {
		buf_puts(out, " <a rel=\"next\" href=\"");
		page_href(out, page + 1);
		buf_puts(out, "\">older &rarr;</a>");
	}
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
	if (ix->n_builds == 0 && ix->page <= 1)
		render_empty(out);
	else
		render_matrix(out, ix);
	render_pager(out, ix);
	page_end(out);
	return out->err;
}

/* ---- index.json ---- */

static void build_row_json(struct buf *out, const struct dash_build *b)
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
