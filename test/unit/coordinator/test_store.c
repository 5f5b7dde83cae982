/*
 * test_store.c - unit tests for coordinator/store.c on a real SQLite file
 * in a temporary directory: schema and migrations, builds, jobs and their
 * attempts through the life cycle, queue order, logs (dedup, order,
 * limits, gaps), buildlets, API tokens and enrolments, upload tokens and
 * artifacts, build listing filters, and when writes become visible to
 * another connection.
 *
 * The store is the only product file that includes sqlite3.h; this test
 * does too, to look at the database from a second, independent connection
 * (journal mode, user_version) the way an operator's sqlite3 shell would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
#include "xalloc.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The number of migrations in store.c; bump it with a new migration. */
#define SCHEMA_VERSION 7

/* ---- fixture ---------------------------------------------------------- */

struct fx {
	char *dir;       /* temporary directory */
	char *path;      /* dir/rfarm.db */
	struct store *s; /* open store on path */
};

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");
	struct fx *f = xcalloc(1, sizeof *f);
	struct errbuf eb = {""};

	f->dir = xasprintf("%s/rfarm-test-store.XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	f->path = xasprintf("%s/rfarm.db", f->dir);
	if (store_open(f->path, &f->s, &eb)) {
		fprintf(stderr, "store_open: %s\n", eb.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int r;

	store_close(&f->s);
	r = system(cmd);
	free(cmd);
	free(f->path);
	free(f->dir);
	free(f);
	return r == 0 ? 0 : -1;
}

/* One text value of sql, read through a separate connection. */
static char *peek_text(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *out = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static int64_t new_build(struct store *s, int64_t created_ms)
{
	int64_t id = 0;

	assert_int_equal(store_build_insert(s, created_ms, 0, "{}", &id), RC_OK);
	assert_true(id > 0);
	return id;
}

static int64_t new_job(struct store *s, int64_t build, const char *platform,
		       int priority, int64_t created_ms)
{
	int64_t id = 0;

	assert_int_equal(store_job_insert(s, build, platform, "[]", priority,
					  created_ms, &id),
			 RC_OK);
	assert_true(id > 0);
	return id;
}

/* Move a queued job to a final state through dispatch and start. */
static void run_to(struct store *s, int64_t job, enum job_state st)
{
	assert_int_equal(store_job_dispatch(s, job, 1, "b1", 10), RC_OK);
	if (st == JOB_DISPATCHED)
		return;
	assert_int_equal(store_job_started(s, job, 1, 20), RC_OK);
	if (st == JOB_RUNNING)
		return;
	assert_int_equal(store_job_finish(s, job, 1, st, st == JOB_PASSED ? 0 : 1,
					  0, 10, "", 30),
			 RC_OK);
}

static enum job_state job_state_of(struct store *s, int64_t id)
{
	struct store_job j;
	enum job_state st;

	assert_int_equal(store_job_get(s, id, &j), RC_OK);
	st = j.state;
	store_job_clear(&j);
	return st;
}

/* ---- schema ----------------------------------------------------------- */

static void test_open_creates_wal_db(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char *mode, *ver, *tables;

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(store_schema_version(f->s), SCHEMA_VERSION);
	mode = peek_text(f->path, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	ver = peek_text(f->path, "PRAGMA user_version");
	assert_int_equal(atoi(ver), SCHEMA_VERSION);
	tables = peek_text(f->path,
			   "SELECT group_concat(name, ',') FROM (SELECT name FROM"
			   " sqlite_master WHERE type='table' ORDER BY name)");
	assert_string_equal(tables, "api_tokens,artifacts,attempts,blobs,buildlets,builds,"
				    "commits,enrolments,id_floor,jobs,log_chunks,"
				    "log_meta,"
				    "repo_heads,repos");
	free(mode);
	free(ver);
	free(tables);
}

static void test_reopen_idempotent(void **state)
{
	struct fx *f = *state;
	struct errbuf eb = {""};
	struct store_build b;
	int64_t id = new_build(f->s, 1234);

	for (int i = 0; i < 3; i++) {
		store_close(&f->s);
		assert_null(f->s);
		assert_int_equal(store_open(f->path, &f->s, &eb), RC_OK);
		assert_int_equal(store_schema_version(f->s), SCHEMA_VERSION);
	}
	/* Closing committed the insert; migrations did not run again. */
	assert_int_equal(store_build_get(f->s, id, &b), RC_OK);
	assert_int_equal(b.created_ms, 1234);
	store_build_clear(&b);
	assert_string_equal(eb.msg, "");
}

static void test_open_newer_schema_fails(void **state)
{
	struct fx *f = *state;
	struct errbuf eb = {""};
	struct store *s2 = (struct store *)f; /* must be reset to NULL */
	sqlite3 *db = NULL;
	char sql[64];

	store_close(&f->s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	snprintf(sql, sizeof sql, "PRAGMA user_version=%d", SCHEMA_VERSION + 1);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(f->path, &s2, &eb), RC_DB);
	assert_null(s2);
	assert_non_null(strstr(eb.msg, "newer"));
}

static void test_open_errors(void **state)
{
	struct fx *f = *state;
	struct errbuf eb = {""};
	struct store *s2 = NULL;
	char *missing = xasprintf("%s/no/such/dir/rfarm.db", f->dir);
	char *junk = xasprintf("%s/junk.db", f->dir);
	FILE *fp;

	assert_int_equal(store_open(missing, &s2, &eb), RC_DB);
	assert_null(s2);
	assert_non_null(strstr(eb.msg, missing));

	fp = fopen(junk, "w");
	assert_non_null(fp);
	for (int i = 0; i < 100; i++)
		fputs("this is not an SQLite database\n", fp);
	fclose(fp);
	errbuf_clear(&eb);
	assert_int_equal(store_open(junk, &s2, &eb), RC_DB);
	assert_null(s2);
	assert_string_not_equal(eb.msg, "");
	free(missing);
	free(junk);
}

/* ---- builds and jobs -------------------------------------------------- */

static void test_build_insert_get(void **state)
{
	struct fx *f = *state;
	struct store_build b;
	int64_t id1 = 0, id2 = 0;

	assert_int_equal(store_build_insert(f->s, 1000, 7, "{\"a\":1}", &id1), RC_OK);
	assert_int_equal(store_build_insert(f->s, 2000, -3, "{\"b\":\"'\"}", &id2),
			 RC_OK);
	assert_true(id2 > id1);
	assert_int_equal(store_build_get(f->s, id1, &b), RC_OK);
	assert_int_equal(b.id, id1);
	assert_int_equal(b.created_ms, 1000);
	assert_int_equal(b.priority, 7);
	assert_string_equal(b.spec, "{\"a\":1}");
	store_build_clear(&b);
	assert_null(b.spec);
	assert_int_equal(store_build_get(f->s, id2, &b), RC_OK);
	assert_int_equal(b.priority, -3);
	assert_string_equal(b.spec, "{\"b\":\"'\"}"); /* bound, not spliced */
	store_build_clear(&b);
	assert_int_equal(store_build_get(f->s, id2 + 100, &b), RC_NOT_FOUND);
	assert_null(b.spec);
}

static void test_job_insert_get_list(void **state)
{
	struct fx *f = *state;
	int64_t b1 = new_build(f->s, 1), b2 = new_build(f->s, 2), ids[3], other;
	static const char *const plats[] = {"linux/amd64", "linux/arm64", "darwin/arm64"};
	struct store_job *jobs = NULL, j;
	size_t n = 99;

	for (size_t i = 0; i < N(ids); i++)
		assert_int_equal(store_job_insert(f->s, b1, plats[i], "[\"large\"]", 4,
						  500 + (int64_t)i, &ids[i]),
				 RC_OK);
	other = new_job(f->s, b2, "linux/amd64", 0, 9);

	assert_int_equal(store_job_get(f->s, ids[1], &j), RC_OK);
	assert_int_equal(j.id, ids[1]);
	assert_int_equal(j.build_id, b1);
	assert_string_equal(j.platform, "linux/arm64");
	assert_string_equal(j.labels, "[\"large\"]");
	assert_int_equal(j.state, JOB_QUEUED);
	assert_int_equal(j.priority, 4);
	assert_int_equal(j.created_ms, 501);
	assert_int_equal(j.attempt, 0);
	assert_string_equal(j.buildlet, "");
	assert_int_equal(j.started_ms, 0);
	assert_int_equal(j.finished_ms, 0);
	assert_int_equal(j.exit_code, -1);
	assert_int_equal(j.signal, 0);
	assert_int_equal(j.duration_ms, 0);
	assert_string_equal(j.error, "");
	assert_string_equal(j.reason, "");
	assert_int_equal(j.cancel_requested, 0);
	store_job_clear(&j);
	assert_int_equal(store_job_get(f->s, other + 100, &j), RC_NOT_FOUND);

	assert_int_equal(store_job_list_build(f->s, b1, &jobs, &n), RC_OK);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(jobs[i].id, ids[i]); /* in id order */
		assert_string_equal(jobs[i].platform, plats[i]);
	}
	store_job_array_free(&jobs, n);
	assert_null(jobs);
	assert_int_equal(store_job_list_build(f->s, b2, &jobs, &n), RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(jobs[0].id, other);
	store_job_array_free(&jobs, n);
	assert_int_equal(store_job_list_build(f->s, b2 + 100, &jobs, &n), RC_OK);
	assert_int_equal(n, 0);
	assert_null(jobs);
}

/* ---- scans ------------------------------------------------------------ */

struct seen {
	int64_t ids[32]; /* ids in callback order */
	size_t n;        /* how many */
	size_t stop_at;  /* return 1 after this many (0 = never) */
};

static int on_job(void *ud, const struct store_job *j)
{
	struct seen *s = ud;

	assert_true(s->n < N(s->ids));
	s->ids[s->n++] = j->id;
	return s->stop_at && s->n >= s->stop_at;
}

static void test_queue_order(void **state)
{
	struct fx *f = *state;
	int64_t b = new_build(f->s, 1);
	/* Inserted scrambled: priority DESC, then created_ms, then id. */
	static const struct {
		int priority;       /* job priority */
		int64_t created_ms; /* job age */
		int rank;           /* expected position in the queue */
	} jobs[] = {
		{0, 100, 3}, {5, 300, 2}, {5, 200, 0}, {0, 100, 4},
		{-1, 50, 5}, {5, 200, 1},
	};
	int64_t ids[N(jobs)], busy;
	struct seen seen = {{0}, 0, 0};

	for (size_t i = 0; i < N(jobs); i++)
		ids[i] = new_job(f->s, b, "linux/amd64", jobs[i].priority,
				 jobs[i].created_ms);
	/* Not queued: never in the queue, whatever its priority. */
	busy = new_job(f->s, b, "linux/amd64", 1000, 1);
	run_to(f->s, busy, JOB_DISPATCHED);
	/* whose attempt it is: what every log chunk checks */
	assert_true(store_job_runs_on(f->s, busy, 1, "b1"));
	assert_false(store_job_runs_on(f->s, busy, 2, "b1"));
	assert_false(store_job_runs_on(f->s, busy, 1, "b2"));
	assert_false(store_job_runs_on(f->s, ids[0], 1, "b1")); /* queued */

	assert_int_equal(store_job_scan_queue(f->s, 0, 100, on_job, &seen), RC_OK);
	assert_int_equal(seen.n, N(jobs));
	for (size_t i = 0; i < N(jobs); i++)
		if (seen.ids[jobs[i].rank] != ids[i])
			fail_msg("queue position %d: job %lld, want %lld", jobs[i].rank,
				 (long long)seen.ids[jobs[i].rank], (long long)ids[i]);

	/* limit */
	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_job_scan_queue(f->s, 0, 2, on_job, &seen), RC_OK);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.ids[0], ids[2]);
	assert_int_equal(seen.ids[1], ids[5]);

	/* early stop from the callback */
	memset(&seen, 0, sizeof seen);
	seen.stop_at = 3;
	assert_int_equal(store_job_scan_queue(f->s, 0, 100, on_job, &seen), RC_OK);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.ids[2], ids[1]);

	/* a page further on: positions 3 and 4 */
	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_job_scan_queue(f->s, 3, 2, on_job, &seen),
			 RC_OK);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.ids[0], ids[0]);
	assert_int_equal(seen.ids[1], ids[3]);

	/* unplanned: only jobs with no reason yet, still in queue order */
	assert_int_equal(store_job_set_reason(f->s, ids[5], "waiting"), RC_OK);
	assert_int_equal(store_job_set_reason(f->s, ids[0], "waiting"), RC_OK);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_job_scan_unplanned(f->s, 100, on_job, &seen),
			 RC_OK);
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.ids[0], ids[2]);
	assert_int_equal(seen.ids[1], ids[1]);
	assert_int_equal(seen.ids[2], ids[3]);
	assert_int_equal(seen.ids[3], ids[4]);
}

