/*
 * dashboard.h - static HTML pages rendered from a snapshot of the store.
 *
 * The dashboard never opens the database: the coordinator hands it a
 * snapshot (plain structs, borrowed strings) and it writes files into a
 * directory by atomic rename, so the directory can be served by the
 * coordinator or by any web server.
 */
#ifndef RFARM_DASHBOARD_H
#define RFARM_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rc.h"

struct dash_job {
	int64_t id;           /* job id */
	const char *platform; /* "goos/goarch" */
	const char *state;    /* queued|dispatched|running|passed|failed|cancelled|error */
	int exit_code;        /* exit status, -1 if none */
	int64_t duration_ms;  /* 0 if not finished */
	const char *error;    /* infrastructure error text, "" if none */
};

struct dash_build {
	int64_t id;            /* build id */
	int64_t created_ms;    /* wall clock, ms since the epoch */
	const char *command;   /* the command or script, as one line */
	struct dash_job *jobs; /* its jobs */
	size_t n_jobs;
};

struct dash_snapshot {
	struct dash_build *builds;  /* newest first */
	size_t n_builds;
	const char *const *platforms; /* matrix columns, in order */
	size_t n_platforms;
	int buildlets_connected;    /* for the header line */
	int jobs_queued;            /* for the header line */
	int64_t now_ms;             /* rendering time, wall clock */
};

/* Append index.html for s to out (pure; no I/O). */
rc_t dashboard_render_index(const struct dash_snapshot *s, struct buf *out);

/* Write index.html (its style sheet is inline) into dir, atomically. */
rc_t dashboard_write(const struct dash_snapshot *s, const char *dir,
		     struct errbuf *eb);

/* Append s HTML-escaped (& < > " ') to out. */
void html_escape(struct buf *out, const char *s);

#endif
