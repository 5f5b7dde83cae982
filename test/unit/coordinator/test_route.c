/*
 * test_route.c - unit tests for coordinator/route.c: every route, wrong
 * methods, bad ids, traversal in names, the scope each request needs,
 * the query string parser; and that the route table of
 * test/e2e/test_scopes.sh (which calls every route with every kind of
 * token) says what route.c says and leaves no route out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "route.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NONE ROUTE_SCOPE_NONE
#define READ ROUTE_SCOPE_READ
#define SUBMIT ROUTE_SCOPE_SUBMIT
#define ADMIN ROUTE_SCOPE_ADMIN
#define SHA "d32b9027a27ccac0095b336145025f1a3ad19975f28998ae60e2af27bf2920cb"

struct route_case {
	const char *method, *path;
	enum route_id id;        /* want */
	int allowed;             /* want */
	enum route_scope scope;  /* want */
	int64_t num;             /* want {id} */
	const char *name;        /* want {name}/{path}/{digest}/{file} */
};

static void check_routes(const struct route_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct route r;

		memset(&r, 0x5a, sizeof r); /* every field must be set */
		route_parse(c[i].method, c[i].path, &r);
		if (r.id != c[i].id || r.allowed != c[i].allowed ||
		    r.scope != c[i].scope || r.num != c[i].num ||
		    strcmp(r.name, c[i].name))
			fail_msg("%s %.80s: got %s allowed %d scope %s num %lld "
				 "name \"%.80s\"; want %s allowed %d scope %s num "
				 "%lld name \"%.80s\"", c[i].method, c[i].path,
				 route_pattern(r.id), r.allowed,
				 route_scope_name(r.scope), (long long)r.num,
				 r.name, route_pattern(c[i].id), c[i].allowed,
				 route_scope_name(c[i].scope), (long long)c[i].num,
				 c[i].name);
	}
}

static void test_every_route(void **state)
{
	static const struct route_case c[] = {
		{"GET", "/alive", ROUTE_ALIVE, 1, NONE, 0, ""},
		{"HEAD", "/ready", ROUTE_READY, 1, NONE, 0, ""},
		{"GET", "/metrics", ROUTE_METRICS, 1, READ, 0, ""},
		{"GET", "/api/v1/builds", ROUTE_BUILDS, 1, READ, 0, ""},
		{"POST", "/api/v1/builds", ROUTE_BUILDS, 1, SUBMIT, 0, ""},
		{"GET", "/api/v1/builds/7", ROUTE_BUILD, 1, READ, 7, ""},
		{"POST", "/api/v1/builds/7/cancel", ROUTE_BUILD_CANCEL, 1, ADMIN, 7, ""},
		{"POST", "/api/v1/builds/8/retry", ROUTE_BUILD_RETRY, 1, ADMIN, 8, ""},
		{"GET", "/api/v1/jobs/12", ROUTE_JOB, 1, READ, 12, ""},
		{"GET", "/api/v1/jobs/12/log", ROUTE_JOB_LOG, 1, READ, 12, ""},
		{"GET", "/api/v1/jobs/12/artifacts", ROUTE_JOB_ARTIFACTS, 1, READ, 12, ""},
		{"GET", "/api/v1/jobs/12/artifacts/out/app", ROUTE_JOB_ARTIFACT, 1,
		 READ, 12, "out/app"},
		{"GET", "/api/v1/jobs/1/artifacts/x/artifacts/y", ROUTE_JOB_ARTIFACT,
		 1, READ, 1, "x/artifacts/y"},
		{"GET", "/api/v1/jobs/1/artifacts/.hidden/a..b/...", ROUTE_JOB_ARTIFACT,
		 1, READ, 1, ".hidden/a..b/..."},
		{"GET", "/api/v1/buildlets", ROUTE_BUILDLETS, 1, READ, 0, ""},
		{"POST", "/api/v1/buildlets/mac-mini_1.local/drain",
		 ROUTE_BUILDLET_DRAIN, 1, ADMIN, 0, "mac-mini_1.local"},
		{"POST", "/api/v1/buildlets/b1/undrain", ROUTE_BUILDLET_UNDRAIN, 1,
		 ADMIN, 0, "b1"},
		{"POST", "/api/v1/purge", ROUTE_PURGE, 1, ADMIN, 0, ""},
		{"GET", "/api/v1/config", ROUTE_CONFIG, 1, READ, 0, ""},
		{"POST", "/api/v1/reload", ROUTE_RELOAD, 1, ADMIN, 0, ""},
		{"GET", "/api/v1/repos", ROUTE_REPOS, 1, READ, 0, ""},
		{"GET", "/api/v1/repos/3/commits", ROUTE_REPO_COMMITS, 1, READ, 3, ""},
		{"POST", "/api/v1/commits/0123abc/retry", ROUTE_COMMIT_RETRY, 1, ADMIN,
		 0, "0123abc"},
		{"POST", "/api/v1/commits/0123456789abcdef0123456789abcdef01234567/retry",
		 ROUTE_COMMIT_RETRY, 1, ADMIN, 0,
		 "0123456789abcdef0123456789abcdef01234567"},
		{"PUT", "/api/v1/blobs/" SHA, ROUTE_BLOB, 1, SUBMIT, 0, SHA},
		{"GET", "/api/v1/blobs/" SHA, ROUTE_BLOB, 1, READ, 0, SHA},
		{"HEAD", "/api/v1/blobs/" SHA, ROUTE_BLOB, 1, READ, 0, SHA},
		/* Not a digest: the handler answers 400, so it must get it. */
		{"GET", "/api/v1/blobs/", ROUTE_BLOB, 1, READ, 0, ""},
		{"GET", "/api/v1/blobs/a/b", ROUTE_BLOB, 1, READ, 0, "a/b"},
		{"GET", "/", ROUTE_DASHBOARD, 1, READ, 0, ""},
		{"GET", "/builds/7.html", ROUTE_DASHBOARD, 1, READ, 0, "builds/7.html"},
		{"GET", "/api", ROUTE_DASHBOARD, 1, READ, 0, "api"},
		{"GET", "/apix/1", ROUTE_DASHBOARD, 1, READ, 0, "apix/1"},
	};

	(void)state;
	check_routes(c, N(c));
}

