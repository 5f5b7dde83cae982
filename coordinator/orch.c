/*
 * orch.c - the job life cycle: dispatching queued jobs to buildlets and
 * recording what buildlets report back.
 *
 * Every state change goes through orch_job_transition(), which refuses
 * illegal moves, logs "job 42: queued -> dispatched" and runs the on-enter
 * work (wake log followers, mark the dashboard dirty, reschedule). A
 * result is recorded once per attempt: a late or repeated "done" is
 * acknowledged and dropped.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobs.h"
#include "caps.h"
#include "clock.h"
#include "internal.h"
#include "log.h"
#include "scheduler.h"
#include "xalloc.h"

#define QUEUE_SCAN_LIMIT 1000 /* queued jobs one pass reads, at most */
#define QUEUE_PAGE 32         /* read at a time while slots are free */

int orch_job_transition(struct coord *c, int64_t job, enum job_state from,
			enum job_state to)
{
	if (!job_state_legal(from, to)) {
		log_error("job %lld: illegal transition %s -> %s refused",
			  (long long)job, job_state_name(from), job_state_name(to));
		return -1;
	}
	log_info("job %lld: %s -> %s", (long long)job, job_state_name(from),
		 job_state_name(to));
	dash_mark_job(c, job);
	if (job_state_final(to)) {
		metrics_job_final(c->metrics, to);
		c->sched_pending = 1;
		/* Followers take the result once it is stored: after the turn. */
		*(int64_t *)xarray_push(&c->settle, &c->n_settle, &c->cap_settle,
					sizeof *c->settle) = job;
	} else if (to == JOB_QUEUED) {
		orch_replan(c); /* it may keep the reason of its last wait */
	}
	http_streams_wake(c, job);
	return 0;
}

/* ---- building the run message from the stored request ---- */

static void strv_from_json(struct proto_strv *v, json_t *arr)
{
	size_t i;
	json_t *e;

	v->n = json_array_size(arr);
	v->v = xcalloc(v->n ? v->n : 1, sizeof(char *));
	json_array_foreach(arr, i, e)
		v->v[i] = xstrdup(json_string_value(e) ? json_string_value(e) : "");
}

static void env_from_json(struct proto_env *env, json_t *obj)
{
	const char *k;
	json_t *v;
	size_t i = 0;

	env->n = json_object_size(obj);
	env->v = xcalloc(env->n ? env->n : 1, sizeof *env->v);
	json_object_foreach(obj, k, v) {
		env->v[i].key = xstrdup(k);
		env->v[i].val = xstrdup(json_string_value(v) ? json_string_value(v) : "");
		i++;
	}
}

/* A tarball is fetched from our own blob store, by path: the buildlet
 * knows where the coordinator is. */
static void source_from_spec(struct proto_source *src, json_t *spec)
{
	const char *sha = json_string_value(json_object_get(spec, "tarball"));
	json_t *git = json_object_get(spec, "git");

	if (git) {
		src->kind = xstrdup("git");
		src->url = xstrdup(json_string_value(json_object_get(git, "url")));
		src->ref = xstrdup(json_string_value(json_object_get(git, "ref")));
		src->sha256 = xstrdup("");
		return;
	}
	src->kind = xstrdup(sha ? "tarball" : "");
	src->url = sha ? xasprintf("/api/v1/blobs/%s", sha) : xstrdup("");
	src->ref = xstrdup("");
	src->sha256 = xstrdup(sha ? sha : "");
}

/* A fresh upload token: 32 random bytes in hex. */
static char *new_token(void)
{
	char *hex = xmalloc(2 * 32 + 1);

	if (random_hex(hex, 32))
		abort(); /* no randomness: no token could be trusted */
	return hex;
}

