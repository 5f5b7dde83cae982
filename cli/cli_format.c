/*
 * cli_format.c - the API's JSON answers as text for people: build status,
 * the --wait summary, the build list and the buildlet table.
 *
 * Pure functions from a json_t to a new string, so the exact output is
 * pinned by unit tests. Missing fields print as "-" rather than failing:
 * a newer server may leave out what an older one sent, and the user still
 * wants to see the rest. Tables pad columns with two spaces and never end
 * a line with blanks.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Rows of text cells, laid out in columns once all are known. */
struct table {
	size_t ncols;  /* cells per row */
	size_t nrows;  /* rows added so far */
	char **cells;  /* nrows * ncols owned strings, row by row */
};

static void table_row(struct table *t, const char *const *cells)
{
	size_t i, base = t->nrows * t->ncols;

	t->cells = xrealloc(t->cells, (base + t->ncols) * sizeof *t->cells);
	for (i = 0; i < t->ncols; i++)
		t->cells[base + i] = xstrdup(cells[i] ? cells[i] : "");
	t->nrows++;
}

static void table_render(struct table *t, struct buf *out)
{
	size_t *width = xcalloc(t->ncols, sizeof *width);
	size_t r, i;

	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++) {
			size_t n = strlen(t->cells[r * t->ncols + i]);

			if (n > width[i])
				width[i] = n;
		}
	for (r = 0; r < t->nrows; r++) {
		char **row = t->cells + r * t->ncols;
		size_t last = 0;

		for (i = 0; i < t->ncols; i++)
			if (row[i][0])
				last = i;
		for (i = 0; i < last; i++)
			buf_printf(out, "%-*s  ", (int)width[i], row[i]);
		buf_puts(out, row[last]);
		buf_putc(out, '\n');
	}
	free(width);
}

static void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

/* The finished text, handed over to the caller. */
static char *buf_take(struct buf *b)
{
	char *s = xstrdup(buf_cstr(b));

	buf_free(b);
	return s;
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static const char *jstr_or_dash(const json_t *o, const char *key)
{
	const char *s = jstr(o, key);

	return *s ? s : "-";
}

/* The integer at key, or "-" when there is none. */
static const char *jint_text(const json_t *o, const char *key, char *out,
			     size_t n)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return "-";
	snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return out;
}

static json_int_t jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* "exit 2", "signal 9", or "" when the job has not exited. */
static const char *job_exit_text(const json_t *job, char *out, size_t n)
{
	const char *st = jstr(job, "state");

	out[0] = '\0';
	if (strcmp(st, "passed") && strcmp(st, "failed") &&
	    strcmp(st, "cancelled"))
		return out;
	if (jint(job, "signal") > 0)
		snprintf(out, n, "signal %" JSON_INTEGER_FORMAT,
			 jint(job, "signal"));
	else if (json_is_integer(json_object_get(job, "exit_code")))
		snprintf(out, n, "exit %" JSON_INTEGER_FORMAT,
			 jint(job, "exit_code"));
	return out;
}

