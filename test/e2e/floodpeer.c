/*
 * floodpeer.c - a crowd of hostile HTTP clients for the end-to-end tests.
 *
 * It opens --count TCP connections to the coordinator (optionally from a
 * chosen source address, --bind 127.0.0.2), at most --batch of them
 * connecting at a time, and has each play one kind of misbehaviour from
 * --mix, round robin:
 *
 *   idle            connect and send nothing
 *   partial         half a request header, then nothing
 *   get             a whole GET /api/v1/builds, kept open after the answer
 *   ws-noauth       a /buildlet WebSocket upgrade without a key
 *   ws-badauth      a /buildlet upgrade with a wrong key
 *   trickle-header  a request header, one byte every --trickle-ms
 *   stall-upgrade   a /buildlet upgrade that stops mid-header
 *   stall-body      a POST whose body stops after a few bytes
 *   trickle-body    a POST whose body comes one byte every --trickle-ms
 *
 * Each connection's first outcome is recorded: "answered" (an HTTP status
 * line came back), "closed" (EOF before any answer), "reset", "refused"
 * (connect refused), "failed" (connect error or timeout) or "open" (still
 * waiting when --hold runs out), with the milliseconds it took from the
 * connect. It prints "flood up N" once every connection has been tried
 * (the crowd is in place), then, at the end, one line per kind:
 *
 *   result KIND n=.. answered=.. closed=.. reset=.. refused=.. failed=..
 *          open=.. fast=.. p50_ms=.. max_ms=..       (on one line)
 *   status KIND CODE COUNT
 *
 * where fast counts outcomes within --fast-ms of the connect, and the same
 * for "all". Raw POSIX sockets on purpose: a well-behaved
 * HTTP library would never send what this sends. Every wait is bounded:
 * it ends --hold seconds after the crowd is up (with --early, as soon as
 * every connection has an outcome), and never later than --hold + 60 s
 * after it started. Exit status: 0 when it ran, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_KINDS 16
#define MAX_STATUS 600
#define BODY "{\"platforms\":[\"plan9/mips\"],\"command\":[\"true\"]}"

enum kind {
	K_IDLE,
	K_PARTIAL,
	K_GET,
	K_WS_NOAUTH,
	K_WS_BADAUTH,
	K_TRICKLE_HEADER,
	K_STALL_UPGRADE,
	K_STALL_BODY,
	K_TRICKLE_BODY,
	K__COUNT
};

static const char *const kind_names[K__COUNT] = {
	"idle", "partial", "get", "ws-noauth", "ws-badauth", "trickle-header",
	"stall-upgrade", "stall-body", "trickle-body",
};

enum outcome {
	O_PENDING,  /* connecting, or connected with nothing back yet */
	O_ANSWERED, /* an HTTP status line arrived */
	O_CLOSED,   /* EOF before any answer */
	O_RESET,    /* ECONNRESET (or EPIPE on send) */
	O_REFUSED,  /* connect refused */
	O_FAILED,   /* connect failed otherwise, or timed out */
	O__COUNT
};

struct conn {
	int fd;             /* -1 once finished with */
	enum kind kind;     /* what it plays */
	int connected;      /* the TCP handshake completed */
	enum outcome out;   /* first outcome */
	int status;         /* HTTP status if answered */
	int64_t start_ms;   /* when connect() was called */
	int64_t event_ms;   /* when the outcome happened */
	int64_t next_ms;    /* next trickled byte is due */
	const char *req;    /* bytes to send (borrowed) */
	size_t req_len;     /* how many of req to send in all */
	size_t sent;        /* how many are sent */
	int trickle;        /* send req one byte at a time */
};

