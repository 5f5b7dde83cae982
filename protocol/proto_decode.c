/*
 * proto_decode.c - msgpack bytes to struct proto_msg (proto_decode).
 *
 * Three steps: proto_scan checks the raw bytes against the limits (so
 * msgpack-c never allocates for a count the frame cannot hold), msgpack-c
 * builds its object tree in a zone, and the field tables of proto_schema.c
 * drive the copy into owned C structs. Every check names the field path,
 * "run.argv[2]: expected string, got integer". A failed decode releases
 * whatever it had copied, so the caller's struct owns nothing.
 */
#include "proto.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto_schema.h"
#include "xalloc.h"

struct dec {
	struct errbuf *eb;      /* where the failure is told */
	struct proto_path path; /* value being decoded, for errors */
};

static const char *obj_kind(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return "nil";
	case MSGPACK_OBJECT_BOOLEAN: return "boolean";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "integer";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return "float";
	case MSGPACK_OBJECT_STR: return "string";
	case MSGPACK_OBJECT_BIN: return "binary";
	case MSGPACK_OBJECT_ARRAY: return "array";
	case MSGPACK_OBJECT_MAP: return "map";
	case MSGPACK_OBJECT_EXT: return "ext";
	}
	return "unknown";
}

static rc_t dec_fail(struct dec *d, rc_t rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static rc_t dec_fail(struct dec *d, rc_t rc, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	errbuf_set(d->eb, "%s: %s", d->path.s, msg);
	return rc;
}

static rc_t dec_wrong(struct dec *d, const char *want, const msgpack_object *o)
{
	return dec_fail(d, RC_INVALID, "expected %s, got %s", want,
			obj_kind(o));
}

/* Push ".key" for a key that came off the wire. */
static size_t dec_push_key(struct dec *d, const char *key, size_t len)
{
	char q[48];

	proto_schema_quote(q, sizeof q, key, len);
	return proto_path_push(&d->path, ".%s", q);
}

static rc_t dec_int(struct dec *d, const struct proto_field *f,
		    const msgpack_object *o, int64_t *v)
{
	char range[64];

	proto_schema_range(f, range, sizeof range);
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > (uint64_t)INT64_MAX)
			return dec_fail(d, RC_INVALID, "%" PRIu64 " out of "
					"range %s", o->via.u64, range);
		*v = (int64_t)o->via.u64;
	} else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
	} else {
		return dec_wrong(d, "integer", o);
	}
	if (*v < f->min || *v > f->max)
		return dec_fail(d, RC_INVALID, "%" PRId64 " out of range %s",
				*v, range);
	return RC_OK;
}

static rc_t dec_double(struct dec *d, const msgpack_object *o, double *v)
{
	switch (o->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*v = o->via.f64;
		return RC_OK;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*v = (double)o->via.u64;
		return RC_OK;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*v = (double)o->via.i64;
		return RC_OK;
	default:
		return dec_wrong(d, "number", o);
	}
}

/* A NUL byte would silently cut the C string short, so it is refused. */
static rc_t dec_str(struct dec *d, const msgpack_object *o, char **out)
{
	const char *p;
	size_t n;

	if (o->type != MSGPACK_OBJECT_STR)
		return dec_wrong(d, "string", o);
	p = o->via.str.ptr;
	n = o->via.str.size;
	if (n > 0 && memchr(p, '\0', n))
		return dec_fail(d, RC_INVALID, "string contains a NUL byte");
	*out = n > 0 ? xstrndup(p, n) : xstrdup("");
	return RC_OK;
}

static rc_t dec_strv(struct dec *d, const msgpack_object *o,
		     struct proto_strv *sv)
{
	uint32_t i;
	size_t old;
	rc_t rc;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return dec_wrong(d, "array", o);
	if (o->via.array.size == 0)
		return RC_OK;
	sv->v = xcalloc(o->via.array.size, sizeof *sv->v);
	for (i = 0; i < o->via.array.size; i++) {
		old = proto_path_push(&d->path, "[%" PRIu32 "]", i);
		rc = dec_str(d, &o->via.array.ptr[i], &sv->v[i]);
		proto_path_pop(&d->path, old);
		if (rc)
			return rc;
		sv->n = i + 1;
	}
	return RC_OK;
}

/* Two values for one variable would depend on who applies them last. */
static rc_t dec_env_dups(struct dec *d, const struct proto_env *env)
{
	const char *dup = proto_schema_env_dup(env);
	size_t old;
	rc_t rc;

	if (!dup)
		return RC_OK;
	old = dec_push_key(d, dup, strlen(dup));
	rc = dec_fail(d, RC_INVALID, "duplicate key");
	proto_path_pop(&d->path, old);
	return rc;
}

