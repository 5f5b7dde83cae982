/*
 * wspeer.c - a scripted hostile buildlet for the end-to-end tests.
 *
 * It speaks WebSocket on raw POSIX sockets (deliberately not
 * libwebsockets: a test must be able to send bytes a well-behaved library
 * never would). It upgrades to /buildlet with the rfarm.v1 subprotocol, a
 * bearer key and a host type, plays one scenario, and prints one line per
 * thing the coordinator did, for the shell test to assert on:
 *
 *   status 101          the upgrade answer's status (or "eof" if none)
 *   message welcome     a decoded rfarm message (type name)
 *   ref ack 12 1        job and attempt of a run, ack or cancel
 *   upload_token HEX    the upload token of a run
 *   close 1009 REASON   a close frame: code and reason
 *   eof | reset         the connection ended without a close frame
 *   timeout             nothing happened within --timeout seconds
 *
 * The "script" scenario plays the --send steps in order (see usage()),
 * so a test can send any buildlet message about any job at any point of
 * the session: before hello, twice, for someone else's job.
 *
 * Every wait is bounded by poll(). Exit status: 0 when the scenario ran
 * (whatever the coordinator did), 2 on a usage error, 1 when it could not
 * connect at all.
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
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "buf.h"
#include "proto.h"

#define RX_MAX (8u * 1024 * 1024)    /* cap on buffered incoming bytes */
#define SEND_PIECE (64u * 1024)      /* bytes masked and sent at a time */
#define GARBAGE_LEN 300              /* needs a 16-bit length field */
#define OVERSIZE_LEN (5u * 1024 * 1024) /* over the 4 MiB frame limit */
#define MAX_ARTIFACTS 8              /* --artifact at most this often */

enum ws_op {
	WS_CONT = 0x0,   /* continuation */
	WS_TEXT = 0x1,   /* text frame */
	WS_BINARY = 0x2, /* binary frame */
	WS_CLOSE = 0x8,  /* close */
	WS_PING = 0x9,   /* ping */
	WS_PONG = 0xa,   /* pong */
};

enum peer_state {
	PEER_OPEN,   /* connection usable */
	PEER_CLOSED, /* close frame received */
	PEER_EOF,    /* connection ended without a close frame */
};

struct options {
	char host[64];        /* IPv4 address of the coordinator */
	int port;             /* its port */
	const char *path;     /* upgrade path, normally /buildlet */
	const char *key;      /* bearer key (may be deliberately wrong) */
	const char *host_type; /* x-rfarm-host-type and hello.host_type */
	const char *name;     /* hello.name */
	const char *scenario; /* what to do after the upgrade */
	int capacity;         /* hello.capacity */
	int wait_s;           /* how long "hello" listens */
	int timeout_s;        /* bound on every other wait */
	char **platforms;     /* hello.platforms */
	size_t n_platforms;   /* count of platforms */
	char **steps;         /* --send steps of the script scenario */
	size_t n_steps;       /* count of steps */
	long long job;        /* job of started/log/done (0: the last run's) */
	int attempt;          /* their attempt (0: the last run's) */
	long long seq;        /* log.seq */
	const char *data;     /* log.data */
	int exit_code;        /* done.exit */
	struct proto_artifact artifacts[MAX_ARTIFACTS]; /* done.artifacts */
	size_t n_artifacts;   /* count of artifacts */
};

