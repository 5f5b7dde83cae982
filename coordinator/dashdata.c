/*
 * dashdata.c - reads what each dashboard page shows from the store and
 * has the dashboard write it (see dashdata.h).
 *
 * The structs of dashboard.h borrow their strings. Here they borrow from
 * the store's rows, from the build's parsed spec, and from a small list
 * of strings made on the way ("K=V", the command line), all held by one
 * struct bset per page and freed together once the page is written.
 *
 * The matrix is the hot page: one query for a page's builds and one for
 * all their jobs (build ids of a page are a contiguous range), never one
 * query per build.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "clock.h"
#include "coordinator.h"
#include "dashdata.h"
#include "xalloc.h"

#define LOG_TAIL_BYTES 8192 /* read for a failure's last lines */
#define LOG_READ_BYTES (256 * 1024) /* a job's log is read this much at a time */

/* One build and everything its pages borrow. */
struct bview {
	struct store_build row;       /* the build */
	json_t *spec;                 /* row.spec parsed */
	struct store_job *jobs;       /* its jobs (owned unless borrowed) */
	size_t n_jobs;
	struct dash_job *dj;          /* jobs as the dashboard sees them */
	struct store_attempt **att;   /* per job, build pages only */
	size_t *n_att;
	struct dash_attempt **da;
	struct store_artifact **art;  /* per job, build pages only */
	size_t *n_art;
	struct dash_artifact **dart;
	const char **env;             /* "K=V", made here */
	const char **labels;          /* borrowed from spec */
	struct dash_build db;         /* what the dashboard gets */
};

/* Strings made for a page, freed with it. */
struct strs {
	char **v;
	size_t n, cap;
};

static const char *strs_keep(struct strs *s, char *str)
{
	*(char **)xarray_push(&s->v, &s->n, &s->cap, sizeof *s->v) = str;
	return str;
}

