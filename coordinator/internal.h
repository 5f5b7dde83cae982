/*
 * internal.h - what the files of coordinator/ share with each other and
 * nobody else: the coordinator object, buildlet sessions, HTTP streams.
 *
 * Everything here runs on the one event-loop thread; nothing is locked.
 */
#ifndef RFARM_COORD_INTERNAL_H
#define RFARM_COORD_INTERNAL_H

#include <signal.h>
#include <stdint.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "buf.h"
#include "coordinator.h"
#include "jobstate.h"
#include "list.h"
#include "proto.h"
#include "sha256.h"
#include "store.h"

#define RFARM_VERSION "0.1.0"
#define COORD_MAX_BODY (1024 * 1024)     /* largest API request body */
#define COORD_MAX_OUTQ (64 * 1024 * 1024) /* bytes queued to one buildlet */

struct coord {
	struct coord_config cfg;    /* copy of the caller's configuration */
	char *data_dir;             /* owned copy of cfg.data_dir */
	char *dash_dir;             /* <data>/dashboard */
	char *blob_dir;             /* <data>/blobs */
	char master[SHA256_HEX_LEN + 1]; /* secret behind buildlet keys */
	char base_url[128];         /* http://host:port */
	struct store *store;        /* the database */
	struct lws_context *ctx;    /* the one event loop */
	struct evloop *loop;        /* evloop.c: libev under ctx; NULL: poll */
	struct lws_vhost *vhost;    /* the listening vhost */
	volatile sig_atomic_t stop; /* set by coord_stop */
	struct list sessions;       /* struct session, connected buildlets */
	struct list by_rx;          /* the same, least recently heard first */
	struct list open;           /* sessions that may have a free slot:
				       what a scheduler pass looks at */
	struct list *by_name;       /* session_find's hash chains */
	size_t n_by_name;           /* chains in by_name (a power of two) */
	size_t n_named;             /* sessions in by_name: all of sessions */
	struct list streams;        /* struct http_conn following a log */
	int sched_pending;          /* run the scheduler after this turn */
	int sched_planned;          /* every queued job's reason is up to
				       date with the buildlets we have */
	struct dash *dash;          /* dash.c: dirty dashboard pages */
	uint64_t next_session;      /* for session ids */
	struct list absent;         /* lease.c: buildlets without a session */
	struct metrics *metrics;    /* metrics.c counters */
	int64_t *settle;            /* jobs that became final this turn */
	size_t n_settle, cap_settle; /* (their followers are settled after) */
	int64_t started_ms;         /* monotonic start, for leases after restart */
	int64_t lease_checked_ms;   /* monotonic time of the last lease check */
	double hs_tokens;           /* handshakes that may be admitted now */
	int64_t hs_refill_ms;       /* monotonic time hs_tokens was topped up */
	int64_t hs_window_ms;       /* start of the current one-second window */
	uint64_t hs_refused;        /* handshakes turned away in that window */
	int loopback;               /* listening on loopback only */
	struct peers *peers;        /* guard.c: per-address bookkeeping */
	int64_t peers_swept_ms;     /* monotonic time of the last sweep */
	uint64_t conns_refused;     /* connections over the per-address cap */
	int64_t conns_refused_logged_ms; /* when that was last logged */
	lws_sorted_usec_list_t tick; /* housekeeping timer */
	struct config *farm;        /* config.c: host types, builders; NULL */
	int64_t farm_loaded_ms;     /* wall time farm was loaded */
	char farm_error[640];       /* why the last reload failed, "" if not */
	int64_t farm_error_ms;      /* when it failed */
	volatile sig_atomic_t reload; /* set by coord_reload_request */
	struct watch *watch;        /* watch.c: the commit watcher; NULL
				       until a config has repos */
	char hook_secret[256];      /* --hook-secret-file, "" if none */
};

/* An attempt a buildlet still runs though it is no longer ours (we sent
 * cancel): it holds a slot until its done arrives. */
struct session_job {
	struct list link; /* in session->held */
	int64_t job;      /* job id */
	int attempt;      /* attempt number */
};

/* A queued outbound WebSocket frame with LWS_PRE headroom. */
struct frame {
	struct list link; /* in session->outq */
	struct buf b;     /* encoded message */
};

