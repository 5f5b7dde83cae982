/*
 * swarm.c - many simulated buildlets in one process, to load a coordinator.
 *
 * usage: swarm --url URL [--n N] [--capacity C] [--host-type T] [--key K]
 *              [--ramp R] [--inflight M] [--duration S] [--report]
 *              [--source-addrs K] [--name PREFIX]
 *
 * One libwebsockets context holds N client connections to URL/buildlet.
 * Each is a buildlet as the coordinator sees it: the real upgrade headers
 * (Authorization: Bearer KEY when --key is given, else none: the open
 * mode of a loopback coordinator with no enrolment; x-rfarm-host-type),
 * the real protocol library for every frame, hello, heartbeats at the
 * welcome's interval, and every run answered at once with started and
 * done (exit 0). Nothing is executed. A 503/429 with Retry-After is
 * honoured (plus up to a second of jitter), any other failure or a lost
 * connection is retried with a real buildlet's backoff and full jitter,
 * so a coordinator restart makes the same storm real buildlets make.
 *
 * --report prints a line a second:
 *   t=EPOCH connected=X inflight=I welcomes=W refused=R failed=F runs=J
 * (welcomes/refused/failed/runs within that second), and an event line
 *   all-connected t=EPOCH n=N after=SECONDS
 * each time all N are connected again (SECONDS since the first of them
 * was lost, or since the start). Exits after --duration seconds (0: on
 * SIGINT/SIGTERM only), closing every connection.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "buf.h"
#include "clock.h"
#include "list.h"
#include "proto.h"
#include "xalloc.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define TICK_MS 10
#define MAX_N 100000

struct frame {
	struct list link;
	struct buf b; /* LWS_PRE headroom, then the encoded message */
};

struct sim {
	struct list pending;     /* in the queue of connections to start */
	int idx;                 /* 0..n-1 */
	char name[48];           /* buildlet name */
	struct lws *wsi;         /* NULL while not connected */
	int connecting;          /* between connect and welcome or failure */
	int64_t connect_ms;      /* when it started connecting */
	int welcomed;
	int attempts;            /* failed tries since the last welcome */
	int64_t hb_ms;           /* heartbeat interval from the welcome */
	lws_sorted_usec_list_t hb_sul;
	lws_sorted_usec_list_t retry_sul;
	struct list outq;        /* frames to write */
	struct buf rx;           /* a fragmented message being reassembled */
	int retry_after_ms;      /* the coordinator's Retry-After */
};

struct opts {
	const char *url;
	int n;
	int capacity;
	const char *host_type;
	const char *key;
	int ramp;          /* connections started per second; 0 = no limit */
	int inflight;      /* handshakes in progress at once, at most */
	int duration_s;    /* 0 = until a signal */
	int report;
	int source_addrs;  /* spread over 127.0.0.1..127.0.0.K; 0 = default */
	const char *prefix;
};

struct swarm {
	struct opts o;
	char host[256], path[256];
	int port;
	struct lws_context *ctx;
	struct sim *sims;
	struct list pending;      /* sims waiting to (re)connect now */
	int n_inflight;           /* connections between connect and welcome */
	int connected;            /* welcomed now */
	double ramp_credit;
	lws_sorted_usec_list_t tick_sul;
	int64_t start_ms, last_report_ms, lost_ms, all_ms;
	int all_reported;
	/* counts within the current second */
	unsigned welcomes, refused, failed, runs;
	unsigned long long total_runs;
	char goos[16], goarch[16], platform[40];
	char *platforms[1];
	char ifaces[256][20];
};

static volatile sig_atomic_t stopping;
static struct swarm *the_swarm;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (the_swarm && the_swarm->ctx)
		lws_cancel_service(the_swarm->ctx);
}

/* ---- outbound frames ---- */

static void sim_send(struct swarm *sw, struct sim *s, const struct proto_msg *m)
{
	struct frame *f = xcalloc(1, sizeof *f);

	(void)sw;
	buf_init(&f->b, LWS_PRE, 0);
	if (proto_encode(m, NULL, &f->b, NULL)) {
		fprintf(stderr, "swarm: cannot encode %s\n", proto_type_name(m->type));
		buf_free(&f->b);
		free(f);
		return;
	}
	list_add_tail(&s->outq, &f->link);
	if (s->wsi)
		lws_callback_on_writable(s->wsi);
}