struct peer {
	int fd;               /* the socket, non-blocking */
	struct buf rx;        /* bytes received and not yet parsed */
	struct buf msg;       /* a fragmented message being reassembled */
	enum peer_state state; /* see enum */
	int upgraded;         /* past the HTTP answer: bytes are frames */
	int in_rx;            /* inside rx_frames: replies must not read */
	int welcomed;         /* a welcome message arrived */
	int runs;             /* run messages received */
	long long run_job;    /* job of the last run */
	int run_attempt;      /* its attempt */
	const struct options *o; /* borrowed */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fill_random(void *p, size_t n)
{
	unsigned char *c = p;

	while (n > 0) {
		ssize_t r = getrandom(c, n, 0);

		if (r <= 0) {
			/* Never expected; the bytes only need to vary. */
			for (size_t i = 0; i < n; i++)
				c[i] = (unsigned char)rand();
			return;
		}
		c += r;
		n -= (size_t)r;
	}
}

/* ---- receiving ---- */

static void send_frame(struct peer *p, enum ws_op op, const void *data,
		       uint64_t len);

static void on_binary(struct peer *p, const unsigned char *data, size_t len)
{
	struct proto_msg m;
	struct errbuf eb = {""};

	if (proto_decode(data, len, NULL, &m, &eb)) {
		printf("undecodable %s\n", eb.msg);
		return;
	}
	printf("message %s\n", proto_type_name(m.type));
	if (m.type == PROTO_WELCOME)
		p->welcomed = 1;
	if (m.type == PROTO_RUN) {
		p->runs++;
		p->run_job = (long long)m.u.run.job;
		p->run_attempt = (int)m.u.run.attempt;
		printf("ref run %lld %d\n", p->run_job, p->run_attempt);
		printf("upload_token %s\n", m.u.run.upload_token);
	}
	if (m.type == PROTO_ACK || m.type == PROTO_CANCEL)
		printf("ref %s %lld %d\n", proto_type_name(m.type),
		       (long long)m.u.ref.job, (int)m.u.ref.attempt);
	proto_msg_free(&m);
}

static void on_close(struct peer *p, const unsigned char *data, size_t len)
{
	unsigned code = len >= 2 ? (unsigned)data[0] << 8 | data[1] : 0;

	if (len >= 2)
		printf("close %u %.*s\n", code, (int)(len - 2), data + 2);
	else
		printf("close none\n");
	/* Answer the close, as a client must; failure does not matter. */
	send_frame(p, WS_CLOSE, data, len >= 2 ? 2 : 0);
	p->state = PEER_CLOSED;
}

static void on_frame(struct peer *p, int fin, enum ws_op op,
		     const unsigned char *data, size_t len)
{
	switch (op) {
	case WS_CLOSE:
		on_close(p, data, len);
		return;
	case WS_PING:
		send_frame(p, WS_PONG, data, len);
		return;
	case WS_PONG:
		return;
	case WS_TEXT:
	case WS_BINARY:
	case WS_CONT:
		if (op != WS_CONT)
			buf_reset(&p->msg);
		if (buf_append(&p->msg, data, len)) {
			printf("oversized message from the coordinator\n");
			p->state = PEER_EOF;
			return;
		}
		if (fin)
			on_binary(p, buf_data(&p->msg), p->msg.len);
		return;
	}
	printf("frame with opcode %d\n", (int)op);
}

/*
 * Parse a frame header from the n bytes at b: sets *len (payload) and
 * *hdr (header bytes, mask included). Returns 0 if more bytes are needed.
 */
static int frame_header(const unsigned char *b, size_t n, uint64_t *len,
			size_t *hdr)
{
	if (n < 2)
		return 0;
	*len = b[1] & 0x7f;
	*hdr = 2;
	if (*len == 126) {
		if (n < 4)
			return 0;
		*len = (uint64_t)b[2] << 8 | b[3];
		*hdr = 4;
	} else if (*len == 127) {
		if (n < 10)
			return 0;
		*len = 0;
		for (int i = 0; i < 8; i++)
			*len = *len << 8 | b[2 + i];
		*hdr = 10;
	}
	if (b[1] & 0x80) /* masked: servers should not, but accept it */
		*hdr += 4;
	return 1;
}

/*
 * Handle every complete frame in p->rx. Replies sent from here (pong,
 * close) do not read, so p->rx is not touched under our feet.
 */
static void rx_frames(struct peer *p)
{
	uint64_t len;
	size_t hdr;

	p->in_rx = 1;
	while (p->upgraded && p->state == PEER_OPEN &&
	       frame_header(buf_data(&p->rx), p->rx.len, &len, &hdr)) {
		unsigned char *b = buf_data(&p->rx);

		if (len > RX_MAX) {
			printf("frame of %llu bytes from the coordinator\n",
			       (unsigned long long)len);
			p->state = PEER_EOF;
			break;
		}
		if (p->rx.len < hdr + len)
			break;
		for (size_t i = 0; (b[1] & 0x80) && i < len; i++)
			b[hdr + i] ^= b[hdr - 4 + i % 4];
		on_frame(p, b[0] >> 7, (enum ws_op)(b[0] & 0x0f), b + hdr,
			 (size_t)len);
		buf_consume(&p->rx, hdr + (size_t)len);
	}
	p->in_rx = 0;
}

/*
 * Wait up to timeout_ms for bytes and append them to p->rx. Returns 1 on
 * bytes, 0 on a timeout; sets p->state on the end of the connection.
 */
static int rx_more(struct peer *p, int timeout_ms)
{
	unsigned char tmp[64 * 1024];
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms) <= 0)
		return 0;
	n = recv(p->fd, tmp, sizeof tmp, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		printf("%s\n", n == 0 ? "eof" : errno == ECONNRESET ? "reset" : "eof");
		p->state = PEER_EOF;
		return 0;
	}
	if (buf_append(&p->rx, tmp, (size_t)n)) {
		printf("too much unparsed input\n");
		p->state = PEER_EOF;
		return 0;
	}
	return 1;
}

