/*
 * html.h - small HTML builders shared by the dashboard pages.
 *
 * Everything here appends to a struct buf and ignores the append result:
 * the buffer keeps its first error and the page renderer checks it once at
 * the end. Anything that came from the store goes through html_escape*()
 * (declared in dashboard.h and here); only our own literals are appended raw.
 */
#ifndef RFARM_DASHBOARD_HTML_H
#define RFARM_DASHBOARD_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Append s[0..n) HTML-escaped; safe in text and in quoted attributes. */
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

/* Append <time datetime="RFC 3339">RFC 3339</time> for a wall-clock time. */
void html_time(struct buf *out, int64_t wall_ms);

#endif
