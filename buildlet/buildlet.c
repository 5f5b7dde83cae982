/*
 * buildlet.c - the buildlet's connection to the coordinator.
 *
 * Reverse mode: the buildlet dials out to ws(s)://COORD/buildlet with its
 * key in the upgrade request, says hello (listing the results it still
 * holds), and then serves whatever the coordinator pushes. When the
 * connection fails or drops it retries with exponential backoff and full
 * jitter (0.5 s growing to 30 s). Jobs keep running while it is away; their
 * output waits in the outbound queue and their results in `held` until
 * the coordinator acknowledges them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/x509.h>

#include "clock.h"
#include "fsutil.h"
#include "internal.h"
#include "log.h"
#include "netaddr.h"
#include "os.h"
#include "sha256.h"
#include "tlspin.h"
#include "xalloc.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

void buildlet_native_platform(char *goos, size_t goos_len, char *goarch,
			      size_t goarch_len)
{
	os_platform(goos, goos_len, goarch, goarch_len);
}

void buildlet_config_defaults(struct buildlet_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->capacity = 1;
	cfg->workdir = "./rfarm-work";
	cfg->kill_grace_ms = 10000;
	cfg->default_timeout_s = 3600;
}

/* ---- outbound queue (any thread) ---- */

void buildlet_enqueue(struct buildlet *b, const struct proto_msg *m)
{
	struct out_frame *f = xcalloc(1, sizeof *f);
	struct errbuf eb = {""};

	buf_init(&f->b, LWS_PRE, 0);
	if (proto_encode(m, NULL, &f->b, &eb)) {
		log_error("cannot encode %s: %s", proto_type_name(m->type), eb.msg);
		buf_free(&f->b);
		free(f);
		return;
	}
	if (m->type == PROTO_DONE) {
		f->is_done = 1;
		f->job = m->u.done.job;
		f->attempt = m->u.done.attempt;
	} else if (m->type == PROTO_LOG) {
		f->is_log = 1;
		f->job = m->u.log.job;
		f->attempt = m->u.log.attempt;
		f->seq = m->u.log.seq;
	}
	pthread_mutex_lock(&b->mu);
	list_add_tail(&b->outq, &f->link);
	b->outq_bytes += f->b.len;
	pthread_mutex_unlock(&b->mu);
	lws_cancel_service(b->ctx);
}

/* After a reconnect, results not yet acknowledged go out first. */
static void requeue_held(struct buildlet *b)
{
	struct list *l;

	pthread_mutex_lock(&b->mu);
	while ((l = b->held.prev) != &b->held) {
		struct out_frame *f = list_entry(l, struct out_frame, link);

		list_del(l);
		l->next = b->outq.next;
		l->prev = &b->outq;
		b->outq.next->prev = l;
		b->outq.next = l;
		b->outq_bytes += f->b.len;
	}
	pthread_mutex_unlock(&b->mu);
}

/* ---- messages to the coordinator ---- */

/* Results not yet acknowledged: written ones (held) and queued ones. */
static void list_held(struct buildlet *b, struct proto_hello *h)
{
	struct list *lists[2] = {&b->held, &b->outq}, *l;
	size_t n = 0;

	pthread_mutex_lock(&b->mu);
	for (int i = 0; i < 2; i++)
		list_for_each(l, lists[i])
			n++;
	h->held = xcalloc(n + 1, sizeof *h->held);
	for (int i = 0; i < 2; i++)
		list_for_each(l, lists[i]) {
			struct out_frame *f = list_entry(l, struct out_frame, link);

			if (f->is_done)
				h->held[h->n_held++] =
					(struct proto_attempt_ref){f->job, f->attempt};
		}
	pthread_mutex_unlock(&b->mu);
}

/* Attempts whose process still runs (loop thread owns the slots). */
static void list_running(struct buildlet *b, struct proto_hello *h)
{
	struct list *l;
	size_t n = 0;

	list_for_each(l, &b->slots)
		n++;
	h->running = xcalloc(n + 1, sizeof *h->running);
	list_for_each(l, &b->slots) {
		struct job_slot *s = list_entry(l, struct job_slot, link);

		if (!runner_finished(s->r))
			h->running[h->n_running++] =
				(struct proto_attempt_ref){s->job, s->attempt};
	}
}

