/*
 * session.c - the /buildlet WebSocket protocol ("rfarm.v1").
 *
 * A buildlet authenticates in the upgrade request (bearer key for the host
 * type it names in x-rfarm-host-type), then says hello; from then on this
 * file decodes its messages and hands them to orch.c, and writes what
 * orch.c queues, one frame per WRITEABLE callback. Any protocol violation
 * closes that one session with a status and a reason; the coordinator
 * carries on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "internal.h"
#include "log.h"
#include "xalloc.h"

#define HOST_TYPE_HDR "x-rfarm-host-type:"
/* How stale a connected buildlet's last_seen may be in the store: a write
 * per heartbeat is thousands of UPDATEs a second in a large farm. */
#define SEEN_STORE_MS 60000

static int valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return 0;
	return 1;
}

/* "goos/goarch": lower-case letters and digits, one slash. */
static int valid_platform(const char *s)
{
	const char *slash = strchr(s, '/');

	if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '/'))
			return 0;
	return 1;
}

/* ---- the name index: session_find runs per job and per buildlet
 * shown, so with thousands connected it must not walk them all ---- */

static uint64_t name_hash(const char *p)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

static struct list *name_chain(struct coord *c, const char *name)
{
	return &c->by_name[name_hash(name) & (c->n_by_name - 1)];
}

/* Twice the chains once they average one session each. */
static void index_grow(struct coord *c)
{
	struct list *old = c->by_name, *l;
	size_t n_old = c->n_by_name, n = n_old ? n_old * 2 : 64;

	c->by_name = xcalloc(n, sizeof *c->by_name);
	c->n_by_name = n;
	for (size_t i = 0; i < n; i++)
		list_init(&c->by_name[i]);
	for (size_t i = 0; i < n_old; i++)
		while ((l = list_pop(&old[i]))) {
			struct session *s = list_entry(l, struct session,
						       name_link);

			list_add_tail(name_chain(c, s->hello.name), l);
		}
	free(old);
}

static void index_add(struct coord *c, struct session *s)
{
	if (c->n_named >= c->n_by_name)
		index_grow(c);
	list_add_tail(name_chain(c, s->hello.name), &s->name_link);
	c->n_named++;
}

static void index_del(struct coord *c, struct session *s)
{
	if (list_empty(&s->name_link))
		return;
	list_del(&s->name_link);
	c->n_named--;
}

void session_index_free(struct coord *c)
{
	free(c->by_name);
	c->by_name = NULL;
	c->n_by_name = c->n_named = 0;
}

struct session *session_find(struct coord *c, const char *name)
{
	struct list *l;

	if (!c->n_by_name)
		return NULL;
	list_for_each(l, name_chain(c, name)) {
		struct session *s = list_entry(l, struct session, name_link);

		if (!strcmp(s->hello.name, name))
			return s;
	}
	return NULL;
}

/* Out of the name index and the silence order: no longer the buildlet's
 * live session. */
static void session_unlist(struct session *s)
{
	list_del(&s->link);
	list_del(&s->rx_link);
	list_del(&s->open_link);
	index_del(s->c, s);
}

/* ---- last seen ---- */

static void store_seen(struct session *s)
{
	if (s->seen_stored_ms == s->seen_ms)
		return;
	if (!store_buildlet_seen(s->c->store, s->hello.name, s->seen_ms))
		s->seen_stored_ms = s->seen_ms;
}

/* Every message says the buildlet is there; the store hears of it once a
 * minute and when the session ends. */
static void note_seen(struct session *s)
{
	s->seen_ms = clock_wall_ms();
	if (s->seen_ms - s->seen_stored_ms >= SEEN_STORE_MS ||
	    s->seen_ms < s->seen_stored_ms) /* the clock was set back */
		store_seen(s);
}

int64_t session_last_seen(struct coord *c, const char *name, int64_t stored)
{
	struct session *s = session_find(c, name);

	return s ? s->seen_ms : stored;
}

int session_count_host_type(struct coord *c, const char *host_type)
{
	struct list *l;
	int n = 0;

	list_for_each(l, &c->sessions) {
		struct session *s = list_entry(l, struct session, link);

		n += s->hello.host_type && !strcmp(s->hello.host_type, host_type);
	}
	return n;
}