static void test_scan_active_and_count(void **state)
{
	struct fx *f = *state;
	int64_t b = new_build(f->s, 1);
	static const enum job_state states[] = {
		JOB_QUEUED, JOB_RUNNING, JOB_PASSED, JOB_DISPATCHED,
		JOB_FAILED, JOB_RUNNING, JOB_QUEUED, JOB_QUEUED,
	};
	static const int64_t want_count[JOB__COUNT] = {
		[JOB_QUEUED] = 3, [JOB_DISPATCHED] = 1, [JOB_RUNNING] = 2,
		[JOB_PASSED] = 1, [JOB_FAILED] = 1,
	};
	int64_t ids[N(states)];
	struct seen seen = {{0}, 0, 0};

	for (size_t i = 0; i < N(states); i++) {
		ids[i] = new_job(f->s, b, "linux/amd64", 0, 1);
		if (states[i] != JOB_QUEUED)
			run_to(f->s, ids[i], states[i]);
		assert_int_equal(job_state_of(f->s, ids[i]), states[i]);
	}
	assert_int_equal(store_job_scan_active(f->s, on_job, &seen), RC_OK);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.ids[0], ids[1]);
	assert_int_equal(seen.ids[1], ids[3]);
	assert_int_equal(seen.ids[2], ids[5]);

	memset(&seen, 0, sizeof seen);
	seen.stop_at = 1;
	assert_int_equal(store_job_scan_active(f->s, on_job, &seen), RC_OK);
	assert_int_equal(seen.n, 1);

	for (int st = 0; st < JOB__COUNT; st++)
		if (store_job_count_state(f->s, st) != want_count[st])
			fail_msg("count(%s) = %lld, want %lld", job_state_name(st),
				 (long long)store_job_count_state(f->s, st),
				 (long long)want_count[st]);
}

