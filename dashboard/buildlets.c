/*
 * buildlets.c - buildlets.html: every buildlet the store knows, connected
 * or not, in the order given.
 *
 * Names, host types, platforms, labels and versions are reported by the
 * buildlets themselves, so all of it is escaped like any build string.
 */
#include "dashboard.h"

#include <inttypes.h>
#include <string.h>

#include "html.h"
#include "page.h"

#define EN_DASH "\xE2\x80\x93"

static void render_status(struct buf *out, const struct dash_buildlet *v)
{
	const char *cred = page_str(v->credential);

	if (v->connected)
		buf_puts(out, "<span class=\"on\">\xE2\x97\x8F connected</span>");
	else
		buf_puts(out, "<span class=\"off\">\xE2\x97\x8B offline</span>");
	if (v->drained)
		buf_puts(out, " <span class=\"drained\">drained</span>");
	if (!strcmp(cred, "revoked") || !strcmp(cred, "expired")) {
		buf_puts(out, " <span class=\"revoked\">");
		html_escape(out, cred);
		buf_puts(out, "</span>");
	}
}

static void render_jobs(struct buf *out, const struct dash_buildlet *v)
{
	if (!v->jobs || !v->n_jobs) {
		buf_puts(out, EN_DASH);
		return;
	}
	for (size_t i = 0; i < v->n_jobs; i++)
		buf_printf(out, "%s<a href=\"jobs/%" PRId64 ".html\">#%" PRId64
				"</a>", i ? " " : "", v->jobs[i], v->jobs[i]);
}

static void render_row(struct buf *out, const struct dash_buildlet *v)
{
	buf_puts(out, "<tr><th scope=\"row\">");
	html_escape(out, page_str(v->name));
	buf_puts(out, "</th><td>");
	render_status(out, v);
	buf_puts(out, "</td><td>");
	html_escape(out, page_str(v->host_type));
	buf_puts(out, "</td><td>");
	page_tags(out, v->platforms, v->platforms ? v->n_platforms : 0);
	buf_puts(out, "</td><td>");
	page_tags(out, v->labels, v->labels ? v->n_labels : 0);
	buf_printf(out, "</td><td>%d / %d</td><td>", v->running, v->capacity);
	render_jobs(out, v);
	buf_puts(out, "</td><td>");
	html_escape(out, v->version && v->version[0] ? v->version : EN_DASH);
	buf_puts(out, "</td><td>");
	html_time(out, v->last_seen_ms);
	buf_puts(out, "</td><td>");
	html_escape(out, v->credential && v->credential[0] ? v->credential :
		    EN_DASH);
	buf_puts(out, "</td></tr>\n");
}

rc_t dashboard_render_buildlets(const struct dash_header *h,
				const struct dash_buildlet *v, size_t n,
				struct buf *out)
{
	static const struct page_frame f = {
		.title = "Buildlets",
		.root = PAGE_ROOT,
		.kind = "buildlets",
	};

	if (!h || !out || (!v && n))
		return RC_INVALID;
	page_begin(out, &f, h);
	buf_puts(out, "<h1>Buildlets</h1>\n");
	if (!n) {
		buf_puts(out, "<p class=\"empty\">No buildlet has enrolled yet. "
			      "Start one with <code>rfarm buildlet --coordinator "
			      "URL</code>.</p>\n");
		page_end(out);
		return out->err;
	}
	buf_puts(out, "<div class=\"wrap\"><table class=\"list\">\n<thead><tr>"
		      "<th>name</th><th>status</th><th>host type</th>"
		      "<th>platforms</th><th>labels</th><th>load</th>"
		      "<th>jobs</th><th>version</th><th>last seen</th>"
		      "<th>credential</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < n; i++)
		render_row(out, &v[i]);
	buf_puts(out, "</tbody></table></div>\n");
	page_end(out);
	return out->err;
}