void session_hold_slot(struct session *s, int64_t job, int attempt)
{
	struct session_job *h = xcalloc(1, sizeof *h);

	h->job = job;
	h->attempt = attempt;
	list_add_tail(&s->held, &h->link);
}

int session_release_slot(struct session *s, int64_t job, int attempt)
{
	struct list *l;

	list_for_each(l, &s->held) {
		struct session_job *h = list_entry(l, struct session_job, link);

		if (h->job == job && h->attempt == attempt) {
			list_del(&h->link);
			free(h);
			if (s->running > 0)
				s->running--;
			orch_slot_freed(s->c, s);
			return 1;
		}
	}
	return 0;
}

void session_close(struct session *s, int status, const char *reason)
{
	if (s->closing)
		return;
	s->closing = 1;
	s->close_status = status;
	/* A close frame carries at most 123 bytes of reason. */
	snprintf(s->close_reason, sizeof s->close_reason, "%.120s", reason);
	log_warn("buildlet %s (%s): closing session: %s",
		 s->hello_done ? s->hello.name : "?", s->peer, reason);
	lws_callback_on_writable(s->wsi);
	/* A peer that reads nothing never lets the close frame out. */
	lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, 5);
}

void session_send(struct session *s, const struct proto_msg *m)
{
	struct frame *f = xcalloc(1, sizeof *f);
	struct errbuf eb = {""};

	buf_init(&f->b, LWS_PRE, 0);
	if (proto_encode(m, NULL, &f->b, &eb)) {
		log_error("cannot encode %s for %s: %s", proto_type_name(m->type),
			  s->hello.name, eb.msg);
		buf_free(&f->b);
		free(f);
		return;
	}
	if (s->outq_bytes + f->b.len > COORD_MAX_OUTQ) {
		buf_free(&f->b);
		free(f);
		session_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			      "buildlet does not read its messages");
		return;
	}
	s->outq_bytes += f->b.len;
	list_add_tail(&s->outq, &f->link);
	lws_callback_on_writable(s->wsi);
}

/* An enrolled buildlet's token "NAME.SECRET": the enrolment must exist,
 * not be revoked, and hold the SHA-256 of SECRET. */
static unsigned auth_enrolled(struct coord *c, const char *token,
			      struct upgrade_auth *a, char *why, size_t n)
{
	const char *dot = strrchr(token, '.');
	struct store_enrolment e;
	char got[SHA256_HEX_LEN + 1];
	unsigned status = 0;

	snprintf(a->enrolled, sizeof a->enrolled, "%.*s",
		 (int)(dot - token < 64 ? dot - token : 64), token);
	if (store_enrol_get(c->store, a->enrolled, &e)) {
		snprintf(why, n, "no buildlet %.64s is enrolled", a->enrolled);
		return HTTP_STATUS_FORBIDDEN;
	}
	sha256_hex(dot + 1, strlen(dot + 1), got);
	if (e.revoked) {
		snprintf(why, n, "buildlet %.64s was revoked", a->enrolled);
		status = HTTP_STATUS_FORBIDDEN;
	} else if (auth_expired(e.expires_ms, clock_wall_ms(), why, n,
				"this buildlet's token")) {
		status = HTTP_STATUS_FORBIDDEN;
	} else if (!secret_equal(got, e.secret_sha256)) {
		snprintf(why, n, "wrong secret for buildlet %.64s", a->enrolled);
		status = HTTP_STATUS_FORBIDDEN;
	} else {
		snprintf(a->host_type, sizeof a->host_type, "%s", e.host_type);
		snprintf(a->labels, sizeof a->labels, "%s", e.labels);
	}
	store_enrol_clear(&e);
	return status;
}

/* The x-rfarm-host-type header, which a host-type key is for. */
static unsigned claimed_host_type(struct lws *wsi, struct upgrade_auth *a,
				  char *why, size_t n)
{
	int len = lws_hdr_custom_copy(wsi, a->host_type, sizeof a->host_type,
				      HOST_TYPE_HDR, (int)strlen(HOST_TYPE_HDR));

	if (len <= 0 || !valid_name(a->host_type, 64)) {
		snprintf(why, n, "missing or bad x-rfarm-host-type header");
		return HTTP_STATUS_BAD_REQUEST;
	}
	return 0;
}

/* Open mode: on loopback, before the first enrolment, anyone may join. */
static int open_to_buildlets(struct coord *c)
{
	return c->loopback && !store_enrolments_exist(c->store);
}

