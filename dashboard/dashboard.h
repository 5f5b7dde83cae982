/*
 * dashboard.h - static pages rendered from a snapshot of the store.
 *
 * The dashboard never opens the database: the coordinator (or `rfarm
 * dashboard`) hands it plain structs with borrowed strings, and it writes
 * files into a directory by atomic rename, so the directory can be served
 * by the coordinator or by any web server or object store.
 *
 * The pages (all links relative, so the directory works under any prefix):
 *
 *   index.html, page-2.html ...  the matrix, newest builds first; its JSON
 *                                twin index.json (first page)
 *   builds/ID.html, builds/ID.json   a build: request, jobs, attempts,
 *                                artifacts
 *   jobs/ID.html, jobs/ID.log    a job's log (escaped, line anchors #L12,
 *                                stdout/stderr told apart) and its raw text
 *   buildlets.html, queue.html, failures.html
 *   repos/index.html             the watched repositories
 *   repos/ID.html, repos/ID-page-2.html ...  a repository's matrix by
 *                                commit (rows) and builder (columns); its
 *                                JSON twin repos/ID.json (first page)
 *   style.css, live.js           the one style sheet and the one script
 *
 * Markup the browser test and live.js rely on (keep it stable):
 *   - a matrix cell of a job is
 *       <a class="cell s-STATE" href="jobs/ID.html" data-job="ID"
 *          data-state="STATE" title="...">SYMBOL TEXT</a>
 *     (STATE: queued dispatched running passed failed cancelled error;
 *     a job answered from the cache also has class "cached")
 *   - a job page holds the log in <pre id="log" data-job="ID"
 *     data-state="STATE">, one <span id="Ln" class="out|err|cut"> per line
 *     (n from 1); while the job is not final live.js follows
 *     /api/v1/jobs/ID/log?follow=1&from=data-bytes and appends lines the
 *     same way.
 *     A long log shows only its end (DASH_LOG_TAIL_BYTES, from a line's
 *     start) after <p id="skipped">, saying what is left out: its lines
 *     keep their true n, and the pre has class="from" and each line
 *     link data-n="n". data-bytes and data-lines count the whole log.
 *     jobs/ID.log is written once the job has ended; until then the page
 *     links the API's log as its raw log.
 *
 * Everything from users or builds is escaped; every function here is pure
 * (no I/O, no clock) except the dashboard_write_* ones.
 */
#ifndef RFARM_DASHBOARD_H
#define RFARM_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rc.h"

#define DASH_PAGE_BUILDS 50 /* builds per index page */

struct dash_attempt {
	int n;                /* attempt number, from 1 */
	const char *buildlet; /* where it ran, "" if never dispatched */
	int64_t dispatched_ms;/* wall clock; 0 if not */
	int64_t started_ms;   /* 0 if it never started */
	int64_t finished_ms;  /* 0 if not finished */
	int64_t duration_ms;  /* process wall time; 0 if none */
	int exit_code;        /* -1 if none */
	int signal;           /* 0 if none */
	const char *error;    /* infrastructure error / why it was lost, "" */
};

struct dash_artifact {
	const char *name;     /* path inside the job's work dir */
	const char *sha256;   /* hex digest; the download is
				 /api/v1/jobs/JOB/artifacts/NAME */
	int64_t size;         /* bytes */
};

struct dash_job {
	int64_t id;           /* job id */
	int64_t build_id;     /* its build */
	const char *platform; /* "goos/goarch" */
	const char *state;    /* queued|dispatched|running|passed|failed|cancelled|error */
	int cached;           /* answered from the cache (cached_from set) */
	int64_t cached_from;  /* the job it was answered from; 0 if none */
	int exit_code;        /* exit status, -1 if none */
	int signal;           /* 0 if none */
	int64_t created_ms;   /* wall clock */
	int64_t started_ms;   /* 0 if not started */
	int64_t finished_ms;  /* 0 if not final */
	int64_t duration_ms;  /* 0 if not finished */
	const char *buildlet; /* of the current or last attempt, "" if none */
	const char *error;    /* infrastructure error text, "" if none */
	const char *reason;   /* why a queued job waits, "" if none */
	/* Build and job pages only (may be NULL/0 elsewhere): */
	const struct dash_attempt *attempts;
	size_t n_attempts;
	const struct dash_artifact *artifacts;
	size_t n_artifacts;
};