/* "42ms", "1.2s", "3m04s", "2h05m"; "-" until the job is final. */
static const char *duration_text(const json_t *job, char *out, size_t n)
{
	json_t *v = json_object_get(job, "duration_ms");
	json_int_t ms = json_integer_value(v);

	if (!json_is_integer(v) || ms < 0 ||
	    !cli_job_state_final(jstr(job, "state")))
		snprintf(out, n, "-");
	else if (ms < 1000)
		snprintf(out, n, "%dms", (int)ms);
	else if (ms < 60000)
		snprintf(out, n, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(out, n, "%dm%02ds", (int)(ms / 60000),
			 (int)(ms / 1000 % 60));
	else
		snprintf(out, n, "%dh%02dm", (int)(ms / 3600000),
			 (int)(ms / 60000 % 60));
	return out;
}

/* Error, reason and cache hit, joined with "; ". */
static void job_note(const json_t *job, struct buf *b)
{
	const char *parts[] = {jstr(job, "error"), jstr(job, "reason"),
			       json_is_true(json_object_get(job, "cached")) ?
			       "from cache" : ""};
	size_t i;

	for (i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (*parts[i])
			buf_printf(b, "%s%s", b->len ? "; " : "", parts[i]);
}

static void job_row(struct table *t, const json_t *job)
{
	char id[32], exit_text[48], dur[32];
	const char *ex = job_exit_text(job, exit_text, sizeof exit_text);
	struct buf note;

	buf_init(&note, 0, 0);
	job_note(job, &note);
	/* In the table the word is implied by the column title. */
	if (!strncmp(ex, "exit ", 5))
		ex += 5;
	table_row(t, (const char *const[]){
		jint_text(job, "id", id, sizeof id), jstr_or_dash(job, "platform"),
		jstr_or_dash(job, "state"), *ex ? ex : "-",
		duration_text(job, dur, sizeof dur),
		jstr_or_dash(job, "buildlet"), buf_cstr(&note)});
	buf_free(&note);
}

char *cli_format_build(const json_t *build)
{
	struct table t = {.ncols = 7};
	json_t *jobs = json_object_get(build, "jobs"), *job;
	struct buf out;
	char id[32];
	size_t i;

	buf_init(&out, 0, 0);
	buf_printf(&out, "build %s: %s", jint_text(build, "id", id, sizeof id),
		   jstr_or_dash(build, "state"));
	if (*jstr(build, "created"))
		buf_printf(&out, ", created %s", jstr(build, "created"));
	buf_putc(&out, '\n');
	table_row(&t, (const char *const[]){"JOB", "PLATFORM", "STATE", "EXIT",
		  "DURATION", "BUILDLET", "NOTE"});
	json_array_foreach(jobs, i, job)
		job_row(&t, job);
	table_render(&t, &out);
	table_free(&t);
	return buf_take(&out);
}

char *cli_format_wait(const json_t *build)
{
	json_t *jobs = json_object_get(build, "jobs"), *job;
	struct buf out;
	size_t i;

	buf_init(&out, 0, 0);
	json_array_foreach(jobs, i, job) {
		char id[32], ex[48];
		const char *st = jstr_or_dash(job, "state");

		buf_printf(&out, "job %s %s %s",
			   jint_text(job, "id", id, sizeof id),
			   jstr_or_dash(job, "platform"), st);
		if (!strcmp(st, "error") && *jstr(job, "error"))
			buf_printf(&out, ": %s", jstr(job, "error"));
		else if (*job_exit_text(job, ex, sizeof ex))
			buf_printf(&out, " %s", ex);
		if (json_is_true(json_object_get(job, "cached")))
			buf_puts(&out, " (from cache)");
		buf_putc(&out, '\n');
	}
	return buf_take(&out);
}

/* "linux/amd64:passed linux/arm64:running". */
static void build_jobs_summary(const json_t *build, struct buf *b)
{
	json_t *jobs = json_object_get(build, "jobs"), *job;
	size_t i;

	json_array_foreach(jobs, i, job)
		buf_printf(b, "%s%s:%s", i ? " " : "",
			   jstr_or_dash(job, "platform"),
			   jstr_or_dash(job, "state"));
}

char *cli_format_build_list(const json_t *list)
{
	struct table t = {.ncols = 4};
	json_t *builds = json_object_get(list, "builds"), *b;
	struct buf out;
	size_t i;

	buf_init(&out, 0, 0);
	if (json_array_size(builds) == 0) {
		buf_puts(&out, "no builds\n");
		return buf_take(&out);
	}
	table_row(&t, (const char *const[]){"BUILD", "STATE", "CREATED",
		  "JOBS"});
	json_array_foreach(builds, i, b) {
		char id[32];
		struct buf jobs;

		buf_init(&jobs, 0, 0);
		build_jobs_summary(b, &jobs);
		table_row(&t, (const char *const[]){
			jint_text(b, "id", id, sizeof id), jstr_or_dash(b, "state"),
			jstr_or_dash(b, "created"), buf_cstr(&jobs)});
		buf_free(&jobs);
	}
	table_render(&t, &out);
	table_free(&t);
	return buf_take(&out);
}

/* The strings of a JSON array joined with ",", or "-" when empty. */
static void join_strings(const json_t *arr, struct buf *b)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		buf_printf(b, "%s%s", i ? "," : "",
			   json_is_string(v) ? json_string_value(v) : "?");
	if (b->len == 0)
		buf_putc(b, '-');
}

/* "enrolled", "revoked", "expired", "key", "open" or "-". */
static const char *credential_text(const json_t *bl)
{
	if (json_is_true(json_object_get(bl, "revoked")))
		return "revoked";
	if (json_is_true(json_object_get(bl, "expired")))
		return "expired";
	return jstr_or_dash(bl, "credential");
}

static void buildlet_row(struct table *t, const json_t *bl)
{
	char busy[64], run[32], cap[32];
	struct buf plats, labels;

	buf_init(&plats, 0, 0);
	buf_init(&labels, 0, 0);
	join_strings(json_object_get(bl, "platforms"), &plats);
	join_strings(json_object_get(bl, "labels"), &labels);
	snprintf(busy, sizeof busy, "%s/%s",
		 jint_text(bl, "running", run, sizeof run),
		 jint_text(bl, "capacity", cap, sizeof cap));
	table_row(t, (const char *const[]){
		jstr_or_dash(bl, "name"), jstr_or_dash(bl, "host_type"),
		buf_cstr(&plats), busy,
		json_is_true(json_object_get(bl, "connected"))
			? (json_is_true(json_object_get(bl, "drained")) ? "drained" : "yes")
			: "no",
		credential_text(bl), jstr_or_dash(bl, "version"),
		jstr_or_dash(bl, "last_seen"), buf_cstr(&labels)});
	buf_free(&plats);
	buf_free(&labels);
}

char *cli_format_buildlets(const json_t *list)
{
	struct table t = {.ncols = 9};
	json_t *bls = json_object_get(list, "buildlets"), *bl;
	struct buf out;
	size_t i;

	buf_init(&out, 0, 0);
	if (json_array_size(bls) == 0) {
		buf_puts(&out, "no buildlets\n");
		return buf_take(&out);
	}
	table_row(&t, (const char *const[]){"NAME", "HOST-TYPE", "PLATFORMS",
		  "BUSY", "CONNECTED", "CREDENTIAL", "VERSION", "LAST-SEEN",
		  "LABELS"});
	json_array_foreach(bls, i, bl)
		buildlet_row(&t, bl);
	table_render(&t, &out);
	table_free(&t);
	return buf_take(&out);
}
