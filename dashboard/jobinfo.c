/*
 * jobinfo.c - attempts and artifacts of a job (see jobinfo.h).
 *
 * Artifact names are paths chosen by whoever wrote the build script, so a
 * download link percent-encodes them (html_url_path) and the text shows
 * them escaped; the link goes to the API (/api/v1/jobs/ID/artifacts/NAME),
 * which redirects to the blob, so the dashboard directory holds no blobs.
 */
#include "jobinfo.h"

#include <inttypes.h>

#include "html.h"
#include "page.h"

static void attempt_row(struct buf *out, const struct dash_attempt *a)
{
	buf_printf(out, "<tr><td>%d</td><td>", a->n);
	html_escape(out, page_str(a->buildlet));
	buf_puts(out, "</td><td>");
	html_time(out, a->started_ms ? a->started_ms : a->dispatched_ms);
	buf_puts(out, "</td><td>");
	if (a->duration_ms > 0)
		html_duration(out, a->duration_ms);
	buf_puts(out, "</td><td>");
	page_exit(out, a->exit_code, a->signal);
	buf_puts(out, "</td><td class=\"error\">");
	html_escape(out, page_str(a->error));
	buf_puts(out, "</td></tr>\n");
}

void jobinfo_attempts(struct buf *out, const struct dash_job *j)
{
	if (!j->n_attempts || !j->attempts)
		return;
	buf_puts(out, "<div class=\"wrap\"><table class=\"attempts\">\n"
		      "<thead><tr><th>attempt</th><th>buildlet</th>"
		      "<th>started</th><th>duration</th><th>exit</th>"
		      "<th>error</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < j->n_attempts; i++)
		attempt_row(out, &j->attempts[i]);
	buf_puts(out, "</tbody></table></div>\n");
}

void jobinfo_artifacts(struct buf *out, const struct dash_job *j)
{
	if (!j->n_artifacts || !j->artifacts)
		return;
	buf_puts(out, "<div class=\"wrap\"><table class=\"artifacts\">\n"
		      "<thead><tr><th>artifact</th><th>size</th>"
		      "<th>sha256</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < j->n_artifacts; i++) {
		const struct dash_artifact *a = &j->artifacts[i];

		buf_printf(out, "<tr><td><a href=\"/api/v1/jobs/%" PRId64
				"/artifacts/", j->id);
		html_url_path(out, page_str(a->name));
		buf_puts(out, "\" download>");
		html_escape(out, page_str(a->name));
		buf_puts(out, "</a></td><td>");
		html_size(out, a->size);
		buf_puts(out, "</td><td><code class=\"sha\">");
		html_escape(out, page_str(a->sha256));
		buf_puts(out, "</code></td></tr>\n");
	}
	buf_puts(out, "</tbody></table></div>\n");
}

static void attempt_json(struct buf *out, const struct dash_attempt *a)
{
	buf_printf(out, "{\"n\":%d,\"buildlet\":", a->n);
	jsonw_str(out, a->buildlet);
	buf_puts(out, ",\"dispatched\":");
	jsonw_time(out, a->dispatched_ms);
	buf_puts(out, ",\"started\":");
	jsonw_time(out, a->started_ms);
	buf_puts(out, ",\"finished\":");
	jsonw_time(out, a->finished_ms);
	buf_printf(out, ",\"duration_ms\":%" PRId64 ",\"exit_code\":%d,"
			"\"signal\":%d,\"error\":", a->duration_ms, a->exit_code,
		   a->signal);
	jsonw_str(out, a->error);
	buf_putc(out, '}');
}

static void artifact_json(struct buf *out, int64_t job,
			  const struct dash_artifact *a)
{
	buf_puts(out, "{\"name\":");
	jsonw_str(out, a->name);
	buf_printf(out, ",\"size\":%" PRId64 ",\"sha256\":", a->size);
	jsonw_str(out, a->sha256);
	buf_printf(out, ",\"url\":\"/api/v1/jobs/%" PRId64 "/artifacts/", job);
	html_url_path(out, page_str(a->name)); /* plain ASCII: JSON-safe */
	buf_puts(out, "\"}");
}

void jobinfo_json(struct buf *out, const struct dash_job *j)
{
	buf_puts(out, ",\"attempts\":[");
	for (size_t i = 0; j->attempts && i < j->n_attempts; i++) {
		if (i)
			buf_putc(out, ',');
		attempt_json(out, &j->attempts[i]);
	}
	buf_puts(out, "],\"artifacts\":[");
	for (size_t i = 0; j->artifacts && i < j->n_artifacts; i++) {
		if (i)
			buf_putc(out, ',');
		artifact_json(out, j->id, &j->artifacts[i]);
	}
	buf_putc(out, ']');
}
