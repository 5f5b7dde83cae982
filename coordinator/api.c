/*
 * api.c - the JSON HTTP API under /api/v1 (see shared DESIGN.md).
 *
 * Handlers read the store and answer with jansson objects; every error is
 * {"error":{"code","message"}} with the matching status. A build is
 * committed to the store before its 201 goes out. Which handler runs is
 * route.c's answer (http.c has already refused a method the route does
 * not take, and a token too weak for it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blobs.h"
#include "clock.h"
#include "config.h"
#include "dashboard.h"
#include "internal.h"
#include "log.h"
#include "request.h"
#include "route.h"
#include "xalloc.h"

#define LIST_DEFAULT 50
#define LIST_MAX 1000

static json_t *time_json(int64_t ms)
{
	char t[40];

	if (!ms)
		return json_null();
	return json_string(clock_format_rfc3339(ms, t, sizeof t));
}

static json_t *job_json(const struct store_job *j)
{
	json_t *out = json_pack("{s:I,s:I,s:s,s:s,s:i,s:i,s:s,s:s,s:i,s:o,s:o,s:o,s:I,s:s,s:b,s:o}",
			 "id", (json_int_t)j->id, "build", (json_int_t)j->build_id,
			 "platform", j->platform, "state", job_state_name(j->state),
			 "exit_code", j->exit_code, "signal", j->signal,
			 "error", j->error, "buildlet", j->buildlet,
			 "attempt", j->attempt, "created", time_json(j->created_ms),
			 "started", time_json(j->started_ms),
			 "finished", time_json(j->finished_ms),
			 "duration_ms", (json_int_t)j->duration_ms,
			 "reason", j->reason, "cached", j->cached,
			 "labels", json_loads(j->labels, 0, NULL));

	json_object_set_new(out, "cached_from",
			    j->cached_from ? json_integer(j->cached_from) : json_null());
	json_object_set_new(out, "commit", json_string(j->commit ? j->commit : ""));
	return out;
}

/* The build's state summarises its jobs' states. */
static const char *build_state(const struct store_job *jobs, size_t n)
{
	int active = 0, running = 0, error = 0, failed = 0, cancelled = 0;

	for (size_t i = 0; i < n; i++) {
		enum job_state s = jobs[i].state;

		active += !job_state_final(s);
		running += s == JOB_RUNNING || s == JOB_DISPATCHED;
		error += s == JOB_ERROR;
		failed += s == JOB_FAILED;
		cancelled += s == JOB_CANCELLED;
	}
	if (active)
		return running ? "running" : "queued";
	if (error)
		return "error";
	if (failed)
		return "failed";
	return cancelled ? "cancelled" : "passed";
}

json_t *api_build_json(struct coord *c, int64_t id)
{
	struct store_build b;
	struct store_job *jobs = NULL;
	size_t n = 0;
	json_t *out, *arr;

	if (store_build_get(c->store, id, &b))
		return NULL;
	out = json_loads(b.spec, 0, NULL);
	if (!out)
		out = json_object();
	json_object_del(out, "platforms");
	store_job_list_build(c->store, id, &jobs, &n);
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, job_json(&jobs[i]));
	json_object_set_new(out, "id", json_integer(b.id));
	json_object_set_new(out, "created", time_json(b.created_ms));
	json_object_set_new(out, "state", json_string(build_state(jobs, n)));
	json_object_set_new(out, "jobs", arr);
	store_job_array_free(&jobs, n);
	store_build_clear(&b);
	return out;
}

/* The name of the API token this request came with ("" if none): the
 * gate has already checked it. */
static void requester_of(struct http_conn *h, char *name, size_t n)
{
	char auth[200], hash[SHA256_HEX_LEN + 1];

	name[0] = '\0';
	if (lws_hdr_copy(h->wsi, auth, sizeof auth,
			 WSI_TOKEN_HTTP_AUTHORIZATION) <= 7 ||
	    strncmp(auth, "Bearer ", 7))
		return;
	sha256_hex(auth + 7, strlen(auth + 7), hash);
	secret_wipe(auth, sizeof auth);
	if (!store_api_token_name(h->c->store, hash, name, n))
		name[0] = '\0';
}

