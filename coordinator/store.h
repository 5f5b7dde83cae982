/*
 * store.h - the coordinator's SQLite store: builds, jobs, attempts, log
 * chunks and buildlets. The only file of rfarm that includes sqlite3.h.
 *
 * One writer (the coordinator's event loop). Writes open a transaction
 * lazily and store_flush() commits it, so everything written during one
 * loop turn lands in one transaction; callers flush before they tell
 * anyone outside (an HTTP 201, an ack to a buildlet) that a write is safe.
 * Statements are prepared once and reused; values are always bound.
 *
 * Rows handed out (struct store_job, ...) own their strings; release them
 * with the matching *_clear() function.
 */
#ifndef RFARM_STORE_H
#define RFARM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "jobstate.h"
#include "rc.h"

struct store;

struct store_build {
	int64_t id;         /* build id */
	int64_t created_ms; /* wall clock */
	int priority;       /* higher runs first */
	char *spec;         /* the accepted request as JSON text */
	char *requester;    /* name of the API token that asked, "" if none */
	char *builder;      /* the configured builder it runs, "" if none */
	int64_t commit_id;  /* the watched commit it is for, 0 if none */
};

struct store_job {
	int64_t id;          /* job id */
	int64_t build_id;    /* owning build */
	char *platform;      /* "goos/goarch" */
	char *labels;        /* JSON array of required labels */
	enum job_state state;
	int priority;        /* copied from the build, for queue order */
	int64_t created_ms;  /* wall clock; queue age */
	int attempt;         /* current attempt, 0 before the first dispatch */
	char *buildlet;      /* buildlet of the current attempt, "" if none */
	int64_t started_ms;  /* process start of the current attempt, 0 if not */
	int64_t finished_ms; /* 0 until final */
	int exit_code;       /* -1 if none */
	int signal;          /* 0 if none */
	int64_t duration_ms; /* process wall time of the final attempt */
	char *error;         /* infrastructure error text, "" if none */
	char *reason;        /* why it still waits, "" if it does not */
	int cancel_requested; /* a user asked to cancel it */
	int lost;            /* attempts lost with their buildlet since the
				last retry; max_attempts applies to these */
	int64_t deadline_ms; /* wall time by which the current attempt must
				have ended (its timeout plus a margin), 0 if
				none: the coordinator's backstop */
	char *cache_key;     /* SHA-256 of its canonical spec, "" if none */
	int cached;          /* its result was taken from another job */
	int64_t cached_from; /* that job (the one that ran), 0 if none */
	int64_t attached_to; /* queued behind an identical job that runs for
				it (single flight), 0 if none */
	char *commit;        /* what a git source resolved to, "" if none */
	char *host_type;     /* only buildlets of this host type run it, ""
				for any that serves the platform */
	int postsubmit;      /* made by the commit watcher: queued after
				every job an API client asked for */
};

struct store_attempt {
	int64_t job_id;        /* job */
	int n;                 /* attempt number, from 1 */
	char *buildlet;        /* where it ran */
	int64_t dispatched_ms; /* run sent */
	int64_t started_ms;    /* 0 if never started */
	int64_t finished_ms;   /* 0 if not finished */
	int exit_code;         /* -1 if none */
	int signal;            /* 0 if none */
	int64_t duration_ms;   /* process wall time */
	char *error;           /* infrastructure error text */
};

struct store_buildlet {
	char *name;            /* unique buildlet name */
	char *host_type;       /* host type */
	char *platforms;       /* JSON array of "goos/goarch" */
	char *labels;          /* JSON array */
	char *version;         /* rfarm version it runs */
	int capacity;          /* job slots */
	int64_t first_seen_ms; /* first hello */
	int64_t last_seen_ms;  /* last message */
	int drained;           /* takes no new jobs */
};

/* Open (creating if needed) and migrate the database at path. */
rc_t store_open(const char *path, struct store **out, struct errbuf *eb);
/* Commits pending writes, finalizes statements, closes. */
void store_close(struct store **s);
/* Commit the writes of this loop turn (no-op when there are none). */
rc_t store_flush(struct store *s);
/* The schema version the database is at. */
int store_schema_version(struct store *s);

rc_t store_build_insert(struct store *s, int64_t created_ms, int priority,
			const char *spec, int64_t *id);
rc_t store_build_get(struct store *s, int64_t id, struct store_build *out);
void store_build_clear(struct store_build *b);
rc_t store_build_set_requester(struct store *s, int64_t id, const char *who);
/* Builds newest first, from the offset-th (0 = the newest): one page of
 * the dashboard's matrix. Free with store_build_array_free. */
