/*
 * commitapi.c - the commit matrix over the API: watched repositories,
 * their commits newest first with one cell per builder, and retrying the
 * cells of a commit.
 *
 * A cell is the newest build of (commit, builder) and its one job, or
 * null while none was made. Retrying a cell never makes a second active
 * build of it: a failed one is retried in place (orch_retry_build, as
 * POST /builds/{id}/retry does), a missing one is built, a passed one is
 * built again without the cache (whoever retries a green cell wants it
 * run), and a queued or running one is left alone ("busy").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "internal.h"
#include "log.h"
#include "request.h"
#include "route.h"

#define COMMITS_DEFAULT 50
#define COMMITS_MAX 1000

static json_t *when(int64_t ms)
{
	char t[40];

	return ms ? json_string(clock_format_rfc3339(ms, t, sizeof t)) : json_null();
}

/* The builders a repository's commits get (a JSON array, new). */
static json_t *repo_builders(const struct store_repo *r)
{
	json_t *b = json_loads(r->builders, 0, NULL);

	if (json_is_array(b))
		return b;
	json_decref(b);
	return json_array();
}

static void on_head(void *ud, const char *branch, const char *hash)
{
	json_object_set_new(ud, branch, json_string(hash));
}

static json_t *repo_json(struct coord *c, const struct store_repo *r)
{
	json_t *heads = json_object();

	store_repo_heads(c->store, r->id, on_head, heads);
	return json_pack("{s:I,s:s,s:o,s:b,s:o,s:o,s:I,s:o}", "id",
			 (json_int_t)r->id, "url", r->url, "builders",
			 repo_builders(r), "watched", r->watched, "last_poll",
			 when(r->last_poll_ms), "last_error",
			 r->last_error[0] ? json_string(r->last_error) : json_null(),
			 "commits", (json_int_t)store_commit_count(c->store, r->id),
			 "heads", heads);
}

int commitapi_repos(struct http_conn *h)
{
	struct store_repo *r = NULL;
	size_t n = 0;
	json_t *arr;

	if (store_repo_list(h->c->store, &r, &n))
		return http_respond_error(h, 500, "store", "cannot list repositories");
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, repo_json(h->c, &r[i]));
	store_repo_array_free(&r, n);
	return http_respond_json(h, 200, json_pack("{s:o}", "repos", arr));
}

/* ---- commits and their cells ---- */

static json_t *cell_json(const struct store_cell *cell)
{
	const struct store_job *j = &cell->job;

	return json_pack("{s:I,s:I,s:s,s:i,s:s}", "build",
			 (json_int_t)cell->build_id, "job", (json_int_t)j->id,
			 "state", job_state_name(j->state), "exit_code",
			 j->exit_code, "error", j->error);
}

/* "a b" -> ["a", "b"] */
static json_t *parents_json(const char *s)
{
	json_t *arr = json_array();

	while (*s) {
		size_t n = strcspn(s, " ");

		if (n)
			json_array_append_new(arr, json_stringn(s, n));
		s += n + (s[n] == ' ');
	}
	return arr;
}

/* A commit with a null cell per builder, cells filled in later. */
static json_t *commit_json(const struct store_commit *m, json_t *builders)
{
	json_t *cells = json_object(), *b;
	size_t i;

	json_array_foreach(builders, i, b)
		json_object_set_new(cells, json_string_value(b), json_null());
	return json_pack("{s:I,s:s,s:o,s:s,s:o,s:s,s:s,s:o}", "id",
			 (json_int_t)m->id, "hash", m->hash, "parents",
			 parents_json(m->parents), "author", m->author, "time",
			 when(m->time_ms), "subject", m->subject, "branch",
			 m->branch, "cells", cells);
}

static int has_string(json_t *arr, const char *s)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e)
		if (!strcmp(json_string_value(e), s))
			return 1;
	return 0;
}

/*
 * Fill the cells of commits (ids lo..hi of repo, objects in out, newest
 * first). A builder that built one of them but is no longer listed gets
 * its column too: nothing built is hidden.
 */
static rc_t fill_cells(struct coord *c, int64_t repo, int64_t lo, int64_t hi,
		       json_t *commits, json_t *builders)
{
	struct store_cell *cells = NULL;
	size_t n = 0;
	rc_t rc = store_cells(c->store, repo, lo, hi, &cells, &n);

	for (size_t i = 0; !rc && i < n; i++) {
		json_t *m;
		size_t k;

		if (!has_string(builders, cells[i].builder))
			json_array_append_new(builders, json_string(cells[i].builder));
		json_array_foreach(commits, k, m)
			if (json_integer_value(json_object_get(m, "id")) ==
			    cells[i].commit_id)
				json_object_set_new(json_object_get(m, "cells"),
						    cells[i].builder,
						    cell_json(&cells[i]));
	}
	store_cell_array_free(&cells, n);
	return rc;
}