static void strs_free(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

static void job_fill(struct dash_job *d, const struct store_job *j)
{
	*d = (struct dash_job){
		.id = j->id,
		.build_id = j->build_id,
		.platform = j->platform,
		.state = job_state_name(j->state),
		.cached = j->cached,
		.cached_from = j->cached_from,
		.exit_code = j->exit_code,
		.signal = j->signal,
		.created_ms = j->created_ms,
		.started_ms = j->started_ms,
		.finished_ms = j->finished_ms,
		.duration_ms = j->duration_ms,
		.buildlet = j->buildlet,
		.error = j->error,
		.reason = j->reason,
	};
}

/* The command as one line: the script, or the words joined by spaces. */
static char *command_line(json_t *spec)
{
	json_t *script = json_object_get(spec, "script"), *w;
	struct buf line;
	char *out;
	size_t i;

	if (json_is_string(script))
		return xstrdup(json_string_value(script));
	buf_init(&line, 0, 0);
	json_array_foreach(json_object_get(spec, "command"), i, w)
		buf_printf(&line, "%s%s", i ? " " : "",
			   json_is_string(w) ? json_string_value(w) : "");
	out = xstrdup(buf_cstr(&line));
	buf_free(&line);
	return out;
}

static char *source_line(json_t *spec)
{
	json_t *src = json_object_get(spec, "source");
	json_t *git = json_object_get(src, "git");
	const char *tb = json_string_value(json_object_get(src, "tarball"));

	if (git)
		return xasprintf("git %s ref %s",
				 json_string_value(json_object_get(git, "url")) ?: "",
				 json_string_value(json_object_get(git, "ref")) ?: "");
	return xasprintf("%s%s", tb ? "tarball " : "", tb ? tb : "");
}

/* Fill b->db from b->row and b->jobs (jobs already in b->dj). */
static void bview_fill(struct bview *b, struct strs *keep)
{
	json_t *env, *v, *labels;
	const char *k;
	size_t i = 0;

	b->spec = json_loads(b->row.spec, 0, NULL);
	env = json_object_get(b->spec, "env");
	labels = json_object_get(b->spec, "labels");
	b->env = xcalloc(json_object_size(env) + 1, sizeof *b->env);
	json_object_foreach(env, k, v)
		b->env[i++] = strs_keep(keep, xasprintf("%s=%s", k,
					json_is_string(v) ? json_string_value(v) : ""));
	b->labels = xcalloc(json_array_size(labels) + 1, sizeof *b->labels);
	json_array_foreach(labels, i, v)
		b->labels[i] = json_is_string(v) ? json_string_value(v) : "";
	b->db = (struct dash_build){
		.id = b->row.id,
		.created_ms = b->row.created_ms,
		.command = strs_keep(keep, command_line(b->spec)),
		.source = strs_keep(keep, source_line(b->spec)),
		.commit = "",
		.requester = b->row.requester,
		.env = b->env,
		.n_env = json_object_size(env),
		.labels = b->labels,
		.n_labels = json_array_size(labels),
		.jobs = b->dj,
		.n_jobs = b->n_jobs,
	};
	for (i = 0; i < b->n_jobs; i++)
		if (b->jobs[i].commit[0]) {
			b->db.commit = b->jobs[i].commit;
			break;
		}
}

/* Attempts and artifacts of every job (build and job pages). */
static void bview_details(struct dashdata *d, struct bview *b)
{
	size_t n = b->n_jobs + 1;

	b->att = xcalloc(n, sizeof *b->att);
	b->n_att = xcalloc(n, sizeof *b->n_att);
	b->da = xcalloc(n, sizeof *b->da);
	b->art = xcalloc(n, sizeof *b->art);
	b->n_art = xcalloc(n, sizeof *b->n_art);
	b->dart = xcalloc(n, sizeof *b->dart);
	for (size_t i = 0; i < b->n_jobs; i++) {
		/* A cached job shows the artifacts it was given; its attempts
		 * are none: it never ran. */
		store_attempt_list(d->store, b->jobs[i].id, &b->att[i], &b->n_att[i]);
		store_artifact_list(d->store, b->jobs[i].id, &b->art[i], &b->n_art[i]);
		b->da[i] = xcalloc(b->n_att[i] + 1, sizeof **b->da);
		for (size_t k = 0; k < b->n_att[i]; k++) {
			const struct store_attempt *a = &b->att[i][k];

			b->da[i][k] = (struct dash_attempt){
				a->n, a->buildlet, a->dispatched_ms, a->started_ms,
				a->finished_ms, a->duration_ms, a->exit_code,
				a->signal, a->error};
		}
		b->dart[i] = xcalloc(b->n_art[i] + 1, sizeof **b->dart);
		for (size_t k = 0; k < b->n_art[i]; k++)
			b->dart[i][k] = (struct dash_artifact){
				b->art[i][k].name, b->art[i][k].sha256,
				b->art[i][k].size};
		b->dj[i].attempts = b->da[i];
		b->dj[i].n_attempts = b->n_att[i];
		b->dj[i].artifacts = b->dart[i];
		b->dj[i].n_artifacts = b->n_art[i];
	}
}

/* b->jobs becomes jobs (owned or not: see bview_clear). */
static void bview_jobs(struct bview *b, struct store_job *jobs, size_t n)
{
	b->jobs = jobs;
	b->n_jobs = n;
	b->dj = xcalloc(n + 1, sizeof *b->dj);
	for (size_t i = 0; i < n; i++)
		job_fill(&b->dj[i], &jobs[i]);
}

/* With own, b->row and b->jobs are freed too (else a page's arrays hold
 * them). */
static void bview_clear(struct bview *b, int own)
{
	for (size_t i = 0; b->att && i < b->n_jobs; i++) {
		store_attempt_array_free(&b->att[i], b->n_att[i]);
		store_artifact_array_free(&b->art[i], b->n_art[i]);
		free(b->da[i]);
		free(b->dart[i]);
	}
	free(b->att);
	free(b->n_att);
	free(b->da);
	free(b->art);
	free(b->n_art);
	free(b->dart);
	if (own) {
		store_job_array_free(&b->jobs, b->n_jobs);
		store_build_clear(&b->row);
	}
	free(b->dj);
	free(b->env);
	free(b->labels);
	json_decref(b->spec);
	memset(b, 0, sizeof *b);
}

void dashdata_header(struct dashdata *d, int connected, int64_t now_ms)
{
	d->h.buildlets_connected = connected;
	d->h.jobs_queued = (int)store_job_count_state(d->store, JOB_QUEUED);
	d->h.now_ms = now_ms;
}

/* ---- the matrix ---- */

static void repo_fill(struct dashdata *d, const struct store_repo *r,
		      struct dash_repo *v, int count)
{
	*v = (struct dash_repo){
		.id = r->id,
		.url = r->url,
		.watched = r->watched,
		.last_poll_ms = r->last_poll_ms,
		.last_error = r->last_error,
		.n_commits = count ? store_commit_count(d->store, r->id) : 0,
	};
}

/* Every repository into *v (borrowing from *rows); count: with commits
 * counted (one query each). */
static rc_t repos_load(struct dashdata *d, struct store_repo **rows,
		       size_t *n, struct dash_repo **v, int count)
{
	rc_t rc = store_repo_list(d->store, rows, n);

	*v = NULL;
	if (rc)
		return rc;
	*v = xcalloc(*n + 1, sizeof **v);
	for (size_t i = 0; i < *n; i++)
		repo_fill(d, &(*rows)[i], &(*v)[i], count);
	return RC_OK;
}


static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Columns: the platforms of this page's jobs, sorted, each once. */
static size_t page_platforms(const struct store_job *jobs, size_t n,
			     const char ***out)
{
	const char **v = xcalloc(n + 1, sizeof *v);
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		v[i] = jobs[i].platform;
	qsort(v, n, sizeof *v, cmp_str);
	for (size_t i = 0; i < n; i++)
		if (!k || strcmp(v[k - 1], v[i]))
			v[k++] = v[i];
	*out = v;
	return k;
}

static int pages_for(int64_t builds)
{
	int64_t n = (builds + DASH_PAGE_BUILDS - 1) / DASH_PAGE_BUILDS;

	return n < 1 ? 1 : (int)n;
}

rc_t dashdata_index(struct dashdata *d, int page, int *n_pages,
		    struct errbuf *eb)
{
	struct store_build *rows = NULL;
	struct store_job *jobs = NULL;
	struct bview *bv = NULL;
	struct dash_build *db = NULL;
	const char **plats = NULL;
	struct store_repo *repos = NULL;
	struct dash_repo *rv = NULL;
	struct strs keep = {0};
	size_t n = 0, n_jobs = 0, at = 0, n_repos = 0;
	int64_t total = store_build_count_above(d->store, 0);
	struct dash_index ix = {.h = d->h, .page = page,
				.n_pages = pages_for(total)};
	rc_t rc;

	if (n_pages)
		*n_pages = ix.n_pages;
	if (page < 1 || page > ix.n_pages)
		return RC_OK;
	rc = store_build_page(d->store, (int64_t)(page - 1) * DASH_PAGE_BUILDS,
			      DASH_PAGE_BUILDS, &rows, &n);
	if (!rc && n)
		rc = store_job_list_builds(d->store, rows[n - 1].id, rows[0].id,
					   &jobs, &n_jobs);
	if (rc) {
		errbuf_set(eb, "index page %d: cannot read the store", page);
		goto out;
	}
	bv = xcalloc(n + 1, sizeof *bv);
	db = xcalloc(n + 1, sizeof *db);
	for (size_t i = 0; i < n; i++) {
		size_t first = at;

		/* Jobs come newest build first, like rows. */
		while (at < n_jobs && jobs[at].build_id == rows[i].id)
			at++;
		bv[i].row = rows[i];
		bview_jobs(&bv[i], jobs + first, at - first);
		bview_fill(&bv[i], &keep);
		db[i] = bv[i].db;
	}
	if (page == 1 && repos_load(d, &repos, &n_repos, &rv, 0)) {
		errbuf_set(eb, "index page 1: cannot read the repositories");
		rc = RC_DB;
		goto out;
	}
	ix.repos = rv;
	ix.n_repos = n_repos;
	ix.builds = db;
	ix.n_builds = n;
	ix.n_platforms = page_platforms(jobs, n_jobs, &plats);
	ix.platforms = plats;
	rc = dashboard_write_index(&ix, d->dir, eb);
	d->pages++;
out:
	for (size_t i = 0; bv && i < n; i++)
		bview_clear(&bv[i], 0);
	free(bv);
	free(db);
	free(plats);
	free(rv);
	store_repo_array_free(&repos, n_repos);
	strs_free(&keep);
	store_job_array_free(&jobs, n_jobs);
	store_build_array_free(&rows, n);
	return rc;
}

void dashdata_prune_pages(struct dashdata *d, int n_pages)
{
	/* Bounded: pages are only ever made one after the other. */
	for (int p = n_pages + 1; p < 1000000; p++) {
		char *path = xasprintf("%s/page-%d.html", d->dir, p);
		int gone = unlink(path) < 0 && errno == ENOENT;

		free(path);
		if (gone)
			break;
	}
}

int dashdata_page_of(struct dashdata *d, int64_t build)
{
	int64_t above = store_build_count_above(d->store, build);

	return above < 0 ? 0 : (int)(above / DASH_PAGE_BUILDS) + 1;
}

/* ---- builds and jobs ---- */

static rc_t bview_load(struct dashdata *d, int64_t id, struct bview *b,
		       struct strs *keep)
{
	struct store_job *jobs = NULL;
	size_t n = 0;
	rc_t rc;

	memset(b, 0, sizeof *b);
	rc = store_build_get(d->store, id, &b->row);
	if (rc)
		return rc;
	rc = store_job_list_build(d->store, id, &jobs, &n);
	if (rc) {
		store_build_clear(&b->row);
		return rc;
	}
	bview_jobs(b, jobs, n);
	bview_fill(b, keep);
	bview_details(d, b);
	return RC_OK;
}

/*
 * Where a running job's page had counted its log to: a place before the
 * tail it showed (after a whole read of LOG_READ_BYTES, so the cursor is
 * one store_log_read left) with the count of the log before it. A log
 * that nothing was cut from only grows, so the next page of the job reads
 * on from there instead of from the start: each turn reads the tail and
 * what is new, not the whole log again.
 */
struct logpos {
	int64_t job;                  /* whose log (the source of a cached
					 job's): 0 for a free slot */
	int attempt;
	struct store_log_cursor cur;
	struct dash_log_count count;  /* the log before cur */
	uint64_t used;                /* when last used, to reuse the oldest */
};

#define LOGPOS_SLOTS 64   /* running jobs with a growing log, at once */
#define LOGPOS_MARKS 16   /* places kept while one log is read */

struct dashdata_logcache {
	struct logpos v[LOGPOS_SLOTS];
	uint64_t clock;
};

struct dashdata_logcache *dashdata_logcache_new(void)
{
	return xcalloc(1, sizeof(struct dashdata_logcache));
}

void dashdata_logcache_free(struct dashdata_logcache **lc)
{
	free(*lc);
	*lc = NULL;
}

static struct logpos *logpos_find(struct dashdata_logcache *lc, int64_t job,
				  int attempt)
{
	for (size_t i = 0; lc && i < LOGPOS_SLOTS; i++)
		if (lc->v[i].job == job && lc->v[i].attempt == attempt)
			return &lc->v[i];
	return NULL;
}

/* The slot of (job, attempt), or the oldest one, taken over. */
static struct logpos *logpos_take(struct dashdata_logcache *lc, int64_t job,
				  int attempt)
{
	struct logpos *p = logpos_find(lc, job, attempt), *old = &lc->v[0];

	for (size_t i = 1; !p && i < LOGPOS_SLOTS; i++)
		if (lc->v[i].used < old->used)
			old = &lc->v[i];
	if (!p)
		p = old;
	*p = (struct logpos){.job = job, .attempt = attempt};
	p->used = ++lc->clock;
	return p;
}

/* A log as it streams out of the store: into the page's tail and, for a
 * job that has ended, the raw file. */
struct log_sink {
	struct dash_log_tail tail;
	struct dash_log_file *file; /* NULL: no raw file this time */
	int64_t next_seq;           /* the chunk that should come next */
	int gap;                    /* one did not: no place is kept past
				       it (the missing one may come yet) */
	struct logpos marks[LOGPOS_MARKS]; /* places read past, in order */
	size_t n_marks;
};

static void on_log_chunk(void *ud, int64_t seq, int stream, const void *data,
			 size_t len)
{
	struct log_sink *ls = ud;
	char marker[96];

	if (stream == STORE_LOG_CUT) {
		snprintf(marker, sizeof marker, "[rfarm: %zu bytes of log cut here]",
			 len);
		data = marker;
		len = strlen(marker);
		stream = 0;
		ls->gap = 1; /* and a cut log is read whole: see logpos */
	} else {
		ls->gap |= seq != ls->next_seq;
		ls->next_seq = seq + 1;
	}
	dash_log_tail_add(&ls->tail, stream, data, len);
	dashboard_log_file_write(ls->file, stream, data, len);
}

/* Keep the place cur (the count so far) while no gap was seen. Places
 * before the last one that is before the tail are not needed. */
static void sink_mark(struct log_sink *ls, const struct store_log_cursor *cur)
{
	size_t k = 0;

	if (ls->gap)
		return;
	while (k + 1 < ls->n_marks &&
	       ls->marks[k + 1].count.bytes <= ls->tail.skipped.bytes)
		k++;
	if (k || ls->n_marks == LOGPOS_MARKS) {
		k = k ? k : 1;
		memmove(ls->marks, ls->marks + k, (ls->n_marks - k) * sizeof *ls->marks);
		ls->n_marks -= k;
	}
	ls->marks[ls->n_marks++] = (struct logpos){.cur = *cur,
						   .count = ls->tail.fed};
}

/* Stream the stored log of (job, attempt) into ls from cur, LOG_READ_BYTES
 * at a time: the whole log is never in memory. */
static rc_t log_stream(struct dashdata *d, int64_t job, int attempt,
		       struct store_log_cursor cur, struct log_sink *ls)
{
	rc_t rc = RC_OK;

	ls->next_seq = cur.seq;
	/* Each read moves the cursor on by at least one chunk or ends. */
	while (attempt > 0) {
		int64_t seq = cur.seq, off = cur.off;

		rc = store_log_read(d->store, job, attempt, 0, &cur,
				    LOG_READ_BYTES, 0, on_log_chunk, ls);
		d->log_read += cur.off - off;
		if (rc || (cur.seq == seq && cur.off == off))
			break;
		sink_mark(ls, &cur);
	}
	return rc;
}

/* Where to start reading a running job's log: after the place its last
 * page kept, unless something was cut from the log (then the head moved:
 * read it whole, as a fresh reader would). */
static struct store_log_cursor log_resume(struct dashdata *d, int64_t job,
					  int attempt, struct log_sink *ls)
{
	struct logpos *p = logpos_find(d->logcache, job, attempt);
	int64_t bytes, cut = 1;

	if (!p || store_log_size(d->store, job, attempt, 0, &bytes, &cut) || cut)
		return (struct store_log_cursor){0, 0};
	ls->tail.skipped = ls->tail.fed = p->count;
	return p->cur;
}

/* After a running job's page: keep the last place before its tail. */
static void log_keep(struct dashdata *d, int64_t job, int attempt,
		     struct log_sink *ls)
{
	const struct logpos *best = NULL;

	for (size_t i = 0; i < ls->n_marks; i++)
		if (ls->marks[i].count.bytes <= ls->tail.skipped.bytes)
			best = &ls->marks[i];
	if (d->logcache && best) {
		struct logpos *p = logpos_take(d->logcache, job, attempt);

		p->cur = best->cur;
		p->count = best->count;
	}
}

/* A job that has ended is read whole once more, for its raw log: its
 * place is not needed any more. */
static void log_forget(struct dashdata *d, int64_t job, int attempt)
{
	struct logpos *p = logpos_find(d->logcache, job, attempt);

	if (p)
		*p = (struct logpos){0};
}

/* Which job's attempt holds j's log: a cached job's is the one it was
 * answered from. */
static void log_source(struct dashdata *d, const struct store_job *j,
		       int64_t *job, int *attempt)
{
	struct store_job from;

	*job = j->id;
	*attempt = j->attempt;
	if (j->cached_from && !store_job_get(d->store, j->cached_from, &from)) {
		*job = from.id;
		*attempt = from.attempt;
		store_job_clear(&from);
	}
}

/*
 * The job's page shows the tail of its log (bounded, however long the
 * log); its raw log is streamed to jobs/ID.log once the job has ended.
 * While it runs the page links the API's log instead: rewriting a growing
 * raw file on every turn would cost the whole log each time.
 */
static rc_t write_job(struct dashdata *d, struct bview *b, size_t i,
		      struct errbuf *eb)
{
	struct log_sink *ls = xcalloc(1, sizeof *ls);
	struct store_log_cursor from = {0, 0};
	int final = job_state_final(b->jobs[i].state);
	int64_t job;
	int attempt;
	rc_t rc = RC_OK;

	dash_log_tail_init(&ls->tail, DASH_LOG_TAIL_BYTES);
	log_source(d, &b->jobs[i], &job, &attempt);
	if (final) {
		log_forget(d, job, attempt);
		rc = dashboard_log_file_open(d->dir, b->jobs[i].id, &ls->file, eb);
	} else {
		from = log_resume(d, job, attempt, ls);
	}
	if (!rc && (rc = log_stream(d, job, attempt, from, ls)))
		errbuf_set(eb, "job %lld: cannot read its log", (long long)job);
	if (!rc && !final)
		log_keep(d, job, attempt, ls);
	if (!rc)
		rc = dashboard_log_file_close(&ls->file, 1, eb);
	if (!rc)
		rc = dashboard_write_job_page(&d->h, &b->db, &b->dj[i], &ls->tail,
					      d->dir, eb);
	d->pages++;
	dashboard_log_file_close(&ls->file, 0, NULL);
	dash_log_tail_free(&ls->tail);
	free(ls);
	return rc;
}

rc_t dashdata_build(struct dashdata *d, int64_t id, int jobs,
		    int64_t *commit, struct errbuf *eb)
{
	struct bview b;
	struct strs keep = {0};
	rc_t rc = bview_load(d, id, &b, &keep), first;

	if (rc) {
		if (rc != RC_NOT_FOUND)
			errbuf_set(eb, "build %lld: cannot read the store",
				   (long long)id);
		return rc;
	}
	if (commit)
		*commit = b.row.commit_id;
	first = rc = dashboard_write_build(&d->h, &b.db, d->dir, eb);
	d->pages++;
	for (size_t i = 0; jobs && i < b.n_jobs; i++) {
		rc = write_job(d, &b, i, eb);
		if (!first)
			first = rc;
	}
	bview_clear(&b, 1);
	strs_free(&keep);
	return first;
}

rc_t dashdata_job(struct dashdata *d, int64_t id, int64_t *build, int *final,
		  struct errbuf *eb)
{
	struct store_job j;
	struct bview b;
	struct strs keep = {0};
	rc_t rc = store_job_get(d->store, id, &j);

	if (rc)
		return rc;
	if (build)
		*build = j.build_id;
	if (final)
		*final = job_state_final(j.state);
	rc = bview_load(d, j.build_id, &b, &keep);
	store_job_clear(&j);
	if (rc) {
		errbuf_set(eb, "job %lld: cannot read its build", (long long)id);
		return rc;
	}
	rc = RC_NOT_FOUND;
	for (size_t i = 0; i < b.n_jobs; i++)
		if (b.jobs[i].id == id)
			rc = write_job(d, &b, i, eb);
	bview_clear(&b, 1);
	strs_free(&keep);
	return rc;
}

/* ---- buildlets ---- */

struct active {
	struct store_job *v; /* dispatched and running jobs */
	size_t n, cap;
};

static int on_active(void *ud, const struct store_job *j)
{
	struct active *a = ud;

	store_job_push(&a->v, &a->n, &a->cap, j);
	return 0;
}

/* Strings of a JSON array text, kept in keep; *n gets how many. */
static const char *const *json_strings(const char *text, struct strs *keep,
				       size_t *n)
{
	json_t *arr = json_loads(text ? text : "[]", 0, NULL), *v;
	const char **out = xcalloc(json_array_size(arr) + 1, sizeof *out);
	size_t i;

	json_array_foreach(arr, i, v)
		out[i] = strs_keep(keep, xstrdup(json_is_string(v)
						 ? json_string_value(v) : ""));
	*n = json_array_size(arr);
	json_decref(arr);
	strs_keep(keep, (char *)out);
	return out;
}

/* What the buildlet's credential is now (dash_buildlet.credential). */
static const char *credential(struct dashdata *d, const char *name)
{
	struct store_enrolment e;
	const char *how = d->session_how ? d->session_how(d->ud, name) : NULL;
	const char *out = how ? how : "";

	if (store_enrol_get(d->store, name, &e))
		return out;
	if (e.revoked)
		out = "revoked";
	else if (e.expires_ms && e.expires_ms <= d->h.now_ms)
		out = "expired";
	else if (!how)
		out = "enrolled";
	store_enrol_clear(&e);
	return out;
}

static void buildlet_jobs(struct dash_buildlet *v, const struct active *a,
			  struct strs *keep)
{
	int64_t *ids = xcalloc(a->n + 1, sizeof *ids);
	size_t k = 0;

	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i].buildlet, v->name))
			ids[k++] = a->v[i].id;
	v->jobs = ids;
	v->n_jobs = k;
	v->running = (int)k;
	strs_keep(keep, (char *)ids);
}

