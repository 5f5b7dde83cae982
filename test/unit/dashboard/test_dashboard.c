/*
 * test_dashboard.c - unit tests for the dashboard's pages: the matrix and
 * its pagination, build, job, buildlets, queue and failures pages, their
 * JSON twins, a hostile build on every page, and writing the directory.
 *
 * Fixtures are built on the stack from small tables. Pages are checked by
 * the exact fragments a browser or live.js acts on (hrefs, classes, data-
 * attributes, escaped text), then as a whole: well-nested tags, valid
 * UTF-8, no inline script or style and no on* attribute (the coordinator
 * serves a strict Content-Security-Policy), JSON twins parsed by jansson.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "clock.h"
#include "dashboard.h"
#include "fsutil.h"
#include "utf8.h"
#include "xalloc.h"

#define NOW_MS INT64_C(1795341600000) /* 2026-11-22T10:00:00Z */
#define CHECK "\xE2\x9C\x93"          /* ✓ */
#define CROSS "\xE2\x9C\x97"          /* ✗ */
#define FFFD "\xEF\xBF\xBD"

/* ---- helpers ---------------------------------------------------------- */

/* Occurrences of needle in hay (memmem: ASan's strstr is slow on big pages). */
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

#define assert_has(page, s) \
	do { if (!strstr((page), (s))) fail_msg("missing: %s", (s)); } while (0)
#define assert_lacks(page, s) \
	do { if (strstr((page), (s))) fail_msg("present: %s", (s)); } while (0)

static void assert_valid_utf8(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode(u + i, n - i, &cp);

		if (!len)
			fail_msg("invalid UTF-8 at byte %zu", i);
		i += len;
	}
}

static int is_void_tag(const char *name, size_t n)
{
	static const char *const voids[] = { "meta", "link", "br", "hr",
					     "img", "input", "!DOCTYPE" };

	for (size_t i = 0; i < sizeof voids / sizeof voids[0]; i++)
		if (strlen(voids[i]) == n && !strncmp(name, voids[i], n))
			return 1;
	return 0;
}

/* No attribute of the tag t[0..n) is an event handler (on...=). */
static void assert_no_handler(const char *t, size_t n)
{
	char q = 0;

	for (size_t i = 1; i < n; i++) {
		if (q) {
			q = t[i] == q ? 0 : q;
			continue;
		}
		if (t[i] == '"' || t[i] == '\'') {
			q = t[i];
			continue;
		}
		if ((t[i - 1] == ' ' || t[i - 1] == '\n') &&
		    !strncasecmp(t + i, "on", 2))
			fail_msg("event handler in tag: %.*s", (int)n, t);
	}
}

/* Every link stays in the directory or goes to our API: relative, or
 * /api/v1/, never another origin or scheme (data cannot start one). */
static void assert_links_ours(const char *page)
{
	for (const char *p = page; (p = strstr(p, "href=\"")); ) {
		size_t n;

		p += 6;
		n = strcspn(p, "\"");
		if (memchr(p, ':', n) || !(!strncmp(p, "/api/v1/", 8) ||
		    !strncmp(p, "../", 3) || p[0] == '#' ||
		    (p[0] >= 'a' && p[0] <= 'z') || (p[0] >= '0' && p[0] <= '9')))
			fail_msg("link out of the dashboard: %.*s", (int)n, p);
	}
	assert_true(count_of(page, "role=\"alert\"") <= 1);
}

/*
 * An HTML page as the dashboard must write it: well-nested tags (data can
 * hold no raw '<' or '>', so every '<' starts one of ours), no handler
 * attribute, no inline style or script, links only to our own pages and
 * API, at most one alert banner, valid UTF-8.
 */
static void assert_clean_page(const char *page)
{
	const char *stack[64];
	size_t lens[64], depth = 0;
	const char *p = page;

	assert_valid_utf8(page);
	assert_links_ours(page);
	assert_lacks(page, "<style");
	assert_lacks(page, "style=");
	assert_lacks(page, "javascript:");
	assert_int_equal(count_of(page, "<script"), count_of(page, "<script src="));
	assert_int_equal(count_of(page, "<script"), count_of(page, "></script>"));
	while ((p = strchr(p, '<'))) {
		const char *end = strchr(p, '>'), *name = p + 1;
		size_t n;
		int closing = name[0] == '/';

		assert_non_null(end);
		assert_no_handler(p, (size_t)(end - p));
		name += closing;
		n = strcspn(name, " >\n");
		if (is_void_tag(name, n)) {
		} else if (closing) {
			if (!depth || lens[depth - 1] != n ||
			    strncmp(stack[depth - 1], name, n))
				fail_msg("</%.*s> closes <%.*s>", (int)n, name,
					 depth ? (int)lens[depth - 1] : 0,
					 depth ? stack[depth - 1] : "");
			depth--;
		} else {
			assert_true(depth < 64);
			stack[depth] = name;
			lens[depth++] = n;
		}
		p = end + 1;
	}
	assert_int_equal(depth, 0);
}

static json_t *parse_json(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, 0, &err);

	if (!v)
		fail_msg("bad JSON: %s (line %d)", err.text, err.line);
	return v;
}

/* Take the rendered text out of b (checked), freeing b. */
static char *take(struct buf *b, rc_t rc)
{
	char *s;

	assert_int_equal(rc, RC_OK);
	s = xstrdup(b->len ? buf_cstr(b) : "");
	assert_int_equal(strlen(s), b->len);
	buf_free(b);
	return s;
}

#define RENDER(call)                                              \
	({ struct buf b_; buf_init(&b_, 0, 0);                    \
	   rc_t rc_ = (call); take(&b_, rc_); })

/* ---- fixtures ---------------------------------------------------------- */

static const char *const platforms[] = { "linux/amd64", "darwin/arm64",
					 "windows/amd64" };
static const struct dash_header hdr = { 3, 2, NOW_MS, NULL, 0 };

static const struct dash_attempt attempts_70[] = {
	{ 1, "bl-lost", NOW_MS - 90000, NOW_MS - 89000, NOW_MS - 80000, 0, -1,
	  0, "buildlet lost" },
	{ 2, "bl-one", NOW_MS - 70000, NOW_MS - 69000, NOW_MS - 67766, 1234, 0,
	  0, "" },
};
static const struct dash_artifact artifacts_70[] = {
	{ "out/app.tar.gz", "ab12cd", 1536 },
	{ "dir/with space&amp.txt", "ef34", 10 },
};

static struct dash_job job_make(int64_t id, int64_t build, const char *platform,
				const char *state)
{
	struct dash_job j = {
		.id = id, .build_id = build, .platform = platform,
		.state = state, .exit_code = -1, .created_ms = NOW_MS - 100000,
		.buildlet = "", .error = "", .reason = "",
	};

	return j;
}

struct fixture {
	struct dash_job jobs7[3], jobs6[4];
	struct dash_build builds[2];
};

static void fixture_init(struct fixture *f)
{
	static const char *const env[] = { "CC=gcc", "GOFLAGS=-mod=vendor" };
	static const char *const labels[] = { "ci", "nightly" };

	f->jobs7[0] = job_make(70, 7, "linux/amd64", "passed");
	f->jobs7[0].exit_code = 0;
	f->jobs7[0].duration_ms = 1234;
	f->jobs7[0].buildlet = "bl-one";
	f->jobs7[0].attempts = attempts_70;
	f->jobs7[0].n_attempts = 2;
	f->jobs7[0].artifacts = artifacts_70;
	f->jobs7[0].n_artifacts = 2;
	f->jobs7[1] = job_make(71, 7, "darwin/arm64", "failed");
	f->jobs7[1].exit_code = 3;
	f->jobs7[1].duration_ms = 65000;
	f->jobs7[2] = job_make(72, 7, "windows/amd64", "running");
	f->jobs6[0] = job_make(60, 6, "linux/amd64", "passed");
	f->jobs6[0].cached = 1;
	f->jobs6[0].cached_from = 50;
	f->jobs6[0].exit_code = 0;
	f->jobs6[1] = job_make(61, 6, "darwin/arm64", "error");
	f->jobs6[1].error = "buildlet lost";
	f->jobs6[2] = job_make(62, 6, "freebsd/riscv64", "queued");
	f->jobs6[3] = job_make(63, 6, "linux/amd64", "cancelled");
	f->builds[0] = (struct dash_build){
		.id = 7, .created_ms = NOW_MS - 60000, .command = "make test",
		.source = "git https://example.com/r.git ref main",
		.commit = "0123456789abcdef", .requester = "alice",
		.env = env, .n_env = 2, .labels = labels, .n_labels = 2,
		.jobs = f->jobs7, .n_jobs = 3,
	};
	f->builds[1] = (struct dash_build){
		.id = 6, .created_ms = NOW_MS - 120000, .command = "./ci.sh",
		.source = "", .commit = "", .requester = "",
		.jobs = f->jobs6, .n_jobs = 4,
	};
}

static struct dash_index index_of(struct fixture *f, int page, int n_pages)
{
	struct dash_index ix = {
		.h = hdr, .builds = f->builds, .n_builds = 2,
		.platforms = platforms, .n_platforms = 3,
		.page = page, .n_pages = n_pages,
	};

	return ix;
}

/* ---- the matrix -------------------------------------------------------- */