static int respond_created(struct http_conn *h, json_t *spec)
{
	char who[128];
	int64_t build = 0;
	rc_t rc;

	requester_of(h, who, sizeof who);
	rc = builds_create(h->c, spec, &(struct build_origin){.requester = who},
			   &build);

	json_decref(spec);
	if (rc)
		return http_respond_error(h, 500, "store", "the build could not be "
					  "stored (%s); nothing was queued", rc_str(rc));
	return http_respond_json(h, 201, api_build_json(h->c, build));
}

/* The spec of a build request, by builder ({"builder": NAME, ...}) or
 * spelled out. */
static rc_t submit_spec(struct http_conn *h, json_t **spec,
			struct request_error *err)
{
	const char *body = (const char *)buf_data(&h->body);
	json_t *in = NULL;
	rc_t rc = RC_OK;

	*spec = NULL;
	/* Anything that is not an object with "builder" is left for
	 * request_parse_build to judge, and to explain. */
	if (request_json_depth(body, h->body.len) <= REQUEST_MAX_DEPTH &&
	    (in = json_loadb(body, h->body.len, JSON_REJECT_DUPLICATES, NULL)) &&
	    json_is_object(in))
		rc = builds_spec_of_builder(h->c, in, spec, err);
	json_decref(in);
	if (rc || *spec)
		return rc;
	return request_parse_build(body, h->body.len, spec, err);
}

static int submit(struct http_conn *h)
{
	struct request_error err;
	json_t *spec;

	const char *tarball;

	if (submit_spec(h, &spec, &err))
		return http_respond_error(h, 400, err.code, "%s", err.message);
	tarball = json_string_value(json_object_get(json_object_get(spec, "source"),
						    "tarball"));
	if (tarball && !blobs_exists(h->c->blob_dir, tarball, NULL)) {
		int r = http_respond_error(h, 400, "unknown_source",
					   "no blob %s: upload the tarball first "
					   "with PUT /api/v1/blobs/%s", tarball,
					   tarball);

		json_decref(spec);
		return r;
	}
	return respond_created(h, spec);
}

static int cancel_build(struct http_conn *h, int64_t id)
{
	struct store_build b;
	int n;

	if (store_build_get(h->c->store, id, &b))
		return http_respond_error(h, 404, "not_found", "no build %lld",
					  (long long)id);
	store_build_clear(&b);
	n = orch_cancel_build(h->c, id);
	if (n < 0 || store_flush(h->c->store))
		return http_respond_error(h, 500, "store", "cannot cancel build %lld",
					  (long long)id);
	log_info("build %lld: cancel asked for %d job(s)", (long long)id, n);
	return http_respond_json(h, 200, api_build_json(h->c, id));
}

/* Queue the jobs that failed, errored or were cancelled again, in place:
 * each gets a new attempt and the build its result again. */
static int retry_build(struct http_conn *h, int64_t id)
{
	int retried = orch_retry_build(h->c, id);

	if (retried < 0)
		return http_respond_error(h, 404, "not_found", "no build %lld",
					  (long long)id);
	if (!retried)
		return http_respond_error(h, 409, "nothing_to_retry",
					  "build %lld has no failed, error or "
					  "cancelled job to retry", (long long)id);
	if (store_flush(h->c->store))
		return http_respond_error(h, 500, "store", "cannot retry build %lld",
					  (long long)id);
	return http_respond_json(h, 200, api_build_json(h->c, id));
}

static int drain_buildlet(struct http_conn *h, const char *name, int drained)
{
	struct session *s;
	rc_t rc = store_buildlet_set_drained(h->c->store, name, drained);

	if (rc == RC_NOT_FOUND)
		return http_respond_error(h, 404, "not_found", "no buildlet %s", name);
	if (rc || store_flush(h->c->store))
		return http_respond_error(h, 500, "store", "cannot drain %s", name);
	if ((s = session_find(h->c, name))) {
		s->drained = drained;
		if (drained)
			session_send(s, &(struct proto_msg){.type = PROTO_DRAIN});
	}
	log_info("buildlet %s: %s", name, drained ? "drained" : "takes jobs again");
	orch_replan(h->c);
	dash_mark_buildlets(h->c);
	return http_respond_json(h, 200, json_pack("{s:s,s:b,s:b}", "name", name,
						  "drained", drained, "connected",
						  s != NULL));
}

