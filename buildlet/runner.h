/*
 * runner.h - runs one job attempt on its own thread.
 *
 * The runner makes a fresh work directory, builds the environment, starts
 * the command through os.h, streams stdout and stderr as numbered chunks
 * while the process runs, enforces the timeout, the no-output (idle)
 * timeout and cancellation (SIGTERM to the group, SIGKILL after a grace
 * period), and reports the result. With run_as it hands the work
 * directory to that user and runs the job as it, under the limits. Events
 * arrive through callbacks on the runner's thread; the caller (the buildlet
 * session) queues them for its event loop.
 */
#ifndef RFARM_RUNNER_H
#define RFARM_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "rc.h"

struct runner_events {
	/* The process started (not called if it could not be started). */
	void (*on_started_cb)(void *ud, int64_t job, int32_t attempt);
	/* A chunk of output: seq from 0, both streams in one sequence,
	 * stream 1 = stdout, 2 = stderr, len <= PROTO_LOG_CHUNK. May block to
	 * apply back-pressure to the child. */
	void (*on_log_cb)(void *ud, int64_t job, int32_t attempt, int64_t seq,
			  int stream, const unsigned char *data, size_t len);
	/* Last event of the attempt. done->error is "" after a normal exit,
	 * or says what went wrong ("exec make: No such file or directory",
	 * "timed out after 10s", "no output for 5m", "cancelled"). The
	 * idle clock (run->idle_timeout_s) starts at spawn and restarts at
	 * every chunk read from either stream. The callee copies what it
	 * keeps. */
	void (*on_done_cb)(void *ud, const struct proto_done *done);
};

struct runner_options {
	const char *work_root;   /* parent of per-job work directories */
	const char *platform;    /* "goos/goarch" for RFARM_PLATFORM */
	int kill_grace_ms;       /* SIGTERM -> SIGKILL delay */
	int default_timeout_s;   /* used when run->timeout_s is 0 */
	int keep_workdir;        /* for debugging: do not remove afterwards */
	const char *base_url;    /* coordinator's http(s)://host:port[/prefix],
				    for sources given by path */
	const char *ca_file;     /* PEM CAs for HTTPS to it; NULL: system */
	const char *pin;         /* or its certificate's "sha256:..." */
	const struct os_user *run_as;   /* run the job as this user (copied;
					   the buildlet runs as root), or
					   NULL: as the buildlet */
	const struct os_limits *limits; /* limits of the job's processes
					   (copied), or NULL: inherited */
};

struct runner;
struct os_user;
struct os_limits;

/*
 * Start running *run (copied; the caller may free it at once). Returns
 * NULL only if the thread cannot be created. Every other failure
 * (work directory, exec) is reported through on_done_cb.
 */
struct runner *runner_start(const struct proto_run *run,
			    const struct runner_options *opt,
			    const struct runner_events *ev, void *ud,
			    struct errbuf *eb);

/* Ask the attempt to stop; on_done_cb follows with error "cancelled". */
void runner_cancel(struct runner *r);
/* 1 once on_done_cb has returned. */
int runner_finished(const struct runner *r);
/* Wait for the thread and free; cancels first if still running. */
void runner_free(struct runner **r);

#endif
