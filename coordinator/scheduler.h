/*
 * scheduler.h - choosing a buildlet for a job. Pure logic, no I/O.
 *
 * A job runs on a buildlet that serves its platform (goos/goarch) and has
 * every label the job asks for; a job bound to a host type (a configured
 * builder's) runs only on buildlets of that host type. Among those with a
 * free slot, the one with the most remaining capacity wins; ties go to
 * the earlier candidate.
 */
#ifndef RFARM_SCHEDULER_H
#define RFARM_SCHEDULER_H

#include <stddef.h>

struct sched_candidate {
	const char *const *platforms; /* "goos/goarch" it serves */
	size_t n_platforms;
	const char *const *labels;    /* labels it has */
	size_t n_labels;
	int capacity;                 /* slots */
	int running;                  /* slots in use */
	const char *host_type;        /* its session's host type, "" if none */
};

struct sched_job {
	const char *platform;         /* "goos/goarch" */
	const char *const *labels;    /* labels required */
	size_t n_labels;
	const char *host_type;        /* host type required; NULL or "": any */
};

enum sched_verdict {
	SCHED_PICKED,    /* *pick is the chosen candidate */
	SCHED_BUSY,      /* some candidate matches, none has a free slot */
	SCHED_NO_MATCH,  /* no connected buildlet could ever run it */
};

enum sched_verdict sched_pick(const struct sched_candidate *c, size_t n,
			      const struct sched_job *job, size_t *pick);

/* 1 if candidate c could run job (ignoring free slots). */
int sched_matches(const struct sched_candidate *c, const struct sched_job *job);

/*
 * Why a job waits, for users: "waiting for a linux/riscv64 buildlet",
 * "waiting for a linux/amd64 buildlet with labels large, gpu",
 * "waiting for a linux/arm64 buildlet of host type linux-arm64",
 * "waiting for a free linux/amd64 buildlet" (of host type T, if bound).
 * Every text starts "waiting for a "; only a busy one goes on "free "
 * (store.c counts unsatisfiable jobs by that). Writes into out.
 */
void sched_reason(enum sched_verdict v, const struct sched_job *job, char *out,
		  size_t n);

#endif