/* ---- the life cycle --------------------------------------------------- */

static void test_dispatch_start_finish(void **state)
{
	struct fx *f = *state;
	int64_t id = new_job(f->s, new_build(f->s, 1), "linux/amd64", 0, 1);
	struct store_attempt *a = NULL;
	struct store_job j;
	size_t n = 0;

	assert_int_equal(store_job_set_reason(f->s, id, "waiting for a free linux/amd64 buildlet"),
			 RC_OK);
	assert_int_equal(store_job_dispatch(f->s, id, 1, "b1", 1000), RC_OK);
	assert_int_equal(store_job_get(f->s, id, &j), RC_OK);
	assert_int_equal(j.state, JOB_DISPATCHED);
	assert_int_equal(j.attempt, 1);
	assert_string_equal(j.buildlet, "b1");
	assert_string_equal(j.reason, ""); /* no longer waiting */
	store_job_clear(&j);
	assert_int_equal(store_attempt_list(f->s, id, &a, &n), RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].job_id, id);
	assert_int_equal(a[0].n, 1);
	assert_string_equal(a[0].buildlet, "b1");
	assert_int_equal(a[0].dispatched_ms, 1000);
	assert_int_equal(a[0].started_ms, 0);
	assert_int_equal(a[0].finished_ms, 0);
	assert_int_equal(a[0].exit_code, -1);
	store_attempt_array_free(&a, n);
	assert_null(a);

	assert_int_equal(store_job_started(f->s, id, 1, 1100), RC_OK);
	assert_int_equal(store_job_get(f->s, id, &j), RC_OK);
	assert_int_equal(j.state, JOB_RUNNING);
	assert_int_equal(j.started_ms, 1100);
	store_job_clear(&j);

	assert_int_equal(store_job_finish(f->s, id, 1, JOB_FAILED, 2, 0, 900, "", 2000),
			 RC_OK);
	assert_int_equal(store_job_get(f->s, id, &j), RC_OK);
	assert_int_equal(j.state, JOB_FAILED);
	assert_int_equal(j.exit_code, 2);
	assert_int_equal(j.signal, 0);
	assert_int_equal(j.duration_ms, 900);
	assert_int_equal(j.finished_ms, 2000);
	assert_string_equal(j.error, "");
	store_job_clear(&j);
	assert_int_equal(store_attempt_list(f->s, id, &a, &n), RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].started_ms, 1100);
	assert_int_equal(a[0].finished_ms, 2000);
	assert_int_equal(a[0].exit_code, 2);
	assert_int_equal(a[0].duration_ms, 900);
	store_attempt_array_free(&a, n);
}

