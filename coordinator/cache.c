/*
 * cache.c - the build cache and single flight.
 *
 * A job's cache key is the SHA-256 of the canonical JSON of what decides
 * its result: platform, command or script, environment, source (tarball
 * digest), artifact patterns, labels (a labelled machine may have a
 * different toolchain) and host type, when bound to one (for the same
 * reason: two builders alike but for their host type exist to run on
 * both kinds of machine). Priority and time limits are not part of it.
 * A new job whose key matches a passed job is answered at once from it;
 * one that matches an active job waits behind it (attached) and takes
 * its result when it ends. A leader that ends in error or is cancelled
 * lets its followers go and run on their own. "no_cache" skips the
 * lookup (the job still runs and can answer later ones).
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "internal.h"
#include "log.h"
#include "xalloc.h"

void cache_key(json_t *spec, const char *platform, char *out)
{
	json_t *canon = json_object();
	static const char *const keys[] = {"command", "script", "env", "source",
					   "artifacts", "labels", "host_type"};
	char *text;

	json_object_set_new(canon, "platform", json_string(platform));
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		json_t *v = json_object_get(spec, keys[i]);

		if (v)
			json_object_set(canon, keys[i], v);
	}
	text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
	sha256_hex(text, strlen(text), out);
	free(text);
	json_decref(canon);
}

void cache_on_new_job(struct coord *c, int64_t job, const char *key,
		      int lookup)
{
	struct store_job from;
	char reason[96];
	int64_t other;

	store_job_set_cache_key(c->store, job, key);
	if (!lookup)
		return;
	if ((other = store_cache_hit(c->store, key, job)) &&
	    !store_job_get(c->store, other, &from)) {
		if (!orch_job_transition(c, job, JOB_QUEUED, JOB_PASSED))
			store_job_answer_from(c->store, job, &from, clock_wall_ms());
		log_info("job %lld: answered from the cache (job %lld)",
			 (long long)job, (long long)other);
		metrics_cache_hit(c->metrics);
		store_job_clear(&from);
	} else if ((other = store_cache_leader(c->store, key, job))) {
		snprintf(reason, sizeof reason, "waiting for the identical job %lld",
			 (long long)other);
		store_job_attach(c->store, job, other, reason);
		log_info("job %lld: attached to the identical job %lld",
			 (long long)job, (long long)other);
		metrics_cache_attached(c->metrics);
	}
}

void cache_settle(struct coord *c, int64_t leader)
{
	struct store_job lead, *f = NULL;
	size_t n = 0;

	if (store_job_get(c->store, leader, &lead))
		return;
	store_job_followers(c->store, leader, &f, &n);
	for (size_t i = 0; i < n; i++) {
		if (lead.state == JOB_PASSED || lead.state == JOB_FAILED) {
			if (!orch_job_transition(c, f[i].id, f[i].state, lead.state))
				store_job_answer_from(c->store, f[i].id, &lead,
						      clock_wall_ms());
		} else {
			/* It did not run to an answer: run on our own. */
			store_job_attach(c->store, f[i].id, 0, "");
			c->sched_pending = 1;
		}
	}
	store_job_array_free(&f, n);
	store_job_clear(&lead);
}