/*
 * Handle frames until the connection ends, want(p) holds, or ms pass.
 * Returns 1 if want(p) held (want may be NULL: never).
 */
static int rx_until(struct peer *p, int ms, int (*want)(const struct peer *))
{
	int64_t deadline = now_ms() + ms;

	for (;;) {
		rx_frames(p);
		if (want && want(p))
			return 1;
		if (p->state != PEER_OPEN || now_ms() >= deadline)
			return 0;
		rx_more(p, (int)(deadline - now_ms()));
	}
}

/* ---- sending ---- */

/*
 * Send all n bytes, handling what arrives meanwhile (unless called from
 * rx_frames), so a peer that closes mid-way is noticed and its close
 * frame printed. Returns 0 when everything went out.
 */
static int send_bytes(struct peer *p, const unsigned char *data, size_t n)
{
	int64_t deadline = now_ms() + p->o->timeout_s * 1000;

	while (n > 0 && p->state == PEER_OPEN) {
		struct pollfd pfd = {.fd = p->fd,
				     .events = p->in_rx ? POLLOUT : POLLIN | POLLOUT};
		ssize_t w;

		if (now_ms() >= deadline) {
			printf("send timeout\n");
			return -1;
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (pfd.revents & POLLIN) {
			rx_more(p, 0);
			rx_frames(p);
			continue;
		}
		w = send(p->fd, data, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w < 0) {
			/* The close frame may still be waiting to be read. */
			if (!p->in_rx)
				rx_until(p, 2000, NULL);
			return -1;
		}
		data += w;
		n -= (size_t)w;
	}
	return n == 0 ? 0 : -1;
}

/* One masked client frame, sent in pieces (data NULL: zeros). */
static void send_frame(struct peer *p, enum ws_op op, const void *data,
		       uint64_t len)
{
	unsigned char hdr[14], mask[4], piece[SEND_PIECE];
	size_t h = 0;
	uint64_t off;

	hdr[h++] = 0x80 | (unsigned char)op;
	if (len < 126) {
		hdr[h++] = 0x80 | (unsigned char)len;
	} else if (len <= 0xffff) {
		hdr[h++] = 0x80 | 126;
		hdr[h++] = (unsigned char)(len >> 8);
		hdr[h++] = (unsigned char)len;
	} else {
		hdr[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			hdr[h++] = (unsigned char)(len >> (8 * i));
	}
	fill_random(mask, sizeof mask);
	memcpy(hdr + h, mask, 4);
	h += 4;
	if (send_bytes(p, hdr, h))
		return;
	for (off = 0; off < len; off += SEND_PIECE) {
		size_t n = len - off < SEND_PIECE ? (size_t)(len - off) : SEND_PIECE;

		for (size_t i = 0; i < n; i++)
			piece[i] = (data ? ((const unsigned char *)data)[off + i] : 0) ^
				   mask[(off + i) % 4];
		if (send_bytes(p, piece, n))
			return;
	}
}

static void send_msg(struct peer *p, const struct proto_msg *m)
{
	struct buf b;
	struct errbuf eb = {""};

	buf_init(&b, 0, 0);
	if (proto_encode(m, NULL, &b, &eb)) {
		fprintf(stderr, "wspeer: cannot encode %s: %s\n",
			proto_type_name(m->type), eb.msg);
		exit(1);
	}
	send_frame(p, WS_BINARY, buf_data(&b), b.len);
	buf_free(&b);
}

/* ---- connecting ---- */

static int dial(const struct options *o)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)o->port)};
	int fd;

	if (inet_pton(AF_INET, o->host, &sa.sin_addr) != 1) {
		fprintf(stderr, "wspeer: %s is not an IPv4 address\n", o->host);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		fprintf(stderr, "wspeer: connect %s:%d: %s\n", o->host, o->port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static int header_end(const struct peer *p)
{
	return p->rx.len >= 4 &&
	       memmem(buf_data(&p->rx), p->rx.len, "\r\n\r\n", 4) != NULL;
}

/* Base64 of 16 bytes: 22 characters and "==". */
static void base64_16(const unsigned char in[16], char out[25])
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < 16; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < 16)
			v |= (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < 16 ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 1 < 16 ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Send the upgrade and print the answer's status. Returns the status. */
static int upgrade(struct peer *p)
{
	unsigned char nonce[16];
	char key[25], req[2048];
	const unsigned char *end;
	int n, status = 0;

	fill_random(nonce, sizeof nonce);
	base64_16(nonce, key);
	n = snprintf(req, sizeof req,
		     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
		     "Sec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Protocol: " PROTO_SUBPROTOCOL "\r\n"
		     "Authorization: Bearer %s\r\nx-rfarm-host-type: %s\r\n\r\n",
		     p->o->path, p->o->host, p->o->port, key, p->o->key,
		     p->o->host_type);
	if (n <= 0 || (size_t)n >= sizeof req ||
	    send_bytes(p, (unsigned char *)req, (size_t)n))
		return 0;
	rx_until(p, p->o->timeout_s * 1000, header_end);
	if (p->rx.len == 0 ||
	    sscanf(buf_cstr(&p->rx), "HTTP/1.%*d %d", &status) != 1) {
		if (p->state == PEER_OPEN)
			printf("timeout\n");
		return 0;
	}
	printf("status %d\n", status);
	end = memmem(buf_data(&p->rx), p->rx.len, "\r\n\r\n", 4);
	if (status == 101 && end) {
		buf_consume(&p->rx, (size_t)(end + 4 - buf_data(&p->rx)));
		p->upgraded = 1;
	}
	return end ? status : 0;
}

/* ---- scenarios ---- */

static void hello_msg(const struct options *o, struct proto_msg *m)
{
	memset(m, 0, sizeof *m);
	m->type = PROTO_HELLO;
	m->u.hello.proto = PROTO_VERSION;
	m->u.hello.name = (char *)o->name;
	m->u.hello.host_type = (char *)o->host_type;
	m->u.hello.goos = "linux";
	m->u.hello.goarch = "amd64";
	m->u.hello.platforms.v = o->platforms;
	m->u.hello.platforms.n = o->n_platforms;
	m->u.hello.capacity = o->capacity;
	m->u.hello.version = "wspeer";
}

static int got_welcome(const struct peer *p)
{
	return p->welcomed;
}

static void send_garbage(struct peer *p)
{
	unsigned char g[GARBAGE_LEN];

	fill_random(g, sizeof g);
	send_frame(p, WS_BINARY, g, sizeof g);
}

static void play_garbage(struct peer *p)
{
	send_garbage(p);
}

static void play_text(struct peer *p)
{
	static const char text[] = "{\"t\":\"hello\"}";

	send_frame(p, WS_TEXT, text, sizeof text - 1);
}

static void play_oversize(struct peer *p)
{
	send_frame(p, WS_BINARY, NULL, OVERSIZE_LEN);
}

static void play_hugemap(struct peer *p)
{
	/* map32 declaring 400,000,000 entries, then nothing. */
	static const unsigned char huge[8] = {0xdf, 0x17, 0xd7, 0x84, 0x00};

	send_frame(p, WS_BINARY, huge, sizeof huge);
}

static void play_nohello(struct peer *p)
{
	static unsigned char data[] = "out of turn\n";
	struct proto_msg m = {.type = PROTO_LOG};

	m.u.log.job = 1;
	m.u.log.attempt = 1;
	m.u.log.stream = 1;
	m.u.log.data = data;
	m.u.log.len = sizeof data - 1;
	send_msg(p, &m);
}

static void play_hello(struct peer *p)
{
	struct proto_msg m;

	hello_msg(p->o, &m);
	send_msg(p, &m);
}

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

/* One "key": "value" pair of a map. */
static void pack_kv(msgpack_packer *pk, const char *k, const char *v)
{
	pack_str(pk, k);
	pack_str(pk, v);
}

/*
 * A hello with capacity 0, packed by hand: our encoder refuses to write
 * one, and a hostile peer is not bound by it.
 */
static void play_badhello(struct peer *p)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 10);
	pack_kv(&pk, "t", "hello");
	pack_str(&pk, "proto");
	msgpack_pack_int(&pk, PROTO_VERSION);
	pack_kv(&pk, "name", p->o->name);
	pack_kv(&pk, "host_type", p->o->host_type);
	pack_kv(&pk, "goos", "linux");
	pack_kv(&pk, "goarch", "amd64");
	pack_str(&pk, "labels");
	msgpack_pack_array(&pk, 0);
	pack_str(&pk, "capacity");
	msgpack_pack_int(&pk, 0); /* the point: must be >= 1 */
	pack_kv(&pk, "version", "wspeer");
	pack_str(&pk, "held");
	msgpack_pack_array(&pk, 0);
	send_frame(p, WS_BINARY, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

static void play_hello_garbage(struct peer *p)
{
	play_hello(p);
	if (rx_until(p, p->o->timeout_s * 1000, got_welcome))
		send_garbage(p);
}

/* ---- the script scenario ---- */

static int got_run(const struct peer *p)
{
	return p->runs > 0;
}

/* The job a started/log/done is about: --job, else the last run's. */
static void step_ref(const struct peer *p, int64_t *job, int32_t *attempt)
{
	*job = p->o->job ? p->o->job : p->run_job;
	*attempt = p->o->attempt ? p->o->attempt : p->run_attempt;
}

static void send_ref(struct peer *p, enum proto_type t)
{
	struct proto_msg m = {.type = t};

	step_ref(p, &m.u.ref.job, &m.u.ref.attempt);
	send_msg(p, &m);
}

static void send_log(struct peer *p)
{
	struct proto_msg m = {.type = PROTO_LOG};

	step_ref(p, &m.u.log.job, &m.u.log.attempt);
	m.u.log.seq = p->o->seq;
	m.u.log.stream = 1;
	m.u.log.data = (unsigned char *)p->o->data;
	m.u.log.len = strlen(p->o->data);
	send_msg(p, &m);
}

static void send_done(struct peer *p)
{
	struct proto_msg m = {.type = PROTO_DONE};

	step_ref(p, &m.u.done.job, &m.u.done.attempt);
	m.u.done.exit_code = p->o->exit_code;
	m.u.done.duration_ms = 1;
	m.u.done.error = "";
	m.u.done.artifacts = (struct proto_artifact *)p->o->artifacts;
	m.u.done.n_artifacts = p->o->n_artifacts;
	send_msg(p, &m);
}

static void send_hb(struct peer *p)
{
	struct proto_msg m = {.type = PROTO_HB};

	m.u.hb.running = 0;
	send_msg(p, &m);
}

static int step_known(const char *step)
{
	static const char *const names[] = {"hello", "wait-run", "hb", "started",
					    "ack", "log", "done"};

	if (!strncmp(step, "pause:", 6))
		return atoi(step + 6) > 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(step, names[i]))
			return 1;
	return 0;
}

/* One --send step (parse_args let only known ones through). */
static void play_step(struct peer *p, const char *step)
{
	int ms = p->o->timeout_s * 1000;

	if (!strcmp(step, "hello")) {
		play_hello(p);
		rx_until(p, ms, got_welcome);
	} else if (!strcmp(step, "wait-run")) {
		if (!rx_until(p, ms, got_run) && p->state == PEER_OPEN)
			printf("timeout\n");
	} else if (!strncmp(step, "pause:", 6)) {
		rx_until(p, atoi(step + 6) * 1000, NULL);
	} else if (!strcmp(step, "hb")) {
		send_hb(p);
	} else if (!strcmp(step, "started")) {
		send_ref(p, PROTO_STARTED);
	} else if (!strcmp(step, "ack")) {
		send_ref(p, PROTO_ACK); /* not a buildlet message */
	} else if (!strcmp(step, "log")) {
		send_log(p);
	} else if (!strcmp(step, "done")) {
		send_done(p);
	}
}

static void play_script(struct peer *p)
{
	for (size_t i = 0; i < p->o->n_steps && p->state == PEER_OPEN; i++) {
		printf("step %s\n", p->o->steps[i]);
		play_step(p, p->o->steps[i]);
		/* Let the coordinator's answer to this step show before the
		 * next step's line. */
		rx_until(p, 200, NULL);
	}
}

static void play_silent(struct peer *p)
{
	(void)p; /* upgraded; now say nothing at all */
}

static const struct scenario {
	const char *name;          /* --scenario NAME */
	void (*play)(struct peer *); /* what to send */
	int listen_for_wait;       /* listen --wait seconds, not until closed */
} scenarios[] = {
	{"garbage", play_garbage, 0},
	{"text", play_text, 0},
	{"oversize", play_oversize, 0},
	{"hugemap", play_hugemap, 0},
	{"nohello", play_nohello, 0},
	{"badhello", play_badhello, 0},
	{"hello", play_hello, 1},
	{"hello-garbage", play_hello_garbage, 0},
	{"script", play_script, 1},
	{"silent", play_silent, 1},
};

static const struct scenario *scenario_find(const char *name)
{
	for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	return NULL;
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: wspeer --url http://127.0.0.1:PORT --scenario NAME\n"
		"              [--key KEY | --key-file F] [--host-type T] [--name N]\n"
		"              [--path P] [--platform P]... [--capacity N]\n"
		"              [--wait SECS] [--timeout SECS]\n"
		"              [--send STEP]... [--job J] [--attempt A] [--seq N]\n"
		"              [--data TEXT] [--exit N] [--artifact NAME:SHA256:SIZE]...\n"
		"scenarios: garbage text oversize hugemap nohello badhello hello\n"
		"           hello-garbage silent (upgrade, then say nothing)\n"
		"           script (the --send steps in order, then listen --wait)\n"
		"steps: hello (and wait for welcome), wait-run, pause:SECS, hb,\n"
		"       started, log (--seq, --data), done (--exit, --artifact),\n"
		"       ack; about --job/--attempt, else the last run's\n");
	exit(2);
}