static void drop_frames(struct sim *s)
{
	struct list *l;

	while ((l = list_pop(&s->outq))) {
		struct frame *f = list_entry(l, struct frame, link);

		buf_free(&f->b);
		free(f);
	}
}

static int write_next(struct sim *s)
{
	struct frame *f;
	int n;

	if (list_empty(&s->outq))
		return 0;
	f = list_entry(s->outq.next, struct frame, link);
	list_del(&f->link);
	n = lws_write(s->wsi, buf_data(&f->b), f->b.len, LWS_WRITE_BINARY);
	buf_free(&f->b);
	free(f);
	if (n < 0)
		return -1;
	if (!list_empty(&s->outq))
		lws_callback_on_writable(s->wsi);
	return 0;
}

static void send_hello(struct swarm *sw, struct sim *s)
{
	struct proto_msg m = {.type = PROTO_HELLO};
	struct proto_hello *h = &m.u.hello;

	h->proto = PROTO_VERSION;
	h->name = s->name;
	h->host_type = (char *)sw->o.host_type;
	h->goos = sw->goos;
	h->goarch = sw->goarch;
	h->platforms.v = sw->platforms;
	h->platforms.n = 1;
	h->capacity = sw->o.capacity;
	h->version = "swarm";
	sim_send(sw, s, &m);
}

/* ---- connecting ---- */

static void queue_connect(struct swarm *sw, struct sim *s)
{
	if (!stopping)
		list_add_tail(&sw->pending, &s->pending);
}

static void on_retry(lws_sorted_usec_list_t *sul)
{
	struct sim *s = lws_container_of(sul, struct sim, retry_sul);

	queue_connect(the_swarm, s);
}

/* What a real buildlet does (buildlet.c): full jitter from 0.25 s, the
 * cap doubling per failure up to 30 s; Retry-After wins, plus up to 1 s. */
static void schedule_retry(struct swarm *sw, struct sim *s)
{
	int64_t cap = BACKOFF_MIN_MS, delay;

	if (stopping)
		return;
	for (int i = 0; i < s->attempts && cap < BACKOFF_MAX_MS; i++)
		cap *= 2;
	if (cap > BACKOFF_MAX_MS)
		cap = BACKOFF_MAX_MS;
	delay = BACKOFF_MIN_MS / 2 + random() % (cap - BACKOFF_MIN_MS / 2 + 1);
	if (s->retry_after_ms) {
		delay = s->retry_after_ms + random() % 1000;
		s->retry_after_ms = 0;
	}
	s->attempts++;
	lws_sul_schedule(sw->ctx, 0, &s->retry_sul, on_retry,
			 (lws_usec_t)delay * LWS_US_PER_MS);
}

static void connect_one(struct swarm *sw, struct sim *s)
{
	struct lws_client_connect_info i;

	memset(&i, 0, sizeof i);
	i.context = sw->ctx;
	i.address = sw->host;
	i.port = sw->port;
	i.path = sw->path;
	i.host = sw->host;
	i.origin = sw->host;
	i.protocol = PROTO_SUBPROTOCOL;
	i.userdata = s;
	i.opaque_user_data = s;
	i.pwsi = &s->wsi;
	if (sw->o.source_addrs)
		i.iface = sw->ifaces[s->idx % sw->o.source_addrs];
	s->welcomed = 0;
	s->connecting = 1;
	s->connect_ms = clock_mono_ms();
	sw->n_inflight++;
	/* CONNECTION_ERROR may have run already (and cleared connecting) */
	if (!lws_client_connect_via_info(&i) && s->connecting) {
		s->connecting = 0;
		s->wsi = NULL;
		sw->n_inflight--;
		sw->failed++;
		schedule_retry(sw, s);
	}
}

/* Start what the ramp and the in-flight cap allow. */
static void start_pending(struct swarm *sw)
{
	int64_t budget = sw->o.inflight - sw->n_inflight;
	struct list *l;

	if (sw->o.ramp) {
		sw->ramp_credit += (double)sw->o.ramp * TICK_MS / 1000.0;
		if (sw->ramp_credit > sw->o.ramp)
			sw->ramp_credit = sw->o.ramp;
		if (budget > (int64_t)sw->ramp_credit)
			budget = (int64_t)sw->ramp_credit;
	}
	while (budget-- > 0 && !stopping && (l = list_pop(&sw->pending))) {
		if (sw->o.ramp)
			sw->ramp_credit -= 1;
		connect_one(sw, list_entry(l, struct sim, pending));
	}
}

/* ---- the report ---- */

