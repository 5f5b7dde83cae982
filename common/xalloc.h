/*
 * xalloc.h - allocation that cannot fail.
 *
 * Running out of memory on a small, uncapped allocation is not something
 * the farm can recover from in a useful way, so these abort with a message.
 * Anything sized by the network goes through a capped struct buf instead.
 */
#ifndef RFARM_XALLOC_H
#define RFARM_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Append one zeroed element of `size` bytes to the growable array whose
 * pointer is at arrayp (a T ** passed as void *), with *n elements in use
 * and room for *cap; returns the new element.
 */
void *xarray_push(void *arrayp, size_t *n, size_t *cap, size_t size);

#endif