static char *read_key(const char *file)
{
	static char key[256];
	FILE *f = fopen(file, "r");

	if (!f || !fgets(key, sizeof key, f)) {
		fprintf(stderr, "wspeer: cannot read %s\n", file);
		exit(2);
	}
	fclose(f);
	key[strcspn(key, "\r\n")] = '\0';
	return key;
}

static void parse_artifact(struct options *o, char *arg)
{
	struct proto_artifact *a = &o->artifacts[o->n_artifacts];
	char *c1 = strchr(arg, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (!c2 || o->n_artifacts == MAX_ARTIFACTS)
		usage();
	*c1 = *c2 = '\0';
	a->name = arg;
	a->sha256 = c1 + 1;
	a->size = atoll(c2 + 1);
	o->n_artifacts++;
}

static void parse_url(struct options *o, const char *url)
{
	const char *hp = strstr(url, "://");

	hp = hp ? hp + 3 : url;
	if (sscanf(hp, "%63[^:/]:%d", o->host, &o->port) != 2 || o->port <= 0 ||
	    o->port > 65535) {
		fprintf(stderr, "wspeer: bad --url %s\n", url);
		exit(2);
	}
}

static void parse_args(struct options *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'u'},
		{"key", required_argument, NULL, 'k'},
		{"key-file", required_argument, NULL, 'K'},
		{"host-type", required_argument, NULL, 'H'},
		{"name", required_argument, NULL, 'n'},
		{"path", required_argument, NULL, 'p'},
		{"platform", required_argument, NULL, 'P'},
		{"capacity", required_argument, NULL, 'c'},
		{"scenario", required_argument, NULL, 's'},
		{"wait", required_argument, NULL, 'w'},
		{"timeout", required_argument, NULL, 't'},
		{"send", required_argument, NULL, 'S'},
		{"job", required_argument, NULL, 'j'},
		{"attempt", required_argument, NULL, 'a'},
		{"seq", required_argument, NULL, 'q'},
		{"data", required_argument, NULL, 'd'},
		{"exit", required_argument, NULL, 'x'},
		{"artifact", required_argument, NULL, 'A'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct options){.path = "/buildlet", .key = "", .host_type = "linux-amd64",
			      .name = "wspeer", .capacity = 1, .wait_s = 5,
			      .timeout_s = 10, .data = ""};
	o->platforms = calloc((size_t)argc, sizeof(char *));
	o->steps = calloc((size_t)argc, sizeof(char *));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': parse_url(o, optarg); break;
		case 'k': o->key = optarg; break;
		case 'K': o->key = read_key(optarg); break;
		case 'H': o->host_type = optarg; break;
		case 'n': o->name = optarg; break;
		case 'p': o->path = optarg; break;
		case 'P': o->platforms[o->n_platforms++] = optarg; break;
		case 'c': o->capacity = atoi(optarg); break;
		case 's': o->scenario = optarg; break;
		case 'w': o->wait_s = atoi(optarg); break;
		case 't': o->timeout_s = atoi(optarg); break;
		case 'S': o->steps[o->n_steps++] = optarg; break;
		case 'j': o->job = atoll(optarg); break;
		case 'a': o->attempt = atoi(optarg); break;
		case 'q': o->seq = atoll(optarg); break;
		case 'd': o->data = optarg; break;
		case 'x': o->exit_code = atoi(optarg); break;
		case 'A': parse_artifact(o, optarg); break;
		default: usage();
		}
	}
	if (optind != argc || !o->port || !o->scenario || o->timeout_s <= 0)
		usage();
	for (size_t i = 0; i < o->n_steps; i++)
		if (!step_known(o->steps[i])) {
			fprintf(stderr, "wspeer: unknown step %s\n", o->steps[i]);
			usage();
		}
}

int main(int argc, char **argv)
{
	struct options o;
	const struct scenario *sc;
	struct peer p = {.fd = -1, .state = PEER_OPEN, .o = &o};
	int rc = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(&o, argc, argv);
	sc = scenario_find(o.scenario);
	if (!sc)
		usage();
	buf_init(&p.rx, 0, RX_MAX);
	buf_init(&p.msg, 0, RX_MAX);
	p.fd = dial(&o);
	if (p.fd < 0)
		goto out;
	rc = 0;
	if (upgrade(&p) != 101)
		goto out;
	sc->play(&p);
	if (sc->listen_for_wait) {
		rx_until(&p, o.wait_s * 1000, NULL);
		if (p.state == PEER_OPEN)
			send_frame(&p, WS_CLOSE, "\x03\xe8", 2); /* 1000 normal */
	} else if (!rx_until(&p, o.timeout_s * 1000, NULL) && p.state == PEER_OPEN) {
		printf("timeout\n");
	}
out:
	if (p.fd >= 0)
		close(p.fd);
	buf_free(&p.rx);
	buf_free(&p.msg);
	free(o.platforms);
	free(o.steps);
	return rc;
}