struct options {
	char host[64];          /* coordinator IPv4 address */
	int port;               /* its port */
	const char *bind_addr;  /* source address, NULL for any */
	int count;              /* connections to open */
	int batch;              /* connecting at once */
	int hold_s;             /* how long to wait after the crowd is up */
	int connect_timeout_ms; /* a connect that takes longer failed */
	int trickle_ms;         /* gap between trickled bytes */
	int early;              /* stop once every connection has an outcome */
	int fast_ms;            /* an outcome this soon counts as fast */
	enum kind mix[MAX_KINDS]; /* kinds, round robin */
	int n_mix;              /* count of mix */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- what each kind sends ---- */

static char req_get[256], req_partial[256], req_ws_noauth[512],
	req_ws_badauth[512], req_trickle[256], req_stall_upgrade[256],
	req_post[512];

static void requests_init(const struct options *o)
{
	static const char ws[] =
		"GET /buildlet HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Protocol: rfarm.v1\r\n"
		"x-rfarm-host-type: linux-amd64\r\n%s\r\n";

	snprintf(req_get, sizeof req_get,
		 "GET /api/v1/builds HTTP/1.1\r\nHost: %s:%d\r\n\r\n", o->host,
		 o->port);
	snprintf(req_partial, sizeof req_partial,
		 "GET /api/v1/builds HTTP/1.1\r\nHost: %s:%d\r\nX-Wait: ",
		 o->host, o->port);
	snprintf(req_ws_noauth, sizeof req_ws_noauth, ws, o->host, o->port, "");
	snprintf(req_ws_badauth, sizeof req_ws_badauth, ws, o->host, o->port,
		 "Authorization: Bearer 0000000000000000000000000000000000"
		 "000000000000000000000000000000\r\n");
	snprintf(req_trickle, sizeof req_trickle,
		 "GET /alive HTTP/1.1\r\nHost: %s:%d\r\nX-Pad: "
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "\r\n\r\n", o->host, o->port);
	snprintf(req_stall_upgrade, sizeof req_stall_upgrade,
		 "GET /buildlet HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Ver", o->host, o->port);
	snprintf(req_post, sizeof req_post,
		 "POST /api/v1/builds HTTP/1.1\r\nHost: %s:%d\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 o->host, o->port, strlen(BODY), BODY);
}

/* What c sends: all at once, or trickled; stall-body stops early. */
static void conn_script(struct conn *c)
{
	const char *r = NULL;

	switch (c->kind) {
	case K_IDLE: r = ""; break;
	case K_PARTIAL: r = req_partial; break;
	case K_GET: r = req_get; break;
	case K_WS_NOAUTH: r = req_ws_noauth; break;
	case K_WS_BADAUTH: r = req_ws_badauth; break;
	case K_TRICKLE_HEADER: r = req_trickle; c->trickle = 1; break;
	case K_STALL_UPGRADE: r = req_stall_upgrade; break;
	case K_STALL_BODY: r = req_post; break;
	case K_TRICKLE_BODY: r = req_post; break;
	case K__COUNT: r = ""; break;
	}
	c->req = r;
	c->req_len = strlen(r);
	if (c->kind == K_STALL_BODY)
		c->req_len -= strlen(BODY) - 5; /* five bytes of the body */
	if (c->kind == K_TRICKLE_BODY)
		c->sent = 0; /* headers go at once (see conn_send) */
}

/* ---- one connection ---- */

static void conn_finish(struct conn *c, enum outcome out)
{
	if (c->out == O_PENDING) {
		c->out = out;
		c->event_ms = now_ms();
	}
	if (out != O_ANSWERED && c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

static void conn_open(struct conn *c, const struct options *o,
		      const struct sockaddr_in *to, const struct sockaddr_in *from)
{
	c->start_ms = now_ms();
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_finish(c, O_FAILED);
		return;
	}
	if (o->bind_addr && bind(c->fd, (const struct sockaddr *)from, sizeof *from)) {
		conn_finish(c, O_FAILED);
		return;
	}
	if (connect(c->fd, (const struct sockaddr *)to, sizeof *to) == 0) {
		c->connected = 1;
		return;
	}
	if (errno == EINPROGRESS)
		return;
	conn_finish(c, errno == ECONNREFUSED ? O_REFUSED : O_FAILED);
}

/* How many bytes to send now: everything, or one trickled byte. */
static size_t conn_due(struct conn *c, int64_t now, int trickle_ms)
{
	size_t left = c->req_len - c->sent;

	if (c->kind == K_TRICKLE_BODY && c->sent == 0)
		return c->req_len - strlen(BODY); /* the headers at once */
	if (!c->trickle && c->kind != K_TRICKLE_BODY)
		return left;
	if (left == 0 || now < c->next_ms)
		return 0;
	c->next_ms = now + trickle_ms;
	return 1;
}

static void conn_send(struct conn *c, int64_t now, int trickle_ms)
{
	size_t n = conn_due(c, now, trickle_ms);
	ssize_t w;

	if (n == 0)
		return;
	w = send(c->fd, c->req + c->sent, n, MSG_NOSIGNAL);
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (w < 0) {
		conn_finish(c, errno == ECONNRESET || errno == EPIPE ? O_RESET
								      : O_CLOSED);
		return;
	}
	c->sent += (size_t)w;
	if (c->kind == K_TRICKLE_BODY && c->next_ms == 0)
		c->next_ms = now + trickle_ms;
}

static void conn_recv(struct conn *c)
{
	char b[4096];
	ssize_t n = recv(c->fd, b, sizeof b - 1, 0);
	int status = 0;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_finish(c, errno == ECONNRESET ? O_RESET : O_CLOSED);
		return;
	}
	if (n == 0) {
		conn_finish(c, O_CLOSED);
		return;
	}
	if (c->out != O_PENDING)
		return; /* later bytes of an answer: drained and ignored */
	b[n] = '\0';
	if (sscanf(b, "HTTP/1.%*d %d", &status) == 1 && status > 0 &&
	    status < MAX_STATUS)
		c->status = status;
	conn_finish(c, O_ANSWERED);
}

/* The outcome of a non-blocking connect that became writable. */
static void conn_connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		conn_finish(c, err == ECONNREFUSED ? O_REFUSED : O_FAILED);
		return;
	}
	c->connected = 1;
}