/* Delete blobs nothing refers to any more: rows first (committed), then
 * files, so a crash in between leaves a stray file, never a dangling row. */
static int64_t purge_blobs(struct coord *c, int64_t before_ms)
{
	char **shas = NULL;
	size_t n = 0;
	int64_t gone = 0;

	if (store_blobs_unreferenced(c->store, before_ms, &shas, &n))
		return 0;
	for (size_t i = 0; i < n; i++)
		store_blob_forget(c->store, shas[i]);
	if (!store_flush(c->store))
		for (size_t i = 0; i < n; i++) {
			char *path = blobs_path(c->blob_dir, shas[i]);

			gone += unlink(path) == 0;
			free(path);
		}
	for (size_t i = 0; i < n; i++)
		free(shas[i]);
	free(shas);
	return gone;
}

/* What a purge deleted, so its pages can go once that is committed. */
struct purged {
	int64_t (*v)[2]; /* (build, job) */
	size_t n, cap;
};

static void note_purged(void *ud, int64_t build, int64_t job)
{
	struct purged *p = ud;
	int64_t *e = xarray_push(&p->v, &p->n, &p->cap, sizeof *p->v);

	e[0] = build;
	e[1] = job;
}

static void remove_pages(struct coord *c, struct purged *p)
{
	for (size_t i = 0; i < p->n; i++) {
		dashboard_remove_build(c->dash_dir, p->v[i][0]);
		if (p->v[i][1])
			dashboard_remove_job(c->dash_dir, p->v[i][1]);
	}
}

static int purge(struct http_conn *h)
{
	json_t *body = json_loadb((const char *)buf_data(&h->body), h->body.len,
				  0, NULL);
	const char *before = json_string_value(json_object_get(body, "before"));
	int64_t age = before ? clock_parse_duration_ms(before) : -1;
	int64_t builds = 0, chunks = 0, blobs = 0, cutoff = clock_wall_ms() - age;
	struct purged gone = {0};
	rc_t rc = RC_INVALID;

	if (age >= 0) {
		rc = store_purge(h->c->store, cutoff, note_purged, &gone, &builds,
				 &chunks);
		if (!rc)
			rc = store_flush(h->c->store);
		if (!rc)
			remove_pages(h->c, &gone);
		if (!rc)
			blobs = purge_blobs(h->c, cutoff);
		if (!rc)
			log_info("purged %lld build(s) older than %s, %lld log "
				 "chunk(s), %lld blob(s)", (long long)builds, before,
				 (long long)chunks, (long long)blobs);
	}
	json_decref(body);
	free(gone.v);
	if (age < 0)
		return http_respond_error(h, 400, "bad_before",
					  "give {\"before\": AGE} with AGE such as "
					  "\"30d\" or \"12h\"");
	if (rc)
		return http_respond_error(h, 500, "store", "purge failed");
	dash_mark_all(h->c);
	return http_respond_json(h, 200, json_pack("{s:I,s:I,s:I}", "builds",
						  (json_int_t)builds, "log_chunks",
						  (json_int_t)chunks, "blobs",
						  (json_int_t)blobs));
}

