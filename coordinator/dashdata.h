/*
 * dashdata.h - the dashboard's pages, built from the store alone.
 *
 * Each function here reads what one page shows from the store into the
 * plain structs of dashboard.h and has the dashboard write it. Nothing
 * here knows struct coord: the coordinator (dash.c, which decides *when*
 * a page is rewritten) and `rfarm dashboard` (which rewrites them all from
 * a database on disk) share it. What only a running coordinator knows
 * (which buildlets are connected) comes in through struct dashdata.
 */
#ifndef RFARM_COORD_DASHDATA_H
#define RFARM_COORD_DASHDATA_H

#include <stddef.h>
#include <stdint.h>

#include "dashboard.h"
#include "rc.h"
#include "store.h"

#define DASHDATA_QUEUE_MAX 1000   /* jobs on queue.html */
#define DASHDATA_FAILURES 50      /* jobs on failures.html */
#define DASHDATA_TAIL_LINES 20    /* log lines per failure */

struct dashdata {
	struct store *store;       /* read from */
	const char *dir;           /* pages go here */
	struct dash_header h;      /* the line on top of every page; the
				      caller may set h.alerts (offline:
				      none, nothing is connected) */
	/* How a connected buildlet proved itself ("enrolled", "key",
	 * "open"), NULL if it has no session. NULL offline: nothing is
	 * connected. */
	const char *(*session_how)(void *ud, const char *name);
	/* When a buildlet was last heard from, given what the store says
	 * (which lags for a connected one); NULL: the store's. */
	int64_t (*last_seen)(void *ud, const char *name, int64_t stored);
	void *ud;                  /* for session_how, last_seen */
	/* Where running jobs' pages counted their logs to, so the next
	 * page of one reads on from there (NULL: every page reads its
	 * log from the start). The coordinator keeps one across turns. */
	struct dashdata_logcache *logcache;
	int64_t log_read;          /* log bytes read from the store for
				      job pages so far */
	size_t pages;              /* pages written so far (a page and its
				      twin, .json or .log, count as one) */
};

struct dashdata_logcache *dashdata_logcache_new(void);
void dashdata_logcache_free(struct dashdata_logcache **lc);

/* Fill d->h: queued jobs from the store, now_ms, and connected. */
void dashdata_header(struct dashdata *d, int connected, int64_t now_ms);

/* Index page `page` (1: index.html and index.json, 2: page-2.html ...);
 * *n_pages (may be NULL) gets how many pages there are. A page past the
 * end writes nothing. */
rc_t dashdata_index(struct dashdata *d, int page, int *n_pages,
		    struct errbuf *eb);
/* Remove page-N.html files from N = n_pages + 1 on (after a purge). */
void dashdata_prune_pages(struct dashdata *d, int n_pages);
/* The index page that shows build id (1 for the newest 50), 0 if the
 * store cannot say. */
int dashdata_page_of(struct dashdata *d, int64_t build);

/* builds/ID.html and .json; with jobs, every job page of the build too.
 * *commit (may be NULL) gets the watched commit it builds, 0 if none.
 * RC_NOT_FOUND if there is no such build. */
rc_t dashdata_build(struct dashdata *d, int64_t id, int jobs,
		    int64_t *commit, struct errbuf *eb);
/* jobs/ID.html (the tail of the log, DASH_LOG_TAIL_BYTES) and, once the
 * job has ended, jobs/ID.log (the whole log, streamed; while it runs the
 * API serves it and the page links there). *build (may be NULL) gets its build id and
 * *final whether it has ended. RC_NOT_FOUND if there is no such job. */
rc_t dashdata_job(struct dashdata *d, int64_t id, int64_t *build, int *final,
		  struct errbuf *eb);

rc_t dashdata_buildlets(struct dashdata *d, struct errbuf *eb);
rc_t dashdata_queue(struct dashdata *d, struct errbuf *eb);
rc_t dashdata_failures(struct dashdata *d, struct errbuf *eb);

/* repos/index.html: every repository with its poll state and commits. */
rc_t dashdata_repos(struct dashdata *d, struct errbuf *eb);
/* Page `page` of a repository's matrix by commit (1: repos/ID.html and
 * repos/ID.json, 2: repos/ID-page-2.html ...); *n_pages (may be NULL)
 * gets how many there are. Columns: the repository's builders as last
 * synced from the config, then any other builder its cells have. A page
 * past the end writes nothing; RC_NOT_FOUND if there is no such repo. */
rc_t dashdata_repo(struct dashdata *d, int64_t repo, int page, int *n_pages,
		   struct errbuf *eb);
/* The page of its repository that shows commit (1 for the newest 50),
 * and *repo that repository; 0 (and *repo 0) if the store cannot say. */
int dashdata_repo_page_of(struct dashdata *d, int64_t commit, int64_t *repo);

/* Every page: assets, index pages, builds with their jobs, buildlets,
 * queue, failures, repositories. Goes on past a page that fails (the
 * first error is returned, in eb). */
rc_t dashdata_all(struct dashdata *d, struct errbuf *eb);

#endif