unsigned session_authenticate(struct coord *c, struct lws *wsi,
			      struct upgrade_auth *a, char *why, size_t n)
{
	char uri[64], auth[256], want[SHA256_HEX_LEN + 1];
	const char *dot;
	unsigned status;

	memset(a, 0, sizeof *a);
	if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 ||
	    strcmp(uri, "/buildlet")) {
		snprintf(why, n, "buildlets connect to /buildlet");
		return HTTP_STATUS_NOT_FOUND;
	}
	if (lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION) <= 7 ||
	    strncmp(auth, "Bearer ", 7)) {
		if (open_to_buildlets(c)) {
			a->open = 1;
			return claimed_host_type(wsi, a, why, n);
		}
		snprintf(why, n, "no buildlet token (Authorization: Bearer "
			 "TOKEN; the operator makes one with rfarm enroll)");
		return HTTP_STATUS_UNAUTHORIZED;
	}
	dot = strrchr(auth + 7, '.');
	if (dot && dot > auth + 7 && strlen(dot + 1) == SHA256_HEX_LEN)
		return auth_enrolled(c, auth + 7, a, why, n);
	if ((status = claimed_host_type(wsi, a, why, n)))
		return status;
	auth_key_for(c->master, a->host_type, want);
	if (!secret_equal(auth + 7, want)) {
		snprintf(why, n, "wrong key for host type %.64s", a->host_type);
		return HTTP_STATUS_FORBIDDEN;
	}
	return 0;
}

int session_handshake_admit(struct coord *c, int64_t now_ms)
{
	double rate = c->cfg.max_handshakes_per_s;

	if (rate <= 0)
		return 0;
	/* Token bucket holding one second's worth of handshakes. */
	c->hs_tokens += (double)(now_ms - c->hs_refill_ms) * rate / 1000.0;
	if (c->hs_tokens > rate)
		c->hs_tokens = rate;
	c->hs_refill_ms = now_ms;
	if (c->hs_tokens >= 1) {
		c->hs_tokens -= 1;
		return 0;
	}
	/* Spread the refused over the seconds the backlog needs: the n-th
	 * turned away within a second waits about n / rate seconds. */
	if (now_ms - c->hs_window_ms >= 1000) {
		c->hs_window_ms = now_ms;
		c->hs_refused = 0;
	}
	return 1 + (int)(c->hs_refused++ / (uint64_t)rate % 30);
}

/* Second guard: http.c already answered a bad upgrade with a status. */
static int on_filter(struct coord *c, struct lws *wsi)
{
	struct upgrade_auth a;
	char why[200];

	return session_authenticate(c, wsi, &a, why, sizeof why) ? -1 : 0;
}

static void on_established(struct coord *c, struct lws *wsi,
			   struct session **pss)
{
	struct session *s = xcalloc(1, sizeof *s);
	char why[200];

	s->c = c;
	s->wsi = wsi;
	list_init(&s->link);
	list_init(&s->outq);
	list_init(&s->held);
	buf_init(&s->rx, 0, proto_default_limits.max_message);
	snprintf(s->id, sizeof s->id, "s%llu",
		 (unsigned long long)++c->next_session);
	s->last_rx_ms = clock_mono_ms();
	list_init(&s->rx_link);
	list_init(&s->name_link);
	list_init(&s->open_link);
	guard_peer(wsi, s->peer, sizeof s->peer);
	session_authenticate(c, wsi, &s->auth, why, sizeof why);
	/* A peer that upgrades and then says nothing is dropped after three
	 * heartbeats; after hello, lease.c watches for silence instead. */
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK,
			c->cfg.heartbeat_ms * 3 / 1000 + 1);
	*pss = s;
}

/*
 * A name is an identity: jobs, leases and results hang on it. An
 * enrolled name is only for its own token, and a host-type key (or an
 * open session) cannot take the name of a buildlet of another host type.
 * Holders of one shared host-type key can still pose as each other: that
 * is what enrolments are for.
 */