static int list_builds(struct http_conn *h)
{
	char state[32], platform[80], limit_s[16], before_s[24];
	int64_t *ids = NULL, before = 0;
	long limit = LIST_DEFAULT;
	size_t n = 0;
	json_t *arr;

	http_query_arg(h, "state", state, sizeof state);
	http_query_arg(h, "platform", platform, sizeof platform);
	if (state[0] && job_state_parse(state) < 0)
		return http_respond_error(h, 400, "bad_state", "unknown state \"%s\"",
					  state);
	if (platform[0] && !request_valid_platform(platform))
		return http_respond_error(h, 400, "bad_platform",
					  "\"%s\" is not GOOS/GOARCH", platform);
	if (http_query_arg(h, "limit", limit_s, sizeof limit_s)) {
		limit = route_parse_id(limit_s, strlen(limit_s));
		if (limit < 1 || limit > LIST_MAX)
			return http_respond_error(h, 400, "bad_limit",
						  "limit must be 1..%d", LIST_MAX);
	}
	if (http_query_arg(h, "before", before_s, sizeof before_s) &&
	    (before = route_parse_id(before_s, strlen(before_s))) < 0)
		return http_respond_error(h, 400, "bad_before",
					  "before must be a build id");
	if (store_build_list(h->c->store, state[0] ? state : NULL,
			     platform[0] ? platform : NULL, (int)limit, before,
			     &ids, &n))
		return http_respond_error(h, 500, "store", "cannot list builds");
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *b = api_build_json(h->c, ids[i]);

		if (b)
			json_array_append_new(arr, b);
	}
	free(ids);
	return http_respond_json(h, 200, json_pack("{s:o}", "builds", arr));
}

static json_t *attempt_json(const struct store_attempt *a)
{
	return json_pack("{s:i,s:s,s:o,s:o,s:o,s:i,s:i,s:I,s:s}", "n", a->n,
			 "buildlet", a->buildlet, "dispatched",
			 time_json(a->dispatched_ms), "started",
			 time_json(a->started_ms), "finished",
			 time_json(a->finished_ms), "exit_code", a->exit_code,
			 "signal", a->signal, "duration_ms",
			 (json_int_t)a->duration_ms, "error", a->error);
}

static json_t *artifacts_json(struct coord *c, int64_t job)
{
	struct store_artifact *a = NULL;
	json_t *arr = json_array();
	size_t n = 0;

	store_artifact_list(c->store, job, &a, &n);
	for (size_t i = 0; i < n; i++) {
		char *url = xasprintf("/api/v1/blobs/%s", a[i].sha256);

		json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:s}", "name",
						     a[i].name, "sha256", a[i].sha256,
						     "size", (json_int_t)a[i].size,
						     "url", url));
		free(url);
	}
	store_artifact_array_free(&a, n);
	return arr;
}

/* GET /jobs/{id}/artifacts lists them; .../artifacts/NAME redirects to
 * the blob, asking for the file's base name as the download name. */
static int job_artifacts(struct http_conn *h, int64_t id, const char *name)
{
	struct store_artifact *a = NULL;
	struct store_job j;
	size_t n = 0, i;
	int r;

	if (store_job_get(h->c->store, id, &j))
		return http_respond_error(h, 404, "not_found", "no job %lld",
					  (long long)id);
	store_job_clear(&j);
	if (!name)
		return http_respond_json(h, 200, json_pack("{s:o}", "artifacts",
							  artifacts_json(h->c, id)));
	store_artifact_list(h->c->store, id, &a, &n);
	for (i = 0; i < n && strcmp(a[i].name, name); i++)
		;
	if (i == n) {
		r = http_respond_error(h, 404, "not_found", "job %lld has no "
				       "artifact %.200s", (long long)id, name);
	} else {
		const char *base = strrchr(a[i].name, '/');
		char *loc = xasprintf("/api/v1/blobs/%s?filename=%s", a[i].sha256,
				      base ? base + 1 : a[i].name);
		struct http_header loc_hdr = {"location:", loc};

		r = http_write_headers(h, 302, "text/plain", 0, &loc_hdr, 1);
		if (!r)
			lws_callback_on_writable(h->wsi);
		free(loc);
	}
	store_artifact_array_free(&a, n);
	return r;
}

static int get_job(struct http_conn *h, int64_t id)
{
	struct store_job j;
	struct store_attempt *att = NULL;
	size_t n = 0;
	json_t *out, *arr = json_array();

	if (store_job_get(h->c->store, id, &j)) {
		json_decref(arr);
		return http_respond_error(h, 404, "not_found", "no job %lld",
					  (long long)id);
	}
	out = job_json(&j);
	store_attempt_list(h->c->store, id, &att, &n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, attempt_json(&att[i]));
	json_object_set_new(out, "attempts", arr);
	json_object_set_new(out, "artifacts", artifacts_json(h->c, id));
	store_attempt_array_free(&att, n);
	store_job_clear(&j);
	return http_respond_json(h, 200, out);
}

