/*
 * coordinator.h - the coordinator process: one libwebsockets context that
 * serves the HTTP API, the dashboard files and the /buildlet WebSocket,
 * with the SQLite store as the single source of truth.
 *
 * This is the only header of coordinator/ that other modules (cli/) use.
 */
#ifndef RFARM_COORDINATOR_H
#define RFARM_COORDINATOR_H

#include <stddef.h>
#include <stdint.h>

#include "rc.h"

struct coord_config {
	const char *listen_host;  /* default "127.0.0.1" */
	int listen_port;          /* default 8080; 0 picks a free port */
	const char *data_dir;     /* default "./rfarm-data" */
	const char *dashboard_dir; /* the dashboard's pages; NULL:
				     <data_dir>/dashboard */
	int heartbeat_ms;         /* told to buildlets in welcome; default 5000 */
	int default_timeout_s;    /* job timeout when a build gives none; 3600 */
	int max_attempts;         /* attempts per job before "error"; 3 */
	int grace_ms;             /* how long a vanished buildlet keeps its
				     jobs before they are requeued; 120000 */
	int timeout_margin_ms;    /* how long past a job's time limit to wait
				     for its buildlet before ending it here;
				     default 60000 */
	int public_read;          /* with API tokens, let anyone read */
	const char *tls_cert;     /* PEM certificate: serve HTTPS/WSS; NULL: plain */
	const char *tls_key;      /* its PEM private key */
	int64_t max_source_bytes; /* largest blob uploaded without an
				     attempt's upload token (a source
				     tarball); default 1 GiB */
	int64_t max_artifact_bytes; /* largest artifact file; default 2 GiB */
	int max_artifacts;        /* artifacts one attempt may upload;
				     default 1000 */
	int64_t max_artifact_total; /* bytes of artifacts per attempt;
				     default 8 GiB */
	int64_t max_log_bytes;    /* log kept per attempt: past it, the head
				     (half) and the latest bytes are kept and
				     the cut is marked; 0 = all; default 64 MiB */
	int io_timeout_s;         /* a connection stalled mid-request this long
				     is dropped (not a quiet log stream);
				     default 30 */
	int max_handshakes_per_s; /* buildlet sessions admitted per second;
				     more get 503 + Retry-After; 0 = no cap;
				     default 200 */
	int max_conns_per_addr;   /* open connections one peer address may
				     hold; more are refused; 0 = no cap;
				     default 256 */
	int max_header_bytes;     /* request header values; more get 431;
				     default 8192 */
	int max_auth_failures;    /* failed buildlet handshakes one address
				     may make per minute before it must wait
				     (429); 0 = no limit; default 10 */
	const char *config_file;  /* host types, builders, repos (JSON, see
				     env/CONFIG.md); NULL: none */
	const char *hook_secret_file; /* the secret git hosts' webhooks
				     prove (POST /api/v1/hooks/git); NULL:
				     webhooks are off */
	/* Called once the listening socket is bound, with the base URL
	 * ("http://127.0.0.1:8080"). May be NULL. */
	void (*on_listening_cb)(void *ud, const char *base_url);
	void *ud;                 /* passed to on_listening_cb */
};

void coord_config_defaults(struct coord_config *cfg);

struct coord;

/* Open the store (creating the data directory), bind the listener. */
struct coord *coord_new(const struct coord_config *cfg, struct errbuf *eb);
/* Serve until coord_stop(); returns 0 on a clean stop. */
int coord_run(struct coord *c);
/* Ask coord_run to return; safe from a signal handler or another thread. */
void coord_stop(struct coord *c);
/* Reread the config file at the next turn of the loop (SIGHUP); safe
 * from a signal handler. An invalid file is logged and the old config
 * stays in force. */
void coord_reload_request(struct coord *c);
void coord_free(struct coord **c);

/*
 * The key a buildlet of host_type presents:
 * hex(HMAC-SHA256(master, host_type)), where the master secret lives in
 * <data_dir>/master.key (created, mode 0600, if missing).
 * out must hold SHA256_HEX_LEN + 1 bytes.
 */
rc_t coord_buildlet_key(const char *data_dir, const char *host_type, char *out,
			struct errbuf *eb);

/*
 * Enrol a buildlet named name as host_type with labels, in the store of
 * data_dir (the coordinator may be running). token gets "NAME.SECRET",
 * shown once: only the secret's SHA-256 is kept. Enrolling a name again
 * replaces its credential. expires_ms (wall clock; 0: never) ends it.
 */
rc_t coord_enroll(const char *data_dir, const char *name, const char *host_type,
		  const char *const *labels, size_t n_labels, int64_t expires_ms,
		  char *token, size_t token_len, struct errbuf *eb);
/*
 * Create an API token of scope "read", "submit" or "admin" named name in
 * the store of data_dir; token gets it (shown once: only its SHA-256 is
 * kept). Once any token exists, the API needs one. expires_ms (wall
 * clock; 0: never) ends it.
 */
rc_t coord_token_create(const char *data_dir, const char *name,
			const char *scope, int64_t expires_ms, char *token,
			size_t token_len, struct errbuf *eb);
rc_t coord_token_revoke(const char *data_dir, const char *name,
			struct errbuf *eb);

/*
 * Write every dashboard page from the store of data_dir into out_dir,
 * without a coordinator (one may be running: the store is shared). The
 * buildlets page says none is connected. *pages gets how many pages were
 * written (a page and its .json or .log twin count once). On failure the
 * other pages are still written; eb names the first that was not.
 */
rc_t coord_dashboard_render(const char *data_dir, const char *out_dir,
			    size_t *pages, struct errbuf *eb);

/* Refuse that buildlet from now on; a running coordinator cuts its session
 * within a second. RC_NOT_FOUND if it is not enrolled. */
rc_t coord_revoke(const char *data_dir, const char *name, struct errbuf *eb);

#endif