static void test_requeue_and_second_attempt(void **state)
{
	struct fx *f = *state;
	int64_t id = new_job(f->s, new_build(f->s, 1), "linux/amd64", 0, 1);
	struct store_attempt *a = NULL;
	struct store_job j;
	size_t n = 0;

	assert_int_equal(store_job_dispatch(f->s, id, 1, "b1", 1000), RC_OK);
	assert_int_equal(store_job_started(f->s, id, 1, 1100), RC_OK);
	assert_int_equal(store_job_requeue(f->s, id, "buildlet b1 lost"), RC_OK);
	assert_int_equal(store_job_get(f->s, id, &j), RC_OK);
	assert_int_equal(j.state, JOB_QUEUED);
	assert_string_equal(j.buildlet, "");
	assert_int_equal(j.started_ms, 0);
	assert_string_equal(j.reason, "buildlet b1 lost");
	assert_int_equal(j.attempt, 1); /* the next dispatch says 2 */
	store_job_clear(&j);

	assert_int_equal(store_job_dispatch(f->s, id, 2, "b2", 3000), RC_OK);
	/* A late "started" of the superseded attempt does not move the job. */
	assert_int_equal(store_job_started(f->s, id, 1, 3050), RC_OK);
	assert_int_equal(job_state_of(f->s, id), JOB_DISPATCHED);
	assert_int_equal(store_job_started(f->s, id, 2, 3100), RC_OK);
	assert_int_equal(store_job_finish(f->s, id, 2, JOB_ERROR, -1, 9, 5000,
					  "timed out after 5s", 8100),
			 RC_OK);
	assert_int_equal(store_job_get(f->s, id, &j), RC_OK);
	assert_int_equal(j.state, JOB_ERROR);
	assert_int_equal(j.attempt, 2);
	assert_string_equal(j.buildlet, "b2");
	assert_int_equal(j.started_ms, 3100);
	assert_int_equal(j.signal, 9);
	assert_string_equal(j.error, "timed out after 5s");
	assert_string_equal(j.reason, "");
	store_job_clear(&j);

	assert_int_equal(store_attempt_list(f->s, id, &a, &n), RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(a[0].n, 1);
	assert_string_equal(a[0].buildlet, "b1");
	assert_int_equal(a[0].dispatched_ms, 1000);
	assert_int_equal(a[0].finished_ms, 0); /* lost, never finished */
	assert_string_equal(a[0].error, "");
	assert_int_equal(a[1].n, 2);
	assert_string_equal(a[1].buildlet, "b2");
	assert_int_equal(a[1].dispatched_ms, 3000);
	assert_int_equal(a[1].started_ms, 3100);
	assert_int_equal(a[1].finished_ms, 8100);
	assert_int_equal(a[1].exit_code, -1);
	assert_int_equal(a[1].signal, 9);
	assert_int_equal(a[1].duration_ms, 5000);
	assert_string_equal(a[1].error, "timed out after 5s");
	store_attempt_array_free(&a, n);
}

static void test_finish_without_attempt(void **state)
{
	struct fx *f = *state;
	int64_t id = new_job(f->s, new_build(f->s, 1), "linux/amd64", 0, 1);
	struct store_attempt *a = NULL;
	size_t n = 99;

	/* Cancelled while queued: attempt 0, no attempt row. */
	assert_int_equal(store_job_finish(f->s, id, 0, JOB_CANCELLED, -1, 0, 0,
					  "", 500),
			 RC_OK);
	assert_int_equal(job_state_of(f->s, id), JOB_CANCELLED);
	assert_int_equal(store_attempt_list(f->s, id, &a, &n), RC_OK);
	assert_int_equal(n, 0);
	assert_null(a);
}

static void test_request_cancel(void **state)
{
	struct fx *f = *state;
	int64_t b = new_build(f->s, 1);
	int64_t j1 = new_job(f->s, b, "linux/amd64", 0, 1);
	int64_t j2 = new_job(f->s, b, "linux/arm64", 0, 1);
	struct store_job j;

	assert_int_equal(store_job_request_cancel(f->s, j1), RC_OK);
	assert_int_equal(store_job_get(f->s, j1, &j), RC_OK);
	assert_int_equal(j.cancel_requested, 1);
	assert_int_equal(j.state, JOB_QUEUED); /* only a request */
	store_job_clear(&j);
	assert_int_equal(store_job_get(f->s, j2, &j), RC_OK);
	assert_int_equal(j.cancel_requested, 0);
	store_job_clear(&j);
}

static void test_job_copy_is_deep(void **state)
{
	struct fx *f = *state;
	int64_t id = new_job(f->s, new_build(f->s, 1), "linux/amd64", 3, 77);
	struct store_job src, dst;

	run_to(f->s, id, JOB_RUNNING);
	assert_int_equal(store_job_set_reason(f->s, id, "why"), RC_OK);
	assert_int_equal(store_job_get(f->s, id, &src), RC_OK);
	store_job_copy(&dst, &src);
	assert_ptr_not_equal(dst.platform, src.platform);
	assert_ptr_not_equal(dst.labels, src.labels);
	assert_ptr_not_equal(dst.buildlet, src.buildlet);
	assert_ptr_not_equal(dst.error, src.error);
	assert_ptr_not_equal(dst.reason, src.reason);
	/* The copy outlives the original (ASan checks the reads). */
	store_job_clear(&src);
	assert_int_equal(dst.id, id);
	assert_int_equal(dst.priority, 3);
	assert_int_equal(dst.created_ms, 77);
	assert_int_equal(dst.state, JOB_RUNNING);
	assert_int_equal(dst.attempt, 1);
	assert_int_equal(dst.started_ms, 20);
	assert_string_equal(dst.platform, "linux/amd64");
	assert_string_equal(dst.labels, "[]");
	assert_string_equal(dst.buildlet, "b1");
	assert_string_equal(dst.error, "");
	assert_string_equal(dst.reason, "why");
	store_job_clear(&dst);
	assert_null(dst.platform);
}

/* ---- logs ------------------------------------------------------------- */

struct chunks {
	int64_t seq[32];  /* seq of each chunk given */
	int stream[32];   /* its stream */
	char text[1024];  /* all data, concatenated */
	size_t len;       /* bytes in text */
	size_t n;         /* chunks given */
};

static void on_chunk(void *ud, int64_t seq, int stream, const void *data,
		     size_t len)
{
	struct chunks *c = ud;

	assert_true(c->n < N(c->seq));
	assert_true(c->len + len < sizeof c->text);
	c->seq[c->n] = seq;
	c->stream[c->n++] = stream;
	if (len) {
		memcpy(c->text + c->len, data, len);
		c->len += len;
	}
	c->text[c->len] = '\0';
}

static void append(struct store *s, int64_t job, int attempt, int64_t seq,
		   int stream, const char *text)
{
	int64_t dropped = -1;

	assert_int_equal(store_log_append(s, job, attempt, seq, stream, text,
					  strlen(text), 0, &dropped),
			 RC_OK);
	assert_int_equal(dropped, 0);
}

static void test_log_dedup_and_size(void **state)
{
	struct fx *f = *state;
	int64_t job = new_job(f->s, new_build(f->s, 1), "linux/amd64", 0, 1);
	struct chunks c = {{0}, {0}, "", 0, 0};
	struct store_log_cursor cur = {0, 0};
	int64_t bytes = -1, cut = -1;

	append(f->s, job, 1, 0, 1, "hello ");
	append(f->s, job, 1, 1, 2, "oops\n");
	append(f->s, job, 1, 1, 2, "RESENT DIFFERENT"); /* same seq: ignored */
	append(f->s, job, 1, 2, 1, "world\n");
	append(f->s, job, 2, 0, 1, "attempt two\n"); /* another attempt */

	assert_int_equal(store_log_size(f->s, job, 1, 0, &bytes, &cut), RC_OK);
	assert_int_equal(bytes, 6 + 5 + 6);
	assert_int_equal(cut, 0);
	assert_int_equal(store_log_size(f->s, job, 1, 1, &bytes, NULL), RC_OK);
	assert_int_equal(bytes, 12);
	assert_int_equal(store_log_size(f->s, job, 1, 2, &bytes, NULL), RC_OK);
	assert_int_equal(bytes, 5);
	assert_int_equal(store_log_size(f->s, job, 3, 0, &bytes, &cut), RC_OK);
	assert_int_equal(bytes, 0);

	assert_int_equal(store_log_read(f->s, job, 1, 0, &cur, 1 << 20, 0,
					on_chunk, &c),
			 RC_OK);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.text, "hello oops\nworld\n"); /* first copy kept */
	assert_int_equal(c.stream[1], 2);
	assert_int_equal(cur.seq, 3);
	assert_int_equal(cur.off, 17);
}

static void test_log_read_modes(void **state)
{
	struct fx *f = *state;
	int64_t job = new_job(f->s, new_build(f->s, 1), "linux/amd64", 0, 1);
	/* Seqs 0..3 and 5..6 (4 is missing); 10 bytes each; stream 2 on 1, 5. */
	static const struct {
		int64_t seq; /* chunk seq */
		int stream;  /* 1 or 2 */
		const char *data; /* 10 bytes */
	} log[] = {
		{6, 1, "gggggggggg"}, {0, 1, "aaaaaaaaaa"}, {2, 1, "cccccccccc"},
		{1, 2, "bbbbbbbbbb"}, {5, 2, "ffffffffff"}, {3, 1, "dddddddddd"},
	};
	static const struct {
		int stream;         /* 0 = both */
		int64_t from;       /* first seq */
		size_t max;         /* max_bytes */
		int contiguous;     /* stop at a gap */
		const char *first;  /* first letters of the chunks given */
		int64_t next;       /* expected next_seq */
	} cases[] = {
		{0, 0, 1000, 0, "abcdfg", 7},
		{0, 0, 1000, 1, "abcd", 4},  /* stops at the gap */
		{0, 4, 1000, 1, "", 4},      /* the gap itself: nothing yet */
		{0, 5, 1000, 1, "fg", 7},
		{0, 2, 1000, 0, "cdfg", 7},
		{0, 0, 15, 0, "ab", 2},      /* stops once 15 bytes were given */
		{0, 0, 20, 0, "ab", 2},
		{0, 0, 21, 0, "abc", 3},
		{0, 0, 0, 0, "a", 1},        /* at least one chunk */
		{0, 0, 1, 1, "a", 1},
		{1, 0, 1000, 0, "acdg", 7},
		{1, 0, 1000, 1, "acd", 4},   /* skipped chunks still count for the gap */
		{2, 0, 1000, 0, "bf", 7},
		{2, 0, 5, 0, "b", 2},
		{0, 7, 1000, 0, "", 7},      /* past the end */
		{0, 100, 1000, 1, "", 100},
	};

	for (size_t i = 0; i < N(log); i++)
		append(f->s, job, 1, log[i].seq, log[i].stream, log[i].data);
	for (size_t i = 0; i < N(cases); i++) {
		struct chunks c = {{0}, {0}, "", 0, 0};
		struct store_log_cursor cur = {cases[i].from, 0};
		char first[16] = "";
		int64_t next;

		assert_int_equal(store_log_read(f->s, job, 1, cases[i].stream,
						&cur, cases[i].max,
						cases[i].contiguous, on_chunk, &c),
				 RC_OK);
		next = cur.seq;
		for (size_t k = 0; k < c.n; k++) {
			first[k] = c.text[k * 10];
			if (k && c.seq[k] <= c.seq[k - 1])
				fail_msg("case %zu: seq out of order", i);
		}
		first[c.n] = '\0';
		if (strcmp(first, cases[i].first) || next != cases[i].next)
			fail_msg("case %zu (stream %d from %lld max %zu contiguous %d): "
				 "got \"%s\" next %lld, want \"%s\" next %lld",
				 i, cases[i].stream, (long long)cases[i].from,
				 cases[i].max, cases[i].contiguous, first,
				 (long long)next, cases[i].first,
				 (long long)cases[i].next);
	}
}