static rc_t run_from_spec(struct coord *c, const struct store_job *j,
			  int attempt, struct proto_run *run)
{
	struct store_build b;
	json_t *spec;
	rc_t rc = store_build_get(c->store, j->build_id, &b);

	if (rc)
		return rc;
	spec = json_loads(b.spec, 0, NULL);
	store_build_clear(&b);
	if (!spec)
		return RC_INVALID;
	memset(run, 0, sizeof *run);
	run->job = j->id;
	run->attempt = attempt;
	run->platform = xstrdup(j->platform);
	strv_from_json(&run->argv, json_object_get(spec, "command"));
	run->script = xstrdup(json_string_value(json_object_get(spec, "script"))
				      ? json_string_value(json_object_get(spec, "script"))
				      : "");
	env_from_json(&run->env, json_object_get(spec, "env"));
	run->timeout_s = (int32_t)json_integer_value(json_object_get(spec, "timeout_s"));
	if (run->timeout_s <= 0)
		run->timeout_s = c->cfg.default_timeout_s;
	run->idle_timeout_s = (int32_t)json_integer_value(
		json_object_get(spec, "idle_timeout_s"));
	source_from_spec(&run->source, json_object_get(spec, "source"));
	strv_from_json(&run->artifacts, json_object_get(spec, "artifacts"));
	run->upload_url = xstrdup("/api/v1/blobs/");
	run->upload_token = new_token();
	json_decref(spec);
	return RC_OK;
}

/* Returns 1 if j left the queue (sent, or found unreadable). */
static int dispatch(struct coord *c, struct session *s, const struct store_job *j)
{
	struct proto_msg m = {.type = PROTO_RUN};
	int attempt = j->attempt + 1;

	if (run_from_spec(c, j, attempt, &m.u.run)) {
		log_error("job %lld: its build request cannot be read",
			  (long long)j->id);
		if (!orch_job_transition(c, j->id, j->state, JOB_ERROR))
			store_job_finish(c->store, j->id, 0, JOB_ERROR, -1, 0, 0,
					 "the stored build request is unreadable",
					 clock_wall_ms());
		return 1;
	}
	if (orch_job_transition(c, j->id, j->state, JOB_DISPATCHED) ||
	    store_job_dispatch(c->store, j->id, attempt, s->hello.name,
			       clock_wall_ms()) ||
	    store_attempt_set_token(c->store, j->id, attempt, m.u.run.upload_token)) {
		proto_msg_free(&m);
		return 0;
	}
	/* The buildlet enforces the timeout; this is the backstop for a
	 * buildlet that cannot. */
	store_job_set_deadline(c->store, j->id,
			       clock_wall_ms() + (int64_t)m.u.run.timeout_s * 1000 +
				       c->cfg.timeout_margin_ms);
	session_send(s, &m);
	s->running++;
	metrics_job_dispatched(c->metrics, clock_wall_ms() - j->created_ms);
	proto_msg_free(&m);
	return 1;
}

/* ---- the scheduler pass ---- */

/* Buildlets as the scheduler sees them. */
struct cands {
	struct sched_candidate *v;
	struct session **owners;
	size_t n, cap;
};

/* Why jobs of one kind wait: the same for every job of that platform,
 * labels and host type within a pass. */
struct memo {
	char *key;
	enum sched_verdict v;
};

#define MEMO_MAX 32

/* One pass. It picks among the buildlets with a free slot (c->open),
 * and reads all of them only to say why a job waits. */
struct pass {
	struct coord *c;
	struct cands open;       /* buildlets with a free slot */
	struct cands all;        /* every one that takes jobs, once needed */
	int all_built;
	int free_slots;          /* over open */
	int seen;                /* queued jobs read so far */
	int full;                /* read every queued job's reason again */
	struct memo memo[MEMO_MAX];
	size_t n_memo;
};

struct queue_copy {
	struct store_job *jobs; /* copies of queued jobs, in queue order */
	size_t n, cap;
};

static int collect_job(void *ud, const struct store_job *j)
{
	struct queue_copy *q = ud;

	store_job_push(&q->jobs, &q->n, &q->cap, j);
	return 0;
}

static int takes_jobs(const struct session *s)
{
	return s->hello_done && !s->closing && !s->drained;
}