rc_t store_build_page(struct store *s, int64_t offset, int limit,
		      struct store_build **out, size_t *n);
void store_build_array_free(struct store_build **b, size_t n);
/* How many builds have an id above id (0: all of them); -1 on error. */
int64_t store_build_count_above(struct store *s, int64_t id);
/*
 * Ids of builds newest first: id < before (0 = no bound), having a job
 * in state (NULL = any) and a job on platform (NULL = any).
 */
rc_t store_build_list(struct store *s, const char *state, const char *platform,
		      int limit, int64_t before, int64_t **ids, size_t *n);

rc_t store_job_insert(struct store *s, int64_t build_id, const char *platform,
		      const char *labels, int priority, int64_t created_ms,
		      int64_t *id);
/* Bind a new job to a host type ("" for none) and place it in the queue:
 * post-submit jobs go after API ones, in queue_key order (the watcher
 * uses minus the commit's id: newest commit first). */
rc_t store_job_set_queue(struct store *s, int64_t id, const char *host_type,
			 int postsubmit, int64_t queue_key);
rc_t store_job_get(struct store *s, int64_t id, struct store_job *out);
rc_t store_job_list_build(struct store *s, int64_t build_id,
			  struct store_job **jobs, size_t *n);
void store_job_clear(struct store_job *j);
/* Jobs of the builds with ids lo..hi, newest build first, then by id: one
 * query for a page of the matrix. */
rc_t store_job_list_builds(struct store *s, int64_t lo, int64_t hi,
			   struct store_job **jobs, size_t *n);
/* Queued jobs (single-flight followers too), oldest first. */
rc_t store_job_list_queued(struct store *s, int limit, struct store_job **jobs,
			   size_t *n);
/* Failed and error jobs, the latest to finish first. */
rc_t store_job_list_failed(struct store *s, int limit, struct store_job **jobs,
			   size_t *n);
/* Deep copy; release dst with store_job_clear. */
void store_job_copy(struct store_job *dst, const struct store_job *src);
/* Append a deep copy of j to a growable array (free: store_job_array_free). */
void store_job_push(struct store_job **v, size_t *n, size_t *cap,
		    const struct store_job *j);
void store_job_array_free(struct store_job **jobs, size_t n);

/* 1 if attempt `attempt` is job id's current one and runs on buildlet:
 * what each log chunk checks, without reading the whole row. */
int store_job_runs_on(struct store *s, int64_t id, int attempt,
		      const char *buildlet);
/* Queued jobs: API ones first, by priority, then age; then post-submit
 * ones by priority, then newest commit; limit of them from the offset-th
 * on (the scheduler reads pages). Stops when cb returns non-zero. */
typedef int (*store_job_cb)(void *ud, const struct store_job *j);
rc_t store_job_scan_queue(struct store *s, int offset, int limit,
			  store_job_cb cb, void *ud);
/* Queued jobs with no reason yet (never looked at by the scheduler), in
 * queue order. */
rc_t store_job_scan_unplanned(struct store *s, int limit, store_job_cb cb,
			      void *ud);
/* Dispatched and running jobs (for recovery after a restart). */
rc_t store_job_scan_active(struct store *s, store_job_cb cb, void *ud);
int64_t store_job_count_state(struct store *s, enum job_state st);

/* State changes. The caller has checked job_state_legal(). */
rc_t store_job_dispatch(struct store *s, int64_t id, int attempt,
			const char *buildlet, int64_t now_ms);
rc_t store_job_started(struct store *s, int64_t id, int attempt,
		       int64_t now_ms);
rc_t store_job_finish(struct store *s, int64_t id, int attempt,
		      enum job_state st, int exit_code, int sig,
		      int64_t duration_ms, const char *error, int64_t now_ms);
/* Close an attempt that was lost with its buildlet: finished now, why. */
rc_t store_attempt_lost(struct store *s, int64_t job, int attempt,
			const char *why, int64_t now_ms);
/* Back to the queue after its attempt was lost (counts in lost). */
rc_t store_job_requeue(struct store *s, int64_t id, const char *reason);
/* Back to the queue on a user's retry: result fields and lost cleared. */
rc_t store_job_retry(struct store *s, int64_t id, const char *reason);
rc_t store_job_set_reason(struct store *s, int64_t id, const char *reason);
rc_t store_job_set_deadline(struct store *s, int64_t id, int64_t deadline_ms);
/* Remember that a user asked to cancel: the result becomes "cancelled". */
rc_t store_job_request_cancel(struct store *s, int64_t id);

