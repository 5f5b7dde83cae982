/*
 * store.c - SQLite persistence for the coordinator (see store.h).
 *
 * Statements live in one table indexed by enum stmt_id and are prepared on
 * first use. Every write goes through store_begin_write(), which opens the
 * loop turn's transaction if none is open; store_flush() commits it.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "sha256.h"
#include "store_internal.h"
#include "xalloc.h"

/* Ids are never given twice, even once a purge took the newest rows
 * (SQLite would reuse them): a buildlet that ran job 7 would take a new
 * job 7 for a resend, and an API client would see another build. */
#define NEXT_ID(table)                                                       \
	"(SELECT max(coalesce((SELECT max(id) FROM " table "), 0),"          \
	" coalesce((SELECT floor FROM id_floor WHERE name='" table "'), 0))" \
	" + 1)"

#define STMTS(X)                                                             \
	X(ST_BEGIN, "BEGIN IMMEDIATE")                                       \
	X(ST_COMMIT, "COMMIT")                                               \
	X(ST_BUILD_INSERT, "INSERT INTO builds(id, created_ms, priority,"    \
	  " spec) VALUES(" NEXT_ID("builds") ",?,?,?)")                      \
	X(ST_BUILD_GET, "SELECT " BUILD_COLS " FROM builds WHERE id=?")      \
	X(ST_BUILD_REQUESTER, "UPDATE builds SET requester=? WHERE id=?")    \
	X(ST_BUILD_PAGE, "SELECT " BUILD_COLS " FROM builds"                 \
	  " ORDER BY id DESC LIMIT ? OFFSET ?")                              \
	X(ST_BUILD_COUNT_ABOVE, "SELECT count(*) FROM builds WHERE id>?")    \
	X(ST_JOB_LIST_RANGE, "SELECT " JOB_COLS " FROM jobs"                 \
	  " WHERE build_id BETWEEN ? AND ? ORDER BY build_id DESC, id")      \
	X(ST_JOB_LIST_QUEUED, "SELECT " JOB_COLS " FROM jobs"                \
	  " WHERE state='queued' ORDER BY created_ms, id LIMIT ?")           \
	X(ST_JOB_LIST_FAILED, "SELECT " JOB_COLS " FROM jobs"                \
	  " WHERE state IN ('failed','error')"                               \
	  " ORDER BY finished_ms DESC, id DESC LIMIT ?")                     \
	X(ST_JOB_INSERT,                                                     \
	  "INSERT INTO jobs(id, build_id, platform, labels, state, priority," \
	  " created_ms, queue_key) VALUES(" NEXT_ID("jobs") ","              \
	  " ?1,?2,?3,'queued',?4,?5,?5)")                                    \
	X(ST_JOB_SET_QUEUE, "UPDATE jobs SET host_type=?, postsubmit=?,"     \
	  " queue_key=? WHERE id=?")                                         \
	X(ST_JOB_GET, "SELECT " JOB_COLS " FROM jobs WHERE id=?")            \
	X(ST_JOB_OWNER, "SELECT 1 FROM jobs WHERE id=? AND attempt=?"        \
	  " AND buildlet=?")                                                 \
	X(ST_JOB_LIST_BUILD, "SELECT " JOB_COLS " FROM jobs WHERE build_id=? ORDER BY id") \
	X(ST_JOB_QUEUE, "SELECT " JOB_COLS " FROM jobs WHERE state='queued'" \
	  " AND attached_to IS NULL"                                         \
	  " ORDER BY postsubmit, priority DESC, queue_key, id"               \
	  " LIMIT ?1 OFFSET ?2")                                             \
	X(ST_JOB_UNPLANNED, "SELECT " JOB_COLS " FROM jobs"                  \
	  " WHERE state='queued' AND reason='' AND attached_to IS NULL"      \
	  " ORDER BY postsubmit, priority DESC, queue_key, id LIMIT ?")      \
	X(ST_JOB_ACTIVE, "SELECT " JOB_COLS " FROM jobs"                     \
	  " WHERE state IN ('dispatched','running') ORDER BY id")            \
	X(ST_JOB_COUNT_STATE, "SELECT count(*) FROM jobs WHERE state=?")     \
	X(ST_JOB_DISPATCH, "UPDATE jobs SET state='dispatched', attempt=?,"  \
	  " buildlet=?, reason='' WHERE id=?")                               \
	X(ST_ATTEMPT_INSERT, "INSERT OR REPLACE INTO attempts(job_id, n, buildlet," \
	  " dispatched_ms) VALUES(?,?,?,?)")                                 \
	X(ST_JOB_STARTED, "UPDATE jobs SET state='running', started_ms=?"   \
	  " WHERE id=? AND attempt=?")                                       \
	X(ST_ATTEMPT_STARTED, "UPDATE attempts SET started_ms=? WHERE job_id=? AND n=?") \
	X(ST_JOB_FINISH, "UPDATE jobs SET state=?, exit_code=?, signal=?,"  \
	  " duration_ms=?, error=?, finished_ms=?, reason='' WHERE id=?")    \
	X(ST_ATTEMPT_FINISH, "UPDATE attempts SET finished_ms=?, exit_code=?," \
	  " signal=?, duration_ms=?, error=? WHERE job_id=? AND n=?")        \
	X(ST_JOB_REQUEUE, "UPDATE jobs SET state='queued', buildlet='',"    \
	  " started_ms=0, reason=?, lost=lost+1 WHERE id=?")                 \
	X(ST_JOB_RETRY, "UPDATE jobs SET state='queued', buildlet='',"      \
	  " started_ms=0, finished_ms=NULL, exit_code=NULL, signal=NULL,"    \
	  " duration_ms=NULL, error='', reason=?, cancel_requested=0, lost=0" \
	  " WHERE id=?")                                                     \
	X(ST_LOG_SEQ_STATS, "SELECT count(*), coalesce(max(seq),-1)"         \
	  " FROM log_chunks WHERE job_id=? AND attempt=?")                   \
	X(ST_LOG_SEQS, "SELECT seq FROM log_chunks WHERE job_id=? AND attempt=?" \
	  " ORDER BY seq")                                                   \
	X(ST_QUEUE_STATS, "SELECT platform, count(*), sum(reason LIKE"      \
	  " 'waiting for a %' AND reason NOT LIKE 'waiting for a free %')"   \
	  " FROM jobs WHERE state='queued' GROUP BY platform ORDER BY platform") \
	X(ST_BUILDS_STARTED, "SELECT count(DISTINCT build_id) FROM jobs"     \
	  " WHERE attempt>0")                                                \
	X(ST_ATTEMPT_TOKEN, "UPDATE attempts SET upload_token=?"               \
	  " WHERE job_id=? AND n=?")                                         \
	X(ST_TOKEN_LOOKUP, "SELECT a.job_id, a.n FROM attempts a JOIN jobs j" \
	  " ON j.id=a.job_id WHERE a.upload_token=? AND j.attempt=a.n"       \
	  " AND j.state IN ('dispatched','running')")                        \
	X(ST_ARTIFACT_PUT, "INSERT OR REPLACE INTO artifacts(job_id, name,"  \
	  " sha256, size) VALUES(?,?,?,?)")                                  \
	X(ST_ARTIFACT_CLEAR, "DELETE FROM artifacts WHERE job_id=?")         \
	X(ST_ARTIFACT_LIST, "SELECT name, sha256, size FROM artifacts"       \
	  " WHERE job_id=? ORDER BY name")                                   \
	X(ST_JOB_SET_KEY, "UPDATE jobs SET cache_key=? WHERE id=?")          \
	X(ST_JOB_SET_COMMIT, "UPDATE jobs SET git_commit=? WHERE id=?")      \
	X(ST_CACHE_HIT, "SELECT id FROM jobs WHERE cache_key=? AND"           \
	  " state='passed' AND id<>? ORDER BY finished_ms DESC LIMIT 1")      \
	X(ST_CACHE_LEADER, "SELECT id FROM jobs WHERE cache_key=? AND id<>?"   \
	  " AND attached_to IS NULL AND state IN"                            \
	  " ('queued','dispatched','running') ORDER BY id LIMIT 1")           \
	X(ST_JOB_ATTACH, "UPDATE jobs SET attached_to=?, reason=? WHERE id=?") \
	X(ST_JOB_FOLLOWERS, "SELECT " JOB_COLS " FROM jobs WHERE"             \
	  " attached_to=? AND state='queued' ORDER BY id")                   \
	X(ST_JOB_CACHED, "UPDATE jobs SET state=?, cached=1, cached_from=?,"  \
	  " attached_to=NULL, exit_code=?, signal=?, duration_ms=?, error=?,"  \
	  " finished_ms=?, reason='' WHERE id=?")                            \
	X(ST_ARTIFACT_COPY, "INSERT OR REPLACE INTO artifacts(job_id, name,"  \
	  " sha256, size) SELECT ?, name, sha256, size FROM artifacts"       \
	  " WHERE job_id=?")                                                 \
	X(ST_TOKEN_PUT, "INSERT OR REPLACE INTO api_tokens(name, scope,"     \
	  " secret_sha256, created_ms, revoked, expires_ms)"                 \
	  " VALUES(?,?,?,?,0,?)")                                            \
	X(ST_TOKEN_SCOPE, "SELECT scope, expires_ms FROM api_tokens WHERE"   \
	  " secret_sha256=? AND revoked=0")                                  \
	X(ST_TOKEN_NAME, "SELECT name FROM api_tokens WHERE"                 \
	  " secret_sha256=? AND revoked=0")                                  \
	X(ST_TOKEN_ANY, "SELECT EXISTS(SELECT 1 FROM api_tokens)")    \
	X(ST_TOKEN_REVOKE, "UPDATE api_tokens SET revoked=1 WHERE name=?")    \
	X(ST_ENROL_PUT, "INSERT OR REPLACE INTO enrolments(name, host_type,"  \
	  " labels, secret_sha256, created_ms, revoked, expires_ms)"         \
	  " VALUES(?,?,?,?,?,0,?)")                                          \
	X(ST_ENROL_GET, "SELECT host_type, labels, secret_sha256, revoked,"   \
	  " created_ms, expires_ms FROM enrolments WHERE name=?")            \
	X(ST_ENROL_REVOKE, "UPDATE enrolments SET revoked=1 WHERE name=?")    \
	X(ST_ENROL_NAMES, "SELECT name FROM enrolments WHERE ?1=0 OR"        \
	  " revoked=1 OR (expires_ms>0 AND expires_ms<=?2) ORDER BY name")    \
	X(ST_ENROL_ANY, "SELECT EXISTS(SELECT 1 FROM enrolments)")           \
	X(ST_BLOB_RECORD, "INSERT OR IGNORE INTO blobs(sha256, size, created_ms)" \
	  " VALUES(?,?,?)")                                                  \
	X(ST_BUILDLET_DRAIN, "UPDATE buildlets SET drained=? WHERE name=?")   \
	X(ST_JOB_REASON, "UPDATE jobs SET reason=? WHERE id=?")              \
	X(ST_JOB_CANCEL, "UPDATE jobs SET cancel_requested=1 WHERE id=?")    \
	X(ST_JOB_DEADLINE, "UPDATE jobs SET deadline_ms=? WHERE id=?")       \
	X(ST_ATTEMPT_LIST, "SELECT job_id, n, buildlet, dispatched_ms,"     \
	  " coalesce(started_ms,0), coalesce(finished_ms,0),"                \
	  " coalesce(exit_code,-1), coalesce(signal,0),"                     \
	  " coalesce(duration_ms,0), error FROM attempts WHERE job_id=? ORDER BY n") \
	X(ST_LOG_INSERT, "INSERT OR IGNORE INTO log_chunks(job_id, attempt," \
	  " seq, stream, data) VALUES(?,?,?,?,?)")                           \
	X(ST_LOG_SIZE, "SELECT coalesce(sum(length(data)),0) FROM log_chunks" \
	  " WHERE job_id=? AND attempt=? AND (?=0 OR stream=?)")             \
	X(ST_LOG_READ, "SELECT seq, stream, data FROM log_chunks"            \
	  " WHERE job_id=? AND attempt=? AND seq>=? ORDER BY seq")           \
	X(ST_LOG_META_GET, "SELECT bytes, head_seq, head_bytes, tail_seq,"   \
	  " tail_bytes, cut, length(head_part), head_part_stream"            \
	  " FROM log_meta WHERE job_id=? AND attempt=?")                     \
	X(ST_LOG_META_PUT, "INSERT INTO log_meta(job_id, attempt, bytes,"    \
	  " head_seq, head_bytes, tail_seq, tail_bytes, cut)"                \
	  " VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT DO UPDATE SET"       \
	  " bytes=?3, head_seq=?4, head_bytes=?5, tail_seq=?6,"              \
	  " tail_bytes=?7, cut=?8")                                          \
	X(ST_LOG_SPLIT, "UPDATE log_meta SET (head_part, head_part_stream)=" \
	  " (SELECT substr(data, 1, ?3), stream FROM log_chunks"             \
	  "  WHERE job_id=?1 AND attempt=?2 AND seq=?4)"                     \
	  " WHERE job_id=?1 AND attempt=?2")                                 \
	X(ST_LOG_HEAD_PART, "SELECT head_part FROM log_meta"                 \
	  " WHERE job_id=? AND attempt=?")                                   \
	X(ST_LOG_TAIL, "SELECT data FROM log_chunks"                         \
	  " WHERE job_id=? AND attempt=? ORDER BY seq DESC")                 \
	X(ST_LOG_LENGTHS, "SELECT seq, length(data) FROM log_chunks"         \
	  " WHERE job_id=? AND attempt=? AND seq>=? ORDER BY seq")           \
	X(ST_LOG_DELETE, "DELETE FROM log_chunks WHERE job_id=? AND attempt=?" \
	  " AND seq=?")                                                      \
	X(ST_LOG_TRIM, "UPDATE log_chunks SET data=substr(data, ?)"          \
	  " WHERE job_id=? AND attempt=? AND seq=?")                         \
	X(ST_ATTEMPT_UPLOADS, "SELECT uploads, upload_bytes, refused"         \
	  " FROM attempts WHERE job_id=? AND n=?")                           \
	X(ST_ATTEMPT_UPLOAD_ADD, "UPDATE attempts SET uploads=uploads+1,"     \
	  " upload_bytes=upload_bytes+? WHERE job_id=? AND n=?")             \
	X(ST_ATTEMPT_REFUSE, "UPDATE attempts SET refused=? WHERE job_id=?"   \
	  " AND n=? AND refused=''")                                         \
	X(ST_BUILDLET_UPSERT, "INSERT INTO buildlets(name, host_type,"       \
	  " platforms, labels, version, capacity, first_seen_ms, last_seen_ms)" \
	  " VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET"         \
	  " host_type=excluded.host_type, platforms=excluded.platforms,"     \
	  " labels=excluded.labels, version=excluded.version,"               \
	  " capacity=excluded.capacity, last_seen_ms=excluded.last_seen_ms") \
	X(ST_BUILDLET_SEEN, "UPDATE buildlets SET last_seen_ms=? WHERE name=?") \
	X(ST_BUILDLET_LIST, "SELECT name, host_type, platforms, labels,"    \
	  " version, capacity, first_seen_ms, last_seen_ms, drained"         \
	  " FROM buildlets ORDER BY name")                                   \
	X(ST_BUILDLET_DRAINED, "SELECT drained FROM buildlets WHERE name=?")   \
	X(ST_BUILDLET_HOST_TYPE, "SELECT host_type FROM buildlets WHERE name=?")