static int has_free_slot(const struct session *s)
{
	return takes_jobs(s) && s->running < s->hello.capacity;
}

static void cands_add(struct cands *cs, struct session *s)
{
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 16;
		cs->v = xrealloc(cs->v, cs->cap * sizeof *cs->v);
		cs->owners = xrealloc(cs->owners, cs->cap * sizeof *cs->owners);
	}
	cs->v[cs->n] = (struct sched_candidate){
		(const char *const *)s->hello.platforms.v, s->hello.platforms.n,
		(const char *const *)s->hello.labels.v, s->hello.labels.n,
		s->hello.capacity, s->running,
		s->hello.host_type ? s->hello.host_type : ""};
	cs->owners[cs->n++] = s;
}

static void open_add(struct coord *c, struct session *s)
{
	if (list_empty(&s->open_link))
		list_add_tail(&c->open, &s->open_link);
}

void orch_slot_freed(struct coord *c, struct session *s)
{
	if (has_free_slot(s))
		open_add(c, s);
	c->sched_pending = 1;
}

/* The buildlets with a free slot; those without leave c->open. After a
 * change of buildlets, c->open is made again from all sessions. */
static void pass_open(struct pass *p)
{
	struct list *l, *tmp;

	if (p->full)
		list_for_each(l, &p->c->sessions) {
			struct session *s = list_entry(l, struct session, link);

			if (has_free_slot(s))
				open_add(p->c, s);
		}
	list_for_each_safe(l, tmp, &p->c->open) {
		struct session *s = list_entry(l, struct session, open_link);

		if (!has_free_slot(s)) {
			list_del(&s->open_link);
			continue;
		}
		cands_add(&p->open, s);
		p->free_slots += s->hello.capacity - s->running;
	}
}

/* Open candidate i took a job: one slot less, and out when full. */
static void open_took(struct pass *p, size_t i)
{
	struct cands *o = &p->open;

	p->free_slots--;
	o->v[i].running = o->owners[i]->running;
	if (o->v[i].running < o->v[i].capacity)
		return;
	o->v[i] = o->v[o->n - 1];
	o->owners[i] = o->owners[o->n - 1];
	o->n--;
}

static enum sched_verdict verdict_all(struct pass *p, const struct sched_job *sj,
				      size_t *pick)
{
	struct list *l;

	if (!p->all_built) {
		list_for_each(l, &p->c->sessions) {
			struct session *s = list_entry(l, struct session, link);

			if (takes_jobs(s))
				cands_add(&p->all, s);
		}
		p->all_built = 1;
	}
	/* running as it is now: the pass may have filled some */
	for (size_t i = 0; i < p->all.n; i++)
		p->all.v[i].running = p->all.owners[i]->running;
	return sched_pick(p->all.v, p->all.n, sj, pick);
}

/* Why a job of sj's kind waits, from the memo when this pass saw its
 * kind; SCHED_PICKED (with *pick in p->all) if a buildlet with a free
 * slot was not on c->open after all. */
static enum sched_verdict why_waiting(struct pass *p, const struct store_job *j,
				      const struct sched_job *sj, size_t *pick)
{
	char *key = xasprintf("%s\n%s\n%s", j->platform, j->labels,
			      j->host_type ? j->host_type : "");
	enum sched_verdict v;
	size_t i;

	for (i = 0; i < p->n_memo && strcmp(p->memo[i].key, key); i++)
		;
	if (i < p->n_memo) {
		free(key);
		return p->memo[i].v;
	}
	v = verdict_all(p, sj, pick);
	if (v != SCHED_PICKED && p->n_memo < MEMO_MAX)
		p->memo[p->n_memo++] = (struct memo){key, v};
	else
		free(key);
	return v;
}

static void pass_free(struct pass *p)
{
	free(p->open.v);
	free(p->open.owners);
	free(p->all.v);
	free(p->all.owners);
	for (size_t i = 0; i < p->n_memo; i++)
		free(p->memo[i].key);
}

static void set_reason(struct coord *c, const struct store_job *j,
		       enum sched_verdict v, const struct sched_job *sj)
{
	char reason[256];