static void conn_event(struct conn *c, short revents, int64_t now,
		       int trickle_ms)
{
	if (!c->connected) {
		if (revents & (POLLOUT | POLLERR | POLLHUP))
			conn_connected(c);
		if (c->fd < 0 || !c->connected)
			return;
	}
	if (revents & (POLLIN | POLLERR | POLLHUP))
		conn_recv(c);
	if (c->fd >= 0 && c->out == O_PENDING)
		conn_send(c, now, trickle_ms);
}

/* ---- the crowd ---- */

struct crowd {
	struct conn *conns;   /* count of them */
	struct pollfd *pfd;   /* scratch for poll() */
	size_t *idx;          /* pfd[i] belongs to conns[idx[i]] */
	int opened;           /* connects started */
	int64_t up_ms;        /* when every connect had been started and
				 answered, or 0 */
};

static int connecting(const struct crowd *cr)
{
	int n = 0;

	for (int i = 0; i < cr->opened; i++)
		n += cr->conns[i].fd >= 0 && !cr->conns[i].connected;
	return n;
}

static void open_more(struct crowd *cr, const struct options *o,
		      const struct sockaddr_in *to, const struct sockaddr_in *from)
{
	int room = o->batch - connecting(cr);

	while (room-- > 0 && cr->opened < o->count) {
		struct conn *c = &cr->conns[cr->opened];

		c->kind = o->mix[cr->opened % o->n_mix];
		conn_script(c);
		conn_open(c, o, to, from);
		cr->opened++;
	}
}

/* Connects that take too long have failed. */
static void expire_connects(struct crowd *cr, const struct options *o,
			    int64_t now)
{
	for (int i = 0; i < cr->opened; i++) {
		struct conn *c = &cr->conns[i];

		if (c->fd >= 0 && !c->connected &&
		    now - c->start_ms > o->connect_timeout_ms)
			conn_finish(c, O_FAILED);
	}
}

static int all_decided(const struct crowd *cr, const struct options *o)
{
	if (cr->opened < o->count)
		return 0;
	for (int i = 0; i < cr->opened; i++)
		if (cr->conns[i].out == O_PENDING)
			return 0;
	return 1;
}

