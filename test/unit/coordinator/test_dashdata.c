/*
 * test_dashdata.c - the dashboard's pages from a fixture database.
 *
 * A real SQLite store (through the store API) holds builds in every
 * state, a cached job, a capped log, a buildlet and a revoked enrolment,
 * with <script>, quotes, & and invalid UTF-8 in every field that takes
 * them. A second fixture holds watched repositories: 53 commits (two
 * pages), builds of some (commit, builder) cells, a hostile commit. dashdata writes every page with the real dashboard writers into a
 * temporary directory; the tests read the files back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "dashdata.h"
#include "fsutil.h"
#include "store.h"
#include "xalloc.h"

#define NOW 1700000000000LL
#define HOSTILE "<script>alert(1)</script>\"&amp;'"

struct fx {
	char *dir;          /* temporary directory */
	char *out;          /* dir/dash: the pages */
	struct store *s;    /* dir/rfarm.db */
	struct dashdata d;  /* reads s, writes out */
	int64_t build_ok;   /* passed + failed + cached jobs, hostile spec */
	int64_t build_live; /* running + queued jobs */
	int64_t passed, failed, cached, running, queued, capped; /* job ids */
};

/* A finished attempt 1 of job with these log lines (stream 1 or 2). */
static void run_job(struct store *s, int64_t job, enum job_state st, int code,
		    const char *const *lines, const int *streams, size_t n)
{
	int64_t cut;

	assert_int_equal(store_job_dispatch(s, job, 1, "b1", NOW + 10), RC_OK);
	assert_int_equal(store_job_started(s, job, 1, NOW + 20), RC_OK);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(store_log_append(s, job, 1, (int64_t)i, streams[i],
						  lines[i], strlen(lines[i]), 0,
						  &cut), RC_OK);
	if (st != JOB_RUNNING)
		assert_int_equal(store_job_finish(s, job, 1, st, code, 0, 1500,
						  st == JOB_ERROR ? HOSTILE "\xff" : "",
						  NOW + 2000), RC_OK);
}

static void fixture_ok_build(struct fx *f)
{
	static const char *const ok_log[] = {"compiling <b>&amp;\n",
					     "warning: \xff\xfe bad bytes\n",
					     "PASS\n"};
	static const int ok_streams[] = {1, 2, 1};
	const char *spec = "{\"command\":[\"make\",\"" "<script>alert(1)</script>"
			   "\",\"\\\"q\\\"\",\"&\"],\"env\":{\"K\":\"<v>&\\\"\"},"
			   "\"labels\":[\"<l>\"],\"source\":{\"git\":{\"url\":"
			   "\"https://x/<r>.git\",\"ref\":\"main&\"}}}";
	struct store_artifact art = {"out/<a>&\xff.bin", "ab12", 42};
	const char *fail_log[30];
	int fail_streams[30];
	char lines[30][32];
	struct store_job from;

	assert_int_equal(store_build_insert(f->s, NOW, 0, spec, &f->build_ok), RC_OK);
	assert_int_equal(store_build_set_requester(f->s, f->build_ok,
						   "alice<script>&\"\xff"), RC_OK);
	assert_int_equal(store_job_insert(f->s, f->build_ok, "linux/amd64", "[]", 0,
					  NOW, &f->passed), RC_OK);
	assert_int_equal(store_job_insert(f->s, f->build_ok, "linux/arm64", "[]", 0,
					  NOW, &f->failed), RC_OK);
	assert_int_equal(store_job_insert(f->s, f->build_ok, "darwin/arm64", "[]", 0,
					  NOW, &f->cached), RC_OK);
	run_job(f->s, f->passed, JOB_PASSED, 0, ok_log, ok_streams, 3);
	assert_int_equal(store_artifacts_set(f->s, f->passed, &art, 1), RC_OK);
	assert_int_equal(store_job_set_commit(f->s, f->passed,
					      "c0ffee<script>"), RC_OK);
	/* 30 lines: the failures page shows the last 20. */
	for (int i = 0; i < 30; i++) {
		snprintf(lines[i], sizeof lines[i], "fail-line-%02d <x>\n", i + 1);
		fail_log[i] = lines[i];
		fail_streams[i] = i % 2 ? 2 : 1;
	}
	run_job(f->s, f->failed, JOB_FAILED, 2, fail_log, fail_streams, 30);
	assert_int_equal(store_job_get(f->s, f->passed, &from), RC_OK);
	assert_int_equal(store_job_answer_from(f->s, f->cached, &from, NOW + 3000),
			 RC_OK);
	store_job_clear(&from);
}