struct dash_build {
	int64_t id;              /* build id */
	int64_t created_ms;      /* wall clock, ms since the epoch */
	const char *command;     /* the command or script, as one line */
	const char *source;      /* "git URL ref REF", "tarball SHA256", "" */
	const char *commit;      /* resolved commit (git), "" if none */
	const char *requester;   /* who asked (token name), "" if unknown */
	const char *const *env;  /* "K=V" each */
	size_t n_env;
	const char *const *labels;
	size_t n_labels;
	const struct dash_job *jobs; /* its jobs, by platform */
	size_t n_jobs;
};

/* A configured host type and how many of its machines are connected.
 * Pages show a banner for each one with connected < expected. */
struct dash_alert {
	const char *host_type;   /* its name in the config */
	int expected;            /* machines the config expects */
	int connected;           /* buildlets of it connected now */
	const char *owner;       /* who to call, "" if the config says not */
};

/* The line at the top of every page. */
struct dash_header {
	int buildlets_connected;
	int jobs_queued;
	int64_t now_ms;          /* rendering time, wall clock */
	const struct dash_alert *alerts; /* host types, NULL if none (offline:
					    nothing is connected to count) */
	size_t n_alerts;
};

/* A repository the commit watcher knows (watched: still in the config). */
struct dash_repo {
	int64_t id;              /* repos/ID.html */
	const char *url;         /* as in the config */
	int watched;             /* in the config now */
	int64_t last_poll_ms;    /* wall clock, 0 if never polled */
	const char *last_error;  /* why the last poll failed, "" if it did not */
	int64_t n_commits;       /* commits recorded */
};

/* One page of the matrix. */
struct dash_index {
	struct dash_header h;
	const struct dash_build *builds; /* this page's builds, newest first */
	size_t n_builds;
	const char *const *platforms;    /* columns, in order */
	size_t n_platforms;
	int page;                /* 1 for index.html, 2 for page-2.html ... */
	int n_pages;             /* how many pages there are (>= 1) */
	const struct dash_repo *repos; /* listed on page 1 if watched; may
					  be NULL */
	size_t n_repos;
};

#define DASH_PAGE_COMMITS 50 /* commits per repository page */

/* A row of a repository's matrix. */
struct dash_commit {
	int64_t id;              /* store id (newer commits have higher ids) */
	const char *hash;        /* 40 hex digits */
	const char *subject;     /* first line of the message */
	const char *author;      /* "Name <email>" */
	int64_t time_ms;         /* committer time, wall clock */
	const char *branch;      /* branch it was first seen on */
	/* One per builder column: the job of the newest build of (this
	 * commit, that builder), NULL while it is not built yet. */
	const struct dash_job *const *cells;
};

/* One page of a repository's matrix: commits (rows, newest first) x
 * builders (columns). */
struct dash_repo_page {
	struct dash_header h;
	struct dash_repo repo;
	const char *const *builders; /* columns, in order */
	size_t n_builders;
	const struct dash_commit *commits;
	size_t n_commits;
	int page;                /* 1: repos/ID.html, N: repos/ID-page-N.html */
	int n_pages;             /* >= 1 */
};

/* A piece of a job's log, in order. stream 1 stdout, 2 stderr; a cut
 * marker ("[rfarm: N bytes of log cut here]") is its own piece with
 * stream 0. Lines may span pieces. */
struct dash_log_piece {
	int stream;
	const char *data;
	size_t len;
};