static void test_index_frame(void **state)
{
	struct fixture f;
	struct dash_index ix;
	char *page;

	(void)state;
	fixture_init(&f);
	ix = index_of(&f, 1, 1);
	page = RENDER(dashboard_render_index(&ix, &b_));
	assert_true(!strncmp(page, "<!DOCTYPE html>\n<html lang=\"en\">", 31));
	assert_has(page, "<meta name=\"viewport\"");
	assert_has(page, "<link rel=\"stylesheet\" href=\"style.css\">");
	assert_has(page, "<script src=\"live.js\" defer></script>");
	assert_has(page, "3 buildlets connected");
	assert_has(page, "2 jobs queued");
	assert_has(page, "rendered <time datetime=\"2026-11-22T10:00:00Z\">");
	assert_has(page, "<a href=\"index.html\">Matrix</a> <a href=\"queue.html\">"
			 "Queue</a> <a href=\"failures.html\">Failures</a> <a href="
			 "\"buildlets.html\">Buildlets</a> <a href=\"repos/index.html"
			 "\">Repositories</a>");
	assert_has(page, "<main data-poll=\"index.json\" data-root=\"\">");
	assert_lacks(page, "role=\"alert\"");
	assert_lacks(page, "class=\"pager\"");
	assert_lacks(page, "http://");
	assert_clean_page(page);
	free(page);
}

static void test_index_cells(void **state)
{
	struct fixture f;
	struct dash_index ix;
	char *page;

	(void)state;
	fixture_init(&f);
	ix = index_of(&f, 1, 1);
	page = RENDER(dashboard_render_index(&ix, &b_));
	assert_has(page, "<a class=\"cell s-passed\" href=\"jobs/70.html\" "
			 "data-job=\"70\" data-state=\"passed\" title=\"job 70 "
			 "linux/amd64: passed in 1.2s, exit 0\">" CHECK
			 "<span class=\"t\"> passed</span></a>");
	assert_has(page, "<a class=\"cell s-failed\" href=\"jobs/71.html\" "
			 "data-job=\"71\" data-state=\"failed\" title=\"job 71 "
			 "darwin/arm64: failed in 1m05s, exit 3\">" CROSS);
	assert_has(page, "<a class=\"cell s-running\" href=\"jobs/72.html\" "
			 "data-job=\"72\" data-state=\"running\" title=\"job 72 "
			 "windows/amd64: running\">\xE2\x97\x8F");
	assert_has(page, "<a class=\"cell s-passed cached\" href=\"jobs/60.html\" "
			 "data-job=\"60\" data-state=\"passed\" title=\"job 60 "
			 "linux/amd64: passed, exit 0 (cached from job 50)\">"
			 CHECK "<span class=\"t\"> passed</span><span class=\"cm\"> "
			 "\xE2\x86\xBA</span></a>");
	assert_has(page, "data-state=\"error\" title=\"job 61 darwin/arm64: "
			 "error: buildlet lost\">!");
	assert_has(page, "data-state=\"cancelled\" title=\"job 63 linux/amd64: "
			 "cancelled\">\xE2\x80\x93");
	/* Two jobs of build 6 share the linux cell; windows is empty; the
	 * freebsd job is not a column but is not hidden either. */
	assert_has(page, "</a> <a class=\"cell s-cancelled\"");
	assert_has(page, "<td class=\"none\"></td>");
	assert_has(page, "+1 job on other platforms");
	assert_int_equal(count_of(page, "class=\"cell "), 6);
	/* Rows newest first, linking to the build pages. */
	assert_true(strstr(page, "href=\"builds/7.html\">#7</a>") <
		    strstr(page, "href=\"builds/6.html\">#6</a>"));
	assert_has(page, "title=\"0123456789abcdef\">0123456789</code>");
	assert_has(page, "<code class=\"cmd\" title=\"make test\">make test</code>");
	assert_has(page, "<table class=\"matrix\">");
	assert_has(page, "<div class=\"wrap\">");
	free(page);
}

static void test_index_many_platforms(void **state)
{
	char names[20][24];
	const char *cols[20];
	struct dash_job jobs[20];
	struct dash_build b = { .id = 1, .command = "x", .jobs = jobs,
				.n_jobs = 20 };
	struct dash_index ix = { .h = hdr, .builds = &b, .n_builds = 1,
				 .platforms = cols, .n_platforms = 20,
				 .page = 1, .n_pages = 1 };
	char *page;

	(void)state;
	for (int i = 0; i < 20; i++) {
		snprintf(names[i], sizeof names[i], "os%02d/arch%02d", i, i);
		cols[i] = names[i];
		jobs[i] = job_make(100 + i, 1, names[i], i % 2 ? "failed" : "passed");
	}
	page = RENDER(dashboard_render_index(&ix, &b_));
	/* Compact: rotated heads and symbols only, in a scrolling wrapper. */
	assert_has(page, "<div class=\"wrap\">\n<table class=\"matrix many\">");
	assert_has(page, "<th scope=\"col\" class=\"plat\"><span>os19/arch19"
			 "</span></th>");
	assert_int_equal(count_of(page, "class=\"cell "), 20);
	assert_clean_page(page);
	free(page);
}

static void test_index_empty(void **state)
{
	struct dash_index ix = { .h = hdr, .page = 1, .n_pages = 1 };
	char *page, *json;
	json_t *v;

	(void)state;
	page = RENDER(dashboard_render_index(&ix, &b_));
	assert_has(page, "No builds yet");
	assert_has(page, "rfarm submit --platform linux/amd64 -- echo hello");
	assert_lacks(page, "<table");
	assert_clean_page(page);
	json = RENDER(dashboard_render_index_json(&ix, &b_));
	v = parse_json(json);
	assert_int_equal(json_array_size(json_object_get(v, "builds")), 0);
	json_decref(v);
	free(json);
	free(page);
}

static void test_index_pagination(void **state)
{
	static const struct {
		int page, n_pages;    /* the page rendered */
		const char *want[4];  /* fragments it must hold */
		const char *lack[3];  /* fragments it must not */
	} cases[] = {
		{ 1, 3, { "<a rel=\"next\" href=\"page-2.html\">older",
			  "<span aria-current=\"page\">1</span>",
			  " <a href=\"page-3.html\">3</a>" },
		  { "rel=\"prev\"" } },
		{ 2, 3, { "<a rel=\"prev\" href=\"index.html\">&larr; newer</a>",
			  "<a rel=\"next\" href=\"page-3.html\">older &rarr;</a>",
			  "<h1>Builds, page 2 of 3</h1>", "<main>" },
		  { "data-poll" } },
		{ 3, 3, { "<a rel=\"prev\" href=\"page-2.html\">",
			  " <a href=\"index.html\">1</a>" },
		  { "rel=\"next\"" } },
		{ 6, 12, { " <a href=\"index.html\">1</a> &hellip; <a href="
			   "\"page-4.html\">4</a>",
			   "<a href=\"page-8.html\">8</a> &hellip; <a href="
			   "\"page-12.html\">12</a>" },
		  { "page-3.html\">3<", "page-9.html\">9<" } },
	};
	struct fixture f;

	(void)state;
	fixture_init(&f);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dash_index ix = index_of(&f, cases[i].page,
						cases[i].n_pages);
		char *page = RENDER(dashboard_render_index(&ix, &b_));

		for (size_t k = 0; k < 4 && cases[i].want[k]; k++)
			assert_has(page, cases[i].want[k]);
		for (size_t k = 0; k < 3 && cases[i].lack[k]; k++)
			assert_lacks(page, cases[i].lack[k]);
		assert_clean_page(page);
		free(page);
	}
}

static void test_index_json(void **state)
{
	struct fixture f;
	struct dash_index ix;
	json_t *v, *b0, *j0, *j60;
	char *json;

	(void)state;
	fixture_init(&f);
	ix = index_of(&f, 1, 2);
	json = RENDER(dashboard_render_index_json(&ix, &b_));
	v = parse_json(json);
	assert_int_equal(json_integer_value(json_object_get(v, "page")), 1);
	assert_int_equal(json_integer_value(json_object_get(v, "pages")), 2);
	assert_int_equal(json_array_size(json_object_get(v, "platforms")), 3);
	b0 = json_array_get(json_object_get(v, "builds"), 0);
	assert_int_equal(json_integer_value(json_object_get(b0, "id")), 7);
	assert_string_equal(json_string_value(json_object_get(b0, "created")),
			    "2026-11-22T09:59:00Z");
	assert_string_equal(json_string_value(json_object_get(b0, "command")),
			    "make test");
	j0 = json_array_get(json_object_get(b0, "jobs"), 0);
	assert_int_equal(json_integer_value(json_object_get(j0, "id")), 70);
	assert_string_equal(json_string_value(json_object_get(j0, "platform")),
			    "linux/amd64");
	assert_string_equal(json_string_value(json_object_get(j0, "state")),
			    "passed");
	assert_true(json_is_false(json_object_get(j0, "cached")));
	assert_int_equal(json_integer_value(json_object_get(j0, "exit_code")), 0);
	assert_int_equal(json_integer_value(json_object_get(j0, "duration_ms")),
			 1234);
	j60 = json_array_get(json_object_get(json_array_get(
		json_object_get(v, "builds"), 1), "jobs"), 0);
	assert_true(json_is_true(json_object_get(j60, "cached")));
	assert_int_equal(json_integer_value(json_object_get(j60, "cached_from")),
			 50);
	json_decref(v);
	free(json);
}

/* ---- build page -------------------------------------------------------- */