static int send_hello(struct buildlet *b, struct lws *wsi)
{
	struct proto_msg m = {.type = PROTO_HELLO};
	struct proto_hello *h = &m.u.hello;
	char goos[32], goarch[32];
	struct buf out;
	int r;

	os_platform(goos, sizeof goos, goarch, sizeof goarch);
	h->proto = PROTO_VERSION;
	h->name = b->name;
	h->host_type = b->host_type;
	h->goos = goos;
	h->goarch = goarch;
	h->platforms.v = b->platforms;
	h->platforms.n = b->n_platforms;
	h->labels.v = b->labels;
	h->labels.n = b->cfg.n_labels;
	h->capacity = b->cfg.capacity;
	h->version = BUILDLET_VERSION;
	list_held(b, h);
	list_running(b, h);
	buf_init(&out, LWS_PRE, 0);
	r = proto_encode(&m, NULL, &out, NULL) ? -1 : 0;
	free(h->held);
	free(h->running);
	if (!r && lws_write(wsi, buf_data(&out), out.len, LWS_WRITE_BINARY) < (int)out.len)
		r = -1;
	buf_free(&out);
	b->hello_sent = 1;
	return r;
}

static void on_heartbeat(lws_sorted_usec_list_t *sul)
{
	struct buildlet *b = lws_container_of(sul, struct buildlet, hb_sul);
	struct proto_msg m = {.type = PROTO_HB};
	struct list *l;

	if (!b->welcomed)
		return;
	list_for_each(l, &b->slots)
		m.u.hb.running += !runner_finished(list_entry(l, struct job_slot, link)->r);
	m.u.hb.load = os_load();
	m.u.hb.disk_free = os_disk_free(b->workdir);
	buildlet_enqueue(b, &m);
	lws_sul_schedule(b->ctx, 0, &b->hb_sul, on_heartbeat,
			 (lws_usec_t)b->heartbeat_ms * LWS_US_PER_MS);
}

struct spool *buildlet_spool_find(struct buildlet *b, int64_t job,
				  int32_t attempt)
{
	struct list *l;

	list_for_each(l, &b->spools) {
		struct spool *sp = list_entry(l, struct spool, link);

		if (sp->job == job && sp->attempt == attempt)
			return sp;
	}
	return NULL;
}

/* The next chunk of a spool being replayed, as a frame; NULL when no
 * spool is replaying. Caller holds mu. */
static struct out_frame *replay_next(struct buildlet *b)
{
	struct list *l;

	list_for_each(l, &b->spools) {
		struct spool *sp = list_entry(l, struct spool, link);
		struct proto_msg m = {.type = PROTO_LOG};
		struct out_frame *f;
		struct buf data;
		int64_t seq;
		int stream, r = 0;

		buf_init(&data, 0, PROTO_LOG_CHUNK);
		while (sp->replaying &&
		       (r = spool_read_next(sp, &seq, &stream, &data)) == 1 &&
		       seq < sp->next_send)
			;
		if (!sp->replaying || r != 1) {
			sp->replaying = 0;
			buf_free(&data);
			continue;
		}
		m.u.log = (struct proto_log){sp->job, sp->attempt, seq, stream,
					     buf_data(&data), data.len};
		f = xcalloc(1, sizeof *f);
		buf_init(&f->b, LWS_PRE, 0);
		proto_encode(&m, NULL, &f->b, NULL);
		buf_free(&data);
		sp->next_send = seq + 1;
		return f;
	}
	return NULL;
}

/*
 * The next frame to write: replayed log first, then the queue. A queued
 * log chunk whose seq was already sent (by a replay), or that the
 * coordinator no longer wants, is dropped here. Caller holds mu.
 */
static struct out_frame *next_frame(struct buildlet *b)
{
	struct out_frame *f = replay_next(b);
	struct spool *sp;

	while (!f && !list_empty(&b->outq)) {
		f = list_entry(b->outq.next, struct out_frame, link);
		list_del(&f->link);
		b->outq_bytes -= f->b.len;
		if (!f->is_log || !(sp = buildlet_spool_find(b, f->job, f->attempt)))
			break;
		if (f->seq >= sp->next_send) {
			sp->next_send = f->seq + 1;
			break;
		}
		buf_free(&f->b);
		free(f);
		f = NULL;
	}
	pthread_cond_broadcast(&b->space);
	return f;
}

/*
 * A client's frames are masked, and lws masks the payload in place: a
 * "done" kept to be sent again after a reconnect must go out from a copy,
 * or the second send is the first one's masked bytes, masked again.
 */