static void test_wrong_methods(void **state)
{
	static const struct route_case c[] = {
		/* The scope of a refused method is that of any write. */
		{"POST", "/alive", ROUTE_ALIVE, 0, NONE, 0, ""},
		{"DELETE", "/ready", ROUTE_READY, 0, NONE, 0, ""},
		{"POST", "/metrics", ROUTE_METRICS, 0, ADMIN, 0, ""},
		{"HEAD", "/api/v1/builds", ROUTE_BUILDS, 0, READ, 0, ""},
		{"DELETE", "/api/v1/builds", ROUTE_BUILDS, 0, SUBMIT, 0, ""},
		{"PUT", "/api/v1/builds", ROUTE_BUILDS, 0, SUBMIT, 0, ""},
		{"POST", "/api/v1/builds/1", ROUTE_BUILD, 0, ADMIN, 1, ""},
		{"GET", "/api/v1/builds/1/cancel", ROUTE_BUILD_CANCEL, 0, READ, 1, ""},
		{"GET", "/api/v1/builds/1/retry", ROUTE_BUILD_RETRY, 0, READ, 1, ""},
		{"DELETE", "/api/v1/jobs/2", ROUTE_JOB, 0, ADMIN, 2, ""},
		{"POST", "/api/v1/jobs/2/log", ROUTE_JOB_LOG, 0, ADMIN, 2, ""},
		{"PUT", "/api/v1/jobs/2/artifacts/a", ROUTE_JOB_ARTIFACT, 0, ADMIN, 2, "a"},
		{"POST", "/api/v1/buildlets", ROUTE_BUILDLETS, 0, ADMIN, 0, ""},
		{"GET", "/api/v1/buildlets/b/drain", ROUTE_BUILDLET_DRAIN, 0, READ, 0, "b"},
		{"GET", "/api/v1/purge", ROUTE_PURGE, 0, READ, 0, ""},
		{"POST", "/api/v1/config", ROUTE_CONFIG, 0, ADMIN, 0, ""},
		{"GET", "/api/v1/reload", ROUTE_RELOAD, 0, READ, 0, ""},
		{"POST", "/api/v1/repos", ROUTE_REPOS, 0, ADMIN, 0, ""},
		{"DELETE", "/api/v1/repos/1/commits", ROUTE_REPO_COMMITS, 0, ADMIN, 1, ""},
		{"GET", "/api/v1/commits/abcdef0/retry", ROUTE_COMMIT_RETRY, 0, READ,
		 0, "abcdef0"},
		{"POST", "/api/v1/blobs/" SHA, ROUTE_BLOB, 0, SUBMIT, 0, SHA},
		{"DELETE", "/api/v1/blobs/" SHA, ROUTE_BLOB, 0, SUBMIT, 0, SHA},
		{"HEAD", "/", ROUTE_DASHBOARD, 0, READ, 0, ""},
		{"POST", "/", ROUTE_DASHBOARD, 0, ADMIN, 0, ""},
		{"", "/api/v1/builds", ROUTE_BUILDS, 0, SUBMIT, 0, ""},
		{"get", "/api/v1/builds", ROUTE_BUILDS, 0, SUBMIT, 0, ""},
		{"GETX", "/alive", ROUTE_ALIVE, 0, NONE, 0, ""},
	};

	(void)state;
	check_routes(c, N(c));
}

