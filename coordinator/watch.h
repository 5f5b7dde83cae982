/*
 * watch.h - the commit watcher's thread: polls watched repositories with
 * git and reports what it found. It knows nothing of the coordinator;
 * postsubmit.c feeds it the repositories of the config and turns its
 * reports into commits and builds on the event loop.
 */
#ifndef RFARM_WATCH_H
#define RFARM_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "gitpoll.h"

/* A repository to watch. */
struct watch_repo {
	int64_t id;                       /* the store's id */
	const char *url;
	const char *mirror;               /* bare mirror directory */
	const char *const *branches;      /* none: the remote's default */
	size_t n_branches;
	int64_t poll_ms;                  /* between polls */
	const struct gitpoll_head *known; /* recorded heads */
	size_t n_known;
};

/* What a branch that moved brought. */
struct watch_branch {
	struct gitpoll_head head;        /* where it is now */
	struct gitpoll_commit *commits;  /* new commits, oldest first */
	size_t n;
	size_t skipped;                  /* older new ones left out */
};

/* The result of one poll. */
struct watch_event {
	int64_t repo;
	const char *error;               /* why it failed, NULL if it did not */
	const struct watch_branch *branches;
	size_t n;
};

struct watch;

/* Start the thread; it wakes ctx's loop (lws_cancel_service) when it has
 * something to report. */
struct watch *watch_new(struct lws_context *ctx);
/* Stop the thread (a running git is killed) and free everything. */
void watch_free(struct watch **w);
/* Watch exactly these (copied). A repository that was watched keeps
 * its schedule and what it knows; a new one is polled at once. */
void watch_set_repos(struct watch *w, const struct watch_repo *v, size_t n);
/* Poll repository id (0: every one) now; how many were kicked. */
size_t watch_kick(struct watch *w, int64_t id);
/* Hand each report to cb, oldest first, and forget it. */
void watch_drain(struct watch *w,
		 void (*cb)(void *ud, const struct watch_event *e), void *ud);

#endif