static int write_copy(struct lws *wsi, const struct buf *b)
{
	unsigned char *tmp = xmalloc(LWS_PRE + b->len);
	int n;

	memcpy(tmp + LWS_PRE, buf_data(b), b->len);
	n = lws_write(wsi, tmp + LWS_PRE, b->len, LWS_WRITE_BINARY);
	free(tmp);
	return n;
}

/* Write one frame; a written "done" moves to held until acked. */
static int write_next(struct buildlet *b, struct lws *wsi)
{
	struct out_frame *f;
	int more, n;

	pthread_mutex_lock(&b->mu);
	f = next_frame(b);
	pthread_mutex_unlock(&b->mu);
	if (!f)
		return 0;
	n = f->is_done ? write_copy(wsi, &f->b)
		       : lws_write(wsi, buf_data(&f->b), f->b.len, LWS_WRITE_BINARY);
	pthread_mutex_lock(&b->mu);
	if (f->is_done) {
		list_add_tail(&b->held, &f->link);
		f = NULL;
	}
	more = !list_empty(&b->outq);
	for (struct list *l = b->spools.next; !more && l != &b->spools; l = l->next)
		more = list_entry(l, struct spool, link)->replaying;
	pthread_mutex_unlock(&b->mu);
	if (f) {
		buf_free(&f->b);
		free(f);
	}
	if (n < 0)
		return -1;
	if (more)
		lws_callback_on_writable(wsi);
	return 0;
}

/* After a reconnect: replay each attempt's log from where the coordinator
 * says its copy ends; drop the log of attempts it did not list. */
static void apply_resume(struct buildlet *b, const struct proto_welcome *w)
{
	struct list *l;

	pthread_mutex_lock(&b->mu);
	list_for_each(l, &b->spools) {
		struct spool *sp = list_entry(l, struct spool, link);

		sp->next_send = INT64_MAX;
		sp->replaying = 0;
		for (size_t i = 0; i < w->n_resume; i++)
			if (w->resume[i].job == sp->job &&
			    w->resume[i].attempt == sp->attempt) {
				sp->next_send = w->resume[i].seq;
				sp->read_off = 0;
				sp->replaying = !sp->broken;
			}
	}
	pthread_mutex_unlock(&b->mu);
}

/* ---- connecting ---- */

static void connect_now(lws_sorted_usec_list_t *sul);

static void schedule_retry(struct buildlet *b)
{
	int64_t cap = BACKOFF_MIN_MS;
	unsigned int r = 0;
	int64_t delay;

	if (b->stop)
		return;
	for (int i = 0; i < b->attempts && cap < BACKOFF_MAX_MS; i++)
		cap *= 2;
	if (cap > BACKOFF_MAX_MS)
		cap = BACKOFF_MAX_MS;
	random_bytes(&r, sizeof r);
	/* Full jitter spreads a thousand buildlets coming back at once. */
	delay = BACKOFF_MIN_MS / 2 + (int64_t)(r % (unsigned)(cap - BACKOFF_MIN_MS / 2 + 1));
	if (b->retry_after_ms) {
		/* The coordinator's word, spread over one more second. */
		delay = b->retry_after_ms + (int64_t)(r % 1000);
		b->retry_after_ms = 0;
	}
	b->attempts++;
	log_info("reconnecting in %.1f s", (double)delay / 1000);
	lws_sul_schedule(b->ctx, 0, &b->retry_sul, connect_now,
			 (lws_usec_t)delay * LWS_US_PER_MS);
}

/* WebSocket ping after 10 s without traffic; give the link up after 30 s
 * without a pong, e.g. when the coordinator's machine is frozen. */
static const lws_retry_bo_t idle_policy = {
	.secs_since_valid_ping = 10,
	.secs_since_valid_hangup = 30,
};

/* A renewed token file (a new enrolment, a rotated key) counts from the
 * next connection on; an unreadable one leaves the key we have. */
static void reread_key(struct buildlet *b)
{
	struct errbuf eb = {""};
	char *key = NULL;

	if (!b->cfg.token_file || !b->cfg.read_key)
		return;
	if (b->cfg.read_key(b->cfg.token_file, &key, &eb)) {
		log_warn("keeping the token we have: %s", eb.msg);
		return;
	}
	if (strcmp(key, b->key))
		log_info("the token in %s changed; using the new one",
			 b->cfg.token_file);
	explicit_bzero(b->key, strlen(b->key));
	free(b->key);
	b->key = key;
}

