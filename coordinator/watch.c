/*
 * watch.c - the commit watcher's thread (see watch.h). One thread polls
 * the repositories in turn (gitpoll.c) and posts what it found; it holds
 * w->mu only to pick a repository and to post a result, and works on a
 * copy in between, so the loop never waits for git.
 *
 * What the thread thinks each branch's head is ("known") is only a hint:
 * postsubmit.c records a commit once (UNIQUE in SQLite) and makes a
 * cell's build only if it has none, so a poll that repeats work adds
 * nothing, and one whose report was lost (a crash before the commit) is
 * redone from the heads in the store at the next start.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "gitpoll.h"
#include "list.h"
#include "log.h"
#include "watch.h"
#include "xalloc.h"

#define POLL_DEFAULT_MS 60000
#define IDLE_WAIT_MS 1000 /* longest sleep: a stop is seen this fast */

/* A watched repository as the thread sees it. */
struct wrepo {
	int64_t id;                  /* store id */
	char *url;
	char *mirror;                /* <data>/mirrors/<hash>.git */
	char **branches;             /* configured, or none: the default */
	size_t n_branches;
	int64_t poll_ms;
	int64_t due_ms;              /* monotonic: next poll, 0 = now */
	struct gitpoll_head *known;  /* heads as last seen */
	size_t n_known, cap_known;
};

/* A report waiting for the loop. */
struct wevent {
	struct list link;
	int64_t repo;
	char *error;                 /* why the poll failed; NULL if it did not */
	struct watch_branch *branches;
	size_t n;
};

struct watch {
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;           /* repos changed, a kick, or stop */
	volatile int stop;           /* also cancels a running git */
	struct wrepo *repos;         /* under mu */
	size_t n_repos;
	struct list events;          /* struct wevent, under mu */
	struct lws_context *ctx;     /* woken when an event is posted */
};

/* ---- repositories ---- */

static void wrepo_free(struct wrepo *r)
{
	free(r->url);
	free(r->mirror);
	for (size_t i = 0; i < r->n_branches; i++)
		free(r->branches[i]);
	free(r->branches);
	free(r->known);
	memset(r, 0, sizeof *r);
}

static void wrepos_free(struct wrepo *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		wrepo_free(&v[i]);
	free(v);
}

static void set_known(struct wrepo *r, const char *branch, const char *hash)
{
	struct gitpoll_head *h = NULL;

	for (size_t i = 0; i < r->n_known && !h; i++)
		if (!strcmp(r->known[i].branch, branch))
			h = &r->known[i];
	if (!h)
		h = xarray_push(&r->known, &r->n_known, &r->cap_known,
				sizeof *r->known);
	snprintf(h->branch, sizeof h->branch, "%s", branch);
	snprintf(h->hash, sizeof h->hash, "%s", hash);
}

static const char *known_head(const struct wrepo *r, const char *branch)
{
	for (size_t i = 0; i < r->n_known; i++)
		if (!strcmp(r->known[i].branch, branch))
			return r->known[i].hash;
	return "";
}

/* A deep copy, for the thread to work on without the lock. */
static void wrepo_copy(struct wrepo *dst, const struct wrepo *src)
{
	*dst = *src;
	dst->url = xstrdup(src->url);
	dst->mirror = xstrdup(src->mirror);
	dst->branches = xcalloc(src->n_branches + 1, sizeof *dst->branches);
	for (size_t i = 0; i < src->n_branches; i++)
		dst->branches[i] = xstrdup(src->branches[i]);
	dst->known = NULL;
	dst->n_known = dst->cap_known = 0;
	for (size_t i = 0; i < src->n_known; i++)
		set_known(dst, src->known[i].branch, src->known[i].hash);
}

/* ---- the thread ---- */

static void wevent_free(struct wevent *e)
{
	for (size_t i = 0; i < e->n; i++)
		gitpoll_commits_free(&e->branches[i].commits, e->branches[i].n);
	free(e->branches);
	free(e->error);
	free(e);
}

/* The new commits of each head that moved. */
static rc_t new_commits(const struct gitpoll_dir *m, const struct wrepo *r,
			struct gitpoll_head *heads, size_t n, struct wevent *e,
			struct errbuf *eb)
{
	size_t cap = 0;
	rc_t rc = RC_OK;

	for (size_t i = 0; i < n && !rc; i++) {
		struct watch_branch *b = xarray_push(&e->branches, &e->n, &cap,
						sizeof *e->branches);

		b->head = heads[i];
		rc = gitpoll_new_commits(m, heads[i].hash,
					 known_head(r, heads[i].branch),
					 &b->commits, &b->n, &b->skipped, eb);
	}
	return rc;
}

/* Keep only the heads that differ from what r knows. */
static size_t moved_heads(const struct wrepo *r, struct gitpoll_head *h,
			  size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(known_head(r, h[i].branch), h[i].hash))
			h[k++] = h[i];
	return k;
}

static struct wevent *poll_repo(struct watch *w, const struct wrepo *r)
{
	struct gitpoll_dir m = {r->mirror, &w->stop};
	struct wevent *e = xcalloc(1, sizeof *e);
	struct gitpoll_head *heads = NULL;
	struct errbuf eb = {""};
	size_t n = 0;
	rc_t rc;

	e->repo = r->id;
	rc = gitpoll_mirror_init(&m, &eb);
	if (!rc)
		rc = gitpoll_heads(&m, r->url, (const char *const *)r->branches,
				   r->n_branches, &heads, &n, &eb);
	if (!rc && !n)
		errbuf_set(&eb, "%s has none of the branches to build",
			   r->url), rc = RC_NOT_FOUND;
	if (!rc && (n = moved_heads(r, heads, n)))
		rc = gitpoll_fetch(&m, r->url, heads, n, &eb);
	if (!rc)
		rc = new_commits(&m, r, heads, n, e, &eb);
	if (rc)
		e->error = xstrdup(eb.msg[0] ? eb.msg : rc_str(rc));
	free(heads);
	return e;
}

