/*
 * jobstate.h - the job state machine: states, names and legal moves.
 *
 * Pure logic, no I/O. The coordinator changes a job's state only through
 * job_state_check() so an illegal transition is refused (and logged) in one
 * place:
 *
 *   queued -> dispatched -> running -> passed | failed | cancelled | error
 *        \______________ (buildlet lost) -> queued again, attempt+1
 *   failed | cancelled | error -> queued (retry), attempt+1
 *   queued -> passed | failed (answered from an identical job: cache.c)
 */
#ifndef RFARM_JOBSTATE_H
#define RFARM_JOBSTATE_H

#define JOB_STATES(X)                                                    \
	X(JOB_QUEUED, "queued")         /* waiting for a buildlet */         \
	X(JOB_DISPATCHED, "dispatched") /* run sent, not yet started */      \
	X(JOB_RUNNING, "running")       /* process started on a buildlet */  \
	X(JOB_PASSED, "passed")         /* command exited 0 */               \
	X(JOB_FAILED, "failed")         /* command ran and failed */         \
	X(JOB_CANCELLED, "cancelled")   /* stopped on request */             \
	X(JOB_ERROR, "error")           /* the farm could not run it */

enum job_state {
#define JOB_ENUM(name, text) name,
	JOB_STATES(JOB_ENUM)
#undef JOB_ENUM
	JOB__COUNT
};

const char *job_state_name(enum job_state s);
/* -1 if name is not a state. */
int job_state_parse(const char *name);
/* 1 for passed, failed, cancelled, error. */
int job_state_final(enum job_state s);
/* 1 if from -> to is a legal transition. */
int job_state_legal(enum job_state from, enum job_state to);

#endif
