/*
 * utf8.h - UTF-8 validation for the dashboard's escapers.
 *
 * Log text and every string of a build are arbitrary bytes; the pages and
 * their JSON twins must be valid UTF-8, so each escaper walks its input
 * with utf8_decode() and turns whatever does not decode into U+FFFD.
 */
#ifndef RFARM_DASHBOARD_UTF8_H
#define RFARM_DASHBOARD_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/*
 * Decode the character at s[0..n) (n >= 1). Returns its length in bytes
 * (1..4) and sets *cp, or returns 0 when s does not start with a valid,
 * shortest-form sequence (bad lead byte, missing continuation, overlong
 * form, surrogate, above U+10FFFF): the caller then replaces one byte.
 */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