static int name_taken(struct session *s, const char *name, char *why, size_t n)
{
	struct store_enrolment e;
	char known[128];

	if (s->auth.enrolled[0])
		return 0;
	if (!store_enrol_get(s->c->store, name, &e)) {
		store_enrol_clear(&e);
		snprintf(why, n, "buildlet %.40s is enrolled: only its own "
			 "token may use that name", name);
		return 1;
	}
	if (!store_buildlet_host_type(s->c->store, name, known, sizeof known) &&
	    strcmp(known, s->auth.host_type)) {
		snprintf(why, n, "buildlet %.40s is a %.24s; a %.24s "
			 "credential cannot take its name", name, known,
			 s->auth.host_type);
		return 1;
	}
	return 0;
}

static const char *check_hello(struct session *s, const struct proto_hello *h,
			       char *why, size_t n)
{
	if (h->proto != PROTO_VERSION)
		snprintf(why, n, "unsupported protocol version %d (want %d)",
			 (int)h->proto, PROTO_VERSION);
	else if (!valid_name(h->name, 64))
		snprintf(why, n, "bad buildlet name \"%.64s\" (letters, digits, "
			 "'.', '_', '-'; at most 64)", h->name);
	else if (s->auth.enrolled[0] && strcmp(h->name, s->auth.enrolled))
		snprintf(why, n, "this credential is for buildlet %.64s, not %.40s",
			 s->auth.enrolled, h->name);
	else if (!s->auth.enrolled[0] && strcmp(h->host_type, s->auth.host_type))
		snprintf(why, n, "hello says host type %.40s but the key is for %.40s",
			 h->host_type, s->auth.host_type);
	else if (h->capacity < 1 || h->capacity > 1024)
		snprintf(why, n, "capacity %d out of range (1..1024)", (int)h->capacity);
	else if (!name_taken(s, h->name, why, n))
		why[0] = '\0';
	for (size_t i = 0; !why[0] && i < h->platforms.n; i++)
		if (!valid_platform(h->platforms.v[i]))
			snprintf(why, n, "bad platform \"%.40s\" (want goos/goarch)",
				 h->platforms.v[i]);
	return why[0] ? why : NULL;
}

/* What matters for trust comes from the enrolment, not the buildlet. */
static void trust_enrolment(struct session *s)
{
	json_t *labels = json_loads(s->auth.labels, 0, NULL), *l;
	size_t i;

	free(s->hello.host_type);
	s->hello.host_type = xstrdup(s->auth.host_type);
	for (i = 0; i < s->hello.labels.n; i++)
		free(s->hello.labels.v[i]);
	free(s->hello.labels.v);
	s->hello.labels.n = 0;
	s->hello.labels.v = xcalloc(json_array_size(labels) + 1, sizeof(char *));
	json_array_foreach(labels, i, l)
		if (json_is_string(l))
			s->hello.labels.v[s->hello.labels.n++] =
				xstrdup(json_string_value(l));
	json_decref(labels);
}

static void on_hello(struct session *s, struct proto_msg *m)
{
	struct session *old;
	char why[160];

	if (check_hello(s, &m->u.hello, why, sizeof why)) {
		session_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, why);
		return;
	}
	s->hello = m->u.hello;
	memset(&m->u.hello, 0, sizeof m->u.hello); /* ownership moved */
	if (s->auth.enrolled[0])
		trust_enrolment(s);
	if (!s->hello.platforms.n) {
		s->hello.platforms.v = xcalloc(1, sizeof(char *));
		s->hello.platforms.v[0] = xasprintf("%s/%s", s->hello.goos,
						    s->hello.goarch);
		s->hello.platforms.n = 1;
	}
	old = session_find(s->c, s->hello.name);
	if (old) {
		/* The newest session of a name wins: the old connection is
		 * usually half-dead after a network drop. */
		session_unlist(old);
		old->hello_done = 0;
		session_close(old, LWS_CLOSE_STATUS_GOINGAWAY,
			      "replaced by a new session of the same buildlet");
	}
	s->hello_done = 1;
	if (!s->closing)
		lws_set_timeout(s->wsi, NO_PENDING_TIMEOUT, 0);
	list_add_tail(&s->c->sessions, &s->link);
	list_add_tail(&s->c->by_rx, &s->rx_link);
	index_add(s->c, s);
	/* orch_on_hello stores the buildlet with last_seen now */
	s->seen_ms = s->seen_stored_ms = clock_wall_ms();
	log_info("buildlet %s connected from %s (%s, capacity %d)",
		 s->hello.name, s->peer, s->hello.host_type, (int)s->hello.capacity);
	orch_on_hello(s->c, s);
}

