/*
 * proto_schema.c - the wire protocol v1 messages as tables (proto_schema.h).
 *
 * Each table lists a message's fields in the order they are encoded, with
 * the wire key from DESIGN.md's protocol table (plus hello.platforms,
 * hello.running, welcome.resume, run.platform, run.idle_timeout_s and
 * done.commit), and the range a decoded integer must fall in. The ranges
 * are the C type's unless the protocol says more: ids and attempts start
 * at 1, a buildlet has at least one slot, counts and sizes are not
 * negative, a log stream is 1 or 2.
 */
#include "proto_schema.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define ANY32 INT32_MIN, INT32_MAX
#define ANY64 INT64_MIN, INT64_MAX
#define POS32 1, INT32_MAX
#define POS64 1, INT64_MAX
#define NNEG32 0, INT32_MAX
#define NNEG64 0, INT64_MAX

/* The trailing arguments are "lo, hi", written out or as a macro above. */
#define F_I32(k, st, m, req, ...) \
	{ .key = k, .kind = PF_I32, .off = offsetof(st, m), .required = req, \
	  RANGE(__VA_ARGS__) }
#define F_I64(k, st, m, req, ...) \
	{ .key = k, .kind = PF_I64, .off = offsetof(st, m), .required = req, \
	  RANGE(__VA_ARGS__) }
#define RANGE(...) RANGE_(__VA_ARGS__)
#define RANGE_(lo, hi) .min = (lo), .max = (hi)
#define F_F64(k, st, m) { .key = k, .kind = PF_F64, .off = offsetof(st, m) }
#define F_STR(k, st, m, req) \
	{ .key = k, .kind = PF_STR, .off = offsetof(st, m), .required = req }
#define F_STRV(k, st, m) { .key = k, .kind = PF_STRV, .off = offsetof(st, m) }
#define F_ENV(k, st, m) { .key = k, .kind = PF_ENV, .off = offsetof(st, m) }
#define F_BIN(k, st, m, len, req) \
	{ .key = k, .kind = PF_BIN, .off = offsetof(st, m), \
	  .off_n = offsetof(st, len), .required = req }
#define F_REC(k, st, m, r) \
	{ .key = k, .kind = PF_REC, .off = offsetof(st, m), .rec = &(r) }
#define F_RECV(k, st, m, n, r) \
	{ .key = k, .kind = PF_RECV, .off = offsetof(st, m), \
	  .off_n = offsetof(st, n), .rec = &(r) }

#define RECORD(fields, st) \
	{ fields, sizeof(fields) / sizeof(fields[0]), sizeof(st) }

static const struct proto_field ref_fields[] = {
	F_I64("job", struct proto_attempt_ref, job, true, POS64),
	F_I32("attempt", struct proto_attempt_ref, attempt, true, POS32),
};
static const struct proto_record ref_rec =
	RECORD(ref_fields, struct proto_attempt_ref);

static const struct proto_field hello_fields[] = {
	F_I32("proto", struct proto_hello, proto, true, POS32),
	F_STR("name", struct proto_hello, name, true),
	F_STR("host_type", struct proto_hello, host_type, true),
	F_STR("goos", struct proto_hello, goos, true),
	F_STR("goarch", struct proto_hello, goarch, true),
	F_STRV("platforms", struct proto_hello, platforms),
	F_STRV("labels", struct proto_hello, labels),
	F_I32("capacity", struct proto_hello, capacity, true, POS32),
	F_STR("version", struct proto_hello, version, false),
	F_RECV("held", struct proto_hello, held, n_held, ref_rec),
	F_RECV("running", struct proto_hello, running, n_running, ref_rec),
};

static const struct proto_field resume_fields[] = {
	F_I64("job", struct proto_resume, job, true, POS64),
	F_I32("attempt", struct proto_resume, attempt, true, POS32),
	F_I64("seq", struct proto_resume, seq, true, NNEG64),
};
static const struct proto_record resume_rec =
	RECORD(resume_fields, struct proto_resume);