rc_t store_attempt_list(struct store *s, int64_t job_id,
			struct store_attempt **out, size_t *n);
void store_attempt_array_free(struct store_attempt **a, size_t n);

/*
 * Store a log chunk once: a resent (job, attempt, seq) is ignored, even
 * one that was cut. With cap > 0, an attempt's log that grows past cap
 * bytes keeps its head (the first whole chunks, up to cap / 2 bytes) and
 * a rolling tail of the rest of the cap (its oldest chunk is deleted or
 * cut at the front as new ones arrive); *dropped says how many bytes this
 * call cut. Readers are told where the cut is (STORE_LOG_CUT).
 */
rc_t store_log_append(struct store *s, int64_t job, int attempt, int64_t seq,
		      int stream, const void *data, size_t len, int64_t cap,
		      int64_t *dropped);
/* Bytes of an attempt's stored log (stream 0 = both), and, if cut is not
 * NULL, how many bytes were cut out of it. */
rc_t store_log_size(struct store *s, int64_t job, int attempt, int stream,
		    int64_t *bytes, int64_t *cut);

/* Where a reader is in an attempt's log; start at {0, 0}. */
struct store_log_cursor {
	int64_t seq; /* next chunk to give */
	int64_t off; /* bytes of the log as written before that chunk (both
			streams, cut bytes included) */
};

/* The stream value of a callback that reports a cut: len bytes of the log
 * as written are missing here (data is NULL). */
#define STORE_LOG_CUT (-1)

/*
 * Chunks from the cursor on, in order, until about max_bytes were given
 * (at least one chunk). With contiguous set, stops at the first gap in
 * the sequence (a cut is not a gap). Where the reader crosses bytes that
 * were cut (all of the cut, or for a follower that had read on past the
 * head, the part it has not seen), cb is called once with STORE_LOG_CUT.
 * The cursor is left after the last chunk given.
 */
typedef void (*store_log_cb)(void *ud, int64_t seq, int stream,
			     const void *data, size_t len);
rc_t store_log_read(struct store *s, int64_t job, int attempt, int stream,
		    struct store_log_cursor *cur, size_t max_bytes,
		    int contiguous, store_log_cb cb, void *ud);

/* The last max_bytes (or fewer) of an attempt's stored log, both streams:
 * *data is a new NUL-terminated string of *len bytes. */
rc_t store_log_tail(struct store *s, int64_t job, int attempt, size_t max_bytes,
		    char **data, size_t *len);

/* The first log seq of an attempt that was not received (0 if none was;
 * cut chunks count as received). */
rc_t store_log_next_seq(struct store *s, int64_t job, int attempt,
			int64_t *next);

/* Queued jobs per platform, and how many of them no buildlet serves. */
typedef void (*store_queue_cb)(void *ud, const char *platform, int64_t queued,
			       int64_t unsatisfiable);
rc_t store_queue_stats(struct store *s, store_queue_cb cb, void *ud);
/* Builds with at least one job ever dispatched. */
int64_t store_builds_started(struct store *s);

/* Mark a known buildlet drained or not; RC_NOT_FOUND if unknown. */
rc_t store_buildlet_set_drained(struct store *s, const char *name, int drained);
int store_buildlet_drained(struct store *s, const char *name);
/* The host type a known buildlet last said hello with; RC_NOT_FOUND if
 * the name is new. */
rc_t store_buildlet_host_type(struct store *s, const char *name, char *out,
			      size_t n);

struct store_artifact {
	char *name;   /* path relative to the job's work directory */
	char *sha256; /* blob digest */
	int64_t size; /* bytes */
};

/* ---- API tokens: read < submit < admin ---- */
rc_t store_api_token_put(struct store *s, const char *name, const char *scope,
			 const char *secret_sha256, int64_t now_ms,
			 int64_t expires_ms);
/* 1, the scope and when it expires (0: never) if a token that was not
 * revoked has this secret hash. */
int store_api_token_scope(struct store *s, const char *secret_sha256,
			  char *scope, size_t n, int64_t *expires_ms);
/* 1 once any token was created (revoking them all does not open the
 * API again): from then on the API needs one. */
int store_api_tokens_exist(struct store *s);
/* 1 and its name if a token that was not revoked has this secret hash. */
int store_api_token_name(struct store *s, const char *secret_sha256,
			 char *name, size_t n);
rc_t store_api_token_revoke(struct store *s, const char *name);

