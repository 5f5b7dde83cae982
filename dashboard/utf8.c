/*
 * utf8.c - strict UTF-8 decoding (see utf8.h).
 *
 * The limits follow RFC 3629: the second byte of E0, ED, F0 and F4
 * sequences is restricted so that overlong forms, surrogates and code
 * points above U+10FFFF never decode.
 */
#include "utf8.h"

static int cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v;
	unsigned char lo = 0x80, hi = 0xBF; /* allowed range of byte 2 */

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0; /* overlong below U+0800 */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates U+D800..U+DFFF */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90; /* overlong below U+10000 */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		return 0; /* continuation byte, C0, C1 or F5..FF */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (!cont(s[i]))
			return 0;
		v = v << 6 | (s[i] & 0x3F);
	}
	*cp = v;
	return len;
}