/* ?name=N: 1 to max (dflt when absent); -1 if malformed or out of range. */
static int64_t query_number(struct http_conn *h, const char *name,
			    int64_t dflt, int64_t max)
{
	char v[24];
	int r = http_query_arg(h, name, v, sizeof v);
	int64_t n;

	if (r == 0)
		return dflt;
	n = r == 1 ? route_parse_id(v, strlen(v)) : -1;
	return n >= 1 && n <= max ? n : -1;
}

int commitapi_commits(struct http_conn *h, int64_t id)
{
	int64_t limit = query_number(h, "limit", COMMITS_DEFAULT, COMMITS_MAX);
	int64_t before = query_number(h, "before", 0, INT64_MAX);
	struct store_commit *m = NULL;
	struct store_repo r;
	json_t *builders, *arr, *out = NULL;
	size_t n = 0, shown;
	rc_t rc;

	if (limit < 0)
		return http_respond_error(h, 400, "bad_limit", "limit must be a "
					  "number from 1 to %d", COMMITS_MAX);
	if (before < 0)
		return http_respond_error(h, 400, "bad_before", "before must be a "
					  "commit id (the next_before of a page)");
	if ((rc = store_repo_get(h->c->store, id, &r)))
		return rc == RC_NOT_FOUND
			       ? http_respond_error(h, 404, "not_found",
						    "no repository %lld", (long long)id)
			       : http_respond_error(h, 500, "store", "cannot read "
						    "repository %lld", (long long)id);
	/* One more than asked says whether there is a next page. */
	rc = store_commit_page_before(h->c->store, id, before, (int)limit + 1,
				      &m, &n);
	shown = n > (size_t)limit ? (size_t)limit : n;
	builders = repo_builders(&r);
	arr = json_array();
	for (size_t i = 0; !rc && i < shown; i++)
		json_array_append_new(arr, commit_json(&m[i], builders));
	if (!rc && shown)
		rc = fill_cells(h->c, id, m[shown - 1].id, m[0].id, arr, builders);
	if (!rc)
		out = json_pack("{s:o,s:o,s:o,s:o}", "repo", repo_json(h->c, &r),
				"builders", builders, "commits", arr, "next_before",
				n > shown ? json_integer(m[shown - 1].id) : json_null());
	else {
		json_decref(builders);
		json_decref(arr);
	}
	store_commit_array_free(&m, n);
	store_repo_clear(&r);
	if (!out)
		return http_respond_error(h, 500, "store", "cannot list commits");
	return http_respond_json(h, 200, out);
}

/* ---- retrying a commit's cells ---- */

/* What POST /commits/{name}/retry was asked. */
struct retry_ask {
	const char *builder;  /* one builder, or NULL: every builder of the repo */
	int64_t repo;         /* the repository, 0: whichever has the commit */
};

/* "repo": an id (number or digits) or a URL. Returns the id, or -1 with
 * the answer sent (*answered) if there is no such repository. */
static int64_t repo_of(struct http_conn *h, json_t *v, int *answered)
{
	struct store_repo *r = NULL;
	const char *s = json_string_value(v);
	int64_t id = json_is_integer(v) ? json_integer_value(v) : 0;
	size_t n = 0;

	if (s && strspn(s, "0123456789") == strlen(s))
		id = route_parse_id(s, strlen(s));
	if (s && !id && !store_repo_list(h->c->store, &r, &n))
		for (size_t i = 0; i < n && !id; i++)
			if (!strcmp(r[i].url, s))
				id = r[i].id;
	store_repo_array_free(&r, n);
	if (id > 0)
		return id;
	*answered = http_respond_error(h, 404, "not_found", "no repository "
				       "%.200s", s ? s : "with that id");
	return -1;
}

/* Parse the optional body {"builder": NAME, "repo": URL|ID}; on a bad one
 * the answer is sent (*answered) and -1 returned. *body is the caller's. */
static int retry_ask_parse(struct http_conn *h, json_t **body,
			   struct retry_ask *a, int *answered)
{
	const char *k;
	json_t *v;