static void fixture_live_build(struct fx *f)
{
	static const char *const run_log[] = {"still going\n"};
	static const int one[] = {1};
	char big[400];
	int64_t cut, error_job;

	assert_int_equal(store_build_insert(f->s, NOW + 5000, 0,
					    "{\"script\":\"echo live\"}",
					    &f->build_live), RC_OK);
	assert_int_equal(store_job_insert(f->s, f->build_live, "linux/amd64", "[]",
					  0, NOW + 5000, &f->running), RC_OK);
	assert_int_equal(store_job_insert(f->s, f->build_live, "plan9/<p>", "[]",
					  0, NOW + 5000, &f->queued), RC_OK);
	assert_int_equal(store_job_insert(f->s, f->build_live, "linux/386", "[]",
					  0, NOW + 5000, &f->capped), RC_OK);
	assert_int_equal(store_job_insert(f->s, f->build_live, "linux/riscv64", "[]",
					  0, NOW + 5000, &error_job), RC_OK);
	run_job(f->s, f->running, JOB_RUNNING, 0, run_log, one, 1);
	assert_int_equal(store_job_set_reason(f->s, f->queued,
					      "waiting for <b>a plan9</b> & \"more\""),
			 RC_OK);
	/* A log over its cap of 1000 bytes: head, a cut, the tail. */
	assert_int_equal(store_job_dispatch(f->s, f->capped, 1, "b1", NOW), RC_OK);
	for (int i = 0; i < 10; i++) {
		memset(big, 'a' + i, sizeof big - 1);
		big[sizeof big - 2] = '\n';
		big[sizeof big - 1] = '\0';
		assert_int_equal(store_log_append(f->s, f->capped, 1, i, 1, big,
						  strlen(big), 1000, &cut), RC_OK);
	}
	run_job(f->s, error_job, JOB_ERROR, -1, NULL, NULL, 0);
}