static void test_build_page(void **state)
{
	struct fixture f;
	char *page;

	(void)state;
	fixture_init(&f);
	page = RENDER(dashboard_render_build(&hdr, &f.builds[0], &b_));
	assert_has(page, "<title>Build #7 &middot; rfarm</title>");
	assert_has(page, "<link rel=\"stylesheet\" href=\"../style.css\">");
	assert_has(page, "<script src=\"../live.js\" defer></script>");
	assert_has(page, "<a href=\"../queue.html\">Queue</a>");
	assert_has(page, "<main data-poll=\"7.json\" data-root=\"../\">");
	assert_has(page, "<a href=\"7.json\">JSON</a>");
	assert_has(page, "<a href=\"/api/v1/builds/7\">API</a>");
	assert_has(page, "<dt>Source</dt><dd><code>git https://example.com/r.git "
			 "ref main</code></dd>");
	assert_has(page, "<dt>Commit</dt><dd><code>0123456789abcdef</code>");
	assert_has(page, "<pre class=\"cmd\">make test</pre>");
	assert_has(page, "<li>CC=gcc</li><li>GOFLAGS=-mod=vendor</li>");
	assert_has(page, "<li>ci</li><li>nightly</li>");
	assert_has(page, "<dt>Requester</dt><dd>alice</dd>");
	assert_has(page, "<td><a href=\"../jobs/70.html\">#70</a></td>");
	assert_has(page, "<a class=\"cell s-failed\" href=\"../jobs/71.html\" "
			 "data-job=\"71\" data-state=\"failed\"");
	/* Attempts and artifacts of job 70. */
	assert_has(page, "<td>1</td><td>bl-lost</td>");
	assert_has(page, "<td class=\"error\">buildlet lost</td>");
	assert_has(page, "<td>2</td><td>bl-one</td>");
	assert_has(page, "<td>exit 0</td>");
	assert_has(page, "<a href=\"/api/v1/jobs/70/artifacts/out/app.tar.gz\" "
			 "download>out/app.tar.gz</a></td><td>1.5 KiB</td><td>"
			 "<code class=\"sha\">ab12cd</code>");
	assert_has(page, "<a href=\"/api/v1/jobs/70/artifacts/dir/with%20space"
			 "%26amp.txt\" download>dir/with space&amp;amp.txt</a>");
	assert_clean_page(page);
	free(page);

	/* A build without request details says so with dashes. */
	page = RENDER(dashboard_render_build(&hdr, &f.builds[1], &b_));
	assert_has(page, "<dt>Source</dt><dd>\xE2\x80\x93</dd>");
	assert_has(page, "<dt>Environment</dt><dd>\xE2\x80\x93</dd>");
	assert_clean_page(page);
	free(page);
}

static void test_build_json(void **state)
{
	struct fixture f;
	json_t *v, *j0, *a0, *r1;
	char *json;

	(void)state;
	fixture_init(&f);
	json = RENDER(dashboard_render_build_json(&f.builds[0], &b_));
	v = parse_json(json);
	assert_int_equal(json_integer_value(json_object_get(v, "id")), 7);
	assert_string_equal(json_string_value(json_object_get(v, "requester")),
			    "alice");
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(v, "env"), 1)), "GOFLAGS=-mod=vendor");
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(v, "labels"), 0)), "ci");
	j0 = json_array_get(json_object_get(v, "jobs"), 0);
	assert_string_equal(json_string_value(json_object_get(j0, "buildlet")),
			    "bl-one");
	a0 = json_array_get(json_object_get(j0, "attempts"), 0);
	assert_string_equal(json_string_value(json_object_get(a0, "error")),
			    "buildlet lost");
	r1 = json_array_get(json_object_get(j0, "artifacts"), 1);
	assert_string_equal(json_string_value(json_object_get(r1, "name")),
			    "dir/with space&amp.txt");
	assert_string_equal(json_string_value(json_object_get(r1, "url")),
			    "/api/v1/jobs/70/artifacts/dir/with%20space%26amp.txt");
	assert_int_equal(json_integer_value(json_object_get(r1, "size")), 10);
	assert_int_equal(json_array_size(json_object_get(v, "jobs")), 3);
	json_decref(v);
	free(json);
}

/* ---- job page and raw log ---------------------------------------------- */

static const struct dash_log_piece log_mixed[] = {
	{ 1, "hello\nwor", 9 },
	{ 1, "ld <b>\n", 7 },
	{ 2, "oops & \"x\"\n", 11 },
	{ 0, "\n[rfarm: 100 bytes of log cut here]\n", 36 },
	{ 1, "caf\xC3", 4 },      /* a character cut by a pipe read */
	{ 1, "\xA9 ", 2 },
	{ 2, "mixed\n", 6 },       /* same line, other stream */
	{ 1, "tail", 4 },          /* no newline yet */
};

static void test_job_log_lines(void **state)
{
	struct fixture f;
	struct dash_job j;
	size_t n = sizeof log_mixed / sizeof log_mixed[0];
	char *page, *text;
	char attr[160];

	(void)state;
	fixture_init(&f);
	j = f.jobs7[2]; /* running */
	text = RENDER(dashboard_render_log_text(log_mixed, n, &b_));
	assert_string_equal(text, "hello\nworld <b>\noops & \"x\"\n\n[rfarm: 100 "
				  "bytes of log cut here]\ncaf\xC3\xA9 mixed\ntail");
	page = RENDER(dashboard_render_job(&hdr, &f.builds[0], &j, log_mixed, n,
					   &b_));
	snprintf(attr, sizeof attr, "<pre id=\"log\" data-job=\"72\" data-state="
		 "\"running\" data-bytes=\"%zu\" data-lines=\"6\" data-open=\"1\">",
		 strlen(text));
	assert_has(page, attr);
	assert_has(page, "data-open=\"1\"><span id=\"L1\" class=\"out\"><a class="
			 "\"ln\" href=\"#L1\"></a>hello\n</span>");
	assert_has(page, "<span id=\"L2\" class=\"out\"><a class=\"ln\" href="
			 "\"#L2\"></a>world &lt;b&gt;\n</span>");
	assert_has(page, "<span id=\"L3\" class=\"err\"><a class=\"ln\" href="
			 "\"#L3\"></a>oops &amp; &quot;x&quot;\n</span>");
	assert_has(page, "<span id=\"L4\" class=\"cut\"><a class=\"ln\" href="
			 "\"#L4\"></a>[rfarm: 100 bytes of log cut here]\n</span>");
	assert_has(page, "<span id=\"L5\" class=\"out\"><a class=\"ln\" href="
			 "\"#L5\"></a>caf\xC3\xA9 <span class=\"err\">mixed</span>"
			 "\n</span>");
	assert_has(page, "<span id=\"L6\" class=\"out\"><a class=\"ln\" href="
			 "\"#L6\"></a>tail</span></pre>");
	assert_lacks(page, FFFD);
	assert_lacks(page, "id=\"L7\"");
	/* Running: no raw file yet, the API has the log. */
	assert_has(page, "<a href=\"/api/v1/jobs/72/log\">raw log</a>");
	assert_lacks(page, "72.log");
	assert_lacks(page, "id=\"skipped\"");
	assert_lacks(page, "data-n=");
	assert_has(page, "<p id=\"live\" class=\"live\" hidden></p>");
	assert_has(page, "<script src=\"../live.js\" defer></script>");
	assert_has(page, "<a href=\"../builds/7.html\">Build #7</a>");
	assert_lacks(page, "No output");
	assert_clean_page(page);
	free(page);
	free(text);
}

static void test_job_log_edge_cases(void **state)
{
	static const struct dash_log_piece bare_cut[] = {
		{ 1, "a", 1 },
		{ 0, "[rfarm: 5 bytes of log cut here]", 32 },
		{ 1, "b\n", 2 },
	};
	struct fixture f;
	char *page, *text;

	(void)state;
	fixture_init(&f);
	/* A marker without its newlines still stands on its own line, in
	 * the raw text (as the API writes it) and on the page. */
	text = RENDER(dashboard_render_log_text(bare_cut, 3, &b_));
	assert_string_equal(text, "a\n[rfarm: 5 bytes of log cut here]\nb\n");
	page = RENDER(dashboard_render_job(&hdr, &f.builds[0], &f.jobs7[0],
					   bare_cut, 3, &b_));
	assert_has(page, "data-state=\"passed\" data-bytes=\"37\" data-lines=\"3\" "
			 "data-open=\"0\">");
	assert_has(page, "href=\"#L1\"></a>a\n</span><span id=\"L2\" class="
			 "\"cut\">");
	assert_has(page, "href=\"#L3\"></a>b\n</span></pre>");
	assert_clean_page(page);
	free(page);
	free(text);

	/* No log at all. */
	page = RENDER(dashboard_render_job(&hdr, NULL, &f.jobs6[2], NULL, 0, &b_));
	assert_has(page, "<p class=\"empty\" id=\"nolog\">No output yet.</p>");
	assert_has(page, "data-state=\"queued\" data-bytes=\"0\" data-lines=\"0\" "
			 "data-open=\"0\"></pre>");
	assert_clean_page(page);
	free(page);
	text = RENDER(dashboard_render_log_text(NULL, 0, &b_));
	assert_string_equal(text, "");
	free(text);
}