	memset(a, 0, sizeof *a);
	*body = NULL;
	if (!h->body.len)
		return 0;
	*body = json_loadb((const char *)buf_data(&h->body), h->body.len,
			   JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(*body)) {
		*answered = http_respond_error(h, 400, "bad_json", "give a JSON object "
				   "{\"builder\": NAME, \"repo\": URL or id}, "
				   "both optional");
		return -1;
	}
	json_object_foreach(*body, k, v) {
		if (!strcmp(k, "builder") && json_is_string(v)) {
			a->builder = json_string_value(v);
		} else if (!strcmp(k, "repo") &&
			   (json_is_string(v) || json_is_integer(v))) {
			if ((a->repo = repo_of(h, v, answered)) < 0)
				return -1;
		} else {
			*answered = http_respond_error(h, 400, strcmp(k, "builder") &&
					   strcmp(k, "repo") ? "unknown_field"
					   : "bad_field", "\"%.64s\": give "
					   "\"builder\" (a name) and \"repo\" (a URL "
					   "or id), both optional", k);
			return -1;
		}
	}
	return 0;
}

/* A new build of builder at commit m of repository url, from exactly
 * that commit; no_cache when a passed cell is built again. */
static rc_t build_cell(struct coord *c, const char *url,
		       const struct store_commit *m, const char *builder,
		       int no_cache, int64_t *build, struct request_error *err)
{
	json_t *in, *spec = NULL;
	struct build_origin o = {.builder = builder, .commit_id = m->id};
	rc_t rc;

	if (!no_cache)
		/* explicit: before post-submit work */
		return builds_for_commit(c, url, m->hash, m->id, builder, 0, build,
					 err);
	in = json_pack("{s:s,s:{s:{s:s,s:s}},s:b}", "builder", builder, "source",
		       "git", "url", url, "ref", m->hash, "no_cache", 1);
	rc = builds_spec_of_builder(c, in, &spec, err);
	json_decref(in);
	if (!rc && !spec)
		rc = request_fail(err, "unknown_builder", "no builder %.64s", builder);
	if (!rc)
		rc = builds_create(c, spec, &o, build);
	json_decref(spec);
	return rc;
}

/* What the cell's newest build is doing: -1 none, 0 active, 1 has a
 * failed/error/cancelled job, 2 all passed. */
