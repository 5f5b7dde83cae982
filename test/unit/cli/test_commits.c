/*
 * test_commits.c - unit tests for cli/cli_commits.c: which `rfarm retry`
 * vectors mean a commit, the request `retry --commit` makes (and every
 * refusal), and the commit matrix as text (columns, cut subjects, cells
 * not built, the next page).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ARGV(...) ((char *[]){"retry", __VA_ARGS__, NULL})
#define ARGC(v) ((int)(sizeof(v) / sizeof(char *)) - 1)

static void test_is_commit(void **state)
{
	static const struct {
		char *argv[6]; /* ends with NULL */
		int want;
	} cases[] = {
		{{"retry", "12", NULL}, 0},
		{{"retry", "12", "--json", NULL}, 0},
		{{"retry", "--commit", "abcdef0", NULL}, 1},
		{{"retry", "--commit=abcdef0", NULL}, 1},
		{{"retry", "--builder", "b", NULL}, 1},
		{{"retry", "12", "--repo=1", NULL}, 1},
		{{"retry", "--committed", NULL}, 0},
		{{"retry", "--", "--commit", NULL}, 0},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		int argc = 0;

		while (cases[i].argv[argc])
			argc++;
		if (cli_retry_is_commit(argc, (char **)cases[i].argv) != cases[i].want)
			fail_msg("case %zu: want %d", i, cases[i].want);
	}
}

static void test_request(void **state)
{
	struct cli_retry_commit r;
	struct errbuf eb = {""};
	char **v;
	char *body;

	(void)state;
	v = ARGV("--commit", "ABCDEF0123", "--builder", "linux-amd64-test",
		 "--repo", "file:///r.git", "--json");
	assert_int_equal(cli_retry_commit_request(ARGC(ARGV("a", "b", "c", "d", "e", "f", "g")), v, &r, &eb), RC_OK);
	assert_string_equal(r.path, "/api/v1/commits/ABCDEF0123/retry");
	body = json_dumps(r.body, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(body, "{\"builder\":\"linux-amd64-test\",\"repo\":\"file:///r.git\"}");
	assert_true(r.json);
	free(body);
	cli_retry_commit_clear(&r);
	/* Just the commit: no body at all. */
	v = ARGV("--commit=0123abc");
	assert_int_equal(cli_retry_commit_request(2, v, &r, &eb), RC_OK);
	assert_null(r.body);
	assert_false(r.json);
	cli_retry_commit_clear(&r);
	v = ARGV("--help");
	assert_int_equal(cli_retry_commit_request(2, v, &r, &eb), RC_OK);
	assert_true(r.help);
	cli_retry_commit_clear(&r);
}

static void test_request_refused(void **state)
{
	static const struct {
		char *argv[6];   /* ends with NULL */
		const char *msg; /* part of the message */
	} cases[] = {
		{{"retry", "--builder", "b", NULL}, "go with --commit HASH"},
		{{"retry", "--commit", "abc", NULL}, "at least 7 hex digits"},
		{{"retry", "--commit", "main~1aa", NULL}, "bad --commit 'main~1aa'"},
		{{"retry", "--commit", "0123456789012345678901234567890123456789a", NULL},
		 "bad --commit"},
		{{"retry", "--commit", "abcdef0", "--colour", NULL},
		 "unknown option '--colour'"},
		{{"retry", "--commit", NULL}, "needs a value"},
		{{"retry", "--commit", "abcdef0", "12", NULL}, "unexpected argument '12'"},
		{{"retry", "--commit", "abcdef0", "--builder", "a b", NULL}, "bad --builder"},
		{{"retry", "--commit", "abcdef0", "--repo=", NULL}, "--repo wants"},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct cli_retry_commit r;
		struct errbuf eb = {""};
		int argc = 0;

		while (cases[i].argv[argc])
			argc++;
		if (cli_retry_commit_request(argc, (char **)cases[i].argv, &r, &eb) !=
		    RC_INVALID)
			fail_msg("case %zu accepted", i);
		if (!strstr(eb.msg, cases[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, eb.msg, cases[i].msg);
		assert_null(r.body);
		assert_null(r.path);
	}
}

static const char page[] =
	"{\"repo\": {\"id\": 1, \"url\": \"file:///r.git\", \"commits\": 3},"
	" \"builders\": [\"linux-amd64-test\", \"b\"],"
	" \"commits\": ["
	"  {\"hash\": \"c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3\","
	"   \"subject\": \"a very long subject that cannot fit in a narrow terminal\","
	"   \"cells\": {\"linux-amd64-test\": {\"state\": \"failed\"}, \"b\": null}},"
	"  {\"hash\": \"b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2\","
	"   \"subject\": \"h\\u00e9llo\","
	"   \"cells\": {\"linux-amd64-test\": {\"state\": \"passed\"},"
	"               \"b\": {\"state\": \"cancelled\"}}}],"
	" \"next_before\": 2}";

static void test_matrix(void **state)
{
	json_t *p = json_loads(page, 0, NULL);
	char *text;

	(void)state;
	assert_non_null(p);
	/* 60 columns: 9 for the hash, 18 and 11 for the builders, the
	 * subject gets 60 - 38 = 22. */
	text = cli_format_commits(p, 60);
	assert_string_equal(text,
		"file:///r.git: 3 commits, newest first\n"
		"COMMIT   SUBJECT                 linux-amd64-test  b\n"
		"c3c3c3c  a very long subject t~  failed            -\n"
		"b2b2b2b  h\xc3\xa9llo                   passed            cancelled\n"
		"(more: --before 2)\n");
	free(text);
	/* Too narrow: the subject keeps its minimum. */
	text = cli_format_commits(p, 10);
	assert_non_null(strstr(text, "a very long~  failed"));
	free(text);
	json_decref(p);
	p = json_loads("{\"repo\": {\"url\": \"u\", \"commits\": 0}, \"builders\": [],"
		       " \"commits\": [], \"next_before\": null}", 0, NULL);
	text = cli_format_commits(p, 80);
	assert_string_equal(text, "u: 0 commits, newest first\nno commits yet\n");
	free(text);
	json_decref(p);
}

static void test_retry_text(void **state)
{
	json_t *r = json_loads(
		"{\"commit\": {\"hash\": \"0123456789abcdef\", \"subject\": \"s\"},"
		" \"cells\": [{\"builder\": \"a\", \"build\": 4, \"action\": \"retried\"},"
		"  {\"builder\": \"b\", \"build\": 5, \"action\": \"busy\"}]}", 0, NULL);
	char *text = cli_format_retry(r);

	(void)state;
	assert_string_equal(text, "commit 0123456789ab s\n"
			    "  a: failed jobs queued again (build 4)\n"
			    "  b: queued or running; left alone (build 5)\n");
	free(text);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_commit),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_request_refused),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_retry_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