static rc_t dec_env_entry(struct dec *d, const msgpack_object_kv *kv,
			  struct proto_env *env)
{
	struct proto_kv *e = &env->v[env->n];
	size_t old;
	rc_t rc;

	if (kv->key.type != MSGPACK_OBJECT_STR)
		return dec_fail(d, RC_INVALID, "expected string key, got %s",
				obj_kind(&kv->key));
	old = dec_push_key(d, kv->key.via.str.ptr, kv->key.via.str.size);
	rc = dec_str(d, &kv->key, &e->key);
	if (!rc) {
		env->n++; /* owns the key now, whatever happens to the value */
		rc = dec_str(d, &kv->val, &e->val);
	}
	proto_path_pop(&d->path, old);
	return rc;
}

static rc_t dec_env(struct dec *d, const msgpack_object *o,
		    struct proto_env *env)
{
	uint32_t i;
	rc_t rc;

	if (o->type != MSGPACK_OBJECT_MAP)
		return dec_wrong(d, "map", o);
	if (o->via.map.size == 0)
		return RC_OK;
	env->v = xcalloc(o->via.map.size, sizeof *env->v);
	for (i = 0; i < o->via.map.size; i++) {
		rc = dec_env_entry(d, &o->via.map.ptr[i], env);
		if (rc)
			return rc;
	}
	return dec_env_dups(d, env);
}

/* Binary only: log output is bytes, and a str would claim it is text. */
static rc_t dec_bin(struct dec *d, const struct proto_field *f,
		    const msgpack_object *o, void *base)
{
	unsigned char **data = proto_field_at(base, f->off);
	size_t n;

	if (o->type != MSGPACK_OBJECT_BIN)
		return dec_wrong(d, "binary", o);
	n = o->via.bin.size;
	/* one spare NUL so text output can be printed without a copy */
	*data = xmalloc(n + 1);
	if (n > 0)
		memcpy(*data, o->via.bin.ptr, n);
	(*data)[n] = '\0';
	*(size_t *)proto_field_at(base, f->off_n) = n;
	return RC_OK;
}

static rc_t dec_record(struct dec *d, const struct proto_record *r,
		       const msgpack_object *o, void *base);

static rc_t dec_recv(struct dec *d, const struct proto_field *f,
		     const msgpack_object *o, void *base)
{
	char **arr = proto_field_at(base, f->off);
	size_t *n = proto_field_at(base, f->off_n);
	uint32_t i;
	size_t old;
	rc_t rc;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return dec_wrong(d, "array", o);
	if (o->via.array.size == 0)
		return RC_OK;
	*arr = xcalloc(o->via.array.size, f->rec->size);
	for (i = 0; i < o->via.array.size; i++) {
		*n = i + 1; /* a half-decoded element is freed with the rest */
		old = proto_path_push(&d->path, "[%" PRIu32 "]", i);
		rc = dec_record(d, f->rec, &o->via.array.ptr[i],
				*arr + i * f->rec->size);
		proto_path_pop(&d->path, old);
		if (rc)
			return rc;
	}
	return RC_OK;
}

static rc_t dec_field(struct dec *d, const struct proto_field *f,
		      const msgpack_object *o, void *base)
{
	void *mem = proto_field_at(base, f->off);
	int64_t v;
	rc_t rc;

	switch (f->kind) {
	case PF_I32:
		rc = dec_int(d, f, o, &v);
		if (!rc)
			*(int32_t *)mem = (int32_t)v; /* range checked */
		return rc;
	case PF_I64:
		return dec_int(d, f, o, mem);
	case PF_F64:
		return dec_double(d, o, mem);
	case PF_STR:
		return dec_str(d, o, mem);
	case PF_STRV:
		return dec_strv(d, o, mem);
	case PF_ENV:
		return dec_env(d, o, mem);
	case PF_BIN:
		return dec_bin(d, f, o, base);
	case PF_REC:
		return dec_record(d, f->rec, o, mem);
	case PF_RECV:
		return dec_recv(d, f, o, base);
	}
	return dec_fail(d, RC_ERR, "unhandled field kind %d", (int)f->kind);
}

static int record_find(const struct proto_record *r, const char *key,
		       size_t len)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (strlen(r->fields[i].key) == len &&
		    memcmp(r->fields[i].key, key, len) == 0)
			return (int)i;
	}
	return -1;
}