#define BUILD_COLS "id, created_ms, priority, spec, requester, builder, commit_id"

#define JOB_COLS STORE_JOB_COLS

enum stmt_id {
#define STMT_ENUM(id, sql) id,
	STMTS(STMT_ENUM)
#undef STMT_ENUM
	ST__COUNT
};

static const char *const stmt_sql[] = {
#define STMT_SQL(id, sql) sql,
	STMTS(STMT_SQL)
#undef STMT_SQL
};

struct store {
	sqlite3 *db;                      /* the connection */
	sqlite3_stmt *stmts[ST__COUNT];   /* prepared on first use */
	sqlite3_stmt *other[STORE_OTHER_STMTS]; /* other store files' */
	int in_tx;                        /* a write transaction is open */
};

/* Each migration moves the schema from version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE builds("
	" id INTEGER PRIMARY KEY,"
	" created_ms INTEGER NOT NULL,"
	" priority INTEGER NOT NULL DEFAULT 0,"
	" spec TEXT NOT NULL);"
	"CREATE TABLE jobs("
	" id INTEGER PRIMARY KEY,"
	" build_id INTEGER NOT NULL REFERENCES builds(id),"
	" platform TEXT NOT NULL,"
	" labels TEXT NOT NULL DEFAULT '[]',"
	" state TEXT NOT NULL,"
	" priority INTEGER NOT NULL DEFAULT 0,"
	" created_ms INTEGER NOT NULL,"
	" attempt INTEGER NOT NULL DEFAULT 0,"
	" buildlet TEXT NOT NULL DEFAULT '',"
	" started_ms INTEGER, finished_ms INTEGER,"
	" exit_code INTEGER, signal INTEGER, duration_ms INTEGER,"
	" error TEXT NOT NULL DEFAULT '',"
	" reason TEXT NOT NULL DEFAULT '',"
	" cache_key TEXT, cached INTEGER NOT NULL DEFAULT 0,"
	" cached_from INTEGER, attached_to INTEGER,"
	" git_commit TEXT NOT NULL DEFAULT '',"
	" cancel_requested INTEGER NOT NULL DEFAULT 0,"
	" lost INTEGER NOT NULL DEFAULT 0,"
	" deadline_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX jobs_by_build ON jobs(build_id);"
	"CREATE INDEX jobs_queue ON jobs(priority DESC, created_ms, id)"
	" WHERE state='queued';"
	"CREATE INDEX jobs_by_state ON jobs(state);"
	"CREATE INDEX jobs_by_key ON jobs(cache_key, state);"
	"CREATE INDEX jobs_by_leader ON jobs(attached_to);"
	"CREATE TABLE attempts("
	" job_id INTEGER NOT NULL REFERENCES jobs(id),"
	" n INTEGER NOT NULL,"
	" buildlet TEXT NOT NULL,"
	" dispatched_ms INTEGER NOT NULL,"
	" started_ms INTEGER, finished_ms INTEGER,"
	" exit_code INTEGER, signal INTEGER, duration_ms INTEGER,"
	" error TEXT NOT NULL DEFAULT '',"
	" upload_token TEXT,"
	" PRIMARY KEY(job_id, n));"
	"CREATE UNIQUE INDEX attempts_by_token ON attempts(upload_token);"
	"CREATE TABLE log_chunks("
	" job_id INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	" seq INTEGER NOT NULL, stream INTEGER NOT NULL, data BLOB NOT NULL,"
	" PRIMARY KEY(job_id, attempt, seq)) WITHOUT ROWID;"
	"CREATE TABLE buildlets("
	" name TEXT PRIMARY KEY, host_type TEXT NOT NULL,"
	" platforms TEXT NOT NULL, labels TEXT NOT NULL,"
	" version TEXT NOT NULL, capacity INTEGER NOT NULL,"
	" first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,"
	" drained INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE api_tokens("
	" name TEXT PRIMARY KEY, scope TEXT NOT NULL,"
	" secret_sha256 TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE enrolments("
	" name TEXT PRIMARY KEY, host_type TEXT NOT NULL,"
	" labels TEXT NOT NULL, secret_sha256 TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE blobs("
	" sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL,"
	" created_ms INTEGER NOT NULL);"
	"CREATE TABLE artifacts("
	" job_id INTEGER NOT NULL REFERENCES jobs(id), name TEXT NOT NULL,"
	" sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
	" PRIMARY KEY(job_id, name));",
	/* 2: per-attempt log accounting for --max-log-bytes (head, cut,
	 * rolling tail), and what each attempt uploaded for the artifact
	 * caps. */
	"CREATE TABLE log_meta("
	" job_id INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	" bytes INTEGER NOT NULL,"
	" head_seq INTEGER NOT NULL DEFAULT -1,"
	" head_bytes INTEGER NOT NULL DEFAULT 0,"
	" tail_seq INTEGER NOT NULL DEFAULT 0,"
	" tail_bytes INTEGER NOT NULL DEFAULT 0,"
	" cut INTEGER NOT NULL DEFAULT 0,"
	" head_part BLOB, head_part_stream INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(job_id, attempt)) WITHOUT ROWID;"
	"ALTER TABLE attempts ADD COLUMN uploads INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE attempts ADD COLUMN upload_bytes INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE attempts ADD COLUMN refused TEXT NOT NULL DEFAULT '';",
	/* 3: credentials that expire (0: never). */
	("ALTER TABLE enrolments ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE api_tokens ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0;"),
	/* 4: who asked for a build (the API token's name), for the
	 * dashboard. */
	"ALTER TABLE builds ADD COLUMN requester TEXT NOT NULL DEFAULT '';",
	/* 5: watched repositories and their commits; builds made for a
	 * (commit, builder); jobs bound to a host type, and post-submit
	 * jobs queued after API ones, newest commit first (queue_key). */
	"CREATE TABLE repos("
	" id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE,"
	" builders TEXT NOT NULL DEFAULT '[]',"
	" watched INTEGER NOT NULL DEFAULT 1,"
	" last_poll_ms INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE repo_heads("
	" repo_id INTEGER NOT NULL, branch TEXT NOT NULL, hash TEXT NOT NULL,"
	" PRIMARY KEY(repo_id, branch)) WITHOUT ROWID;"
	"CREATE TABLE commits("
	" id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL,"
	" hash TEXT NOT NULL, parents TEXT NOT NULL, author TEXT NOT NULL,"
	" time_ms INTEGER NOT NULL, subject TEXT NOT NULL,"
	" branch TEXT NOT NULL, seen_ms INTEGER NOT NULL,"
	" UNIQUE(repo_id, hash));"
	"CREATE INDEX commits_by_repo ON commits(repo_id, id);"
	"ALTER TABLE builds ADD COLUMN builder TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE builds ADD COLUMN commit_id INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX builds_by_commit ON builds(commit_id, builder, id)"
	" WHERE commit_id<>0;"
	"ALTER TABLE jobs ADD COLUMN host_type TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE jobs ADD COLUMN postsubmit INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN queue_key INTEGER NOT NULL DEFAULT 0;"
	"UPDATE jobs SET queue_key=created_ms;"
	"DROP INDEX jobs_queue;"
	"CREATE INDEX jobs_queue ON jobs(postsubmit, priority DESC, queue_key, id)"
	" WHERE state='queued';",
	/* 6: the queued jobs the scheduler has not looked at yet (no
	 * reason): what a pass with no free slot reads. */
	"CREATE INDEX jobs_unplanned ON jobs(postsubmit, priority DESC,"
	" queue_key, id) WHERE state='queued' AND reason='';",
	/* 7: the highest build and job ids ever given (see NEXT_ID). */
	"CREATE TABLE id_floor(name TEXT PRIMARY KEY,"
	" floor INTEGER NOT NULL) WITHOUT ROWID;",
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