	sched_reason(v, sj, reason, sizeof reason);
	if (strcmp(reason, j->reason)) {
		store_job_set_reason(c->store, j->id, reason);
		dash_mark_queue(c);
	}
}

/* Dispatch j if a buildlet can take it, else say why it waits (a job
 * with a reason keeps it unless the buildlets changed: whether one
 * could ever run it is all a reason says). Returns 1 if j left the
 * queue. */
static int schedule_one(struct pass *p, const struct store_job *j)
{
	json_t *labels = json_loads(j->labels, 0, NULL);
	const char **lv = xcalloc(json_array_size(labels) + 1, sizeof *lv);
	/* A builder's job runs only on its host type (the session's, as
	 * its credential proved it). */
	struct sched_job sj = {j->platform, lv, json_array_size(labels),
			       j->host_type};
	enum sched_verdict v;
	size_t pick = 0;
	int left = 0;

	for (size_t i = 0; i < sj.n_labels; i++)
		lv[i] = json_string_value(json_array_get(labels, i));
	if (sched_pick(p->open.v, p->open.n, &sj, &pick) == SCHED_PICKED) {
		left = dispatch(p->c, p->open.owners[pick], j);
		open_took(p, pick);
	} else if (p->full || !j->reason[0]) {
		v = why_waiting(p, j, &sj, &pick);
		if (v == SCHED_PICKED) {
			log_debug("buildlet %s had a free slot off the open list",
				  p->all.owners[pick]->hello.name);
			left = dispatch(p->c, p->all.owners[pick], j);
			open_add(p->c, p->all.owners[pick]);
		} else {
			set_reason(p->c, j, v, &sj);
		}
	}
	free(lv);
	json_decref(labels);
	return left;
}

/* Schedule the queued jobs one scan reads. Returns how many it read;
 * *kept counts those still queued after. */
static size_t schedule_read(struct pass *p, rc_t rc, struct queue_copy *q,
			    int *kept)
{
	size_t n = q->n;

	if (rc)
		log_error("cannot read the queue");
	*kept = 0;
	for (size_t i = 0; i < q->n; i++)
		*kept += !schedule_one(p, &q->jobs[i]);
	store_job_array_free(&q->jobs, q->n);
	*q = (struct queue_copy){NULL, 0, 0};
	p->seen += (int)n;
	return n;
}

/* A pass reads the queue in pages while a slot is free (most turns free
 * one slot: they read one page, not the whole queue). With no slot
 * left, only jobs never looked at get their reason, unless the
 * buildlets changed: then every job's reason is read again. */
void orch_schedule(struct coord *c)
{
	struct pass p;
	struct queue_copy q = {NULL, 0, 0};
	int offset = 0, kept;
	size_t got = QUEUE_PAGE;

	memset(&p, 0, sizeof p);
	p.c = c;
	p.full = !c->sched_planned;
	c->sched_pending = 0;
	c->sched_planned = 1;
	pass_open(&p);
	while (p.free_slots > 0 && got == QUEUE_PAGE &&
	       p.seen < QUEUE_SCAN_LIMIT) {
		rc_t rc = store_job_scan_queue(c->store, offset, QUEUE_PAGE,
						    collect_job, &q);

		got = schedule_read(&p, rc, &q, &kept);
		offset += kept; /* the dispatched ones left the queue */
	}
	if (got == QUEUE_PAGE && p.seen < QUEUE_SCAN_LIMIT) {
		rc_t rc = p.full ? store_job_scan_queue(
					   c->store, offset,
					   QUEUE_SCAN_LIMIT - p.seen, collect_job, &q)
				 : store_job_scan_unplanned(c->store, QUEUE_SCAN_LIMIT,
							    collect_job, &q);

		schedule_read(&p, rc, &q, &kept);
	}
	pass_free(&p);
}

void orch_replan(struct coord *c)
{
	c->sched_planned = 0;
	c->sched_pending = 1;
}

/* ---- what buildlets report ---- */