static void connect_now(lws_sorted_usec_list_t *sul)
{
	struct buildlet *b = lws_container_of(sul, struct buildlet, retry_sul);
	struct lws_client_connect_info i;

	if (b->stop)
		return;
	reread_key(b);
	memset(&i, 0, sizeof i);
	i.context = b->ctx;
	i.address = b->ws_host;
	i.port = b->ws_port;
	i.path = b->ws_path;
	i.host = b->ws_host;
	i.origin = b->ws_host;
	i.protocol = PROTO_SUBPROTOCOL;
	i.ssl_connection = b->ws_tls ? LCCSCF_USE_SSL : 0;
	if (b->ws_tls && b->cfg.pin)
		/* The pin names the certificate: names do not matter then. */
		i.ssl_connection |= LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
	i.pwsi = &b->wsi;
	i.retry_and_idle_policy = &idle_policy;
	b->hello_sent = 0;
	b->welcomed = 0;
	if (!lws_client_connect_via_info(&i)) {
		b->wsi = NULL;
		schedule_retry(b);
	}
}

/*
 * The upgrade failed. A 503 or 429 with Retry-After is the coordinator
 * asking us to come back later (it caps handshakes per second and failed
 * handshakes per address); honour it, plus jitter, instead of our own
 * backoff. Its x-rfarm-reason header says why it refused.
 */
static void on_connect_error(struct buildlet *b, struct lws *wsi, void *in)
{
	unsigned status = wsi ? lws_http_client_http_response(wsi) : 0;
	char retry[16] = "", why[300] = "";

	if (status)
		lws_hdr_custom_copy(wsi, why, sizeof why, "x-rfarm-reason:", 15);
	if ((status == HTTP_STATUS_SERVICE_UNAVAILABLE || status == 429) &&
	    lws_hdr_copy(wsi, retry, sizeof retry, WSI_TOKEN_HTTP_RETRY_AFTER) > 0 &&
	    atoi(retry) > 0) {
		log_info("coordinator asks to come back in %s s%s%s", retry,
			 *why ? ": " : "", why);
		b->retry_after_ms = (int64_t)atoi(retry) * 1000;
	} else if (status) {
		log_warn("coordinator refused the connection: HTTP %u: %s", status,
			 *why ? why : status == 401 || status == 403
				 ? "is the token right? see `rfarm enroll`"
				 : "no reason given");
	} else {
		log_warn("cannot connect to %s:%d: %s", b->ws_host, b->ws_port,
			 in ? (const char *)in : "connection failed");
	}
	b->wsi = NULL;
	schedule_retry(b);
}

static int add_headers(struct buildlet *b, struct lws *wsi, void *in, size_t len)
{
	unsigned char **p = in, *end = *p + len;
	char auth[300];

	snprintf(auth, sizeof auth, "Bearer %s", b->key);
	/* no token: only an open coordinator on loopback lets us in */
	if ((*b->key && lws_add_http_header_by_name(wsi,
					(const unsigned char *)"authorization:",
					(const unsigned char *)auth,
					(int)strlen(auth), p, end)) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-rfarm-host-type:",
					(const unsigned char *)b->host_type,
					(int)strlen(b->host_type), p, end))
		return -1;
	return 0;
}

static void on_welcome(struct buildlet *b, const struct proto_welcome *w)
{
	b->welcomed = 1;
	b->attempts = 0;
	b->heartbeat_ms = w->heartbeat_ms > 100 ? w->heartbeat_ms : 5000;
	log_info("connected to the coordinator (session %s)", w->session);
	apply_resume(b, w);
	requeue_held(b);
	lws_sul_schedule(b->ctx, 0, &b->hb_sul, on_heartbeat,
			 (lws_usec_t)b->heartbeat_ms * LWS_US_PER_MS);
	lws_callback_on_writable(b->wsi);
}