#define DASH_LOG_TAIL_BYTES (1024 * 1024) /* log bytes a job page shows */
#define DASH_LOG_TAIL_LINES 20000         /* and lines: markup per line
					     outweighs a short line */

/* A stretch of a log as a job page counts it. */
struct dash_log_count {
	int64_t bytes; /* raw bytes, as jobs/ID.log and the API have them */
	int64_t lines; /* lines begun */
	int open;      /* the last of them has no newline yet */
};

/* A kept piece of a dash_log_tail: data at text offset off. */
struct dash_tail_piece {
	int stream;
	size_t off, len;
};

/*
 * The end of a job's log, collected as the log streams by in bounded
 * memory: fed every piece in order, it keeps the last cap bytes and at
 * most DASH_LOG_TAIL_LINES lines (in at most cap / 16 pieces) and counts what
 * went before, in raw bytes (as jobs/ID.log and the API have them) and in
 * lines (as the page numbers them), so the page can show the tail with
 * its true line numbers and live.js can follow on from data-bytes.
 */
struct dash_log_tail {
	size_t cap;                    /* bytes kept */
	size_t max_lines;              /* lines kept (DASH_LOG_TAIL_LINES) */
	struct buf text;               /* kept bytes from start (the front
					  is dropped now and then) */
	size_t start;
	struct dash_tail_piece *v;     /* kept pieces from first */
	size_t first, n, cap_v;
	size_t kept;                   /* bytes in pieces first..n */
	size_t kept_lines;             /* newlines and cut markers in them */
	struct dash_log_count skipped; /* the log before the kept bytes */
	struct dash_log_count fed;     /* all of it, up to the last piece */
};

struct dash_buildlet {
	const char *name;
	const char *host_type;
	const char *const *platforms;
	size_t n_platforms;
	const char *const *labels;
	size_t n_labels;
	int capacity;
	int running;             /* jobs it runs now */
	const int64_t *jobs;     /* their ids */
	size_t n_jobs;
	const char *version;     /* "" if never connected */
	int connected;
	int64_t last_seen_ms;    /* wall clock; 0 if never */
	int drained;
	const char *credential;  /* enrolled|key|open|revoked|expired|"" */
};

/* A failed or error job with the end of its log. */
struct dash_failure {
	const struct dash_job *job;
	const char *command;     /* its build's command line */
	const char *log_tail;    /* the last lines of its log (raw bytes) */
	size_t log_tail_len;
};

/* ---- pure renderers: append to out, return out's first error ---- */
rc_t dashboard_render_index(const struct dash_index *ix, struct buf *out);
rc_t dashboard_render_index_json(const struct dash_index *ix, struct buf *out);
rc_t dashboard_render_build(const struct dash_header *h,
			    const struct dash_build *b, struct buf *out);
rc_t dashboard_render_build_json(const struct dash_build *b, struct buf *out);
rc_t dashboard_render_job(const struct dash_header *h,
			  const struct dash_build *b, const struct dash_job *j,
			  const struct dash_log_piece *log, size_t n_pieces,
			  struct buf *out);
/* Collect a log's tail: init (cap 0: DASH_LOG_TAIL_BYTES), add every
 * piece in order (stream as in dash_log_piece), free. To go on from the
 * middle of a log, set skipped and fed to the count of what is before it
 * first. */
void dash_log_tail_init(struct dash_log_tail *t, size_t cap);
void dash_log_tail_add(struct dash_log_tail *t, int stream, const void *data,
		       size_t len);
void dash_log_tail_free(struct dash_log_tail *t);
/* A job page showing the tail t holds, with a note on what it leaves out
 * (dashboard_render_job collects the pieces it is given the same way). */
rc_t dashboard_render_job_tail(const struct dash_header *h,
			       const struct dash_build *b,
			       const struct dash_job *j,
			       const struct dash_log_tail *t, struct buf *out);
/* The raw text of a log (what jobs/ID.log holds): pieces in order, cut
 * markers included. */