/* Load the job and check that this session runs this attempt of it. */
static int owned_attempt(struct coord *c, struct session *s, int64_t job,
			 int attempt, struct store_job *j)
{
	if (store_job_get(c->store, job, j))
		return 0;
	return j->attempt == attempt && !strcmp(j->buildlet, s->hello.name);
}

static void send_cancel(struct session *s, int64_t job, int attempt)
{
	struct proto_msg m = {.type = PROTO_CANCEL};

	m.u.ref.job = job;
	m.u.ref.attempt = attempt;
	session_send(s, &m);
}

static int ref_listed(const struct proto_attempt_ref *v, size_t n,
		      int64_t job, int attempt)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].job == job && v[i].attempt == attempt)
			return 1;
	return 0;
}

struct reconcile {
	struct session *s;      /* the buildlet that said hello */
	struct store_job *kept; /* attempts it still runs or holds results of */
	size_t n_kept, cap_kept;
	struct store_job *lost; /* its attempts it no longer knows */
	size_t n_lost, cap_lost;
};

/* Sort this buildlet's active jobs into those it still knows and those
 * it lost (it restarted, or the run never reached it). */
static int reconcile_job(void *ud, const struct store_job *j)
{
	struct reconcile *r = ud;
	struct proto_hello *h = &r->s->hello;

	if (strcmp(j->buildlet, h->name))
		return 0;
	if (ref_listed(h->running, h->n_running, j->id, j->attempt) ||
	    ref_listed(h->held, h->n_held, j->id, j->attempt))
		store_job_push(&r->kept, &r->n_kept, &r->cap_kept, j);
	else
		store_job_push(&r->lost, &r->n_lost, &r->cap_lost, j);
	return 0;
}

static int kept_has(const struct reconcile *r, int64_t job, int attempt)
{
	for (size_t i = 0; i < r->n_kept; i++)
		if (r->kept[i].id == job && r->kept[i].attempt == attempt)
			return 1;
	return 0;
}

/* Welcome, with where each kept attempt's log should go on from. */
static void send_welcome(struct coord *c, struct session *s,
			 const struct reconcile *r)
{
	struct proto_msg w = {.type = PROTO_WELCOME};

	w.u.welcome.session = s->id;
	w.u.welcome.heartbeat_ms = c->cfg.heartbeat_ms;
	w.u.welcome.max_message = (int64_t)proto_default_limits.max_message;
	w.u.welcome.resume = xcalloc(r->n_kept + 1, sizeof *w.u.welcome.resume);
	for (size_t i = 0; i < r->n_kept; i++) {
		struct proto_resume *res = &w.u.welcome.resume[w.u.welcome.n_resume];

		res->job = r->kept[i].id;
		res->attempt = r->kept[i].attempt;
		if (!store_log_next_seq(c->store, res->job, res->attempt, &res->seq))
			w.u.welcome.n_resume++;
	}
	session_send(s, &w);
	free(w.u.welcome.resume);
}

/* Slots, states and cancels of the attempts the buildlet still knows. */
static void resume_kept(struct coord *c, struct session *s,
			const struct reconcile *r)
{
	for (size_t i = 0; i < r->n_kept; i++) {
		const struct store_job *j = &r->kept[i];

		s->running++;
		if (j->state == JOB_DISPATCHED &&
		    ref_listed(s->hello.running, s->hello.n_running, j->id,
			       j->attempt) &&
		    !orch_job_transition(c, j->id, j->state, JOB_RUNNING))
			store_job_started(c->store, j->id, j->attempt, clock_wall_ms());
		if (j->cancel_requested)
			send_cancel(s, j->id, j->attempt);
	}
	/* Attempts it runs that were given to someone else meanwhile:
	 * they hold their slots until it says they are done. */
	for (size_t i = 0; i < s->hello.n_running; i++) {
		const struct proto_attempt_ref *ref = &s->hello.running[i];

		if (kept_has(r, ref->job, ref->attempt))
			continue;
		send_cancel(s, ref->job, ref->attempt);
		session_hold_slot(s, ref->job, ref->attempt);
		s->running++;
	}
}

