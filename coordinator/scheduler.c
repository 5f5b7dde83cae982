/* scheduler.c - buildlet choice for a job (see sched.h). */
#include "scheduler.h"

#include <stdio.h>
#include <string.h>

static int has(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

int sched_matches(const struct sched_candidate *c, const struct sched_job *job)
{
	if (!has(c->platforms, c->n_platforms, job->platform))
		return 0;
	if (job->host_type && job->host_type[0] &&
	    (!c->host_type || strcmp(c->host_type, job->host_type)))
		return 0;
	for (size_t i = 0; i < job->n_labels; i++)
		if (!has(c->labels, c->n_labels, job->labels[i]))
			return 0;
	return 1;
}

enum sched_verdict sched_pick(const struct sched_candidate *c, size_t n,
			      const struct sched_job *job, size_t *pick)
{
	enum sched_verdict v = SCHED_NO_MATCH;
	int best_free = 0;

	for (size_t i = 0; i < n; i++) {
		int free_slots = c[i].capacity - c[i].running;

		if (!sched_matches(&c[i], job))
			continue;
		if (v == SCHED_NO_MATCH)
			v = SCHED_BUSY;
		if (free_slots > best_free) {
			best_free = free_slots;
			*pick = i;
			v = SCHED_PICKED;
		}
	}
	return v;
}

void sched_reason(enum sched_verdict v, const struct sched_job *job, char *out,
		  size_t n)
{
	size_t len;

	if (!n)
		return;
	if (v == SCHED_PICKED) {
		snprintf(out, n, "%s", "");
		return;
	}
	snprintf(out, n, "waiting for a %s%s buildlet",
		 v == SCHED_BUSY ? "free " : "", job->platform);
	if (job->host_type && job->host_type[0]) {
		len = strlen(out);
		snprintf(out + len, n - len, " of host type %s", job->host_type);
	}
	if (v == SCHED_BUSY || !job->n_labels)
		return;
	len = strlen(out);
	snprintf(out + len, n - len, " with label%s ", job->n_labels > 1 ? "s" : "");
	for (size_t i = 0; i < job->n_labels; i++) {
		len = strlen(out);
		snprintf(out + len, n - len, "%s%s", i ? ", " : "", job->labels[i]);
	}
}