static void test_log_empty_chunk(void **state)
{
	struct fx *f = *state;
	int64_t job = new_job(f->s, new_build(f->s, 1), "linux/amd64", 0, 1);
	struct chunks c = {{0}, {0}, "", 0, 0};
	struct store_log_cursor cur = {0, 0};
	int64_t bytes = -1, dropped = -1;

	append(f->s, job, 1, 0, 1, "x");
	assert_int_equal(store_log_append(f->s, job, 1, 1, 1, NULL, 0, 0,
					  &dropped), RC_OK);
	append(f->s, job, 1, 2, 2, "");
	append(f->s, job, 1, 3, 1, "y");
	assert_int_equal(store_log_size(f->s, job, 1, 0, &bytes, NULL), RC_OK);
	assert_int_equal(bytes, 2);
	assert_int_equal(store_log_read(f->s, job, 1, 0, &cur, 1000, 1,
					on_chunk, &c),
			 RC_OK);
	assert_int_equal(c.n, 4); /* empty chunks are real chunks */
	assert_string_equal(c.text, "xy");
	assert_int_equal(cur.seq, 4);
}

/* ---- log caps --------------------------------------------------------- */

#define CAP_LOG_MAX 4096

/* The log as a job wrote it: byte i, and the stream it came on. */
static char cap_byte(int64_t i)
{
	return (char)('a' + (i * 7 + i / 13) % 26);
}

/* What a reader got: bytes, with each cut as "<CUT n>" in line. */
struct capread {
	char text[CAP_LOG_MAX * 2]; /* bytes and markers */
	size_t len;                 /* used */
	int cuts;                   /* markers given */
};

static void on_cap_chunk(void *ud, int64_t seq, int stream, const void *data,
			 size_t len)
{
	struct capread *r = ud;

	(void)seq;
	if (stream == STORE_LOG_CUT) {
		r->len += (size_t)snprintf(r->text + r->len, sizeof r->text - r->len,
					   "<CUT %zu>", len);
		r->cuts++;
		return;
	}
	assert_true(r->len + len < sizeof r->text);
	if (len) /* an empty chunk's data may be NULL */
		memcpy(r->text + r->len, data, len);
	r->len += len;
	r->text[r->len] = '\0';
}

struct capcase {
	int64_t cap;         /* --max-log-bytes (0 = all) */
	int sizes[6];        /* chunk sizes, cycled until total */
	size_t nsizes;       /* how many */
	int64_t total;       /* bytes written */
};

static const struct capcase capcases[] = {
	{100, {10}, 1, 300},            /* head ends at a chunk boundary */
	{100, {7}, 1, 280},             /* head split, tail trimmed mid-chunk */
	{100, {300}, 1, 300},           /* one chunk bigger than the cap */
	{100, {1, 37, 5, 0, 64, 13}, 6, 1500}, /* uneven, an empty chunk */
	{100, {10}, 1, 100},            /* exactly the cap: nothing cut */
	{100, {10, 1}, 2, 101},         /* one byte over */
	{0, {10}, 1, 300},              /* no cap */
	{1000, {64}, 1, 4000},
};

/* Append the case's log, its first max_chunks chunks (or all, and the
 * resends of those already there); returns the number of chunks. Streams
 * alternate 1, 2 by chunk; stream_of[i] says which stream byte i came on. */
static int64_t cap_write_upto(struct store *s, int64_t job,
			      const struct capcase *c, int64_t max_chunks,
			      char *stream_of, int64_t *dropped_sum)
{
	char data[CAP_LOG_MAX];
	int64_t off = 0, seq = 0, dropped;
	size_t k = 0;

	*dropped_sum = 0;
	while (off < c->total && seq < max_chunks) {
		int64_t len = c->sizes[k++ % c->nsizes];
		int stream = 1 + (int)(seq % 2);

		if (len > c->total - off)
			len = c->total - off;
		for (int64_t i = 0; i < len; i++) {
			data[i] = cap_byte(off + i);
			stream_of[off + i] = (char)stream;
		}
		assert_int_equal(store_log_append(s, job, 1, seq, stream, data,
						  (size_t)len, c->cap, &dropped),
				 RC_OK);
		*dropped_sum += dropped;
		off += len;
		seq++;
	}
	return seq;
}

static int64_t cap_write(struct store *s, int64_t job, const struct capcase *c,
			 char *stream_of, int64_t *dropped_sum)
{
	return cap_write_upto(s, job, c, INT64_MAX, stream_of, dropped_sum);
}

/* head + "<CUT n>" + tail of the bytes on stream (0 = all). */
static void cap_expect(const struct capcase *c, const char *stream_of,
		       int stream, char *out, size_t n)
{
	int64_t head = c->cap / 2, tail = c->cap - head;
	size_t len = 0;

	if (!c->cap || c->total <= c->cap)
		head = c->total, tail = 0;
	for (int64_t i = 0; i < head; i++)
		if (!stream || stream_of[i] == stream)
			out[len++] = cap_byte(i);
	if (c->cap && c->total > c->cap)
		len += (size_t)snprintf(out + len, n - len, "<CUT %lld>",
					(long long)(c->total - c->cap));
	for (int64_t i = c->total - tail; i < c->total; i++)
		if (!stream || stream_of[i] == stream)
			out[len++] = cap_byte(i);
	out[len] = '\0';
}

static void cap_read_all(struct store *s, int64_t job, int stream,
			 struct capread *r)
{
	struct store_log_cursor cur = {0, 0};

	memset(r, 0, sizeof *r);
	for (int i = 0; i < 1000; i++) {
		size_t before = r->len;
		int cuts = r->cuts;

		assert_int_equal(store_log_read(s, job, 1, stream, &cur, 50, 0,
						on_cap_chunk, r), RC_OK);
		if (r->len == before && r->cuts == cuts)
			return;
	}
	fail_msg("the read did not end");
}

static void test_log_cap_head_cut_tail(void **state)
{
	struct fx *f = *state;
	int64_t b = new_build(f->s, 1);

	for (size_t i = 0; i < N(capcases); i++) {
		const struct capcase *c = &capcases[i];
		int64_t job = new_job(f->s, b, "linux/amd64", 0, 1);
		int64_t dropped, n, next = -1, bytes, cut, want_cut;
		char stream_of[CAP_LOG_MAX], want[CAP_LOG_MAX * 2];
		struct capread r;

		n = cap_write(f->s, job, c, stream_of, &dropped);
		want_cut = c->cap && c->total > c->cap ? c->total - c->cap : 0;
		if (dropped != want_cut)
			fail_msg("case %zu: dropped %lld, want %lld", i,
				 (long long)dropped, (long long)want_cut);
		for (int stream = 0; stream <= 2; stream++) {
			cap_read_all(f->s, job, stream, &r);
			cap_expect(c, stream_of, stream, want, sizeof want);
			if (strcmp(r.text, want))
				fail_msg("case %zu stream %d:\n got  %s\n want %s",
					 i, stream, r.text, want);
			assert_int_equal(store_log_size(f->s, job, 1, stream,
							&bytes, &cut), RC_OK);
			assert_int_equal(cut, want_cut);
			/* the size is what is shown, less the marker */
			assert_int_equal(bytes, (int64_t)strlen(want) -
					 (want_cut ? (int64_t)(strchr(want, '>') -
							       strchr(want, '<') + 1) : 0));
		}
		assert_int_equal(store_log_next_seq(f->s, job, 1, &next), RC_OK);
		assert_int_equal(next, n);
	}
}