static void test_job_header(void **state)
{
	static const struct dash_log_piece log[] = { { 1, "ok\n", 3 } };
	struct fixture f;
	struct dash_job j;
	char *page;

	(void)state;
	fixture_init(&f);
	page = RENDER(dashboard_render_job(&hdr, &f.builds[0], &f.jobs7[0], log,
					   1, &b_));
	assert_has(page, "<title>Job #70 &middot; rfarm</title>");
	assert_has(page, "<h1>Job #70 <span class=\"plat\">linux/amd64</span></h1>");
	assert_has(page, "<span class=\"state s-passed\">" CHECK " passed</span>");
	assert_has(page, "<dt>Buildlet</dt><dd>bl-one</dd>");
	assert_has(page, "<dt>Exit</dt><dd>exit 0</dd>");
	assert_has(page, "<dt>Duration</dt><dd>1.2s</dd>");
	assert_has(page, "<h2>Attempts</h2>");
	assert_has(page, "<td>1</td><td>bl-lost</td>");
	assert_has(page, "<h2>Artifacts</h2>");
	assert_has(page, "href=\"/api/v1/jobs/70/artifacts/out/app.tar.gz\"");
	assert_lacks(page, "data-poll");
	assert_clean_page(page);
	free(page);

	/* Killed by a signal, with an error, cached. */
	j = f.jobs7[1];
	j.signal = 9;
	j.error = "timed out after 10m";
	j.cached = 1;
	j.cached_from = 40;
	page = RENDER(dashboard_render_job(&hdr, &f.builds[0], &j, NULL, 0, &b_));
	assert_has(page, "<dt>Exit</dt><dd>signal 9</dd>");
	assert_has(page, "<dt>Error</dt><dd class=\"error\">timed out after "
			 "10m</dd>");
	assert_has(page, "cached from <a href=\"40.html\">job 40</a>");
	assert_has(page, "<p class=\"empty\" id=\"nolog\">No output.</p>");
	assert_clean_page(page);
	free(page);

	/* A queued job says why it waits. */
	j = f.jobs6[2];
	j.reason = "no buildlet for freebsd/riscv64";
	page = RENDER(dashboard_render_job(&hdr, &f.builds[1], &j, NULL, 0, &b_));
	assert_has(page, "<dt>Waiting for</dt><dd>no buildlet for "
			 "freebsd/riscv64</dd>");
	free(page);
}

/* ---- the tail of a long log ------------------------------------------- */

#define TAIL_LINE 60 /* bytes per line of the long log: the byte cap
			 * comes before the line cap */

/* Line i (from 1) of the long log, TAIL_LINE bytes with its newline. */
static void tail_line(char *out, int64_t i)
{
	snprintf(out, TAIL_LINE + 1, "%-*s\n", TAIL_LINE - 1, "");
	memcpy(out, "line ", 5);
	snprintf(out + 5, 16, "%010lld", (long long)i);
	out[15] = ' ';
}

/* A 20 MB log, 20 times the tail, fed in pieces of odd sizes (lines cut
 * anywhere, every 5th piece on stderr): the collector stays small, the
 * page shows the last cap bytes from a line's start with the true line
 * numbers, says what it left out, and its size does not grow with the
 * log. */
static void test_job_log_tail(void **state)
{
	const int64_t lines = 20 * DASH_LOG_TAIL_BYTES / TAIL_LINE;
	const int64_t bytes = lines * TAIL_LINE;
	struct dash_log_tail t;
	struct fixture f;
	struct dash_job j;
	struct buf text;
	size_t at = 0, piece = 0;
	int64_t first;
	char *page, line[TAIL_LINE + 1], want[200];

	(void)state;
	fixture_init(&f);
	j = f.jobs7[0]; /* passed */
	buf_init(&text, 0, 0);
	for (int64_t i = 1; i <= lines; i++) {
		tail_line(line, i);
		buf_append(&text, line, TAIL_LINE);
		/* Feed what is there in pieces of 1..9000 bytes. */
		while (text.len - at > 9000 || (i == lines && at < text.len)) {
			size_t n = 1 + (piece * 7919) % 9000;

			if (n > text.len - at)
				n = text.len - at;
			if (!at && piece == 0)
				dash_log_tail_init(&t, 0);
			dash_log_tail_add(&t, piece % 5 == 4 ? 2 : 1,
					  buf_data(&text) + at, n);
			at += n;
			piece++;
			/* Bounded memory, whatever has gone by. */
			assert_true(t.text.cap <= 4 * DASH_LOG_TAIL_BYTES);
			assert_true(t.cap_v <= DASH_LOG_TAIL_BYTES / 8);
		}
		if (at > (1 << 20)) {
			buf_consume(&text, at);
			at = 0;
		}
	}
	buf_free(&text);
	page = RENDER(dashboard_render_job_tail(&hdr, &f.builds[0], &j, &t, &b_));
	dash_log_tail_free(&t);
	assert_true(strlen(page) < 4 * DASH_LOG_TAIL_BYTES);
	/* The first line that starts in the last cap bytes, or of the last
	 * DASH_LOG_TAIL_LINES lines if that is later. */
	first = (bytes - DASH_LOG_TAIL_BYTES + TAIL_LINE - 1) / TAIL_LINE + 1;
	if (first < lines - DASH_LOG_TAIL_LINES + 1)
		first = lines - DASH_LOG_TAIL_LINES + 1;
	snprintf(want, sizeof want, "its first %lld bytes (%lld lines) are left "
		 "out here; the <a href=\"70.log\">raw log</a> has them all.",
		 (long long)((first - 1) * TAIL_LINE), (long long)(first - 1));
	assert_has(page, want);
	snprintf(want, sizeof want, "href=\"#L%lld\" data-n=\"%lld\"></a>line "
		 "%010lld ", (long long)first, (long long)first, (long long)first);
	assert_has(page, want);
	snprintf(want, sizeof want, "id=\"L%lld\"", (long long)first - 1);
	assert_lacks(page, want);
	snprintf(want, sizeof want, "data-bytes=\"%lld\" data-lines=\"%lld\" "
		 "data-open=\"0\" class=\"from\">", (long long)bytes,
		 (long long)lines);
	assert_has(page, want);
	snprintf(want, sizeof want, "line %010lld ", (long long)lines);
	assert_has(page, want);
	assert_lacks(page, "No output");
	assert_valid_utf8(page);
	free(page);
}

/* The <pre id="log"> of a page: its attributes and its lines, with the
 * tail's own marks (data-n, class="from") taken out. */
static char *log_body(const char *page)
{
	const char *p = strstr(page, "<pre id=\"log\""), *e = strstr(page, "</pre>");
	struct buf b;
	char *out;

	assert_non_null(p);
	assert_non_null(e);
	buf_init(&b, 0, 0);
	while (p < e) {
		const char *q = strstr(p, " data-n=\""), *c = strstr(p, " class=\"from\"");
		const char *m = q && q < e ? q : NULL;

		if (c && c < e && (!m || c < m)) {
			buf_append(&b, p, (size_t)(c - p));
			p = c + strlen(" class=\"from\"");
		} else if (m) {
			buf_append(&b, p, (size_t)(m - p));
			p = strchr(m + 9, '"') + 1;
		} else {
			buf_append(&b, p, (size_t)(e - p));
			p = e;
		}
	}
	out = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return out;
}

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

/* Random logs (both streams, cut markers, long and empty lines) through a
 * small tail: what the page shows is exactly the end of what the whole
 * log renders, with the same numbers, data-bytes and data-lines. */
static void test_job_log_tail_matches_whole(void **state)
{
	static const char alphabet[] = "ab<&\n\n\xC3\xA9";
	struct fixture f;
	uint32_t seed = 1;

	(void)state;
	fixture_init(&f);
	for (int round = 0; round < 300; round++) {
		struct dash_log_tail whole, tail;
		char *pw, *pt, *bw, *bt, data[64];
		const char *attrs_w, *attrs_t, *lines_t;
		int n_pieces = 1 + (int)(rnd(&seed) % 60);

		dash_log_tail_init(&whole, 0);
		dash_log_tail_init(&tail, 1 + rnd(&seed) % 300);
		tail.max_lines = 1 + rnd(&seed) % 12;
		for (int k = 0; k < n_pieces; k++) {
			int stream = rnd(&seed) % 10 ? 1 + (int)(rnd(&seed) % 2) : 0;
			size_t len = rnd(&seed) % (sizeof data);

			if (stream == 0)
				len = (size_t)snprintf(data, sizeof data, "%s[rfarm: %u bytes "
						       "of log cut here]%s", rnd(&seed) % 2 ?
						       "\n" : "", rnd(&seed), rnd(&seed) % 2 ?
						       "\n" : "");
			else
				for (size_t q = 0; q < len; q++)
					data[q] = alphabet[rnd(&seed) % 6];
			dash_log_tail_add(&whole, stream, data, len);
			dash_log_tail_add(&tail, stream, data, len);
		}
		pw = RENDER(dashboard_render_job_tail(&hdr, NULL, &f.jobs7[2],
						      &whole, &b_));
		pt = RENDER(dashboard_render_job_tail(&hdr, NULL, &f.jobs7[2],
						      &tail, &b_));
		bw = log_body(pw);
		bt = log_body(pt);
		/* Same attributes: the end of the log is the same. */
		attrs_w = strchr(bw, '>');
		attrs_t = strchr(bt, '>');
		assert_int_equal(attrs_w - bw, attrs_t - bt);
		assert_memory_equal(bw, bt, (size_t)(attrs_w - bw));
		/* The lines shown end the whole log's lines. A first line shown
		 * from its middle is left out of the comparison. */
		lines_t = attrs_t + 1;
		if (strstr(pt, "and the start of the next"))
			lines_t = strstr(lines_t + 1, "<span id=\"L") ?
				  strstr(lines_t + 1, "<span id=\"L") : lines_t + strlen(lines_t);
		assert_true(strlen(attrs_w + 1) >= strlen(lines_t));
		assert_string_equal(attrs_w + 1 + strlen(attrs_w + 1) - strlen(lines_t),
				    lines_t);
		assert_valid_utf8(pt);
		free(bw);
		free(bt);
		free(pw);
		free(pt);
		dash_log_tail_free(&whole);
		dash_log_tail_free(&tail);
	}
}

/* ---- buildlets, queue, failures ---------------------------------------- */