static int on_receive(struct buildlet *b, struct lws *wsi, void *in, size_t len)
{
	struct proto_msg m;
	struct errbuf eb = {""};

	if (buf_append(&b->rx, in, len)) {
		log_error("message from the coordinator over %zu bytes; reconnecting",
			  b->rx.max);
		return -1;
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	if (proto_decode(buf_data(&b->rx), b->rx.len, NULL, &m, &eb)) {
		log_error("bad message from the coordinator: %s", eb.msg);
		buf_reset(&b->rx);
		return -1;
	}
	buf_reset(&b->rx);
	if (m.type == PROTO_WELCOME)
		on_welcome(b, &m.u.welcome);
	else if (b->welcomed)
		buildlet_on_message(b, &m);
	proto_msg_free(&m);
	return 0;
}

static void on_peer_close(void *in, size_t len)
{
	const unsigned char *p = in;

	if (len >= 2)
		log_warn("coordinator closed the session (%d): %.*s",
			 (p[0] << 8) | p[1], (int)(len - 2), (const char *)p + 2);
}

/* With --pin, the server's own certificate must hash to it; CA and
 * chain errors do not matter then. 0 accepts, 1 refuses. */
static int check_pin(struct buildlet *b, void *x509_ctx, int preverify_ok)
{
	X509_STORE_CTX *ctx = x509_ctx;

	(void)preverify_ok;
	if (X509_STORE_CTX_get_error_depth(ctx) > 0) {
		X509_STORE_CTX_set_error(ctx, X509_V_OK);
		return 0;
	}
	if (!tls_pin_matches(X509_STORE_CTX_get_current_cert(ctx), b->cfg.pin)) {
		log_warn("the coordinator's certificate does not match --pin %s",
			 b->cfg.pin);
		return 1;
	}
	X509_STORE_CTX_set_error(ctx, X509_V_OK);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct buildlet *b = lws_context_user(lws_get_context(wsi));

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return add_headers(b, wsi, in, len);
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		buf_reset(&b->rx);
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (!b->hello_sent)
			return send_hello(b, wsi);
		return b->welcomed ? write_next(b, wsi) : 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(b, wsi, in, len);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		on_peer_close(in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		on_connect_error(b, wsi, in);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (b->welcomed && !b->stop)
			log_warn("lost the connection to the coordinator");
		b->wsi = NULL;
		b->welcomed = 0;
		lws_sul_cancel(&b->hb_sul);
		schedule_retry(b);
		return 0;
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		return b->cfg.pin ? check_pin(b, user, (int)len) : 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		buildlet_reap(b);
		if (b->wsi && b->welcomed)
			lws_callback_on_writable(b->wsi);
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{PROTO_SUBPROTOCOL, callback, 0, 64 * 1024, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}};

/* ---- setup ---- */

/* http(s)://host[:port][/prefix] or ws(s)://... -> host, port, path, tls. */
static rc_t parse_url(struct buildlet *b, const char *url, struct errbuf *eb)
{
	const char *rest, *slash, *colon;
	size_t hostlen;

	if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
		b->ws_tls = url[4] == 's';
	} else if (!strncmp(url, "ws://", 5) || !strncmp(url, "wss://", 6)) {
		b->ws_tls = url[2] == 's';
	} else {
		errbuf_set(eb, "coordinator URL \"%s\" must start with http://, "
			   "https://, ws:// or wss://", url);
		return RC_INVALID;
	}
	rest = strstr(url, "://") + 3;
	slash = strchr(rest, '/');
	hostlen = slash ? (size_t)(slash - rest) : strlen(rest);
	colon = memchr(rest, ':', hostlen);
	b->ws_port = b->ws_tls ? 443 : 80;
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);

		if (end != rest + hostlen || port < 1 || port > 65535) {
			errbuf_set(eb, "bad port in coordinator URL \"%s\"", url);
			return RC_INVALID;
		}
		b->ws_port = (int)port;
		hostlen = (size_t)(colon - rest);
	}
	if (!hostlen) {
		errbuf_set(eb, "no host in coordinator URL \"%s\"", url);
		return RC_INVALID;
	}
	b->ws_host = xstrndup(rest, hostlen);
	if (!b->ws_tls && !b->cfg.insecure && !net_host_is_loopback(b->ws_host)) {
		errbuf_set(eb, "refusing plain %.*s to %s: the key and every job "
			   "would cross the network in the clear; use https:// (see "
			   "`rfarm certgen`) or --insecure", (int)(rest - url), url,
			   b->ws_host);
		return RC_INVALID;
	}
	if (slash && strcmp(slash, "/") && strstr(slash, "/buildlet"))
		b->ws_path = xstrdup(slash);
	else
		b->ws_path = xasprintf("%s/buildlet",
				       slash && strcmp(slash, "/") ? slash : "");
	/* Sources and uploads go over plain HTTP(S) to the same place. */
	b->http_base = xasprintf("%s://%s:%d%.*s", b->ws_tls ? "https" : "http",
				 b->ws_host, b->ws_port,
				 (int)(strlen(b->ws_path) - strlen("/buildlet")),
				 b->ws_path);
	return RC_OK;
}