/* A resend of every chunk (a buildlet replaying its spool from 0) is
 * neither stored nor counted again, cut or not. */
static void test_log_cap_resend(void **state)
{
	struct fx *f = *state;
	const struct capcase *c = &capcases[1];
	int64_t job = new_job(f->s, new_build(f->s, 1), "linux/amd64", 0, 1);
	char stream_of[CAP_LOG_MAX], want[CAP_LOG_MAX * 2];
	int64_t dropped, again, next;
	struct capread r;

	cap_write(f->s, job, c, stream_of, &dropped);
	cap_write(f->s, job, c, stream_of, &again);
	assert_int_equal(again, 0);
	cap_read_all(f->s, job, 0, &r);
	cap_expect(c, stream_of, 0, want, sizeof want);
	assert_string_equal(r.text, want);
	assert_int_equal(store_log_next_seq(f->s, job, 1, &next), RC_OK);
	assert_int_equal(next, 40);
}

/*
 * A follower reads (contiguous) while the log is written, and may be
 * past the head when the cut comes. What it shows must be the log as
 * written, with each marker standing for exactly the bytes it skipped,
 * and end with the same tail.
 */
static void test_log_cap_follower(void **state)
{
	struct fx *f = *state;
	int64_t b = new_build(f->s, 1);

	for (size_t i = 0; i < N(capcases); i++) {
		for (int every = 1; every <= 7; every += 3) {
			const struct capcase *c = &capcases[i];
			int64_t job = new_job(f->s, b, "linux/amd64", 0, 1);
			struct store_log_cursor cur = {0, 0};
			char stream_of[CAP_LOG_MAX];
			int64_t dropped, pos = 0, upto = 0, wrote;
			struct capread r;
			size_t k = 0;

			memset(&r, 0, sizeof r);
			/* Write the log `every` chunks at a time, reading
			 * all there is after each step, until all is written. */
			do {
				upto += every;
				wrote = cap_write_upto(f->s, job, c, upto, stream_of,
						       &dropped);
				for (int g = 0; g < 1000; g++) {
					size_t before = r.len;
					int cuts = r.cuts;

					assert_int_equal(store_log_read(f->s, job, 1, 0,
							&cur, 64, 1, on_cap_chunk, &r),
						RC_OK);
					if (r.len == before && r.cuts == cuts)
						break;
				}
			} while (wrote == upto);
			/* Walk what it showed against the log as written. */
			while (k < r.len) {
				unsigned long long skip;
				int used;

				if (sscanf(r.text + k, "<CUT %llu>%n", &skip, &used) == 1) {
					assert_true(skip > 0);
					pos += (int64_t)skip;
					k += (size_t)used;
					continue;
				}
				if (r.text[k] != cap_byte(pos))
					fail_msg("case %zu every %d: byte %zu is not "
						 "byte %lld of the log", i, every, k,
						 (long long)pos);
				pos++;
				k++;
			}
			if (pos != c->total)
				fail_msg("case %zu every %d: ends at %lld of %lld",
					 i, every, (long long)pos,
					 (long long)c->total);
			if (c->cap && (int64_t)r.len < c->cap / 2)
				fail_msg("case %zu every %d: head lost", i, every);
		}
	}
}

/* Logs stored before log_meta existed (or whose row is gone) are
 * accounted from their chunks at the next append. */
static void test_log_cap_old_log(void **state)
{
	struct fx *f = *state;
	int64_t job = new_job(f->s, new_build(f->s, 1), "linux/amd64", 0, 1);
	char data[10], *e = NULL;
	int64_t dropped, bytes, cut;
	sqlite3 *db = NULL;
	struct capread r;

	memset(data, 'x', sizeof data);
	for (int64_t seq = 0; seq < 8; seq++)
		assert_int_equal(store_log_append(f->s, job, 1, seq, 1, data, 10, 0,
						  &dropped), RC_OK);
	assert_int_equal(store_flush(f->s), RC_OK);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM log_meta", NULL, NULL, &e),
			 SQLITE_OK);
	sqlite3_close(db);
	memset(data, 'y', sizeof data);
	assert_int_equal(store_log_append(f->s, job, 1, 8, 1, data, 10, 50,
					  &dropped), RC_OK);
	assert_int_equal(dropped, 40); /* 90 bytes under a cap of 50 */
	assert_int_equal(store_log_size(f->s, job, 1, 0, &bytes, &cut), RC_OK);
	assert_int_equal(bytes, 50);
	assert_int_equal(cut, 40);
	cap_read_all(f->s, job, 0, &r);
	assert_string_equal(r.text, "xxxxxxxxxxxxxxxxxxxxxxxxx<CUT 40>"
			    "xxxxxxxxxxxxxxxyyyyyyyyyy");
}

static void count_gone(void *ud, int64_t build, int64_t job)
{
	int64_t *gone = ud;

	assert_true(build > 0);
	*gone += job;
}

/* purge takes the log accounting with the log. */
static void test_log_cap_purge(void **state)
{
	struct fx *f = *state;
	int64_t job = new_job(f->s, new_build(f->s, 1), "linux/amd64", 0, 1);
	int64_t builds, chunks, dropped, gone = 0;
	char data[40] = "", *left;

	run_to(f->s, job, JOB_PASSED);
	for (int64_t seq = 0; seq < 5; seq++)
		assert_int_equal(store_log_append(f->s, job, 1, seq, 1, data,
						  sizeof data, 100, &dropped),
				 RC_OK);
	assert_int_equal(store_purge(f->s, 1000, count_gone, &gone, &builds,
				     &chunks), RC_OK);
	assert_int_equal(builds, 1);
	assert_int_equal(gone, job); /* its one (build, job) was told */
	assert_int_equal(store_flush(f->s), RC_OK);
	left = peek_text(f->path, "SELECT (SELECT count(*) FROM log_meta) ||"
			 " ',' || (SELECT count(*) FROM log_chunks)");
	assert_string_equal(left, "0,0");
	free(left);
}

/* A purge that took the newest build and job: their ids are not given
 * again, not even after the store is opened anew. */