static int get_log(struct http_conn *h, int64_t id)
{
	char follow[8], stream_s[16], from_s[24];
	int stream = 0;
	int64_t from = 0;

	http_query_arg(h, "follow", follow, sizeof follow);
	if (http_query_arg(h, "stream", stream_s, sizeof stream_s)) {
		if (!strcmp(stream_s, "stdout"))
			stream = 1;
		else if (!strcmp(stream_s, "stderr"))
			stream = 2;
		else
			return http_respond_error(h, 400, "bad_stream",
						  "stream must be stdout or stderr");
	}
	if (http_query_arg(h, "from", from_s, sizeof from_s) &&
	    strcmp(from_s, "0") &&
	    (from = route_parse_id(from_s, strlen(from_s))) < 0)
		return http_respond_error(h, 400, "bad_from", "from must be a "
					  "byte count (0 or more)");
	return http_log_start(h, id, follow[0] && strcmp(follow, "0"), stream,
			      from);
}

/* How a buildlet proves itself: its enrolment (when it has one), and for
 * a connected one what its session showed. */
static void buildlet_credential(struct coord *c, json_t *o, const char *name,
				const struct session *s)
{
	struct store_enrolment e;
	const char *how = NULL;
	int enrolled = !store_enrol_get(c->store, name, &e);

	if (s)
		how = s->auth.enrolled[0] ? "enrolled" : s->auth.open ? "open" : "key";
	else if (enrolled)
		how = "enrolled";
	json_object_set_new(o, "credential", how ? json_string(how) : json_null());
	json_object_set_new(o, "enrolled", enrolled ? time_json(e.created_ms)
						   : json_null());
	json_object_set_new(o, "expires", enrolled ? time_json(e.expires_ms)
						  : json_null());
	json_object_set_new(o, "revoked", json_boolean(enrolled && e.revoked));
	json_object_set_new(o, "expired", json_boolean(enrolled && e.expires_ms &&
						       e.expires_ms <= clock_wall_ms()));
	if (enrolled)
		store_enrol_clear(&e);
}

static json_t *buildlet_json(struct coord *c, const struct store_buildlet *b)
{
	struct session *s = session_find(c, b->name);
	json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:i,s:i,s:b,s:b,s:s,s:o,s:o}",
			      "name", b->name, "host_type", b->host_type,
			      "platforms", json_loads(b->platforms, 0, NULL),
			      "labels", json_loads(b->labels, 0, NULL),
			      "capacity", b->capacity, "running",
			      s ? s->running : 0, "connected", s != NULL,
			      "drained", b->drained, "version", b->version,
			      "first_seen", time_json(b->first_seen_ms),
			      "last_seen", time_json(session_last_seen(
				      c, b->name, b->last_seen_ms)));

	buildlet_credential(c, o, b->name, s);
	return o;
}

/* An enrolled buildlet that never said hello: the operator should see it. */
static json_t *enrolled_only_json(struct coord *c, const char *name)
{
	struct store_enrolment e;
	json_t *o;

	if (store_enrol_get(c->store, name, &e))
		return NULL;
	o = json_pack("{s:s,s:s,s:[],s:o,s:i,s:i,s:b,s:b,s:n,s:n,s:n}", "name",
		      name, "host_type", e.host_type, "platforms", "labels",
		      json_loads(e.labels, 0, NULL), "capacity", 0, "running", 0,
		      "connected", 0, "drained", 0, "version", "first_seen",
		      "last_seen");
	store_enrol_clear(&e);
	buildlet_credential(c, o, name, NULL);
	return o;
}

static int known(const struct store_buildlet *b, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(b[i].name, name))
			return 1;
	return 0;
}