rc_t store_db_error(struct store *s, const char *what)
{
	log_error("store: %s: %s", what, sqlite3_errmsg(s->db));
	return RC_DB;
}

static sqlite3_stmt *stmt(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->stmts[id];

	if (!st) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1,
				       SQLITE_PREPARE_PERSISTENT, &st, NULL)) {
			/* Every statement is a constant: failing to prepare
			 * one is a programming error, not a runtime one. */
			log_error("store: prepare %s: %s", stmt_sql[id],
				  sqlite3_errmsg(s->db));
			abort();
		}
		s->stmts[id] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

sqlite3_stmt *store_stmt_other(struct store *s, int slot, const char *sql)
{
	sqlite3_stmt *st = s->other[slot];

	if (!st) {
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				       &st, NULL)) {
			log_error("store: prepare %s: %s", sql,
				  sqlite3_errmsg(s->db));
			abort();
		}
		s->other[slot] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Run a statement that returns no rows. */
rc_t store_step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int r = sqlite3_step(st);

	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return store_db_error(s, what);
	return RC_OK;
}

rc_t store_begin_write(struct store *s)
{
	rc_t rc;

	if (s->in_tx)
		return RC_OK;
	rc = store_step_done(s, stmt(s, ST_BEGIN), "begin");
	if (!rc)
		s->in_tx = 1;
	return rc;
}

rc_t store_flush(struct store *s)
{
	rc_t rc;

	if (!s->in_tx)
		return RC_OK;
	rc = store_step_done(s, stmt(s, ST_COMMIT), "commit");
	if (!rc)
		s->in_tx = 0;
	return rc;
}

int store_schema_version(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int v;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL))
		return -1;
	v = (int)store_one_int(st, -1);
	sqlite3_finalize(st);
	return v;
}

static rc_t migrate(struct store *s, struct errbuf *eb)
{
	int v = store_schema_version(s);
	char *err = NULL, pragma[64];

	if (v < 0 || v > N_MIGRATIONS) {
		errbuf_set(eb, "database schema version %d is newer than this "
			   "rfarm understands (%d)", v, N_MIGRATIONS);
		return RC_DB;
	}
	for (; v < N_MIGRATIONS; v++) {
		snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d;", v + 1);
		if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, &err) ||
		    sqlite3_exec(s->db, migrations[v], NULL, NULL, &err) ||
		    sqlite3_exec(s->db, pragma, NULL, NULL, &err) ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, &err)) {
			errbuf_set(eb, "migration %d: %s", v + 1, err ? err : "?");
			sqlite3_free(err);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return RC_DB;
		}
	}
	return RC_OK;
}

rc_t store_open(const char *path, struct store **out, struct errbuf *eb)
{
	struct store *s = xcalloc(1, sizeof *s);
	char *err = NULL;
	rc_t rc = RC_DB;

	*out = NULL;
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL)) {
		errbuf_set(eb, "open %s: %s", path,
			   s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* WAL + NORMAL: a commit is durable against a process crash at once
	 * and against power loss from the next checkpoint on. */
	if (sqlite3_exec(s->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 "PRAGMA foreign_keys=ON;",
			 NULL, NULL, &err)) {
		errbuf_set(eb, "%s: %s", path, err ? err : "?");
		sqlite3_free(err);
		goto out;
	}
	rc = migrate(s, eb);
	if (rc)
		goto out;
	*out = s;
	return RC_OK;
out:
	store_close(&s);
	return rc;
}

void store_close(struct store **sp)
{
	struct store *s = *sp;

	if (!s)
		return;
	if (s->db) {
		store_flush(s);
		for (int i = 0; i < ST__COUNT; i++)
			sqlite3_finalize(s->stmts[i]);
		for (int i = 0; i < STORE_OTHER_STMTS; i++)
			sqlite3_finalize(s->other[i]);
		sqlite3_close(s->db);
	}
	free(s);
	*sp = NULL;
}

char *store_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return xstrdup(t ? (const char *)t : "");
}

rc_t store_row(struct store *s, sqlite3_stmt *st, store_row_fn fill, void *row,
	       size_t size, const char *what)
{
	int r;

	memset(row, 0, size);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		fill(st, row);
	sqlite3_reset(st);
	if (r == SQLITE_ROW)
		return RC_OK;
	if (r == SQLITE_DONE)
		return RC_NOT_FOUND;
	return what ? store_db_error(s, what) : RC_DB;
}

void store_text_row(sqlite3_stmt *st, void *row)
{
	*(char **)row = store_col_text(st, 0);
}

void store_text_clear(void *row)
{
	free(*(char **)row);
}

void store_int64_row(sqlite3_stmt *st, void *row)
{
	*(int64_t *)row = sqlite3_column_int64(st, 0);
}

rc_t store_text(struct store *s, sqlite3_stmt *st, char *out, size_t n,
		const char *what)
{
	char *text;
	rc_t rc = store_row(s, st, store_text_row, &text, sizeof text, what);

	if (!rc) {
		snprintf(out, n, "%s", text);
		free(text);
	}
	return rc;
}

int64_t store_one_int(sqlite3_stmt *st, int64_t dflt)
{
	int64_t v = dflt;

	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

struct int_pair {
	int64_t a, b;
};

/* Columns 0 and 1 as a struct int_pair. */
static void pair_row(sqlite3_stmt *st, void *row)
{
	struct int_pair *p = row;

	p->a = sqlite3_column_int64(st, 0);
	p->b = sqlite3_column_int64(st, 1);
}

rc_t store_rows(struct store *s, sqlite3_stmt *st, store_row_fn fill,
		void (*clear)(void *row), void *arrayp, size_t *n, size_t size,
		const char *what)
{
	char **v = arrayp;
	size_t cap = 0;
	int r;

	*v = NULL;
	*n = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		fill(st, xarray_push(arrayp, n, &cap, size));
	sqlite3_reset(st);
	if (r == SQLITE_DONE)
		return RC_OK;
	store_array_free(arrayp, *n, size, clear);
	*n = 0;
	return store_db_error(s, what);
}

void store_array_free(void *arrayp, size_t n, size_t size,
		      void (*clear)(void *row))
{
	char **v = arrayp;

	for (size_t i = 0; clear && *v && i < n; i++)
		clear(*v + i * size);
	free(*v);
	*v = NULL;
}

/* Run a write statement bound as (text, id): the common shape of the
 * single-column updates below. */
static rc_t write_text_id(struct store *s, enum stmt_id id, const char *text,
			  int64_t row, const char *what)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, id);
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, row);
	return store_step_done(s, st, what);
}