static const struct proto_field welcome_fields[] = {
	F_STR("session", struct proto_welcome, session, true),
	F_I32("heartbeat_ms", struct proto_welcome, heartbeat_ms, false, NNEG32),
	F_I64("max_message", struct proto_welcome, max_message, false, NNEG64),
	F_RECV("resume", struct proto_welcome, resume, n_resume, resume_rec),
};

static const struct proto_field hb_fields[] = {
	F_I32("running", struct proto_hb, running, false, NNEG32),
	F_F64("load", struct proto_hb, load),
	F_I64("disk_free", struct proto_hb, disk_free, false, ANY64),
};

static const struct proto_field source_fields[] = {
	F_STR("kind", struct proto_source, kind, false),
	F_STR("url", struct proto_source, url, false),
	F_STR("ref", struct proto_source, ref, false),
	F_STR("sha256", struct proto_source, sha256, false),
};
static const struct proto_record source_rec =
	RECORD(source_fields, struct proto_source);

static const struct proto_field run_fields[] = {
	F_I64("job", struct proto_run, job, true, POS64),
	F_I32("attempt", struct proto_run, attempt, true, POS32),
	F_STR("platform", struct proto_run, platform, false),
	F_STRV("argv", struct proto_run, argv),
	F_STR("script", struct proto_run, script, false),
	F_ENV("env", struct proto_run, env),
	F_I32("timeout_s", struct proto_run, timeout_s, false, NNEG32),
	F_I32("idle_timeout_s", struct proto_run, idle_timeout_s, false, NNEG32),
	F_REC("source", struct proto_run, source, source_rec),
	F_STRV("artifacts", struct proto_run, artifacts),
	F_STR("upload_url", struct proto_run, upload_url, false),
	F_STR("upload_token", struct proto_run, upload_token, false),
};

static const struct proto_field log_fields[] = {
	F_I64("job", struct proto_log, job, true, POS64),
	F_I32("attempt", struct proto_log, attempt, true, POS32),
	F_I64("seq", struct proto_log, seq, true, NNEG64),
	F_I32("stream", struct proto_log, stream, true, 1, 2),
	F_BIN("data", struct proto_log, data, len, true),
};

static const struct proto_field artifact_fields[] = {
	F_STR("name", struct proto_artifact, name, true),
	F_STR("sha256", struct proto_artifact, sha256, true),
	F_I64("size", struct proto_artifact, size, true, NNEG64),
};
static const struct proto_record artifact_rec =
	RECORD(artifact_fields, struct proto_artifact);

static const struct proto_field done_fields[] = {
	F_I64("job", struct proto_done, job, true, POS64),
	F_I32("attempt", struct proto_done, attempt, true, POS32),
	F_I32("exit", struct proto_done, exit_code, true, ANY32),
	F_I32("signal", struct proto_done, signal, false, NNEG32),
	F_I64("duration_ms", struct proto_done, duration_ms, false, NNEG64),
	F_STR("error", struct proto_done, error, false),
	F_STR("commit", struct proto_done, commit, false),
	F_RECV("artifacts", struct proto_done, artifacts, n_artifacts,
	       artifact_rec),
};

/* Indexed by enum proto_type; drain has no fields. */
static const struct proto_record type_recs[PROTO__COUNT] = {
	[PROTO_HELLO] = RECORD(hello_fields, struct proto_hello),
	[PROTO_WELCOME] = RECORD(welcome_fields, struct proto_welcome),
	[PROTO_HB] = RECORD(hb_fields, struct proto_hb),
	[PROTO_RUN] = RECORD(run_fields, struct proto_run),
	[PROTO_STARTED] = RECORD(ref_fields, struct proto_attempt_ref),
	[PROTO_LOG] = RECORD(log_fields, struct proto_log),
	[PROTO_DONE] = RECORD(done_fields, struct proto_done),
	[PROTO_ACK] = RECORD(ref_fields, struct proto_attempt_ref),
	[PROTO_CANCEL] = RECORD(ref_fields, struct proto_attempt_ref),
	[PROTO_DRAIN] = { NULL, 0, 0 },
};

const struct proto_record *proto_schema_record(enum proto_type t)
{
	if (t <= PROTO_NONE || t >= PROTO__COUNT)
		return NULL;
	return &type_recs[t];
}

