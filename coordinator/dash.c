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
 * moves every build down one place (the "sweep"), and at start every build
 * and job page (the "backfill", newest first), so a coordinator with
 * 10,000 builds starts serving at once and the loop never stalls.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dashdata.h"
#include "internal.h"
#include "log.h"
#include "xalloc.h"

#define DASH_MIN_INTERVAL_MS 500  /* debounce of dirty pages */
#define DASH_LOG_INTERVAL_MS 2000 /* a growing log's page, per job */
#define DASH_SLICE_MS 50          /* sweep and backfill work per tick */
#define DASH_BACKFILL_STEP 10     /* builds read at a time by the backfill */

/* A set of ids: appended freely, sorted and made unique when used. */
struct idset {
	int64_t *v;
	size_t n, cap;
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
	int shift;                /* builds moved between index pages */
	int sweep;                /* next index page of the sweep, 0: none */
	int again;                /* builds moved during the sweep: another */
	int n_pages;              /* index pages at the last count */
	int prune;                /* remove pages past n_pages after the sweep */
	int64_t backfill;         /* start: builds below this id are still
				     to be written; 0: done */
	int64_t rendered_ms;      /* monotonic time of the last render */
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
	       d->failures || d->buildlets || d->shift;
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

/* ---- rendering ---- */

static const char *session_how(void *ud, const char *name)
{
	struct session *s = session_find(ud, name);

	if (!s)
		return NULL;
	return s->auth.enrolled[0] ? "enrolled" : s->auth.open ? "open" : "key";
}

static void dd_init(struct coord *c, struct dashdata *dd)
{
	struct list *l;
	int connected = 0;

	list_for_each(l, &c->sessions)
		connected++;
	*dd = (struct dashdata){.store = c->store, .dir = c->dash_dir,
				.session_how = session_how, .ud = c};
	dashdata_header(dd, connected, clock_wall_ms());
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
		int64_t id = d->builds.v[i];
		rc_t rc = dashdata_build(dd, id, idset_has(&d->new_builds, id), &eb);
		int page;

		report(d, rc, &eb);
		if (!rc && (page = dashdata_page_of(dd, id)) > 0)
			idset_add(&d->pages, page);
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
	while (d->backfill && clock_mono_ms() - start < DASH_SLICE_MS) {
		int64_t *ids = NULL;
		size_t n = 0;

		store_build_list(dd->store, NULL, NULL, DASH_BACKFILL_STEP,
				 d->backfill, &ids, &n);
		for (size_t i = 0; i < n; i++)
			report(d, dashdata_build(dd, ids[i], 1, &eb), &eb);
		d->backfill = n ? ids[n - 1] : 0;
		free(ids);
		if (!d->backfill)
			log_info("dashboard: every build's pages written");
	}
}

void dash_tick(struct coord *c, int64_t now)
{
	struct dash *d = c->dash;
	struct dashdata dd;
	int logs_due = 0;

	for (size_t i = 0; i < d->n_logs && !logs_due; i++)
		logs_due = d->logs[i].pending &&
			   now - d->logs[i].rendered_ms >= DASH_LOG_INTERVAL_MS;
	if (now - d->rendered_ms < DASH_MIN_INTERVAL_MS ||
	    !(dirty(d) || logs_due || d->sweep || d->backfill))
		return;
	d->rendered_ms = now;
	dd_init(c, &dd);
	render_jobs(d, &dd, now);
	render_logs(d, &dd, now);
	render_builds(d, &dd);
	render_pages(d, &dd);
	render_lists(d, &dd);
	render_slices(d, &dd, now);
}

void dash_start(struct coord *c)
{
	struct dash *d = xcalloc(1, sizeof *d);
	struct dashdata dd;
	struct errbuf eb = {""};
	int64_t *ids = NULL;
	size_t n = 0;

	c->dash = d;
	dd_init(c, &dd);
	report(d, dashboard_write_assets(c->dash_dir, &eb), &eb);
	report(d, dashdata_index(&dd, 1, &d->n_pages, &eb), &eb);
	d->queue = d->failures = d->buildlets = 1;
	render_lists(d, &dd);
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
	free(d);
	c->dash = NULL;
}