/* The same for (integer, id). */
static rc_t write_int_id(struct store *s, enum stmt_id id, int64_t n,
			 int64_t row, const char *what)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, id);
	sqlite3_bind_int64(st, 1, n);
	sqlite3_bind_int64(st, 2, row);
	return store_step_done(s, st, what);
}

/* A write bound as (text) that must change a row: RC_NOT_FOUND if none. */
static rc_t write_name(struct store *s, enum stmt_id id, const char *name,
		       const char *what)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, id);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = store_step_done(s, st, what);
	if (!rc && !sqlite3_changes(s->db))
		return RC_NOT_FOUND;
	return rc;
}

/* ---- builds ---- */

rc_t store_build_insert(struct store *s, int64_t created_ms, int priority,
			const char *spec, int64_t *id)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_BUILD_INSERT);
	sqlite3_bind_int64(st, 1, created_ms);
	sqlite3_bind_int(st, 2, priority);
	sqlite3_bind_text(st, 3, spec, -1, SQLITE_STATIC);
	rc = store_step_done(s, st, "insert build");
	if (!rc)
		*id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

static void build_from_row(sqlite3_stmt *st, void *row)
{
	struct store_build *b = row;

	b->id = sqlite3_column_int64(st, 0);
	b->created_ms = sqlite3_column_int64(st, 1);
	b->priority = sqlite3_column_int(st, 2);
	b->spec = store_col_text(st, 3);
	b->requester = store_col_text(st, 4);
	b->builder = store_col_text(st, 5);
	b->commit_id = sqlite3_column_int64(st, 6);
}

rc_t store_build_get(struct store *s, int64_t id, struct store_build *b)
{
	sqlite3_stmt *st = stmt(s, ST_BUILD_GET);

	sqlite3_bind_int64(st, 1, id);
	return store_row(s, st, build_from_row, b, sizeof *b, "get build");
}

void store_build_clear(struct store_build *b)
{
	free(b->spec);
	free(b->requester);
	free(b->builder);
	memset(b, 0, sizeof *b);
}

rc_t store_build_set_requester(struct store *s, int64_t id, const char *who)
{
	return write_text_id(s, ST_BUILD_REQUESTER, who, id, "set requester");
}

static void build_clear(void *row)
{
	store_build_clear(row);
}

rc_t store_build_page(struct store *s, int64_t offset, int limit,
		      struct store_build **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_BUILD_PAGE);

	sqlite3_bind_int(st, 1, limit);
	sqlite3_bind_int64(st, 2, offset);
	return store_rows(s, st, build_from_row, build_clear, out, n,
			  sizeof **out, "build page");
}

void store_build_array_free(struct store_build **b, size_t n)
{
	store_array_free(b, n, sizeof **b, build_clear);
}

int64_t store_build_count_above(struct store *s, int64_t id)
{
	sqlite3_stmt *st = stmt(s, ST_BUILD_COUNT_ABOVE);

	sqlite3_bind_int64(st, 1, id);
	return store_one_int(st, -1);
}

rc_t store_build_list(struct store *s, const char *state, const char *platform,
		      int limit, int64_t before, int64_t **ids, size_t *n)
{
	/* Filters vary per call, so this one statement is built per call
	 * (still with bound values only). */
	const char *sql =
		"SELECT id FROM builds b WHERE (?1=0 OR id<?1)"
		" AND (?2 IS NULL OR EXISTS(SELECT 1 FROM jobs j"
		"  WHERE j.build_id=b.id AND j.state=?2))"
		" AND (?3 IS NULL OR EXISTS(SELECT 1 FROM jobs j"
		"  WHERE j.build_id=b.id AND j.platform=?3))"
		" ORDER BY id DESC LIMIT ?4";
	sqlite3_stmt *st = NULL;
	rc_t rc;

	*ids = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
		return store_db_error(s, "list builds");
	sqlite3_bind_int64(st, 1, before);
	if (state)
		sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	if (platform)
		sqlite3_bind_text(st, 3, platform, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, limit);
	rc = store_rows(s, st, store_int64_row, NULL, ids, n, sizeof **ids,
			"list builds");
	sqlite3_finalize(st);
	return rc;
}

/* ---- jobs ---- */

rc_t store_job_insert(struct store *s, int64_t build_id, const char *platform,
		      const char *labels, int priority, int64_t created_ms,
		      int64_t *id)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_JOB_INSERT);
	sqlite3_bind_int64(st, 1, build_id);
	sqlite3_bind_text(st, 2, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, labels, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, priority);
	sqlite3_bind_int64(st, 5, created_ms);
	rc = store_step_done(s, st, "insert job");
	if (!rc)
		*id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

void store_job_from_row(sqlite3_stmt *st, int at, struct store_job *j)
{
	const char *state = (const char *)sqlite3_column_text(st, at + 4);
	int parsed = job_state_parse(state ? state : "");

	j->id = sqlite3_column_int64(st, at + 0);
	j->build_id = sqlite3_column_int64(st, at + 1);
	j->platform = store_col_text(st, at + 2);
	j->labels = store_col_text(st, at + 3);
	j->state = parsed < 0 ? JOB_ERROR : (enum job_state)parsed;
	j->priority = sqlite3_column_int(st, at + 5);
	j->created_ms = sqlite3_column_int64(st, at + 6);
	j->attempt = sqlite3_column_int(st, at + 7);
	j->buildlet = store_col_text(st, at + 8);
	j->started_ms = sqlite3_column_int64(st, at + 9);
	j->finished_ms = sqlite3_column_int64(st, at + 10);
	j->exit_code = sqlite3_column_int(st, at + 11);
	j->signal = sqlite3_column_int(st, at + 12);
	j->duration_ms = sqlite3_column_int64(st, at + 13);
	j->error = store_col_text(st, at + 14);
	j->reason = store_col_text(st, at + 15);
	j->cancel_requested = sqlite3_column_int(st, at + 16);
	j->lost = sqlite3_column_int(st, at + 17);
	j->deadline_ms = sqlite3_column_int64(st, at + 18);
	j->cache_key = store_col_text(st, at + 19);
	j->cached = sqlite3_column_int(st, at + 20);
	j->cached_from = sqlite3_column_int64(st, at + 21);
	j->attached_to = sqlite3_column_int64(st, at + 22);
	j->commit = store_col_text(st, at + 23);
	j->host_type = store_col_text(st, at + 24);
	j->postsubmit = sqlite3_column_int(st, at + 25);
}

void store_job_clear(struct store_job *j)
{
	free(j->host_type);
	free(j->commit);
	free(j->cache_key);
	free(j->platform);
	free(j->labels);
	free(j->buildlet);
	free(j->error);
	free(j->reason);
	memset(j, 0, sizeof *j);
}

void store_job_copy(struct store_job *dst, const struct store_job *src)
{
	*dst = *src;
	dst->platform = xstrdup(src->platform);
	dst->labels = xstrdup(src->labels);
	dst->buildlet = xstrdup(src->buildlet);
	dst->error = xstrdup(src->error);
	dst->reason = xstrdup(src->reason);
	dst->cache_key = xstrdup(src->cache_key);
	dst->commit = xstrdup(src->commit);
	dst->host_type = xstrdup(src->host_type);
}

void store_job_push(struct store_job **v, size_t *n, size_t *cap,
		    const struct store_job *j)
{
	store_job_copy(xarray_push(v, n, cap, sizeof **v), j);
}

static void job_clear(void *row)
{
	store_job_clear(row);
}

void store_job_array_free(struct store_job **jobs, size_t n)
{
	store_array_free(jobs, n, sizeof **jobs, job_clear);
}

rc_t store_job_set_queue(struct store *s, int64_t id, const char *host_type,
			 int postsubmit, int64_t queue_key)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_JOB_SET_QUEUE);
	sqlite3_bind_text(st, 1, host_type, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, postsubmit);
	sqlite3_bind_int64(st, 3, queue_key);
	sqlite3_bind_int64(st, 4, id);
	return store_step_done(s, st, "set job queue");
}

static void job_row(sqlite3_stmt *st, void *row)
{
	store_job_from_row(st, 0, row);
}

rc_t store_job_get(struct store *s, int64_t id, struct store_job *j)
{
	sqlite3_stmt *st = stmt(s, ST_JOB_GET);

	sqlite3_bind_int64(st, 1, id);
	return store_row(s, st, job_row, j, sizeof *j, "get job");
}

/* Every row of a bound job statement into a new array. */
static rc_t list_jobs(struct store *s, sqlite3_stmt *st, struct store_job **jobs,
		      size_t *n)
{
	return store_rows(s, st, job_row, job_clear, jobs, n, sizeof **jobs,
			  "list jobs");
}

rc_t store_job_list_build(struct store *s, int64_t build_id,
			  struct store_job **jobs, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_JOB_LIST_BUILD);

	sqlite3_bind_int64(st, 1, build_id);
	return list_jobs(s, st, jobs, n);
}

rc_t store_job_list_builds(struct store *s, int64_t lo, int64_t hi,
			   struct store_job **jobs, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_JOB_LIST_RANGE);

	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	return list_jobs(s, st, jobs, n);
}

rc_t store_job_list_queued(struct store *s, int limit, struct store_job **jobs,
			   size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_JOB_LIST_QUEUED);

	sqlite3_bind_int(st, 1, limit);
	return list_jobs(s, st, jobs, n);
}

rc_t store_job_list_failed(struct store *s, int limit, struct store_job **jobs,
			   size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_JOB_LIST_FAILED);

	sqlite3_bind_int(st, 1, limit);
	return list_jobs(s, st, jobs, n);
}

static rc_t scan_jobs(struct store *s, sqlite3_stmt *st, store_job_cb cb,
		      void *ud)
{
	struct store_job j;
	int r, stop = 0;

	/* Rows are copied out before the callback so that it may write. */
	while (!stop && (r = sqlite3_step(st)) == SQLITE_ROW) {
		store_job_from_row(st, 0, &j);
		stop = cb(ud, &j);
		store_job_clear(&j);
	}
	sqlite3_reset(st);
	if (!stop && r != SQLITE_DONE)
		return store_db_error(s, "scan jobs");
	return RC_OK;
}