static int known(const struct store_buildlet *b, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(b[i].name, name))
			return 1;
	return 0;
}

/* An enrolled buildlet that never said hello. */
static int enrolled_only(struct dashdata *d, const char *name,
			 struct dash_buildlet *v, struct strs *keep)
{
	struct store_enrolment e;

	if (store_enrol_get(d->store, name, &e))
		return 0;
	*v = (struct dash_buildlet){
		.name = name,
		.host_type = strs_keep(keep, xstrdup(e.host_type)),
		.platforms = NULL,
		.version = "",
	};
	v->labels = json_strings(e.labels, keep, &v->n_labels);
	store_enrol_clear(&e);
	v->credential = credential(d, name);
	return 1;
}

rc_t dashdata_buildlets(struct dashdata *d, struct errbuf *eb)
{
	struct store_buildlet *b = NULL;
	struct dash_buildlet *v = NULL;
	struct active act = {0};
	struct strs keep = {0};
	char **enrolled = NULL;
	size_t n = 0, n_enrolled = 0, k = 0;
	rc_t rc;

	rc = store_buildlet_list(d->store, &b, &n);
	if (!rc)
		rc = store_enrol_names(d->store, 0, 0, &enrolled, &n_enrolled);
	if (!rc)
		rc = store_job_scan_active(d->store, on_active, &act);
	if (rc) {
		errbuf_set(eb, "buildlets: cannot read the store");
		goto out;
	}
	v = xcalloc(n + n_enrolled + 1, sizeof *v);
	for (size_t i = 0; i < n; i++, k++) {
		v[k] = (struct dash_buildlet){
			.name = b[i].name,
			.host_type = b[i].host_type,
			.capacity = b[i].capacity,
			.version = b[i].version,
			.last_seen_ms = d->last_seen ? d->last_seen(d->ud,
				b[i].name, b[i].last_seen_ms) : b[i].last_seen_ms,
			.drained = b[i].drained,
		};
		v[k].platforms = json_strings(b[i].platforms, &keep,
					      &v[k].n_platforms);
		v[k].labels = json_strings(b[i].labels, &keep, &v[k].n_labels);
		v[k].connected = d->session_how &&
				 d->session_how(d->ud, b[i].name) != NULL;
		v[k].credential = credential(d, b[i].name);
		buildlet_jobs(&v[k], &act, &keep);
	}
	for (size_t i = 0; i < n_enrolled; i++)
		if (!known(b, n, enrolled[i]) &&
		    enrolled_only(d, enrolled[i], &v[k], &keep))
			buildlet_jobs(&v[k++], &act, &keep);
	rc = dashboard_write_buildlets(&d->h, v, k, d->dir, eb);
	d->pages++;
out:
	for (size_t i = 0; i < n_enrolled; i++)
		free(enrolled[i]);
	free(enrolled);
	free(v);
	strs_free(&keep);
	store_job_array_free(&act.v, act.n);
	store_buildlet_array_free(&b, n);
	return rc;
}