/* ---- enrolments: one credential per buildlet ---- */
struct store_enrolment {
	char *host_type;     /* what the buildlet is, as the operator said */
	char *labels;        /* JSON array of labels it gets */
	char *secret_sha256; /* hex SHA-256 of its secret; the secret is not kept */
	int revoked;         /* refused from now on */
	int64_t created_ms;  /* when it was enrolled */
	int64_t expires_ms;  /* when its token stops working; 0: never */
};
rc_t store_enrol_put(struct store *s, const char *name, const char *host_type,
		     const char *labels, const char *secret_sha256, int64_t now_ms,
		     int64_t expires_ms);
rc_t store_enrol_get(struct store *s, const char *name,
		     struct store_enrolment *e);
void store_enrol_clear(struct store_enrolment *e);
/* Whether any buildlet was ever enrolled (revoked ones count): the
 * first enrolment ends open mode for buildlets. */
int store_enrolments_exist(struct store *s);
/* RC_NOT_FOUND if no such enrolment. */
rc_t store_enrol_revoke(struct store *s, const char *name);
/* Names of enrolments by name: all, or only those revoked or expired at
 * now_ms (the caller frees each and the array). */
rc_t store_enrol_names(struct store *s, int dead_only, int64_t now_ms,
		       char ***names, size_t *n);

/* ---- build cache ---- */
rc_t store_job_set_cache_key(struct store *s, int64_t id, const char *key);
rc_t store_job_set_commit(struct store *s, int64_t id, const char *commit);
/* The newest passed job with this key (not not_id), or 0. */
int64_t store_cache_hit(struct store *s, const char *key, int64_t not_id);
/* The oldest unattached active job with this key (not not_id), or 0. */
int64_t store_cache_leader(struct store *s, const char *key, int64_t not_id);
/* Queue id behind leader (0 detaches), with a reason. */
rc_t store_job_attach(struct store *s, int64_t id, int64_t leader,
		      const char *reason);
/* Queued jobs attached to leader. */
rc_t store_job_followers(struct store *s, int64_t leader,
			 struct store_job **jobs, size_t *n);
/* Give job id the result (state, exit, error, artifacts) of job from. */
rc_t store_job_answer_from(struct store *s, int64_t id,
			   const struct store_job *from, int64_t now_ms);

/* The upload token of an attempt (random; valid while it is current;
 * the store keeps its SHA-256, never the token). */
rc_t store_attempt_set_token(struct store *s, int64_t job, int attempt,
			     const char *token);
/* 1 if token belongs to the current attempt of an active job. */
int store_token_lookup(struct store *s, const char *token, int64_t *job,
		       int *attempt);
/* What an attempt uploaded with its token (for the artifact caps). */
struct store_uploads {
	int64_t count;      /* blobs uploaded */
	int64_t bytes;      /* their bytes */
	char refused[400];  /* why an upload was refused over a cap, "" if none */
};
/* RC_NOT_FOUND if there is no such attempt. */
rc_t store_attempt_uploads(struct store *s, int64_t job, int attempt,
			   struct store_uploads *u);
rc_t store_attempt_upload_add(struct store *s, int64_t job, int attempt,
			      int64_t bytes);
/* Remember the first refusal of an attempt's upload (later ones are not
 * kept): its result says it. */
rc_t store_attempt_refuse(struct store *s, int64_t job, int attempt,
			  const char *why);
/* Replace a job's artifacts with a[0..n). */
rc_t store_artifacts_set(struct store *s, int64_t job,
			 const struct store_artifact *a, size_t n);
rc_t store_artifact_list(struct store *s, int64_t job,
			 struct store_artifact **out, size_t *n);
void store_artifact_array_free(struct store_artifact **a, size_t n);

/*
 * Blobs created before before_ms that nothing refers to any more (no
 * artifact, no build's source) and that no active attempt can still claim
 * (older than the oldest active attempt). *shas is freed by the caller.
 */
rc_t store_blobs_unreferenced(struct store *s, int64_t before_ms,
			      char ***shas, size_t *n);
rc_t store_blob_forget(struct store *s, const char *sha);

/* Remember a stored blob (once). */
rc_t store_blob_record(struct store *s, const char *sha, int64_t size,
		       int64_t now_ms);

/*
 * Delete builds created before before_ms whose jobs are all final, with
 * their jobs, attempts, artifacts rows and log chunks. Never touches a
 * build with a queued or running job. gone (may be NULL) hears each
 * (build, job) deleted first, so their pages can go too.
 */
typedef void (*store_purge_cb)(void *ud, int64_t build, int64_t job);
rc_t store_purge(struct store *s, int64_t before_ms, store_purge_cb gone,
		 void *ud, int64_t *builds, int64_t *chunks);

