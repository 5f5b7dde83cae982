/*
 * repo.c - the matrix by commit of a watched repository (repos/ID.html,
 * repos/ID-page-N.html), its JSON twin (repos/ID.json) and the list of
 * repositories (repos/index.html).
 *
 * Rows are commits newest first, columns the builders. A built cell is
 * page_cell(), the same markup as the build matrix, so live.js repaints
 * both alike; a cell without a build yet has its own look. Each row
 * carries data-commit and each cell data-builder, so live.js can also
 * swap a "not built yet" cell (or the cell of an older build) for the
 * build that appeared since: the JSON twin is keyed the same way.
 * Subjects, authors, branches and builder names are user data: escaped.
 */
#include "dashboard.h"

#include <inttypes.h>
#include <stdio.h>

#include "html.h"
#include "page.h"

#define SUBJECT_MAX_CHARS 80 /* subject shown in a row; full text on hover */
#define SHORT_HASH 10        /* hash digits shown in a row */
#define UNBUILT_SYM "\xE2\x97\x8C" /* ◌ dotted circle: nothing ran yet */
#define MID_DOT " &middot; "

static void render_unbuilt(struct buf *out)
{
	buf_puts(out, "<span class=\"cell s-unbuilt\" data-state=\"unbuilt\" "
		      "title=\"not built yet\">" UNBUILT_SYM "<span class=\"t\">"
		      " not built yet</span></span>");
}

/* The row head: short hash, subject, author, time, branch. */
static void render_commit_head(struct buf *out, const struct dash_commit *c,
			       int64_t now_ms)
{
	const char *hash = page_str(c->hash), *subject = page_str(c->subject);

	buf_puts(out, "<th scope=\"row\" class=\"build\"><code class=\"commit\" "
		      "title=\"");
	html_escape(out, hash);
	buf_puts(out, "\">");
	html_escape_n(out, hash, html_utf8_prefix(hash, SHORT_HASH));
	buf_puts(out, "</code> <span class=\"subject\" title=\"");
	html_escape(out, subject);
	buf_puts(out, "\">");
	html_escape_trunc(out, subject, SUBJECT_MAX_CHARS);
	buf_puts(out, "</span><span class=\"by\">");
	html_escape(out, page_str(c->author));
	buf_puts(out, MID_DOT);
	page_ago(out, c->time_ms, now_ms);
	if (c->branch && c->branch[0]) {
		buf_puts(out, MID_DOT "<span class=\"branch\">");
		html_escape(out, c->branch);
		buf_puts(out, "</span>");
	}
	buf_puts(out, "</span></th>");
}

static void render_row(struct buf *out, const struct dash_repo_page *rp,
		       const struct dash_commit *c)
{
	buf_puts(out, "<tr data-commit=\"");
	html_escape(out, page_str(c->hash));
	buf_puts(out, "\">");
	render_commit_head(out, c, rp->h.now_ms);
	for (size_t k = 0; k < rp->n_builders; k++) {
		const struct dash_job *j = c->cells ? c->cells[k] : NULL;

		buf_puts(out, j ? "<td data-builder=\"" :
			 "<td class=\"none\" data-builder=\"");
		html_escape(out, page_str(rp->builders[k]));
		buf_puts(out, "\">");
		if (j)
			page_cell(out, j, PAGE_SUB);
		else
			render_unbuilt(out);
		buf_puts(out, "</td>");
	}
	buf_puts(out, "</tr>\n");
}

static void render_repo_head(struct buf *out, const struct dash_repo_page *rp)
{
	const struct dash_repo *r = &rp->repo;

	buf_puts(out, "<h1>Commits of <code>");
	html_escape(out, page_str(r->url));
	buf_puts(out, "</code>");
	if (rp->page > 1)
		buf_printf(out, ", page %d of %d", rp->page, rp->n_pages);
	buf_printf(out, "</h1>\n<p class=\"links\">%s" MID_DOT "last poll ",
		   r->watched ? "watched" : "no longer watched");
	page_ago(out, r->last_poll_ms, rp->h.now_ms);
	buf_printf(out, MID_DOT "%" PRId64 " commit%s" MID_DOT "<a href=\""
			"%" PRId64 ".json\">JSON</a>" MID_DOT "<a href=\"/api/v1/"
			"repos/%" PRId64 "/commits\">API</a></p>\n",
		   r->n_commits, r->n_commits == 1 ? "" : "s", r->id, r->id);
	if (r->last_error && r->last_error[0]) {
		buf_puts(out, "<p class=\"poll-error\" role=\"status\">The last "
			      "poll failed: ");
		html_escape(out, r->last_error);
		buf_puts(out, "</p>\n");
	}
}

rc_t dashboard_render_repo(const struct dash_repo_page *rp, struct buf *out)
{
	struct page_frame f = {
		.title = "Repository",
		.root = PAGE_SUB,
		.kind = "repo",
		.script = 1,
	};
	char poll[32], first[32], stem[32];
	struct page_names pn = { first, stem };

	if (!rp || !out || (!rp->builders && rp->n_builders) ||
	    (!rp->commits && rp->n_commits))
		return RC_INVALID;
	snprintf(poll, sizeof poll, "%" PRId64 ".json", rp->repo.id);
	snprintf(first, sizeof first, "%" PRId64 ".html", rp->repo.id);
	snprintf(stem, sizeof stem, "%" PRId64 "-", rp->repo.id);
	f.title_id = rp->repo.id;
	/* Only the first page has a JSON twin to poll. */
	f.poll = rp->page <= 1 ? poll : NULL;
	page_begin(out, &f, &rp->h);
	render_repo_head(out, rp);
	if (!rp->n_commits) {
		buf_puts(out, "<p class=\"empty\">No commits recorded yet: they "
			      "appear here once the watcher has polled.</p>\n");
	} else {
		page_matrix_head(out, "commit", rp->builders, rp->n_builders);
		for (size_t i = 0; i < rp->n_commits; i++)
			render_row(out, rp, &rp->commits[i]);
		buf_puts(out, "</tbody>\n</table>\n</div>\n");
	}
	page_pager(out, &pn, rp->page, rp->n_pages);
	page_end(out);
	return out->err;
}