/* One poll() over every live connection. */
static void crowd_poll(struct crowd *cr, const struct options *o)
{
	size_t n = 0;
	int64_t now;

	for (int i = 0; i < cr->opened; i++) {
		struct conn *c = &cr->conns[i];

		if (c->fd < 0)
			continue;
		cr->pfd[n] = (struct pollfd){
			.fd = c->fd,
			.events = (short)(POLLIN | (c->connected ? 0 : POLLOUT))};
		cr->idx[n++] = (size_t)i;
	}
	poll(cr->pfd, n, 20);
	now = now_ms();
	for (size_t k = 0; k < n; k++) {
		struct conn *c = &cr->conns[cr->idx[k]];

		/* A connected one that owes bytes sends even without events. */
		if (cr->pfd[k].revents || (c->connected && c->out == O_PENDING))
			conn_event(c, cr->pfd[k].revents, now, o->trickle_ms);
	}
	expire_connects(cr, o, now);
}

static void crowd_run(struct crowd *cr, const struct options *o)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)o->port)};
	struct sockaddr_in from = {.sin_family = AF_INET};
	int64_t start = now_ms(), deadline = 0;

	inet_pton(AF_INET, o->host, &to.sin_addr);
	if (o->bind_addr)
		inet_pton(AF_INET, o->bind_addr, &from.sin_addr);
	for (;;) {
		int64_t now = now_ms();

		open_more(cr, o, &to, &from);
		crowd_poll(cr, o);
		if (!deadline && cr->opened == o->count && !connecting(cr)) {
			cr->up_ms = now_ms() - start;
			deadline = now_ms() + (int64_t)o->hold_s * 1000;
			printf("flood up %d in %lld ms\n", cr->opened,
			       (long long)cr->up_ms);
		}
		/* The whole run is bounded even if connects never end. */
		if ((o->early && all_decided(cr, o)) ||
		    (deadline && now >= deadline) ||
		    now - start > (int64_t)(o->hold_s + 60) * 1000)
			break;
	}
}

/* ---- the report ---- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* One result line (and status lines) for kind k, or every kind (k < 0). */
static void report_kind(const struct crowd *cr, const struct options *o, int k,
			const char *name)
{
	int n = 0, by[O__COUNT] = {0}, status[MAX_STATUS] = {0}, nt = 0, fast = 0;
	int64_t *t = calloc((size_t)cr->opened + 1, sizeof *t);

	for (int i = 0; i < cr->opened; i++) {
		const struct conn *c = &cr->conns[i];

		if (k >= 0 && (int)c->kind != k)
			continue;
		n++;
		by[c->out]++;
		if (c->out == O_ANSWERED)
			status[c->status]++;
		if (c->out != O_PENDING)
			t[nt++] = c->event_ms - c->start_ms;
		if (c->out != O_PENDING && c->event_ms - c->start_ms <= o->fast_ms)
			fast++;
	}
	if (n == 0) {
		free(t);
		return;
	}
	qsort(t, (size_t)nt, sizeof *t, cmp_i64);
	printf("result %s n=%d answered=%d closed=%d reset=%d refused=%d "
	       "failed=%d open=%d fast=%d p50_ms=%lld max_ms=%lld\n", name, n,
	       by[O_ANSWERED], by[O_CLOSED], by[O_RESET], by[O_REFUSED],
	       by[O_FAILED], by[O_PENDING], fast, nt ? (long long)t[nt / 2] : -1LL,
	       nt ? (long long)t[nt - 1] : -1LL);
	for (int s = 0; s < MAX_STATUS; s++)
		if (status[s])
			printf("status %s %d %d\n", name, s, status[s]);
	free(t);
}

