/*
 * test_proto.c - unit tests for protocol/ (wire protocol v1).
 *
 * Round trips of every message type with edge values, then hostile input:
 * every truncation of valid frames, size bombs in tiny frames, wrong and
 * missing fields, unknown types, nesting, trailing bytes, random mutations.
 * Every decode runs on an exact-size heap copy so ASan sees any over-read,
 * and every failure must leave the output struct zeroed with a message.
 *
 * Hostile frames are written in a small notation packed by msgpack-c (not
 * by our encoder), so a table row reads like the message it stands for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "xalloc.h"

/* ---- helpers: decoding and checking ---------------------------------- */

static void expect_zero(const struct proto_msg *m)
{
	static const struct proto_msg zero;

	assert_memory_equal(m, &zero, sizeof zero);
}

/*
 * Decode from an exact-size heap copy so an over-read is an ASan error,
 * and freed before returning so a decoded message that still pointed into
 * the input would be a use-after-free. A failure must leave *m zeroed and
 * say why.
 */
static rc_t decode_exact(const void *p, size_t n,
			 const struct proto_limits *lim, struct proto_msg *m,
			 struct errbuf *eb)
{
	unsigned char *copy = xmalloc(n);
	rc_t rc;

	if (n)
		memcpy(copy, p, n);
	errbuf_clear(eb);
	memset(m, 0x5a, sizeof *m); /* decode must not rely on a clean struct */
	rc = proto_decode(copy, n, lim, m, eb);
	free(copy);
	if (rc) {
		expect_zero(m);
		assert_true(eb->msg[0] != '\0');
	}
	return rc;
}

static void expect_contains(const char *text, const char *want)
{
	if (want && !strstr(text, want))
		fail_msg("error \"%s\" does not contain \"%s\"", text, want);
}

/* ---- helpers: the test notation -------------------------------------- */

/*
 *   {t:'run', job:1, argv:['a', 7]}   maps (bare or quoted keys), arrays
 *   'text' b'bytes'  str and bin; \xNN and \' escapes
 *   -5 18446744073709551615 1.5 nil true false
 * Commas are optional separators.
 */
struct tn {
	const char *s; /* next character of the notation */
};

static void tn_value(struct tn *t, msgpack_packer *pk);

static void tn_space(struct tn *t)
{
	while (*t->s == ' ' || *t->s == ',')
		t->s++;
}

static size_t tn_quoted(struct tn *t, char *out, size_t cap)
{
	char hex[3] = "";
	size_t n;

	assert_int_equal(*t->s, '\'');
	for (t->s++, n = 0; *t->s != '\''; n++) {
		assert_true(*t->s != '\0' && n < cap);
		if (t->s[0] == '\\' && t->s[1] == 'x') {
			memcpy(hex, t->s + 2, 2);
			out[n] = (char)strtol(hex, NULL, 16);
			t->s += 4;
		} else if (t->s[0] == '\\') {
			out[n] = t->s[1];
			t->s += 2;
		} else {
			out[n] = *t->s++;
		}
	}
	t->s++;
	return n;
}

static void tn_word(struct tn *t, msgpack_packer *pk, bool key)
{
	const char *w = t->s;
	size_t n;

	while (isalnum((unsigned char)*t->s) || *t->s == '_')
		t->s++;
	n = (size_t)(t->s - w);
	if (key)
		msgpack_pack_str_with_body(pk, w, n);
	else if (n == 3 && memcmp(w, "nil", 3) == 0)
		msgpack_pack_nil(pk);
	else if (n == 4 && memcmp(w, "true", 4) == 0)
		msgpack_pack_true(pk);
	else if (n == 5 && memcmp(w, "false", 5) == 0)
		msgpack_pack_false(pk);
	else
		fail_msg("bad notation word \"%.*s\"", (int)n, w);
}

static void tn_number(struct tn *t, msgpack_packer *pk)
{
	size_t n = strspn(t->s, "-0123456789.");
	char *end;

	if (memchr(t->s, '.', n))
		msgpack_pack_double(pk, strtod(t->s, &end));
	else if (*t->s == '-')
		msgpack_pack_int64(pk, strtoll(t->s, &end, 10));
	else
		msgpack_pack_uint64(pk, strtoull(t->s, &end, 10));
	t->s = end;
}

