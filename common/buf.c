/* buf.c - capped growable buffers (see buf.h). */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void buf_init(struct buf *b, size_t pre, size_t max)
{
	memset(b, 0, sizeof *b);
	b->pre = pre;
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->mem);
	buf_init(b, b->pre, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->err = RC_OK;
}

/* Make room for n more bytes plus a NUL terminator. */
static rc_t buf_grow(struct buf *b, size_t n)
{
	size_t need, cap;

	if (b->err)
		return b->err;
	if (n > SIZE_MAX / 2 - b->len - b->pre || (b->max && b->len + n > b->max)) {
		b->err = RC_TOO_LARGE;
		return b->err;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return RC_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->mem = xrealloc(b->mem, b->pre + cap);
	b->cap = cap;
	return RC_OK;
}

rc_t buf_append(struct buf *b, const void *p, size_t n)
{
	rc_t rc = buf_grow(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(buf_data(b) + b->len, p, n);
	b->len += n;
	return RC_OK;
}

rc_t buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

rc_t buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

rc_t buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	rc_t rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		if (!b->err)
			b->err = RC_INVALID;
		return b->err;
	}
	rc = buf_grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf((char *)buf_data(b) + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return RC_OK;
}

rc_t buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	rc_t rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *buf_cstr(struct buf *b)
{
	if (!b->mem) {
		b->mem = xmalloc(b->pre + 1);
		b->cap = 1;
	}
	buf_data(b)[b->len] = '\0';
	return (const char *)buf_data(b);
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(buf_data(b), buf_data(b) + n, b->len - n);
	b->len -= n;
}