static void test_purge_keeps_ids(void **state)
{
	struct fx *f = *state;
	int64_t b = new_build(f->s, 1), job = new_job(f->s, b, "linux/amd64", 0, 1);
	int64_t builds, chunks, b2, j2;
	struct errbuf eb = {""};

	run_to(f->s, job, JOB_PASSED);
	assert_int_equal(store_purge(f->s, 1000, NULL, NULL, &builds, &chunks),
			 RC_OK);
	assert_int_equal(builds, 1);
	b2 = new_build(f->s, 2000);
	j2 = new_job(f->s, b2, "linux/amd64", 0, 2000);
	assert_true(b2 > b);
	assert_true(j2 > job);
	run_to(f->s, j2, JOB_PASSED);
	assert_int_equal(store_purge(f->s, 3000, NULL, NULL, &builds, &chunks),
			 RC_OK);
	assert_int_equal(store_flush(f->s), RC_OK);
	store_close(&f->s);
	assert_int_equal(store_open(f->path, &f->s, &eb), RC_OK);
	b = new_build(f->s, 4000);
	assert_true(b > b2);
	assert_true(new_job(f->s, b, "linux/amd64", 0, 4000) > j2);
}

/* ---- buildlets -------------------------------------------------------- */

static void test_buildlets(void **state)
{
	struct fx *f = *state;
	struct store_buildlet b2 = {
		"zeta", "host-linux", "[\"linux/amd64\"]", "[]", "0.1", 2, 100, 100, 0,
	};
	struct store_buildlet b1 = {
		"alpha", "host-darwin", "[\"darwin/arm64\"]", "[\"gpu\"]", "0.1", 1,
		200, 200, 0,
	};
	struct store_buildlet *list = NULL;
	size_t n = 0;

	assert_int_equal(store_buildlet_upsert(f->s, &b2), RC_OK);
	assert_int_equal(store_buildlet_upsert(f->s, &b1), RC_OK);
	/* Reconnect with a new version and capacity. */
	b1.version = "0.2";
	b1.capacity = 4;
	b1.labels = "[\"gpu\",\"large\"]";
	b1.first_seen_ms = 900; /* ignored: first seen stays */
	b1.last_seen_ms = 900;
	assert_int_equal(store_buildlet_upsert(f->s, &b1), RC_OK);
	assert_int_equal(store_buildlet_seen(f->s, "zeta", 1500), RC_OK);
	assert_int_equal(store_buildlet_seen(f->s, "unknown", 1600), RC_OK);

	assert_int_equal(store_buildlet_list(f->s, &list, &n), RC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "alpha"); /* by name */
	assert_string_equal(list[0].host_type, "host-darwin");
	assert_string_equal(list[0].platforms, "[\"darwin/arm64\"]");
	assert_string_equal(list[0].labels, "[\"gpu\",\"large\"]");
	assert_string_equal(list[0].version, "0.2");
	assert_int_equal(list[0].capacity, 4);
	assert_int_equal(list[0].first_seen_ms, 200);
	assert_int_equal(list[0].last_seen_ms, 900);
	assert_string_equal(list[1].name, "zeta");
	assert_int_equal(list[1].first_seen_ms, 100);
	assert_int_equal(list[1].last_seen_ms, 1500);
	store_buildlet_array_free(&list, n);
	assert_null(list);
}

/* The single-row lookups of a buildlet, each with and without a row. */
static void test_buildlet_lookups(void **state)
{
	struct fx *f = *state;
	struct store_buildlet b = {
		"alpha", "host-darwin", "[]", "[]", "0.1", 1, 200, 200, 0,
	};
	char host[64] = "untouched";

	assert_int_equal(store_buildlet_host_type(f->s, "alpha", host,
						  sizeof host), RC_NOT_FOUND);
	assert_string_equal(host, "untouched");
	assert_int_equal(store_buildlet_upsert(f->s, &b), RC_OK);
	assert_int_equal(store_buildlet_host_type(f->s, "alpha", host, 5),
			 RC_OK);
	assert_string_equal(host, "host"); /* cut to the buffer */
	assert_int_equal(store_buildlet_host_type(f->s, "alpha", host,
						  sizeof host), RC_OK);
	assert_string_equal(host, "host-darwin");
	assert_int_equal(store_buildlet_drained(f->s, "alpha"), 0);
	assert_int_equal(store_buildlet_drained(f->s, "nobody"), 0);
	assert_int_equal(store_buildlet_set_drained(f->s, "alpha", 1), RC_OK);
	assert_int_equal(store_buildlet_drained(f->s, "alpha"), 1);
}

/* API tokens and enrolments: found, not found, revoked. */
static void test_credentials(void **state)
{
	struct fx *f = *state;
	struct store_enrolment e;
	char text[64] = "";
	char **names = NULL;
	int64_t expires = -1;
	size_t n = 0;

	assert_int_equal(store_api_tokens_exist(f->s), 0);
	assert_int_equal(store_api_token_put(f->s, "ci", "submit", "h1", 10,
					     5000), RC_OK);
	assert_int_equal(store_api_tokens_exist(f->s), 1);
	assert_int_equal(store_api_token_name(f->s, "h1", text, sizeof text), 1);
	assert_string_equal(text, "ci");
	assert_int_equal(store_api_token_scope(f->s, "h1", text, sizeof text,
					       &expires), 1);
	assert_string_equal(text, "submit");
	assert_int_equal(expires, 5000);
	assert_int_equal(store_api_token_name(f->s, "h2", text, sizeof text), 0);
	assert_int_equal(store_api_token_revoke(f->s, "ci"), RC_OK);
	assert_int_equal(store_api_token_scope(f->s, "h1", text, sizeof text,
					       &expires), 0);

	assert_int_equal(store_enrolments_exist(f->s), 0);
	assert_int_equal(store_enrol_get(f->s, "b1", &e), RC_NOT_FOUND);
	assert_null(e.host_type);
	assert_int_equal(store_enrol_put(f->s, "b2", "linux", "[]", "s2", 10, 0),
			 RC_OK);
	assert_int_equal(store_enrol_put(f->s, "b1", "mac", "[\"gpu\"]", "s1",
					 20, 100), RC_OK);
	assert_int_equal(store_enrolments_exist(f->s), 1);
	assert_int_equal(store_enrol_get(f->s, "b1", &e), RC_OK);
	assert_string_equal(e.host_type, "mac");
	assert_string_equal(e.labels, "[\"gpu\"]");
	assert_string_equal(e.secret_sha256, "s1");
	assert_int_equal(e.revoked, 0);
	assert_int_equal(e.created_ms, 20);
	assert_int_equal(e.expires_ms, 100);
	store_enrol_clear(&e);
	assert_int_equal(store_enrol_names(f->s, 0, 0, &names, &n), RC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "b1"); /* by name */
	assert_string_equal(names[1], "b2");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	/* Only b1 has expired at 150. */
	assert_int_equal(store_enrol_names(f->s, 1, 150, &names, &n), RC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "b1");
	free(names[0]);
	free(names);
}

/* An attempt's upload token, its counts, a job's artifacts and the blobs
 * nothing refers to. */
