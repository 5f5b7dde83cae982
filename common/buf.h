/*
 * buf.h - capped, growable byte buffers.
 *
 * Every buffer that the network fills has a hard cap: appending past it
 * fails with RC_TOO_LARGE instead of allocating. A buffer keeps its first
 * error (like SQLite's StrAccum), so a builder can append freely and check
 * once at the end. An optional headroom before the data lets a WebSocket
 * encoder leave LWS_PRE bytes in front of a message, so nothing is copied.
 */
#ifndef RFARM_BUF_H
#define RFARM_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "rc.h"

struct buf {
	unsigned char *mem; /* allocation: pre bytes of headroom, then data */
	size_t pre;         /* headroom in front of the data */
	size_t len;         /* bytes of data in use */
	size_t cap;         /* bytes of data allocated (excluding headroom) */
	size_t max;         /* hard cap on len; 0 means no cap */
	rc_t err;           /* first error; later appends are ignored */
};

/* An empty buffer; allocates nothing until the first append. */
void buf_init(struct buf *b, size_t pre, size_t max);
void buf_free(struct buf *b);
/* Forget the contents and any error, keep the allocation. */
void buf_reset(struct buf *b);

/* Append; on error the buffer is unchanged and keeps the first error. */
rc_t buf_append(struct buf *b, const void *p, size_t n);
rc_t buf_puts(struct buf *b, const char *s);
rc_t buf_putc(struct buf *b, char c);
rc_t buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
rc_t buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* The data (after the headroom); never NULL once anything was appended. */
static inline unsigned char *buf_data(const struct buf *b)
{
	return b->mem ? b->mem + b->pre : NULL;
}

/* NUL-terminated view of the data (the terminator is not counted). */
const char *buf_cstr(struct buf *b);

/* Drop the first n bytes of data, moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);

#endif