static void fixture_buildlets(struct fx *f)
{
	struct store_buildlet b = {"b1", "linux-amd64", "[\"linux/amd64\"]",
				   "[\"<fast>\"]", "0.1.0", 2, NOW, NOW, 0};

	assert_int_equal(store_buildlet_upsert(f->s, &b), RC_OK);
	assert_int_equal(store_enrol_put(f->s, "gone-one", "linux-arm64", "[]",
					 "00", NOW, 0), RC_OK);
	assert_int_equal(store_enrol_revoke(f->s, "gone-one"), RC_OK);
}

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");
	struct fx *f = xcalloc(1, sizeof *f);
	struct errbuf eb = {""};
	char *path;

	f->dir = xasprintf("%s/rfarm-test-dashdata.XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	path = xasprintf("%s/rfarm.db", f->dir);
	f->out = xasprintf("%s/dash", f->dir);
	if (store_open(path, &f->s, &eb)) {
		fprintf(stderr, "store_open: %s\n", eb.msg);
		return -1;
	}
	free(path);
	fixture_ok_build(f);
	fixture_live_build(f);
	fixture_buildlets(f);
	assert_int_equal(store_flush(f->s), RC_OK);
	f->d = (struct dashdata){.store = f->s, .dir = f->out};
	dashdata_header(&f->d, 0, NOW + 10000);
	if (dashdata_all(&f->d, &eb)) {
		fprintf(stderr, "dashdata_all: %s\n", eb.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int r = system(cmd);

	store_close(&f->s);
	free(cmd);
	free(f->out);
	free(f->dir);
	free(f);
	return r == 0 ? 0 : -1;
}

/* The file at out/NAME (printf-style), NUL-terminated; fails if missing. */
static char *page(struct fx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *page(struct fx *f, const char *fmt, ...)
{
	char name[128], *path, *text = NULL;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	path = xasprintf("%s/%s", f->out, name);
	if (fs_read_all(path, 64 << 20, &text, &len, NULL)) {
		fprintf(stderr, "missing page %s\n", name);
		fail();
	}
	free(path);
	return text;
}

/* Whether out/NAME (printf-style) is there. */
static int exists(struct fx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int exists(struct fx *f, const char *fmt, ...)
{
	char name[128], *path;
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	path = xasprintf("%s/%s", f->out, name);
	r = access(path, F_OK) == 0;
	free(path);
	return r;
}

static void has(const char *text, const char *needle)
{
	if (!strstr(text, needle)) {
		fprintf(stderr, "expected to find [%s]\n", needle);
		fail();
	}
}

static void lacks(const char *text, const char *needle)
{
	if (strstr(text, needle)) {
		fprintf(stderr, "did not expect [%s]\n", needle);
		fail();
	}
}

/* Nothing a user or a build wrote comes out as markup or bad UTF-8. */
static void safe(const char *text)
{
	lacks(text, "<script>");
	lacks(text, "<b>");
	lacks(text, "\xff");
	lacks(text, "\xfe");
}

static char *cell(int64_t job, const char *state)
{
	return xasprintf("href=\"jobs/%lld.html\" data-job=\"%lld\" "
			 "data-state=\"%s\"", (long long)job, (long long)job, state);
}

static void test_every_page_written(void **state)
{
	struct fx *f = *state;
	const char *names[] = {"index.html", "index.json", "buildlets.html",
			       "queue.html", "failures.html", "style.css", "live.js"};
	int64_t jobs[] = {f->passed, f->failed, f->cached, f->running, f->queued,
			  f->capped};

	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		free(page(f, "%s", names[i]));
	free(page(f, "builds/%lld.html", (long long)f->build_ok));
	free(page(f, "builds/%lld.json", (long long)f->build_live));
	for (size_t i = 0; i < sizeof jobs / sizeof *jobs; i++) {
		free(page(f, "jobs/%lld.html", (long long)jobs[i]));
		/* The raw log once the job has ended; before, the API's. */
		if (i < 3)
			free(page(f, "jobs/%lld.log", (long long)jobs[i]));
		else
			assert_false(exists(f, "jobs/%lld.log", (long long)jobs[i]));
	}
	/* 2 builds: one index page, 2 builds, 7 jobs, 3 lists, and
	 * repos/index.html (no repository). */
	assert_int_equal(f->d.pages, 1 + 2 + 7 + 3 + 1);
}

static void test_index_cells(void **state)
{
	struct fx *f = *state;
	char *ix = page(f, "index.html"), *c;
	struct { int64_t job; const char *st; } cells[] = {
		{f->passed, "passed"}, {f->failed, "failed"}, {f->cached, "passed"},
		{f->running, "running"}, {f->queued, "queued"},
	};

	for (size_t i = 0; i < sizeof cells / sizeof *cells; i++) {
		has(ix, c = cell(cells[i].job, cells[i].st));
		free(c);
	}
	has(ix, "cached");
	/* Columns are the platforms seen, escaped. */
	has(ix, "linux/arm64");
	has(ix, "plan9/&lt;p&gt;");
	safe(ix);
	free(ix);
}

static void test_build_page(void **state)
{
	struct fx *f = *state;
	char *b = page(f, "builds/%lld.html", (long long)f->build_ok);
	char *j = page(f, "builds/%lld.json", (long long)f->build_ok);

	has(b, "&lt;script&gt;alert(1)&lt;/script&gt;");
	has(b, "&quot;q&quot;");
	has(b, "alice&lt;script&gt;&amp;&quot;");  /* requester */
	has(b, "K=&lt;v&gt;&amp;&quot;");          /* env */
	has(b, "&lt;l&gt;");                        /* label */
	has(b, "https://x/&lt;r&gt;.git");          /* source */
	has(b, "main&amp;");                         /* ref */
	has(b, "c0ffee&lt;script&gt;");              /* resolved commit */
	has(b, "out/&lt;a&gt;&amp;");                /* artifact */
	has(b, "ab12");
	has(b, ">b1<");                              /* attempt's buildlet */
	safe(b);
	/* The JSON twin is JSON-escaped, and also never raw markup. */
	has(j, "alice");
	lacks(j, "\xff");
	free(b);
	free(j);
}

static void test_job_pages(void **state)
{
	struct fx *f = *state;
	char *ok = page(f, "jobs/%lld.html", (long long)f->passed);
	char *raw = page(f, "jobs/%lld.log", (long long)f->passed);
	char *cached = page(f, "jobs/%lld.html", (long long)f->cached);
	char *capped = page(f, "jobs/%lld.html", (long long)f->capped);
	char *api = xasprintf("<a href=\"/api/v1/jobs/%lld/log\">raw log</a>",
			      (long long)f->capped);

	has(ok, "id=\"L1\" class=\"out\"");
	has(ok, "id=\"L2\" class=\"err\"");
	has(ok, "compiling &lt;b&gt;&amp;amp;");
	safe(ok);
	/* The raw text is the log byte for byte. */
	assert_string_equal(raw, "compiling <b>&amp;\nwarning: \xff\xfe bad "
			    "bytes\nPASS\n");
	/* A cached job shows the log of the job it was answered from. */
	has(cached, "compiling &lt;b&gt;");
	has(capped, "class=\"cut\"");
	has(capped, "bytes of log cut here]");
	/* It still runs: its raw log is the API's. */
	has(capped, api);
	has(capped, "aaaa");
	has(capped, "jjjj");
	free(ok);
	free(raw);
	free(cached);
	free(capped);
	free(api);
}

static void test_queue_page(void **state)
{
	struct fx *f = *state;
	char *q = page(f, "queue.html"), *id = xasprintf("%lld", (long long)f->queued);

	has(q, id);
	has(q, "waiting for &lt;b&gt;a plan9&lt;/b&gt; &amp; &quot;more&quot;");
	safe(q);
	free(id);
	free(q);
}

static void test_failures_page(void **state)
{
	struct fx *f = *state;
	char *p = page(f, "failures.html");

	has(p, "fail-line-30 &lt;x&gt;");
	has(p, "fail-line-11 &lt;x&gt;");
	lacks(p, "fail-line-10 ");
	lacks(p, "fail-line-01 ");
	has(p, "&lt;script&gt;alert(1)&lt;/script&gt;"); /* command, error */
	safe(p);
	free(p);
}

static void test_buildlets_page(void **state)
{
	struct fx *f = *state;
	char *p = page(f, "buildlets.html"), *run;

	has(p, "b1");
	has(p, "linux-amd64");
	has(p, "&lt;fast&gt;");
	has(p, "gone-one");
	has(p, "revoked");
	/* Its current jobs: the running one and the capped one (dispatched). */
	run = xasprintf("jobs/%lld.html", (long long)f->running);
	has(p, run);
	safe(p);
	free(run);
	free(p);
}

static void test_page_of(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dashdata_page_of(&f->d, f->build_live), 1);
	assert_int_equal(dashdata_page_of(&f->d, f->build_ok), 1);
}

/* ---- a log far longer than a page shows ------------------------------ */

#define BIG_LINES 300000 /* of 27 bytes: 8.1 MB, about eight tails */
#define BIG_CHUNK 65536  /* bytes per stored chunk, as a buildlet's pipe */

/* Line i (from 1) of the big log; stderr every 7th line. */
static size_t big_line(char *out, int64_t i)
{
	return (size_t)snprintf(out, 40, "%s line %010lld ......\n",
				i % 7 ? "out" : "ERR", (long long)i);
}

/* The big log in chunks of BIG_CHUNK of one stream each (a chunk ends
 * where the stream changes), into the store and into want. */
static void big_log(struct store *s, int64_t job, struct buf *want)
{
	struct buf chunk;
	int64_t seq = 0, cut;
	int stream = 1;
	char line[40];

	buf_init(&chunk, 0, 0);
	for (int64_t i = 1; i <= BIG_LINES + 1; i++) {
		size_t n = i <= BIG_LINES ? big_line(line, i) : 0;
		int st = i % 7 ? 1 : 2;

		if (chunk.len && (i > BIG_LINES || st != stream ||
				  chunk.len + n > BIG_CHUNK)) {
			assert_int_equal(store_log_append(s, job, 1, seq++, stream,
							  buf_data(&chunk), chunk.len,
							  0, &cut), RC_OK);
			buf_reset(&chunk);
		}
		stream = st;
		buf_append(&chunk, line, n);
		buf_append(want, line, n);
	}
	buf_free(&chunk);
}

/* An 8.1 MB log: the page shows its last DASH_LOG_TAIL_BYTES from a line's
 * start, numbered as in the whole log, says what it leaves out and stays
 * small; the raw file is the whole log byte for byte. */
static void test_big_log(void **state)
{
	struct fx *f = *state;
	struct errbuf eb = {""};
	struct buf want;
	int64_t build, job, first, bytes, ll;
	char *html, *raw, *path, needle[256], line[40];
	size_t len;

	buf_init(&want, 0, 0);
	assert_int_equal(store_build_insert(f->s, NOW, 0, "{\"script\":\"yes\"}",
					    &build), RC_OK);
	assert_int_equal(store_job_insert(f->s, build, "linux/amd64", "[]", 0, NOW,
					  &job), RC_OK);
	assert_int_equal(store_job_dispatch(f->s, job, 1, "b1", NOW + 10), RC_OK);
	assert_int_equal(store_job_started(f->s, job, 1, NOW + 20), RC_OK);
	big_log(f->s, job, &want);
	bytes = (int64_t)want.len;
	ll = (int64_t)big_line(line, 1);

	/* Running: the page, no raw file. */
	assert_int_equal(dashdata_job(&f->d, job, NULL, NULL, &eb), RC_OK);
	assert_false(exists(f, "jobs/%lld.log", (long long)job));
	html = page(f, "jobs/%lld.html", (long long)job);
	assert_true(strlen(html) < 3 * DASH_LOG_TAIL_BYTES);
	snprintf(needle, sizeof needle, "<a href=\"/api/v1/jobs/%lld/log\">raw "
		 "log</a> has them all", (long long)job);
	has(html, needle);
	free(html);

	assert_int_equal(store_job_finish(f->s, job, 1, JOB_PASSED, 0, 0, 1500, "",
					  NOW + 2000), RC_OK);
	assert_int_equal(dashdata_job(&f->d, job, NULL, NULL, &eb), RC_OK);
	html = page(f, "jobs/%lld.html", (long long)job);
	/* Lines of one length: the first whole line in the last cap bytes,
	 * or of the last DASH_LOG_TAIL_LINES lines if that is later. */
	first = (bytes - DASH_LOG_TAIL_BYTES + ll - 1) / ll + 1;
	if (first < BIG_LINES - DASH_LOG_TAIL_LINES + 1)
		first = BIG_LINES - DASH_LOG_TAIL_LINES + 1;
	assert_true(strlen(html) < 3 * DASH_LOG_TAIL_BYTES);
	snprintf(needle, sizeof needle, "its first %lld bytes (%lld lines) are "
		 "left out here; the <a href=\"%lld.log\">raw log</a>",
		 (long long)((first - 1) * ll), (long long)first - 1, (long long)job);
	has(html, needle);
	big_line(line, first);
	line[strlen(line) - 1] = '\0';
	snprintf(needle, sizeof needle, "<span id=\"L%lld\" class=\"%s\"><a "
		 "class=\"ln\" href=\"#L%lld\" data-n=\"%lld\"></a>%s\n</span>",
		 (long long)first, first % 7 ? "out" : "err", (long long)first,
		 (long long)first, line);
	has(html, needle);
	snprintf(needle, sizeof needle, "id=\"L%lld\"", (long long)first - 1);
	lacks(html, needle);
	snprintf(needle, sizeof needle, "data-bytes=\"%lld\" data-lines=\"%d\" "
		 "data-open=\"0\" class=\"from\">", (long long)bytes, BIG_LINES);
	has(html, needle);
	big_line(line, BIG_LINES);
	line[strlen(line) - 1] = '\0';
	has(html, line);
	free(html);

	/* The raw log, whole. */
	path = xasprintf("%s/jobs/%lld.log", f->out, (long long)job);
	assert_int_equal(fs_read_all(path, 64 << 20, &raw, &len, NULL), RC_OK);
	assert_int_equal(len, want.len);
	assert_memory_equal(raw, buf_data(&want), len);
	free(raw);
	free(path);
	buf_free(&want);
}

/* A running job's log growing in steps, its page written after each
 * with a log cache (reading on from where the last page counted to) and
 * without (reading it all): the pages are the same. */
static void test_big_log_resume(void **state)
{
	struct fx *f = *state;
	struct dashdata cached = f->d, fresh = f->d;
	struct errbuf eb = {""};
	int64_t build, job, seq = 0, cut, line = 1, total = 0;
	char *a, *b, text[200];

	cached.logcache = dashdata_logcache_new();
	fresh.logcache = NULL;
	assert_int_equal(store_build_insert(f->s, NOW, 0, "{\"script\":\"yes\"}",
					    &build), RC_OK);
	assert_int_equal(store_job_insert(f->s, build, "linux/amd64", "[]", 0, NOW,
					  &job), RC_OK);
	assert_int_equal(store_job_dispatch(f->s, job, 1, "b1", NOW + 10), RC_OK);
	assert_int_equal(store_job_started(f->s, job, 1, NOW + 20), RC_OK);
	for (int step = 0; step < 6; step++) {
		struct buf chunk;

		buf_init(&chunk, 0, 0);
		/* About 700 KB a step, lines of 1 to 120 bytes, a chunk every
		 * 30000 bytes (inside a line), every third on stderr. */
		while (chunk.len < 700000) {
			int n = snprintf(text, sizeof text, "%lld %.*s\n",
					 (long long)line, (int)(line * 37 % 110),
					 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
					 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
					 "xxxxxxxxxx");

			buf_append(&chunk, text, (size_t)n);
			line++;
		}
		total += (int64_t)chunk.len;
		for (size_t at = 0; at < chunk.len; at += 30000, seq++) {
			size_t n = chunk.len - at < 30000 ? chunk.len - at : 30000;

			assert_int_equal(store_log_append(f->s, job, 1, seq,
							  seq % 3 == 2 ? 2 : 1,
							  buf_data(&chunk) + at, n, 0,
							  &cut), RC_OK);
		}
		buf_free(&chunk);
		cached.log_read = fresh.log_read = 0;
		assert_int_equal(dashdata_job(&cached, job, NULL, NULL, &eb), RC_OK);
		a = page(f, "jobs/%lld.html", (long long)job);
		assert_int_equal(dashdata_job(&fresh, job, NULL, NULL, &eb), RC_OK);
		b = page(f, "jobs/%lld.html", (long long)job);
		assert_string_equal(a, b);
		/* without the cache the whole log; with it the tail (1 MiB,
		 * from a read's start) and what is new */
		assert_int_equal(fresh.log_read, total);
		if (step > 1)
			assert_true(cached.log_read < 700000 + (1 << 20) +
						  2 * (256 << 10));
		if (step > 1)
			has(a, "id=\"skipped\"");
		free(a);
		free(b);
	}
	dashdata_logcache_free(&cached.logcache);
	assert_null(cached.logcache);
}

/* ---- repositories: a second fixture ----------------------------------- */

#define N_COMMITS 53 /* two pages of 50 */

struct rfx {
	struct fx f;
	int64_t repo, gone;           /* watched; dropped from the config */
	int64_t commit[N_COMMITS];    /* ids, oldest first */
	int64_t job_new, job_old, job_extra, job_first; /* cell jobs */
};

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* A build of builder for commit with one job on platform: its job id. */
static int64_t cell_build(struct store *s, int64_t commit, const char *builder,
			  int64_t *job)
{
	int64_t build;

	assert_int_equal(store_build_insert(s, NOW, 0, "{\"script\":\"make\"}",
					    &build), RC_OK);
	assert_int_equal(store_job_insert(s, build, "linux/amd64", "[]", 0, NOW,
					  job), RC_OK);
	assert_int_equal(store_build_set_origin(s, build, builder, commit), RC_OK);
	return build;
}

static void rfixture_commits(struct rfx *r)
{
	for (int i = 0; i < N_COMMITS; i++) {
		char hash[41], subject[64];
		int hostile = i == N_COMMITS - 1, is_new;
		struct store_commit c = {
			.repo_id = r->repo, .hash = hash, .parents = "",
			.author = hostile ? HOSTILE "\xff <a@b>" : "Ann <a@b>",
			.time_ms = NOW - 1000 * (N_COMMITS - i),
			.subject = subject, .branch = hostile ? HOSTILE : "main",
			.seen_ms = NOW,
		};

		snprintf(hash, sizeof hash, "%040x", i + 1);
		snprintf(subject, sizeof subject, "%s%d",
			 hostile ? HOSTILE "\xfe" : "commit ", i);
		assert_int_equal(store_commit_add(r->f.s, &c, &r->commit[i],
						  &is_new), RC_OK);
		assert_true(is_new);
	}
}

static void rfixture(struct rfx *r)
{
	struct store *s = r->f.s;
	int64_t newest, tmp;

	assert_int_equal(store_repo_sync(s, "https://x/gone.git", "[]", &r->gone),
			 RC_OK);
	assert_int_equal(store_repo_polled(s, r->gone, NOW, "fatal: <b>gone</b>"),
			 RC_OK);
	assert_int_equal(store_repo_unwatch_all(s), RC_OK);
	assert_int_equal(store_repo_sync(s, "https://x/<app>.git",
					 "[\"lin\",\"mac\"]", &r->repo), RC_OK);
	assert_int_equal(store_repo_polled(s, r->repo, NOW, ""), RC_OK);
	rfixture_commits(r);
	newest = r->commit[N_COMMITS - 1];
	/* An older build of the newest commit on lin, then the one shown. */
	cell_build(s, newest, "lin", &r->job_old);
	cell_build(s, newest, "lin", &r->job_new);
	cell_build(s, newest, "zz-extra", &r->job_extra);
	cell_build(s, r->commit[0], "mac", &r->job_first);
	run_job(s, r->job_new, JOB_PASSED, 0, NULL, NULL, 0);
	/* A build of no commit stays off the repository pages. */
	assert_int_equal(store_build_insert(s, NOW, 0, "{\"script\":\"x\"}", &tmp),
			 RC_OK);
}

static int rsetup(void **state)
{
	const char *base = getenv("TMPDIR");
	struct rfx *r = xcalloc(1, sizeof *r);
	struct errbuf eb = {""};
	char *path;

	r->f.dir = xasprintf("%s/rfarm-test-dashrepo.XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(r->f.dir))
		return -1;
	path = xasprintf("%s/rfarm.db", r->f.dir);
	r->f.out = xasprintf("%s/dash", r->f.dir);
	if (store_open(path, &r->f.s, &eb)) {
		fprintf(stderr, "store_open: %s\n", eb.msg);
		return -1;
	}
	free(path);
	rfixture(r);
	assert_int_equal(store_flush(r->f.s), RC_OK);
	r->f.d = (struct dashdata){.store = r->f.s, .dir = r->f.out};
	dashdata_header(&r->f.d, 0, NOW + 10000);
	if (dashdata_all(&r->f.d, &eb)) {
		fprintf(stderr, "dashdata_all: %s\n", eb.msg);
		return -1;
	}
	*state = r;
	return 0;
}

static void test_repo_first_page(void **state)
{
	struct rfx *r = *state;
	char *html = page(&r->f, "repos/%lld.html", (long long)r->repo);
	char *want = xasprintf("href=\"../jobs/%lld.html\" data-job=\"%lld\" "
			       "data-state=\"passed\"", (long long)r->job_new,
			       (long long)r->job_new);
	char *old = xasprintf("data-job=\"%lld\"", (long long)r->job_old);
	char *extra = xasprintf("data-job=\"%lld\"", (long long)r->job_extra);
	const char *p;

	safe(html);
	has(html, "<h1>Commits of <code>https://x/&lt;app&gt;.git</code></h1>");
	/* Configured builders first, then the one only the cells have. */
	has(html, "<span>lin</span></th><th scope=\"col\" class=\"plat\"><span>"
		  "mac</span></th><th scope=\"col\" class=\"plat\"><span>zz-extra"
		  "</span></th></tr>");
	has(html, want);
	has(html, extra);
	lacks(html, old); /* the newest build of a cell is the one shown */
	/* 50 rows x 3 builders, two of them built. */
	assert_int_equal(count(html, "data-state=\"unbuilt\""), 50 * 3 - 2);
	assert_int_equal(count(html, "<tr data-commit="), 50);
	/* Newest first; the hostile row escaped. */
	p = strstr(html, "<tr data-commit=\"0000000000000000000000000000000000000035\"");
	assert_non_null(p);
	assert_true(p < strstr(html, "data-commit=\"0000000000000000000000000000000000000034\""));
	has(html, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;amp;&#39;"
		  "\xef\xbf\xbd");
	has(html, "<a rel=\"next\" href=\"");
	has(html, "-page-2.html\">older");
	has(html, "<main data-poll=\"");
	free(want);
	free(old);
	free(extra);
	free(html);
}

static void test_repo_json_twin(void **state)
{
	struct rfx *r = *state;
	char *text = page(&r->f, "repos/%lld.json", (long long)r->repo);
	json_t *v = json_loads(text, 0, NULL), *c0, *cells;

	assert_non_null(v);
	safe(text);
	assert_int_equal(json_integer_value(json_object_get(v, "n_pages")), 2);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(v, "repo"), "commits")), N_COMMITS);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(v, "builders"), 2)), "zz-extra");
	assert_int_equal(json_array_size(json_object_get(v, "commits")), 50);
	c0 = json_array_get(json_object_get(v, "commits"), 0);
	assert_string_equal(json_string_value(json_object_get(c0, "subject")),
			    HOSTILE "\xef\xbf\xbd" "52");
	cells = json_object_get(c0, "cells");
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(cells, "lin"), "job")), r->job_new);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(cells, "lin"), "state")), "passed");
	assert_true(json_is_null(json_object_get(cells, "mac")));
	json_decref(v);
	free(text);
}

