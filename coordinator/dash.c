/*
 * dash.c - hands the dashboard a snapshot of the store.
 *
 * The dashboard module never sees the database; this file copies the
 * newest builds into plain structs (borrowing strings from the rows it
 * holds) and asks for the pages to be written. Called from the tick at
 * most every 500 ms while results change.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dashboard.h"
#include "internal.h"
#include "log.h"
#include "xalloc.h"

#define DASH_BUILDS 100

struct snap_build {
	struct store_build b;   /* the row */
	struct store_job *jobs; /* its jobs */
	size_t n_jobs;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Columns: every platform that appears, sorted, each once. */
static size_t collect_platforms(struct snap_build *sb, size_t n,
				const char ***out)
{
	size_t total = 0, k = 0;
	const char **v;

	for (size_t i = 0; i < n; i++)
		total += sb[i].n_jobs;
	v = xcalloc(total + 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sb[i].n_jobs; j++)
			v[k++] = sb[i].jobs[j].platform;
	qsort(v, k, sizeof *v, cmp_str);
	total = 0;
	for (size_t i = 0; i < k; i++)
		if (!total || strcmp(v[total - 1], v[i]))
			v[total++] = v[i];
	*out = v;
	return total;
}

static void fill_build(struct dash_build *db, struct snap_build *sb)
{
	json_t *spec = json_loads(sb->b.spec, 0, NULL), *cmd;
	struct buf line;

	buf_init(&line, 0, 0);
	if ((cmd = json_object_get(spec, "script")))
		buf_puts(&line, json_string_value(cmd));
	for (size_t i = 0; i < json_array_size(json_object_get(spec, "command")); i++)
		buf_printf(&line, "%s%s", i ? " " : "",
			   json_string_value(json_array_get(
				   json_object_get(spec, "command"), i)));
	json_decref(spec);
	db->id = sb->b.id;
	db->created_ms = sb->b.created_ms;
	db->command = xstrdup(buf_cstr(&line));
	buf_free(&line);
	db->n_jobs = sb->n_jobs;
	db->jobs = xcalloc(sb->n_jobs + 1, sizeof *db->jobs);
	for (size_t j = 0; j < sb->n_jobs; j++) {
		struct store_job *sj = &sb->jobs[j];

		db->jobs[j] = (struct dash_job){sj->id, sj->platform,
						job_state_name(sj->state),
						sj->exit_code, sj->duration_ms,
						sj->error};
	}
}

void dash_render(struct coord *c)
{
	struct dash_snapshot snap = {0};
	struct snap_build *sb;
	int64_t *ids = NULL;
	size_t n = 0, got = 0;
	struct errbuf eb = {""};
	struct list *l;
	const char **plats = NULL;

	c->dash_dirty = 0;
	c->dash_rendered_ms = clock_mono_ms();
	store_build_list(c->store, NULL, NULL, DASH_BUILDS, 0, &ids, &n);
	sb = xcalloc(n + 1, sizeof *sb);
	for (size_t i = 0; i < n; i++) {
		if (store_build_get(c->store, ids[i], &sb[got].b))
			continue;
		store_job_list_build(c->store, ids[i], &sb[got].jobs, &sb[got].n_jobs);
		got++;
	}
	snap.builds = xcalloc(got + 1, sizeof *snap.builds);
	for (size_t i = 0; i < got; i++)
		fill_build(&snap.builds[i], &sb[i]);
	snap.n_builds = got;
	snap.n_platforms = collect_platforms(sb, got, &plats);
	snap.platforms = plats;
	list_for_each(l, &c->sessions)
		snap.buildlets_connected++;
	snap.jobs_queued = (int)store_job_count_state(c->store, JOB_QUEUED);
	snap.now_ms = clock_wall_ms();
	if (dashboard_write(&snap, c->dash_dir, &eb))
		log_warn("dashboard not written: %s", eb.msg);
	for (size_t i = 0; i < got; i++) {
		free((char *)snap.builds[i].command);
		free(snap.builds[i].jobs);
		store_job_array_free(&sb[i].jobs, sb[i].n_jobs);
		store_build_clear(&sb[i].b);
	}
	free(snap.builds);
	free(plats);
	free(sb);
	free(ids);
}
