/*
 * builds.c - making builds: from an API request, and for a watched
 * commit on a configured builder. Both end in builds_create, which stores
 * the build and its jobs and commits before anyone hears of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "internal.h"
#include "log.h"
#include "request.h"

/* A git source named by branch or tag may mean another commit tomorrow:
 * only a full commit hash makes a git build cacheable. */
static int cache_lookup_allowed(json_t *spec)
{
	json_t *git = json_object_get(json_object_get(spec, "source"), "git");
	const char *ref = json_string_value(json_object_get(git, "ref"));

	if (json_is_true(json_object_get(spec, "no_cache")))
		return 0;
	if (!git)
		return 1;
	return ref && strlen(ref) == 40 && strspn(ref, "0123456789abcdef") == 40;
}

/* Jobs of a post-submit build queue after API jobs, newest commit first;
 * any job of a builder's build runs only on its host type. */
static rc_t place_job(struct coord *c, int64_t job, json_t *spec,
		      const struct build_origin *o)
{
	const char *ht = json_string_value(json_object_get(spec, "host_type"));

	if (!o->postsubmit && !(ht && ht[0]))
		return RC_OK;
	return store_job_set_queue(c->store, job, ht ? ht : "", o->postsubmit,
				   o->postsubmit ? -o->commit_id : 0);
}

static rc_t insert_jobs(struct coord *c, int64_t build, json_t *spec,
			const struct build_origin *o, int64_t now)
{
	json_t *plats = json_object_get(spec, "platforms"), *p;
	int priority = (int)json_integer_value(json_object_get(spec, "priority"));
	char *labels = json_dumps(json_object_get(spec, "labels"), JSON_COMPACT);
	rc_t rc = RC_OK;
	int64_t job;
	size_t i;

	json_array_foreach(plats, i, p) {
		char key[SHA256_HEX_LEN + 1];

		rc = store_job_insert(c->store, build, json_string_value(p),
				      labels, priority, now, &job);
		if (!rc)
			rc = place_job(c, job, spec, o);
		if (rc)
			break;
		cache_key(spec, json_string_value(p), key);
		cache_on_new_job(c, job, key, cache_lookup_allowed(spec));
	}
	free(labels);
	return rc;
}

rc_t builds_create(struct coord *c, json_t *spec, const struct build_origin *o,
		   int64_t *build)
{
	int priority = (int)json_integer_value(json_object_get(spec, "priority"));
	char *text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
	int64_t now = clock_wall_ms();
	rc_t rc;

	rc = store_build_insert(c->store, now, priority, text, build);
	free(text);
	if (!rc && o->requester && o->requester[0])
		rc = store_build_set_requester(c->store, *build, o->requester);
	if (!rc && (o->builder || o->commit_id))
		rc = store_build_set_origin(c->store, *build,
					    o->builder ? o->builder : "",
					    o->commit_id);
	if (!rc)
		rc = insert_jobs(c, *build, spec, o, now);
	if (!rc)
		rc = store_flush(c->store);
	if (rc)
		return rc;
	log_info("build %lld accepted (%zu jobs)%s", (long long)*build,
		 json_array_size(json_object_get(spec, "platforms")),
		 o->postsubmit ? " post-submit" : "");
	metrics_build_accepted(c->metrics);
	c->sched_pending = 1;
	dash_mark_build(c, *build, 1);
	return RC_OK;
}

rc_t builds_spec_of_builder(struct coord *c, json_t *in, json_t **spec,
			    struct request_error *err)
{
	json_t *req = NULL;
	char *text;
	rc_t rc;

	*spec = NULL;
	rc = config_expand_request(c->farm, in, &req, err);
	if (rc || !req)
		return rc;
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	rc = request_parse_build(text, strlen(text), spec, err);
	free(text);
	if (!rc)
		json_object_set_new(*spec, "builder",
				    json_copy(json_object_get(in, "builder")));
	return rc;
}

rc_t builds_for_commit(struct coord *c, const char *url, const char *hash,
		       int64_t commit_id, const char *builder, int postsubmit,
		       int64_t *build, struct request_error *err)
{
	json_t *in = json_pack("{s:s,s:{s:{s:s,s:s}}}", "builder", builder,
			       "source", "git", "url", url, "ref", hash);
	struct build_origin o = {.builder = builder, .commit_id = commit_id,
				 .postsubmit = postsubmit};
	json_t *spec = NULL;
	rc_t rc = builds_spec_of_builder(c, in, &spec, err);

	json_decref(in);
	if (!rc && !spec)
		rc = request_fail(err, "unknown_builder", "no builder");
	if (!rc)
		rc = builds_create(c, spec, &o, build);
	json_decref(spec);
	return rc;
}