/* ---- queue and failures ---- */

rc_t dashdata_queue(struct dashdata *d, struct errbuf *eb)
{
	struct store_job *jobs = NULL;
	struct dash_job *v;
	size_t n = 0;
	rc_t rc = store_job_list_queued(d->store, DASHDATA_QUEUE_MAX, &jobs, &n);

	if (rc) {
		errbuf_set(eb, "queue: cannot read the store");
		return rc;
	}
	v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		job_fill(&v[i], &jobs[i]);
	rc = dashboard_write_queue(&d->h, v, n, d->dir, eb);
	d->pages++;
	free(v);
	store_job_array_free(&jobs, n);
	return rc;
}

/* The last DASHDATA_TAIL_LINES lines of a job's log, kept in keep. */
static const char *log_tail(struct dashdata *d, const struct store_job *j,
			    struct strs *keep, size_t *len)
{
	char *text = NULL;
	size_t n = 0, start;
	int64_t job;
	int attempt, lines = 0;

	log_source(d, j, &job, &attempt);
	if (attempt < 1 ||
	    store_log_tail(d->store, job, attempt, LOG_TAIL_BYTES, &text, &n)) {
		*len = 0;
		free(text);
		return "";
	}
	/* A final newline ends the last line; it does not start one. */
	start = n && text[n - 1] == '\n' ? n - 1 : n;
	while (start > 0) {
		if (text[start - 1] == '\n' && ++lines == DASHDATA_TAIL_LINES)
			break;
		start--;
	}
	memmove(text, text + start, n - start);
	text[n - start] = '\0';
	*len = n - start;
	return strs_keep(keep, text);
}

