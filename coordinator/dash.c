/*
 * dash.c - when the coordinator's dashboard pages are rewritten.
 *
 * Rendering runs off the hot path: what changes only marks pages dirty
 * (dash_mark_*), and the tick rewrites the dirty pages at most every
 * DASH_MIN_INTERVAL_MS (dashdata.c reads them from the store). A job whose
 * state changed rewrites its page, its build's page, the index page that
 * shows the build, the queue and the buildlets (and the failures when it
 * ended); a running job's growing log rewrites its page at most every
 * DASH_LOG_INTERVAL_MS.
 *
 * Work whose size grows with the history is done in slices of at most
 * DASH_SLICE_MS per tick: the index pages after the first when a new build
 * moves every build down one place (the "sweep"), a repository's pages
 * after the first when new commits move its commits down (the "repo
 * sweep"), and at start every build and job page (the "backfill", newest
 * first), so a coordinator with 10,000 builds starts serving at once and
 * the loop never stalls.
 *
 * A repository's page shows the cells of its commits: a job of a build
 * of a commit rewrites the page that holds that commit. Every page starts
 * with the banner of host types short of machines (config "expected" vs
 * connected sessions): when that banner changes (a buildlet came or went,
 * the config was reloaded) the pages people watch are rewritten with it:
 * index.html, buildlets, queue, failures, repos/index.html and each
 * repository's first page.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "dashdata.h"
#include "internal.h"
#include "log.h"
#include "xalloc.h"

#define DASH_MIN_INTERVAL_MS 500  /* debounce of dirty pages */
#define DASH_LOG_INTERVAL_MS 2000 /* a growing log's page, per job */
#define DASH_SLICE_MS 50          /* sweep and backfill work per tick */
/* Renders take at most about a quarter of the loop: after one that took
 * W ms the next waits DASH_WORK_SHARE * W (up to DASH_MAX_INTERVAL_MS).
 * A busy farm's pages then come less often and each job's page more
 * likely once, ended, instead of queued and again ended. */
#define DASH_WORK_SHARE 3
#define DASH_MAX_INTERVAL_MS 5000
#define DASH_BACKFILL_STEP 10     /* builds read at a time by the backfill */

/* A set of ids: appended freely, sorted and made unique when used. */
struct idset {
	int64_t *v;
	size_t n, cap;
};

/* A page of a repository's matrix. */
struct rpage {
	int64_t repo;        /* repository id */
	int page;            /* from 1 */
};

/* A repository whose later pages are being rewritten, or were. */
struct rsweep {
	int64_t repo;        /* repository id */
	int64_t commits;     /* its commits when last swept */
	int next;            /* next page to write, 0: none due */
	int n_pages;         /* at the last count */
};

/* A running job whose log grew. */
struct logmark {
	int64_t job;         /* job id */
	int64_t rendered_ms; /* monotonic time its page was last written */
	int pending;         /* it grew since */
};

struct dash {
	struct idset jobs;        /* job pages to rewrite */
	struct idset builds;      /* build pages to rewrite */
	struct idset new_builds;  /* of those, new ones: their job pages too */
	struct idset pages;       /* index pages to rewrite */
	struct logmark *logs;     /* running jobs with a growing log */
	size_t n_logs, cap_logs;
	int queue, failures, buildlets; /* those pages are dirty */
	struct idset repos;       /* repositories whose first page is dirty */
	struct rpage *rpages;     /* other repository pages to rewrite */
	size_t n_rpages, cap_rpages;
	struct rsweep *rsweeps;   /* per repository: its later pages */
	size_t n_rsweeps, cap_rsweeps;
	int repo_list;            /* repos/index.html is dirty */
	struct dash_alert *alerts; /* host types short of machines, this tick */
	size_t n_alerts, cap_alerts;
	char *alert_sig;          /* what the banner said last: a change
				     rewrites the pages showing it */
	int64_t farm_ms;          /* c->farm_loaded_ms when last seen */
	int shift;                /* builds moved between index pages */
	int sweep;                /* next index page of the sweep, 0: none */
	int again;                /* builds moved during the sweep: another */
	int n_pages;              /* index pages at the last count */
	int prune;                /* remove pages past n_pages after the sweep */
	int64_t backfill;         /* start: builds below this id are still
				     to be written; 0: done */
	int64_t rendered_ms;      /* monotonic time of the last render */
	int64_t work_ms;          /* how long the last render took */
	struct dashdata_logcache *logcache; /* running jobs' logs: where
				     their pages counted them to */
	char last_error[256];     /* logged once until it changes */
};