static void test_buildlets_page(void **state)
{
	static const char *const plats[] = { "linux/amd64", "linux/arm64" };
	static const char *const labels[] = { "gpu" };
	static const int64_t jobs[] = { 72, 73 };
	static const struct dash_buildlet v[] = {
		{ "bl-one", "linux-amd64-debian", plats, 2, labels, 1, 4, 2, jobs,
		  2, "0.3.0", 1, NOW_MS - 1000, 0, "enrolled" },
		{ "bl-old", "mac-m1", plats + 1, 1, NULL, 0, 2, 0, NULL, 0, "", 0,
		  0, 1, "revoked" },
	};
	char *page;

	(void)state;
	page = RENDER(dashboard_render_buildlets(&hdr, v, 2, &b_));
	assert_has(page, "<th scope=\"row\">bl-one</th><td><span class=\"on\">"
			 "\xE2\x97\x8F connected</span></td><td>linux-amd64-debian"
			 "</td><td><ul class=\"tags\"><li>linux/amd64</li><li>"
			 "linux/arm64</li></ul></td><td><ul class=\"tags\"><li>gpu"
			 "</li></ul></td><td>2 / 4</td><td><a href=\"jobs/72.html\">"
			 "#72</a> <a href=\"jobs/73.html\">#73</a></td><td>0.3.0"
			 "</td><td><time datetime=\"2026-11-22T09:59:59Z\">");
	assert_has(page, "<th scope=\"row\">bl-old</th><td><span class=\"off\">"
			 "\xE2\x97\x8B offline</span> <span class=\"drained\">"
			 "drained</span> <span class=\"revoked\">revoked</span>");
	assert_has(page, "<td>0 / 2</td><td>\xE2\x80\x93</td>");
	assert_clean_page(page);
	free(page);

	page = RENDER(dashboard_render_buildlets(&hdr, NULL, 0, &b_));
	assert_has(page, "No buildlet has enrolled yet");
	assert_clean_page(page);
	free(page);
}

static void test_queue_page(void **state)
{
	struct dash_job v[3];
	char *page;
	const char *a, *b, *c;

	(void)state;
	v[0] = job_make(90, 9, "linux/amd64", "queued");
	v[0].created_ms = NOW_MS - 5000;
	v[0].reason = "all 2 linux/amd64 buildlets busy";
	v[1] = job_make(88, 8, "plan9/386", "queued");
	v[1].created_ms = NOW_MS - 125000;
	v[1].reason = "no buildlet <plan9/386>";
	v[2] = job_make(89, 8, "linux/amd64", "dispatched");
	v[2].created_ms = NOW_MS - 60000;
	page = RENDER(dashboard_render_queue(&hdr, v, 3, &b_));
	assert_has(page, "<p>3 jobs waiting.</p>");
	a = strstr(page, "data-job=\"88\"");
	b = strstr(page, "data-job=\"89\"");
	c = strstr(page, "data-job=\"90\"");
	assert_true(a && b && c && a < b && b < c); /* longest wait first */
	assert_has(page, "<td><a href=\"jobs/88.html\">#88</a></td><td><a href="
			 "\"builds/8.html\">#8</a></td><td>plan9/386</td><td class="
			 "\"num\">2m05s</td><td>no buildlet &lt;plan9/386&gt;</td>");
	assert_has(page, "<td class=\"num\">5.0s</td><td>all 2 linux/amd64 "
			 "buildlets busy</td>");
	assert_has(page, "<td class=\"num\">1m00s</td><td>\xE2\x80\x93</td>");
	assert_clean_page(page);
	free(page);

	page = RENDER(dashboard_render_queue(&hdr, NULL, 0, &b_));
	assert_has(page, "Nothing waits.");
	assert_clean_page(page);
	free(page);
}

static void test_failures_page(void **state)
{
	struct dash_job j[2];
	struct dash_failure v[2];
	struct buf tail;
	char *page;

	(void)state;
	buf_init(&tail, 0, 0);
	for (int i = 1; i <= 30; i++)
		buf_printf(&tail, "line %d%s\n", i, i == 30 ? " <FAIL>" : "");
	j[0] = job_make(71, 7, "darwin/arm64", "failed");
	j[0].exit_code = 3;
	j[0].finished_ms = NOW_MS - 50000;
	j[0].duration_ms = 65000;
	j[0].buildlet = "bl-mac";
	j[1] = job_make(81, 8, "linux/amd64", "error");
	j[1].finished_ms = NOW_MS - 1000;
	j[1].error = "buildlet lost";
	v[0] = (struct dash_failure){ &j[0], "make test", buf_cstr(&tail),
				      tail.len };
	v[1] = (struct dash_failure){ &j[1], "./ci.sh", "", 0 };
	page = RENDER(dashboard_render_failures(&hdr, v, 2, &b_));
	assert_true(strstr(page, "id=\"job-81\"") < strstr(page, "id=\"job-71\""));
	assert_has(page, "<a class=\"cell s-failed\" href=\"jobs/71.html\"");
	assert_has(page, "exit 3 after 1m05s &middot; finished <time datetime="
			 "\"2026-11-22T09:59:10Z\">");
	assert_has(page, " on bl-mac</p>");
	assert_has(page, "<p class=\"error\">buildlet lost</p>");
	assert_has(page, "<pre class=\"tail\">line 11\n");
	assert_has(page, "line 30 &lt;FAIL&gt;\n</pre>");
	assert_lacks(page, "line 10\n");
	assert_has(page, "<a href=\"builds/7.html\">build #7</a>");
	assert_clean_page(page);
	free(page);
	buf_free(&tail);

	page = RENDER(dashboard_render_failures(&hdr, NULL, 0, &b_));
	assert_has(page, "No recent failures.");
	free(page);
}

/* ---- a hostile build on every page ------------------------------------- */

#define H "<script>alert(1)</script>\"'&amp;\xFF\xC3( onload=x <img src=y>"

static void assert_hostile_ok(const char *page)
{
	assert_clean_page(page); /* every '<' is ours, nesting holds */
	assert_lacks(page, "<script>");
	assert_lacks(page, "<img");
	assert_lacks(page, "&amp;\xFF");
	assert_has(page, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;"
			 "&amp;amp;" FFFD FFFD "( onload=x &lt;img src=y&gt;");
}

static void assert_hostile_json(const char *text)
{
	json_t *v = parse_json(text);

	assert_valid_utf8(text);
	assert_lacks(text, "<");
	assert_has(text, "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"
			 "\\\"'\\u0026amp;\\ufffd\\ufffd(");
	json_decref(v);
}

static void test_hostile_everywhere(void **state)
{
	static const char *const strs[] = { H, H };
	static const struct dash_attempt att[] = {
		{ 1, H, NOW_MS, NOW_MS, NOW_MS, 5, 1, 0, H } };
	static const struct dash_artifact art[] = { { H, H, 1 } };
	static const int64_t bl_jobs[] = { 1 };
	const struct dash_log_piece log[] = {
		{ 1, H "\n", sizeof H }, { 2, H "\n", sizeof H }, { 0, H, sizeof H - 1 },
	};
	struct dash_job j = {
		.id = 1, .build_id = 1, .platform = H, .state = H, .cached = 1,
		.cached_from = 2, .exit_code = 1, .buildlet = H, .error = H,
		.reason = H, .attempts = att, .n_attempts = 1, .artifacts = art,
		.n_artifacts = 1,
	};
	struct dash_build b = {
		.id = 1, .created_ms = NOW_MS, .command = H, .source = H,
		.commit = H, .requester = H, .env = strs, .n_env = 2,
		.labels = strs, .n_labels = 2, .jobs = &j, .n_jobs = 1,
	};
	struct dash_index ix = { .h = hdr, .builds = &b, .n_builds = 1,
				 .platforms = strs, .n_platforms = 1, .page = 1,
				 .n_pages = 1 };
	struct dash_buildlet bl = { H, H, strs, 2, strs, 2, 1, 1, bl_jobs, 1, H,
				    0, NOW_MS, 1, H };
	struct dash_failure fl = { &j, H, H, sizeof H - 1 };
	char *pages[6], *json;

	(void)state;
	pages[0] = RENDER(dashboard_render_index(&ix, &b_));
	pages[1] = RENDER(dashboard_render_build(&hdr, &b, &b_));
	pages[2] = RENDER(dashboard_render_job(&hdr, &b, &j, log, 3, &b_));
	pages[3] = RENDER(dashboard_render_buildlets(&hdr, &bl, 1, &b_));
	pages[4] = RENDER(dashboard_render_queue(&hdr, &j, 1, &b_));
	pages[5] = RENDER(dashboard_render_failures(&hdr, &fl, 1, &b_));
	for (int i = 0; i < 6; i++) {
		assert_hostile_ok(pages[i]);
		free(pages[i]);
	}
	/* An unknown state gets our own class, never the data's. */
	pages[0] = RENDER(dashboard_render_index(&ix, &b_));
	assert_has(pages[0], "class=\"cell s-unknown cached\"");
	assert_has(pages[0], "data-state=\"unknown\"");
	free(pages[0]);

	json = RENDER(dashboard_render_index_json(&ix, &b_));
	assert_hostile_json(json);
	free(json);
	json = RENDER(dashboard_render_build_json(&b, &b_));
	assert_hostile_json(json);
	free(json);
	/* The raw log is the bytes as they came: it is served as text/plain
	 * with nosniff, never as HTML. */
	json = RENDER(dashboard_render_log_text(log, 3, &b_));
	assert_int_equal(strlen(json), 3 * (sizeof H - 1) + 4);
	free(json);
}

