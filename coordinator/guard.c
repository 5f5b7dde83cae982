/*
 * guard.c - what stands before a request is read: the per-address
 * connection cap, the header size cap and the buildlet upgrade gate (who
 * it is, failed-handshake rate limit, handshakes per second).
 *
 * Refusals say why. An upgrade refusal carries the reason in an
 * x-rfarm-reason header (a WebSocket client sees headers, not bodies);
 * a connection over the per-address cap is answered with a plain 503
 * written straight to the socket before it is closed, since no request
 * has been read yet (over TLS it is just closed).
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "internal.h"
#include "log.h"
#include "peers.h"

#define SWEEP_EVERY_MS 10000
#define REASON_HDR "x-rfarm-reason:"

struct peers *guard_new(const struct coord_config *cfg)
{
	struct peers_limits lim = {cfg->max_conns_per_addr,
				   cfg->max_auth_failures, 60000};

	return peers_new(&lim);
}

void guard_sweep(struct coord *c, int64_t now_ms)
{
	if (now_ms - c->peers_swept_ms < SWEEP_EVERY_MS)
		return;
	c->peers_swept_ms = now_ms;
	peers_sweep(c->peers, now_ms);
}

/* Say "too many connections" at most once a second: a flood must not
 * become a flood of log lines. */
static void log_refused_conn(struct coord *c, const char *addr)
{
	int64_t now = clock_mono_ms();

	c->conns_refused++;
	if (now - c->conns_refused_logged_ms < 1000)
		return;
	log_warn("refusing connections from %s: it holds %d, the limit "
		 "(--max-conns-per-addr); %llu refused so far", addr,
		 peers_conns(c->peers, addr),
		 (unsigned long long)c->conns_refused);
	c->conns_refused_logged_ms = now;
}

static void write_busy(int fd, int limit)
{
	char body[200], msg[400];
	int n = snprintf(body, sizeof body, "{\"error\":{\"code\":\"too_many_"
			 "connections\",\"message\":\"this address holds %d "
			 "connections, the limit\"}}\n", limit);
	int m = snprintf(msg, sizeof msg, "HTTP/1.1 503 Service Unavailable\r\n"
			 "Content-Type: application/json\r\nRetry-After: 5\r\n"
			 "Connection: close\r\nContent-Length: %d\r\n\r\n%s",
			 n, body);

	/* Best effort on a fresh socket: its buffer has room for this. */
	if (send(fd, msg, (size_t)m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return;
	shutdown(fd, SHUT_WR);
}

int guard_accept(struct coord *c, const struct lws_filter_network_conn_args *a)
{
	char host[NI_MAXHOST], addr[PEER_ADDR_MAX];

	if (getnameinfo((const struct sockaddr *)&a->cli_addr, a->clilen, host,
			sizeof host, NULL, 0, NI_NUMERICHOST))
		snprintf(host, sizeof host, "unknown");
	peers_addr_fold(host, addr, sizeof addr);
	if (!peers_connect(c->peers, (int)a->accept_fd, addr))
		return 0;
	log_refused_conn(c, addr);
	if (!c->cfg.tls_cert)
		write_busy((int)a->accept_fd, c->cfg.max_conns_per_addr);
	return -1;
}

void guard_closed(struct coord *c, int fd)
{
	peers_disconnect(c->peers, fd);
}

void guard_peer(struct lws *wsi, char *out, size_t n)
{
	char raw[PEER_ADDR_MAX];

	lws_get_peer_simple(wsi, raw, sizeof raw);
	peers_addr_fold(raw, out, n);
}

int guard_header_bytes(struct lws *wsi)
{
	int total = 0;

	for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
		int n = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);

		if (n > 0)
			total += n;
	}
	return total;
}

/* A refusal with a status, a reason header and, for 503/429, when to
 * come back. Returns what CONFIRM_UPGRADE returns. */
static int refuse_upgrade(struct lws *wsi, unsigned status, int retry_s,
			  const char *why)
{
	unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
					   *end = hdr + sizeof hdr - 1;
	char secs[16];
	size_t n = strlen(why);

	snprintf(secs, sizeof secs, "%d", retry_s);
	if (lws_add_http_common_headers(wsi, status, "text/plain", n + 1, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)REASON_HDR,
					(const unsigned char *)why, (int)n, &p, end) ||
	    (retry_s && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_RETRY_AFTER,
						     (unsigned char *)secs,
						     (int)strlen(secs), &p, end)) ||
	    lws_finalize_http_header(wsi, &p, end))
		return -1;
	if (p + n + 1 < end) {
		memcpy(p, why, n);
		p += n;
		*p++ = '\n';
	}
	if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) < 0)
		return -1;
	return 1;
}

/* A refused handshake: log it with the address; a credential that
 * failed counts against the address. */
static void note_failure(struct coord *c, const char *peer, unsigned status,
			 const char *why)
{
	log_warn("refused buildlet from %s: %s", peer, why);
	if ((status == HTTP_STATUS_UNAUTHORIZED || status == HTTP_STATUS_FORBIDDEN) &&
	    peers_fail(c->peers, peer, clock_mono_ms()))
		log_warn("%s failed %d buildlet handshakes within a minute: it "
			 "must wait before trying again", peer,
			 c->cfg.max_auth_failures);
}

int guard_upgrade(struct coord *c, struct lws *wsi)
{
	struct upgrade_auth who;
	char why[300], peer[64];
	int64_t now = clock_mono_ms();
	unsigned status;
	int wait_s, bytes = guard_header_bytes(wsi);

	guard_peer(wsi, peer, sizeof peer);
	if (bytes > c->cfg.max_header_bytes) {
		snprintf(why, sizeof why, "request headers of %d bytes are over "
			 "the limit of %d", bytes, c->cfg.max_header_bytes);
		return refuse_upgrade(wsi, 431, 0, why);
	}
	if ((wait_s = peers_blocked(c->peers, peer, now))) {
		snprintf(why, sizeof why, "too many failed handshakes from %s; "
			 "try again in %d s", peer, wait_s);
		metrics_handshake_refused(c->metrics);
		return refuse_upgrade(wsi, 429, wait_s, why);
	}
	status = session_authenticate(c, wsi, &who, why, sizeof why);
	if (status) {
		note_failure(c, peer, status, why);
		return refuse_upgrade(wsi, status, 0, why);
	}
	if ((wait_s = session_handshake_admit(c, now))) {
		metrics_handshake_refused(c->metrics);
		return refuse_upgrade(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, wait_s,
				      "the coordinator is admitting buildlets "
				      "slowly; come back later");
	}
	return 0;
}