/* Who a buildlet's upgrade request proved to be. */
struct upgrade_auth {
	char host_type[128];  /* from the enrolment, or the key's host type */
	char enrolled[65];    /* enrolled buildlet name, "" for a host-type key */
	char labels[1024];    /* the enrolment's labels (JSON array), or "" */
	int open;             /* no credential: an open coordinator let it in */
};

struct session {
	struct list link;        /* in coord->sessions once hello is done */
	struct coord *c;         /* owner */
	struct lws *wsi;         /* the connection */
	char id[32];             /* session id sent in welcome */
	struct upgrade_auth auth; /* proved in the upgrade request */
	char peer[64];           /* peer address, for logs */
	int hello_done;          /* hello received and accepted */
	int64_t last_rx_ms;      /* monotonic time of the last message */
	struct list rx_link;     /* in coord->by_rx once hello is done */
	struct list open_link;   /* in coord->open while it may take a job */
	struct list name_link;   /* in a coord->by_name chain, likewise */
	int64_t seen_ms;         /* wall time of the last message */
	int64_t seen_stored_ms;  /* the last_seen the store has */
	struct proto_hello hello; /* what the buildlet said about itself */
	int running;             /* attempts assigned and not done */
	int drained;             /* an operator drained it: no new jobs */
	struct list outq;        /* struct frame waiting for WRITEABLE */
	struct list held;        /* struct session_job: cancelled, not done */
	size_t outq_bytes;       /* total bytes in outq */
	struct buf rx;           /* message being reassembled */
	int closing;             /* close at the next WRITEABLE */
	char close_reason[124];  /* sent in the close frame */
	int close_status;        /* WebSocket close code */
};

/* An HTTP request in progress (per-connection data of the http protocol). */
struct http_conn {
	struct coord *c;         /* owner */
	struct lws *wsi;         /* connection */
	char method[8];          /* GET, POST, ... */
	char path[512];          /* URI path without the query */
	struct buf body;         /* request body, capped */
	lws_sorted_usec_list_t body_deadline; /* the whole body by then */
	struct buf out;          /* response bytes not yet written */
	size_t out_off;          /* bytes of out already written */
	int responded;           /* headers written */
	/* log streaming */
	int streaming;           /* this is a log stream */
	int follow;              /* keep going until the job ends */
	int64_t job;             /* job whose log is streamed */
	int attempt;             /* attempt being streamed */
	int stream;              /* 0 both, 1 stdout, 2 stderr */
	struct store_log_cursor cur; /* where the stream is in the log */
	int64_t remaining;       /* bytes still to send (non-follow) */
	int64_t skip;            /* bytes of the stream still to leave out
				    (?from=), of the first attempt streamed */
	int unsized;             /* a running job's log without a follow: no
				    Content-Length, it may be cut meanwhile */
	int64_t log_end;         /* then: the log offset to stop at */
	struct list link;        /* in coord->streams while following */
	/* blobs */
	struct blob_upload *upload; /* PUT body going to the blob store */
	int64_t upload_job;      /* job of the upload token (artifact), 0 if none */
	int upload_attempt;      /* its attempt */
	int sending_file;        /* the response body comes from file_fd */
	int file_fd;             /* open blob being sent */
	int64_t file_off;        /* next byte to send */
	int64_t file_end;        /* one past the last byte to send */
};

/* ---- coord.c ---- */
/* Reread cfg.config_file: on success swap it in (new builds use it;
 * queued and running ones keep the spec they were stored with), else
 * keep the old one and record and log why (err). RC_NOT_FOUND if the
 * coordinator runs without --config. */
struct config_error;
rc_t coord_config_reload(struct coord *c, struct config_error *err);

/* ---- session.c: the /buildlet WebSocket protocol ---- */
int session_callback(struct lws *wsi, enum lws_callback_reasons reason,
		     void *user, void *in, size_t len);
/* Queue m for the buildlet; closes the session if it cannot keep up. */
void session_send(struct session *s, const struct proto_msg *m);
/* Close with a WebSocket status and reason at the next opportunity. */
void session_close(struct session *s, int status, const char *reason);
/* The connected buildlet called name, or NULL; a hash lookup. */
struct session *session_find(struct coord *c, const char *name);
/* When the buildlet was last heard from (wall ms): the session's own
 * clock if it is connected (the store's copy may be a minute behind),
 * else stored, what the store has. */
