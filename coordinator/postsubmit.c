/*
 * postsubmit.c - watched repositories on the event loop: the config's
 * repos go to the store and to the watcher thread (watch.c); its reports
 * become commits in the store and one build per (new commit, builder).
 *
 * A commit is recorded once; a cell gets a build only if it has none, so
 * a report that repeats an earlier one (the thread's idea of the heads is
 * a hint) adds nothing. A branch's head is recorded after its commits and
 * builds, in the same loop turn: a crash in between makes the next start
 * poll the same range again, and the cells it missed are filled then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "fsutil.h"
#include "internal.h"
#include "log.h"
#include "request.h"
#include "watch.h"
#include "xalloc.h"

#define POLL_DEFAULT_MS 60000

/* Everything one config repo needs while the watcher is told of it. */
struct repo_entry {
	struct watch_repo w;
	char *mirror;
	const char **branches;
	struct gitpoll_head *known;
	size_t n_known, cap_known;
};

static void add_known(void *ud, const char *branch, const char *hash)
{
	struct repo_entry *e = ud;
	struct gitpoll_head *h;

	if (!branch || !hash || strlen(branch) >= GITPOLL_BRANCH_MAX)
		return;
	h = xarray_push(&e->known, &e->n_known, &e->cap_known, sizeof *h);
	snprintf(h->branch, sizeof h->branch, "%s", branch);
	snprintf(h->hash, sizeof h->hash, "%s", hash);
}

/* The builders a repo's commits get: its list, or every builder. */
static char *repo_builders(const struct config *farm, json_t *r)
{
	json_t *list = json_object_get(r, "builders"), *all, *b;
	char *text;
	size_t i;

	if (list)
		return json_dumps(list, JSON_COMPACT);
	all = json_array();
	json_array_foreach(config_builders(farm), i, b)
		json_array_append(all, json_object_get(b, "name"));
	text = json_dumps(all, JSON_COMPACT);
	json_decref(all);
	return text;
}

static int64_t repo_poll_ms(json_t *r)
{
	json_t *p = json_object_get(r, "poll");

	if (json_is_integer(p))
		return json_integer_value(p) * 1000;
	if (json_is_string(p))
		return clock_parse_duration_ms(json_string_value(p));
	return POLL_DEFAULT_MS;
}

static rc_t entry_fill(struct coord *c, json_t *r, struct repo_entry *e)
{
	const char *url = json_string_value(json_object_get(r, "url"));
	json_t *branches = json_object_get(r, "branches"), *b;
	char *builders = repo_builders(c->farm, r), hash[SHA256_HEX_LEN + 1];
	rc_t rc;
	size_t i;

	memset(e, 0, sizeof *e);
	rc = store_repo_sync(c->store, url, builders, &e->w.id);
	free(builders);
	if (rc)
		return rc;
	store_repo_heads(c->store, e->w.id, add_known, e);
	sha256_hex(url, strlen(url), hash);
	e->mirror = xasprintf("%s/mirrors/%.16s.git", c->data_dir, hash);
	e->branches = xcalloc(json_array_size(branches) + 1, sizeof *e->branches);
	json_array_foreach(branches, i, b)
		e->branches[i] = json_string_value(b);
	e->w = (struct watch_repo){
		.id = e->w.id, .url = url, .mirror = e->mirror,
		.branches = e->branches, .n_branches = json_array_size(branches),
		.poll_ms = repo_poll_ms(r), .known = e->known,
		.n_known = e->n_known,
	};
	return RC_OK;
}

static void entries_free(struct repo_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].mirror);
		free(v[i].branches);
		free(v[i].known);
	}
	free(v);
}

void postsubmit_sync(struct coord *c)
{
	json_t *repos = c->farm ? config_repos(c->farm) : NULL, *r;
	size_t n = json_array_size(repos), k = 0, i;
	struct repo_entry *v = xcalloc(n + 1, sizeof *v);
	struct watch_repo *w = xcalloc(n + 1, sizeof *w);
	char *mirrors = xasprintf("%s/mirrors", c->data_dir);
	struct errbuf eb = {""};

	if (n && fs_mkdirs(mirrors, 0700, &eb))
		log_error("commit watcher: %s", eb.msg);
	if (store_repo_unwatch_all(c->store))
		log_error("commit watcher: cannot update the repositories");
	json_array_foreach(repos, i, r)
		if (!entry_fill(c, r, &v[k]))
			w[k] = v[k].w, k++;
	if (store_flush(c->store))
		log_error("commit watcher: cannot store the repositories");
	if (k && !c->watch)
		c->watch = watch_new(c->ctx);
	if (c->watch)
		watch_set_repos(c->watch, w, k);
	for (i = 0; i < k; i++)
		dash_mark_repo(c, w[i].id);
	entries_free(v, k);
	free(w);
	free(mirrors);
}

