/*
 * peers.h - what the coordinator remembers about each peer address: how
 * many connections it holds (capped, so one address cannot take every
 * file descriptor) and how many buildlet handshakes it failed lately
 * (rate-limited, so credentials cannot be guessed at line speed).
 *
 * Pure bookkeeping, no I/O: the caller turns an address into text and
 * says when sockets open and close. Addresses are compared as text, with
 * IPv4-mapped IPv6 ("::ffff:10.0.0.1") folded into plain IPv4.
 */
#ifndef RFARM_PEERS_H
#define RFARM_PEERS_H

#include <stddef.h>
#include <stdint.h>

#define PEER_ADDR_MAX 64

struct peers_limits {
	int max_conns;       /* open connections per address; 0 = no cap */
	int max_failures;    /* failed handshakes per window; 0 = no limit */
	int64_t window_ms;   /* how long failures are remembered */
};

struct peers;

struct peers *peers_new(const struct peers_limits *lim);
void peers_free(struct peers **p);

/*
 * A connection from addr was accepted on fd. Returns 0 when it is
 * admitted (and counted until peers_disconnect(fd)), 1 when addr already
 * holds max_conns connections (nothing is counted).
 */
int peers_connect(struct peers *p, int fd, const char *addr);
/* fd was closed: uncount it if peers_connect admitted it. */
void peers_disconnect(struct peers *p, int fd);
/* Open connections counted for addr. */
int peers_conns(struct peers *p, const char *addr);

/*
 * A handshake from addr failed at now_ms. Returns 1 exactly when this
 * failure reaches the limit (say so once in the log), else 0.
 */
int peers_fail(struct peers *p, const char *addr, int64_t now_ms);
/* Seconds addr must wait before it may try again; 0: it may now. */
int peers_blocked(struct peers *p, const char *addr, int64_t now_ms);

/* Forget addresses with no connection and no failure in the window. */
void peers_sweep(struct peers *p, int64_t now_ms);

/* Write the canonical text of addr (folding IPv4-mapped IPv6) to out. */
void peers_addr_fold(const char *addr, char *out, size_t n);

#endif