int store_job_runs_on(struct store *s, int64_t id, int attempt,
		      const char *buildlet)
{
	sqlite3_stmt *st = stmt(s, ST_JOB_OWNER);
	int r;

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, attempt);
	sqlite3_bind_text(st, 3, buildlet, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		store_db_error(s, "job owner");
	return r == SQLITE_ROW;
}

rc_t store_job_scan_queue(struct store *s, int offset, int limit,
			  store_job_cb cb, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_JOB_QUEUE);

	sqlite3_bind_int(st, 1, limit);
	sqlite3_bind_int(st, 2, offset);
	return scan_jobs(s, st, cb, ud);
}

rc_t store_job_scan_unplanned(struct store *s, int limit, store_job_cb cb,
			      void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_JOB_UNPLANNED);

	sqlite3_bind_int(st, 1, limit);
	return scan_jobs(s, st, cb, ud);
}

rc_t store_job_scan_active(struct store *s, store_job_cb cb, void *ud)
{
	return scan_jobs(s, stmt(s, ST_JOB_ACTIVE), cb, ud);
}

int64_t store_job_count_state(struct store *s, enum job_state state)
{
	sqlite3_stmt *st = stmt(s, ST_JOB_COUNT_STATE);

	sqlite3_bind_text(st, 1, job_state_name(state), -1, SQLITE_STATIC);
	return store_one_int(st, -1);
}

rc_t store_job_dispatch(struct store *s, int64_t id, int attempt,
			const char *buildlet, int64_t now_ms)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_JOB_DISPATCH);
	sqlite3_bind_int(st, 1, attempt);
	sqlite3_bind_text(st, 2, buildlet, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, id);
	rc = store_step_done(s, st, "dispatch job");
	if (rc)
		return rc;
	st = stmt(s, ST_ATTEMPT_INSERT);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, attempt);
	sqlite3_bind_text(st, 3, buildlet, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms);
	return store_step_done(s, st, "insert attempt");
}

rc_t store_job_started(struct store *s, int64_t id, int attempt, int64_t now_ms)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_JOB_STARTED);
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int(st, 3, attempt);
	rc = store_step_done(s, st, "start job");
	if (rc)
		return rc;
	st = stmt(s, ST_ATTEMPT_STARTED);
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int(st, 3, attempt);
	return store_step_done(s, st, "start attempt");
}

rc_t store_job_finish(struct store *s, int64_t id, int attempt,
		      enum job_state state, int exit_code, int sig,
		      int64_t duration_ms, const char *error, int64_t now_ms)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_JOB_FINISH);
	sqlite3_bind_text(st, 1, job_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, exit_code);
	sqlite3_bind_int(st, 3, sig);
	sqlite3_bind_int64(st, 4, duration_ms);
	sqlite3_bind_text(st, 5, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ms);
	sqlite3_bind_int64(st, 7, id);
	rc = store_step_done(s, st, "finish job");
	if (rc || attempt < 1)
		return rc;
	st = stmt(s, ST_ATTEMPT_FINISH);
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int(st, 2, exit_code);
	sqlite3_bind_int(st, 3, sig);
	sqlite3_bind_int64(st, 4, duration_ms);
	sqlite3_bind_text(st, 5, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, id);
	sqlite3_bind_int(st, 7, attempt);
	return store_step_done(s, st, "finish attempt");
}

rc_t store_attempt_lost(struct store *s, int64_t job, int attempt,
			const char *why, int64_t now_ms)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_ATTEMPT_FINISH);
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int(st, 2, -1);
	sqlite3_bind_int(st, 3, 0);
	sqlite3_bind_int64(st, 4, 0);
	sqlite3_bind_text(st, 5, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, job);
	sqlite3_bind_int(st, 7, attempt);
	return store_step_done(s, st, "close lost attempt");
}

rc_t store_job_requeue(struct store *s, int64_t id, const char *reason)
{
	return write_text_id(s, ST_JOB_REQUEUE, reason, id, "requeue job");
}

rc_t store_job_retry(struct store *s, int64_t id, const char *reason)
{
	return write_text_id(s, ST_JOB_RETRY, reason, id, "retry job");
}

rc_t store_job_set_reason(struct store *s, int64_t id, const char *reason)
{
	return write_text_id(s, ST_JOB_REASON, reason, id, "set reason");
}

rc_t store_job_set_deadline(struct store *s, int64_t id, int64_t deadline_ms)
{
	return write_int_id(s, ST_JOB_DEADLINE, deadline_ms, id, "set deadline");
}

rc_t store_job_request_cancel(struct store *s, int64_t id)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_JOB_CANCEL);
	sqlite3_bind_int64(st, 1, id);
	return store_step_done(s, st, "request cancel");
}

static void attempt_from_row(sqlite3_stmt *st, void *row)
{
	struct store_attempt *a = row;

	a->job_id = sqlite3_column_int64(st, 0);
	a->n = sqlite3_column_int(st, 1);
	a->buildlet = store_col_text(st, 2);
	a->dispatched_ms = sqlite3_column_int64(st, 3);
	a->started_ms = sqlite3_column_int64(st, 4);
	a->finished_ms = sqlite3_column_int64(st, 5);
	a->exit_code = sqlite3_column_int(st, 6);
	a->signal = sqlite3_column_int(st, 7);
	a->duration_ms = sqlite3_column_int64(st, 8);
	a->error = store_col_text(st, 9);
}

static void attempt_clear(void *row)
{
	struct store_attempt *a = row;

	free(a->buildlet);
	free(a->error);
}

rc_t store_attempt_list(struct store *s, int64_t job_id,
			struct store_attempt **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_ATTEMPT_LIST);

	sqlite3_bind_int64(st, 1, job_id);
	return store_rows(s, st, attempt_from_row, attempt_clear, out, n,
			  sizeof **out, "list attempts");
}

void store_attempt_array_free(struct store_attempt **a, size_t n)
{
	store_array_free(a, n, sizeof **a, attempt_clear);
}

/* ---- logs ---- */

/*
 * An attempt's log accounting (table log_meta). Until the log outgrows
 * the cap every chunk is kept. Then the head, exactly the first cap / 2
 * bytes, is frozen: the chunks before head_seq and, when the boundary
 * falls inside a chunk, that chunk's first bytes (head_part, moved into
 * log_meta so the rest of the chunk can be trimmed as tail). Chunks
 * head_seq <= seq < tail_seq are gone, and the tail (seq >= tail_seq) is
 * a rolling window trimmed to the rest of the cap: its oldest chunk is
 * deleted, or cut at the front, as new ones arrive. Seqs in the cut count
 * as received, so a resent chunk is never stored or counted twice, and
 * readers can say how many bytes they were not shown.
 */
struct log_meta {
	int64_t bytes;      /* bytes received, the cut ones included */
	int64_t head_seq;   /* first seq not wholly in the head; -1 until a cut */
	int64_t head_bytes; /* bytes of the head, head_part included */
	int64_t tail_seq;   /* first seq of the tail */
	int64_t tail_bytes; /* bytes stored in the tail */
	int64_t cut;        /* bytes dropped between head and tail */
	int64_t part_len;   /* bytes of head_part: the head's end, cut from
			       the front of chunk head_seq */
	int part_stream;    /* the stream they came on */
};

static int meta_cut(const struct log_meta *m)
{
	return m->head_seq >= 0;
}

static void meta_from_row(sqlite3_stmt *st, void *row)
{
	struct log_meta *m = row;

	m->bytes = sqlite3_column_int64(st, 0);
	m->head_seq = sqlite3_column_int64(st, 1);
	m->head_bytes = sqlite3_column_int64(st, 2);
	m->tail_seq = sqlite3_column_int64(st, 3);
	m->tail_bytes = sqlite3_column_int64(st, 4);
	m->cut = sqlite3_column_int64(st, 5);
	m->part_len = sqlite3_column_int64(st, 6);
	m->part_stream = sqlite3_column_int(st, 7);
}

/* *found is 0 (and m empty) for an attempt without a row yet. */
static rc_t meta_get(struct store *s, int64_t job, int attempt,
		     struct log_meta *m, int *found)
{
	sqlite3_stmt *st = stmt(s, ST_LOG_META_GET);
	rc_t rc;

	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, attempt);
	rc = store_row(s, st, meta_from_row, m, sizeof *m, "log meta");
	*found = rc == RC_OK;
	if (!*found)
		m->head_seq = -1;
	return rc == RC_NOT_FOUND ? RC_OK : rc;
}

/* Everything but head_part, which only a split writes. */
static rc_t meta_put(struct store *s, int64_t job, int attempt,
		     const struct log_meta *m)
{
	sqlite3_stmt *st = stmt(s, ST_LOG_META_PUT);

	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, attempt);
	sqlite3_bind_int64(st, 3, m->bytes);
	sqlite3_bind_int64(st, 4, m->head_seq);
	sqlite3_bind_int64(st, 5, m->head_bytes);
	sqlite3_bind_int64(st, 6, m->tail_seq);
	sqlite3_bind_int64(st, 7, m->tail_bytes);
	sqlite3_bind_int64(st, 8, m->cut);
	return store_step_done(s, st, "log meta");
}

/* The first stored chunk with seq >= from: 1 and its seq and length,
 * 0 if there is none, -1 on error. */
static int chunk_from(struct store *s, int64_t job, int attempt, int64_t from,
		      int64_t *seq, int64_t *len)
{
	sqlite3_stmt *st = stmt(s, ST_LOG_LENGTHS);
	struct int_pair p;
	rc_t rc;

	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, attempt);
	sqlite3_bind_int64(st, 3, from);
	rc = store_row(s, st, pair_row, &p, sizeof p, "log lengths");
	if (rc)
		return rc == RC_NOT_FOUND ? 0 : -1;
	*seq = p.a;
	*len = p.b;
	return 1;
}