static void test_null_strings_tolerated(void **state)
{
	struct dash_job j = { .id = 5, .build_id = 1, .exit_code = -1 };
	struct dash_build b = { .id = 1, .jobs = &j, .n_jobs = 1 };
	const char *cols[] = { NULL };
	struct dash_index ix = { .h = hdr, .builds = &b, .n_builds = 1,
				 .platforms = cols, .n_platforms = 1, .page = 1,
				 .n_pages = 1 };
	struct dash_buildlet bl = { 0 };
	struct dash_failure fl = { &j, NULL, NULL, 0 };
	char *page;

	(void)state;
	page = RENDER(dashboard_render_index(&ix, &b_));
	assert_has(page, "data-state=\"unknown\"");
	assert_clean_page(page);
	free(page);
	page = RENDER(dashboard_render_build(&hdr, &b, &b_));
	assert_clean_page(page);
	free(page);
	page = RENDER(dashboard_render_build_json(&b, &b_));
	json_decref(parse_json(page));
	free(page);
	page = RENDER(dashboard_render_job(&hdr, &b, &j, NULL, 0, &b_));
	assert_clean_page(page);
	free(page);
	page = RENDER(dashboard_render_buildlets(&hdr, &bl, 1, &b_));
	assert_clean_page(page);
	free(page);
	page = RENDER(dashboard_render_failures(&hdr, &fl, 1, &b_));
	assert_clean_page(page);
	free(page);
}

static void test_bad_arguments(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0, 0);
	assert_int_equal(dashboard_render_index(NULL, &b), RC_INVALID);
	assert_int_equal(dashboard_render_build(&hdr, NULL, &b), RC_INVALID);
	assert_int_equal(dashboard_render_job(&hdr, NULL, NULL, NULL, 0, &b),
			 RC_INVALID);
	assert_int_equal(dashboard_render_queue(&hdr, NULL, 2, &b), RC_INVALID);
	assert_int_equal(dashboard_render_log_text(NULL, 1, &b), RC_INVALID);
	assert_int_equal(b.len, 0);
	buf_free(&b);

	/* A capped buffer: the renderer reports the cap, never overruns. */
	{
		struct fixture f;
		struct dash_index ix;

		fixture_init(&f);
		ix = index_of(&f, 1, 1);
		buf_init(&b, 0, 512);
		assert_int_equal(dashboard_render_index(&ix, &b), RC_TOO_LARGE);
		assert_true(b.len <= 512);
		buf_free(&b);
	}
}

/* ---- assets ------------------------------------------------------------ */

static void test_assets(void **state)
{
	extern const char assets_css[], assets_js[];

	(void)state;
	assert_valid_utf8(assets_css);
	assert_valid_utf8(assets_js);
	/* Nothing fetched from elsewhere. */
	assert_lacks(assets_css, "@import");
	assert_lacks(assets_css, "url(");
	assert_lacks(assets_js, "http:");
	assert_lacks(assets_js, "https:");
	/* Data never becomes markup or code. */
	assert_lacks(assets_js, "innerHTML");
	assert_lacks(assets_js, "outerHTML");
	assert_lacks(assets_js, "insertAdjacentHTML");
	assert_lacks(assets_js, "document.write");
	assert_lacks(assets_js, "eval(");
	assert_lacks(assets_js, "new Function");
	/* The contract of dashboard.h, as live.js uses it. */
	assert_has(assets_js, "/api/v1/jobs/");
	assert_has(assets_js, "/log?follow=1");
	assert_has(assets_js, "getReader()");
	assert_has(assets_js, "data-bytes");
	assert_has(assets_js, "a.cell[data-job=");
	assert_has(assets_css, ".s-passed");
	assert_has(assets_css, ".matrix.many th.plat span");
	assert_has(assets_css, "prefers-reduced-motion");
}

/* ---- repositories: the matrix by commit -------------------------------- */

#define HASH_A "0123456789abcdef0123456789abcdef01234567"
#define HASH_B "89abcdef0123456789abcdef0123456789abcdef"
#define UNBUILT "<span class=\"cell s-unbuilt\" data-state=\"unbuilt\" " \
	"title=\"not built yet\">\xE2\x97\x8C<span class=\"t\"> not built " \
	"yet</span></span>"

static const char *const repo_builders[] = { "linux-test", "mac-test",
					     "extra" };

struct repo_fixture {
	struct fixture f;
	const struct dash_job *cells[2][3];
	struct dash_commit commits[2];
};

static struct dash_repo_page repo_of(struct repo_fixture *r, int page,
				     int n_pages)
{
	fixture_init(&r->f);
	memset(r->cells, 0, sizeof r->cells);
	r->cells[0][0] = &r->f.jobs7[0];
	r->cells[0][2] = &r->f.jobs7[2];
	r->cells[1][1] = &r->f.jobs7[1];
	r->commits[0] = (struct dash_commit){
		.id = 12, .hash = HASH_A, .subject = "Fix the frobnicator",
		.author = "Ann <ann@example.org>", .time_ms = NOW_MS - 7200000,
		.branch = "main", .cells = r->cells[0],
	};
	r->commits[1] = (struct dash_commit){
		.id = 11, .hash = HASH_B, .subject = "Break it",
		.author = "Bob <bob@example.org>", .time_ms = NOW_MS - 90000,
		.branch = "", .cells = r->cells[1],
	};
	return (struct dash_repo_page){
		.h = hdr,
		.repo = { 5, "https://example.org/app.git", 1, NOW_MS - 30000,
			  "", 120 },
		.builders = repo_builders, .n_builders = 3,
		.commits = r->commits, .n_commits = 2,
		.page = page, .n_pages = n_pages,
	};
}

static void test_repo_page(void **state)
{
	struct repo_fixture r;
	struct dash_repo_page rp = repo_of(&r, 1, 3);
	char *page;

	(void)state;
	page = RENDER(dashboard_render_repo(&rp, &b_));
	assert_has(page, "<link rel=\"stylesheet\" href=\"../style.css\">");
	assert_has(page, "<script src=\"../live.js\" defer></script>");
	assert_has(page, "<a href=\"../repos/index.html\">Repositories</a>");
	assert_has(page, "<main data-poll=\"5.json\" data-root=\"../\">");
	assert_has(page, "<h1>Commits of <code>https://example.org/app.git"
			 "</code></h1>");
	assert_has(page, "120 commits");
	/* Columns: the builders in the order given, the sticky corner. */
	assert_has(page, "<th scope=\"col\" class=\"build\">commit</th><th "
			 "scope=\"col\" class=\"plat\"><span>linux-test</span>"
			 "</th><th scope=\"col\" class=\"plat\"><span>mac-test"
			 "</span></th><th scope=\"col\" class=\"plat\"><span>"
			 "extra</span></th></tr>");
	assert_lacks(page, "matrix many");
	/* A row: hash, subject, author, time, branch, then the cells. */
	assert_has(page, "<tr data-commit=\"" HASH_A "\"><th scope=\"row\" "
			 "class=\"build\"><code class=\"commit\" title=\"" HASH_A
			 "\">0123456789</code> <span class=\"subject\" title=\""
			 "Fix the frobnicator\">Fix the frobnicator</span>"
			 "<span class=\"by\">Ann &lt;ann@example.org&gt; &middot; "
			 "<time datetime=\"2026-11-22T08:00:00Z\" title=\""
			 "2026-11-22T08:00:00Z\">2h ago</time> &middot; <span "
			 "class=\"branch\">main</span></span></th>");
	assert_has(page, "<td data-builder=\"linux-test\"><a class=\"cell "
			 "s-passed\" href=\"../jobs/70.html\" data-job=\"70\" "
			 "data-state=\"passed\"");
	assert_has(page, "<td class=\"none\" data-builder=\"mac-test\">"
		   UNBUILT "</td>");
	assert_has(page, "1m ago</time></span></th>"); /* no branch */
	assert_int_equal(count_of(page, UNBUILT), 3);
	assert_int_equal(count_of(page, "<a class=\"cell "), 3);
	/* Page 1 of 3: older pages are ID-page-N.html. */
	assert_has(page, "<a rel=\"next\" href=\"5-page-2.html\">older");
	assert_has(page, " <a href=\"5-page-3.html\">3</a>");
	assert_lacks(page, "rel=\"prev\"");
	assert_clean_page(page);
	free(page);
}

static void test_repo_pages_and_empty(void **state)
{
	struct repo_fixture r;
	struct dash_repo_page rp = repo_of(&r, 2, 3);
	static const char *const many[] = { "a", "b", "c", "d", "e", "f", "g" };
	static const struct dash_job *const none[7];
	char *page;

	(void)state;
	page = RENDER(dashboard_render_repo(&rp, &b_));
	assert_has(page, ", page 2 of 3</h1>");
	assert_has(page, "<a rel=\"prev\" href=\"5.html\">&larr; newer</a>");
	assert_has(page, "<a rel=\"next\" href=\"5-page-3.html\">older");
	assert_lacks(page, "data-poll"); /* only page 1 has a JSON twin */
	assert_clean_page(page);
	free(page);
	/* Seven builders: compact matrix, heads turned. */
	rp = repo_of(&r, 1, 1);
	rp.builders = many;
	rp.n_builders = 7;
	rp.n_commits = 0;
	rp.repo.last_error = "git ls-remote: exit 128";
	rp.repo.watched = 0;
	page = RENDER(dashboard_render_repo(&rp, &b_));
	assert_has(page, "No commits recorded yet");
	assert_has(page, "no longer watched");
	assert_has(page, "<p class=\"poll-error\" role=\"status\">The last poll "
			 "failed: git ls-remote: exit 128</p>");
	assert_lacks(page, "class=\"pager\"");
	assert_clean_page(page);
	free(page);
	rp.n_commits = 2;
	r.commits[0].cells = r.commits[1].cells = none; /* one per builder */
	page = RENDER(dashboard_render_repo(&rp, &b_));
	assert_int_equal(count_of(page, UNBUILT), 14);
	assert_has(page, "<table class=\"matrix many\">");
	free(page);
}