static double epoch_s(void)
{
	return (double)clock_wall_ms() / 1000.0;
}

/*
 * A connection lws dropped without telling us (no socket left, no
 * callback with our pointer) would stay "in flight" for ever: after
 * CONNECT_DEADLINE_MS with no wsi, try again.
 */
#define CONNECT_DEADLINE_MS 30000
static void reap_stuck(struct swarm *sw, int64_t now)
{
	for (int i = 0; i < sw->o.n; i++) {
		struct sim *s = &sw->sims[i];

		if (!s->connecting || s->wsi ||
		    now - s->connect_ms < CONNECT_DEADLINE_MS)
			continue;
		s->connecting = 0;
		sw->n_inflight--;
		sw->failed++;
		schedule_retry(sw, s);
	}
}

static void report_tick(struct swarm *sw, int64_t now)
{
	if (now - sw->last_report_ms < 1000)
		return;
	sw->last_report_ms = now;
	reap_stuck(sw, now);
	if (sw->o.report)
		printf("t=%.3f connected=%d inflight=%d welcomes=%u refused=%u "
		       "failed=%u runs=%u\n", epoch_s(), sw->connected,
		       sw->n_inflight, sw->welcomes, sw->refused, sw->failed,
		       sw->runs);
	fflush(stdout);
	sw->welcomes = sw->refused = sw->failed = sw->runs = 0;
}

static void note_connected(struct swarm *sw, int delta)
{
	int64_t now = clock_mono_ms();

	if (delta < 0 && sw->connected == sw->o.n)
		sw->lost_ms = now; /* the first one lost of a full house */
	sw->connected += delta;
	if (sw->connected == sw->o.n) {
		printf("all-connected t=%.3f n=%d after=%.3f\n", epoch_s(),
		       sw->o.n, (double)(now - sw->lost_ms) / 1000.0);
		fflush(stdout);
	}
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct swarm *sw = lws_container_of(sul, struct swarm, tick_sul);
	int64_t now = clock_mono_ms();

	start_pending(sw);
	report_tick(sw, now);
	if (sw->o.duration_s && now - sw->start_ms >= (int64_t)sw->o.duration_s * 1000)
		stopping = 1;
	lws_sul_schedule(sw->ctx, 0, &sw->tick_sul, on_tick,
			 TICK_MS * LWS_US_PER_MS);
}

/* ---- protocol ---- */

static void on_heartbeat(lws_sorted_usec_list_t *sul)
{
	struct sim *s = lws_container_of(sul, struct sim, hb_sul);
	struct proto_msg m = {.type = PROTO_HB};

	if (!s->welcomed || !s->wsi)
		return;
	m.u.hb.disk_free = (int64_t)100 << 30;
	sim_send(the_swarm, s, &m);
	lws_sul_schedule(the_swarm->ctx, 0, &s->hb_sul, on_heartbeat,
			 (lws_usec_t)s->hb_ms * LWS_US_PER_MS);
}

static void on_run(struct swarm *sw, struct sim *s, const struct proto_run *r)
{
	struct proto_msg m = {.type = PROTO_STARTED};

	m.u.ref.job = r->job;
	m.u.ref.attempt = r->attempt;
	sim_send(sw, s, &m);
	memset(&m, 0, sizeof m);
	m.type = PROTO_DONE;
	m.u.done.job = r->job;
	m.u.done.attempt = r->attempt;
	sim_send(sw, s, &m);
	sw->runs++;
	sw->total_runs++;
}

static void on_message(struct swarm *sw, struct sim *s, struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_WELCOME:
		s->welcomed = 1;
		s->attempts = 0;
		s->connecting = 0;
		s->hb_ms = m->u.welcome.heartbeat_ms > 100 ? m->u.welcome.heartbeat_ms
							   : 5000;
		sw->n_inflight--;
		sw->welcomes++;
		note_connected(sw, 1);
		lws_sul_schedule(sw->ctx, 0, &s->hb_sul, on_heartbeat,
				 (lws_usec_t)s->hb_ms * LWS_US_PER_MS);
		break;
	case PROTO_RUN:
		on_run(sw, s, &m->u.run);
		break;
	default:
		/* ack: nothing held; cancel: every attempt has ended
		 * already; drain: we take what we are given anyway. */
		break;
	}
}