static void test_repo_older_page(void **state)
{
	struct rfx *r = *state;
	char *html = page(&r->f, "repos/%lld-page-2.html", (long long)r->repo);
	char *want = xasprintf("data-job=\"%lld\"", (long long)r->job_first);
	char *json = xasprintf("%s/repos/%lld-page-2.json", r->f.out,
			       (long long)r->repo);
	int64_t repo;

	has(html, want);
	has(html, ", page 2 of 2</h1>");
	assert_int_equal(count(html, "<tr data-commit="), N_COMMITS - 50);
	lacks(html, "data-poll");
	assert_int_not_equal(access(json, F_OK), 0);
	assert_int_equal(dashdata_repo_page_of(&r->f.d, r->commit[0], &repo), 2);
	assert_int_equal(repo, r->repo);
	assert_int_equal(dashdata_repo_page_of(&r->f.d, r->commit[N_COMMITS - 1],
					       &repo), 1);
	assert_int_equal(dashdata_repo_page_of(&r->f.d, r->commit[2], &repo), 2);
	assert_int_equal(dashdata_repo_page_of(&r->f.d, r->commit[3], &repo), 1);
	assert_int_equal(dashdata_repo_page_of(&r->f.d, 999999, &repo), 0);
	assert_int_equal(dashdata_repo(&r->f.d, 999999, 1, NULL, NULL),
			 RC_NOT_FOUND);
	free(json);
	free(want);
	free(html);
}