enum proto_type proto_schema_find(const char *s, size_t len)
{
	int t;

	for (t = PROTO_NONE + 1; t < PROTO__COUNT; t++) {
		const char *name = proto_type_name((enum proto_type)t);

		if (strlen(name) == len && memcmp(name, s, len) == 0)
			return (enum proto_type)t;
	}
	return PROTO_NONE;
}

void proto_schema_range(const struct proto_field *f, char *out, size_t n)
{
	if (f->max == f->min + 1)
		snprintf(out, n, "(%" PRId64 " or %" PRId64 ")", f->min, f->max);
	else
		snprintf(out, n, "(%" PRId64 " to %" PRId64 ")", f->min, f->max);
}

void proto_schema_quote(char *out, size_t n, const char *s, size_t len)
{
	const size_t keep = 40; /* enough to recognise a key or a type */
	size_t i, o = 0;

	if (n == 0)
		return;
	for (i = 0; i < len && i < keep && o + 1 < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
	if (i < len && o + 4 < n)
		memcpy(out + o, "...", 4);
}

static const char *kv_key(const struct proto_kv *kv)
{
	return kv->key ? kv->key : "";
}

static int kv_cmp(const void *a, const void *b)
{
	const struct proto_kv *x = *(const struct proto_kv *const *)a;
	const struct proto_kv *y = *(const struct proto_kv *const *)b;

	return strcmp(kv_key(x), kv_key(y));
}

/* Sorting pointers keeps this O(n log n) for the 10,000 entries allowed. */
const char *proto_schema_env_dup(const struct proto_env *env)
{
	const struct proto_kv **sorted;
	const char *dup = NULL;
	size_t i;

	if (env->n < 2 || !env->v)
		return NULL;
	sorted = xcalloc(env->n, sizeof *sorted);
	for (i = 0; i < env->n; i++)
		sorted[i] = &env->v[i];
	qsort(sorted, env->n, sizeof *sorted, kv_cmp);
	for (i = 1; i < env->n && !dup; i++) {
		if (strcmp(kv_key(sorted[i - 1]), kv_key(sorted[i])) == 0)
			dup = kv_key(sorted[i]);
	}
	free(sorted);
	return dup;
}

static void strv_free(struct proto_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n && sv->v; i++)
		free(sv->v[i]);
	free(sv->v);
}

static void env_free(struct proto_env *env)
{
	size_t i;

	for (i = 0; i < env->n && env->v; i++) {
		free(env->v[i].key);
		free(env->v[i].val);
	}
	free(env->v);
}

static void recv_free(const struct proto_field *f, void *base)
{
	char *arr = *(char **)proto_field_at(base, f->off);
	size_t n = *(size_t *)proto_field_at(base, f->off_n);
	size_t i;

	for (i = 0; i < n && arr; i++)
		proto_schema_record_free(f->rec, arr + i * f->rec->size);
	free(arr);
}

void proto_schema_record_free(const struct proto_record *r, void *base)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct proto_field *f = &r->fields[i];
		void *mem = proto_field_at(base, f->off);

		switch (f->kind) {
		case PF_STR:
			free(*(char **)mem);
			break;
		case PF_BIN:
			free(*(unsigned char **)mem);
			break;
		case PF_STRV:
			strv_free(mem);
			break;
		case PF_ENV:
			env_free(mem);
			break;
		case PF_REC:
			proto_schema_record_free(f->rec, mem);
			break;
		case PF_RECV:
			recv_free(f, base);
			break;
		case PF_I32:
		case PF_I64:
		case PF_F64:
			break;
		}
	}
}

size_t proto_path_push(struct proto_path *p, const char *fmt, ...)
{
	size_t old = p->len;
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(p->s + p->len, sizeof p->s - p->len, fmt, ap);
	va_end(ap);
	if (k > 0)
		p->len += (size_t)k;
	if (p->len >= sizeof p->s)
		p->len = sizeof p->s - 1;
	return old;
}

void proto_path_pop(struct proto_path *p, size_t len)
{
	p->len = len;
	p->s[len] = '\0';
}