static void on_message(struct session *s, const void *p, size_t n)
{
	struct proto_msg m;
	struct errbuf eb = {""};
	char why[300];

	if (proto_decode(p, n, NULL, &m, &eb)) {
		snprintf(why, sizeof why, "bad message: %s", eb.msg);
		session_close(s, LWS_CLOSE_STATUS_INVALID_PAYLOAD, why);
		return;
	}
	if (!s->hello_done && m.type != PROTO_HELLO) {
		snprintf(why, sizeof why, "expected hello, got %s",
			 proto_type_name(m.type));
		session_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, why);
		goto out;
	}
	if (s->hello_done)
		note_seen(s);
	switch (m.type) {
	case PROTO_HELLO:
		if (s->hello_done)
			session_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				      "hello sent twice");
		else
			on_hello(s, &m);
		break;
	case PROTO_HB: /* note_seen above is what it is for */
		break;
	case PROTO_STARTED:
		orch_on_started(s->c, s, &m.u.ref);
		break;
	case PROTO_LOG:
		orch_on_log(s->c, s, &m.u.log);
		break;
	case PROTO_DONE:
		orch_on_done(s->c, s, &m.u.done);
		break;
	default:
		snprintf(why, sizeof why, "%s is not a buildlet message",
			 proto_type_name(m.type));
		session_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, why);
	}
out:
	proto_msg_free(&m);
}

static void on_receive(struct session *s, struct lws *wsi, const void *in,
		       size_t len)
{
	char why[100];

	if (s->closing)
		return;
	s->last_rx_ms = clock_mono_ms();
	if (s->hello_done) { /* to the back of the silence order */
		list_del(&s->rx_link);
		list_add_tail(&s->c->by_rx, &s->rx_link);
	}
	if (!lws_frame_is_binary(wsi)) {
		session_close(s, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
			      "text frames are not part of rfarm.v1");
		return;
	}
	if (buf_append(&s->rx, in, len)) {
		snprintf(why, sizeof why, "message too large (limit %zu bytes)",
			 proto_default_limits.max_message);
		session_close(s, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, why);
		return;
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return;
	on_message(s, buf_data(&s->rx), s->rx.len);
	buf_reset(&s->rx);
}

static int on_writeable(struct session *s, struct lws *wsi)
{
	struct list *l;
	struct frame *f;
	int n;

	if (s->closing) {
		lws_close_reason(wsi, (enum lws_close_status)s->close_status,
				 (unsigned char *)s->close_reason,
				 strlen(s->close_reason));
		return -1;
	}
	l = list_pop(&s->outq);
	if (!l)
		return 0;
	f = list_entry(l, struct frame, link);
	s->outq_bytes -= f->b.len;
	n = lws_write(wsi, buf_data(&f->b), f->b.len, LWS_WRITE_BINARY);
	buf_free(&f->b);
	free(f);
	if (n < 0)
		return -1;
	if (!list_empty(&s->outq))
		lws_callback_on_writable(wsi);
	return 0;
}

static void session_free(struct session *s)
{
	struct list *l;

	while ((l = list_pop(&s->outq))) {
		struct frame *f = list_entry(l, struct frame, link);

		buf_free(&f->b);
		free(f);
	}
	while ((l = list_pop(&s->held)))
		free(list_entry(l, struct session_job, link));
	session_unlist(s);
	buf_free(&s->rx);
	proto_msg_free(&(struct proto_msg){.type = PROTO_HELLO, .u.hello = s->hello});
	free(s);
}

static void on_closed(struct session *s)
{
	if (s->hello_done) {
		log_info("buildlet %s disconnected", s->hello.name);
		store_seen(s);
		orch_on_session_closed(s->c, s);
	}
	session_free(s);
}

int session_callback(struct lws *wsi, enum lws_callback_reasons reason,
		     void *user, void *in, size_t len)
{
	struct coord *c = lws_context_user(lws_get_context(wsi));
	struct session **pss = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return on_filter(c, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		on_established(c, wsi, pss);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (pss && *pss)
			on_receive(*pss, wsi, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return pss && *pss ? on_writeable(*pss, wsi) : 0;
	case LWS_CALLBACK_CLOSED:
		if (pss && *pss) {
			on_closed(*pss);
			*pss = NULL;
		}
		return 0;
	default:
		return 0;
	}
}
