/*
 * test_store.c - unit tests for coordinator/store.c on a real SQLite file
 * in a temporary directory: schema and migrations, builds, jobs and their
 * attempts through the life cycle, queue order, logs (dedup, order,
 * limits, gaps), buildlets, build listing filters, and when writes become
 * visible to another connection.
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
#define SCHEMA_VERSION 1

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
				    "enrolments,jobs,log_chunks");
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

	assert_int_equal(store_job_scan_queue(f->s, 100, on_job, &seen), RC_OK);
	assert_int_equal(seen.n, N(jobs));
	for (size_t i = 0; i < N(jobs); i++)
		if (seen.ids[jobs[i].rank] != ids[i])
			fail_msg("queue position %d: job %lld, want %lld", jobs[i].rank,
				 (long long)seen.ids[jobs[i].rank], (long long)ids[i]);

	/* limit */
	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_job_scan_queue(f->s, 2, on_job, &seen), RC_OK);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.ids[0], ids[2]);
	assert_int_equal(seen.ids[1], ids[5]);

	/* early stop from the callback */
	memset(&seen, 0, sizeof seen);
	seen.stop_at = 3;
	assert_int_equal(store_job_scan_queue(f->s, 100, on_job, &seen), RC_OK);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.ids[2], ids[1]);
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
	assert_int_equal(store_log_append(s, job, attempt, seq, stream, text,
					  strlen(text)),
			 RC_OK);
}

static void test_log_dedup_and_size(void **state)
{
	struct fx *f = *state;
	int64_t job = new_job(f->s, new_build(f->s, 1), "linux/amd64", 0, 1);
	struct chunks c = {{0}, {0}, "", 0, 0};
	int64_t bytes = -1, next = -1;

	append(f->s, job, 1, 0, 1, "hello ");
	append(f->s, job, 1, 1, 2, "oops\n");
	append(f->s, job, 1, 1, 2, "RESENT DIFFERENT"); /* same seq: ignored */
	append(f->s, job, 1, 2, 1, "world\n");
	append(f->s, job, 2, 0, 1, "attempt two\n"); /* another attempt */

	assert_int_equal(store_log_size(f->s, job, 1, 0, &bytes), RC_OK);
	assert_int_equal(bytes, 6 + 5 + 6);
	assert_int_equal(store_log_size(f->s, job, 1, 1, &bytes), RC_OK);
	assert_int_equal(bytes, 12);
	assert_int_equal(store_log_size(f->s, job, 1, 2, &bytes), RC_OK);
	assert_int_equal(bytes, 5);
	assert_int_equal(store_log_size(f->s, job, 3, 0, &bytes), RC_OK);
	assert_int_equal(bytes, 0);

	assert_int_equal(store_log_read(f->s, job, 1, 0, 0, 1 << 20, 0, on_chunk, &c,
					&next),
			 RC_OK);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.text, "hello oops\nworld\n"); /* first copy kept */
	assert_int_equal(c.stream[1], 2);
	assert_int_equal(next, 3);
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
		char first[16] = "";
		int64_t next = -1;

		assert_int_equal(store_log_read(f->s, job, 1, cases[i].stream,
						cases[i].from, cases[i].max,
						cases[i].contiguous, on_chunk, &c,
						&next),
				 RC_OK);
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
	int64_t bytes = -1, next = -1;

	append(f->s, job, 1, 0, 1, "x");
	assert_int_equal(store_log_append(f->s, job, 1, 1, 1, NULL, 0), RC_OK);
	append(f->s, job, 1, 2, 2, "");
	append(f->s, job, 1, 3, 1, "y");
	assert_int_equal(store_log_size(f->s, job, 1, 0, &bytes), RC_OK);
	assert_int_equal(bytes, 2);
	assert_int_equal(store_log_read(f->s, job, 1, 0, 0, 1000, 1, on_chunk, &c,
					&next),
			 RC_OK);
	assert_int_equal(c.n, 4); /* empty chunks are real chunks */
	assert_string_equal(c.text, "xy");
	assert_int_equal(next, 4);
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
		T(test_buildlets),
		T(test_build_list_filters),
		T(test_flush_makes_visible),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