static void report(const struct crowd *cr, const struct options *o)
{
	for (int k = 0; k < K__COUNT; k++)
		report_kind(cr, o, k, kind_names[k]);
	report_kind(cr, o, -1, "all");
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: floodpeer --url http://127.0.0.1:PORT [--bind ADDR]\n"
		"                 [--count N] [--batch N] [--hold SECS]\n"
		"                 [--connect-timeout MS] [--trickle-ms MS]\n"
		"                 [--mix KIND,KIND,...] [--early] [--fast-ms MS]\n"
		"kinds: idle partial get ws-noauth ws-badauth trickle-header\n"
		"       stall-upgrade stall-body trickle-body\n");
	exit(2);
}

static void parse_mix(struct options *o, char *list)
{
	o->n_mix = 0;
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		int k = 0;

		while (k < K__COUNT && strcmp(kind_names[k], tok))
			k++;
		if (k == K__COUNT || o->n_mix == MAX_KINDS) {
			fprintf(stderr, "floodpeer: bad --mix entry %s\n", tok);
			usage();
		}
		o->mix[o->n_mix++] = (enum kind)k;
	}
	if (o->n_mix == 0)
		usage();
}

static void parse_url(struct options *o, const char *url)
{
	const char *hp = strstr(url, "://");
	struct in_addr a;

	hp = hp ? hp + 3 : url;
	if (sscanf(hp, "%63[^:/]:%d", o->host, &o->port) != 2 || o->port <= 0 ||
	    o->port > 65535 || inet_pton(AF_INET, o->host, &a) != 1) {
		fprintf(stderr, "floodpeer: bad --url %s (want http://IPV4:PORT)\n",
			url);
		exit(2);
	}
}

static void parse_args(struct options *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'u'},
		{"bind", required_argument, NULL, 'b'},
		{"count", required_argument, NULL, 'n'},
		{"batch", required_argument, NULL, 'B'},
		{"hold", required_argument, NULL, 'h'},
		{"connect-timeout", required_argument, NULL, 'c'},
		{"trickle-ms", required_argument, NULL, 't'},
		{"mix", required_argument, NULL, 'm'},
		{"early", no_argument, NULL, 'e'},
		{"fast-ms", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	struct in_addr a;
	int c;

	*o = (struct options){.count = 100, .batch = 500, .hold_s = 10,
			      .connect_timeout_ms = 5000, .trickle_ms = 1000,
			      .fast_ms = 2000, .mix = {K_IDLE}, .n_mix = 1};
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': parse_url(o, optarg); break;
		case 'b': o->bind_addr = optarg; break;
		case 'n': o->count = atoi(optarg); break;
		case 'B': o->batch = atoi(optarg); break;
		case 'h': o->hold_s = atoi(optarg); break;
		case 'c': o->connect_timeout_ms = atoi(optarg); break;
		case 't': o->trickle_ms = atoi(optarg); break;
		case 'm': parse_mix(o, optarg); break;
		case 'e': o->early = 1; break;
		case 'f': o->fast_ms = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc || !o->port || o->count <= 0 || o->batch <= 0 ||
	    o->hold_s < 0 || o->hold_s > 3600 || o->connect_timeout_ms <= 0 ||
	    o->trickle_ms <= 0)
		usage();
	if (o->bind_addr && inet_pton(AF_INET, o->bind_addr, &a) != 1) {
		fprintf(stderr, "floodpeer: bad --bind %s\n", o->bind_addr);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct options o;
	struct crowd cr = {0};

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(&o, argc, argv);
	requests_init(&o);
	cr.conns = calloc((size_t)o.count, sizeof *cr.conns);
	cr.pfd = calloc((size_t)o.count, sizeof *cr.pfd);
	cr.idx = calloc((size_t)o.count, sizeof *cr.idx);
	if (!cr.conns || !cr.pfd || !cr.idx) {
		fprintf(stderr, "floodpeer: out of memory\n");
		return 1;
	}
	for (int i = 0; i < o.count; i++)
		cr.conns[i].fd = -1;
	crowd_run(&cr, &o);
	report(&cr, &o);
	for (int i = 0; i < cr.opened; i++)
		if (cr.conns[i].fd >= 0)
			close(cr.conns[i].fd);
	free(cr.conns);
	free(cr.pfd);
	free(cr.idx);
	return 0;
}
