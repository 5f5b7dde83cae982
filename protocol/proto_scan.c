/*
 * proto_scan.c - bounded pre-scanner over raw msgpack bytes (proto_scan).
 *
 * msgpack-c 4.0 allocates for a container's declared count before it reads
 * a single element, so an 8-byte frame claiming a map of 400 million
 * entries would make it allocate gigabytes. This walker reads only the
 * headers and checks every declared length and count against the bytes
 * actually left and against struct proto_limits, before msgpack-c ever sees
 * the frame. It allocates nothing: the open containers live in a small
 * array on the stack, which is why the depth is capped at SCAN_DEPTH_CAP.
 */
#include "proto.h"

#include <inttypes.h>
#include <string.h>

/* msgpack-c's own parse stack (MSGPACK_EMBED_STACK_SIZE) is this deep. */
#define SCAN_DEPTH_CAP 32

struct scan {
	const unsigned char *p;         /* the frame */
	size_t n;                       /* its length */
	size_t pos;                     /* next byte to read */
	size_t at;                      /* offset of the header being read */
	const struct proto_limits *lim; /* limits to enforce */
	struct errbuf *eb;              /* where a failure is explained */
};

static rc_t scan_need(struct scan *s, size_t k)
{
	if (k <= s->n - s->pos)
		return RC_OK;
	errbuf_set(s->eb, "msgpack: value at offset %zu needs %zu more bytes, "
		   "the frame ends at %zu", s->at, k, s->n);
	return RC_TRUNCATED;
}

/* Read a big-endian length or count of width bytes. */
static rc_t scan_uint(struct scan *s, unsigned width, uint64_t *v)
{
	rc_t rc = scan_need(s, width);
	unsigned i;

	if (rc)
		return rc;
	*v = 0;
	for (i = 0; i < width; i++)
		*v = *v << 8 | s->p[s->pos++];
	return RC_OK;
}

/* Skip a fixed-size scalar payload. */
static rc_t scan_skip(struct scan *s, size_t k)
{
	rc_t rc = scan_need(s, k);

	if (!rc)
		s->pos += k;
	return rc;
}

/* A str or bin whose length is stored in width bytes (0: in the tag). */
static rc_t scan_bytes(struct scan *s, unsigned width, uint64_t len,
		       const char *what)
{
	rc_t rc = width ? scan_uint(s, width, &len) : RC_OK;

	if (rc)
		return rc;
	if (len > s->lim->max_string) {
		errbuf_set(s->eb, "msgpack: %s of %" PRIu64 " bytes at offset "
			   "%zu exceeds the limit of %zu", what, len, s->at,
			   s->lim->max_string);
		return RC_TOO_LARGE;
	}
	if (len > s->n - s->pos) {
		errbuf_set(s->eb, "msgpack: %s of %" PRIu64 " bytes at offset "
			   "%zu runs past the end of the frame (%zu bytes)",
			   what, len, s->at, s->n);
		return RC_TRUNCATED;
	}
	s->pos += len;
	return RC_OK;
}

/*
 * An array (per = 1) or map (per = 2) header. Every element takes at least
 * one byte, so a count the remaining bytes cannot hold is rejected here,
 * before anything is allocated for it. *values is what the caller must
 * read next: count * per.
 */
static rc_t scan_container(struct scan *s, unsigned width, uint64_t count,
			   unsigned per, uint64_t *values)
{
	const char *what = per == 2 ? "map" : "array";
	rc_t rc = width ? scan_uint(s, width, &count) : RC_OK;

	if (rc)
		return rc;
	if (count > s->lim->max_items) {
		errbuf_set(s->eb, "msgpack: %s of %" PRIu64 " entries at offset "
			   "%zu exceeds the limit of %zu", what, count, s->at,
			   s->lim->max_items);
		return RC_TOO_LARGE;
	}
	if (count > (s->n - s->pos) / per) {
		errbuf_set(s->eb, "msgpack: %s of %" PRIu64 " entries at offset "
			   "%zu cannot fit in the %zu bytes left", what, count,
			   s->at, s->n - s->pos);
		return RC_TRUNCATED;
	}
	*values = count * per;
	return RC_OK;
}

static rc_t scan_reject(struct scan *s, unsigned char tag)
{
	errbuf_set(s->eb, "msgpack: type 0x%02x at offset %zu is not allowed",
		   tag, s->at);
	return RC_INVALID;
}