void postsubmit_stop(struct coord *c)
{
	watch_free(&c->watch);
}

size_t postsubmit_kick(struct coord *c, int64_t repo)
{
	return c->watch ? watch_kick(c->watch, repo) : 0;
}

size_t postsubmit_kick_url(struct coord *c, const char *url)
{
	struct store_repo *v = NULL;
	size_t n = 0, kicked = 0;

	if (store_repo_list(c->store, &v, &n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].watched && !strcmp(v[i].url, url))
			kicked += postsubmit_kick(c, v[i].id);
	store_repo_array_free(&v, n);
	return kicked;
}

/* ---- reports ---- */

/* The cells of a commit that have no build yet get one. */
static void build_cells(struct coord *c, const struct store_repo *r,
			const char *hash, int64_t commit)
{
	json_t *builders = json_loads(r->builders, 0, NULL), *b;
	size_t i;

	json_array_foreach(builders, i, b) {
		const char *name = json_string_value(b);
		struct request_error err;
		int64_t build;

		if (!name || store_build_of_cell(c->store, commit, name))
			continue;
		if (builds_for_commit(c, r->url, hash, commit, name, 1, &build,
				      &err))
			log_error("%s %.12s: no build of %s: %s", r->url, hash,
				  name, err.message);
	}
	json_decref(builders);
}

static rc_t record_commit(struct coord *c, const struct store_repo *r,
			  const char *branch, const struct gitpoll_commit *g)
{
	struct store_commit sc = {
		.repo_id = r->id, .hash = (char *)g->hash,
		.parents = g->parents, .author = g->author,
		.time_ms = g->time_ms, .subject = g->subject,
		.branch = (char *)branch, .seen_ms = clock_wall_ms(),
	};
	int64_t id;
	int is_new;
	rc_t rc = store_commit_add(c->store, &sc, &id, &is_new);

	if (rc)
		return rc;
	if (is_new)
		log_info("%s %s: new commit %.12s %.60s", r->url, branch, g->hash,
			 g->subject);
	build_cells(c, r, g->hash, id);
	return RC_OK;
}

static rc_t record_branch(struct coord *c, const struct store_repo *r,
			  const struct watch_branch *b)
{
	rc_t rc = RC_OK;

	for (size_t i = 0; i < b->n && !rc; i++)
		rc = record_commit(c, r, b->head.branch, &b->commits[i]);
	if (!rc && b->skipped)
		log_warn("%s %s: %zu older new commit(s) not built (at most %d "
			 "a poll)", r->url, b->head.branch, b->skipped,
			 GITPOLL_MAX_NEW);
	if (!rc)
		rc = store_repo_set_head(c->store, r->id, b->head.branch,
					 b->head.hash);
	return rc;
}

static void on_report(void *ud, const struct watch_event *e)
{
	struct coord *c = ud;
	struct store_repo r;
	rc_t rc = RC_OK;

	if (store_repo_get(c->store, e->repo, &r))
		return;
	if (e->error && strcmp(e->error, r.last_error))
		log_error("polling %s: %s", r.url, e->error);
	else if (!e->error && r.last_error[0])
		log_info("polling %s works again", r.url);
	for (size_t i = 0; !e->error && i < e->n && !rc; i++)
		rc = record_branch(c, &r, &e->branches[i]);
	if (!rc)
		rc = store_repo_polled(c->store, r.id, clock_wall_ms(),
				       e->error ? e->error : "");
	if (rc || store_flush(c->store))
		log_error("%s: the poll's commits could not be stored", r.url);
	dash_mark_repo(c, r.id);
	store_repo_clear(&r);
}

void postsubmit_drain(struct coord *c)
{
	if (c->watch)
		watch_drain(c->watch, on_report, c);
}
