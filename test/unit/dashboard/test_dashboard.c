/*
 * test_dashboard.c - unit tests for dashboard/: escaping, the index page
 * (states, links, empty cells, refresh, hostile strings) and writing it.
 *
 * Snapshots are built on the stack from small tables; pages are checked by
 * looking for the exact fragments a browser would act on (hrefs, class
 * names, escaped text) and for the absence of anything raw.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "dashboard.h"
#include "fsutil.h"
#include "html.h"
#include "xalloc.h"

#define NOW_MS INT64_C(1795341600000) /* 2026-11-22T10:00:00Z */

/* ---- helpers ---------------------------------------------------------- */

/*
 * Occurrences of needle in hay. memmem with explicit lengths, not strstr:
 * ASan's strstr interceptor may re-measure the whole haystack on every
 * call, which makes counting in a 20 MB page quadratic.
 */
static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0, len = strlen(needle);
	const char *end = hay + strlen(hay), *p = hay;

	while ((p = memmem(p, (size_t)(end - p), needle, len))) {
		n++;
		p += len;
	}
	return n;
}

/* A job with the fields a test does not care about filled sensibly. */
static struct dash_job job_make(int64_t id, const char *platform,
				const char *state)
{
	struct dash_job j = {
		.id = id,
		.platform = platform,
		.state = state,
		.exit_code = -1,
		.duration_ms = 0,
		.error = "",
	};

	return j;
}

static struct dash_snapshot snap_one_build(struct dash_build *b,
					   const char *const *platforms,
					   size_t n_platforms)
{
	struct dash_snapshot s = {
		.builds = b,
		.n_builds = 1,
		.platforms = platforms,
		.n_platforms = n_platforms,
		.buildlets_connected = 1,
		.jobs_queued = 0,
		.now_ms = NOW_MS,
	};

	return s;
}

/* Render s; the caller frees the returned string. */
static char *render(const struct dash_snapshot *s)
{
	struct buf b;
	char *page;

	buf_init(&b, 0, 0);
	assert_int_equal(dashboard_render_index(s, &b), RC_OK);
	page = xstrdup(buf_cstr(&b));
	assert_int_equal(strlen(page), b.len);
	buf_free(&b);
	return page;
}

static char *escape(const char *s)
{
	struct buf b;
	char *r;

	buf_init(&b, 0, 0);
	html_escape(&b, s);
	r = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return r;
}

/* ---- escaping --------------------------------------------------------- */

static void test_escape_table(void **state)
{
	static const struct {
		const char *in;  /* raw text */
		const char *out; /* expected escaped text */
	} cases[] = {
		{ "", "" },
		{ "plain text", "plain text" },
		{ "&", "&amp;" },
		{ "<", "&lt;" },
		{ ">", "&gt;" },
		{ "\"", "&quot;" },
		{ "'", "&#39;" },
		{ "a<b&c>d", "a&lt;b&amp;c&gt;d" },
		{ "&amp;", "&amp;amp;" },
		{ "<script>alert(1)</script>",
		  "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "x\" onmouseover='y'", "x&quot; onmouseover=&#39;y&#39;" },
		{ "caf\xC3\xA9 \xE2\x9C\x93", "caf\xC3\xA9 \xE2\x9C\x93" },
		{ "tab\tnl\ncr\r", "tab\tnl\ncr\r" },
		{ "bell\x07" "del\x7f", "bell\xEF\xBF\xBD" "del\xEF\xBF\xBD" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = escape(cases[i].in);

		assert_string_equal(got, cases[i].out);
		free(got);
	}
}

static void test_escape_null_and_sticky_error(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0, 0);
	html_escape(&b, NULL);
	assert_int_equal(b.len, 0);
	buf_free(&b);

	/* A capped buffer keeps its first error; escaping never overruns. */
	buf_init(&b, 0, 8);
	html_escape(&b, "<<<<<<<<");
	assert_int_equal(b.err, RC_TOO_LARGE);
	assert_true(b.len <= 8);
	buf_free(&b);
}