static void test_repo_json(void **state)
{
	struct repo_fixture r;
	struct dash_repo_page rp = repo_of(&r, 1, 3);
	char *text;
	json_t *v, *c0, *cell;

	(void)state;
	text = RENDER(dashboard_render_repo_json(&rp, &b_));
	v = parse_json(text);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(v, "repo"), "id")), 5);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(v, "repo"), "url")), "https://example.org/app.git");
	assert_true(json_is_true(json_object_get(json_object_get(v, "repo"),
						 "watched")));
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(v, "repo"), "commits")), 120);
	assert_int_equal(json_integer_value(json_object_get(v, "page")), 1);
	assert_int_equal(json_integer_value(json_object_get(v, "n_pages")), 3);
	assert_int_equal(json_array_size(json_object_get(v, "builders")), 3);
	assert_int_equal(json_array_size(json_object_get(v, "commits")), 2);
	c0 = json_array_get(json_object_get(v, "commits"), 0);
	assert_string_equal(json_string_value(json_object_get(c0, "hash")), HASH_A);
	assert_string_equal(json_string_value(json_object_get(c0, "short")),
			    "0123456789");
	assert_string_equal(json_string_value(json_object_get(c0, "author")),
			    "Ann <ann@example.org>");
	assert_string_equal(json_string_value(json_object_get(c0, "time")),
			    "2026-11-22T08:00:00Z");
	cell = json_object_get(json_object_get(c0, "cells"), "linux-test");
	assert_int_equal(json_integer_value(json_object_get(cell, "job")), 70);
	assert_int_equal(json_integer_value(json_object_get(cell, "id")), 70);
	assert_int_equal(json_integer_value(json_object_get(cell, "build")), 7);
	assert_string_equal(json_string_value(json_object_get(cell, "state")),
			    "passed");
	assert_true(json_is_null(json_object_get(json_object_get(c0, "cells"),
						 "mac-test")));
	assert_int_equal(json_object_size(json_object_get(c0, "cells")), 3);
	json_decref(v);
	free(text);
}

static void test_repos_list(void **state)
{
	const struct dash_repo repos[] = {
		{ 5, "https://example.org/app.git", 1, NOW_MS - 30000, "", 120 },
		{ 6, "https://example.org/old.git", 0, 0,
		  "fatal: repository not found", 1 },
	};
	struct fixture f;
	struct dash_index ix;
	char *page;

	(void)state;
	page = RENDER(dashboard_render_repos(&hdr, repos, 2, &b_));
	assert_has(page, "<a href=\"../index.html\">Matrix</a>");
	assert_has(page, "<tr><th scope=\"row\"><a href=\"5.html\">https://"
			 "example.org/app.git</a></th><td><span class=\"on\">"
			 "watched</span></td><td><time datetime=\"2026-11-22T09:"
			 "59:30Z\" title=\"2026-11-22T09:59:30Z\">30s ago</time>"
			 "</td><td class=\"num\">120</td><td></td></tr>");
	assert_has(page, "<span class=\"off\">not watched</span>");
	assert_has(page, "<strong class=\"poll-error\">fatal: repository not "
			 "found</strong>");
	assert_lacks(page, "data-poll");
	assert_clean_page(page);
	free(page);
	page = RENDER(dashboard_render_repos(&hdr, NULL, 0, &b_));
	assert_has(page, "No repository is watched.");
	assert_clean_page(page);
	free(page);
	/* The matrix names the watched ones only, on page 1. */
	fixture_init(&f);
	ix = index_of(&f, 1, 2);
	ix.repos = repos;
	ix.n_repos = 2;
	page = RENDER(dashboard_render_index(&ix, &b_));
	assert_has(page, "<nav class=\"repos\" aria-label=\"repositories\">"
			 "Commits of <a href=\"repos/5.html\">https://example.org"
			 "/app.git</a></nav>");
	assert_lacks(page, "repos/6.html");
	assert_clean_page(page);
	free(page);
	ix.page = 2;
	page = RENDER(dashboard_render_index(&ix, &b_));
	assert_lacks(page, "repos/5.html");
	free(page);
}

/* Every page, rendered with header h; the caller frees them. */
static size_t render_all(const struct dash_header *h, char **pages)
{
	struct repo_fixture r;
	struct dash_repo_page rp = repo_of(&r, 1, 1);
	struct dash_index ix = index_of(&r.f, 1, 1);
	struct dash_failure fl = { &r.f.jobs7[1], "make", "", 0 };
	size_t n = 0;

	rp.h = *h;
	ix.h = *h;
	pages[n++] = RENDER(dashboard_render_index(&ix, &b_));
	pages[n++] = RENDER(dashboard_render_build(h, &r.f.builds[0], &b_));
	pages[n++] = RENDER(dashboard_render_job(h, &r.f.builds[0],
						 &r.f.jobs7[0], NULL, 0, &b_));
	pages[n++] = RENDER(dashboard_render_buildlets(h, NULL, 0, &b_));
	pages[n++] = RENDER(dashboard_render_queue(h, NULL, 0, &b_));
	pages[n++] = RENDER(dashboard_render_failures(h, &fl, 1, &b_));
	pages[n++] = RENDER(dashboard_render_repo(&rp, &b_));
	pages[n++] = RENDER(dashboard_render_repos(h, &rp.repo, 1, &b_));
	return n;
}

static void test_alert_banner(void **state)
{
	const struct dash_alert alerts[] = {
		{ "linux-arm64", 1, 0, "ops@example.org" },
		{ "linux-amd64", 2, 2, "ops@example.org" }, /* enough */
		{ "darwin-arm64", 3, 1, "" },
	};
	struct dash_header h = hdr;
	char *pages[8];
	size_t n;

	(void)state;
	h.alerts = alerts;
	h.n_alerts = 3;
	n = render_all(&h, pages);
	for (size_t i = 0; i < n; i++) {
		assert_has(pages[i], "</header>\n<div class=\"alerts\" role=\""
				     "alert\">\n<p class=\"alert\">linux-arm64: 0 "
				     "of 1 machines connected \xE2\x80\x94 owner "
				     "ops@example.org</p>\n<p class=\"alert\">"
				     "darwin-arm64: 1 of 3 machines connected</p>"
				     "\n</div>\n<main");
		assert_lacks(pages[i], "linux-amd64:");
		assert_clean_page(pages[i]);
		free(pages[i]);
	}
	/* No host type short: no banner at all. */
	h.n_alerts = 1;
	h.alerts = alerts + 1;
	n = render_all(&h, pages);
	for (size_t i = 0; i < n; i++) {
		assert_lacks(pages[i], "class=\"alerts\"");
		assert_lacks(pages[i], "role=\"alert\"");
		free(pages[i]);
	}
}

static void test_repo_hostile(void **state)
{
	const struct dash_alert alerts[] = { { H, 2, 1, H } };
	const char *const builders[] = { H, "ok" };
	struct repo_fixture r;
	struct dash_repo_page rp = repo_of(&r, 1, 2);
	struct dash_header h = hdr;
	struct dash_commit c;
	const struct dash_job *cells[2] = { NULL, NULL };
	char *pages[8], *json;
	size_t n;

	(void)state;
	h.alerts = alerts;
	h.n_alerts = 1;
	/* The banner is on every page: each holds H escaped. */
	n = render_all(&h, pages);
	for (size_t i = 0; i < n; i++) {
		assert_hostile_ok(pages[i]);
		free(pages[i]);
	}
	cells[0] = &r.f.jobs7[0];
	c = (struct dash_commit){ 1, H, H, H, NOW_MS, H, cells };
	rp.h = hdr;
	rp.repo = (struct dash_repo){ 5, H, 1, NOW_MS, H, 1 };
	rp.builders = builders;
	rp.n_builders = 2;
	rp.commits = &c;
	rp.n_commits = 1;
	pages[0] = RENDER(dashboard_render_repo(&rp, &b_));
	pages[1] = RENDER(dashboard_render_repos(&hdr, &rp.repo, 1, &b_));
	for (int i = 0; i < 2; i++) {
		assert_hostile_ok(pages[i]);
		free(pages[i]);
	}
	json = RENDER(dashboard_render_repo_json(&rp, &b_));
	assert_hostile_json(json);
	free(json);
}

/* ---- writing the directory --------------------------------------------- */