rc_t dashdata_failures(struct dashdata *d, struct errbuf *eb)
{
	struct store_job *jobs = NULL;
	struct dash_job *dj;
	struct dash_failure *v;
	struct store_build b;
	struct strs keep = {0};
	size_t n = 0;
	rc_t rc = store_job_list_failed(d->store, DASHDATA_FAILURES, &jobs, &n);

	if (rc) {
		errbuf_set(eb, "failures: cannot read the store");
		return rc;
	}
	dj = xcalloc(n + 1, sizeof *dj);
	v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		json_t *spec = NULL;

		job_fill(&dj[i], &jobs[i]);
		v[i].job = &dj[i];
		v[i].command = "";
		if (!store_build_get(d->store, jobs[i].build_id, &b)) {
			spec = json_loads(b.spec, 0, NULL);
			v[i].command = strs_keep(&keep, command_line(spec));
			json_decref(spec);
			store_build_clear(&b);
		}
		v[i].log_tail = log_tail(d, &jobs[i], &keep, &v[i].log_tail_len);
	}
	rc = dashboard_write_failures(&d->h, v, n, d->dir, eb);
	d->pages++;
	free(v);
	free(dj);
	strs_free(&keep);
	store_job_array_free(&jobs, n);
	return rc;
}

/* ---- repositories ---- */