int64_t session_last_seen(struct coord *c, const char *name, int64_t stored);
/* After the last session is gone (context destroyed). */
void session_index_free(struct coord *c);
/* Connected buildlets of a host type (for /metrics and the dashboard's
 * alerts of host types short of machines). */
int session_count_host_type(struct coord *c, const char *host_type);
/* The buildlet goes on running attempt (job, attempt) until it says done,
 * though we cancelled it: count its slot as busy until then. */
void session_hold_slot(struct session *s, int64_t job, int attempt);
/* Its done arrived: free the slot. Returns 1 if it was held. */
int session_release_slot(struct session *s, int64_t job, int attempt);
/* Check a /buildlet upgrade request (path, then an enrolled buildlet's
 * token or a host type's key) and say who it is. Returns 0 if it may
 * proceed, else the HTTP status to refuse it with and why. */
unsigned session_authenticate(struct coord *c, struct lws *wsi,
			      struct upgrade_auth *a, char *why, size_t n);
/* Admit one buildlet handshake under the per-second cap: 0 if admitted,
 * else the seconds the buildlet should wait before trying again. */
int session_handshake_admit(struct coord *c, int64_t now_ms);

/* ---- guard.c: before a request is read ---- */
struct peers *guard_new(const struct coord_config *cfg);
/* Forget idle addresses now and then (from the tick). */
void guard_sweep(struct coord *c, int64_t now_ms);
/* A new connection: 0 to keep it, -1 to close it (over the cap). */
int guard_accept(struct coord *c, const struct lws_filter_network_conn_args *a);
/* A socket left the poll set (closed). */
void guard_closed(struct coord *c, int fd);
/* The peer's address as text, IPv4-mapped IPv6 folded to IPv4. */
void guard_peer(struct lws *wsi, char *out, size_t n);
/* Bytes of the request's header values lws parsed. */
int guard_header_bytes(struct lws *wsi);
/* CONFIRM_UPGRADE for /buildlet: 0 to go on, else refused (with why). */
int guard_upgrade(struct coord *c, struct lws *wsi);

/* ---- orch.c: job life cycle ---- */
/* The one door for job state changes: checks legality and logs it. */
int orch_job_transition(struct coord *c, int64_t job, enum job_state from,
			enum job_state to);
void orch_schedule(struct coord *c);
/* The buildlets changed (or a job came back to the queue): the next pass
 * reads every queued job's reason again, not only the new jobs'. */
void orch_replan(struct coord *c);
/* s finished or gave back an attempt: it may take a job again. */
void orch_slot_freed(struct coord *c, struct session *s);
/* A buildlet said hello: record it, reconcile its attempts, welcome it. */
void orch_on_hello(struct coord *c, struct session *s);
void orch_on_started(struct coord *c, struct session *s,
		     const struct proto_attempt_ref *r);
void orch_on_log(struct coord *c, struct session *s, const struct proto_log *l);
void orch_on_done(struct coord *c, struct session *s,
		  const struct proto_done *d);
void orch_on_session_closed(struct coord *c, struct session *s);
/* Cancel every unfinished job of a build: queued ones at once, running
 * ones through their buildlet. Returns how many jobs it touched, -1 if
 * the build's jobs cannot be read. */
int orch_cancel_build(struct coord *c, int64_t build);
/* Queue a build's failed, errored and cancelled jobs again, in place:
 * each runs as its next attempt and the build ends with the new result.
 * Returns how many (the caller flushes), -1 if the build has no jobs or
 * they cannot be read. */
int orch_retry_build(struct coord *c, int64_t build);
/* An attempt was lost with its buildlet: queue the job again (attempt+1
 * at dispatch), or end it in error after max_attempts. */
void orch_job_lost(struct coord *c, const struct store_job *j, const char *why);

/* ---- http.c: the HTTP protocol ---- */
int http_callback(struct lws *wsi, enum lws_callback_reasons reason,
		  void *user, void *in, size_t len);
struct http_header {
	const char *name;  /* lower case, with the colon: "etag:" */
	const char *value; /* as sent */
};

/* Write the status line and headers now (no-store unless extra has a
 * cache-control); len LWS_ILLEGAL_HTTP_CONTENT_LEN for none. */
int http_write_headers(struct http_conn *h, int status, const char *ctype,
		       lws_filepos_t len, const struct http_header *extra,
		       size_t n_extra);