static void idset_add(struct idset *s, int64_t id)
{
	*(int64_t *)xarray_push(&s->v, &s->n, &s->cap, sizeof *s->v) = id;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort and drop repeats; returns how many are left. */
static size_t idset_unique(struct idset *s)
{
	size_t k = 0;

	if (s->n < 2)
		return s->n; /* v may be NULL: qsort must not see it */
	qsort(s->v, s->n, sizeof *s->v, cmp_id);
	for (size_t i = 0; i < s->n; i++)
		if (!k || s->v[k - 1] != s->v[i])
			s->v[k++] = s->v[i];
	s->n = k;
	return k;
}

static int idset_has(const struct idset *s, int64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return 1;
	return 0;
}

static int dirty(const struct dash *d)
{
	return d->jobs.n || d->builds.n || d->pages.n || d->queue ||
	       d->failures || d->buildlets || d->shift || d->repos.n ||
	       d->n_rpages || d->repo_list;
}

/* ---- marks ---- */

void dash_mark_build(struct coord *c, int64_t build, int is_new)
{
	idset_add(&c->dash->builds, build);
	if (is_new) {
		idset_add(&c->dash->new_builds, build);
		c->dash->shift = 1;
		c->dash->queue = 1;
	}
}

void dash_mark_job(struct coord *c, int64_t job)
{
	idset_add(&c->dash->jobs, job);
}

void dash_mark_log(struct coord *c, int64_t job)
{
	struct dash *d = c->dash;

	for (size_t i = 0; i < d->n_logs; i++)
		if (d->logs[i].job == job) {
			d->logs[i].pending = 1;
			return;
		}
	*(struct logmark *)xarray_push(&d->logs, &d->n_logs, &d->cap_logs,
				       sizeof *d->logs) =
		(struct logmark){job, 0, 1};
}

void dash_mark_queue(struct coord *c)
{
	c->dash->queue = 1;
}

void dash_mark_buildlets(struct coord *c)
{
	c->dash->buildlets = 1;
}

void dash_mark_all(struct coord *c)
{
	struct dash *d = c->dash;

	d->shift = d->prune = 1;
	d->queue = d->failures = d->buildlets = 1;
	idset_add(&d->pages, 1);
}

void dash_mark_repo(struct coord *c, int64_t repo)
{
	struct dash *d = c->dash;

	if (!d)
		return;
	idset_add(&d->repos, repo);
	idset_add(&d->pages, 1); /* it lists the watched repositories */
	d->repo_list = 1;
}

static void rpage_add(struct dash *d, int64_t repo, int page)
{
	if (page == 1) {
		idset_add(&d->repos, repo);
		return;
	}
	for (size_t i = 0; i < d->n_rpages; i++)
		if (d->rpages[i].repo == repo && d->rpages[i].page == page)
			return;
	*(struct rpage *)xarray_push(&d->rpages, &d->n_rpages, &d->cap_rpages,
				     sizeof *d->rpages) =
		(struct rpage){repo, page};
}

/* ---- rendering ---- */

static int64_t last_seen(void *ud, const char *name, int64_t stored)
{
	return session_last_seen(ud, name, stored);
}

static const char *session_how(void *ud, const char *name)
{
	struct session *s = session_find(ud, name);

	if (!s)
		return NULL;
	return s->auth.enrolled[0] ? "enrolled" : s->auth.open ? "open" : "key";
}

/* The host types of the config with fewer machines connected than it
 * expects, into d->alerts (borrowing the config's strings: rebuilt every
 * tick, before anything could reload it). */
static void alerts_fill(struct coord *c, struct dash *d)
{
	json_t *types = c->farm ? config_host_types(c->farm) : NULL, *t;
	size_t i;

	d->n_alerts = 0;
	json_array_foreach(types, i, t) {
		const char *name = json_string_value(json_object_get(t, "name"));
		const char *owner = json_string_value(json_object_get(t, "owner"));
		json_int_t want = json_integer_value(json_object_get(t, "expected"));
		int have;

		if (!name || want <= 0)
			continue;
		have = session_count_host_type(c, name);
		if (have >= want)
			continue;
		*(struct dash_alert *)xarray_push(&d->alerts, &d->n_alerts,
						  &d->cap_alerts, sizeof *d->alerts) =
			(struct dash_alert){name, (int)want, have, owner ? owner : ""};
	}
}

static void dd_init(struct coord *c, struct dashdata *dd)
{
	int connected = (int)c->n_named; /* the sessions, without a walk */

	*dd = (struct dashdata){.store = c->store, .dir = c->dash_dir,
				.session_how = session_how,
				.last_seen = last_seen, .ud = c,
				.logcache = c->dash->logcache};
	dashdata_header(dd, connected, clock_wall_ms());
	alerts_fill(c, c->dash);
	dd->h.alerts = c->dash->alerts;
	dd->h.n_alerts = c->dash->n_alerts;
}

/* What the banner says, to tell when it changed. */
static char *alerts_sig(const struct dash *d)
{
	struct buf b;
	char *out;

	buf_init(&b, 0, 0);
	for (size_t i = 0; i < d->n_alerts; i++)
		buf_printf(&b, "%s\x1f%d\x1f%d\x1f%s\x1e", d->alerts[i].host_type,
			   d->alerts[i].expected, d->alerts[i].connected,
			   d->alerts[i].owner);
	out = xstrdup(b.len ? buf_cstr(&b) : "");
	buf_free(&b);
	return out;
}

/* Every repository's first page and repos/index.html. */
static void mark_all_repos(struct dash *d, struct dashdata *dd)
{
	struct store_repo *rows = NULL;
	size_t n = 0;

	d->repo_list = 1;
	if (store_repo_list(dd->store, &rows, &n))
		return;
	for (size_t i = 0; i < n; i++)
		idset_add(&d->repos, rows[i].id);
	store_repo_array_free(&rows, n);
}

/* The banner changed: rewrite the pages people keep open. */
static void alerts_changed(struct dash *d, struct dashdata *dd)
{
	idset_add(&d->pages, 1);
	d->queue = d->failures = d->buildlets = 1;
	mark_all_repos(d, dd);
}

/* Compare the banner of this tick with the last one. */
static void alerts_check(struct dash *d, struct dashdata *dd)
{
	char *sig = alerts_sig(d);

	if (d->alert_sig && !strcmp(sig, d->alert_sig)) {
		free(sig);
		return;
	}
	if (d->alert_sig)
		alerts_changed(d, dd);
	free(d->alert_sig);
	d->alert_sig = sig;
}

/* Log a page that could not be written, once until the reason changes
 * (a full disk would otherwise say so every tick). */
static void report(struct dash *d, rc_t rc, struct errbuf *eb)
{
	if (!rc || rc == RC_NOT_FOUND) {
		eb->msg[0] = '\0';
		return;
	}
	if (strcmp(d->last_error, eb->msg)) {
		log_warn("dashboard: %s", eb->msg[0] ? eb->msg : rc_str(rc));
		snprintf(d->last_error, sizeof d->last_error, "%s", eb->msg);
	}
	eb->msg[0] = '\0';
}

static void render_jobs(struct dash *d, struct dashdata *dd, int64_t now)
{
	struct errbuf eb = {""};
	int64_t build;
	int final;

	idset_unique(&d->jobs);
	for (size_t i = 0; i < d->jobs.n; i++) {
		rc_t rc = dashdata_job(dd, d->jobs.v[i], &build, &final, &eb);

		report(d, rc, &eb);
		if (rc == RC_NOT_FOUND)
			continue;
		idset_add(&d->builds, build);
		d->failures |= final;
	}
	if (d->jobs.n)
		d->queue = d->buildlets = 1;
	/* A job whose page was just written waits for its next log turn. */
	for (size_t i = 0; i < d->n_logs; i++)
		if (idset_has(&d->jobs, d->logs[i].job)) {
			d->logs[i].rendered_ms = now;
			d->logs[i].pending = 0;
		}
	d->jobs.n = 0;
}

/* Growing logs whose turn has come; entries of ended jobs go. */
static void render_logs(struct dash *d, struct dashdata *dd, int64_t now)
{
	struct errbuf eb = {""};
	size_t k = 0;

	for (size_t i = 0; i < d->n_logs; i++) {
		struct logmark *m = &d->logs[i];
		int final = 0;

		if (m->pending && now - m->rendered_ms >= DASH_LOG_INTERVAL_MS) {
			rc_t rc = dashdata_job(dd, m->job, NULL, &final, &eb);

			report(d, rc, &eb);
			m->pending = 0;
			m->rendered_ms = now;
			if (rc == RC_NOT_FOUND)
				final = 1;
		}
		/* Kept while a later line may still be waiting for its turn. */
		if (!final && (m->pending ||
			       now - m->rendered_ms < 10 * DASH_LOG_INTERVAL_MS))
			d->logs[k++] = *m;
	}
	d->n_logs = k;
}

static void render_builds(struct dash *d, struct dashdata *dd)
{
	struct errbuf eb = {""};

	idset_unique(&d->builds);
	idset_unique(&d->new_builds);
	for (size_t i = 0; i < d->builds.n; i++) {
		int64_t id = d->builds.v[i], commit = 0, repo;
		rc_t rc = dashdata_build(dd, id, idset_has(&d->new_builds, id),
					 &commit, &eb);
		int page;

		report(d, rc, &eb);
		if (!rc && (page = dashdata_page_of(dd, id)) > 0)
			idset_add(&d->pages, page);
		/* Its cell on the page of the repository showing the commit. */
		if (!rc && commit && (page = dashdata_repo_page_of(dd, commit,
								    &repo)) > 0)
			rpage_add(d, repo, page);
	}
	d->builds.n = d->new_builds.n = 0;
}

static void render_pages(struct dash *d, struct dashdata *dd)
{
	struct errbuf eb = {""};

	if (d->shift) {
		/* Page 1 now; the others move down one place each and are
		 * rewritten by the sweep. A sweep under way finishes first
		 * (restarting it would starve the last pages). */
		idset_add(&d->pages, 1);
		if (d->sweep)
			d->again = 1;
		else
			d->sweep = 2;
		d->shift = 0;
	}
	idset_unique(&d->pages);
	for (size_t i = 0; i < d->pages.n; i++)
		report(d, dashdata_index(dd, (int)d->pages.v[i], &d->n_pages, &eb),
		       &eb);
	d->pages.n = 0;
}

static struct rsweep *rsweep_of(struct dash *d, int64_t repo)
{
	for (size_t i = 0; i < d->n_rsweeps; i++)
		if (d->rsweeps[i].repo == repo)
			return &d->rsweeps[i];
	return NULL;
}

/* Commits of repo moved down a page boundary since its last sweep: its
 * pages from 2 on are rewritten in slices. */
static void rsweep_check(struct dash *d, struct dashdata *dd, int64_t repo,
			 int n_pages)
{
	struct rsweep *w = rsweep_of(d, repo);
	int64_t commits = store_commit_count(dd->store, repo);

	if (!w) {
		w = xarray_push(&d->rsweeps, &d->n_rsweeps, &d->cap_rsweeps,
				sizeof *d->rsweeps);
		*w = (struct rsweep){repo, -1, 0, 1};
	}
	w->n_pages = n_pages;
	if (commits == w->commits)
		return;
	w->commits = commits;
	if (n_pages > 1)
		w->next = 2;
}

static void render_repos(struct dash *d, struct dashdata *dd)
{
	struct errbuf eb = {""};

	idset_unique(&d->repos);
	for (size_t i = 0; i < d->repos.n; i++) {
		int n_pages = 0;
		rc_t rc = dashdata_repo(dd, d->repos.v[i], 1, &n_pages, &eb);

		report(d, rc, &eb);
		if (!rc)
			rsweep_check(d, dd, d->repos.v[i], n_pages);
	}
	for (size_t i = 0; i < d->n_rpages; i++)
		report(d, dashdata_repo(dd, d->rpages[i].repo, d->rpages[i].page,
					NULL, &eb), &eb);
	if (d->repo_list)
		report(d, dashdata_repos(dd, &eb), &eb);
	d->repos.n = d->n_rpages = 0;
	d->repo_list = 0;
}

/* One page of a repository sweep; 0 when none is due. */
static int rsweep_step(struct dash *d, struct dashdata *dd)
{
	struct errbuf eb = {""};

	for (size_t i = 0; i < d->n_rsweeps; i++) {
		struct rsweep *w = &d->rsweeps[i];

		if (!w->next)
			continue;
		if (w->next > w->n_pages) {
			w->next = 0;
			continue;
		}
		report(d, dashdata_repo(dd, w->repo, w->next++, &w->n_pages, &eb),
		       &eb);
		return 1;
	}
	return 0;
}

static void render_lists(struct dash *d, struct dashdata *dd)
{
	struct errbuf eb = {""};

	if (d->queue)
		report(d, dashdata_queue(dd, &eb), &eb);
	if (d->failures)
		report(d, dashdata_failures(dd, &eb), &eb);
	if (d->buildlets)
		report(d, dashdata_buildlets(dd, &eb), &eb);
	d->queue = d->failures = d->buildlets = 0;
}

/* The sweep and the backfill, until DASH_SLICE_MS have gone. */
static void render_slices(struct dash *d, struct dashdata *dd, int64_t start)
{
	struct errbuf eb = {""};

	while (d->sweep && clock_mono_ms() - start < DASH_SLICE_MS) {
		if (d->sweep > d->n_pages) {
			if (d->prune)
				dashdata_prune_pages(dd, d->n_pages);
			d->sweep = d->prune = 0;
			if (d->again)
				d->sweep = 2;
			d->again = 0;
			break;
		}
		report(d, dashdata_index(dd, d->sweep++, &d->n_pages, &eb), &eb);
	}
	while (clock_mono_ms() - start < DASH_SLICE_MS && rsweep_step(d, dd))
		;
	while (d->backfill && clock_mono_ms() - start < DASH_SLICE_MS) {
		int64_t *ids = NULL;
		size_t n = 0;

		store_build_list(dd->store, NULL, NULL, DASH_BACKFILL_STEP,
				 d->backfill, &ids, &n);
		for (size_t i = 0; i < n; i++)
			report(d, dashdata_build(dd, ids[i], 1, NULL, &eb), &eb);
		d->backfill = n ? ids[n - 1] : 0;
		free(ids);
		if (!d->backfill)
			log_info("dashboard: every build's pages written");
	}
}

static int rsweep_due(const struct dash *d)
{
	for (size_t i = 0; i < d->n_rsweeps; i++)
		if (d->rsweeps[i].next)
			return 1;
	return 0;
}

static int64_t render_interval(const struct dash *d)
{
	int64_t wait = DASH_WORK_SHARE * d->work_ms;

	if (wait < DASH_MIN_INTERVAL_MS)
		return DASH_MIN_INTERVAL_MS;
	return wait < DASH_MAX_INTERVAL_MS ? wait : DASH_MAX_INTERVAL_MS;
}

void dash_tick(struct coord *c, int64_t now)
{
	struct dash *d = c->dash;
	struct dashdata dd;
	int logs_due = 0;

	for (size_t i = 0; i < d->n_logs && !logs_due; i++)
		logs_due = d->logs[i].pending &&
			   now - d->logs[i].rendered_ms >= DASH_LOG_INTERVAL_MS;
	/* A reloaded config may expect other machines: check the banner. */
	if (c->farm_loaded_ms != d->farm_ms) {
		d->farm_ms = c->farm_loaded_ms;
		d->buildlets = 1;
	}
	if (now - d->rendered_ms < render_interval(d) ||
	    !(dirty(d) || logs_due || d->sweep || d->backfill ||
	      rsweep_due(d)))
		return;
	d->rendered_ms = now;
	dd_init(c, &dd);
	alerts_check(d, &dd);
	render_jobs(d, &dd, now);
	render_logs(d, &dd, now);
	render_builds(d, &dd);
	render_pages(d, &dd);
	render_repos(d, &dd);
	render_lists(d, &dd);
	render_slices(d, &dd, now);
	d->work_ms = clock_mono_ms() - now;
}

void dash_start(struct coord *c)
{
	struct dash *d = xcalloc(1, sizeof *d);
	struct dashdata dd;
	struct errbuf eb = {""};
	int64_t *ids = NULL;
	size_t n = 0;

	c->dash = d;
	d->logcache = dashdata_logcache_new();
	dd_init(c, &dd);
	report(d, dashboard_write_assets(c->dash_dir, &eb), &eb);
	d->alert_sig = alerts_sig(d);
	d->farm_ms = c->farm_loaded_ms;
	report(d, dashdata_index(&dd, 1, &d->n_pages, &eb), &eb);
	d->queue = d->failures = d->buildlets = 1;
	render_lists(d, &dd);
	/* Every repository's first page now, its later pages in slices. */
	mark_all_repos(d, &dd);
	render_repos(d, &dd);
	/* The rest in slices from the tick: index pages from 2 on, then
	 * every build newest first (pages may be there from the last run,
	 * but the renderer may have changed since). */
	d->sweep = 2;
	d->prune = 1;
	store_build_list(c->store, NULL, NULL, 1, 0, &ids, &n);
	d->backfill = n ? ids[0] + 1 : 0;
	free(ids);
	d->rendered_ms = clock_mono_ms();
}

void dash_free(struct coord *c)
{
	struct dash *d = c->dash;

	if (!d)
		return;
	free(d->jobs.v);
	free(d->builds.v);
	free(d->new_builds.v);
	free(d->pages.v);
	free(d->logs);
	free(d->repos.v);
	free(d->rpages);
	free(d->rsweeps);
	free(d->alerts);
	free(d->alert_sig);
	dashdata_logcache_free(&d->logcache);
	free(d);
	c->dash = NULL;
}