static char *tmpdir_make(void)
{
	char tmpl[] = "/tmp/test_dashboard.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void assert_file(const char *dir, const char *rel, const char *needle)
{
	char *path = xasprintf("%s/%s", dir, rel), *text = NULL;
	struct stat st;
	size_t len;

	if (stat(path, &st))
		fail_msg("missing file %s", rel);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(fs_read_all(path, 1 << 24, &text, &len, NULL), RC_OK);
	if (!strstr(text, needle))
		fail_msg("%s lacks %s", rel, needle);
	free(text);
	free(path);
}

/* Files in dir (not recursing) whose name does not look like a page. */
static int stray_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] == '.' && strcmp(e->d_name, ".") &&
		     strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void test_write_everything(void **state)
{
	static const struct dash_log_piece log[] = { { 1, "built\n", 6 } };
	struct fixture f;
	struct dash_index ix;
	struct dash_failure fl;
	struct errbuf eb = { "" };
	char *root = tmpdir_make(), *dir = xasprintf("%s/out/dash", root);
	char *sub;

	(void)state;
	fixture_init(&f);
	ix = index_of(&f, 1, 2);
	fl = (struct dash_failure){ &f.jobs7[1], "make test", "boom\n", 5 };
	assert_int_equal(dashboard_write_assets(dir, &eb), RC_OK);
	assert_int_equal(dashboard_write_index(&ix, dir, &eb), RC_OK);
	ix.page = 2;
	assert_int_equal(dashboard_write_index(&ix, dir, &eb), RC_OK);
	assert_int_equal(dashboard_write_build(&hdr, &f.builds[0], dir, &eb),
			 RC_OK);
	assert_int_equal(dashboard_write_job(&hdr, &f.builds[0], &f.jobs7[0],
					     log, 1, dir, &eb), RC_OK);
	assert_int_equal(dashboard_write_buildlets(&hdr, NULL, 0, dir, &eb),
			 RC_OK);
	assert_int_equal(dashboard_write_queue(&hdr, NULL, 0, dir, &eb), RC_OK);
	assert_int_equal(dashboard_write_failures(&hdr, &fl, 1, dir, &eb),
			 RC_OK);
	{
		struct repo_fixture r;
		struct dash_repo_page rp = repo_of(&r, 1, 2);

		assert_int_equal(dashboard_write_repo(&rp, dir, &eb), RC_OK);
		rp.page = 2;
		assert_int_equal(dashboard_write_repo(&rp, dir, &eb), RC_OK);
		assert_int_equal(dashboard_write_repos(&hdr, &rp.repo, 1, dir,
						       &eb), RC_OK);
	}
	assert_string_equal(eb.msg, "");
	assert_file(dir, "repos/5.html", "href=\"5-page-2.html\"");
	assert_file(dir, "repos/5.json", "\"n_pages\":2,");
	assert_file(dir, "repos/5-page-2.html", "href=\"5.html\">&larr; newer");
	assert_file(dir, "repos/index.html", "href=\"5.html\"");
	sub = xasprintf("%s/repos/5-page-2.json", dir);
	assert_int_not_equal(access(sub, F_OK), 0);
	free(sub);
	assert_file(dir, "style.css", ".s-failed");
	assert_file(dir, "live.js", "getReader");
	assert_file(dir, "index.html", "href=\"page-2.html\"");
	assert_file(dir, "index.json", "\"builds\":[");
	assert_file(dir, "page-2.html", "href=\"index.html\">&larr; newer");
	assert_file(dir, "builds/7.html", "<h1>Build #7</h1>");
	assert_file(dir, "builds/7.json", "\"id\":7,");
	assert_file(dir, "jobs/70.html", "built\n</span></pre>");
	assert_file(dir, "jobs/70.log", "built\n");
	/* A raw log streamed piece by piece, a cut framed on its own line;
	 * one not committed leaves nothing behind. */
	{
		struct dash_log_file *lf = NULL;
		char *text = NULL;
		size_t len;

		assert_int_equal(dashboard_log_file_open(dir, 71, &lf, &eb), RC_OK);
		dashboard_log_file_write(lf, 1, "a", 1);
		dashboard_log_file_write(lf, 0, "[rfarm: 5 bytes of log cut here]", 32);
		dashboard_log_file_write(lf, 2, "b\n", 2);
		assert_int_equal(dashboard_log_file_close(&lf, 1, &eb), RC_OK);
		assert_null(lf);
		sub = xasprintf("%s/jobs/71.log", dir);
		assert_int_equal(fs_read_all(sub, 1 << 20, &text, &len, NULL), RC_OK);
		assert_string_equal(text, "a\n[rfarm: 5 bytes of log cut here]\nb\n");
		free(text);
		free(sub);
		assert_int_equal(dashboard_log_file_open(dir, 72, &lf, &eb), RC_OK);
		dashboard_log_file_write(lf, 1, "gone\n", 5);
		assert_int_equal(dashboard_log_file_close(&lf, 0, NULL), RC_OK);
		sub = xasprintf("%s/jobs/72.log", dir);
		assert_int_not_equal(access(sub, F_OK), 0);
		free(sub);
	}
	assert_file(dir, "buildlets.html", "<h1>Buildlets</h1>");
	assert_file(dir, "queue.html", "Nothing waits.");
	assert_file(dir, "failures.html", "boom");
	/* Only page 1 has a JSON twin; no temporary file is left. */
	sub = xasprintf("%s/page-2.json", dir);
	assert_int_not_equal(access(sub, F_OK), 0);
	free(sub);
	assert_int_equal(stray_files(dir), 0);
	sub = xasprintf("%s/jobs", dir);
	assert_int_equal(stray_files(sub), 0);
	free(sub);
	assert_int_equal(fs_remove_tree(root, NULL), RC_OK);
	free(dir);
	free(root);
}

static void test_write_fails_cleanly(void **state)
{
	struct fixture f;
	struct errbuf eb = { "" };
	char *root = tmpdir_make(), *file = xasprintf("%s/file", root);
	char *dir = xasprintf("%s/dash", file);

	(void)state;
	fixture_init(&f);
	assert_int_equal(fs_write_atomic(file, "x", 1, 0644, NULL), RC_OK);
	assert_int_not_equal(dashboard_write_build(&hdr, &f.builds[0], dir, &eb),
			     RC_OK);
	assert_non_null(strstr(eb.msg, "Not a directory"));
	errbuf_clear(&eb);
	assert_int_equal(dashboard_write_assets("", &eb), RC_INVALID);
	assert_non_null(strstr(eb.msg, "no output directory"));
	errbuf_clear(&eb);
	assert_int_equal(dashboard_write_index(NULL, root, &eb), RC_INVALID);
	assert_int_equal(stray_files(root), 0);
	assert_int_equal(fs_remove_tree(root, NULL), RC_OK);
	free(dir);
	free(file);
	free(root);
}

/* ---- cost -------------------------------------------------------------- */

/* 10,000 builds x 8 platforms, one index page of DASH_PAGE_BUILDS at a
 * time (as the coordinator renders them); prints the time it took. */
static void test_large_history(void **state)
{
	enum { BUILDS = 10000, PLATS = 8 };
	static const char *const cols[PLATS] = {
		"linux/amd64", "linux/arm64", "linux/386", "darwin/amd64",
		"darwin/arm64", "windows/amd64", "freebsd/amd64", "openbsd/amd64" };
	struct dash_build *b = xcalloc(BUILDS, sizeof *b);
	struct dash_job *j = xcalloc(BUILDS * PLATS, sizeof *j);
	int n_pages = (BUILDS + DASH_PAGE_BUILDS - 1) / DASH_PAGE_BUILDS;
	struct buf out;
	size_t bytes = 0;
	int64_t t0, ms;

	(void)state;
	for (int i = 0; i < BUILDS; i++) {
		for (int p = 0; p < PLATS; p++) {
			struct dash_job *x = &j[i * PLATS + p];

			*x = job_make(i * PLATS + p + 1, BUILDS - i, cols[p],
				      (i + p) % 7 ? "passed" : "failed");
			x->duration_ms = 1000 + i;
			x->exit_code = (i + p) % 7 ? 0 : 1;
		}
		b[i] = (struct dash_build){ .id = BUILDS - i,
			.created_ms = NOW_MS - i * 1000,
			.command = "go test ./... && go vet ./...",
			.commit = "", .jobs = &j[i * PLATS], .n_jobs = PLATS };
	}
	buf_init(&out, 0, 0);
	t0 = clock_mono_ms();
	for (int p = 0; p < n_pages; p++) {
		struct dash_index ix = { .h = hdr, .builds = b + p *
					 DASH_PAGE_BUILDS, .n_builds =
					 DASH_PAGE_BUILDS, .platforms = cols,
					 .n_platforms = PLATS, .page = p + 1,
					 .n_pages = n_pages };

		buf_reset(&out);
		assert_int_equal(dashboard_render_index(&ix, &out), RC_OK);
		bytes += out.len;
	}
	ms = clock_mono_ms() - t0;
	print_message("index of %d builds x %d platforms: %d pages, %zu bytes "
		      "in %lld ms\n", BUILDS, PLATS, n_pages, bytes, (long long)ms);
	assert_true(ms < 5000); /* generous: sanitizers, shared machine */
	buf_free(&out);
	free(j);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_frame),
		cmocka_unit_test(test_index_cells),
		cmocka_unit_test(test_index_many_platforms),
		cmocka_unit_test(test_index_empty),
		cmocka_unit_test(test_index_pagination),
		cmocka_unit_test(test_index_json),
		cmocka_unit_test(test_build_page),
		cmocka_unit_test(test_build_json),
		cmocka_unit_test(test_job_log_lines),
		cmocka_unit_test(test_job_log_edge_cases),
		cmocka_unit_test(test_job_header),
		cmocka_unit_test(test_job_log_tail),
		cmocka_unit_test(test_job_log_tail_matches_whole),
		cmocka_unit_test(test_buildlets_page),
		cmocka_unit_test(test_queue_page),
		cmocka_unit_test(test_failures_page),
		cmocka_unit_test(test_hostile_everywhere),
		cmocka_unit_test(test_null_strings_tolerated),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_assets),
		cmocka_unit_test(test_write_everything),
		cmocka_unit_test(test_write_fails_cleanly),
		cmocka_unit_test(test_large_history),
		cmocka_unit_test(test_repo_page),
		cmocka_unit_test(test_repo_pages_and_empty),
		cmocka_unit_test(test_repo_json),
		cmocka_unit_test(test_repos_list),
		cmocka_unit_test(test_alert_banner),
		cmocka_unit_test(test_repo_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