static int on_receive(struct swarm *sw, struct sim *s, struct lws *wsi,
		      void *in, size_t len)
{
	struct proto_msg m;
	struct errbuf eb = {""};
	const void *p = in;
	size_t n = len;
	rc_t rc;

	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) ||
	    s->rx.len) {
		if (buf_append(&s->rx, in, len))
			return -1;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
			return 0;
		p = buf_data(&s->rx);
		n = s->rx.len;
	}
	rc = proto_decode(p, n, NULL, &m, &eb);
	buf_free(&s->rx);
	buf_init(&s->rx, 0, proto_default_limits.max_message);
	if (rc) {
		fprintf(stderr, "swarm: %s: bad message: %s\n", s->name, eb.msg);
		return -1;
	}
	on_message(sw, s, &m);
	proto_msg_free(&m);
	return 0;
}

static int add_headers(struct swarm *sw, struct lws *wsi, void *in, size_t len)
{
	unsigned char **p = in, *end = *p + len;
	char auth[300];

	snprintf(auth, sizeof auth, "Bearer %s", sw->o.key ? sw->o.key : "");
	if ((sw->o.key && lws_add_http_header_by_name(wsi,
					(const unsigned char *)"authorization:",
					(const unsigned char *)auth,
					(int)strlen(auth), p, end)) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-rfarm-host-type:",
					(const unsigned char *)sw->o.host_type,
					(int)strlen(sw->o.host_type), p, end))
		return -1;
	return 0;
}

static void on_connect_error(struct swarm *sw, struct sim *s, struct lws *wsi)
{
	unsigned status = wsi ? lws_http_client_http_response(wsi) : 0;
	char retry[16] = "";

	if ((status == 503 || status == 429) &&
	    lws_hdr_copy(wsi, retry, sizeof retry, WSI_TOKEN_HTTP_RETRY_AFTER) > 0 &&
	    atoi(retry) > 0) {
		s->retry_after_ms = atoi(retry) * 1000;
		sw->refused++;
	} else {
		sw->failed++;
	}
	s->wsi = NULL;
	if (s->connecting)
		sw->n_inflight--;
	s->connecting = 0;
	drop_frames(s);
	schedule_retry(sw, s);
}

static void on_closed(struct swarm *sw, struct sim *s)
{
	if (s->welcomed)
		note_connected(sw, -1);
	if (s->connecting)
		sw->n_inflight--;
	s->welcomed = 0;
	s->connecting = 0;
	s->wsi = NULL;
	lws_sul_cancel(&s->hb_sul);
	drop_frames(s);
	schedule_retry(sw, s);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct swarm *sw = the_swarm;
	/* an early failure may come before lws has our user pointer */
	struct sim *s = user ? user : lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return add_headers(sw, wsi, in, len);
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		send_hello(sw, s);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return stopping ? -1 : write_next(s);
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(sw, s, wsi, in, len);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (s)
			on_connect_error(sw, s, wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (s)
			on_closed(sw, s);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{PROTO_SUBPROTOCOL, callback, 0, 16 * 1024, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}};

/* ---- setup ---- */

/* http://HOST:PORT[/prefix] or ws://... -> host, port, path. Plain only:
 * a benchmark on loopback. */
static int parse_url(struct swarm *sw, const char *url)
{
	const char *rest, *slash, *colon;
	size_t hl;

	if (!strncmp(url, "http://", 7))
		rest = url + 7;
	else if (!strncmp(url, "ws://", 5))
		rest = url + 5;
	else
		return -1;
	slash = strchr(rest, '/');
	hl = slash ? (size_t)(slash - rest) : strlen(rest);
	colon = memchr(rest, ':', hl);
	if (!colon || hl >= sizeof sw->host)
		return -1;
	snprintf(sw->host, sizeof sw->host, "%.*s", (int)(colon - rest), rest);
	sw->port = atoi(colon + 1);
	snprintf(sw->path, sizeof sw->path, "%s/buildlet",
		 slash && strcmp(slash, "/") ? slash : "");
	return sw->port > 0 && sw->port < 65536 ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: swarm --url URL [--n N] [--capacity C] [--host-type T]\n"
		"             [--key KEY] [--ramp PER_S] [--inflight M]\n"
		"             [--duration S] [--report] [--source-addrs K]\n"
		"             [--name PREFIX]\n");
	exit(2);
}