/* Delete chunk seq, or with front > 0 cut that many bytes off its start. */
static rc_t chunk_drop(struct store *s, int64_t job, int attempt, int64_t seq,
		       int64_t front)
{
	sqlite3_stmt *st = stmt(s, front ? ST_LOG_TRIM : ST_LOG_DELETE);
	int i = 1;

	if (front)
		sqlite3_bind_int64(st, i++, front + 1); /* substr counts from 1 */
	sqlite3_bind_int64(st, i++, job);
	sqlite3_bind_int(st, i++, attempt);
	sqlite3_bind_int64(st, i, seq);
	return store_step_done(s, st, "drop log bytes");
}

/* Move the first len bytes of chunk seq into log_meta.head_part. */
static rc_t head_split(struct store *s, int64_t job, int attempt, int64_t seq,
		       int64_t len)
{
	sqlite3_stmt *st = stmt(s, ST_LOG_SPLIT);
	rc_t rc;

	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, attempt);
	sqlite3_bind_int64(st, 3, len);
	sqlite3_bind_int64(st, 4, seq);
	rc = store_step_done(s, st, "split log chunk");
	return rc ? rc : chunk_drop(s, job, attempt, seq, len);
}

/* The log just outgrew cap: freeze its first cap / 2 bytes as the head;
 * everything after them is the tail. */
static rc_t cut_begin(struct store *s, int64_t job, int attempt, int64_t cap,
		      struct log_meta *m)
{
	int64_t seq, len;
	rc_t rc;
	int r;

	m->head_seq = 0;
	m->head_bytes = 0;
	while ((r = chunk_from(s, job, attempt, m->head_seq, &seq, &len)) == 1 &&
	       seq == m->head_seq && m->head_bytes + len <= cap / 2) {
		m->head_bytes += len;
		m->head_seq++;
	}
	if (r < 0)
		return RC_DB;
	m->tail_seq = m->head_seq;
	m->tail_bytes = m->bytes - m->head_bytes;
	if (r == 0 || seq != m->head_seq || m->head_bytes == cap / 2)
		return RC_OK; /* ends at a chunk boundary (or at a gap) */
	/* The row must exist before head_part can be written into it. */
	m->part_len = cap / 2 - m->head_bytes;
	rc = meta_put(s, job, attempt, m);
	if (!rc)
		rc = head_split(s, job, attempt, seq, m->part_len);
	m->head_bytes += m->part_len;
	m->tail_bytes -= m->part_len;
	return rc;
}

/* Trim the tail from its oldest end to what the cap leaves it. */
static rc_t tail_trim(struct store *s, int64_t job, int attempt, int64_t cap,
		      struct log_meta *m, int64_t *dropped)
{
	int64_t keep = cap - m->head_bytes, seq, len;
	rc_t rc = RC_OK;
	int r;

	if (keep < cap - cap / 2)
		keep = cap - cap / 2; /* a head kept under a larger cap */
	while (!rc && m->tail_bytes > keep) {
		int64_t excess = m->tail_bytes - keep;

		r = chunk_from(s, job, attempt, m->tail_seq, &seq, &len);
		if (r < 0)
			return RC_DB;
		if (r == 0) { /* cannot happen: the sums say there is more */
			log_error("store: job %lld attempt %d: log tail of %lld "
				  "bytes not found", (long long)job, attempt,
				  (long long)m->tail_bytes);
			m->tail_bytes = 0;
			break;
		}
		if (len <= excess) {
			rc = chunk_drop(s, job, attempt, seq, 0);
			m->tail_seq = seq + 1;
		} else {
			rc = chunk_drop(s, job, attempt, seq, excess);
			m->tail_seq = seq;
			len = excess;
		}
		m->tail_bytes -= len;
		m->cut += len;
		*dropped += len;
	}
	return rc;
}

static rc_t log_insert(struct store *s, int64_t job, int attempt, int64_t seq,
		       int stream, const void *data, size_t len, int *added)
{
	sqlite3_stmt *st = stmt(s, ST_LOG_INSERT);
	rc_t rc;

	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, attempt);
	sqlite3_bind_int64(st, 3, seq);
	sqlite3_bind_int(st, 4, stream);
	sqlite3_bind_blob64(st, 5, len ? data : "", len, SQLITE_STATIC);
	rc = store_step_done(s, st, "append log");
	*added = !rc && sqlite3_changes(s->db) > 0;
	return rc;
}

rc_t store_log_append(struct store *s, int64_t job, int attempt, int64_t seq,
		      int stream, const void *data, size_t len, int64_t cap,
		      int64_t *dropped)
{
	struct log_meta m;
	int found, added;
	rc_t rc = store_begin_write(s);

	*dropped = 0;
	if (!rc)
		rc = meta_get(s, job, attempt, &m, &found);
	if (!rc && !found) /* its first chunk, or a log older than log_meta */
		rc = store_log_size(s, job, attempt, 0, &m.bytes, NULL);
	if (rc)
		return rc;
	if (meta_cut(&m) && seq >= m.head_seq && seq < m.tail_seq)
		return RC_OK; /* a resend of a chunk that was cut */
	rc = log_insert(s, job, attempt, seq, stream, data, len, &added);
	if (rc || !added)
		return rc; /* a resend of a stored chunk */
	m.bytes += (int64_t)len;
	if (meta_cut(&m) && seq < m.head_seq)
		m.head_bytes += (int64_t)len; /* filled a gap in the head */
	else if (meta_cut(&m))
		m.tail_bytes += (int64_t)len;
	if (cap > 0 && !meta_cut(&m) && m.bytes > cap)
		rc = cut_begin(s, job, attempt, cap, &m);
	if (!rc && cap > 0 && meta_cut(&m))
		rc = tail_trim(s, job, attempt, cap, &m, dropped);
	if (!rc)
		rc = meta_put(s, job, attempt, &m);
	return rc;
}

rc_t store_log_size(struct store *s, int64_t job, int attempt, int stream,
		    int64_t *bytes, int64_t *cut)
{
	sqlite3_stmt *st = stmt(s, ST_LOG_SIZE);
	struct log_meta m;
	int r, found;

	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, attempt);
	sqlite3_bind_int(st, 3, stream);
	sqlite3_bind_int(st, 4, stream);
	r = sqlite3_step(st);
	*bytes = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (r != SQLITE_ROW)
		return store_db_error(s, "log size");
	if (meta_get(s, job, attempt, &m, &found))
		return RC_DB;
	if (!stream || stream == m.part_stream)
		*bytes += m.part_len;
	if (cut)
		*cut = m.cut;
	return RC_OK;
}

/* Give the part of head_part the cursor has not had; -1 on error. */
static int head_part_give(struct store *s, int64_t job, int attempt,
			  const struct log_meta *m, int stream,
			  struct store_log_cursor *cur, store_log_cb cb, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_LOG_HEAD_PART);
	int64_t from = cur->off - (m->head_bytes - m->part_len);
	int r;

	if (from < 0)
		from = 0;
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, attempt);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == m->part_len &&
	    (!stream || stream == m->part_stream))
		cb(ud, m->head_seq, m->part_stream,
		   (const char *)sqlite3_column_blob(st, 0) + from,
		   (size_t)(m->part_len - from));
	sqlite3_reset(st);
	if (r != SQLITE_ROW)
		return store_db_error(s, "log head"), -1;
	cur->off = m->head_bytes;
	return 0;
}

rc_t store_log_read(struct store *s, int64_t job, int attempt, int stream,
		    struct store_log_cursor *cur, size_t max_bytes,
		    int contiguous, store_log_cb cb, void *ud)
{
	sqlite3_stmt *st;
	struct log_meta m;
	int64_t tail_off;
	size_t given = 0;
	int r, found;

	if (meta_get(s, job, attempt, &m, &found))
		return RC_DB;
	/* Where the tail starts in the log as it was written. */
	tail_off = m.head_bytes + m.cut;
	st = stmt(s, ST_LOG_READ);
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, attempt);
	sqlite3_bind_int64(st, 3, cur->seq);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		int chunk_stream = sqlite3_column_int(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 2);

		/* At the end of the head: its last bytes, kept apart. */
		if (meta_cut(&m) && seq >= m.head_seq && m.part_len > 0 &&
		    cur->seq <= m.head_seq && cur->off < m.head_bytes) {
			if (head_part_give(s, job, attempt, &m, stream, cur,
					   cb, ud)) {
				sqlite3_reset(st);
				return RC_DB;
			}
			given += (size_t)m.part_len;
		}
		/* Past the head with bytes this reader has not seen cut
		 * away (all of the cut, or for a follower that was already
		 * past the head, what went after it had read on). */
		if (meta_cut(&m) && seq >= m.head_seq &&
		    (cur->seq < m.tail_seq || cur->off < tail_off)) {
			if (cur->off < tail_off)
				cb(ud, m.tail_seq, STORE_LOG_CUT, NULL,
				   (size_t)(tail_off - cur->off));
			cur->seq = m.tail_seq;
			cur->off = tail_off > cur->off ? tail_off : cur->off;
		}
		if (contiguous && seq != cur->seq)
			break;
		cur->seq = seq + 1;
		cur->off += (int64_t)len;
		if (stream && chunk_stream != stream)
			continue;
		cb(ud, seq, chunk_stream, sqlite3_column_blob(st, 2), len);
		given += len;
		if (given >= max_bytes)
			break;
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_db_error(s, "read log");
	return RC_OK;
}

rc_t store_log_tail(struct store *s, int64_t job, int attempt, size_t max_bytes,
		    char **data, size_t *len)
{
	sqlite3_stmt *st = stmt(s, ST_LOG_TAIL);
	char *out = xmalloc(max_bytes + 1);
	size_t have = 0;
	int r;

	/* Newest chunk first, each put in front of what was read, until
	 * max_bytes are in: a log of megabytes costs a chunk or two. */
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, attempt);
	while (have < max_bytes && (r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *p = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		if (n > max_bytes - have) {
			p += n - (max_bytes - have);
			n = max_bytes - have;
		}
		memcpy(out + max_bytes - have - n, p, n);
		have += n;
	}
	sqlite3_reset(st);
	memmove(out, out + max_bytes - have, have);
	out[have] = '\0';
	*data = out;
	*len = have;
	return RC_OK;
}

