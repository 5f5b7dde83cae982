/* peers.c - per-address connection counts and handshake failures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "peers.h"
#include "xalloc.h"

#define N_BUCKETS 4096 /* chains stay short: entries live only while used */

struct peer {
	struct peer *next;      /* in its bucket */
	char addr[PEER_ADDR_MAX];
	int conns;              /* open connections */
	int failures;           /* failed handshakes in the current window */
	int64_t window_ms;      /* when that window began */
};

struct peers {
	struct peers_limits lim;
	struct peer *bucket[N_BUCKETS];
	struct peer **by_fd;    /* fd -> the peer it is counted for */
	size_t n_fd;            /* room in by_fd */
};

struct peers *peers_new(const struct peers_limits *lim)
{
	struct peers *p = xcalloc(1, sizeof *p);

	p->lim = *lim;
	return p;
}

void peers_free(struct peers **pp)
{
	struct peers *p = *pp;

	if (!p)
		return;
	for (size_t i = 0; i < N_BUCKETS; i++)
		while (p->bucket[i]) {
			struct peer *e = p->bucket[i];

			p->bucket[i] = e->next;
			free(e);
		}
	free(p->by_fd);
	free(p);
	*pp = NULL;
}

void peers_addr_fold(const char *addr, char *out, size_t n)
{
	if (!strncasecmp(addr, "::ffff:", 7) && strchr(addr + 7, '.'))
		addr += 7;
	snprintf(out, n, "%s", addr);
}

static struct peer **slot(struct peers *p, const char *addr)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	struct peer **e;

	for (const char *s = addr; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	for (e = &p->bucket[h % N_BUCKETS]; *e; e = &(*e)->next)
		if (!strcmp((*e)->addr, addr))
			break;
	return e;
}

static struct peer *find(struct peers *p, const char *addr, int create)
{
	char key[PEER_ADDR_MAX];
	struct peer **e;

	peers_addr_fold(addr, key, sizeof key);
	e = slot(p, key);
	if (!*e && create) {
		*e = xcalloc(1, sizeof **e);
		memcpy((*e)->addr, key, sizeof key);
	}
	return *e;
}

/* Drop e once nothing about it is worth remembering. */
static void forget_if_idle(struct peers *p, struct peer *e, int64_t now_ms)
{
	struct peer **s;

	if (e->conns || (e->failures && now_ms - e->window_ms < p->lim.window_ms))
		return;
	s = slot(p, e->addr);
	*s = e->next;
	free(e);
}

int peers_connect(struct peers *p, int fd, const char *addr)
{
	struct peer *e;

	if (fd < 0)
		return 0;
	peers_disconnect(p, fd); /* a reused fd whose close we never saw */
	e = find(p, addr, 1);
	if (p->lim.max_conns && e->conns >= p->lim.max_conns)
		return 1;
	if ((size_t)fd >= p->n_fd) {
		size_t n = (size_t)fd * 2 + 64;

		p->by_fd = xrealloc(p->by_fd, n * sizeof *p->by_fd);
		memset(p->by_fd + p->n_fd, 0, (n - p->n_fd) * sizeof *p->by_fd);
		p->n_fd = n;
	}
	e->conns++;
	p->by_fd[fd] = e;
	return 0;
}

void peers_disconnect(struct peers *p, int fd)
{
	struct peer *e;

	if (fd < 0 || (size_t)fd >= p->n_fd || !(e = p->by_fd[fd]))
		return;
	p->by_fd[fd] = NULL;
	e->conns--;
	/* failures keep it; a sweep forgets it once they are old */
	if (!e->conns && !e->failures)
		forget_if_idle(p, e, 0);
}

int peers_conns(struct peers *p, const char *addr)
{
	struct peer *e = find(p, addr, 0);

	return e ? e->conns : 0;
}

int peers_fail(struct peers *p, const char *addr, int64_t now_ms)
{
	struct peer *e = find(p, addr, 1);

	if (!e->failures || now_ms - e->window_ms >= p->lim.window_ms) {
		e->failures = 0;
		e->window_ms = now_ms;
	}
	e->failures++;
	return p->lim.max_failures && e->failures == p->lim.max_failures;
}

int peers_blocked(struct peers *p, const char *addr, int64_t now_ms)
{
	struct peer *e = find(p, addr, 0);
	int64_t left;

	if (!e || !p->lim.max_failures || e->failures < p->lim.max_failures)
		return 0;
	left = e->window_ms + p->lim.window_ms - now_ms;
	return left > 0 ? (int)((left + 999) / 1000) : 0;
}

void peers_sweep(struct peers *p, int64_t now_ms)
{
	for (size_t i = 0; i < N_BUCKETS; i++) {
		struct peer *e = p->bucket[i], *next;

		for (; e; e = next) {
			next = e->next;
			if (e->failures && now_ms - e->window_ms >= p->lim.window_ms)
				e->failures = 0;
			forget_if_idle(p, e, now_ms);
		}
	}
}