/* Respond with a body (copied); headers are written now. */
int http_respond(struct http_conn *h, int status, const char *content_type,
		 const void *body, size_t len);
int http_respond_json(struct http_conn *h, int status, json_t *body);
int http_respond_error(struct http_conn *h, int status, const char *code,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Wake every log stream of job (new output or the job ended). */
void http_streams_wake(struct coord *c, int64_t job);
/* Start streaming a job's log, leaving out its first `from` bytes (what
 * a page already shows). */
int http_log_start(struct http_conn *h, int64_t job, int follow, int stream,
		   int64_t from);
/* Query argument by name ("follow") into out[n], "" if absent: as
 * route_query_get() (0 absent, 1 found, 2 cut to n - 1 bytes). */
int http_query_arg(struct http_conn *h, const char *name, char *out, size_t n);

/* ---- api.c: /api/v1 routes ---- */
/* Handle an API request that route_parse() matched to r (any route but
 * ALIVE, READY, METRICS and DASHBOARD, or ROUTE_NONE) and whose method it
 * allows; returns what the lws callback should return. */
struct route;
int api_handle(struct http_conn *h, const struct route *r);
json_t *api_build_json(struct coord *c, int64_t build_id);

/* ---- commitapi.c: the commit matrix over the API ---- */
/* GET /api/v1/repos */
int commitapi_repos(struct http_conn *h);
/* GET /api/v1/repos/{id}/commits?limit=N&before=COMMIT_ID */
int commitapi_commits(struct http_conn *h, int64_t repo);
/* POST /api/v1/commits/{name}/retry {"builder"?, "repo"?} */
int commitapi_retry(struct http_conn *h, const char *name);

/* ---- builds.c: making builds ---- */
/* Who a build is for, and where it goes in the queue. */
struct build_origin {
	const char *requester; /* API token name, NULL or "" if none */
	const char *builder;   /* configured builder, NULL if none */
	int64_t commit_id;     /* watched commit it builds, 0 if none */
	int postsubmit;        /* made by the watcher: after API jobs */
};
/* Store a build of spec (a request_parse_build result) and one queued
 * job per platform, and commit; the scheduler and dashboard hear of it.
 * A spec with "host_type" binds its jobs to that host type. */
rc_t builds_create(struct coord *c, json_t *spec, const struct build_origin *o,
		   int64_t *build);
/* in is {"builder": NAME, ...}: *spec gets the build request it stands
 * for (validated, with "builder"). *spec NULL and RC_OK if in has no
 * "builder"; an error (err) for an unknown builder or a bad request. */
struct request_error;
rc_t builds_spec_of_builder(struct coord *c, json_t *in, json_t **spec,
			    struct request_error *err);
/* A build of builder for commit hash (commit_id) of the repository at
 * url, from exactly that commit. */
rc_t builds_for_commit(struct coord *c, const char *url, const char *hash,
		       int64_t commit_id, const char *builder, int postsubmit,
		       int64_t *build, struct request_error *err);

/* ---- postsubmit.c: watched repositories on the loop ---- */
/* The config's repos to the store and the watcher (at start, after a
 * reload). */
void postsubmit_sync(struct coord *c);
/* Record what the watcher found: commits, builds, heads (each turn). */
void postsubmit_drain(struct coord *c);
/* Poll repository repo (0: all) now; how many will be polled. */
size_t postsubmit_kick(struct coord *c, int64_t repo);
/* Poll the watched repository with this url now; 0 if there is none. */
size_t postsubmit_kick_url(struct coord *c, const char *url);
void postsubmit_stop(struct coord *c);

/* ---- hooks.c: polls on demand ---- */
/* Read --hook-secret-file into c->hook_secret (no file: hooks stay off). */
rc_t hooks_load_secret(struct coord *c, struct errbuf *eb);
/* POST /api/v1/hooks/git: a git host says something was pushed. */
int hooks_git(struct http_conn *h);
/* POST /api/v1/repos/{id}/poll. */
int hooks_repo_poll(struct http_conn *h, int64_t id);

/* ---- lease.c ---- */
void lease_buildlet_gone(struct coord *c, const char *name, int64_t now_ms);
/* The buildlet has a session again; 1 if it had been away. */
int lease_buildlet_back(struct coord *c, const char *name);
/* Close silent sessions; requeue jobs of buildlets away past the grace. */
void lease_check(struct coord *c, int64_t now_ms);
void lease_free_all(struct coord *c);

/* ---- cache.c: build cache and single flight ---- */
/* out gets SHA256_HEX_LEN + 1 bytes: the key of a job of spec on platform. */
void cache_key(json_t *spec, const char *platform, char *out);
/* Record a new job's key; with lookup, answer it from a passed twin or
 * queue it behind an active one. */
void cache_on_new_job(struct coord *c, int64_t job, const char *key,
		      int lookup);
/* A job became final: give its followers its result, or let them go. */
void cache_settle(struct coord *c, int64_t leader);

/* ---- metrics.c: counters for GET /metrics ---- */
struct metrics;
struct metrics *metrics_new(void);
void metrics_free(struct metrics **m);
void metrics_build_accepted(struct metrics *m);
/* A job was sent to a buildlet after waiting queue_wait_ms. */
void metrics_job_dispatched(struct metrics *m, int64_t queue_wait_ms);
/* A job reached a final state (through orch_job_transition). */
void metrics_job_final(struct metrics *m, enum job_state st);
/* A buildlet reported a process wall time. */
void metrics_job_duration(struct metrics *m, int64_t duration_ms);
/* n log bytes arrived; cut bytes of stored logs were dropped (the cap). */
void metrics_log_bytes(struct metrics *m, size_t n, int64_t cut);
/* A buildlet said hello; reconnect is 1 if it had been connected before. */
void metrics_buildlet_hello(struct metrics *m, int reconnect);
void metrics_cache_hit(struct metrics *m);
void metrics_cache_attached(struct metrics *m);
/* A buildlet handshake was turned away (rate limit). */
void metrics_handshake_refused(struct metrics *m);
/* Append the Prometheus text exposition of everything to out. */
void metrics_render(struct coord *c, struct buf *out);

/* ---- blobapi.c: /api/v1/blobs ---- */
/* PUT headers arrived: start an upload, or answer an error. */
int blobapi_put_begin(struct http_conn *h, long long length);
/* The PUT body is complete: verify, store, answer. */
int blobapi_put_finish(struct http_conn *h);
/* GET or HEAD of a blob (ETag, 304, Range). */
int blobapi_get(struct http_conn *h, const char *sha);
/* Next piece of a blob being sent; 1 when all was sent. */
int blobapi_send_more(struct http_conn *h);
/* Release an upload or an open file when the connection goes. */
void blobapi_release(struct http_conn *h);

/* ---- auth.c ---- */
rc_t auth_load_master(const char *data_dir, char *master, struct errbuf *eb);
void auth_key_for(const char *master, const char *host_type, char *out);
/* 1 (with why: "WHAT expired at TIME") if expires_ms is set and past. */
int auth_expired(int64_t expires_ms, int64_t now_ms, char *why, size_t n,
		 const char *what);
/* 1 and its scope if token is a live API token (not unknown, revoked or
 * expired), else 0 and why. */
int auth_api_token(struct coord *c, const char *token, char *scope, size_t n,
		   char *why, size_t wn);

/* ---- dash.c: which dashboard pages to rewrite, and when ---- */
/* Write the first pages now; the rest follow in slices from the tick. */
void dash_start(struct coord *c);
void dash_free(struct coord *c);
/* Rewrite what is dirty, at most every 500 ms (from the tick). */
void dash_tick(struct coord *c, int64_t now_mono_ms);
/* A build was made (is_new: with its job pages; builds move down the
 * index) or changed. */
void dash_mark_build(struct coord *c, int64_t build, int is_new);
/* A job changed state: its page, its build's, the lists. */
void dash_mark_job(struct coord *c, int64_t job);
/* A running job's log grew: its page, at most every 2 s. */
void dash_mark_log(struct coord *c, int64_t job);
/* A queued job's reason changed. */
void dash_mark_queue(struct coord *c);
/* A buildlet came, went, or was drained. */
void dash_mark_buildlets(struct coord *c);
/* Builds were purged: every index page and list. */
void dash_mark_all(struct coord *c);
/* Commits of this repository were recorded or changed (or it was
 * polled): its first page, repos/index.html and index.html; its later
 * pages in slices when its commits moved down. */
void dash_mark_repo(struct coord *c, int64_t repo);

#endif