/* ---- watched repositories and their commits (store_commits.c) ---- */
struct store_repo {
	int64_t id;
	char *url;           /* as in the config */
	char *builders;      /* JSON array: the builders its commits get */
	int watched;         /* still in the config */
	int64_t last_poll_ms; /* wall time of the last poll, 0 if none */
	char *last_error;    /* why the last poll failed, "" if it did not */
};

struct store_commit {
	int64_t id;          /* discovery order: a child has a higher id
				than its parents */
	int64_t repo_id;
	char *hash;          /* 40 hex digits */
	char *parents;       /* parent hashes, space-separated */
	char *author;        /* "Name <email>" */
	int64_t time_ms;     /* committer time */
	char *subject;       /* first line of the message */
	char *branch;        /* branch it was first seen on */
	int64_t seen_ms;     /* when the watcher found it */
};

/* The repository with url (made, watched, if new); *id gets it. Marks it
 * watched and sets its builders (a JSON array). */
rc_t store_repo_sync(struct store *s, const char *url, const char *builders,
		     int64_t *id);
/* Mark every repository not watched (before store_repo_sync of the
 * config's): a repository dropped from the config keeps its rows. */
rc_t store_repo_unwatch_all(struct store *s);
rc_t store_repo_get(struct store *s, int64_t id, struct store_repo *out);
/* Every repository, by id. */
rc_t store_repo_list(struct store *s, struct store_repo **out, size_t *n);
void store_repo_clear(struct store_repo *r);
void store_repo_array_free(struct store_repo **r, size_t n);
rc_t store_repo_polled(struct store *s, int64_t id, int64_t now_ms,
		       const char *error);
/* The last head recorded for a branch: RC_NOT_FOUND if none. */
rc_t store_repo_head(struct store *s, int64_t repo, const char *branch,
		     char *hash, size_t n);
rc_t store_repo_set_head(struct store *s, int64_t repo, const char *branch,
			 const char *hash);
/* Every recorded head of a repository, by branch. */
typedef void (*store_head_cb)(void *ud, const char *branch, const char *hash);
rc_t store_repo_heads(struct store *s, int64_t repo, store_head_cb cb,
		      void *ud);
/* Record a commit once: *id gets its id, *is_new whether it was new. */
rc_t store_commit_add(struct store *s, const struct store_commit *c,
		      int64_t *id, int *is_new);
rc_t store_commit_get(struct store *s, int64_t id, struct store_commit *out);
/* A commit of repo (0: any) by hash or unique prefix of at least 7
 * digits: RC_NOT_FOUND if none, RC_INVALID if the prefix is ambiguous. */
rc_t store_commit_find(struct store *s, int64_t repo, const char *hash,
		       struct store_commit *out);
/* Commits of a repository newest first, from the offset-th. */
rc_t store_commit_page(struct store *s, int64_t repo, int64_t offset,
		       int limit, struct store_commit **out, size_t *n);
/* Commits of a repository with ids below before (0: all), newest
 * first, at most limit (for paging by commit id). */
rc_t store_commit_page_before(struct store *s, int64_t repo, int64_t before,
			      int limit, struct store_commit **out, size_t *n);
int64_t store_commit_count(struct store *s, int64_t repo);
/* Commits of repo newer than commit id (its place, newest first, from
 * 0): which dashboard page shows it. -1 on error. */
int64_t store_commit_count_above(struct store *s, int64_t repo, int64_t id);
void store_commit_clear(struct store_commit *c);
void store_commit_array_free(struct store_commit **c, size_t n);
/* Remember which (commit, builder) a build is for. */
rc_t store_build_set_origin(struct store *s, int64_t build,
			    const char *builder, int64_t commit_id);
/* The newest build of (commit, builder), 0 if none. */
int64_t store_build_of_cell(struct store *s, int64_t commit_id,
			    const char *builder);

/* A cell of the commit matrix: the newest build of (commit, builder) and
 * its job (a builder's build has one). */
struct store_cell {
	int64_t commit_id;
	char *builder;
	int64_t build_id;
	struct store_job job;
};
/* The cells of commits lo..hi (ids) of a repository. */
rc_t store_cells(struct store *s, int64_t repo, int64_t lo, int64_t hi,
		 struct store_cell **out, size_t *n);
void store_cell_array_free(struct store_cell **c, size_t n);

rc_t store_buildlet_upsert(struct store *s, const struct store_buildlet *b);
rc_t store_buildlet_seen(struct store *s, const char *name, int64_t now_ms);
rc_t store_buildlet_list(struct store *s, struct store_buildlet **out,
			 size_t *n);
void store_buildlet_array_free(struct store_buildlet **b, size_t n);

#endif