rc_t dashboard_render_log_text(const struct dash_log_piece *log,
			       size_t n_pieces, struct buf *out);
rc_t dashboard_render_buildlets(const struct dash_header *h,
				const struct dash_buildlet *v, size_t n,
				struct buf *out);
/* Queued jobs, longest waiting first; wait time = now - created. */
rc_t dashboard_render_queue(const struct dash_header *h,
			    const struct dash_job *v, size_t n, struct buf *out);
rc_t dashboard_render_failures(const struct dash_header *h,
			       const struct dash_failure *v, size_t n,
			       struct buf *out);
/* repos/ID.html (page 1) or repos/ID-page-N.html, and the JSON twin of
 * page 1 (repos/ID.json; see README.md for its shape). */
rc_t dashboard_render_repo(const struct dash_repo_page *rp, struct buf *out);
rc_t dashboard_render_repo_json(const struct dash_repo_page *rp,
				struct buf *out);
/* repos/index.html: every repository, in the order given. */
rc_t dashboard_render_repos(const struct dash_header *h,
			    const struct dash_repo *v, size_t n,
			    struct buf *out);

/* ---- writers: render, then write into dir by atomic rename (0644),
 * making dir (and dir/builds, dir/jobs) as needed; eb says what failed. */
rc_t dashboard_write_assets(const char *dir, struct errbuf *eb);
/* A purged build's pages (builds/ID.html, .json) and a purged job's
 * (jobs/ID.html, .log) go; missing files are no error. */
void dashboard_remove_build(const char *dir, int64_t id);
void dashboard_remove_job(const char *dir, int64_t id);
rc_t dashboard_write_index(const struct dash_index *ix, const char *dir,
			   struct errbuf *eb);
rc_t dashboard_write_build(const struct dash_header *h,
			   const struct dash_build *b, const char *dir,
			   struct errbuf *eb);
rc_t dashboard_write_job(const struct dash_header *h,
			 const struct dash_build *b, const struct dash_job *j,
			 const struct dash_log_piece *log, size_t n_pieces,
			 const char *dir, struct errbuf *eb);
/* jobs/ID.html alone, from a collected tail. */
rc_t dashboard_write_job_page(const struct dash_header *h,
			      const struct dash_build *b,
			      const struct dash_job *j,
			      const struct dash_log_tail *t, const char *dir,
			      struct errbuf *eb);
/* jobs/ID.log written as the log streams by, through a bounded buffer:
 * open, write each piece (cut markers framed as in the raw text), then
 * close with commit set to rename it into place (or not: it is dropped).
 * close clears *f and may be called with *f NULL. */
struct dash_log_file;
rc_t dashboard_log_file_open(const char *dir, int64_t id,
			     struct dash_log_file **f, struct errbuf *eb);
void dashboard_log_file_write(struct dash_log_file *f, int stream,
			      const void *data, size_t len);
rc_t dashboard_log_file_close(struct dash_log_file **f, int commit,
			      struct errbuf *eb);
rc_t dashboard_write_buildlets(const struct dash_header *h,
			       const struct dash_buildlet *v, size_t n,
			       const char *dir, struct errbuf *eb);
rc_t dashboard_write_queue(const struct dash_header *h,
			   const struct dash_job *v, size_t n, const char *dir,
			   struct errbuf *eb);
rc_t dashboard_write_failures(const struct dash_header *h,
			      const struct dash_failure *v, size_t n,
			      const char *dir, struct errbuf *eb);
/* repos/ID.html and repos/ID.json for page 1, repos/ID-page-N.html after. */
rc_t dashboard_write_repo(const struct dash_repo_page *rp, const char *dir,
			  struct errbuf *eb);
rc_t dashboard_write_repos(const struct dash_header *h,
			   const struct dash_repo *v, size_t n,
			   const char *dir, struct errbuf *eb);

/* Append s HTML-escaped (& < > " '; invalid UTF-8 becomes U+FFFD). */
void html_escape(struct buf *out, const char *s);

#endif