static int cell_state(struct coord *c, int64_t build)
{
	struct store_job *jobs = NULL;
	size_t n = 0;
	int active = 0, bad = 0;

	if (!build || store_job_list_build(c->store, build, &jobs, &n) || !n) {
		store_job_array_free(&jobs, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		active += !job_state_final(jobs[i].state);
		bad += jobs[i].state == JOB_FAILED || jobs[i].state == JOB_ERROR ||
		       jobs[i].state == JOB_CANCELLED;
	}
	store_job_array_free(&jobs, n);
	return active ? 0 : bad ? 1 : 2;
}

/* Retry one cell; its entry goes into out. RC_OK or why it failed. */
static rc_t retry_cell(struct coord *c, const struct store_repo *r,
		       const struct store_commit *m, const char *builder,
		       json_t *out, struct request_error *err)
{
	int64_t build = store_build_of_cell(c->store, m->id, builder);
	const char *action;
	rc_t rc = RC_OK;

	switch (cell_state(c, build)) {
	case 0:
		action = "busy";
		break;
	case 1:
		action = "retried";
		if (orch_retry_build(c, build) <= 0)
			rc = request_fail(err, "store", "cannot retry build %lld",
					  (long long)build);
		break;
	case 2:
		action = "rebuilt";
		rc = build_cell(c, r->url, m, builder, 1, &build, err);
		break;
	default:
		action = "built";
		rc = build_cell(c, r->url, m, builder, 0, &build, err);
		break;
	}
	if (!rc)
		json_array_append_new(out, json_pack("{s:s,s:I,s:s}", "builder",
						     builder, "build",
						     (json_int_t)build, "action",
						     action));
	return rc;
}

/* The commit {name} names (in a.repo if given); returns -1 with the
 * answer sent (*answered) if there is none or more than one. */
static int find_commit(struct http_conn *h, const char *name,
		       const struct retry_ask *a, struct store_commit *m,
		       int *answered)
{
	char hash[48];
	size_t len = strlen(name);
	rc_t rc;

	for (size_t i = 0; i < len && i < sizeof hash - 1; i++)
		hash[i] = (char)(name[i] >= 'A' && name[i] <= 'F' ? name[i] + 32
								  : name[i]);
	hash[len < sizeof hash - 1 ? len : sizeof hash - 1] = '\0';
	if (len < 7 || len > 40 || strspn(hash, "0123456789abcdef") != len) {
		*answered = http_respond_error(h, 400, "bad_commit", "\"%.64s\" is "
					       "not a commit hash or a prefix of "
					       "at least 7 hex digits", name);
		return -1;
	}
	rc = store_commit_find(h->c->store, a->repo, hash, m);
	if (rc == RC_INVALID)
		*answered = http_respond_error(h, 409, "ambiguous", "%s names more than one "
				   "commit%s: give more digits%s", hash,
				   a->repo ? "" : " (in one or more repositories)",
				   a->repo ? "" : ", or \"repo\"");
	else if (rc == RC_NOT_FOUND)
		*answered = http_respond_error(h, 404, "not_found", "no commit %s%s", hash,
				   a->repo ? " in that repository" : "");
	else if (rc)
		*answered = http_respond_error(h, 500, "store", "cannot look up "
					       "commit %s", hash);
	return rc ? -1 : 0;
}

/* The cells the request targets: its builder, or the repo's builders;
 * NULL with the answer sent (*answered) for an unknown builder. */
static json_t *targets(struct http_conn *h, const struct store_repo *r,
		       const struct retry_ask *a, int *answered)
{
	if (!a->builder)
		return repo_builders(r);
	if (!h->c->farm || !config_builder(h->c->farm, a->builder)) {
		*answered = http_respond_error(h, 404, "unknown_builder", "no "
					       "builder \"%.64s\" in the "
					       "coordinator's config", a->builder);
		return NULL;
	}
	return json_pack("[s]", a->builder);
}

static int all_busy(json_t *cells)
{
	json_t *e;
	size_t i;

	json_array_foreach(cells, i, e)
		if (strcmp(json_string_value(json_object_get(e, "action")), "busy"))
			return 0;
	return 1;
}

/* The answer: the commit with its cells as they are now (builders
 * borrowed), and what was done to each (done taken). */
static int retry_answer(struct http_conn *h, const struct store_commit *m,
			json_t *builders, json_t *done)
{
	json_t *arr = json_array(), *commit = commit_json(m, builders);

	json_array_append(arr, commit);
	if (fill_cells(h->c, m->repo_id, m->id, m->id, arr, builders)) {
		json_decref(arr);
		json_decref(commit);
		json_decref(done);
		return http_respond_error(h, 500, "store", "cannot read the cells");
	}
	json_decref(arr);
	if (all_busy(done)) {
		json_decref(commit);
		json_decref(done);
		return http_respond_error(h, 409, "nothing_to_retry", "every cell "
					  "of commit %.12s asked for is queued or "
					  "running", m->hash);
	}
	return http_respond_json(h, 200, json_pack("{s:o,s:o}", "commit", commit,
						  "cells", done));
}

int commitapi_retry(struct http_conn *h, const char *name)
{
	struct store_commit m = {0};
	struct store_repo r = {0};
	struct request_error err;
	struct retry_ask a;
	json_t *body, *list = NULL, *done = json_array(), *b;
	int answered = -1;
	size_t i;
	rc_t rc = RC_OK;

	if (retry_ask_parse(h, &body, &a, &answered) ||
	    find_commit(h, name, &a, &m, &answered))
		goto out;
	if (store_repo_get(h->c->store, m.repo_id, &r)) {
		answered = http_respond_error(h, 500, "store", "cannot read the "
					      "commit's repository");
		goto out;
	}
	if (!(list = targets(h, &r, &a, &answered)))
		goto out;
	json_array_foreach(list, i, b)
		if (!rc)
			rc = retry_cell(h->c, &r, &m, json_string_value(b), done, &err);
	if (!rc)
		rc = store_flush(h->c->store) ? RC_IO : RC_OK;
	if (rc)
		answered = http_respond_error(h, rc == RC_INVALID ? 400 : 500,
					      rc == RC_INVALID ? err.code : "store",
					      "%s", rc == RC_INVALID ? err.message
					      : "cannot store the retry");
	else
		answered = retry_answer(h, &m, list, json_incref(done));
	log_info("commit %.12s: retry asked%s%s", m.hash, a.builder ? " for " : "",
		 a.builder ? a.builder : "");
out:
	json_decref(list);
	json_decref(done);
	json_decref(body);
	store_commit_clear(&m);
	store_repo_clear(&r);
	return answered;
}