static int list_buildlets(struct http_conn *h)
{
	struct store_buildlet *b = NULL;
	char **enrolled = NULL;
	size_t n = 0, n_enrolled = 0;
	json_t *arr = json_array(), *o;

	if (store_buildlet_list(h->c->store, &b, &n) ||
	    store_enrol_names(h->c->store, 0, 0, &enrolled, &n_enrolled)) {
		store_buildlet_array_free(&b, n);
		json_decref(arr);
		return http_respond_error(h, 500, "store", "cannot list buildlets");
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, buildlet_json(h->c, &b[i]));
	for (size_t i = 0; i < n_enrolled; i++) {
		if (!known(b, n, enrolled[i]) &&
		    (o = enrolled_only_json(h->c, enrolled[i])))
			json_array_append_new(arr, o);
		free(enrolled[i]);
	}
	free(enrolled);
	store_buildlet_array_free(&b, n);
	return http_respond_json(h, 200, json_pack("{s:o}", "buildlets", arr));
}

static int get_build(struct http_conn *h, int64_t id)
{
	json_t *b = api_build_json(h->c, id);

	if (!b)
		return http_respond_error(h, 404, "not_found", "no build %lld",
					  (long long)id);
	return http_respond_json(h, 200, b);
}

/* The loaded config, where and when it came from, the last failed
 * reload. */
static json_t *config_json(struct coord *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "file", c->cfg.config_file
				       ? json_string(c->cfg.config_file) : json_null());
	json_object_set_new(o, "loaded_at", time_json(c->farm_loaded_ms));
	json_object_set_new(o, "config", c->farm ? json_incref(c->farm->root)
						 : json_null());
	json_object_set_new(o, "last_error", c->farm_error[0]
				       ? json_string(c->farm_error) : json_null());
	json_object_set_new(o, "last_error_at", time_json(c->farm_error_ms));
	return o;
}

static int reload(struct http_conn *h)
{
	struct config_error err;
	rc_t rc = coord_config_reload(h->c, &err);

	if (rc == RC_NOT_FOUND)
		return http_respond_error(h, 409, "no_config", "%s", err.msg);
	if (rc)
		return http_respond_error(h, 400, "bad_config", "%s (the old "
					  "config stays in force)", err.msg);
	return http_respond_json(h, 200, config_json(h->c));
}

int api_handle(struct http_conn *h, const struct route *r)
{
	switch (r->id) {
	case ROUTE_BUILDS:
		return strcmp(h->method, "POST") ? list_builds(h) : submit(h);
	case ROUTE_BUILD:
		return get_build(h, r->num);
	case ROUTE_BUILD_CANCEL:
		return cancel_build(h, r->num);
	case ROUTE_BUILD_RETRY:
		return retry_build(h, r->num);
	case ROUTE_JOB:
		return get_job(h, r->num);
	case ROUTE_JOB_LOG:
		return get_log(h, r->num);
	case ROUTE_JOB_ARTIFACTS:
		return job_artifacts(h, r->num, NULL);
	case ROUTE_JOB_ARTIFACT:
		return job_artifacts(h, r->num, r->name);
	case ROUTE_BUILDLETS:
		return list_buildlets(h);
	case ROUTE_BUILDLET_DRAIN:
	case ROUTE_BUILDLET_UNDRAIN:
		return drain_buildlet(h, r->name, r->id == ROUTE_BUILDLET_DRAIN);
	case ROUTE_PURGE:
		return purge(h);
	case ROUTE_CONFIG:
		return http_respond_json(h, 200, config_json(h->c));
	case ROUTE_RELOAD:
		return reload(h);
	case ROUTE_REPO_POLL:
		return hooks_repo_poll(h, r->num);
	case ROUTE_HOOK_GIT:
		return hooks_git(h);
	case ROUTE_REPOS:
		return commitapi_repos(h);
	case ROUTE_REPO_COMMITS:
		return commitapi_commits(h, r->num);
	case ROUTE_COMMIT_RETRY:
		return commitapi_retry(h, r->name);
	case ROUTE_BLOB:
		/* A PUT is begun by http.c as soon as its headers arrive. */
		if (!strcmp(h->method, "PUT"))
			break;
		return blobapi_get(h, r->name);
	default:
		break;
	}
	return http_respond_error(h, 404, "not_found", "no API route %s", h->path);
}
