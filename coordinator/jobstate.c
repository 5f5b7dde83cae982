/* jobstate.c - names and legal transitions of job states (see jobstate.h). */
#include "jobstate.h"

#include <string.h>

static const char *const names[] = {
#define JOB_NAME(name, text) text,
	JOB_STATES(JOB_NAME)
#undef JOB_NAME
};

const char *job_state_name(enum job_state s)
{
	return (unsigned)s < JOB__COUNT ? names[s] : "?";
}

int job_state_parse(const char *name)
{
	for (int i = 0; i < JOB__COUNT; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

int job_state_final(enum job_state s)
{
	return s == JOB_PASSED || s == JOB_FAILED || s == JOB_CANCELLED ||
	       s == JOB_ERROR;
}

int job_state_legal(enum job_state from, enum job_state to)
{
	switch (from) {
	case JOB_QUEUED:
		/* passed and failed: answered from an identical job. */
		return to == JOB_DISPATCHED || to == JOB_CANCELLED ||
		       to == JOB_ERROR || to == JOB_PASSED || to == JOB_FAILED;
	case JOB_DISPATCHED:
		/* A buildlet may report done without started (exec failed),
		 * and a lost buildlet sends the job back to the queue. */
		return to == JOB_RUNNING || to == JOB_QUEUED ||
		       job_state_final(to);
	case JOB_RUNNING:
		return to == JOB_QUEUED || job_state_final(to);
	case JOB_FAILED:
	case JOB_CANCELLED:
	case JOB_ERROR:
		return to == JOB_QUEUED; /* a user's retry: a new attempt */
	default:
		return 0; /* a passed job stays passed */
	}
}
