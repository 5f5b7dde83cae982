/*
 * html.c - escaping and the small builders of html.h.
 *
 * The escapers copy runs of harmless bytes in one append, so escaping a
 * long log costs about one memcpy. Anything that is not valid UTF-8, and
 * control characters other than tab, LF and CR, become U+FFFD: invalid
 * bytes would make the whole page or JSON document invalid, and control
 * characters are parse errors in HTML that only confuse whoever reads.
 */
#include "html.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "dashboard.h"
#include "utf8.h"

#define ELLIPSIS "\xE2\x80\xA6" /* U+2026 */
#define EN_DASH "\xE2\x80\x93"  /* U+2013 */

/* The entity for an ASCII byte, U+FFFD for a control byte, NULL if the
 * byte may be copied as is. */
static const char *html_ascii(unsigned char c)
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
		return (c < 0x20 || c == 0x7f) ? UTF8_REPLACEMENT : NULL;
	}
}

/*
 * What to write for the character at s[i..n): NULL to copy its *len bytes
 * as they are, or the text that replaces them.
 */
static const char *html_char(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t cp;

	if (s[0] < 0x80) {
		*len = 1;
		return html_ascii(s[0]);
	}
	*len = utf8_decode(s, n, &cp);
	if (*len == 0) {
		*len = 1; /* one invalid byte, one replacement */
		return UTF8_REPLACEMENT;
	}
	return cp <= 0x9F ? UTF8_REPLACEMENT : NULL; /* C1 controls */
}

void html_escape_n(struct buf *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0; /* start of the pending run of harmless bytes */
	size_t i = 0;

	while (i < n) {
		size_t len;
		const char *e = html_char(u + i, n - i, &len);

		if (e) {
			buf_append(out, s + run, i - run);
			buf_puts(out, e);
			run = i + len;
		}
		i += len;
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

	if (wall_ms <= 0) {
		buf_puts(out, EN_DASH);
		return;
	}
	clock_format_rfc3339(wall_ms, t, sizeof t);
	buf_printf(out, "<time datetime=\"%s\">%s</time>", t, t);
}

void html_size(struct buf *out, int64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		buf_printf(out, "%" PRId64 " B", bytes < 0 ? 0 : bytes);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		u++;
	}
	buf_printf(out, "%.1f %s", v, units[u]);
}

void html_url_path(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~/", c)) {
			buf_putc(out, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			buf_append(out, e, 3);
		}
	}
}

/* The JSON escape of an ASCII byte into e[8]; returns its length, or 0
 * when the byte is copied as is. */
static int jsonw_ascii(unsigned char c, char e[8])
{
	const char *two = NULL;

	switch (c) {
	case '"':
		two = "\\\"";
		break;
	case '\\':
		two = "\\\\";
		break;
	case '\n':
		two = "\\n";
		break;
	case '\t':
		two = "\\t";
		break;
	case '\r':
		two = "\\r";
		break;
	}
	if (two) {
		memcpy(e, two, 2);
		return 2;
	}
	if (c < 0x20 || c == '<' || c == '>' || c == '&')
		return snprintf(e, 8, "\\u%04x", c);
	return 0;
}

/* Escape of the character at s[0..n) into e[8] (0: copy *len bytes). */
static int jsonw_char(const unsigned char *s, size_t n, size_t *len, char e[8])
{
	uint32_t cp;

	if (s[0] < 0x80) {
		*len = 1;
		return jsonw_ascii(s[0], e);
	}
	*len = utf8_decode(s, n, &cp);
	if (*len == 0) {
		*len = 1;
		return snprintf(e, 8, "\\ufffd");
	}
	if (cp == 0x2028 || cp == 0x2029) /* line breaks to JavaScript */
		return snprintf(e, 8, "\\u%04x", (unsigned)cp);
	return 0;
}

void jsonw_str_n(struct buf *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0, i = 0;
	char e[8];

	buf_putc(out, '"');
	while (i < n) {
		size_t len;
		int elen = jsonw_char(u + i, n - i, &len, e);

		if (elen) {
			buf_append(out, s + run, i - run);
			buf_append(out, e, (size_t)elen);
			run = i + len;
		}
		i += len;
	}
	buf_append(out, s + run, n - run);
	buf_putc(out, '"');
}

void jsonw_str(struct buf *out, const char *s)
{
	jsonw_str_n(out, s ? s : "", s ? strlen(s) : 0);
}

void jsonw_time(struct buf *out, int64_t wall_ms)
{
	char t[40];

	if (wall_ms <= 0) {
		buf_puts(out, "null");
		return;
	}
	clock_format_rfc3339(wall_ms, t, sizeof t);
	buf_printf(out, "\"%s\"", t);
}
