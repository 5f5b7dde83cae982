/*
 * buildlet.h - the dial-in agent: connects out to the coordinator over a
 * WebSocket (reverse mode), runs the jobs pushed down that connection and
 * streams their output back. It never listens on any port.
 *
 * This is the only header of buildlet/ that other modules (cli/) use.
 */
#ifndef RFARM_BUILDLET_H
#define RFARM_BUILDLET_H

#include <stddef.h>
#include <stdint.h>

#include "rc.h"

struct buildlet_config {
	const char *coordinator_url; /* http(s)://host:port or ws(s)://... */
	const char *name;            /* default: the host name */
	const char *host_type;       /* default: "<goos>-<goarch>" */
	const char *const *platforms; /* extra "goos/goarch" it can build for */
	size_t n_platforms;
	int no_native;               /* serve only `platforms`, not the native
					one (a machine kept for cross builds) */
	const char *const *labels;   /* labels advertised to the scheduler */
	size_t n_labels;
	int capacity;                /* job slots; default 1 */
	const char *workdir;         /* work root; default "./rfarm-work" */
	const char *key;             /* auth key (never taken from argv) */
	/* Where key came from, read again before each connection so a
	 * renewed token is picked up without a restart; NULL: never. */
	const char *token_file;
	rc_t (*read_key)(const char *path, char **key, struct errbuf *eb);
	int kill_grace_ms;           /* SIGTERM -> SIGKILL delay; default 10000 */
	int default_timeout_s;       /* when a run gives none; default 3600 */
	const char *ca_file;         /* PEM CAs to trust (e.g. the coordinator's
					self-signed certificate); NULL: system */
	const char *pin;             /* "sha256:..." of the coordinator's
					certificate: trust it and only it */
	int insecure;                /* allow plain ws/http to a non-loopback
					coordinator */
	const char *run_as;          /* run jobs as this user (the buildlet
					must run as root, or be that user);
					NULL: as the buildlet */
	long max_procs;              /* RLIMIT_NPROC of jobs (per user: only
					enforced with run_as); 0: none */
	int64_t max_file_size;       /* RLIMIT_FSIZE of jobs, bytes; 0: none */
};

void buildlet_config_defaults(struct buildlet_config *cfg);

struct buildlet;

struct buildlet *buildlet_new(const struct buildlet_config *cfg,
			      struct errbuf *eb);
/* Connect, reconnect with backoff, and run jobs until buildlet_stop(). */
int buildlet_run(struct buildlet *b);
/* Safe from a signal handler or another thread. */
void buildlet_stop(struct buildlet *b);
void buildlet_free(struct buildlet **b);

/* The native platform of this machine in Go's names ("linux", "amd64"). */
void buildlet_native_platform(char *goos, size_t goos_len, char *goarch,
			      size_t goarch_len);

#endif