static void copy_config(struct buildlet *b, const struct buildlet_config *cfg)
{
	char goos[32], goarch[32], host[128], native[80];

	os_platform(goos, sizeof goos, goarch, sizeof goarch);
	os_hostname(host, sizeof host);
	snprintf(native, sizeof native, "%s/%s", goos, goarch);
	b->cfg = *cfg;
	/* An enrolled buildlet's token is "NAME.SECRET": its name by default. */
	if (cfg->name && *cfg->name)
		b->name = xstrdup(cfg->name);
	else if (cfg->key && strrchr(cfg->key, '.') && strrchr(cfg->key, '.') != cfg->key)
		b->name = xstrndup(cfg->key, (size_t)(strrchr(cfg->key, '.') - cfg->key));
	else
		b->name = xstrdup(host);
	b->host_type = cfg->host_type && *cfg->host_type
			       ? xstrdup(cfg->host_type)
			       : xasprintf("%s-%s", goos, goarch);
	b->workdir = xstrdup(cfg->workdir);
	b->key = xstrdup(cfg->key ? cfg->key : "");
	b->platforms = xcalloc(cfg->n_platforms + 2, sizeof(char *));
	if (!cfg->no_native || !cfg->n_platforms)
		b->platforms[b->n_platforms++] = xstrdup(native);
	for (size_t i = 0; i < cfg->n_platforms; i++)
		if (strcmp(cfg->platforms[i], native) || cfg->no_native)
			b->platforms[b->n_platforms++] = xstrdup(cfg->platforms[i]);
	b->labels = xcalloc(cfg->n_labels + 1, sizeof(char *));
	for (size_t i = 0; i < cfg->n_labels; i++)
		b->labels[i] = xstrdup(cfg->labels[i]);
	if (b->cfg.capacity < 1)
		b->cfg.capacity = 1;
}

/*
 * --run-as: resolve the user and refuse what cannot work, before any job
 * is taken. Naming the user the buildlet already is switches nothing.
 */
static rc_t isolation_setup(struct buildlet *b,
			    const struct buildlet_config *cfg,
			    struct errbuf *eb)
{
	struct errbuf ueb = {""};

	b->limits.max_procs = cfg->max_procs;
	b->limits.max_file_size = cfg->max_file_size;
	/* A job's work directory goes when it ends, and its cores with it:
	 * they would only fill the disk meanwhile. */
	b->limits.no_core = 1;
	if (!cfg->run_as || !*cfg->run_as)
		return RC_OK;
	if (os_user_lookup(cfg->run_as, &b->run_as, &ueb)) {
		errbuf_set(eb, "--run-as %s: %s", cfg->run_as, ueb.msg);
		return RC_NOT_FOUND;
	}
	if (os_user_is_self(&b->run_as))
		return RC_OK;
	if (!os_can_switch_user()) {
		errbuf_set(eb, "--run-as %s: only a buildlet started as root "
			   "can run jobs as another user (or name the user "
			   "it runs as)", cfg->run_as);
		return RC_INVALID;
	}
	b->has_run_as = 1;
	/* Made here so the user can pass through it but not list the
	 * other jobs' directories (the spool below would make it 0700). */
	return fs_mkdirs(b->workdir, 0711, eb);
}

/* The job's user must reach its work directories: try it now. */
static rc_t isolation_check(struct buildlet *b, struct errbuf *eb)
{
	struct errbuf ceb = {""};

	if (!b->has_run_as || !os_user_check_dir(&b->run_as, b->workdir, &ceb))
		return RC_OK;
	errbuf_set(eb, "--run-as %s: jobs could not enter the work directory: "
		   "%s (every directory on its path must be searchable by %s)",
		   b->run_as.name, ceb.msg, b->run_as.name);
	return RC_INVALID;
}

/* Say once how jobs are confined, so a root buildlet without --run-as
 * does not go unnoticed. */
