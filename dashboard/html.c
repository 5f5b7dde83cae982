/*
 * html.c - HTML escaping and the small builders of html.h.
 *
 * Escaping copies runs of harmless bytes in one append, so escaping a long
 * command costs about one memcpy. Control characters other than tab, CR and
 * LF are replaced by U+FFFD: they are parse errors in HTML and would only
 * confuse whoever reads the page.
 */
#include "html.h"

#include <inttypes.h>
#include <string.h>

#include "clock.h"
#include "dashboard.h"

#define REPLACEMENT_CHAR "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */
#define ELLIPSIS "\xE2\x80\xA6"         /* U+2026 in UTF-8 */

/* The replacement text for c, or NULL when c may be copied as is. */
static const char *escape_of(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	case '\t':
	case '\n':
	case '\r':
		return NULL;
	default:
		return (c < 0x20 || c == 0x7f) ? REPLACEMENT_CHAR : NULL;
	}
}

void html_escape_n(struct buf *out, const char *s, size_t n)
{
	size_t run = 0; /* start of the pending run of harmless bytes */

	for (size_t i = 0; i < n; i++) {
		const char *e = escape_of((unsigned char)s[i]);

		if (!e)
			continue;
		buf_append(out, s + run, i - run);
		buf_puts(out, e);
		run = i + 1;
	}
	buf_append(out, s + run, n - run);
}

void html_escape(struct buf *out, const char *s)
{
	if (s)
		html_escape_n(out, s, strlen(s));
}

size_t html_utf8_prefix(const char *s, size_t max_chars)
{
	size_t i, chars = 0;

	for (i = 0; s[i]; i++) {
		/* A continuation byte (10xxxxxx) belongs to the character
		 * before it; every other byte starts a new one. */
		if (((unsigned char)s[i] & 0xC0) == 0x80)
			continue;
		if (chars == max_chars)
			break;
		chars++;
	}
	return i;
}

void html_escape_trunc(struct buf *out, const char *s, size_t max_chars)
{
	size_t n;

	if (!s)
		return;
	n = html_utf8_prefix(s, max_chars);
	html_escape_n(out, s, n);
	if (s[n])
		buf_puts(out, ELLIPSIS);
}

void html_duration(struct buf *out, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		buf_printf(out, "%" PRId64 "ms", ms);
	else if (ms < 60 * 1000)
		buf_printf(out, "%" PRId64 ".%" PRId64 "s", ms / 1000,
			   ms % 1000 / 100);
	else if (ms < 3600 * 1000)
		buf_printf(out, "%" PRId64 "m%02" PRId64 "s", ms / 60000,
			   ms / 1000 % 60);
	else
		buf_printf(out, "%" PRId64 "h%02" PRId64 "m", ms / 3600000,
			   ms / 60000 % 60);
}

void html_time(struct buf *out, int64_t wall_ms)
{
	char t[40];

	clock_format_rfc3339(wall_ms, t, sizeof t);
	buf_printf(out, "<time datetime=\"%s\">%s</time>", t, t);
}