rc_t dashdata_repos(struct dashdata *d, struct errbuf *eb)
{
	struct store_repo *rows = NULL;
	struct dash_repo *v = NULL;
	size_t n = 0;
	rc_t rc = repos_load(d, &rows, &n, &v, 1);

	if (rc)
		errbuf_set(eb, "repositories: cannot read the store");
	else
		rc = dashboard_write_repos(&d->h, v, n, d->dir, eb);
	d->pages++;
	free(v);
	store_repo_array_free(&rows, n);
	return rc;
}

/* One page of a repository's matrix and what its structs borrow. */
struct rview {
	struct store_repo repo;
	struct store_commit *commits; /* newest first */
	size_t n_commits;
	struct store_cell *cells;     /* by commit (newest first), builder */
	size_t n_cells;
	struct dash_job *dj;          /* one per cell */
	const char **cols;            /* builder columns */
	size_t n_cols, cap_cols;
	const struct dash_job **grid; /* n_commits x n_cols, NULL: unbuilt */
	struct dash_commit *dc;
	struct strs keep;
};

static size_t col_of(const struct rview *r, const char *name)
{
	size_t k = 0;

	while (k < r->n_cols && strcmp(r->cols[k], name))
		k++;
	return k;
}

static void col_add(struct rview *r, const char *name)
{
	if (col_of(r, name) == r->n_cols)
		*(const char **)xarray_push(&r->cols, &r->n_cols, &r->cap_cols,
					    sizeof *r->cols) = name;
}

