/*
 * metrics.c - GET /metrics in the Prometheus text format.
 *
 * Counters and histograms live in memory and are bumped by orch.c and
 * api.c as things happen (they restart from zero with the process, which
 * Prometheus handles as a counter reset). Gauges (queue depth, buildlets)
 * are read from the store and the session list at scrape time, so they
 * are right even just after a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "internal.h"
#include "xalloc.h"

/* Bucket bounds in seconds; the implicit last bucket is +Inf. */
static const double duration_bounds[] = {0.1, 0.5, 1, 5, 10, 30, 60, 300,
					 600, 1800, 3600};
static const double wait_bounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1,
				     5, 10, 60, 300};
#define N_BOUNDS 11

struct histogram {
	const double *bounds;           /* N_BOUNDS upper bounds, seconds */
	uint64_t counts[N_BOUNDS + 1];  /* per bucket (not cumulative) */
	double sum;                     /* of observed seconds */
	uint64_t count;                 /* observations */
};

struct metrics {
	uint64_t builds_accepted;            /* POST /builds that were stored */
	uint64_t jobs_dispatched;            /* run messages sent */
	uint64_t jobs_final[JOB__COUNT];     /* jobs that reached each state */
	uint64_t log_bytes;                  /* log bytes received */
	uint64_t log_bytes_cut;              /* of them, cut by --max-log-bytes */
	uint64_t hellos;                     /* sessions accepted */
	uint64_t reconnects;                 /* of them, buildlets coming back */
	uint64_t handshakes_refused;         /* turned away by the rate limit */
	uint64_t cache_hits;                 /* jobs answered from the store */
	uint64_t cache_attached;             /* jobs that waited for a twin */
	struct histogram duration;           /* job process wall time */
	struct histogram queue_wait;         /* creation to dispatch */
};

struct metrics *metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof *m);

	m->duration.bounds = duration_bounds;
	m->queue_wait.bounds = wait_bounds;
	return m;
}

void metrics_free(struct metrics **m)
{
	free(*m);
	*m = NULL;
}

static void observe(struct histogram *h, double secs)
{
	size_t i = 0;

	while (i < N_BOUNDS && secs > h->bounds[i])
		i++;
	h->counts[i]++;
	h->sum += secs;
	h->count++;
}

void metrics_build_accepted(struct metrics *m)
{
	m->builds_accepted++;
}

void metrics_job_dispatched(struct metrics *m, int64_t queue_wait_ms)
{
	m->jobs_dispatched++;
	observe(&m->queue_wait, queue_wait_ms > 0 ? queue_wait_ms / 1000.0 : 0);
}

void metrics_job_final(struct metrics *m, enum job_state st)
{
	if ((unsigned)st < JOB__COUNT)
		m->jobs_final[st]++;
}

void metrics_job_duration(struct metrics *m, int64_t duration_ms)
{
	observe(&m->duration, duration_ms > 0 ? duration_ms / 1000.0 : 0);
}

void metrics_log_bytes(struct metrics *m, size_t n, int64_t cut)
{
	m->log_bytes += n;
	m->log_bytes_cut += cut > 0 ? (uint64_t)cut : 0;
}

void metrics_buildlet_hello(struct metrics *m, int reconnect)
{
	m->hellos++;
	m->reconnects += reconnect != 0;
}

void metrics_cache_hit(struct metrics *m)
{
	m->cache_hits++;
}

void metrics_cache_attached(struct metrics *m)
{
	m->cache_attached++;
}

void metrics_handshake_refused(struct metrics *m)
{
	m->handshakes_refused++;
}

static void header(struct buf *out, const char *name, const char *type,
		   const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct buf *out, const char *name, const char *help,
		    uint64_t v)
{
	header(out, name, "counter", help);
	buf_printf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void histogram(struct buf *out, const char *name, const char *help,
		      const struct histogram *h)
{
	uint64_t cum = 0;

	header(out, name, "histogram", help);
	for (size_t i = 0; i < N_BOUNDS; i++) {
		cum += h->counts[i];
		buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i],
			   (unsigned long long)cum);
	}
	buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.3f\n%s_count %llu\n",
		   name, (unsigned long long)h->count, name, h->sum, name,
		   (unsigned long long)h->count);
}

struct queue_render {
	struct buf depth;   /* rfarm_queue_depth lines */
	struct buf unsat;   /* rfarm_jobs_unsatisfiable lines */
};

static void on_queue_row(void *ud, const char *platform, int64_t queued,
			 int64_t unsatisfiable)
{
	struct queue_render *q = ud;

	/* Platforms are validated goos/goarch: safe inside label quotes. */
	buf_printf(&q->depth, "rfarm_queue_depth{platform=\"%s\"} %lld\n",
		   platform, (long long)queued);
	buf_printf(&q->unsat, "rfarm_jobs_unsatisfiable{platform=\"%s\"} %lld\n",
		   platform, (long long)unsatisfiable);
}

static void render_queue(struct coord *c, struct buf *out)
{
	struct queue_render q;

	buf_init(&q.depth, 0, 0);
	buf_init(&q.unsat, 0, 0);
	store_queue_stats(c->store, on_queue_row, &q);
	header(out, "rfarm_queue_depth", "gauge", "Jobs waiting, per platform.");
	buf_append(out, buf_data(&q.depth), q.depth.len);
	header(out, "rfarm_jobs_unsatisfiable", "gauge",
	       "Queued jobs that no connected buildlet can run, per platform.");
	buf_append(out, buf_data(&q.unsat), q.unsat.len);
	buf_free(&q.depth);
	buf_free(&q.unsat);
}

