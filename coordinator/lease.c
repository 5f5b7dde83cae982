/*
 * lease.c - buildlets that go silent or away, and the jobs they hold.
 *
 * A session that sends nothing for three heartbeats is closed (a stopped
 * or cut-off machine keeps its TCP connection open). A buildlet without a
 * session keeps its jobs for the grace period, so a network blip or a
 * coordinator restart costs nothing; after that its jobs are lost and go
 * back to the queue (orch_job_lost). After a coordinator restart the grace
 * period counts from the start, not from the buildlet's last message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "internal.h"
#include "log.h"
#include "xalloc.h"

#define LEASE_CHECK_MS 1000
#define SILENCE_MIN_MS 3000

struct absent {
	struct list link;  /* in coord->absent */
	char name[65];     /* buildlet name */
	int64_t since_ms;  /* monotonic time its session ended */
};

static struct absent *absent_find(struct coord *c, const char *name)
{
	struct list *l;

	list_for_each(l, &c->absent) {
		struct absent *a = list_entry(l, struct absent, link);

		if (!strcmp(a->name, name))
			return a;
	}
	return NULL;
}

void lease_buildlet_gone(struct coord *c, const char *name, int64_t now_ms)
{
	struct absent *a = absent_find(c, name);

	if (!a) {
		a = xcalloc(1, sizeof *a);
		snprintf(a->name, sizeof a->name, "%s", name);
		list_add_tail(&c->absent, &a->link);
	}
	a->since_ms = now_ms;
}

int lease_buildlet_back(struct coord *c, const char *name)
{
	struct absent *a = absent_find(c, name);

	if (!a)
		return 0;
	list_del(&a->link);
	free(a);
	return 1;
}

void lease_free_all(struct coord *c)
{
	struct list *l;

	while ((l = list_pop(&c->absent)))
		free(list_entry(l, struct absent, link));
}

/* c->by_rx is in the order buildlets were last heard from: the walk
 * stops at the first that is not silent, so a check costs the silent
 * ones (and those already closing), not the whole farm. */
static void close_silent_sessions(struct coord *c, int64_t now_ms)
{
	int64_t limit = 3 * (int64_t)c->cfg.heartbeat_ms;
	struct list *l;
	char why[96];

	if (limit < SILENCE_MIN_MS)
		limit = SILENCE_MIN_MS;
	list_for_each(l, &c->by_rx) {
		struct session *s = list_entry(l, struct session, rx_link);

		if (now_ms - s->last_rx_ms <= limit)
			break;
		if (s->closing)
			continue;
		snprintf(why, sizeof why, "no message for %lld ms (heartbeat %d ms)",
			 (long long)(now_ms - s->last_rx_ms), c->cfg.heartbeat_ms);
		session_close(s, LWS_CLOSE_STATUS_GOINGAWAY, why);
	}
}

struct expired {
	struct coord *c;        /* owner */
	int64_t now_ms;         /* monotonic now */
	int64_t wall_ms;        /* wall-clock now, for deadlines */
	struct store_job *jobs; /* jobs whose lease ran out */
	size_t n, cap;
	struct store_job *late; /* jobs past their deadline */
	size_t n_late, cap_late;
};

static int collect_expired(void *ud, const struct store_job *j)
{
	struct expired *e = ud;
	struct absent *a;
	int64_t since;

	if (j->deadline_ms && e->wall_ms > j->deadline_ms) {
		store_job_push(&e->late, &e->n_late, &e->cap_late, j);
		return 0;
	}
	if (session_find(e->c, j->buildlet))
		return 0;
	a = absent_find(e->c, j->buildlet);
	since = a ? a->since_ms : e->c->started_ms;
	if (e->now_ms - since < e->c->cfg.grace_ms)
		return 0;
	store_job_push(&e->jobs, &e->n, &e->cap, j);
	return 0;
}

/* The buildlet should have ended it long ago: end it here, and tell the
 * buildlet (if it is there) to stop; its late result will be dropped. */
static void end_late_job(struct coord *c, const struct store_job *j,
			 int64_t wall_ms)
{
	struct session *s = session_find(c, j->buildlet);
	char why[160];

	snprintf(why, sizeof why, "timed out: the buildlet did not end it "
		 "within %d s after its time limit, so the coordinator did",
		 c->cfg.timeout_margin_ms / 1000);
	if (orch_job_transition(c, j->id, j->state, JOB_ERROR))
		return;
	store_job_finish(c->store, j->id, j->attempt, JOB_ERROR, -1, 0, 0, why,
			 wall_ms);
	if (s) {
		struct proto_msg m = {.type = PROTO_CANCEL};

		m.u.ref.job = j->id;
		m.u.ref.attempt = j->attempt;
		session_send(s, &m);
		/* its slot stays busy until the buildlet says done */
		session_hold_slot(s, j->id, j->attempt);
	}
}

/* `rfarm revoke` writes the store: a revoked buildlet is cut at once, and
 * so is one whose credential expired. */
static void close_revoked(struct coord *c)
{
	char **names = NULL;
	size_t n = 0;

	if (store_enrol_names(c->store, 1, clock_wall_ms(), &names, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		struct session *s = session_find(c, names[i]);

		if (s && s->auth.enrolled[0] && !s->closing)
			session_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				      "this buildlet's credential was revoked "
				      "or expired");
		free(names[i]);
	}
	free(names);
}

void lease_check(struct coord *c, int64_t now_ms)
{
	struct expired e = {c, now_ms, clock_wall_ms(), NULL, 0, 0, NULL, 0, 0};
	char why[160];

	if (now_ms - c->lease_checked_ms < LEASE_CHECK_MS)
		return;
	c->lease_checked_ms = now_ms;
	close_silent_sessions(c, now_ms);
	close_revoked(c);
	store_job_scan_active(c->store, collect_expired, &e);
	for (size_t i = 0; i < e.n; i++) {
		snprintf(why, sizeof why, "buildlet %.64s was away for more than %d s",
			 e.jobs[i].buildlet, c->cfg.grace_ms / 1000);
		orch_job_lost(c, &e.jobs[i], why);
	}
	for (size_t i = 0; i < e.n_late; i++)
		end_late_job(c, &e.late[i], e.wall_ms);
	store_job_array_free(&e.jobs, e.n);
	store_job_array_free(&e.late, e.n_late);
}