/* ---- repos/ID.json ---- */

static void repo_json(struct buf *out, const struct dash_repo *r)
{
	buf_printf(out, "{\"id\":%" PRId64 ",\"url\":", r->id);
	jsonw_str(out, r->url);
	buf_printf(out, ",\"watched\":%s,\"last_poll\":", r->watched ? "true" :
		   "false");
	jsonw_time(out, r->last_poll_ms);
	buf_puts(out, ",\"last_error\":");
	jsonw_str(out, r->last_error);
	buf_printf(out, ",\"commits\":%" PRId64 "}", r->n_commits);
}

/* "BUILDER":{"job":J, the job's fields as in index.json} or null. */
static void cell_json(struct buf *out, const char *builder,
		      const struct dash_job *j)
{
	jsonw_str(out, builder);
	if (!j) {
		buf_puts(out, ":null");
		return;
	}
	buf_printf(out, ":{\"job\":%" PRId64 ",", j->id);
	page_job_json_fields(out, j);
	buf_putc(out, '}');
}

static void commit_json(struct buf *out, const struct dash_repo_page *rp,
			const struct dash_commit *c)
{
	const char *hash = page_str(c->hash);

	buf_printf(out, "{\"id\":%" PRId64 ",\"hash\":", c->id);
	jsonw_str(out, hash);
	buf_puts(out, ",\"short\":");
	jsonw_str_n(out, hash, html_utf8_prefix(hash, SHORT_HASH));
	buf_puts(out, ",\"subject\":");
	jsonw_str(out, c->subject);
	buf_puts(out, ",\"author\":");
	jsonw_str(out, c->author);
	buf_puts(out, ",\"time\":");
	jsonw_time(out, c->time_ms);
	buf_puts(out, ",\"branch\":");
	jsonw_str(out, c->branch);
	buf_puts(out, ",\"cells\":{");
	for (size_t k = 0; k < rp->n_builders; k++) {
		if (k)
			buf_putc(out, ',');
		cell_json(out, rp->builders[k], c->cells ? c->cells[k] : NULL);
	}
	buf_puts(out, "}}");
}

rc_t dashboard_render_repo_json(const struct dash_repo_page *rp,
				struct buf *out)
{
	if (!rp || !out || (!rp->builders && rp->n_builders) ||
	    (!rp->commits && rp->n_commits))
		return RC_INVALID;
	buf_puts(out, "{\"repo\":");
	repo_json(out, &rp->repo);
	buf_puts(out, ",\"rendered\":");
	jsonw_time(out, rp->h.now_ms);
	buf_printf(out, ",\"page\":%d,\"n_pages\":%d,\"builders\":[", rp->page,
		   rp->n_pages);
	for (size_t k = 0; k < rp->n_builders; k++) {
		if (k)
			buf_putc(out, ',');
		jsonw_str(out, rp->builders[k]);
	}
	buf_puts(out, "],\"commits\":[");
	for (size_t i = 0; i < rp->n_commits; i++) {
		buf_puts(out, i ? ",\n" : "\n");
		commit_json(out, rp, &rp->commits[i]);
	}
	buf_puts(out, "\n]}\n");
	return out->err;
}

/* ---- repos/index.html ---- */

static void repos_row(struct buf *out, const struct dash_repo *r,
		      int64_t now_ms)
{
	buf_printf(out, "<tr><th scope=\"row\"><a href=\"%" PRId64 ".html\">",
		   r->id);
	html_escape(out, page_str(r->url));
	buf_printf(out, "</a></th><td>%s</td><td>", r->watched ?
		   "<span class=\"on\">watched</span>" :
		   "<span class=\"off\">not watched</span>");
	page_ago(out, r->last_poll_ms, now_ms);
	buf_printf(out, "</td><td class=\"num\">%" PRId64 "</td><td>",
		   r->n_commits);
	if (r->last_error && r->last_error[0]) {
		buf_puts(out, "<strong class=\"poll-error\">");
		html_escape(out, r->last_error);
		buf_puts(out, "</strong>");
	}
	buf_puts(out, "</td></tr>\n");
}

rc_t dashboard_render_repos(const struct dash_header *h,
			    const struct dash_repo *v, size_t n,
			    struct buf *out)
{
	static const struct page_frame f = {
		.title = "Repositories",
		.root = PAGE_SUB,
		.kind = "repos",
	};

	if (!h || !out || (!v && n))
		return RC_INVALID;
	page_begin(out, &f, h);
	buf_puts(out, "<h1>Repositories</h1>\n");
	if (!n) {
		buf_puts(out, "<p class=\"empty\">No repository is watched. Add "
			      "one to the <code>repos</code> of the coordinator's "
			      "<code>--config</code> file.</p>\n");
		page_end(out);
		return out->err;
	}
	buf_puts(out, "<div class=\"wrap\"><table class=\"list\">\n<thead><tr>"
		      "<th>repository</th><th>status</th><th>last poll</th>"
		      "<th>commits</th><th>last poll error</th></tr></thead>\n"
		      "<tbody>\n");
	for (size_t i = 0; i < n; i++)
		repos_row(out, &v[i], h->now_ms);
	buf_puts(out, "</tbody></table></div>\n");
	page_end(out);
	return out->err;
}