static void test_repo_lists(void **state)
{
	struct rfx *r = *state;
	char *list = page(&r->f, "repos/index.html");
	char *index = page(&r->f, "index.html");
	char *link = xasprintf("href=\"repos/%lld.html\"", (long long)r->repo);
	char *gone = xasprintf("repos/%lld.html", (long long)r->gone);

	safe(list);
	has(list, "https://x/&lt;app&gt;.git</a>");
	has(list, "<td class=\"num\">53</td>");
	has(list, "<strong class=\"poll-error\">fatal: &lt;b&gt;gone&lt;/b&gt;"
		  "</strong>");
	has(list, "not watched");
	has(index, link);
	lacks(index, gone); /* the matrix names watched repositories only */
	free(gone);
	free(link);
	free(index);
	free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_page_written),
		cmocka_unit_test(test_index_cells),
		cmocka_unit_test(test_build_page),
		cmocka_unit_test(test_job_pages),
		cmocka_unit_test(test_queue_page),
		cmocka_unit_test(test_failures_page),
		cmocka_unit_test(test_buildlets_page),
		cmocka_unit_test(test_page_of),
		cmocka_unit_test(test_big_log),
		cmocka_unit_test(test_big_log_resume),
	};

	const struct CMUnitTest repo_tests[] = {
		cmocka_unit_test(test_repo_first_page),
		cmocka_unit_test(test_repo_json_twin),
		cmocka_unit_test(test_repo_older_page),
		cmocka_unit_test(test_repo_lists),
	};

	int failed = cmocka_run_group_tests(tests, setup, teardown);

	failed += cmocka_run_group_tests(repo_tests, rsetup, teardown);
	return failed;
}
