/*
 * html.h - small HTML, JSON and URL builders shared by the pages.
 *
 * Everything here appends to a struct buf and ignores the append result:
 * the buffer keeps its first error and the page renderer checks it once at
 * the end. Anything that came from the store goes through html_escape*()
 * or jsonw_str*(); only our own literals are appended raw. Every escaper
 * outputs valid UTF-8 whatever its input (see utf8.h).
 */
#ifndef RFARM_DASHBOARD_HTML_H
#define RFARM_DASHBOARD_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Append s[0..n) HTML-escaped; safe in text and in quoted attributes.
 * & < > " ' become entities; invalid UTF-8, NUL and the other control
 * characters except tab, LF and CR (C0, DEL, C1) become U+FFFD.
 */
void html_escape_n(struct buf *out, const char *s, size_t n);

/*
 * Bytes in the longest prefix of s that holds at most max_chars UTF-8
 * characters, so a cut never splits a multi-byte sequence.
 */
size_t html_utf8_prefix(const char *s, size_t max_chars);

/* Append at most max_chars characters of s escaped, then "…" if cut. */
void html_escape_trunc(struct buf *out, const char *s, size_t max_chars);

/* Append a duration for people: "340ms", "1.2s", "2m05s", "1h02m". */
void html_duration(struct buf *out, int64_t ms);

/* Append <time datetime="RFC 3339">RFC 3339</time> for a wall-clock time;
 * "–" for 0 (never). */
void html_time(struct buf *out, int64_t wall_ms);

/* Append a byte count for people: "512 B", "1.5 KiB", "12.0 MiB". */
void html_size(struct buf *out, int64_t bytes);

/*
 * Append s percent-encoded for a URL path: unreserved characters and '/'
 * are kept, every other byte becomes %XX, so the result is also safe in
 * an HTML attribute without further escaping.
 */
void html_url_path(struct buf *out, const char *s);

/*
 * Append s[0..n) as a JSON string, quotes included. Besides what JSON
 * requires, < > & and U+2028/U+2029 are written as \uXXXX so the text is
 * inert anywhere it is pasted; invalid UTF-8 becomes \ufffd.
 */
void jsonw_str_n(struct buf *out, const char *s, size_t n);
/* The same for a NUL-terminated string; NULL writes "". */
void jsonw_str(struct buf *out, const char *s);
/* A wall-clock time as a JSON RFC 3339 string, or null for 0. */
void jsonw_time(struct buf *out, int64_t wall_ms);

#endif