/* Columns: the configured builders in their order, then any other
 * builder of this page's cells, by name. */
static void rview_cols(struct rview *r)
{
	size_t n = 0, first;
	const char *const *conf = json_strings(r->repo.builders, &r->keep, &n);

	for (size_t i = 0; i < n; i++)
		col_add(r, conf[i]);
	first = r->n_cols;
	for (size_t i = 0; i < r->n_cells; i++)
		col_add(r, r->cells[i].builder);
	if (r->n_cols - first > 1)
		qsort(r->cols + first, r->n_cols - first, sizeof *r->cols,
		      cmp_str);
}

/* The rows: each commit with its cells (both lists newest first). */
static void rview_rows(struct rview *r)
{
	size_t at = 0;

	r->dj = xcalloc(r->n_cells + 1, sizeof *r->dj);
	r->grid = xcalloc(r->n_commits * r->n_cols + 1, sizeof *r->grid);
	r->dc = xcalloc(r->n_commits + 1, sizeof *r->dc);
	for (size_t i = 0; i < r->n_commits; i++) {
		const struct store_commit *c = &r->commits[i];
		const struct dash_job **row = r->grid + i * r->n_cols;

		for (; at < r->n_cells && r->cells[at].commit_id >= c->id; at++) {
			if (r->cells[at].commit_id != c->id)
				continue;
			job_fill(&r->dj[at], &r->cells[at].job);
			row[col_of(r, r->cells[at].builder)] = &r->dj[at];
		}
		r->dc[i] = (struct dash_commit){
			.id = c->id, .hash = c->hash, .subject = c->subject,
			.author = c->author, .time_ms = c->time_ms,
			.branch = c->branch, .cells = row,
		};
	}
}

static void rview_clear(struct rview *r)
{
	store_repo_clear(&r->repo);
	store_commit_array_free(&r->commits, r->n_commits);
	store_cell_array_free(&r->cells, r->n_cells);
	free(r->dj);
	free(r->cols);
	free(r->grid);
	free(r->dc);
	strs_free(&r->keep);
}

static int pages_for_commits(int64_t commits)
{
	int64_t n = (commits + DASH_PAGE_COMMITS - 1) / DASH_PAGE_COMMITS;

	return n < 1 ? 1 : (int)n;
}

rc_t dashdata_repo(struct dashdata *d, int64_t repo, int page, int *n_pages,
		   struct errbuf *eb)
{
	struct rview r = {0};
	struct dash_repo_page rp = {.h = d->h, .page = page};
	rc_t rc = store_repo_get(d->store, repo, &r.repo);