/* The repository to poll next (due first), or NULL; *wait_ms how long
 * until one is due. */
static struct wrepo *next_due(struct watch *w, int64_t now, int64_t *wait_ms)
{
	struct wrepo *best = NULL;

	*wait_ms = IDLE_WAIT_MS;
	for (size_t i = 0; i < w->n_repos; i++) {
		struct wrepo *r = &w->repos[i];

		if (!best || r->due_ms < best->due_ms)
			best = r;
	}
	if (best && best->due_ms > now) {
		if (best->due_ms - now < *wait_ms)
			*wait_ms = best->due_ms - now;
		return NULL;
	}
	return best;
}

static void cond_wait_ms(struct watch *w, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

/* Under mu: note what the poll saw and hand the event to the loop. */
static void post(struct watch *w, struct wevent *e)
{
	struct wrepo *r = NULL;

	for (size_t i = 0; i < w->n_repos && !r; i++)
		if (w->repos[i].id == e->repo)
			r = &w->repos[i];
	if (r) {
		/* A kick during the poll (due 0) still polls again. */
		if (r->due_ms)
			r->due_ms = clock_mono_ms() + r->poll_ms;
		for (size_t i = 0; !e->error && i < e->n; i++)
			set_known(r, e->branches[i].head.branch,
				  e->branches[i].head.hash);
	}
	list_add_tail(&w->events, &e->link);
}

static void *watch_main(void *ud)
{
	struct watch *w = ud;

	log_set_component("watch");
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		int64_t wait;
		struct wrepo *r = next_due(w, clock_mono_ms(), &wait), copy;
		struct wevent *e;

		if (!r) {
			cond_wait_ms(w, wait);
			continue;
		}
		r->due_ms = clock_mono_ms() + r->poll_ms;
		wrepo_copy(&copy, r);
		pthread_mutex_unlock(&w->mu);
		e = poll_repo(w, &copy);
		wrepo_free(&copy);
		pthread_mutex_lock(&w->mu);
		post(w, e);
		if (w->ctx)
			lws_cancel_service(w->ctx);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* ---- the loop's side ---- */

struct watch *watch_new(struct lws_context *ctx)
{
	struct watch *w = xcalloc(1, sizeof *w);

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	list_init(&w->events);
	w->ctx = ctx;
	if (pthread_create(&w->thread, NULL, watch_main, w))
		log_error("cannot start the commit watcher: %s", strerror(errno));
	else
		w->started = 1;
	return w;
}

void watch_free(struct watch **wp)
{
	struct watch *w = *wp;
	struct list *l;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started)
		pthread_join(w->thread, NULL);
	while ((l = list_pop(&w->events)))
		wevent_free(list_entry(l, struct wevent, link));
	wrepos_free(w->repos, w->n_repos);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	*wp = NULL;
}

static const struct wrepo *find(const struct watch *w, int64_t id)
{
	for (size_t i = 0; i < w->n_repos; i++)
		if (w->repos[i].id == id)
			return &w->repos[i];
	return NULL;
}

static void wrepo_from(struct wrepo *r, const struct watch_repo *in,
		       const struct wrepo *old, int64_t now)
{
	memset(r, 0, sizeof *r);
	r->id = in->id;
	r->url = xstrdup(in->url);
	r->mirror = xstrdup(in->mirror);
	r->branches = xcalloc(in->n_branches + 1, sizeof *r->branches);
	for (size_t i = 0; i < in->n_branches; i++)
		r->branches[r->n_branches++] = xstrdup(in->branches[i]);
	r->poll_ms = in->poll_ms > 0 ? in->poll_ms : POLL_DEFAULT_MS;
	r->due_ms = now;
	if (old && old->poll_ms == r->poll_ms)
		r->due_ms = old->due_ms;
	for (size_t i = 0; i < in->n_known; i++)
		set_known(r, in->known[i].branch, in->known[i].hash);
	/* What the thread saw since the store was read is newer. */
	for (size_t i = 0; old && i < old->n_known; i++)
		set_known(r, old->known[i].branch, old->known[i].hash);
}

void watch_set_repos(struct watch *w, const struct watch_repo *v, size_t n)
{
	struct wrepo *next = xcalloc(n + 1, sizeof *next);
	int64_t now = clock_mono_ms();

	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < n; i++)
		wrepo_from(&next[i], &v[i], find(w, v[i].id), now);
	wrepos_free(w->repos, w->n_repos);
	w->repos = next;
	w->n_repos = n;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

size_t watch_kick(struct watch *w, int64_t id)
{
	size_t kicked = 0;

	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->n_repos; i++)
		if (!id || w->repos[i].id == id) {
			w->repos[i].due_ms = 0;
			kicked++;
		}
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return kicked;
}

void watch_drain(struct watch *w,
		 void (*cb)(void *ud, const struct watch_event *e), void *ud)
{
	struct list taken, *l;

	list_init(&taken);
	pthread_mutex_lock(&w->mu);
	while ((l = list_pop(&w->events)))
		list_add_tail(&taken, l);
	pthread_mutex_unlock(&w->mu);
	while ((l = list_pop(&taken))) {
		struct wevent *e = list_entry(l, struct wevent, link);
		struct watch_event pub = {e->repo, e->error, e->branches, e->n};

		cb(ud, &pub);
		wevent_free(e);
	}
}