rc_t store_log_next_seq(struct store *s, int64_t job, int attempt,
			int64_t *next)
{
	sqlite3_stmt *st;
	struct log_meta m;
	struct int_pair stats; /* how many chunks are stored, the last seq */
	int64_t count, max, gone = 0;
	int r, found;

	if (meta_get(s, job, attempt, &m, &found))
		return RC_DB;
	st = stmt(s, ST_LOG_SEQ_STATS);
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, attempt);
	/* An aggregate: it always gives a row. */
	if (store_row(s, st, pair_row, &stats, sizeof stats, "log seq"))
		return RC_DB;
	count = stats.a;
	max = stats.b;
	if (meta_cut(&m)) { /* the cut seqs were received */
		gone = m.tail_seq - m.head_seq;
		if (max < m.tail_seq - 1)
			max = m.tail_seq - 1;
	}
	*next = max + 1;
	if (count + gone == max + 1)
		return RC_OK; /* no gap: the usual case, one indexed query */
	st = stmt(s, ST_LOG_SEQS);
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, attempt);
	*next = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);

		if (meta_cut(&m) && *next == m.head_seq)
			*next = m.tail_seq;
		if (seq > *next)
			break;
		if (seq == *next)
			(*next)++;
	}
	if (meta_cut(&m) && *next == m.head_seq)
		*next = m.tail_seq;
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? RC_OK : store_db_error(s, "log seqs");
}

rc_t store_queue_stats(struct store *s, store_queue_cb cb, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_QUEUE_STATS);
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		cb(ud, (const char *)sqlite3_column_text(st, 0),
		   sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
	sqlite3_reset(st);
	return r == SQLITE_DONE ? RC_OK : store_db_error(s, "queue stats");
}

int64_t store_builds_started(struct store *s)
{
	return store_one_int(stmt(s, ST_BUILDS_STARTED), -1);
}

/* ---- buildlets ---- */

rc_t store_buildlet_set_drained(struct store *s, const char *name, int drained)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_BUILDLET_DRAIN);
	sqlite3_bind_int(st, 1, drained);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = store_step_done(s, st, "drain buildlet");
	if (!rc && !sqlite3_changes(s->db))
		return RC_NOT_FOUND;
	return rc;
}

int store_buildlet_drained(struct store *s, const char *name)
{
	sqlite3_stmt *st = stmt(s, ST_BUILDLET_DRAINED);

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return (int)store_one_int(st, 0);
}

rc_t store_buildlet_host_type(struct store *s, const char *name, char *out,
			      size_t n)
{
	sqlite3_stmt *st = stmt(s, ST_BUILDLET_HOST_TYPE);

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return store_text(s, st, out, n, "buildlet host type");
}

/* ---- blobs ---- */

rc_t store_blob_record(struct store *s, const char *sha, int64_t size,
		       int64_t now_ms)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_BLOB_RECORD);
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, size);
	sqlite3_bind_int64(st, 3, now_ms);
	return store_step_done(s, st, "record blob");
}

/* ---- API tokens ---- */

rc_t store_api_token_put(struct store *s, const char *name, const char *scope,
			 const char *secret_sha256, int64_t now_ms,
			 int64_t expires_ms)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_TOKEN_PUT);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, secret_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_int64(st, 5, expires_ms);
	return store_step_done(s, st, "create token");
}

int store_api_token_name(struct store *s, const char *secret_sha256,
			 char *name, size_t n)
{
	sqlite3_stmt *st = stmt(s, ST_TOKEN_NAME);

	sqlite3_bind_text(st, 1, secret_sha256, -1, SQLITE_STATIC);
	return store_text(s, st, name, n, NULL) == RC_OK;
}

struct token_scope {
	char *scope;
	int64_t expires_ms;
};

static void scope_from_row(sqlite3_stmt *st, void *row)
{
	struct token_scope *t = row;

	t->scope = store_col_text(st, 0);
	t->expires_ms = sqlite3_column_int64(st, 1);
}

int store_api_token_scope(struct store *s, const char *secret_sha256,
			  char *scope, size_t n, int64_t *expires_ms)
{
	sqlite3_stmt *st = stmt(s, ST_TOKEN_SCOPE);
	struct token_scope t;

	sqlite3_bind_text(st, 1, secret_sha256, -1, SQLITE_STATIC);
	if (store_row(s, st, scope_from_row, &t, sizeof t, NULL))
		return 0;
	snprintf(scope, n, "%s", t.scope);
	*expires_ms = t.expires_ms;
	free(t.scope);
	return 1;
}

/* The first column of the first row of a counting statement; 0 if none. */
static int count_of(struct store *s, int id)
{
	return (int)store_one_int(stmt(s, id), 0);
}

int store_api_tokens_exist(struct store *s)
{
	return count_of(s, ST_TOKEN_ANY) > 0;
}

int store_enrolments_exist(struct store *s)
{
	return count_of(s, ST_ENROL_ANY) > 0;
}

rc_t store_api_token_revoke(struct store *s, const char *name)
{
	return write_name(s, ST_TOKEN_REVOKE, name, "revoke token");
}

/* ---- enrolments ---- */

rc_t store_enrol_put(struct store *s, const char *name, const char *host_type,
		     const char *labels, const char *secret_sha256, int64_t now_ms,
		     int64_t expires_ms)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_ENROL_PUT);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, host_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, labels, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, secret_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_ms);
	sqlite3_bind_int64(st, 6, expires_ms);
	return store_step_done(s, st, "enrol");
}

static void enrol_from_row(sqlite3_stmt *st, void *row)
{
	struct store_enrolment *e = row;

	e->host_type = store_col_text(st, 0);
	e->labels = store_col_text(st, 1);
	e->secret_sha256 = store_col_text(st, 2);
	e->revoked = sqlite3_column_int(st, 3);
	e->created_ms = sqlite3_column_int64(st, 4);
	e->expires_ms = sqlite3_column_int64(st, 5);
}

rc_t store_enrol_get(struct store *s, const char *name, struct store_enrolment *e)
{
	sqlite3_stmt *st = stmt(s, ST_ENROL_GET);

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return store_row(s, st, enrol_from_row, e, sizeof *e, "get enrolment");
}

void store_enrol_clear(struct store_enrolment *e)
{
	free(e->host_type);
	free(e->labels);
	free(e->secret_sha256);
	memset(e, 0, sizeof *e);
}

rc_t store_enrol_revoke(struct store *s, const char *name)
{
	return write_name(s, ST_ENROL_REVOKE, name, "revoke");
}

rc_t store_enrol_names(struct store *s, int dead_only, int64_t now_ms,
			   char ***names, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_ENROL_NAMES);

	sqlite3_bind_int(st, 1, dead_only);
	sqlite3_bind_int64(st, 2, now_ms);
	return store_rows(s, st, store_text_row, store_text_clear, names, n,
			  sizeof **names, "list enrolments");
}

/* ---- the build cache ---- */

rc_t store_job_set_commit(struct store *s, int64_t id, const char *commit)
{
	return write_text_id(s, ST_JOB_SET_COMMIT, commit, id, "set commit");
}

rc_t store_job_set_cache_key(struct store *s, int64_t id, const char *key)
{
	return write_text_id(s, ST_JOB_SET_KEY, key, id, "set cache key");
}

/* One id from a (text, id) query, 0 if none. */
static int64_t find_job(struct store *s, enum stmt_id id, const char *key,
			int64_t not_id)
{
	sqlite3_stmt *st = stmt(s, id);

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, not_id);
	return store_one_int(st, 0);
}

int64_t store_cache_hit(struct store *s, const char *key, int64_t not_id)
{
	return find_job(s, ST_CACHE_HIT, key, not_id);
}

int64_t store_cache_leader(struct store *s, const char *key, int64_t not_id)
{
	return find_job(s, ST_CACHE_LEADER, key, not_id);
}

rc_t store_job_attach(struct store *s, int64_t id, int64_t leader,
		      const char *reason)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_JOB_ATTACH);
	if (leader)
		sqlite3_bind_int64(st, 1, leader);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, id);
	return store_step_done(s, st, "attach job");
}

rc_t store_job_followers(struct store *s, int64_t leader, struct store_job **jobs,
			 size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_JOB_FOLLOWERS);

	sqlite3_bind_int64(st, 1, leader);
	return list_jobs(s, st, jobs, n);
}

rc_t store_job_answer_from(struct store *s, int64_t id, const struct store_job *from,
			   int64_t now_ms)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_JOB_CACHED);
	sqlite3_bind_text(st, 1, job_state_name(from->state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from->cached_from ? from->cached_from : from->id);
	sqlite3_bind_int(st, 3, from->exit_code);
	sqlite3_bind_int(st, 4, from->signal);
	sqlite3_bind_int64(st, 5, from->duration_ms);
	sqlite3_bind_text(st, 6, from->error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now_ms);
	sqlite3_bind_int64(st, 8, id);
	rc = store_step_done(s, st, "answer from cache");
	if (rc)
		return rc;
	st = stmt(s, ST_ARTIFACT_COPY);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, from->id);
	return store_step_done(s, st, "copy artifacts");
}

/* ---- artifacts and upload tokens ---- */

rc_t store_attempt_set_token(struct store *s, int64_t job, int attempt,
			     const char *token)
{
	char hash[SHA256_HEX_LEN + 1];
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	/* Like every credential, only its hash is kept. */
	sha256_hex(token, strlen(token), hash);
	st = stmt(s, ST_ATTEMPT_TOKEN);
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, job);
	sqlite3_bind_int(st, 3, attempt);
	return store_step_done(s, st, "set upload token");
}