	if (rc)
		goto out;
	repo_fill(d, &r.repo, &rp.repo, 1);
	rp.n_pages = pages_for_commits(rp.repo.n_commits);
	if (n_pages)
		*n_pages = rp.n_pages;
	if (page < 1 || page > rp.n_pages)
		goto out;
	rc = store_commit_page(d->store, repo, (int64_t)(page - 1) *
			       DASH_PAGE_COMMITS, DASH_PAGE_COMMITS, &r.commits,
			       &r.n_commits);
	if (!rc && r.n_commits)
		rc = store_cells(d->store, repo, r.commits[r.n_commits - 1].id,
				 r.commits[0].id, &r.cells, &r.n_cells);
	if (rc)
		goto out;
	rview_cols(&r);
	rview_rows(&r);
	rp.builders = r.cols;
	rp.n_builders = r.n_cols;
	rp.commits = r.dc;
	rp.n_commits = r.n_commits;
	rc = dashboard_write_repo(&rp, d->dir, eb);
	d->pages++;
out:
	if (rc && rc != RC_NOT_FOUND && !eb->msg[0])
		errbuf_set(eb, "repository %lld page %d: cannot read the store",
			   (long long)repo, page);
	rview_clear(&r);
	return rc;
}

int dashdata_repo_page_of(struct dashdata *d, int64_t commit, int64_t *repo)
{
	struct store_commit c;
	int64_t above;

	*repo = 0;
	if (store_commit_get(d->store, commit, &c))
		return 0;
	*repo = c.repo_id;
	above = store_commit_count_above(d->store, c.repo_id, commit);
	store_commit_clear(&c);
	return above < 0 ? 0 : (int)(above / DASH_PAGE_COMMITS) + 1;
}

/* repos/index.html and every page of every repository. */
static rc_t all_repos(struct dashdata *d, struct errbuf *eb)
{
	struct errbuf tmp = {""};
	struct store_repo *rows = NULL;
	size_t n = 0;
	rc_t first = dashdata_repos(d, eb), rc;

	if (store_repo_list(d->store, &rows, &n))
		return first ? first : RC_DB;
	for (size_t i = 0; i < n; i++) {
		int n_pages = 1;

		for (int p = 1; p <= n_pages; p++) {
			rc = dashdata_repo(d, rows[i].id, p, &n_pages, &tmp);
			if (rc && !first) {
				first = rc;
				errbuf_set(eb, "%s", tmp.msg);
			}
			tmp.msg[0] = '\0';
		}
	}
	store_repo_array_free(&rows, n);
	return first;
}

/* ---- everything ---- */

static void keep_first(rc_t *first, rc_t rc, struct errbuf *eb,
		       struct errbuf *tmp)
{
	if (rc && !*first) {
		*first = rc;
		errbuf_set(eb, "%s", tmp->msg);
	}
	tmp->msg[0] = '\0';
}

rc_t dashdata_all(struct dashdata *d, struct errbuf *eb)
{
	struct errbuf tmp = {""};
	rc_t first = RC_OK;
	int n_pages = 1;
	int64_t before = 0;

	keep_first(&first, dashboard_write_assets(d->dir, &tmp), eb, &tmp);
	for (int p = 1; p <= n_pages; p++)
		keep_first(&first, dashdata_index(d, p, &n_pages, &tmp), eb, &tmp);
	dashdata_prune_pages(d, n_pages);
	/* Builds a thousand ids at a time, newest first. */
	for (;;) {
		int64_t *ids = NULL;
		size_t n = 0;

		if (store_build_list(d->store, NULL, NULL, 1000, before, &ids, &n) ||
		    !n) {
			free(ids);
			break;
		}
		for (size_t i = 0; i < n; i++)
			keep_first(&first, dashdata_build(d, ids[i], 1, NULL, &tmp), eb,
				   &tmp);
		before = ids[n - 1];
		free(ids);
	}
	keep_first(&first, dashdata_buildlets(d, &tmp), eb, &tmp);
	keep_first(&first, dashdata_queue(d, &tmp), eb, &tmp);
	keep_first(&first, dashdata_failures(d, &tmp), eb, &tmp);
	keep_first(&first, all_repos(d, &tmp), eb, &tmp);
	return first;
}

rc_t coord_dashboard_render(const char *data_dir, const char *out_dir,
			    size_t *pages, struct errbuf *eb)
{
	char *path = xasprintf("%s/rfarm.db", data_dir);
	struct dashdata d = {.dir = out_dir};
	rc_t rc = RC_NOT_FOUND;

	*pages = 0;
	/* Opening would create an empty database: say what is missing. */
	if (access(path, F_OK)) {
		errbuf_set(eb, "no database at %s (is --data the coordinator's "
			   "data directory?)", path);
		goto out;
	}
	rc = store_open(path, &d.store, eb);
	if (rc)
		goto out;
	dashdata_header(&d, 0, clock_wall_ms());
	rc = dashdata_all(&d, eb);
	*pages = d.pages;
	store_close(&d.store);
out:
	free(path);
	return rc;
}
