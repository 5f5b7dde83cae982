/*
 * proto_encode.c - struct proto_msg to msgpack bytes (proto_encode).
 *
 * msgpack-c's packer writes through enc_write straight into the caller's
 * struct buf, after any headroom, so a WebSocket sender copies nothing.
 * The encoder keeps its first error like a buf does: every later write is
 * dropped, the field walk runs to the end, and the result is checked once.
 * It applies the decoder's rules (ranges, limits) so that whatever encodes
 * also decodes on the other side.
 */
#include "proto.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto_schema.h"

struct enc {
	msgpack_packer pk;              /* writes through enc_write */
	struct buf *out;                /* destination */
	size_t start;                   /* out->len before this message */
	const struct proto_limits *lim; /* limits the frame must respect */
	struct errbuf *eb;              /* where the first failure is told */
	rc_t rc;                        /* first error; later writes dropped */
	struct proto_path path;         /* field being encoded, for errors */
	unsigned depth;                 /* containers open around it */
};

static void enc_fail(struct enc *e, rc_t rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void enc_fail(struct enc *e, rc_t rc, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (e->rc)
		return;
	e->rc = rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	errbuf_set(e->eb, "%s: %s", e->path.s, msg);
}

static int enc_write(void *data, const char *p, size_t len)
{
	struct enc *e = data;
	rc_t rc;

	if (e->rc)
		return -1;
	if (len > e->lim->max_message - (e->out->len - e->start)) {
		enc_fail(e, RC_TOO_LARGE, "message exceeds the limit of %zu "
			 "bytes", e->lim->max_message);
		return -1;
	}
	rc = buf_append(e->out, p, len);
	if (rc) {
		enc_fail(e, rc, "output buffer: %s", rc_str(rc));
		return -1;
	}
	return 0;
}

static void enc_bytes(struct enc *e, const void *p, size_t len, bool bin)
{
	/* msgpack lengths are 32 bits, whatever the limits say */
	if (len > e->lim->max_string || len > UINT32_MAX) {
		enc_fail(e, RC_TOO_LARGE, "%zu bytes exceeds the limit of %zu",
			 len, e->lim->max_string);
		return;
	}
	if (bin) {
		msgpack_pack_bin(&e->pk, len);
		msgpack_pack_bin_body(&e->pk, p, len);
	} else {
		msgpack_pack_str(&e->pk, len);
		msgpack_pack_str_body(&e->pk, p, len);
	}
}

static void enc_str(struct enc *e, const char *s)
{
	if (!s)
		s = "";
	enc_bytes(e, s, strlen(s), false);
}

static void enc_int(struct enc *e, const struct proto_field *f, int64_t v)
{
	char range[64];

	if (v < f->min || v > f->max) {
		proto_schema_range(f, range, sizeof range);
		enc_fail(e, RC_INVALID, "%" PRId64 " out of range %s", v,
			 range);
		return;
	}
	msgpack_pack_int64(&e->pk, v);
}

/*
 * Open an array or map of n entries whose storage is p; a NULL p is only
 * allowed for an empty one. Returns false when it could not be opened.
 */
static bool enc_open(struct enc *e, size_t n, const void *p, bool map)
{
	if (n > 0 && !p) {
		enc_fail(e, RC_INVALID, "NULL with a count of %zu", n);
		return false;
	}
	if (n > e->lim->max_items || n > UINT32_MAX) {
		enc_fail(e, RC_TOO_LARGE, "%zu entries exceeds the limit of %zu",
			 n, e->lim->max_items);
		return false;
	}
	if (e->depth + 1 > e->lim->max_depth) {
		enc_fail(e, RC_TOO_LARGE, "nested deeper than %u",
			 e->lim->max_depth);
		return false;
	}
	e->depth++;
	if (map)
		msgpack_pack_map(&e->pk, n);
	else
		msgpack_pack_array(&e->pk, n);
	return true;
}

static void enc_strv(struct enc *e, const struct proto_strv *sv)
{
	size_t i, old;

	if (!enc_open(e, sv->n, sv->v, false))
		return;
	for (i = 0; i < sv->n; i++) {
		old = proto_path_push(&e->path, "[%zu]", i);
		enc_str(e, sv->v[i]);
		proto_path_pop(&e->path, old);
	}
	e->depth--;
}

static void enc_env(struct enc *e, const struct proto_env *env)
{
	const char *dup;
	size_t i, old;

	if (!enc_open(e, env->n, env->v, true))
		return;
	dup = proto_schema_env_dup(env);
	if (dup) {
		old = proto_path_push(&e->path, ".%s", dup);
		enc_fail(e, RC_INVALID, "duplicate key");
		proto_path_pop(&e->path, old);
	}
	for (i = 0; i < env->n; i++) {
		const char *key = env->v[i].key ? env->v[i].key : "";

		old = proto_path_push(&e->path, ".%s", key);
		enc_str(e, key);
		enc_str(e, env->v[i].val);
		proto_path_pop(&e->path, old);
	}
	e->depth--;
}

static void enc_record(struct enc *e, const struct proto_record *r,
		       const void *base, const char *type);

static void enc_recv(struct enc *e, const struct proto_field *f,
		     const void *base)
{
	const char *arr = *(char *const *)proto_field_at_c(base, f->off);
	size_t n = *(const size_t *)proto_field_at_c(base, f->off_n);
	size_t i, old;

	if (!enc_open(e, n, arr, false))
		return;
	for (i = 0; i < n; i++) {
		old = proto_path_push(&e->path, "[%zu]", i);
		enc_record(e, f->rec, arr + i * f->rec->size, NULL);
		proto_path_pop(&e->path, old);
	}
	e->depth--;
}

static void enc_bin(struct enc *e, const struct proto_field *f,
		    const void *base)
{
	const void *data =
		*(const unsigned char *const *)proto_field_at_c(base, f->off);
	size_t len = *(const size_t *)proto_field_at_c(base, f->off_n);

	if (len > 0 && !data)
		enc_fail(e, RC_INVALID, "NULL with a length of %zu", len);
	else
		enc_bytes(e, data ? data : "", len, true);
}

static void enc_field(struct enc *e, const struct proto_field *f,
		      const void *base)
{
	const void *mem = proto_field_at_c(base, f->off);

	switch (f->kind) {
	case PF_I32:
		enc_int(e, f, *(const int32_t *)mem);
		break;
	case PF_I64:
		enc_int(e, f, *(const int64_t *)mem);
		break;
	case PF_F64:
		msgpack_pack_double(&e->pk, *(const double *)mem);
		break;
	case PF_STR:
		enc_str(e, *(char *const *)mem);
		break;
	case PF_STRV:
		enc_strv(e, mem);
		break;
	case PF_ENV:
		enc_env(e, mem);
		break;
	case PF_BIN:
		enc_bin(e, f, base);
		break;
	case PF_REC:
		enc_record(e, f->rec, mem, NULL);
		break;
	case PF_RECV:
		enc_recv(e, f, base);
		break;
	}
}

/* A map of r's fields; the top-level one (type != NULL) starts with "t". */
static void enc_record(struct enc *e, const struct proto_record *r,
		       const void *base, const char *type)
{
	size_t i, old;

	if (!enc_open(e, r->n + (type ? 1 : 0), base, true))
		return;
	if (type) {
		enc_str(e, "t");
		enc_str(e, type);
	}
	for (i = 0; i < r->n; i++) {
		old = proto_path_push(&e->path, ".%s", r->fields[i].key);
		enc_str(e, r->fields[i].key);
		enc_field(e, &r->fields[i], base);
		proto_path_pop(&e->path, old);
	}
	e->depth--;
}

rc_t proto_encode(const struct proto_msg *m, const struct proto_limits *lim,
		  struct buf *out, struct errbuf *eb)
{
	const struct proto_record *r = proto_schema_record(m->type);
	struct enc e = { .out = out, .start = out->len, .eb = eb };

	e.lim = lim ? lim : &proto_default_limits;
	if (out->err) {
		errbuf_set(eb, "output buffer already failed: %s",
			   rc_str(out->err));
		return out->err;
	}
	if (!r) {
		errbuf_set(eb, "unknown message type %d", (int)m->type);
		return RC_INVALID;
	}
	msgpack_packer_init(&e.pk, &e, enc_write);
	proto_path_push(&e.path, "%s", proto_type_name(m->type));
	enc_record(&e, r, &m->u, proto_type_name(m->type));
	if (e.rc)
		out->len = e.start; /* leave no half message behind */
	return e.rc;
}