void orch_job_lost(struct coord *c, const struct store_job *j, const char *why)
{
	char text[300];

	if (j->cancel_requested) {
		if (!orch_job_transition(c, j->id, j->state, JOB_CANCELLED))
			store_job_finish(c->store, j->id, j->attempt, JOB_CANCELLED,
					 -1, 0, 0, why, clock_wall_ms());
	} else if (j->lost + 1 >= c->cfg.max_attempts) {
		snprintf(text, sizeof text, "buildlet lost %d times (last: %s)",
			 j->lost + 1, why);
		if (!orch_job_transition(c, j->id, j->state, JOB_ERROR))
			store_job_finish(c->store, j->id, j->attempt, JOB_ERROR, -1,
					 0, 0, text, clock_wall_ms());
	} else {
		snprintf(text, sizeof text, "attempt %d lost (%s); waiting to run again",
			 j->attempt, why);
		if (!orch_job_transition(c, j->id, j->state, JOB_QUEUED)) {
			store_attempt_lost(c->store, j->id, j->attempt, why,
					   clock_wall_ms());
			store_job_requeue(c->store, j->id, text);
		}
	}
}

int orch_cancel_build(struct coord *c, int64_t build)
{
	struct store_job *jobs = NULL;
	size_t n = 0;
	int changed = 0;

	if (store_job_list_build(c->store, build, &jobs, &n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct store_job *j = &jobs[i];
		struct session *s;

		if (job_state_final(j->state) || j->cancel_requested)
			continue;
		store_job_request_cancel(c->store, j->id);
		changed++;
		if (j->state == JOB_QUEUED) {
			if (!orch_job_transition(c, j->id, j->state, JOB_CANCELLED))
				store_job_finish(c->store, j->id, j->attempt,
						 JOB_CANCELLED, -1, 0, 0, "",
						 clock_wall_ms());
		} else if ((s = session_find(c, j->buildlet))) {
			send_cancel(s, j->id, j->attempt);
		}
	}
	store_job_array_free(&jobs, n);
	return changed;
}

int orch_retry_build(struct coord *c, int64_t build)
{
	struct store_job *jobs = NULL;
	size_t n = 0;
	int retried = 0;

	if (store_job_list_build(c->store, build, &jobs, &n) || !n) {
		store_job_array_free(&jobs, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_job *j = &jobs[i];

		if (j->state != JOB_FAILED && j->state != JOB_ERROR &&
		    j->state != JOB_CANCELLED)
			continue;
		if (!orch_job_transition(c, j->id, j->state, JOB_QUEUED) &&
		    !store_job_retry(c->store, j->id, "retried"))
			retried++;
	}
	store_job_array_free(&jobs, n);
	if (retried)
		log_info("build %lld: %d job(s) queued again", (long long)build,
			 retried);
	return retried;
}

/* Remember the buildlet, as it describes itself. */
static void record_buildlet(struct coord *c, const struct session *s)
{
	struct store_buildlet row;
	json_t *plat = json_array(), *labels = json_array();
	int64_t now = clock_wall_ms();

	for (size_t i = 0; i < s->hello.platforms.n; i++)
		json_array_append_new(plat, json_string(s->hello.platforms.v[i]));
	for (size_t i = 0; i < s->hello.labels.n; i++)
		json_array_append_new(labels, json_string(s->hello.labels.v[i]));
	row = (struct store_buildlet){
		s->hello.name, s->hello.host_type,
		json_dumps(plat, JSON_COMPACT), json_dumps(labels, JSON_COMPACT),
		s->hello.version, s->hello.capacity, now, now, 0};
	store_buildlet_upsert(c->store, &row);
	free(row.platforms);
	free(row.labels);
	json_decref(plat);
	json_decref(labels);
}

void orch_on_hello(struct coord *c, struct session *s)
{
	struct reconcile rec = {s, NULL, 0, 0, NULL, 0, 0};
	char why[128];

	record_buildlet(c, s);
	metrics_buildlet_hello(c->metrics, lease_buildlet_back(c, s->hello.name));
	s->running = 0;
	store_job_scan_active(c->store, reconcile_job, &rec);
	send_welcome(c, s, &rec);
	resume_kept(c, s, &rec);
	s->drained = store_buildlet_drained(c->store, s->hello.name);
	if (s->drained)
		session_send(s, &(struct proto_msg){.type = PROTO_DRAIN});
	for (size_t i = 0; i < rec.n_lost; i++) {
		snprintf(why, sizeof why, "%s reconnected without it", s->hello.name);
		orch_job_lost(c, &rec.lost[i], why);
	}
	store_job_array_free(&rec.kept, rec.n_kept);
	store_job_array_free(&rec.lost, rec.n_lost);
	orch_replan(c);
	dash_mark_buildlets(c);
}

void orch_on_started(struct coord *c, struct session *s,
		     const struct proto_attempt_ref *r)
{
	struct store_job j;

	if (!owned_attempt(c, s, r->job, r->attempt, &j))
		log_debug("job %lld attempt %d: started from %s dropped (not its "
			  "attempt)", (long long)r->job, (int)r->attempt,
			  s->hello.name);
	else if (j.state == JOB_DISPATCHED &&
		 !orch_job_transition(c, j.id, j.state, JOB_RUNNING))
		store_job_started(c->store, j.id, r->attempt, clock_wall_ms());
	store_job_clear(&j);
}

void orch_on_log(struct coord *c, struct session *s, const struct proto_log *l)
{
	int64_t cut = 0;

	if (store_job_runs_on(c->store, l->job, l->attempt, s->hello.name)) {
		store_log_append(c->store, l->job, l->attempt, l->seq, l->stream,
				 l->data, l->len, c->cfg.max_log_bytes, &cut);
		metrics_log_bytes(c->metrics, l->len, cut);
		http_streams_wake(c, l->job);
		dash_mark_log(c, l->job);
	} else {
		log_debug("job %lld attempt %d: log from %s dropped (not its attempt)",
			  (long long)l->job, (int)l->attempt, s->hello.name);
	}
}

static enum job_state result_state(const struct store_job *j,
				   const struct proto_done *d)
{
	if (j->cancel_requested)
		return JOB_CANCELLED;
	if (d->error[0])
		return JOB_ERROR;
	return d->exit_code == 0 && d->signal == 0 ? JOB_PASSED : JOB_FAILED;
}

static void send_ack(struct session *s, int64_t job, int attempt)
{
	struct proto_msg ack = {.type = PROTO_ACK};

	ack.u.ref.job = job;
	ack.u.ref.attempt = attempt;
	session_send(s, &ack);
}

/* The reported artifacts must be stored blobs of the sizes reported;
 * those that are become a[]. Sets *to to error if one is not. */
static void check_uploaded(struct coord *c, const struct proto_done *d,
			   enum job_state *to, char *why, size_t n,
			   struct store_artifact *a, size_t *n_a)
{
	for (size_t i = 0; i < d->n_artifacts; i++) {
		const struct proto_artifact *pa = &d->artifacts[i];
		int64_t size = -1;

		if (!sha256_hex_valid(pa->sha256) || pa->name[0] == '/' ||
		    strstr(pa->name, "..") ||
		    !blobs_exists(c->blob_dir, pa->sha256, &size) ||
		    size != pa->size) {
			snprintf(why, n, "artifact %.100s was not uploaded (no blob "
				 "%.64s of %lld bytes)", pa->name, pa->sha256,
				 (long long)pa->size);
			*to = JOB_ERROR;
			return;
		}
		a[(*n_a)++] = (struct store_artifact){pa->name, pa->sha256, pa->size};
	}
}

/*
 * An attempt over an artifact cap has failed, naming the file and the
 * cap: what it reports is checked against the caps (its blobs may have
 * existed already, so no upload was refused), else an upload the blob
 * route refused says so. Returns 1 if it is over.
 */
static int check_caps(struct coord *c, const struct proto_done *d,
		      enum job_state *to, char *why, size_t n)
{
	const struct caps cap = {c->cfg.max_artifact_bytes, c->cfg.max_artifacts,
				 c->cfg.max_artifact_total};
	struct store_uploads u;
	int64_t bytes = 0;

	for (size_t i = 0; i < d->n_artifacts; i++) {
		const struct proto_artifact *pa = &d->artifacts[i];

		if (caps_artifact_check(&cap, (int64_t)i, bytes, pa->name,
					pa->size, why, n)) {
			*to = JOB_FAILED;
			return 1;
		}
		bytes += pa->size;
	}
	if (store_attempt_uploads(c->store, d->job, d->attempt, &u) ||
	    !u.refused[0])
		return 0;
	snprintf(why, n, "%s", u.refused);
	*to = JOB_FAILED;
	return 1;
}

/* A passed job whose artifact pattern matched nothing has failed. */
static void check_patterns(struct coord *c, const struct store_job *j,
			   enum job_state *to, char *why, size_t n,
			   const struct store_artifact *a, size_t n_a)
{
	struct store_build b;
	json_t *spec, *pat;
	size_t i;

	if (store_build_get(c->store, j->build_id, &b))
		return;
	spec = json_loads(b.spec, 0, NULL);
	store_build_clear(&b);
	json_array_foreach(json_object_get(spec, "artifacts"), i, pat) {
		const char *p = json_string_value(pat);
		size_t k = 0;

		while (k < n_a && fnmatch(p, a[k].name, FNM_PATHNAME))
			k++;
		if (k == n_a) {
			snprintf(why, n, "artifact %.200s: no file matched", p);
			*to = JOB_FAILED;
			break;
		}
	}
	json_decref(spec);
}

void orch_on_done(struct coord *c, struct session *s, const struct proto_done *d)
{
	struct store_artifact *arts = NULL;
	size_t n_arts = 0;
	char why[400] = "";
	struct store_job j;
	enum job_state to;
	int owned = owned_attempt(c, s, d->job, d->attempt, &j);

	if (!owned || job_state_final(j.state)) {
		session_release_slot(s, d->job, d->attempt);
		log_info("job %lld attempt %d: result from %s acknowledged and "
			 "dropped: %s", (long long)d->job, (int)d->attempt,
			 s->hello.name, owned ? "already recorded"
			 : "not its attempt (superseded, or never given to it)");
		store_job_clear(&j);
		send_ack(s, d->job, d->attempt);
		return;
	}
	to = result_state(&j, d);
	arts = xcalloc(d->n_artifacts + 1, sizeof *arts);
	if (to != JOB_CANCELLED && !check_caps(c, d, &to, why, sizeof why))
		check_uploaded(c, d, &to, why, sizeof why, arts, &n_arts);
	if (to == JOB_PASSED)
		check_patterns(c, &j, &to, why, sizeof why, arts, n_arts);
	metrics_job_duration(c->metrics, d->duration_ms);
	if (!orch_job_transition(c, j.id, j.state, to) &&
	    !store_job_finish(c->store, j.id, d->attempt, to, d->exit_code,
			      d->signal, d->duration_ms, why[0] ? why : d->error,
			      clock_wall_ms()) &&
	    !store_artifacts_set(c->store, j.id, arts, n_arts) &&
	    !store_job_set_commit(c->store, j.id, d->commit ? d->commit : "") &&
	    !store_flush(c->store)) {
		/* Acknowledge only what is committed: until then the
		 * buildlet keeps the result and resends it. */
		send_ack(s, d->job, d->attempt);
	}
	if (s->running > 0)
		s->running--;
	orch_slot_freed(c, s);
	free(arts);
	store_job_clear(&j);
}

void orch_on_session_closed(struct coord *c, struct session *s)
{
	lease_buildlet_gone(c, s->hello.name, clock_mono_ms());
	orch_replan(c);
	dash_mark_buildlets(c);
}