/* One key of a record; unknown keys are skipped for forward compatibility. */
static rc_t dec_entry(struct dec *d, const struct proto_record *r,
		      const msgpack_object_kv *kv, void *base, uint32_t *seen)
{
	int i;
	size_t old;
	rc_t rc;

	if (kv->key.type != MSGPACK_OBJECT_STR)
		return dec_fail(d, RC_INVALID, "expected string key, got %s",
				obj_kind(&kv->key));
	i = record_find(r, kv->key.via.str.ptr, kv->key.via.str.size);
	if (i < 0)
		return RC_OK;
	old = proto_path_push(&d->path, ".%s", r->fields[i].key);
	if (*seen & (UINT32_C(1) << i)) {
		rc = dec_fail(d, RC_INVALID, "duplicate key");
	} else {
		*seen |= UINT32_C(1) << i;
		rc = dec_field(d, &r->fields[i], &kv->val, base);
	}
	proto_path_pop(&d->path, old);
	return rc;
}

/* Absent strings become "" so callers can use every field directly. */
static void record_defaults(const struct proto_record *r, void *base)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct proto_field *f = &r->fields[i];
		void *mem = proto_field_at(base, f->off);

		if (f->kind == PF_STR && !*(char **)mem)
			*(char **)mem = xstrdup("");
		else if (f->kind == PF_REC)
			record_defaults(f->rec, mem);
	}
}

static rc_t dec_record(struct dec *d, const struct proto_record *r,
		       const msgpack_object *o, void *base)
{
	uint32_t seen = 0, i;
	size_t old;
	rc_t rc;

	if (o->type != MSGPACK_OBJECT_MAP)
		return dec_wrong(d, "map", o);
	for (i = 0; i < o->via.map.size; i++) {
		rc = dec_entry(d, r, &o->via.map.ptr[i], base, &seen);
		if (rc)
			return rc;
	}
	for (i = 0; i < r->n; i++) {
		if (!r->fields[i].required || (seen & (UINT32_C(1) << i)))
			continue;
		old = proto_path_push(&d->path, ".%s", r->fields[i].key);
		rc = dec_fail(d, RC_INVALID, "missing");
		proto_path_pop(&d->path, old);
		return rc;
	}
	record_defaults(r, base);
	return RC_OK;
}

/* Find "t" in the top-level map and turn it into a type. */
static rc_t dec_type(struct dec *d, const msgpack_object *o,
		     enum proto_type *type)
{
	const msgpack_object *t = NULL;
	char q[48];
	uint32_t i;

	if (o->type != MSGPACK_OBJECT_MAP) {
		proto_path_push(&d->path, "message");
		return dec_wrong(d, "map", o);
	}
	proto_path_push(&d->path, "t");
	for (i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;

		if (k->type != MSGPACK_OBJECT_STR || k->via.str.size != 1 ||
		    k->via.str.ptr[0] != 't')
			continue;
		if (t)
			return dec_fail(d, RC_INVALID, "duplicate key");
		t = &o->via.map.ptr[i].val;
	}
	if (!t)
		return dec_fail(d, RC_INVALID, "missing");
	if (t->type != MSGPACK_OBJECT_STR)
		return dec_wrong(d, "string", t);
	*type = proto_schema_find(t->via.str.ptr, t->via.str.size);
	if (*type == PROTO_NONE) {
		proto_schema_quote(q, sizeof q, t->via.str.ptr,
				   t->via.str.size);
		errbuf_set(d->eb, "unknown message type \"%s\"", q);
		return RC_PROTO;
	}
	return RC_OK;
}

static rc_t dec_message(const msgpack_object *o, struct proto_msg *m,
			struct errbuf *eb)
{
	struct dec d = { .eb = eb };
	enum proto_type type = PROTO_NONE;
	rc_t rc;

	rc = dec_type(&d, o, &type);
	if (rc)
		return rc;
	m->type = type;
	proto_path_pop(&d.path, 0);
	proto_path_push(&d.path, "%s", proto_type_name(type));
	return dec_record(&d, proto_schema_record(type), o, &m->u);
}

rc_t proto_decode(const void *p, size_t n, const struct proto_limits *lim,
		  struct proto_msg *m, struct errbuf *eb)
{
	msgpack_unpacked up;
	msgpack_unpack_return ur;
	size_t off = 0;
	rc_t rc;

	memset(m, 0, sizeof *m);
	msgpack_unpacked_init(&up);
	rc = proto_scan(p, n, lim, eb);
	if (rc)
		goto out;
	ur = msgpack_unpack_next(&up, p, n, &off);
	if (ur != MSGPACK_UNPACK_SUCCESS || off != n) {
		/* the scanner accepted it, so only memory can be short */
		rc = ur == MSGPACK_UNPACK_NOMEM_ERROR ? RC_NOMEM : RC_INVALID;
		errbuf_set(eb, "msgpack-c could not unpack the frame (%d)",
			   (int)ur);
		goto out;
	}
	rc = dec_message(&up.data, m, eb);
out:
	if (rc)
		proto_msg_free(m);
	msgpack_unpacked_destroy(&up);
	return rc;
}