static void test_bad_ids(void **state)
{
	static const struct route_case c[] = {
		{"GET", "/api/v1/builds/0", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/builds/-1", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/builds/+1", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/builds/1a", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/builds/0x10", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/builds/1.0", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/builds/ 1", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/builds/", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/builds//cancel", ROUTE_NONE, 0, READ, 0, ""},
		{"POST", "/api/v1/builds/0/cancel", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"GET", "/api/v1/jobs/1/", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/1/logs", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/1/log/", ROUTE_NONE, 0, READ, 0, ""},
		{"POST", "/api/v1/builds/1/cancel/x", ROUTE_NONE, 0, ADMIN, 0, ""},
		/* Overflow: more than 15 digits is never an id. */
		{"GET", "/api/v1/jobs/9999999999999999", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/18446744073709551617/log", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/000000000000001", ROUTE_JOB, 1, READ, 1, ""},
		{"GET", "/api/v1/jobs/0000000000000001", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/999999999999999", ROUTE_JOB, 1, READ,
		 999999999999999LL, ""},
		{"GET", "/api/v1/nope", ROUTE_NONE, 0, READ, 0, ""},
		{"POST", "/api/v1/nope", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"GET", "/api/", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v2/builds", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/builds?x", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/API/v1/builds", ROUTE_DASHBOARD, 1, READ, 0, "API/v1/builds"},
		{"GET", "", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "alive", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/alive/", ROUTE_DASHBOARD, 1, READ, 0, "alive/"},
	};

	(void)state;
	check_routes(c, N(c));
}

static void test_names(void **state)
{
	static char long_name[200], long_path[700];
	static const struct route_case c[] = {
		{"GET", "/api/v1/jobs/1/artifacts/../x", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/1/artifacts/a/../b", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/1/artifacts/a/..", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/1/artifacts/./a", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/1/artifacts/a/.", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/1/artifacts/a//b", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/1/artifacts/a/", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/1/artifacts//etc/passwd", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/1/artifacts/", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/jobs/1/artifacts/a b%2e", ROUTE_JOB_ARTIFACT, 1,
		 READ, 1, "a b%2e"},
		{"POST", "/api/v1/buildlets/../drain", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"POST", "/api/v1/buildlets/./drain", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"POST", "/api/v1/buildlets/.../drain", ROUTE_BUILDLET_DRAIN, 1, ADMIN,
		 0, "..."},
		{"POST", "/api/v1/buildlets//drain", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"POST", "/api/v1/buildlets/a b/drain", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"POST", "/api/v1/buildlets/a;b/drain", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"POST", "/api/v1/buildlets/a/b/drain", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"POST", "/api/v1/buildlets/b1/stop", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"POST", "/api/v1/buildlets/b1", ROUTE_NONE, 0, ADMIN, 0, ""},
		/* Commit names: the handler judges hex; paths still cannot. */
		{"POST", "/api/v1/commits/../retry", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"POST", "/api/v1/commits//retry", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"POST", "/api/v1/commits/a/b/retry", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"POST", "/api/v1/commits/main~1/retry", ROUTE_NONE, 0, ADMIN, 0, ""},
		{"POST", "/api/v1/commits/zzz/retry", ROUTE_COMMIT_RETRY, 1, ADMIN, 0,
		 "zzz"},
		{"GET", "/api/v1/repos/0/commits", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/repos/x/commits", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/repos/1", ROUTE_NONE, 0, READ, 0, ""},
		{"GET", "/api/v1/repos/", ROUTE_NONE, 0, READ, 0, ""},
	};
	struct route r;

	(void)state;
	check_routes(c, N(c));
	/* A buildlet name has at most 64 characters. */
	memset(long_name, 'b', sizeof long_name - 1);
	snprintf(long_path, sizeof long_path, "/api/v1/buildlets/%.64s/drain",
		 long_name);
	route_parse("POST", long_path, &r);
	assert_int_equal(r.id, ROUTE_BUILDLET_DRAIN);
	assert_int_equal(strlen(r.name), 64);
	snprintf(long_path, sizeof long_path, "/api/v1/buildlets/%.65s/drain",
		 long_name);
	route_parse("POST", long_path, &r);
	assert_int_equal(r.id, ROUTE_NONE);
	/* A name that does not fit does not match (no silent cut). */
	memset(long_path, 'a', sizeof long_path - 1);
	memcpy(long_path, "/api/v1/jobs/1/artifacts/", 25);
	long_path[25 + ROUTE_NAME_MAX - 1] = '\0';
	route_parse("GET", long_path, &r);
	assert_int_equal(r.id, ROUTE_JOB_ARTIFACT);
	assert_int_equal(strlen(r.name), ROUTE_NAME_MAX - 1);
	long_path[25 + ROUTE_NAME_MAX - 1] = 'a';
	long_path[25 + ROUTE_NAME_MAX] = '\0';
	route_parse("GET", long_path, &r);
	assert_int_equal(r.id, ROUTE_NONE);
	assert_string_equal(r.name, "");
}

static void test_names_and_patterns(void **state)
{
	(void)state;
	assert_string_equal(route_pattern(ROUTE_BUILD), "/api/v1/builds/{id}");
	assert_string_equal(route_pattern(ROUTE_NONE), "");
	assert_string_equal(route_pattern(ROUTE__COUNT), "");
	assert_string_equal(route_pattern((enum route_id)-1), "");
	assert_string_equal(route_scope_name(ROUTE_SCOPE_NONE), "none");
	assert_string_equal(route_scope_name(ROUTE_SCOPE_ADMIN), "admin");
	assert_string_equal(route_scope_name((enum route_scope)9), "?");
}

/* ---- query strings ---- */

struct query_case {
	const char *q;     /* raw query */
	const char *name;  /* asked for */
	size_t n;          /* size of out */
	int want;          /* return */
	const char *value; /* out */
};

static void test_query(void **state)
{
	static const struct query_case c[] = {
		{"state=queued&limit=5", "state", 32, 1, "queued"},
		{"state=queued&limit=5", "limit", 32, 1, "5"},
		{"state=queued&limit=5", "before", 32, 0, ""},
		{"", "state", 32, 0, ""},
		{"&&&", "state", 32, 0, ""},
		{"a=1&&b=2", "b", 32, 1, "2"},
		{"state=a&state=b", "state", 32, 1, "a"},
		{"stat=a&states=b&state=c", "state", 32, 1, "c"},
		{"state", "state", 32, 0, ""},
		{"state&state=x", "state", 32, 1, "x"},
		{"state=", "state", 32, 1, ""},
		{"state==x", "state", 32, 1, "=x"},
		{"=x", "", 32, 1, "x"},
		{"platform=linux%2Famd64", "platform", 32, 1, "linux/amd64"},
		{"platform=linux%2famd64", "platform", 32, 1, "linux/amd64"},
		{"x=a+b%20c", "x", 32, 1, "a b c"},
		{"x=%2B", "x", 32, 1, "+"},
		{"x=%26y%3D1", "x", 32, 1, "&y=1"},
		{"x=%C3%A9", "x", 32, 1, "\xc3\xa9"},
		{"st%61te=q", "state", 32, 1, "q"},
		{"my+key=v", "my key", 32, 1, "v"},
		/* Bad escapes and control bytes, in the value asked for... */
		{"x=%", "x", 32, -1, ""},
		{"x=%4", "x", 32, -1, ""},
		{"x=%4g", "x", 32, -1, ""},
		{"x=%zz", "x", 32, -1, ""},
		{"x=ab%00cd", "x", 32, -1, ""},
		{"x=a%0Ab", "x", 32, -1, ""},
		{"x=a%7fb", "x", 32, -1, ""},
		{"x=a\tb", "x", 32, -1, ""},
		/* ... or elsewhere, which does not matter. */
		{"y=%zz&x=1", "x", 32, 1, "1"},
		{"%zz=1&x=2", "x", 32, 1, "2"},
		{"x%00=1&x=2", "x", 32, 1, "2"},
		/* Cut to the buffer, and said so. */
		{"limit=123456", "limit", 4, 2, "123"},
		{"limit=1234", "limit", 5, 1, "1234"},
		{"limit=12345", "limit", 5, 2, "1234"},
		{"limit=%31%32%33%34%35", "limit", 5, 2, "1234"},
		{"limit=", "limit", 1, 1, ""},
		{"limit=1", "limit", 1, 2, ""},
		/* A name longer than ROUTE_QUERY_NAME_MAX never matches. */
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 8, 1, "1"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 8, 0, ""},
	};

	(void)state;
	for (size_t i = 0; i < N(c); i++) {
		char out[64];
		int r;

		memset(out, 'Z', sizeof out);
		r = route_query_get(c[i].q, strlen(c[i].q), c[i].name, out, c[i].n);
		if (r != c[i].want || strcmp(out, c[i].value))
			fail_msg("\"%s\" [%s] in %zu: got %d \"%s\", want %d \"%s\"",
				 c[i].q, c[i].name, c[i].n, r, out, c[i].want,
				 c[i].value);
		/* Nothing past out[n - 1] is written. */
		assert_int_equal(out[c[i].n], 'Z');
	}
}

static void test_query_bounds(void **state)
{
	static char q[ROUTE_QUERY_MAX + 64];
	char out[16] = "x";
	size_t len;

	(void)state;
	/* Only len bytes are read: no NUL needed, none looked for. */
	assert_int_equal(route_query_get("a=12&b=3", 4, "a", out, sizeof out), 1);
	assert_string_equal(out, "12");
	assert_int_equal(route_query_get("a=12&b=3", 4, "b", out, sizeof out), 0);
	assert_int_equal(route_query_get("a=%41", 4, "a", out, sizeof out), -1);
	/* n == 0: nothing is written at all. */
	assert_int_equal(route_query_get("a=1", 3, "a", NULL, 0), 2);
	/* Past ROUTE_QUERY_MAX bytes nothing is looked at. */
	memset(q, 'p', sizeof q);
	len = ROUTE_QUERY_MAX - 4;
	memcpy(q + len, "&x=1", 4);
	assert_int_equal(route_query_get(q, len + 4, "x", out, sizeof out), 1);
	len = ROUTE_QUERY_MAX - 2; /* "&x" inside, "=1" past the end */
	memcpy(q + len, "&x=1", 4);
	assert_int_equal(route_query_get(q, len + 4, "x", out, sizeof out), 0);
	assert_int_equal(route_query_get(q, sizeof q, "x", out, sizeof out), 0);
}

/* ---- the e2e table mirrors this one ---- */

/* Check each row of test_scopes.sh's ROUTES table; mark the routes seen. */
static void check_script_row(const char *line, int *seen)
{
	char method[16], path[256], scope[16], pattern[128];
	struct route r;

	if (sscanf(line, "%15s %255s %15s %127s", method, path, scope, pattern) != 4)
		fail_msg("test_scopes.sh: cannot read the row \"%s\"", line);
	/* Rows name the blob by the shell variable. */
	if (strstr(path, "'$SHA'"))
		strcpy(strstr(path, "'$SHA'"), SHA);
	route_parse(method, path, &r);
	if (strcmp(route_pattern(r.id), strcmp(pattern, "-") ? pattern : "") ||
	    strcmp(route_scope_name(r.scope), scope))
		fail_msg("test_scopes.sh says %s %s is %s needing %s; route.c "
			 "says \"%s\" needing %s", method, path, pattern, scope,
			 route_pattern(r.id), route_scope_name(r.scope));
	seen[r.id] = 1;
}

static void test_e2e_table_mirrors_route_c(void **state)
{
	FILE *f = fopen(RFARM_SCOPES_SH, "r");
	char line[512];
	int in_table = 0, rows = 0, seen[ROUTE__COUNT] = {0};

	(void)state;
	if (!f)
		fail_msg("cannot open %s", RFARM_SCOPES_SH);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "ROUTES='")) {
			in_table = 1;
		} else if (in_table && !strcmp(line, "'")) {
			in_table = 0;
		} else if (in_table && line[0]) {
			check_script_row(line, seen);
			rows++;
		}
	}
	fclose(f);
	assert_true(rows > 0);
	for (int id = ROUTE_NONE + 1; id < ROUTE__COUNT; id++)
		if (!seen[id])
			fail_msg("test_scopes.sh does not call %s",
				 route_pattern((enum route_id)id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_route),
		cmocka_unit_test(test_wrong_methods),
		cmocka_unit_test(test_bad_ids),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_names_and_patterns),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_bounds),
		cmocka_unit_test(test_e2e_table_mirrors_route_c),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