/*
 * Read one value's header (and the payload of a scalar, str or bin). For a
 * container, *values says how many values it holds; -1 for anything else.
 */
static rc_t scan_head(struct scan *s, int64_t *values)
{
	uint64_t v = 0;
	unsigned char b;
	rc_t rc;

	*values = -1;
	s->at = s->pos;
	rc = scan_need(s, 1);
	if (rc)
		return rc;
	b = s->p[s->pos++];
	if (b <= 0x7f || b >= 0xe0) /* positive and negative fixint */
		return RC_OK;
	if ((b & 0xe0) == 0xa0)
		return scan_bytes(s, 0, b & 0x1f, "string");
	if ((b & 0xf0) == 0x90 || (b & 0xf0) == 0x80) {
		rc = scan_container(s, 0, b & 0x0f, b < 0x90 ? 2 : 1, &v);
		*values = (int64_t)v;
		return rc;
	}
	switch (b) {
	case 0xc0: case 0xc2: case 0xc3: /* nil, false, true */
		return RC_OK;
	case 0xcc: case 0xd0: return scan_skip(s, 1);
	case 0xcd: case 0xd1: return scan_skip(s, 2);
	case 0xce: case 0xd2: case 0xca: return scan_skip(s, 4);
	case 0xcf: case 0xd3: case 0xcb: return scan_skip(s, 8);
	case 0xd9: return scan_bytes(s, 1, 0, "string");
	case 0xda: return scan_bytes(s, 2, 0, "string");
	case 0xdb: return scan_bytes(s, 4, 0, "string");
	case 0xc4: return scan_bytes(s, 1, 0, "binary");
	case 0xc5: return scan_bytes(s, 2, 0, "binary");
	case 0xc6: return scan_bytes(s, 4, 0, "binary");
	case 0xdc: case 0xdd: case 0xde: case 0xdf:
		rc = scan_container(s, b & 1 ? 4 : 2, 0, b >= 0xde ? 2 : 1, &v);
		*values = (int64_t)v;
		return rc;
	default: /* 0xc1 (never used) and the ext family */
		return scan_reject(s, b);
	}
}

/*
 * Walk exactly one value. left[d] counts the values still to read in the
 * container open at nesting d; left[0] is the top-level "container" that
 * holds the one value of the frame.
 */
static rc_t scan_walk(struct scan *s, unsigned max_depth)
{
	uint64_t left[SCAN_DEPTH_CAP + 1];
	unsigned depth = 0;
	int64_t values;
	rc_t rc;

	left[0] = 1;
	for (;;) {
		while (depth > 0 && left[depth] == 0)
			depth--;
		if (left[depth] == 0)
			return RC_OK;
		left[depth]--;
		rc = scan_head(s, &values);
		if (rc)
			return rc;
		if (values < 0)
			continue;
		if (depth + 1 > max_depth) {
			errbuf_set(s->eb, "msgpack: container at offset %zu is "
				   "nested deeper than %u", s->at, max_depth);
			return RC_TOO_LARGE;
		}
		if (values > 0)
			left[++depth] = (uint64_t)values;
	}
}

rc_t proto_scan(const void *p, size_t n, const struct proto_limits *lim,
		struct errbuf *eb)
{
	struct scan s = { .p = p, .n = n, .lim = lim, .eb = eb };
	unsigned max_depth;
	rc_t rc;

	if (!s.lim)
		s.lim = &proto_default_limits;
	max_depth = s.lim->max_depth < SCAN_DEPTH_CAP ? s.lim->max_depth
						       : SCAN_DEPTH_CAP;
	if (n > s.lim->max_message) {
		errbuf_set(eb, "frame of %zu bytes exceeds the limit of %zu",
			   n, s.lim->max_message);
		return RC_TOO_LARGE;
	}
	if (n == 0) {
		errbuf_set(eb, "empty frame");
		return RC_TRUNCATED;
	}
	rc = scan_walk(&s, max_depth);
	if (rc)
		return rc;
	if (s.pos != n) {
		errbuf_set(eb, "msgpack: %zu trailing byte(s) after the value, "
			   "from offset %zu", n - s.pos, s.pos);
		return RC_INVALID;
	}
	return RC_OK;
}