/* Elements go to a side buffer first: the header needs their count. */
static void tn_container(struct tn *t, msgpack_packer *pk, char close)
{
	msgpack_sbuffer sb;
	msgpack_packer sub;
	size_t count = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&sub, &sb, msgpack_sbuffer_write);
	for (t->s++, tn_space(t); *t->s != close; tn_space(t), count++) {
		assert_true(*t->s != '\0');
		if (close == '}') {
			if (isalpha((unsigned char)*t->s) || *t->s == '_')
				tn_word(t, &sub, true);
			else
				tn_value(t, &sub);
			assert_int_equal(*t->s, ':');
			t->s++;
		}
		tn_value(t, &sub);
	}
	t->s++;
	if (close == '}')
		msgpack_pack_map(pk, count);
	else
		msgpack_pack_array(pk, count);
	if (sb.size)
		pk->callback(pk->data, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

static void tn_value(struct tn *t, msgpack_packer *pk)
{
	char text[512];
	size_t n;

	tn_space(t);
	if (*t->s == '{') {
		tn_container(t, pk, '}');
	} else if (*t->s == '[') {
		tn_container(t, pk, ']');
	} else if (*t->s == '\'') {
		n = tn_quoted(t, text, sizeof text);
		msgpack_pack_str_with_body(pk, text, n);
	} else if (t->s[0] == 'b' && t->s[1] == '\'') {
		t->s++;
		n = tn_quoted(t, text, sizeof text);
		msgpack_pack_bin_with_body(pk, text, n);
	} else if (isdigit((unsigned char)*t->s) || *t->s == '-') {
		tn_number(t, pk);
	} else {
		tn_word(t, pk, false);
	}
}

/* Pack notation into sb; the caller destroys sb. */
static void tn_pack(const char *notation, msgpack_sbuffer *sb)
{
	struct tn t = { notation };
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	tn_value(&t, &pk);
	tn_space(&t);
	assert_int_equal(*t.s, '\0');
}

static rc_t decode_notation(const char *notation,
			    const struct proto_limits *lim,
			    struct proto_msg *m, struct errbuf *eb)
{
	msgpack_sbuffer sb;
	rc_t rc;

	tn_pack(notation, &sb);
	rc = decode_exact(sb.data, sb.size, lim, m, eb);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* ---- message builders (heap-owned, freed with proto_msg_free) --------- */

static struct proto_strv strv_make(const char *const *items, size_t n)
{
	struct proto_strv sv = { NULL, n };
	size_t i;

	if (n)
		sv.v = xcalloc(n, sizeof *sv.v);
	for (i = 0; i < n; i++)
		sv.v[i] = items[i] ? xstrdup(items[i]) : NULL;
	return sv;
}

#define STRV(...)                                                        \
	strv_make((const char *const[]){ __VA_ARGS__ },                  \
		  sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *))

static void build_hello_full(struct proto_msg *m)
{
	struct proto_hello *h = &m->u.hello;

	m->type = PROTO_HELLO;
	h->proto = PROTO_VERSION;
	h->name = xstrdup("b1");
	h->host_type = xstrdup("linux-amd64");
	h->goos = xstrdup("linux");
	h->goarch = xstrdup("amd64");
	h->platforms = STRV("linux/amd64", "linux/386");
	h->labels = STRV("large", "\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 \xe2\x9c\x93", "");
	h->capacity = INT32_MAX;
	h->version = xstrdup("0.1.0");
	h->n_held = 3;
	h->held = xcalloc(3, sizeof *h->held);
	h->held[0] = (struct proto_attempt_ref){ INT64_MAX, INT32_MAX };
	h->held[1] = (struct proto_attempt_ref){ 1, 1 };
	h->held[2] = (struct proto_attempt_ref){ 4096, 3 };
	h->n_running = 2;
	h->running = xcalloc(2, sizeof *h->running);
	h->running[0] = (struct proto_attempt_ref){ 77, 2 };
	h->running[1] = (struct proto_attempt_ref){ INT64_MAX, 1 };
}

/* NULL strings and empty arrays everywhere they are allowed. */
static void build_hello_min(struct proto_msg *m)
{
	m->type = PROTO_HELLO;
	m->u.hello.proto = 1;
	m->u.hello.capacity = 1;
}

static void build_welcome(struct proto_msg *m)
{
	m->type = PROTO_WELCOME;
	m->u.welcome.session = xstrdup("s-9f86d081884c7d65");
	m->u.welcome.heartbeat_ms = 15000;
	m->u.welcome.max_message = INT64_MAX;
	m->u.welcome.n_resume = 2;
	m->u.welcome.resume = xcalloc(2, sizeof *m->u.welcome.resume);
	m->u.welcome.resume[0] = (struct proto_resume){ 12, 1, 0 };
	m->u.welcome.resume[1] = (struct proto_resume){ INT64_MAX, 3, INT64_MAX };
}

static void build_welcome_empty(struct proto_msg *m)
{
	m->type = PROTO_WELCOME;
}

static void build_hb(struct proto_msg *m)
{
	m->type = PROTO_HB;
	m->u.hb.running = 3;
	m->u.hb.load = 1.25;
	m->u.hb.disk_free = INT64_MAX;
}

static void build_hb_negative(struct proto_msg *m)
{
	m->type = PROTO_HB;
	m->u.hb.load = -0.5;
	m->u.hb.disk_free = INT64_MIN;
}

static void env_fill(struct proto_env *env, size_t n)
{
	size_t i;

	env->n = n;
	env->v = xcalloc(n, sizeof *env->v);
	for (i = 0; i < n; i++) {
		env->v[i].key = xasprintf("VAR_%04zu", i);
		env->v[i].val = xasprintf("value %zu \xe2\x9c\x93", i);
	}
}

static void build_run(struct proto_msg *m, size_t n_env)
{
	struct proto_run *r = &m->u.run;

	m->type = PROTO_RUN;
	r->job = INT64_MAX;
	r->attempt = 2;
	r->platform = xstrdup("linux/arm64");
	r->argv = STRV("make", "test", "", "\xe6\x97\xa5\xe6\x9c\xac");
	env_fill(&r->env, n_env);
	r->timeout_s = 600;
	r->idle_timeout_s = 90;
	r->source.kind = xstrdup("git");
	r->source.url = xstrdup("https://example.org/x.git");
	r->source.ref = xstrdup("main");
	r->artifacts = STRV("out/*", "bin/hello");
	r->upload_url = xstrdup("https://coord:8443/api/v1/blobs/");
	r->upload_token = xstrdup("tok-123");
}

static void build_run_small(struct proto_msg *m)
{
	build_run(m, 3);
}

static void build_run_big_env(struct proto_msg *m)
{
	build_run(m, 500);
}

static void build_run_script(struct proto_msg *m)
{
	m->type = PROTO_RUN;
	m->u.run.job = 1;
	m->u.run.attempt = 1;
	m->u.run.script = xstrdup("make && make test");
	m->u.run.source.kind = xstrdup("tarball");
	m->u.run.source.sha256 = xstrdup("e3b0c44298fc1c149afbf4c8996fb924"
					 "27ae41e4649b934ca495991b7852b855");
}

static void build_started(struct proto_msg *m)
{
	m->type = PROTO_STARTED;
	m->u.ref = (struct proto_attempt_ref){ INT64_MAX, INT32_MAX };
}

static void build_ack(struct proto_msg *m)
{
	m->type = PROTO_ACK;
	m->u.ref = (struct proto_attempt_ref){ 1, 1 };
}

static void build_cancel(struct proto_msg *m)
{
	m->type = PROTO_CANCEL;
	m->u.ref = (struct proto_attempt_ref){ 77, 5 };
}

static void log_fill(struct proto_msg *m, size_t len)
{
	size_t i;

	m->type = PROTO_LOG;
	m->u.log.job = 12;
	m->u.log.attempt = 1;
	m->u.log.seq = INT64_MAX;
	m->u.log.stream = 2;
	m->u.log.len = len;
	m->u.log.data = xmalloc(len + 1);
	for (i = 0; i < len; i++)
		m->u.log.data[i] = (unsigned char)(i * 7);
	if (len >= 2) {
		m->u.log.data[0] = 0x00;
		m->u.log.data[1] = 0xff;
	}
}

static void build_log_chunk(struct proto_msg *m)
{
	log_fill(m, PROTO_LOG_CHUNK);
}

static void build_log_small(struct proto_msg *m)
{
	log_fill(m, 300);
}

static void build_log_empty(struct proto_msg *m)
{
	m->type = PROTO_LOG;
	m->u.log.job = 1;
	m->u.log.attempt = 1;
	m->u.log.stream = 1;
}

static void build_done(struct proto_msg *m)
{
	struct proto_done *d = &m->u.done;

	m->type = PROTO_DONE;
	d->job = 42;
	d->attempt = 1;
	d->exit_code = -1;
	d->signal = 9;
	d->duration_ms = 1234;
	d->error = xstrdup("");
	d->commit = xstrdup("0123456789abcdef0123456789abcdef01234567");
	d->n_artifacts = 2;
	d->artifacts = xcalloc(2, sizeof *d->artifacts);
	d->artifacts[0].name = xstrdup("out/hello");
	d->artifacts[0].sha256 = xstrdup("ab12");
	d->artifacts[0].size = 16384;
	d->artifacts[1].name = xstrdup("out/empty");
	d->artifacts[1].sha256 = xstrdup("e3b0");
	d->artifacts[1].size = INT64_MAX;
}

static void build_done_error(struct proto_msg *m)
{
	m->type = PROTO_DONE;
	m->u.done.job = 1;
	m->u.done.attempt = INT32_MAX;
	m->u.done.exit_code = INT32_MIN;
	m->u.done.error = xstrdup("source fetch failed: \xe2\x9c\x97 404");
}

static void build_drain(struct proto_msg *m)
{
	m->type = PROTO_DRAIN;
}

struct builder {
	const char *name;                 /* for failure messages */
	void (*build)(struct proto_msg *); /* fills a zeroed message */
};

static const struct builder builders[] = {
	{ "hello_full", build_hello_full },
	{ "hello_min", build_hello_min },
	{ "welcome", build_welcome },
	{ "welcome_empty", build_welcome_empty },
	{ "hb", build_hb },
	{ "hb_negative", build_hb_negative },
	{ "run_small", build_run_small },
	{ "run_big_env", build_run_big_env },
	{ "run_script", build_run_script },
	{ "started", build_started },
	{ "ack", build_ack },
	{ "cancel", build_cancel },
	{ "log_chunk", build_log_chunk },
	{ "log_small", build_log_small },
	{ "log_empty", build_log_empty },
	{ "done", build_done },
	{ "done_error", build_done_error },
	{ "drain", build_drain },
};

#define N_BUILDERS (sizeof builders / sizeof builders[0])

/* Encode with the default limits into a fresh buffer with headroom. */
static void encode_ok(const struct proto_msg *m, struct buf *b)
{
	struct errbuf eb = { "" };
	rc_t rc;

	buf_init(b, 16, 0);
	rc = proto_encode(m, NULL, b, &eb);
	if (rc)
		fail_msg("encode %s: %s: %s", proto_type_name(m->type),
			 rc_name(rc), eb.msg);
}

/* ---- helpers: comparing messages ------------------------------------- */

/* What was sent as NULL must arrive as "". */
static void expect_str(const char *want, const char *got)
{
	assert_non_null(got);
	assert_string_equal(want ? want : "", got);
}

static void expect_strv(const struct proto_strv *w, const struct proto_strv *g)
{
	size_t i;

	assert_int_equal(w->n, g->n);
	for (i = 0; i < w->n; i++)
		expect_str(w->v[i], g->v[i]);
}

static void expect_env(const struct proto_env *w, const struct proto_env *g)
{
	size_t i;

	assert_int_equal(w->n, g->n);
	for (i = 0; i < w->n; i++) {
		expect_str(w->v[i].key, g->v[i].key);
		expect_str(w->v[i].val, g->v[i].val);
	}
}

static void expect_ref(const struct proto_attempt_ref *w,
		       const struct proto_attempt_ref *g)
{
	assert_int_equal(w->job, g->job);
	assert_int_equal(w->attempt, g->attempt);
}

static void expect_hello(const struct proto_hello *w,
			 const struct proto_hello *g)
{
	size_t i;

	assert_int_equal(w->proto, g->proto);
	expect_str(w->name, g->name);
	expect_str(w->host_type, g->host_type);
	expect_str(w->goos, g->goos);
	expect_str(w->goarch, g->goarch);
	expect_strv(&w->platforms, &g->platforms);
	expect_strv(&w->labels, &g->labels);
	assert_int_equal(w->capacity, g->capacity);
	expect_str(w->version, g->version);
	assert_int_equal(w->n_held, g->n_held);
	for (i = 0; i < w->n_held; i++)
		expect_ref(&w->held[i], &g->held[i]);
	assert_int_equal(w->n_running, g->n_running);
	for (i = 0; i < w->n_running; i++)
		expect_ref(&w->running[i], &g->running[i]);
}

static void expect_run(const struct proto_run *w, const struct proto_run *g)
{
	assert_int_equal(w->job, g->job);
	assert_int_equal(w->attempt, g->attempt);
	expect_str(w->platform, g->platform);
	expect_strv(&w->argv, &g->argv);
	expect_str(w->script, g->script);
	expect_env(&w->env, &g->env);
	assert_int_equal(w->timeout_s, g->timeout_s);
	assert_int_equal(w->idle_timeout_s, g->idle_timeout_s);
	expect_str(w->source.kind, g->source.kind);
	expect_str(w->source.url, g->source.url);
	expect_str(w->source.ref, g->source.ref);
	expect_str(w->source.sha256, g->source.sha256);
	expect_strv(&w->artifacts, &g->artifacts);
	expect_str(w->upload_url, g->upload_url);
	expect_str(w->upload_token, g->upload_token);
}

static void expect_log(const struct proto_log *w, const struct proto_log *g)
{
	assert_int_equal(w->job, g->job);
	assert_int_equal(w->attempt, g->attempt);
	assert_int_equal(w->seq, g->seq);
	assert_int_equal(w->stream, g->stream);
	assert_int_equal(w->len, g->len);
	assert_non_null(g->data);
	if (w->len)
		assert_memory_equal(w->data, g->data, w->len);
}

static void expect_done(const struct proto_done *w, const struct proto_done *g)
{
	size_t i;

	assert_int_equal(w->job, g->job);
	assert_int_equal(w->attempt, g->attempt);
	assert_int_equal(w->exit_code, g->exit_code);
	assert_int_equal(w->signal, g->signal);
	assert_int_equal(w->duration_ms, g->duration_ms);
	expect_str(w->error, g->error);
	expect_str(w->commit, g->commit);
	assert_int_equal(w->n_artifacts, g->n_artifacts);
	for (i = 0; i < w->n_artifacts; i++) {
		expect_str(w->artifacts[i].name, g->artifacts[i].name);
		expect_str(w->artifacts[i].sha256, g->artifacts[i].sha256);
		assert_int_equal(w->artifacts[i].size, g->artifacts[i].size);
	}
}

static void expect_msg(const struct proto_msg *w, const struct proto_msg *g)
{
	assert_int_equal(w->type, g->type);
	switch (w->type) {
	case PROTO_HELLO:
		expect_hello(&w->u.hello, &g->u.hello);
		break;
	case PROTO_WELCOME:
		expect_str(w->u.welcome.session, g->u.welcome.session);
		assert_int_equal(w->u.welcome.heartbeat_ms,
				 g->u.welcome.heartbeat_ms);
		assert_int_equal(w->u.welcome.max_message,
				 g->u.welcome.max_message);
		assert_int_equal(w->u.welcome.n_resume, g->u.welcome.n_resume);
		for (size_t k = 0; k < w->u.welcome.n_resume; k++) {
			assert_int_equal(w->u.welcome.resume[k].job,
					 g->u.welcome.resume[k].job);
			assert_int_equal(w->u.welcome.resume[k].attempt,
					 g->u.welcome.resume[k].attempt);
			assert_int_equal(w->u.welcome.resume[k].seq,
					 g->u.welcome.resume[k].seq);
		}
		break;
	case PROTO_HB:
		assert_int_equal(w->u.hb.running, g->u.hb.running);
		/* bitwise, so a NaN from a mutated frame compares equal */
		assert_memory_equal(&w->u.hb.load, &g->u.hb.load,
				    sizeof(double));
		assert_int_equal(w->u.hb.disk_free, g->u.hb.disk_free);
		break;
	case PROTO_RUN:
		expect_run(&w->u.run, &g->u.run);
		break;
	case PROTO_STARTED:
	case PROTO_ACK:
	case PROTO_CANCEL:
		expect_ref(&w->u.ref, &g->u.ref);
		break;
	case PROTO_LOG:
		expect_log(&w->u.log, &g->u.log);
		break;
	case PROTO_DONE:
		expect_done(&w->u.done, &g->u.done);
		break;
	case PROTO_DRAIN:
		break;
	default:
		fail_msg("unexpected type %d", (int)w->type);
	}
}

/* ---- tests: names and ownership ------------------------------------- */

static void test_type_names(void **state)
{
	static const struct {
		enum proto_type t;
		const char *name;
	} cases[] = {
		{ PROTO_HELLO, "hello" }, { PROTO_WELCOME, "welcome" },
		{ PROTO_HB, "hb" },       { PROTO_RUN, "run" },
		{ PROTO_STARTED, "started" }, { PROTO_LOG, "log" },
		{ PROTO_DONE, "done" },   { PROTO_ACK, "ack" },
		{ PROTO_CANCEL, "cancel" }, { PROTO_DRAIN, "drain" },
		{ PROTO_NONE, "?" },      { PROTO__COUNT, "?" },
		{ (enum proto_type)-1, "?" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(proto_type_name(cases[i].t), cases[i].name);
}

static void test_free_zeroed_and_twice(void **state)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	proto_msg_free(&m);
	proto_msg_free(NULL);
	build_run_small(&m);
	proto_msg_free(&m);
	expect_zero(&m);
	proto_msg_free(&m); /* a freed message is a zeroed one */
	m.type = PROTO_DRAIN;
	proto_msg_free(&m);
	expect_zero(&m);
}

static void test_default_limits(void **state)
{
	assert_int_equal(proto_default_limits.max_message, 1024 * 1024);
	assert_int_equal(proto_default_limits.max_string, 512 * 1024);
	assert_int_equal(proto_default_limits.max_items, 10000);
	assert_int_equal(proto_default_limits.max_depth, 8);
}

/* ---- tests: round trips --------------------------------------------- */

static void roundtrip_one(const struct builder *bd)
{
	struct proto_msg in = { 0 }, out, again;
	struct buf b, b2;
	struct errbuf eb;
	unsigned char *p;

	bd->build(&in);
	encode_ok(&in, &b);
	p = buf_data(&b);
	/* every message is a map whose first key is "t" */
	assert_true((p[0] & 0xf0) == 0x80);
	assert_memory_equal(p + 1, "\xa1t", 2);
	if (decode_exact(p, b.len, NULL, &out, &eb))
		fail_msg("%s: decode: %s", bd->name, eb.msg);
	expect_msg(&in, &out);
	/* decoding then encoding again gives the same bytes */
	encode_ok(&out, &b2);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(buf_data(&b), buf_data(&b2), b.len);
	assert_int_equal(decode_exact(p, b.len, NULL, &again, &eb), RC_OK);
	proto_msg_free(&again);
	proto_msg_free(&in);
	proto_msg_free(&out);
	buf_free(&b);
	buf_free(&b2);
}

static void test_roundtrip_all(void **state)
{
	size_t i;

	for (i = 0; i < N_BUILDERS; i++)
		roundtrip_one(&builders[i]);
}

static void test_roundtrip_log_chunk_size(void **state)
{
	struct proto_msg in = { 0 }, out;
	struct buf b;
	struct errbuf eb;

	build_log_chunk(&in);
	encode_ok(&in, &b);
	/* the data plus a bin32 header and a few small fields */
	assert_true(b.len > PROTO_LOG_CHUNK && b.len < PROTO_LOG_CHUNK + 64);
	assert_int_equal(decode_exact(buf_data(&b), b.len, NULL, &out, &eb),
			 RC_OK);
	assert_int_equal(out.u.log.len, PROTO_LOG_CHUNK);
	assert_int_equal(out.u.log.data[0], 0x00);
	assert_int_equal(out.u.log.data[1], 0xff);
	assert_int_equal(out.u.log.data[PROTO_LOG_CHUNK], 0); /* spare NUL */
	proto_msg_free(&in);
	proto_msg_free(&out);
	buf_free(&b);
}

/* The encoder appends: a second message follows the first in one buf. */
static void test_encode_appends(void **state)
{
	struct proto_msg a = { 0 }, c = { 0 }, out;
	struct errbuf eb = { "" };
	struct buf b;
	size_t first;

	build_ack(&a);
	build_hb(&c);
	buf_init(&b, 16, 0);
	assert_int_equal(buf_append(&b, "xyz", 3), RC_OK);
	assert_int_equal(proto_encode(&a, NULL, &b, &eb), RC_OK);
	first = b.len;
	assert_int_equal(proto_encode(&c, NULL, &b, &eb), RC_OK);
	assert_memory_equal(buf_data(&b), "xyz", 3);
	assert_int_equal(decode_exact(buf_data(&b) + 3, first - 3, NULL, &out,
				      &eb), RC_OK);
	expect_msg(&a, &out);
	proto_msg_free(&out);
	assert_int_equal(decode_exact(buf_data(&b) + first, b.len - first,
				      NULL, &out, &eb), RC_OK);
	expect_msg(&c, &out);
	proto_msg_free(&out);
	buf_free(&b);
}

/* ---- tests: encoding failures --------------------------------------- */

static void mut_none_type(struct proto_msg *m) { m->type = PROTO_NONE; }
static void mut_count_type(struct proto_msg *m) { m->type = PROTO__COUNT; }
static void mut_stream3(struct proto_msg *m) { m->u.log.stream = 3; }
static void mut_capacity0(struct proto_msg *m) { m->u.hello.capacity = 0; }
static void mut_job0(struct proto_msg *m) { m->u.run.job = 0; }
static void mut_data_null(struct proto_msg *m)
{
	free(m->u.log.data);
	m->u.log.data = NULL; /* len stays 300 */
}
static void mut_argv_null(struct proto_msg *m)
{
	free(m->u.run.argv.v[0]);
	m->u.run.argv.v[0] = NULL; /* fine: encodes as "" */
}

static void mut_env_dup(struct proto_msg *m)
{
	free(m->u.run.env.v[2].key);
	m->u.run.env.v[2].key = xstrdup("VAR_0000");
}

static void test_encode_errors(void **state)
{
	static const struct {
		void (*build)(struct proto_msg *); /* valid message */
		void (*mutate)(struct proto_msg *); /* then this; may be NULL */
		struct proto_limits lim;           /* zero: the defaults */
		size_t buf_max;                    /* cap on the buf; 0 none */
		rc_t rc;                           /* expected */
		const char *err;                   /* in the message */
	} cases[] = {
		{ build_drain, mut_none_type, { 0 }, 0, RC_INVALID,
		  "unknown message type 0" },
		{ build_drain, mut_count_type, { 0 }, 0, RC_INVALID,
		  "unknown message type" },
		{ build_log_small, mut_stream3, { 0 }, 0, RC_INVALID,
		  "log.stream: 3 out of range (1 or 2)" },
		{ build_hello_full, mut_capacity0, { 0 }, 0, RC_INVALID,
		  "hello.capacity: 0 out of range" },
		{ build_run_small, mut_job0, { 0 }, 0, RC_INVALID,
		  "run.job: 0 out of range" },
		{ build_log_small, mut_data_null, { 0 }, 0, RC_INVALID,
		  "log.data: NULL" },
		{ build_run_small, mut_argv_null, { 0 }, 0, RC_OK, NULL },
		{ build_run_small, mut_env_dup, { 0 }, 0, RC_INVALID,
		  "run.env.VAR_0000: duplicate key" },
		{ build_log_chunk, NULL, { 1024, 1 << 20, 100, 8 }, 0,
		  RC_TOO_LARGE, "exceeds the limit of 1024 bytes" },
		{ build_run_small, NULL, { 1 << 20, 10, 100, 8 }, 0,
		  RC_TOO_LARGE, "run.platform: 11 bytes exceeds" },
		{ build_run_small, NULL, { 1 << 20, 100, 3, 8 }, 0,
		  RC_TOO_LARGE, "entries exceeds the limit of 3" },
		{ build_hello_full, NULL, { 1 << 20, 100, 100, 2 }, 0,
		  RC_TOO_LARGE, "hello.held[0]: nested deeper than 2" },
		{ build_hello_full, NULL, { 0 }, 20, RC_TOO_LARGE,
		  "output buffer" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct proto_msg m = { 0 };
		struct errbuf eb = { "" };
		enum proto_type type;
		struct buf b;
		rc_t rc;

		cases[i].build(&m);
		type = m.type;
		if (cases[i].mutate)
			cases[i].mutate(&m);
		buf_init(&b, 8, cases[i].buf_max);
		rc = proto_encode(&m, cases[i].lim.max_message ? &cases[i].lim
							       : NULL,
				  &b, &eb);
		if (rc != cases[i].rc)
			fail_msg("case %zu: %s, want %s (%s)", i, rc_name(rc),
				 rc_name(cases[i].rc), eb.msg);
		expect_contains(eb.msg, cases[i].err);
		if (rc)
			assert_int_equal(b.len, 0); /* nothing half-written */
		m.type = type;
		proto_msg_free(&m);
		buf_free(&b);
	}
}

/* A buf that already failed is not written to, and the error is told. */
static void test_encode_after_buf_error(void **state)
{
	struct proto_msg m = { 0 };
	struct errbuf eb = { "" };
	struct buf b;

	build_ack(&m);
	buf_init(&b, 0, 4);
	assert_int_equal(buf_append(&b, "12345", 5), RC_TOO_LARGE);
	assert_int_equal(proto_encode(&m, NULL, &b, &eb), RC_TOO_LARGE);
	assert_int_equal(b.len, 0);
	expect_contains(eb.msg, "output buffer already failed");
	proto_msg_free(&m);
	buf_free(&b);
}

/* ---- tests: truncation and mutation --------------------------------- */

static void test_truncated_every_offset(void **state)
{
	size_t i, k;

	for (i = 0; i < N_BUILDERS; i++) {
		struct proto_msg in = { 0 }, out;
		struct errbuf eb;
		struct buf b;

		if (builders[i].build == build_log_chunk)
			continue; /* log_small covers it, 64K times faster */
		builders[i].build(&in);
		encode_ok(&in, &b);
		for (k = 0; k < b.len; k++) {
			rc_t rc = decode_exact(buf_data(&b), k, NULL, &out, &eb);

			if (rc != RC_TRUNCATED && rc != RC_INVALID)
				fail_msg("%s cut at %zu of %zu: %s (%s)",
					 builders[i].name, k, b.len,
					 rc_name(rc), eb.msg);
		}
		proto_msg_free(&in);
		buf_free(&b);
	}
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Random byte changes to valid frames: whatever the decoder accepts must
 * encode again and decode to the same thing; whatever it refuses must
 * leave nothing behind (decode_exact checks that).
 */
static void mutate_and_check(const unsigned char *frame, size_t n,
			     uint64_t *seed)
{
	unsigned char *p = xmalloc(n);
	struct proto_msg out, again;
	struct errbuf eb;
	struct buf b;
	int j, flips = 1 + (int)(rng_next(seed) % 4);

	memcpy(p, frame, n);
	for (j = 0; j < flips; j++)
		p[rng_next(seed) % n] = (unsigned char)rng_next(seed);
	if (decode_exact(p, n, NULL, &out, &eb) == RC_OK) {
		encode_ok(&out, &b);
		assert_int_equal(decode_exact(buf_data(&b), b.len, NULL, &again,
					      &eb), RC_OK);
		expect_msg(&out, &again);
		proto_msg_free(&again);
		proto_msg_free(&out);
		buf_free(&b);
	}
	free(p);
}

static void test_random_mutations(void **state)
{
	static void (*const seeds[])(struct proto_msg *) = {
		build_hello_full, build_run_small, build_run_script,
		build_log_small, build_done, build_welcome, build_hb,
	};
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t i;
	int round;

	for (i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		struct proto_msg in = { 0 };
		struct buf b;

		seeds[i](&in);
		encode_ok(&in, &b);
		for (round = 0; round < 3000; round++)
			mutate_and_check(buf_data(&b), b.len, &seed);
		proto_msg_free(&in);
		buf_free(&b);
	}
}

/* ---- tests: the scanner on raw bytes -------------------------------- */

#define RAW(s) s, sizeof(s) - 1

static void test_scan_raw(void **state)
{
	/* Everything but the depth is unlimited here: only the bytes present
	 * can stop a huge declared count. */
	static const struct proto_limits generous = {
		SIZE_MAX, SIZE_MAX, SIZE_MAX, 1000
	};
	static const struct {
		const char *what;  /* for failure messages */
		const char *bytes; /* the frame */
		size_t n;          /* its length */
		rc_t rc;           /* with the default limits */
		rc_t rc_generous;  /* with the generous ones */
	} cases[] = {
		{ "8-byte map32 of 400 million entries",
		  RAW("\xdf\x17\xd7\x84\x00\xa1t\xa0"), RC_TOO_LARGE,
		  RC_TRUNCATED },
		{ "map32 of 2^32-1 entries",
		  RAW("\xdf\xff\xff\xff\xff\xa1t\xa0"), RC_TOO_LARGE,
		  RC_TRUNCATED },
		{ "array32 of 2^32-1 entries",
		  RAW("\xdd\xff\xff\xff\xff\x00\x00\x00"), RC_TOO_LARGE,
		  RC_TRUNCATED },
		{ "map16 of 65535 entries", RAW("\xde\xff\xff\x00\x00\x00"),
		  RC_TOO_LARGE, RC_TRUNCATED },
		{ "array16 of 9999 in 6 bytes", RAW("\xdc\x27\x0f\x01\x02\x03"),
		  RC_TRUNCATED, RC_TRUNCATED },
		{ "fixmap of 15 entries in 3 bytes", RAW("\x8f\x01\x02"),
		  RC_TRUNCATED, RC_TRUNCATED },
		{ "map with 2 entries in 3 bytes", RAW("\x82\xa1t\x01"),
		  RC_TRUNCATED, RC_TRUNCATED },
		{ "nested huge array", RAW("\x81\xa1t\xdd\x7f\xff\xff\xff\x00"),
		  RC_TOO_LARGE, RC_TRUNCATED },
		{ "str32 of 4 GiB", RAW("\xdb\xff\xff\xff\xff\x61"),
		  RC_TOO_LARGE, RC_TRUNCATED },
		{ "str32 one over 1 MiB", RAW("\xdb\x00\x10\x00\x01\x61"),
		  RC_TOO_LARGE, RC_TRUNCATED },
		{ "str16 past the end", RAW("\xda\x00\x10\x61\x62\x63"),
		  RC_TRUNCATED, RC_TRUNCATED },
		{ "bin32 of 2 GiB", RAW("\xc6\x7f\xff\xff\xff\x00"),
		  RC_TOO_LARGE, RC_TRUNCATED },
		{ "bin8 past the end", RAW("\xc4\x05\x61\x62"), RC_TRUNCATED,
		  RC_TRUNCATED },
		{ "huge map key", RAW("\x81\xdb\xff\xff\xff\xf0\x01"),
		  RC_TOO_LARGE, RC_TRUNCATED },
		{ "str8 header cut", RAW("\xd9"), RC_TRUNCATED, RC_TRUNCATED },
		{ "array32 header cut", RAW("\xdd\x00\x00"), RC_TRUNCATED,
		  RC_TRUNCATED },
		{ "uint64 cut", RAW("\xcf\x00\x00\x00"), RC_TRUNCATED,
		  RC_TRUNCATED },
		{ "float64 cut", RAW("\xcb\x3f\xf0"), RC_TRUNCATED,
		  RC_TRUNCATED },
		{ "empty frame", "", 0, RC_TRUNCATED, RC_TRUNCATED },
		{ "trailing byte", RAW("\x80\x00"), RC_INVALID, RC_INVALID },
		{ "two values", RAW("\x81\xa1t\xa5" "drain\x81\xa1t\xa5" "drain"),
		  RC_INVALID, RC_INVALID },
		{ "ext8", RAW("\xc7\x01\x05\x00"), RC_INVALID, RC_INVALID },
		{ "fixext1 inside a map", RAW("\x81\xa1t\xd4\x01\x00"),
		  RC_INVALID, RC_INVALID },
		{ "0xc1 never used", RAW("\xc1"), RC_INVALID, RC_INVALID },
		{ "depth 8", RAW("\x91\x91\x91\x91\x91\x91\x91\x90"), RC_OK,
		  RC_OK },
		{ "depth 9", RAW("\x91\x91\x91\x91\x91\x91\x91\x91\x90"),
		  RC_TOO_LARGE, RC_OK },
		{ "depth 9 through maps",
		  RAW("\x81\x00\x81\x00\x81\x00\x81\x00\x81\x00\x81\x00\x81\x00"
		      "\x81\x00\x80"),
		  RC_TOO_LARGE, RC_OK },
		{ "depth 33 (beyond msgpack-c's stack)",
		  RAW("\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91"
		      "\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91"
		      "\x91\x91\x91\x91\x90"),
		  RC_TOO_LARGE, RC_TOO_LARGE },
		{ "every scalar type",
		  RAW("\xdc\x00\x10\xc0\xc2\xc3\x7f\xe0\xcc\xff\xcd\xff\xff\xce\x00\x00"
		      "\x00\x01\xcf\x00\x00\x00\x00\x00\x00\x00\x01\xd0\x80\xd1"
		      "\x80\x00\xd2\x80\x00\x00\x00\xd3\x80\x00\x00\x00\x00\x00"
		      "\x00\x00\xca\x3f\x80\x00\x00\xcb\x3f\xf0\x00\x00\x00\x00"
		      "\x00\x00\xa0"),
		  RC_OK, RC_OK },
		{ "every length form",
		  RAW("\x96\xd9\x01\x61\xda\x00\x01\x61\xdb\x00\x00\x00\x01\x61"
		      "\xc4\x01\x00\xc5\x00\x01\x00\xc6\x00\x00\x00\x01\x00"),
		  RC_OK, RC_OK },
		{ "every container form",
		  RAW("\x94\xdc\x00\x01\x01\xdd\x00\x00\x00\x00\xde\x00\x01\x01"
		      "\x02\xdf\x00\x00\x00\x01\x01\x02"),
		  RC_OK, RC_OK },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct proto_msg m;
		struct errbuf eb;
		rc_t rc;

		errbuf_clear(&eb);
		rc = proto_scan(cases[i].bytes, cases[i].n, NULL, &eb);
		if (rc != cases[i].rc)
			fail_msg("%s: scan %s, want %s (%s)", cases[i].what,
				 rc_name(rc), rc_name(cases[i].rc), eb.msg);
		errbuf_clear(&eb);
		rc = proto_scan(cases[i].bytes, cases[i].n, &generous, &eb);
		if (rc != cases[i].rc_generous)
			fail_msg("%s: generous scan %s, want %s (%s)",
				 cases[i].what, rc_name(rc),
				 rc_name(cases[i].rc_generous), eb.msg);
		/* decode must stop at the scanner, and never crash after it */
		rc = decode_exact(cases[i].bytes, cases[i].n, NULL, &m, &eb);
		if (cases[i].rc != RC_OK && rc != cases[i].rc)
			fail_msg("%s: decode %s, want %s (%s)", cases[i].what,
				 rc_name(rc), rc_name(cases[i].rc), eb.msg);
		rc = decode_exact(cases[i].bytes, cases[i].n, &generous, &m,
				  &eb);
		if (cases[i].rc_generous != RC_OK && rc != cases[i].rc_generous)
			fail_msg("%s: generous decode %s (%s)", cases[i].what,
				 rc_name(rc), eb.msg);
		if (rc == RC_OK)
			proto_msg_free(&m);
	}
}

static void test_scan_messages(void **state)
{
	static const struct proto_limits unlimited = {
		SIZE_MAX, SIZE_MAX, SIZE_MAX, 32
	};
	struct errbuf eb = { "" };
	struct proto_msg m;

	/* the 400-million-entry map says what is wrong and where */
	assert_int_equal(decode_exact("\xdf\x17\xd7\x84\x00\xa1t\xa0", 8,
				      NULL, &m, &eb), RC_TOO_LARGE);
	expect_contains(eb.msg, "map of 400000000 entries at offset 0");
	/* with no item limit, the bytes present still refuse it at once */
	errbuf_clear(&eb);
	assert_int_equal(proto_scan("\xdf\x17\xd7\x84\x00\xa1t\xa0", 8,
				    &unlimited, &eb), RC_TRUNCATED);
	expect_contains(eb.msg, "cannot fit in the 3 bytes left");
	assert_int_equal(decode_exact("\x81\xa1t\xdb\xff\xff\xff\xff\x61", 9,
				      NULL, &m, &eb), RC_TOO_LARGE);
	expect_contains(eb.msg, "string of 4294967295 bytes at offset 3");
	assert_int_equal(decode_exact("\x80\x00", 2, NULL, &m, &eb),
			 RC_INVALID);
	expect_contains(eb.msg, "1 trailing byte");
}

/* ---- tests: limits on decode ---------------------------------------- */

static void test_decode_limits(void **state)
{
	static const struct {
		const char *frame;       /* notation */
		struct proto_limits lim; /* limits to decode with */
		rc_t rc;                 /* expected */
	} cases[] = {
		{ "{t:'run', job:1, attempt:1, argv:['a','b','c','d','e']}",
		  { 4096, 100, 4, 8 }, RC_TOO_LARGE },
		{ "{t:'run', job:1, attempt:1, argv:['a','b','c','d']}",
		  { 4096, 100, 4, 8 }, RC_OK },
		{ "{t:'hello', proto:1, name:'b', host_type:'h', goos:'l', "
		  "goarch:'a', capacity:1, held:[{job:1, attempt:1}]}",
		  { 4096, 100, 100, 2 }, RC_TOO_LARGE },
		{ "{t:'hello', proto:1, name:'b', host_type:'h', goos:'l', "
		  "goarch:'a', capacity:1, held:[]}",
		  { 4096, 100, 100, 2 }, RC_OK },
		/* the longest key, "attempt", has 7 bytes */
		{ "{t:'run', job:1, attempt:1, script:'abcdefgh'}",
		  { 4096, 7, 100, 8 }, RC_TOO_LARGE },
		{ "{t:'run', job:1, attempt:1, script:'abcdefg'}",
		  { 4096, 7, 100, 8 }, RC_OK },
		/* {t:'drain'} packs to 9 bytes */
		{ "{t:'drain'}", { 8, 100, 100, 8 }, RC_TOO_LARGE },
		{ "{t:'drain'}", { 9, 100, 100, 8 }, RC_OK },
		{ "{t:'drain'}", { 9, 100, 100, 1 }, RC_OK },
		{ "{t:'drain'}", { 9, 100, 100, 0 }, RC_TOO_LARGE },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct proto_msg m;
		struct errbuf eb;
		rc_t rc = decode_notation(cases[i].frame, &cases[i].lim, &m,
					  &eb);

		if (rc != cases[i].rc)
			fail_msg("case %zu: %s, want %s (%s)", i, rc_name(rc),
				 rc_name(cases[i].rc), eb.msg);
		proto_msg_free(&m);
	}
}

/* A frame of exactly max_message bytes passes, one byte more does not. */
static void test_decode_max_message_edge(void **state)
{
	struct proto_msg in = { 0 }, out;
	struct proto_limits lim = proto_default_limits;
	struct errbuf eb;
	struct buf b;

	build_log_chunk(&in);
	encode_ok(&in, &b);
	lim.max_message = b.len;
	assert_int_equal(decode_exact(buf_data(&b), b.len, &lim, &out, &eb),
			 RC_OK);
	proto_msg_free(&out);
	lim.max_message = b.len - 1;
	assert_int_equal(decode_exact(buf_data(&b), b.len, &lim, &out, &eb),
			 RC_TOO_LARGE);
	expect_contains(eb.msg, "exceeds the limit");
	/* and the encoder agrees */
	buf_free(&b);
	buf_init(&b, 0, 0);
	errbuf_clear(&eb);
	assert_int_equal(proto_encode(&in, &lim, &b, &eb), RC_TOO_LARGE);
	lim.max_message++;
	assert_int_equal(proto_encode(&in, &lim, &b, &eb), RC_OK);
	proto_msg_free(&in);
	buf_free(&b);
}

/* ---- tests: field rules --------------------------------------------- */

static void test_decode_table(void **state)
{
	static const struct {
		const char *frame; /* notation */
		rc_t rc;           /* expected */
		const char *err;   /* in the message, if not NULL */
	} cases[] = {
		/* accepted */
		{ "{t:'drain'}", RC_OK, NULL },
		{ "{t:'drain', future:[1, 2, {x:nil}], 'v2':b'\\xff'}", RC_OK,
		  NULL },
		{ "{zz:1, t:'hb', load:2}", RC_OK, NULL },
		{ "{t:'hb', running:0, load:0.5, disk_free:-1}", RC_OK, NULL },
		{ "{t:'done', job:1, attempt:1, exit:-2147483648}", RC_OK, NULL },
		{ "{t:'started', job:9223372036854775807, attempt:2147483647}",
		  RC_OK, NULL },
		{ "{t:'log', job:1, attempt:1, seq:0, stream:2, "
		  "data:b'\\x00\\xff'}", RC_OK, NULL },
		/* top level */
		{ "[1, 2]", RC_INVALID, "message: expected map, got array" },
		{ "'hello'", RC_INVALID, "message: expected map, got string" },
		{ "7", RC_INVALID, "message: expected map, got integer" },
		{ "nil", RC_INVALID, "message: expected map, got nil" },
		{ "{}", RC_INVALID, "t: missing" },
		{ "{job:1}", RC_INVALID, "t: missing" },
		{ "{t:1}", RC_INVALID, "t: expected string, got integer" },
		{ "{t:b'run'}", RC_INVALID, "t: expected string, got binary" },
		{ "{t:['run']}", RC_INVALID, "t: expected string, got array" },
		{ "{t:'run', t:'run', job:1, attempt:1}", RC_INVALID,
		  "t: duplicate key" },
		{ "{t:'foo'}", RC_PROTO, "unknown message type \"foo\"" },
		{ "{t:''}", RC_PROTO, "unknown message type \"\"" },
		{ "{t:'RUN'}", RC_PROTO, "unknown message type \"RUN\"" },
		{ "{t:'run\\x00'}", RC_PROTO, "unknown message type \"run?\"" },
		{ "{t:'drain', 5:1}", RC_INVALID,
		  "drain: expected string key, got integer" },
		/* integers */
		{ "{t:'log', job:1, attempt:1, seq:0, stream:7, data:b''}",
		  RC_INVALID, "log.stream: 7 out of range (1 or 2)" },
		{ "{t:'log', job:1, attempt:1, seq:0, stream:0, data:b''}",
		  RC_INVALID, "log.stream: 0 out of range (1 or 2)" },
		{ "{t:'log', job:1, attempt:1, seq:-1, stream:1, data:b''}",
		  RC_INVALID, "log.seq: -1 out of range" },
		{ "{t:'run', job:0, attempt:1}", RC_INVALID,
		  "run.job: 0 out of range (1 to 9223372036854775807)" },
		{ "{t:'run', job:-5, attempt:1}", RC_INVALID,
		  "run.job: -5 out of range" },
		{ "{t:'run', job:18446744073709551615, attempt:1}", RC_INVALID,
		  "run.job: 18446744073709551615 out of range" },
		{ "{t:'run', job:1, attempt:0}", RC_INVALID,
		  "run.attempt: 0 out of range (1 to 2147483647)" },
		{ "{t:'run', job:1, attempt:2147483648}", RC_INVALID,
		  "run.attempt: 2147483648 out of range" },
		{ "{t:'run', job:1.0, attempt:1}", RC_INVALID,
		  "run.job: expected integer, got float" },
		{ "{t:'run', job:true, attempt:1}", RC_INVALID,
		  "run.job: expected integer, got boolean" },
		{ "{t:'run', job:1, attempt:1, timeout_s:-1}", RC_INVALID,
		  "run.timeout_s: -1 out of range" },
		{ "{t:'hello', proto:1, name:'b', host_type:'h', goos:'l', "
		  "goarch:'a', capacity:0}", RC_INVALID,
		  "hello.capacity: 0 out of range" },
		{ "{t:'welcome', session:'s', heartbeat_ms:-1}", RC_INVALID,
		  "welcome.heartbeat_ms: -1 out of range" },
		{ "{t:'hb', load:'x'}", RC_INVALID,
		  "hb.load: expected number, got string" },
		{ "{t:'hb', running:-1}", RC_INVALID,
		  "hb.running: -1 out of range" },
		/* strings and arrays */
		{ "{t:'run', job:1, attempt:1, argv:['a', 'b', 3]}", RC_INVALID,
		  "run.argv[2]: expected string, got integer" },
		{ "{t:'run', job:1, attempt:1, argv:'make'}", RC_INVALID,
		  "run.argv: expected array, got string" },
		{ "{t:'run', job:1, attempt:1, script:'a\\x00b'}", RC_INVALID,
		  "run.script: string contains a NUL byte" },
		{ "{t:'run', job:1, attempt:1, argv:['\\x00']}", RC_INVALID,
		  "run.argv[0]: string contains a NUL byte" },
		{ "{t:'run', job:1, attempt:1, script:nil}", RC_INVALID,
		  "run.script: expected string, got nil" },
		{ "{t:'run', job:1, attempt:1, script:b'ls'}", RC_INVALID,
		  "run.script: expected string, got binary" },
		{ "{t:'run', job:1, job:2, attempt:1}", RC_INVALID,
		  "run.job: duplicate key" },
		{ "{t:'run', 5:1, job:1, attempt:1}", RC_INVALID,
		  "run: expected string key, got integer" },
		/* env */
		{ "{t:'run', job:1, attempt:1, env:{PATH:[]}}", RC_INVALID,
		  "run.env.PATH: expected string, got array" },
		{ "{t:'run', job:1, attempt:1, env:{A:'1', B:'2', A:'3'}}",
		  RC_INVALID, "run.env.A: duplicate key" },
		{ "{t:'run', job:1, attempt:1, env:{1:'x'}}", RC_INVALID,
		  "run.env: expected string key, got integer" },
		{ "{t:'run', job:1, attempt:1, env:{'A\\x00B':'x'}}", RC_INVALID,
		  "run.env.A?B: string contains a NUL byte" },
		{ "{t:'run', job:1, attempt:1, env:{A:'x\\x00'}}", RC_INVALID,
		  "run.env.A: string contains a NUL byte" },
		{ "{t:'run', job:1, attempt:1, env:['A=1']}", RC_INVALID,
		  "run.env: expected map, got array" },
		{ "{t:'run', job:1, attempt:1, env:{A:'1', B:'', C:'3'}}", RC_OK,
		  NULL },
		/* nested records */
		{ "{t:'run', job:1, attempt:1, source:{kind:7}}", RC_INVALID,
		  "run.source.kind: expected string, got integer" },
		{ "{t:'run', job:1, attempt:1, source:'git'}", RC_INVALID,
		  "run.source: expected map, got string" },
		{ "{t:'hello', proto:1, name:'b', host_type:'h', goos:'l', "
		  "goarch:'a', capacity:1, held:[{job:1, attempt:1}, "
		  "{job:2, attempt:'x'}]}", RC_INVALID,
		  "hello.held[1].attempt: expected integer, got string" },
		{ "{t:'hello', proto:1, name:'b', host_type:'h', goos:'l', "
		  "goarch:'a', capacity:1, held:[{job:1}]}", RC_INVALID,
		  "hello.held[0].attempt: missing" },
		{ "{t:'hello', proto:1, name:'b', host_type:'h', goos:'l', "
		  "goarch:'a', capacity:1, held:[1]}", RC_INVALID,
		  "hello.held[0]: expected map, got integer" },
		{ "{t:'hello', proto:1, name:'b', host_type:'h', goos:'l', "
		  "goarch:'a', capacity:1, labels:'x'}", RC_INVALID,
		  "hello.labels: expected array, got string" },
		{ "{t:'log', job:1, attempt:1, seq:0, stream:1, data:'text'}",
		  RC_INVALID, "log.data: expected binary, got string" },
		{ "{t:'done', job:1, attempt:1, exit:0, artifacts:[{name:'a', "
		  "sha256:'x', size:'1'}]}", RC_INVALID,
		  "done.artifacts[0].size: expected integer, got string" },
		{ "{t:'done', job:1, attempt:1, exit:0, artifacts:[{name:'a', "
		  "sha256:'x', size:-1}]}", RC_INVALID,
		  "done.artifacts[0].size: -1 out of range" },
		{ "{t:'done', job:1, attempt:1, exit:0, artifacts:[{name:'a', "
		  "size:1}]}", RC_INVALID, "done.artifacts[0].sha256: missing" },
		{ "{t:'done', job:1, attempt:1, exit:0, artifacts:[{name:'a', "
		  "sha256:'x', size:1, extra:[]}]}", RC_OK, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct proto_msg m;
		struct errbuf eb;
		rc_t rc = decode_notation(cases[i].frame, NULL, &m, &eb);

		if (rc != cases[i].rc)
			fail_msg("%s: %s, want %s (%s)", cases[i].frame,
				 rc_name(rc), rc_name(cases[i].rc), eb.msg);
		if (cases[i].err && strcmp(eb.msg, cases[i].err) != 0 &&
		    !strstr(eb.msg, cases[i].err))
			fail_msg("%s: error \"%s\", want \"%s\"",
				 cases[i].frame, eb.msg, cases[i].err);
		proto_msg_free(&m);
	}
}

/*
 * For each type: the required fields with a valid value, a value of the
 * wrong type, and the type names the error must give. The frame with all
 * valid values must decode; replacing any one must fail naming it;
 * leaving any one out must fail with "missing".
 */
struct req_field {
	const char *key;   /* wire key */
	const char *valid; /* notation of a good value */
	const char *wrong; /* notation of a value of another type */
	const char *want;  /* type named in the error */
	const char *got;   /* type of the wrong value */
};

static const struct req_case {
	const char *type;          /* message type */
	struct req_field f[7];     /* required fields, NULL key ends */
} req_cases[] = {
	{ "hello",
	  { { "proto", "1", "'1'", "integer", "string" },
	    { "name", "'b1'", "1", "string", "integer" },
	    { "host_type", "'linux-amd64'", "[]", "string", "array" },
	    { "goos", "'linux'", "nil", "string", "nil" },
	    { "goarch", "'amd64'", "b'x'", "string", "binary" },
	    { "capacity", "2", "2.5", "integer", "float" } } },
	{ "welcome", { { "session", "'s'", "{}", "string", "map" } } },
	{ "run",
	  { { "job", "1", "'1'", "integer", "string" },
	    { "attempt", "1", "true", "integer", "boolean" } } },
	{ "started",
	  { { "job", "3", "[3]", "integer", "array" },
	    { "attempt", "1", "nil", "integer", "nil" } } },
	{ "ack",
	  { { "job", "3", "b'3'", "integer", "binary" },
	    { "attempt", "1", "{}", "integer", "map" } } },
	{ "cancel",
	  { { "job", "3", "3.0", "integer", "float" },
	    { "attempt", "1", "'1'", "integer", "string" } } },
	{ "log",
	  { { "job", "1", "false", "integer", "boolean" },
	    { "attempt", "1", "'1'", "integer", "string" },
	    { "seq", "0", "'0'", "integer", "string" },
	    { "stream", "1", "nil", "integer", "nil" },
	    { "data", "b'x'", "'x'", "binary", "string" } } },
	{ "done",
	  { { "job", "1", "'1'", "integer", "string" },
	    { "attempt", "1", "[]", "integer", "array" },
	    { "exit", "0", "'0'", "integer", "string" } } },
};

/* "{t:'TYPE', k:v, ...}" with field skip left out and field bad wrong. */
static void req_frame(const struct req_case *c, int skip, int bad,
		      char *out, size_t n)
{
	size_t len = (size_t)snprintf(out, n, "{t:'%s'", c->type);
	int i;

	for (i = 0; c->f[i].key; i++) {
		if (i == skip)
			continue;
		len += (size_t)snprintf(out + len, n - len, ", %s:%s",
					c->f[i].key,
					i == bad ? c->f[i].wrong : c->f[i].valid);
	}
	snprintf(out + len, n - len, "}");
}

static void req_expect(const char *frame, rc_t want_rc, const char *want)
{
	struct proto_msg m;
	struct errbuf eb;
	rc_t rc = decode_notation(frame, NULL, &m, &eb);

	if (rc != want_rc)
		fail_msg("%s: %s, want %s (%s)", frame, rc_name(rc),
			 rc_name(want_rc), eb.msg);
	if (want && strcmp(eb.msg, want) != 0)
		fail_msg("%s: error \"%s\", want \"%s\"", frame, eb.msg, want);
	proto_msg_free(&m);
}

static void test_required_fields(void **state)
{
	char frame[512], want[128];
	size_t c;
	int i;

	for (c = 0; c < sizeof req_cases / sizeof req_cases[0]; c++) {
		const struct req_case *rq = &req_cases[c];

		req_frame(rq, -1, -1, frame, sizeof frame);
		req_expect(frame, RC_OK, NULL);
		for (i = 0; rq->f[i].key; i++) {
			req_frame(rq, i, -1, frame, sizeof frame);
			snprintf(want, sizeof want, "%s.%s: missing", rq->type,
				 rq->f[i].key);
			req_expect(frame, RC_INVALID, want);
			req_frame(rq, -1, i, frame, sizeof frame);
			snprintf(want, sizeof want, "%s.%s: expected %s, got %s",
				 rq->type, rq->f[i].key, rq->f[i].want,
				 rq->f[i].got);
			req_expect(frame, RC_INVALID, want);
		}
	}
}

/* Absent optional fields come back as "" and empty arrays, never NULL. */
static void test_defaults(void **state)
{
	struct proto_msg m;
	struct errbuf eb;

	assert_int_equal(decode_notation("{t:'run', job:5, attempt:1}", NULL,
					 &m, &eb), RC_OK);
	assert_int_equal(m.type, PROTO_RUN);
	assert_int_equal(m.u.run.job, 5);
	assert_string_equal(m.u.run.platform, "");
	assert_string_equal(m.u.run.script, "");
	assert_string_equal(m.u.run.upload_url, "");
	assert_string_equal(m.u.run.upload_token, "");
	assert_string_equal(m.u.run.source.kind, "");
	assert_string_equal(m.u.run.source.url, "");
	assert_string_equal(m.u.run.source.ref, "");
	assert_string_equal(m.u.run.source.sha256, "");
	assert_int_equal(m.u.run.argv.n, 0);
	assert_null(m.u.run.argv.v);
	assert_int_equal(m.u.run.env.n, 0);
	assert_int_equal(m.u.run.artifacts.n, 0);
	assert_int_equal(m.u.run.timeout_s, 0);
	proto_msg_free(&m);

	assert_int_equal(decode_notation("{t:'run', job:5, attempt:1, "
					 "source:{url:'u'}}", NULL, &m, &eb),
			 RC_OK);
	assert_string_equal(m.u.run.source.url, "u");
	assert_string_equal(m.u.run.source.kind, "");
	proto_msg_free(&m);

	assert_int_equal(decode_notation("{t:'done', job:1, attempt:1, "
					 "exit:3}", NULL, &m, &eb), RC_OK);
	assert_string_equal(m.u.done.error, "");
	assert_int_equal(m.u.done.n_artifacts, 0);
	assert_int_equal(m.u.done.exit_code, 3);
	proto_msg_free(&m);

	assert_int_equal(decode_notation("{t:'log', job:1, attempt:1, seq:0, "
					 "stream:1, data:b''}", NULL, &m, &eb),
			 RC_OK);
	assert_non_null(m.u.log.data);
	assert_int_equal(m.u.log.len, 0);
	proto_msg_free(&m);

	assert_int_equal(decode_notation("{t:'welcome', session:''}", NULL, &m,
					 &eb), RC_OK);
	assert_string_equal(m.u.welcome.session, "");
	proto_msg_free(&m);
}

/* The wire keys are the ones DESIGN.md names, checked on raw bytes. */
static void test_wire_keys(void **state)
{
	static const char *const run_keys[] = {
		"job", "attempt", "platform", "argv", "script", "env",
		"timeout_s", "source", "artifacts", "upload_url",
		"upload_token", "kind", "url", "ref", "sha256",
	};
	static const char *const done_keys[] = {
		"exit", "signal", "duration_ms", "error", "artifacts", "name",
		"sha256", "size",
	};
	struct proto_msg m = { 0 };
	struct buf b;
	size_t i;

	build_run_small(&m);
	encode_ok(&m, &b);
	for (i = 0; i < sizeof run_keys / sizeof run_keys[0]; i++)
		assert_non_null(memmem(buf_data(&b), b.len, run_keys[i],
				       strlen(run_keys[i])));
	proto_msg_free(&m);
	buf_free(&b);
	build_done(&m);
	encode_ok(&m, &b);
	for (i = 0; i < sizeof done_keys / sizeof done_keys[0]; i++)
		assert_non_null(memmem(buf_data(&b), b.len, done_keys[i],
				       strlen(done_keys[i])));
	proto_msg_free(&m);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_free_zeroed_and_twice),
		cmocka_unit_test(test_default_limits),
		cmocka_unit_test(test_roundtrip_all),
		cmocka_unit_test(test_roundtrip_log_chunk_size),
		cmocka_unit_test(test_encode_appends),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_encode_after_buf_error),
		cmocka_unit_test(test_truncated_every_offset),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_scan_raw),
		cmocka_unit_test(test_scan_messages),
		cmocka_unit_test(test_decode_limits),
		cmocka_unit_test(test_decode_max_message_edge),
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_required_fields),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_wire_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