int store_token_lookup(struct store *s, const char *token, int64_t *job,
		       int *attempt)
{
	sqlite3_stmt *st = stmt(s, ST_TOKEN_LOOKUP);
	char hash[SHA256_HEX_LEN + 1];
	struct int_pair o; /* job, attempt */

	sha256_hex(token, strlen(token), hash);
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
	if (store_row(s, st, pair_row, &o, sizeof o, NULL))
		return 0;
	*job = o.a;
	*attempt = (int)o.b;
	return 1;
}

static void uploads_from_row(sqlite3_stmt *st, void *row)
{
	struct store_uploads *u = row;
	const unsigned char *t = sqlite3_column_text(st, 2);

	u->count = sqlite3_column_int64(st, 0);
	u->bytes = sqlite3_column_int64(st, 1);
	snprintf(u->refused, sizeof u->refused, "%s", t ? (const char *)t : "");
}

rc_t store_attempt_uploads(struct store *s, int64_t job, int attempt,
			   struct store_uploads *u)
{
	sqlite3_stmt *st = stmt(s, ST_ATTEMPT_UPLOADS);

	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, attempt);
	return store_row(s, st, uploads_from_row, u, sizeof *u,
			 "attempt uploads");
}

rc_t store_attempt_upload_add(struct store *s, int64_t job, int attempt,
			      int64_t bytes)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_ATTEMPT_UPLOAD_ADD);
	sqlite3_bind_int64(st, 1, bytes);
	sqlite3_bind_int64(st, 2, job);
	sqlite3_bind_int(st, 3, attempt);
	return store_step_done(s, st, "count upload");
}

rc_t store_attempt_refuse(struct store *s, int64_t job, int attempt,
			  const char *why)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_ATTEMPT_REFUSE);
	sqlite3_bind_text(st, 1, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, job);
	sqlite3_bind_int(st, 3, attempt);
	return store_step_done(s, st, "refuse upload");
}

rc_t store_artifacts_set(struct store *s, int64_t job,
			 const struct store_artifact *a, size_t n)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_ARTIFACT_CLEAR);
	sqlite3_bind_int64(st, 1, job);
	rc = store_step_done(s, st, "clear artifacts");
	for (size_t i = 0; !rc && i < n; i++) {
		st = stmt(s, ST_ARTIFACT_PUT);
		sqlite3_bind_int64(st, 1, job);
		sqlite3_bind_text(st, 2, a[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, a[i].sha256, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, a[i].size);
		rc = store_step_done(s, st, "put artifact");
	}
	return rc;
}

static void artifact_from_row(sqlite3_stmt *st, void *row)
{
	struct store_artifact *a = row;

	a->name = store_col_text(st, 0);
	a->sha256 = store_col_text(st, 1);
	a->size = sqlite3_column_int64(st, 2);
}

static void artifact_clear(void *row)
{
	struct store_artifact *a = row;

	free(a->name);
	free(a->sha256);
}

rc_t store_artifact_list(struct store *s, int64_t job,
			 struct store_artifact **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_ARTIFACT_LIST);

	sqlite3_bind_int64(st, 1, job);
	return store_rows(s, st, artifact_from_row, artifact_clear, out, n,
			  sizeof **out, "list artifacts");
}

void store_artifact_array_free(struct store_artifact **a, size_t n)
{
	store_array_free(a, n, sizeof **a, artifact_clear);
}

/* ---- purge ---- */

rc_t store_blobs_unreferenced(struct store *s, int64_t before_ms,
			      char ***shas, size_t *n)
{
	/* Not named by any artifact or any remaining build's source, older
	 * than the cutoff, and older than every active attempt (which may
	 * still report what it uploaded). */
	const char *sql =
		"SELECT sha256 FROM blobs WHERE created_ms < ?1"
		" AND created_ms < coalesce((SELECT min(a.dispatched_ms) FROM"
		"  attempts a JOIN jobs j ON j.id=a.job_id AND j.attempt=a.n"
		"  WHERE j.state IN ('dispatched','running')), ?1)"
		" AND sha256 NOT IN (SELECT sha256 FROM artifacts)"
		" AND sha256 NOT IN (SELECT json_extract(spec, '$.source.tarball')"
		"  FROM builds WHERE json_extract(spec, '$.source.tarball')"
		"  IS NOT NULL)";
	sqlite3_stmt *st = NULL;
	rc_t rc;

	*shas = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
		return store_db_error(s, "unreferenced blobs");
	sqlite3_bind_int64(st, 1, before_ms);
	rc = store_rows(s, st, store_text_row, store_text_clear, shas, n,
			sizeof **shas, "unreferenced blobs");
	sqlite3_finalize(st);
	return rc;
}

rc_t store_blob_forget(struct store *s, const char *sha)
{
	sqlite3_stmt *st = NULL;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	if (sqlite3_prepare_v2(s->db, "DELETE FROM blobs WHERE sha256=?", -1,
			       &st, NULL))
		return store_db_error(s, "forget blob");
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
	rc = store_step_done(s, st, "forget blob");
	sqlite3_finalize(st);
	return rc;
}

/* Tell gone of every (build, job) in purge_ids. */
static rc_t purge_report(struct store *s, store_purge_cb gone, void *ud)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(s->db, "SELECT p.id, coalesce(j.id, 0) FROM"
			       " purge_ids p LEFT JOIN jobs j ON j.build_id=p.id",
			       -1, &st, NULL))
		return store_db_error(s, "purge");
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		gone(ud, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? RC_OK : store_db_error(s, "purge");
}

/* Before rows go: the highest id so far, so that it is never given
 * again (NEXT_ID). */
#define FLOOR_AT_MAX(table)                                                  \
	"INSERT INTO id_floor SELECT '" table "', coalesce(max(id), 0)"      \
	" FROM " table " WHERE true ON CONFLICT(name) DO UPDATE"             \
	" SET floor=max(floor, excluded.floor)"

/* Indices in store_purge's statements. */
enum { PURGE_SELECT = 4, PURGE_CHUNKS = 5, PURGE_BUILDS = 10 };

rc_t store_purge(struct store *s, int64_t before_ms, store_purge_cb gone,
		 void *ud, int64_t *builds, int64_t *chunks)
{
	static const char *const sql[] = {
		FLOOR_AT_MAX("builds"),
		FLOOR_AT_MAX("jobs"),
		"CREATE TEMP TABLE IF NOT EXISTS purge_ids(id INTEGER PRIMARY KEY)",
		"DELETE FROM purge_ids",
		/* Only builds whose every job is final: never a running one. */
		"INSERT INTO purge_ids SELECT id FROM builds b WHERE created_ms<?1"
		" AND NOT EXISTS(SELECT 1 FROM jobs j WHERE j.build_id=b.id AND"
		" j.state IN ('queued','dispatched','running'))",
		"DELETE FROM log_chunks WHERE job_id IN (SELECT id FROM jobs"
		" WHERE build_id IN (SELECT id FROM purge_ids))",
		"DELETE FROM log_meta WHERE job_id IN (SELECT id FROM jobs"
		" WHERE build_id IN (SELECT id FROM purge_ids))",
		"DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs"
		" WHERE build_id IN (SELECT id FROM purge_ids))",
		"DELETE FROM artifacts WHERE job_id IN (SELECT id FROM jobs"
		" WHERE build_id IN (SELECT id FROM purge_ids))",
		"DELETE FROM jobs WHERE build_id IN (SELECT id FROM purge_ids)",
		"DELETE FROM builds WHERE id IN (SELECT id FROM purge_ids)",
	};
	rc_t rc = store_begin_write(s);

	*builds = *chunks = 0;
	for (size_t i = 0; !rc && i < sizeof sql / sizeof sql[0]; i++) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL))
			return store_db_error(s, "purge");
		if (i == PURGE_SELECT)
			sqlite3_bind_int64(st, 1, before_ms);
		rc = store_step_done(s, st, "purge");
		if (!rc && i == PURGE_SELECT && gone)
			rc = purge_report(s, gone, ud);
		if (i == PURGE_CHUNKS)
			*chunks = sqlite3_changes(s->db);
		if (i == PURGE_BUILDS)
			*builds = sqlite3_changes(s->db);
		sqlite3_finalize(st);
	}
	return rc;
}

rc_t store_buildlet_upsert(struct store *s, const struct store_buildlet *b)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_BUILDLET_UPSERT);
	sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->host_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, b->platforms, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, b->labels, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, b->version, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, b->capacity);
	sqlite3_bind_int64(st, 7, b->first_seen_ms);
	sqlite3_bind_int64(st, 8, b->last_seen_ms);
	return store_step_done(s, st, "upsert buildlet");
}

rc_t store_buildlet_seen(struct store *s, const char *name, int64_t now_ms)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, ST_BUILDLET_SEEN);
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return store_step_done(s, st, "buildlet seen");
}

static void buildlet_from_row(sqlite3_stmt *st, void *row)
{
	struct store_buildlet *b = row;

	b->name = store_col_text(st, 0);
	b->host_type = store_col_text(st, 1);
	b->platforms = store_col_text(st, 2);
	b->labels = store_col_text(st, 3);
	b->version = store_col_text(st, 4);
	b->capacity = sqlite3_column_int(st, 5);
	b->first_seen_ms = sqlite3_column_int64(st, 6);
	b->last_seen_ms = sqlite3_column_int64(st, 7);
	b->drained = sqlite3_column_int(st, 8);
}

static void buildlet_clear(void *row)
{
	struct store_buildlet *b = row;

	free(b->name);
	free(b->host_type);
	free(b->platforms);
	free(b->labels);
	free(b->version);
}

rc_t store_buildlet_list(struct store *s, struct store_buildlet **out,
			 size_t *n)
{
	return store_rows(s, stmt(s, ST_BUILDLET_LIST), buildlet_from_row,
			  buildlet_clear, out, n, sizeof **out,
			  "list buildlets");
}

void store_buildlet_array_free(struct store_buildlet **b, size_t n)
{
	store_array_free(b, n, sizeof **b, buildlet_clear);
}

sqlite3_int64 store_last_rowid(struct store *s)
{
	return sqlite3_last_insert_rowid(s->db);
}