static void isolation_log(const struct buildlet *b)
{
	if (b->has_run_as)
		log_info("jobs run as user %s (uid %ld)", b->run_as.name,
			 b->run_as.uid);
	else if (os_can_switch_user())
		log_warn("running as root without --run-as: jobs run as root "
			 "and can read the buildlet's key and everything else");
	if (b->limits.max_procs > 0 && !b->has_run_as && os_can_switch_user())
		log_warn("--max-procs is not enforced for root: it takes "
			 "effect with --run-as");
}

struct buildlet *buildlet_new(const struct buildlet_config *cfg,
			      struct errbuf *eb)
{
	struct buildlet *b = xcalloc(1, sizeof *b);
	struct lws_context_creation_info info;

	curl_global_init(CURL_GLOBAL_DEFAULT); /* before any runner thread */
	lws_set_log_level(LLL_ERR | LLL_WARN, log_lws_emit);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->space, NULL);
	list_init(&b->outq);
	list_init(&b->held);
	list_init(&b->slots);
	list_init(&b->spools);
	buf_init(&b->rx, 0, proto_default_limits.max_message);
	copy_config(b, cfg);
	if (parse_url(b, cfg->coordinator_url ? cfg->coordinator_url : "", eb))
		goto fail;
	if (isolation_setup(b, cfg, eb))
		goto fail;
	/* Spools of a previous run belong to attempts this process cannot
	 * finish: start empty. */
	b->spool_dir = xasprintf("%s/spool", b->workdir);
	if (fs_remove_tree(b->spool_dir, eb) || fs_mkdirs(b->spool_dir, 0700, eb))
		goto fail;
	if (isolation_check(b, eb))
		goto fail;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.user = b;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.client_ssl_ca_filepath = cfg->ca_file;
	b->ctx = lws_create_context(&info);
	if (!b->ctx) {
		errbuf_set(eb, "cannot create the event loop");
		goto fail;
	}
	return b;
fail:
	buildlet_free(&b);
	return NULL;
}

int buildlet_run(struct buildlet *b)
{
	log_set_component("buildlet");
	log_info("buildlet %s (%s, %s) dialing %s://%s:%d%s", b->name,
		 b->host_type, b->platforms[0], b->ws_tls ? "wss" : "ws",
		 b->ws_host, b->ws_port, b->ws_path);
	isolation_log(b);
	lws_sul_schedule(b->ctx, 0, &b->retry_sul, connect_now, 1);
	while (!b->stop)
		if (lws_service(b->ctx, 0) < 0)
			break;
	return 0;
}

void buildlet_stop(struct buildlet *b)
{
	/* Only async-signal-safe work here: runners waiting for queue space
	 * notice the flag within their wait's timeout. */
	b->stop = 1;
	if (b->ctx)
		lws_cancel_service(b->ctx);
}

static void free_frames(struct list *head)
{
	struct list *l;

	while ((l = list_pop(head))) {
		struct out_frame *f = list_entry(l, struct out_frame, link);

		buf_free(&f->b);
		free(f);
	}
}

void buildlet_free(struct buildlet **bp)
{
	struct buildlet *b = *bp;
	struct list *l;

	if (!b)
		return;
	b->stop = 1;
	pthread_mutex_lock(&b->mu);
	pthread_cond_broadcast(&b->space);
	pthread_mutex_unlock(&b->mu);
	while ((l = list_pop(&b->slots))) {
		struct job_slot *s = list_entry(l, struct job_slot, link);

		runner_free(&s->r);
		free(s);
	}
	if (b->ctx) {
		lws_sul_cancel(&b->retry_sul);
		lws_sul_cancel(&b->hb_sul);
		lws_context_destroy(b->ctx);
	}
	free_frames(&b->outq);
	free_frames(&b->held);
	while ((l = list_pop(&b->spools))) {
		struct spool *sp = list_entry(l, struct spool, link);

		spool_free(&sp);
	}
	free(b->spool_dir);
	buf_free(&b->rx);
	for (size_t i = 0; i < b->n_platforms; i++)
		free(b->platforms[i]);
	for (size_t i = 0; i < b->cfg.n_labels; i++)
		free(b->labels[i]);
	free(b->platforms);
	free(b->labels);
	free(b->name);
	free(b->host_type);
	free(b->workdir);
	free(b->key);
	free(b->ws_host);
	free(b->ws_path);
	free(b->http_base);
	pthread_cond_destroy(&b->space);
	pthread_mutex_destroy(&b->mu);
	free(b);
	*bp = NULL;
}