static void test_utf8_prefix(void **state)
{
	static const struct {
		const char *in;  /* text */
		size_t max;      /* characters allowed */
		size_t bytes;    /* expected prefix length in bytes */
	} cases[] = {
		{ "", 5, 0 },
		{ "abc", 5, 3 },
		{ "abcdef", 3, 3 },
		{ "abc", 0, 0 },
		{ "\xC3\xA9\xC3\xA9\xC3\xA9", 2, 4 },      /* é é é */
		{ "a\xE2\x9C\x93" "b", 2, 4 },             /* a ✓ b */
		{ "\xF0\x9F\x90\x91x", 1, 4 },             /* 🐑 x */
		{ "\xF0\x9F\x90\x91", 1, 4 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(html_utf8_prefix(cases[i].in, cases[i].max),
				 cases[i].bytes);
}

static void test_escape_trunc(void **state)
{
	char cmd[2 * 100 + 1];
	struct buf b;
	const char *got;

	(void)state;
	for (int i = 0; i < 100; i++)
		memcpy(cmd + 2 * i, "\xC3\xA9", 2);
	cmd[200] = '\0';
	buf_init(&b, 0, 0);
	html_escape_trunc(&b, cmd, 80);
	got = buf_cstr(&b);
	assert_int_equal(b.len, 160 + 3); /* 80 two-byte chars, then "…" */
	assert_memory_equal(got, cmd, 160);
	assert_string_equal(got + 160, "\xE2\x80\xA6");

	buf_reset(&b);
	html_escape_trunc(&b, "short & sweet", 80);
	assert_string_equal(buf_cstr(&b), "short &amp; sweet");
	buf_free(&b);
}

static void test_duration(void **state)
{
	static const struct {
		int64_t ms;       /* duration */
		const char *text; /* expected display */
	} cases[] = {
		{ 0, "0ms" },          { 340, "340ms" },
		{ 999, "999ms" },      { 1000, "1.0s" },
		{ 1234, "1.2s" },      { 59999, "59.9s" },
		{ 60000, "1m00s" },    { 125000, "2m05s" },
		{ 3599999, "59m59s" }, { 3723000, "1h02m" },
		{ -5, "0ms" },
	};
	struct buf b;

	(void)state;
	buf_init(&b, 0, 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf_reset(&b);
		html_duration(&b, cases[i].ms);
		assert_string_equal(buf_cstr(&b), cases[i].text);
	}
	buf_free(&b);
}

/* ---- the index page --------------------------------------------------- */

static void test_page_skeleton_and_header(void **state)
{
	static const char *const platforms[] = { "linux/amd64" };
	struct dash_job jobs[] = { job_make(1, "linux/amd64", "passed") };
	struct dash_build build = { 5, NOW_MS - 60000, "make", jobs, 1 };
	struct dash_snapshot s = snap_one_build(&build, platforms, 1);
	char *page;

	(void)state;
	s.buildlets_connected = 3;
	s.jobs_queued = 1;
	page = render(&s);
	assert_true(!strncmp(page, "<!DOCTYPE html>\n", 16));
	assert_non_null(strstr(page, "<html lang=\"en\">"));
	assert_non_null(strstr(page, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(page, "<meta name=\"viewport\""));
	assert_non_null(strstr(page, "<title>rfarm</title>"));
	assert_non_null(strstr(page, "<style>"));
	assert_non_null(strstr(page, "<h1>rfarm</h1>"));
	assert_non_null(strstr(page, "3 buildlets connected"));
	assert_non_null(strstr(page, "1 job queued"));
	assert_non_null(strstr(page,
		"rendered <time datetime=\"2026-11-22T10:00:00Z\">"));
	assert_non_null(strstr(page,
		"<time datetime=\"2026-11-22T09:59:00Z\">"));
	assert_null(strstr(page, "<script"));
	assert_null(strstr(page, "http://"));
	assert_null(strstr(page, "https://"));
	assert_true(strlen(page) > 7 &&
		    !strcmp(page + strlen(page) - 8, "</html>\n"));
	free(page);
}

static void test_empty_snapshot(void **state)
{
	struct dash_snapshot s = { .now_ms = NOW_MS };
	char *page;

	(void)state;
	page = render(&s);
	assert_non_null(strstr(page, "No builds yet"));
	assert_non_null(strstr(page,
		"rfarm submit --platform linux/amd64 -- echo hello"));
	assert_non_null(strstr(page, "0 buildlets connected"));
	assert_non_null(strstr(page, "0 jobs queued"));
	assert_null(strstr(page, "<table"));
	assert_null(strstr(page, "http-equiv=\"refresh\""));
	free(page);
}

static void test_each_state(void **state)
{
	static const char *const platforms[] = { "linux/amd64" };
	static const struct {
		const char *state;  /* job state */
		int exit_code;      /* job exit status */
		int64_t ms;         /* job duration */
		const char *error;  /* job error text */
		const char *cls;    /* expected class fragment */
		const char *sym;    /* expected symbol */
		const char *title;  /* expected hover text */
		int refresh;        /* expect the refresh meta */
	} cases[] = {
		{ "passed", 0, 1234, "", "job st-passed", "\xE2\x9C\x93",
		  "job 7: passed in 1.2s, exit 0", 0 },
		{ "failed", 2, 65000, "", "job st-failed", "\xE2\x9C\x97",
		  "job 7: failed in 1m05s, exit 2", 0 },
		{ "error", -1, 0, "buildlet lost", "job st-error", ">!<",
		  "job 7: error: buildlet lost", 0 },
		{ "running", -1, 0, "", "job st-running", "\xE2\x97\x8F",
		  "job 7: running\"", 1 },
		{ "dispatched", -1, 0, "", "job st-dispatched", "\xE2\x97\x90",
		  "job 7: dispatched\"", 1 },
		{ "queued", -1, 0, "", "job st-queued", "\xE2\x97\x8B",
		  "job 7: queued\"", 1 },
		{ "cancelled", -1, 0, "", "job st-cancelled", "\xE2\x8A\x98",
		  "job 7: cancelled\"", 0 },
		{ "exploded", -1, 0, "", "job st-unknown", ">?<",
		  "job 7: exploded\"", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dash_job j = job_make(7, "linux/amd64", cases[i].state);
		struct dash_build b = { 1, NOW_MS, "true", &j, 1 };
		struct dash_snapshot s = snap_one_build(&b, platforms, 1);
		char *page;

		j.exit_code = cases[i].exit_code;
		j.duration_ms = cases[i].ms;
		j.error = cases[i].error;
		page = render(&s);
		assert_non_null(strstr(page, cases[i].cls));
		assert_non_null(strstr(page, cases[i].sym));
		if (!strstr(page, cases[i].title))
			fail_msg("state %s: no title '%s'", cases[i].state,
				 cases[i].title);
		assert_int_equal(!!strstr(page, "http-equiv=\"refresh\" "
						"content=\"10\""),
				 cases[i].refresh);
		free(page);
	}
}

static void test_refresh_when_jobs_queued_elsewhere(void **state)
{
	static const char *const platforms[] = { "linux/amd64" };
	struct dash_job j = job_make(1, "linux/amd64", "passed");
	struct dash_build b = { 1, NOW_MS, "true", &j, 1 };
	struct dash_snapshot s = snap_one_build(&b, platforms, 1);
	char *page;

	(void)state;
	s.jobs_queued = 2; /* queued jobs of builds older than the snapshot */
	page = render(&s);
	assert_non_null(strstr(page, "http-equiv=\"refresh\""));
	free(page);
}

static void test_links(void **state)
{
	static const char *const platforms[] = { "linux/amd64" };
	struct dash_job j = job_make(12345, "linux/amd64", "passed");
	struct dash_build b = { 77, NOW_MS, "make test", &j, 1 };
	struct dash_snapshot s = snap_one_build(&b, platforms, 1);
	char *page;

	(void)state;
	page = render(&s);
	assert_non_null(strstr(page, "<a href=\"/api/v1/builds/77\">#77</a>"));
	assert_non_null(strstr(page, "href=\"/api/v1/jobs/12345/log\""));
	assert_int_equal(count_of(page, "/api/v1/jobs/"), 1);
	assert_non_null(strstr(page, "<code title=\"make test\">make test</code>"));
	free(page);
}

static void test_matrix_cells(void **state)
{
	static const char *const platforms[] = {
		"linux/amd64", "darwin/arm64", "windows/amd64",
	};
	struct dash_job jobs[] = {
		job_make(1, "windows/amd64", "passed"),
		job_make(2, "linux/amd64", "failed"),
		job_make(3, "linux/amd64", "passed"),
		job_make(4, "plan9/386", "queued"),
	};
	struct dash_build b = { 9, NOW_MS, "make", jobs, 4 };
	struct dash_snapshot s = snap_one_build(&b, platforms, 3);
	const char *row, *linux_cell, *empty, *win, *j2, *j3;
	char *page;

	(void)state;
	page = render(&s);
	row = strstr(page, "<tbody>");
	assert_non_null(row);
	linux_cell = strstr(row, "<td class=\"cell\">");
	empty = strstr(row, "<td class=\"empty\"></td>");
	win = strstr(row, "href=\"/api/v1/jobs/1/log\"");
	j2 = strstr(row, "href=\"/api/v1/jobs/2/log\"");
	j3 = strstr(row, "href=\"/api/v1/jobs/3/log\"");
	assert_true(linux_cell && empty && win && j2 && j3);
	/* Columns in snapshot order: linux (jobs 2 and 3), darwin, windows. */
	assert_true(linux_cell < j2 && j2 < j3 && j3 < empty && empty < win);
	/* Both linux jobs share one cell: no cell boundary between them. */
	assert_null(memmem(j2, (size_t)(j3 - j2), "</td>", 5));
	assert_int_equal(count_of(row, "<td"), 3);
	assert_int_equal(count_of(row, "<td class=\"empty\"></td>"), 1);
	/* The job on a platform with no column is announced, not dropped. */
	assert_non_null(strstr(row, "+1 job on other platforms"));
	assert_null(strstr(row, "/api/v1/jobs/4/log"));
	free(page);
}

static void test_builds_keep_given_order(void **state)
{
	static const char *const platforms[] = { "linux/amd64" };
	struct dash_build builds[] = {
		{ 30, NOW_MS, "third", NULL, 0 },
		{ 20, NOW_MS - 1000, "second", NULL, 0 },
		{ 10, NOW_MS - 2000, "first", NULL, 0 },
	};
	struct dash_snapshot s = snap_one_build(builds, platforms, 1);
	const char *a, *b, *c;
	char *page;

	(void)state;
	s.n_builds = 3;
	page = render(&s);
	a = strstr(page, "/api/v1/builds/30\"");
	b = strstr(page, "/api/v1/builds/20\"");
	c = strstr(page, "/api/v1/builds/10\"");
	assert_true(a && b && c && a < b && b < c);
	assert_int_equal(count_of(page, "<td class=\"empty\"></td>"), 3);
	free(page);
}

static void test_long_command_truncated(void **state)
{
	static const char *const platforms[] = { "linux/amd64" };
	char cmd[201], want[120];
	struct dash_build b = { 1, NOW_MS, cmd, NULL, 0 };
	struct dash_snapshot s = snap_one_build(&b, platforms, 1);
	char *page;

	(void)state;
	for (int i = 0; i < 200; i++)
		cmd[i] = (char)('a' + i % 26);
	cmd[200] = '\0';
	page = render(&s);
	/* Full text in the title attribute ... */
	snprintf(want, sizeof want, "title=\"%.100s", cmd);
	assert_non_null(strstr(page, want));
	assert_non_null(strstr(page, cmd));
	/* ... and 80 characters then an ellipsis in the visible text. */
	snprintf(want, sizeof want, "\">%.80s\xE2\x80\xA6</code>", cmd);
	assert_non_null(strstr(page, want));
	free(page);
}

static void test_hostile_strings_escaped(void **state)
{
	static const char *const platforms[] = { "lin<ux>/&amd64\"" };
	struct dash_job j = job_make(3, "lin<ux>/&amd64\"", "<b>weird</b>");
	struct dash_build b = { 4, NOW_MS, "<script>alert(1)</script>", &j, 1 };
	struct dash_snapshot s = snap_one_build(&b, platforms, 1);
	static const char *const raw[] = {
		"<script", "</script>", "<img", "<b>", "lin<ux>", "onerror=x>",
		"&amd64\"",
	};
	char *page;

	(void)state;
	j.error = "\"><img src=x onerror=x>";
	page = render(&s);
	for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
		if (strstr(page, raw[i]))
			fail_msg("raw '%s' reached the page", raw[i]);
	assert_non_null(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(page, "&quot;&gt;&lt;img src=x onerror=x&gt;"));
	assert_non_null(strstr(page, "<th scope=\"col\">lin&lt;ux&gt;/&amp;amd64&quot;</th>"));
	assert_non_null(strstr(page, "&lt;b&gt;weird&lt;/b&gt;"));
	/* The class name comes from our table, never from the snapshot. */
	assert_non_null(strstr(page, "class=\"job st-unknown\""));
	free(page);
}

static void test_null_strings_tolerated(void **state)
{
	static const char *const platforms[] = { "linux/amd64" };
	struct dash_job j = job_make(3, NULL, NULL);
	struct dash_build b = { 4, NOW_MS, NULL, &j, 1 };
	struct dash_snapshot s = snap_one_build(&b, platforms, 1);
	char *page;

	(void)state;
	j.error = NULL;
	page = render(&s);
	assert_non_null(strstr(page, "+1 job on other platforms"));
	free(page);
}

static void test_render_into_capped_buffer(void **state)
{
	struct dash_snapshot s = { .now_ms = NOW_MS };
	struct buf b;

	(void)state;
	buf_init(&b, 0, 100);
	assert_int_equal(dashboard_render_index(&s, &b), RC_TOO_LARGE);
	assert_true(b.len <= 100);
	buf_free(&b);
	assert_int_equal(dashboard_render_index(NULL, &b), RC_INVALID);
}

/* 10,000 builds x 8 platforms, one job per cell, every state in turn. */
static void test_large_snapshot(void **state)
{
	enum { N_BUILDS = 10000, N_PLAT = 8 };
	static const char *const platforms[N_PLAT] = {
		"linux/amd64", "linux/arm64", "linux/386", "darwin/amd64",
		"darwin/arm64", "windows/amd64", "freebsd/amd64", "openbsd/amd64",
	};
	static const char *const states[] = {
		"passed", "failed", "error", "running", "dispatched", "queued",
		"cancelled",
	};
	struct dash_build *builds = xcalloc(N_BUILDS, sizeof *builds);
	struct dash_job *jobs = xcalloc(N_BUILDS * N_PLAT, sizeof *jobs);
	struct dash_snapshot s = snap_one_build(builds, platforms, N_PLAT);
	int64_t t0, t1;
	struct buf b;
	const char *page;

	(void)state;
	for (size_t i = 0; i < N_BUILDS; i++) {
		for (size_t p = 0; p < N_PLAT; p++) {
			struct dash_job *j = &jobs[i * N_PLAT + p];

			/* Reverse order within a build: cells must still line up. */
			*j = job_make((int64_t)(i * N_PLAT + p + 1),
				      platforms[N_PLAT - 1 - p],
				      states[(i + p) % 7]);
			j->duration_ms = (int64_t)(p * 1000 + i % 1000);
			j->exit_code = (int)p;
		}
		builds[i] = (struct dash_build){
			(int64_t)(N_BUILDS - i), NOW_MS - (int64_t)i * 1000,
			"go test -race -count=1 ./... && ./scripts/integration.sh "
			"--long --verbose --with-a-very-long-flag-list",
			&jobs[i * N_PLAT], N_PLAT,
		};
	}
	s.n_builds = N_BUILDS;
	buf_init(&b, 0, 0);
	t0 = clock_mono_ms();
	assert_int_equal(dashboard_render_index(&s, &b), RC_OK);
	t1 = clock_mono_ms();
	page = buf_cstr(&b);
	print_message("rendered %d builds x %d platforms: %zu bytes in %lld ms\n",
		      N_BUILDS, N_PLAT, b.len, (long long)(t1 - t0));
	/* One header row plus one row per build. */
	assert_int_equal(count_of(page, "<tr"), N_BUILDS + 1);
	assert_int_equal(count_of(page, "<a class=\"job st-"), N_BUILDS * N_PLAT);
	assert_int_equal(count_of(page, "<td class=\"empty\">"), 0);
	buf_free(&b);
	free(jobs);
	free(builds);
}

/* ---- writing ---------------------------------------------------------- */

static char *tmpdir_make(void)
{
	char *dir = xstrdup("/tmp/rfarm-test-dashboard-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static void tmpdir_remove(char **dir)
{
	struct errbuf eb = { "" };

	assert_int_equal(fs_remove_tree(*dir, &eb), RC_OK);
	free(*dir);
	*dir = NULL;
}

static void test_write_creates_dir_and_file(void **state)
{
	static const char *const platforms[] = { "linux/amd64" };
	struct dash_job j = job_make(1, "linux/amd64", "running");
	struct dash_build b = { 1, NOW_MS, "make", &j, 1 };
	struct dash_snapshot s = snap_one_build(&b, platforms, 1);
	struct errbuf eb = { "" };
	char *root = tmpdir_make(), *out = xasprintf("%s/a/b/site", root);
	char *path = xasprintf("%s/index.html", out), *file = NULL, *page;
	size_t len = 0, entries = 0;
	struct dirent *de;
	DIR *d;

	(void)state;
	assert_int_equal(dashboard_write(&s, out, &eb), RC_OK);
	assert_string_equal(eb.msg, "");
	/* Writing again replaces the page in place. */
	assert_int_equal(dashboard_write(&s, out, &eb), RC_OK);
	assert_int_equal(fs_read_all(path, 0, &file, &len, &eb), RC_OK);
	page = render(&s);
	assert_int_equal(len, strlen(page));
	assert_memory_equal(file, page, len);
	/* Nothing but the page is left: no temporary files. */
	d = opendir(out);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		assert_string_equal(de->d_name, "index.html");
		entries++;
	}
	closedir(d);
	assert_int_equal(entries, 1);
	free(page);
	free(file);
	free(path);
	free(out);
	tmpdir_remove(&root);
}

static void test_write_fails_cleanly(void **state)
{
	struct dash_snapshot s = { .now_ms = NOW_MS };
	struct errbuf eb = { "" };
	char *root = tmpdir_make(), *file = xasprintf("%s/regular", root);
	char *under = xasprintf("%s/dash", file);

	(void)state;
	assert_int_equal(fs_write_atomic(file, "x", 1, 0644, &eb), RC_OK);
	assert_int_not_equal(dashboard_write(&s, under, &eb), RC_OK);
	if (!strstr(eb.msg, file) || !strstr(eb.msg, "Not a directory"))
		fail_msg("unclear error: '%s'", eb.msg);

	errbuf_clear(&eb);
	assert_int_equal(dashboard_write(&s, "", &eb), RC_INVALID);
	assert_string_not_equal(eb.msg, "");
	free(under);
	free(file);
	tmpdir_remove(&root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_table),
		cmocka_unit_test(test_escape_null_and_sticky_error),
		cmocka_unit_test(test_utf8_prefix),
		cmocka_unit_test(test_escape_trunc),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_page_skeleton_and_header),
		cmocka_unit_test(test_empty_snapshot),
		cmocka_unit_test(test_each_state),
		cmocka_unit_test(test_refresh_when_jobs_queued_elsewhere),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_matrix_cells),
		cmocka_unit_test(test_builds_keep_given_order),
		cmocka_unit_test(test_long_command_truncated),
		cmocka_unit_test(test_hostile_strings_escaped),
		cmocka_unit_test(test_null_strings_tolerated),
		cmocka_unit_test(test_render_into_capped_buffer),
		cmocka_unit_test(test_large_snapshot),
		cmocka_unit_test(test_write_creates_dir_and_file),
		cmocka_unit_test(test_write_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