static int int_arg(const char *s, int lo, int hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < lo || v > hi)
		usage();
	return (int)v;
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{"url", required_argument, NULL, 'u'},
		{"n", required_argument, NULL, 'n'},
		{"capacity", required_argument, NULL, 'c'},
		{"host-type", required_argument, NULL, 't'},
		{"key", required_argument, NULL, 'k'},
		{"ramp", required_argument, NULL, 'r'},
		{"inflight", required_argument, NULL, 'i'},
		{"duration", required_argument, NULL, 'd'},
		{"report", no_argument, NULL, 'R'},
		{"source-addrs", required_argument, NULL, 's'},
		{"name", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0}};
	int c;

	*o = (struct opts){.n = 100, .capacity = 1, .host_type = "linux-amd64",
			   .inflight = 256, .prefix = "swarm"};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'u': o->url = optarg; break;
		case 'n': o->n = int_arg(optarg, 1, MAX_N); break;
		case 'c': o->capacity = int_arg(optarg, 1, 1000); break;
		case 't': o->host_type = optarg; break;
		case 'k': o->key = optarg; break;
		case 'r': o->ramp = int_arg(optarg, 0, 1000000); break;
		case 'i': o->inflight = int_arg(optarg, 1, MAX_N); break;
		case 'd': o->duration_s = int_arg(optarg, 0, 86400); break;
		case 'R': o->report = 1; break;
		case 's': o->source_addrs = int_arg(optarg, 0, 254); break;
		case 'p': o->prefix = optarg; break;
		default: usage();
		}
	}
	if (!o->url || optind != argc)
		usage();
}

static int swarm_init(struct swarm *sw)
{
	struct lws_context_creation_info info;

	if (parse_url(sw, sw->o.url)) {
		fprintf(stderr, "swarm: --url must be http://HOST:PORT[/prefix]\n");
		return -1;
	}
	snprintf(sw->goos, sizeof sw->goos, "%.15s", sw->o.host_type);
	if (strchr(sw->goos, '-')) {
		*strchr(sw->goos, '-') = 0;
		snprintf(sw->goarch, sizeof sw->goarch, "%.15s",
			 strchr(sw->o.host_type, '-') + 1);
	} else {
		snprintf(sw->goarch, sizeof sw->goarch, "amd64");
	}
	snprintf(sw->platform, sizeof sw->platform, "%s/%s", sw->goos, sw->goarch);
	sw->platforms[0] = sw->platform;
	for (int k = 0; k < sw->o.source_addrs; k++)
		snprintf(sw->ifaces[k], sizeof sw->ifaces[k], "127.0.0.%d", (k + 1) & 0xff);
	list_init(&sw->pending);
	sw->sims = xcalloc((size_t)sw->o.n, sizeof *sw->sims);
	for (int i = 0; i < sw->o.n; i++) {
		struct sim *s = &sw->sims[i];

		s->idx = i;
		snprintf(s->name, sizeof s->name, "%.30s-%05d", sw->o.prefix, i);
		list_init(&s->outq);
		buf_init(&s->rx, 0, proto_default_limits.max_message);
		list_add_tail(&sw->pending, &s->pending);
	}
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	sw->ctx = lws_create_context(&info);
	if (!sw->ctx) {
		fprintf(stderr, "swarm: cannot create the lws context\n");
		return -1;
	}
	sw->start_ms = sw->last_report_ms = sw->lost_ms = clock_mono_ms();
	lws_sul_schedule(sw->ctx, 0, &sw->tick_sul, on_tick, 1);
	return 0;
}

static void swarm_free(struct swarm *sw)
{
	if (sw->ctx) {
		lws_sul_cancel(&sw->tick_sul);
		for (int i = 0; i < sw->o.n; i++) {
			lws_sul_cancel(&sw->sims[i].hb_sul);
			lws_sul_cancel(&sw->sims[i].retry_sul);
		}
		lws_context_destroy(sw->ctx);
	}
	for (int i = 0; sw->sims && i < sw->o.n; i++) {
		drop_frames(&sw->sims[i]);
		buf_free(&sw->sims[i].rx);
	}
	free(sw->sims);
}

int main(int argc, char **argv)
{
	static struct swarm sw;
	struct sigaction sa;

	parse_opts(&sw.o, argc, argv);
	the_swarm = &sw;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)clock_wall_ms());
	if (swarm_init(&sw)) {
		swarm_free(&sw);
		return 1;
	}
	while (!stopping)
		if (lws_service(sw.ctx, 0) < 0)
			break;
	printf("swarm: stopping: %d connected, %llu runs answered\n",
	       sw.connected, sw.total_runs);
	fflush(stdout);
	/* on_closed must not retry: stopping is set */
	swarm_free(&sw);
	return 0;
}