static void render_jobs(struct coord *c, struct buf *out)
{
	struct metrics *m = c->metrics;

	header(out, "rfarm_jobs", "gauge", "Jobs in the store, per state.");
	for (int st = 0; st < JOB__COUNT; st++)
		buf_printf(out, "rfarm_jobs{state=\"%s\"} %lld\n",
			   job_state_name((enum job_state)st),
			   (long long)store_job_count_state(c->store, (enum job_state)st));
	header(out, "rfarm_jobs_finished_total", "counter",
	       "Jobs that reached a terminal state since start, per state.");
	for (int st = 0; st < JOB__COUNT; st++)
		if (job_state_final((enum job_state)st))
			buf_printf(out, "rfarm_jobs_finished_total{state=\"%s\"} %llu\n",
				   job_state_name((enum job_state)st),
				   (unsigned long long)m->jobs_final[st]);
}

struct platform_count {
	const char *platform; /* borrowed from a session's hello */
	int n;                /* connected buildlets serving it */
};

static void render_buildlets(struct coord *c, struct buf *out)
{
	struct platform_count *pc = NULL;
	size_t n = 0, cap = 0, total = 0;
	struct list *l;

	list_for_each(l, &c->sessions) {
		struct session *s = list_entry(l, struct session, link);

		total++;
		for (size_t i = 0; i < s->hello.platforms.n; i++) {
			size_t k = 0;

			while (k < n && strcmp(pc[k].platform, s->hello.platforms.v[i]))
				k++;
			if (k == n)
				((struct platform_count *)xarray_push(
					 &pc, &n, &cap, sizeof *pc))->platform =
					s->hello.platforms.v[i];
			pc[k].n++;
		}
	}
	header(out, "rfarm_buildlets_connected", "gauge",
	       "Connected buildlets, per platform they serve.");
	for (size_t k = 0; k < n; k++)
		buf_printf(out, "rfarm_buildlets_connected{platform=\"%s\"} %d\n",
			   pc[k].platform, pc[k].n);
	header(out, "rfarm_buildlet_sessions", "gauge", "Connected buildlets.");
	buf_printf(out, "rfarm_buildlet_sessions %zu\n", total);
	free(pc);
}

/* The alert of the config's expected counts: short is 1 while fewer
 * machines of a host type are connected than it expects. */
static void render_host_types(struct coord *c, struct buf *out)
{
	json_t *types = c->farm ? config_host_types(c->farm) : NULL, *t;
	static const char *const what[] = {
		"rfarm_host_type_expected", "Machines the config expects of each host type.",
		"rfarm_host_type_connected", "Connected buildlets of each configured host type.",
		"rfarm_host_type_short", "1 while a host type has fewer machines connected than expected.",
	};
	size_t i;

	for (int k = 0; k < 3; k++) {
		header(out, what[2 * k], "gauge", what[2 * k + 1]);
		json_array_foreach(types, i, t) {
			const char *name = json_string_value(json_object_get(t, "name"));
			long long want = json_integer_value(json_object_get(t, "expected"));
			long long have = session_count_host_type(c, name);
			long long v = k == 0 ? want : k == 1 ? have : have < want;

			buf_printf(out, "%s{host_type=\"%s\"} %lld\n", what[2 * k],
				   name, v);
		}
	}
}

void metrics_render(struct coord *c, struct buf *out)
{
	struct metrics *m = c->metrics;

	counter(out, "rfarm_build_requests_total",
		"Builds accepted through the API since start.", m->builds_accepted);
	header(out, "rfarm_builds_started", "gauge",
	       "Builds in the store with at least one job dispatched.");
	buf_printf(out, "rfarm_builds_started %lld\n",
		   (long long)store_builds_started(c->store));
	counter(out, "rfarm_jobs_dispatched_total",
		"Run messages sent to buildlets since start.", m->jobs_dispatched);
	render_jobs(c, out);
	render_queue(c, out);
	histogram(out, "rfarm_job_duration_seconds",
		  "Wall time of job processes as buildlets report it.", &m->duration);
	histogram(out, "rfarm_queue_wait_seconds",
		  "Time from a job's creation to its dispatch.", &m->queue_wait);
	render_buildlets(c, out);
	render_host_types(c, out);
	counter(out, "rfarm_log_bytes_total", "Log bytes stored since start.",
		m->log_bytes);
	counter(out, "rfarm_log_bytes_cut_total", "Log bytes dropped since "
		"start because a job's log outgrew --max-log-bytes.",
		m->log_bytes_cut);
	counter(out, "rfarm_buildlet_hellos_total",
		"Buildlet sessions accepted since start.", m->hellos);
	counter(out, "rfarm_buildlet_reconnects_total",
		"Sessions from buildlets that had been connected before.",
		m->reconnects);
	counter(out, "rfarm_cache_hits_total",
		"Jobs answered from the store without running.", m->cache_hits);
	counter(out, "rfarm_cache_attached_total",
		"Jobs that waited for an identical running job.", m->cache_attached);
	counter(out, "rfarm_handshakes_refused_total",
		"Buildlet handshakes turned away by the rate limit.",
		m->handshakes_refused);
}