static void test_uploads_and_artifacts(void **state)
{
	struct fx *f = *state;
	int64_t build = new_build(f->s, 1), job = new_job(f->s, build, "p", 0, 1);
	struct store_artifact in[] = {{"out/a", "bbb", 7}, {"out/b", "ccc", 9}};
	struct store_artifact *a = NULL;
	struct store_uploads u;
	char **shas = NULL;
	int64_t tj = 0;
	int ta = 0;
	size_t n = 0;

	assert_int_equal(store_attempt_uploads(f->s, job, 1, &u), RC_NOT_FOUND);
	assert_int_equal(store_job_dispatch(f->s, job, 1, "b", 500), RC_OK);
	assert_int_equal(store_attempt_set_token(f->s, job, 1, "tok"), RC_OK);
	assert_int_equal(store_token_lookup(f->s, "tok", &tj, &ta), 1);
	assert_int_equal(tj, job);
	assert_int_equal(ta, 1);
	assert_int_equal(store_token_lookup(f->s, "other", &tj, &ta), 0);
	assert_int_equal(store_attempt_upload_add(f->s, job, 1, 40), RC_OK);
	assert_int_equal(store_attempt_refuse(f->s, job, 1, "too big"), RC_OK);
	assert_int_equal(store_attempt_uploads(f->s, job, 1, &u), RC_OK);
	assert_int_equal(u.count, 1);
	assert_int_equal(u.bytes, 40);
	assert_string_equal(u.refused, "too big");

	assert_int_equal(store_artifact_list(f->s, job, &a, &n), RC_OK);
	assert_int_equal(n, 0);
	store_artifact_array_free(&a, n);
	assert_int_equal(store_artifacts_set(f->s, job, in, N(in)), RC_OK);
	assert_int_equal(store_artifact_list(f->s, job, &a, &n), RC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(a[0].name, "out/a");
	assert_string_equal(a[1].sha256, "ccc");
	assert_int_equal(a[1].size, 9);
	store_artifact_array_free(&a, n);
	assert_null(a);

	/* aaa is older than the active attempt and named by nothing. */
	assert_int_equal(store_blob_record(f->s, "aaa", 1, 100), RC_OK);
	assert_int_equal(store_blob_record(f->s, "bbb", 7, 100), RC_OK);
	assert_int_equal(store_blob_record(f->s, "ddd", 1, 600), RC_OK);
	assert_int_equal(store_blobs_unreferenced(f->s, 1000, &shas, &n), RC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(shas[0], "aaa");
	free(shas[0]);
	free(shas);
	assert_int_equal(store_builds_started(f->s), 1);
	assert_int_equal(store_build_count_above(f->s, 0), 1);
	assert_int_equal(store_build_count_above(f->s, build), 0);
}

/* ---- build listing ---------------------------------------------------- */

static void test_build_list_filters(void **state)
{
	struct fx *f = *state;
	int64_t b[6];
	static const struct {
		int build;            /* index into b */
		const char *platform; /* job platform */
		enum job_state st;    /* job state */
	} jobs[] = {
		{1, "linux/amd64", JOB_PASSED},
		{2, "linux/arm64", JOB_QUEUED},
		{3, "linux/amd64", JOB_FAILED},
		{3, "linux/arm64", JOB_PASSED},
		/* build 4 has no jobs */
		{5, "linux/amd64", JOB_QUEUED},
	};
	static const struct {
		const char *state;    /* filter or NULL */
		const char *platform; /* filter or NULL */
		int limit;            /* at most */
		int before;           /* index into b, 0 = no bound */
		const char *want;     /* build indexes, newest first */
	} cases[] = {
		{NULL, NULL, 10, 0, "54321"},
		{NULL, NULL, 2, 0, "54"},
		{NULL, NULL, 10, 4, "321"},
		{NULL, NULL, 1, 4, "3"},
		{"passed", NULL, 10, 0, "31"},
		{"queued", NULL, 10, 0, "52"},
		{NULL, "linux/arm64", 10, 0, "32"},
		{"queued", "linux/amd64", 10, 0, "5"},
		{"passed", "linux/arm64", 10, 0, "3"},
		/* Two independent conditions: a failed job, and an arm64 job. */
		{"failed", "linux/arm64", 10, 0, "3"},
		{"passed", NULL, 10, 3, "1"},
		{"cancelled", NULL, 10, 0, ""},
		{NULL, "windows/amd64", 10, 0, ""},
		{NULL, NULL, 10, 1, ""},
	};

	for (int i = 1; i < 6; i++)
		b[i] = new_build(f->s, i);
	for (size_t i = 0; i < N(jobs); i++) {
		int64_t id = new_job(f->s, b[jobs[i].build], jobs[i].platform, 0, 1);

		if (jobs[i].st != JOB_QUEUED)
			run_to(f->s, id, jobs[i].st);
	}
	for (size_t i = 0; i < N(cases); i++) {
		int64_t *ids = NULL;
		size_t n = 99;
		char got[8] = "";

		assert_int_equal(store_build_list(f->s, cases[i].state, cases[i].platform,
						  cases[i].limit,
						  cases[i].before ? b[cases[i].before] : 0,
						  &ids, &n),
				 RC_OK);
		assert_true(n < sizeof got);
		for (size_t k = 0; k < n; k++)
			for (int x = 1; x < 6; x++)
				if (ids[k] == b[x])
					got[k] = (char)('0' + x);
		got[n] = '\0';
		if (strcmp(got, cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
		if (!n)
			assert_null(ids);
		free(ids);
	}
}

/* ---- transactions ----------------------------------------------------- */

static void test_flush_makes_visible(void **state)
{
	struct fx *f = *state;
	struct store *other = NULL;
	struct errbuf eb = {""};
	struct store_build b;
	int64_t id = 0, id2 = 0;

	assert_int_equal(store_flush(f->s), RC_OK); /* nothing pending */
	id = new_build(f->s, 42);
	/* A second, independent connection: the write is not committed. */
	assert_int_equal(store_open(f->path, &other, &eb), RC_OK);
	assert_int_equal(store_build_get(other, id, &b), RC_NOT_FOUND);
	/* The writer reads its own uncommitted write. */
	assert_int_equal(store_build_get(f->s, id, &b), RC_OK);
	store_build_clear(&b);

	assert_int_equal(store_flush(f->s), RC_OK);
	assert_int_equal(store_build_get(other, id, &b), RC_OK);
	assert_int_equal(b.created_ms, 42);
	store_build_clear(&b);

	/* Flushed, the first connection holds no lock: the other can write. */
	assert_int_equal(store_build_insert(other, 43, 0, "{}", &id2), RC_OK);
	assert_int_equal(store_flush(other), RC_OK);
	assert_true(id2 > id);
	assert_int_equal(store_build_get(f->s, id2, &b), RC_OK);
	store_build_clear(&b);
	store_close(&other);
	assert_null(other);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_open_creates_wal_db),
		T(test_reopen_idempotent),
		T(test_open_newer_schema_fails),
		T(test_open_errors),
		T(test_build_insert_get),
		T(test_job_insert_get_list),
		T(test_queue_order),
		T(test_scan_active_and_count),
		T(test_dispatch_start_finish),
		T(test_requeue_and_second_attempt),
		T(test_finish_without_attempt),
		T(test_request_cancel),
		T(test_job_copy_is_deep),
		T(test_log_dedup_and_size),
		T(test_log_read_modes),
		T(test_log_empty_chunk),
		T(test_log_cap_head_cut_tail),
		T(test_log_cap_resend),
		T(test_log_cap_follower),
		T(test_log_cap_old_log),
		T(test_log_cap_purge),
		T(test_purge_keeps_ids),
		T(test_buildlets),
		T(test_buildlet_lookups),
		T(test_credentials),
		T(test_uploads_and_artifacts),
		T(test_build_list_filters),
		T(test_flush_makes_visible),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
