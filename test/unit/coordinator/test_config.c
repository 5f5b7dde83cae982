/*
 * test_config.c - unit tests for coordinator/config.c: config texts in,
 * a loaded config or "FILE:LINE: PATH: reason" out (compared whole, so a
 * wrong line number fails); builder requests expanded the way
 * POST /api/v1/builds takes them; config_load on real files.
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

#include "config.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The shape issue 7 says must load, one key a line. */
static const char issue_shape[] =
	"{\"host_types\": [{\"name\": \"linux-amd64\", \"goos\": \"linux\", "
	"\"goarch\": \"amd64\", \"expected\": 2, \"owner\": \"ops@example.org\"}],\n"
	" \"builders\":   [{\"name\": \"linux-amd64-test\", \"host_type\": "
	"\"linux-amd64\", \"script\": \"make test\", \"env\": {\"CC\": \"cc\"}, "
	"\"timeout\": \"20m\", \"artifacts\": [\"out/*\"]}],\n"
	" \"repos\":      [{\"url\": \"https://example.org/app.git\", \"branches\": "
	"[\"main\"], \"builders\": [\"linux-amd64-test\"], \"poll\": \"30s\"}]}\n";

static struct config *parse_ok(const char *text)
{
	struct config_error err = {""};
	struct config *c = NULL;

	if (config_parse(text, strlen(text), "f.json", &c, &err))
		fail_msg("refused: %s", err.msg);
	assert_non_null(c);
	return c;
}

static void check_bad(const char *text, const char *want)
{
	struct config_error err = {""};
	struct config *c = NULL;

	assert_int_equal(config_parse(text, strlen(text), "f.json", &c, &err),
			 RC_INVALID);
	assert_null(c);
	if (strcmp(err.msg, want))
		fail_msg("for %s\n got: %s\nwant: %s", text, err.msg, want);
}

static void test_issue_shape_loads(void **state)
{
	struct config *c = parse_ok(issue_shape);

	(void)state;
	assert_int_equal(json_array_size(config_host_types(c)), 1);
	assert_int_equal(json_array_size(config_builders(c)), 1);
	assert_int_equal(json_array_size(config_repos(c)), 1);
	assert_non_null(config_builder(c, "linux-amd64-test"));
	assert_non_null(config_host_type(c, "linux-amd64"));
	assert_null(config_builder(c, "linux-amd64"));
	config_free(&c);
	assert_null(c);
}

static void test_minimal_and_defaults(void **state)
{
	struct config *c = parse_ok("{}");

	(void)state;
	/* Absent arrays read as empty ones. */
	assert_int_equal(json_array_size(config_builders(c)), 0);
	config_free(&c);
	c = parse_ok("{\"host_types\":[{\"name\":\"h\",\"goos\":\"linux\","
		     "\"goarch\":\"arm64\",\"labels\":[\"big\"]}],"
		     "\"builders\":[{\"name\":\"b\",\"host_type\":\"h\","
		     "\"command\":[\"make\",\"-j2\"],\"timeout\":90}],"
		     "\"repos\":[{\"url\":\"file:///r\",\"poll\":5}]}");
	config_free(&c);
}

/* Each refusal names the file, the line of the offending value, its path
 * and the reason. */
static void test_semantic_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} c[] = {
		{"{\"host_types\": [],\n \"builders\": [\n  {\"name\": \"b\",\n"
		 "   \"host_type\": \"nope\", \"script\": \"x\"}]}",
		 "f.json:4: builders[0].host_type: no host type \"nope\" in host_types"},
		{"{\"host_types\": [{\"name\": \"h\", \"goos\": \"linux\", \"goarch\": "
		 "\"amd64\"}],\n \"builders\": [{\"name\": \"b\", \"host_type\": \"h\", "
		 "\"script\": \"x\"}],\n \"repos\": [{\"url\": \"file:///r\",\n"
		 "  \"builders\": [\"b\", \"c\"]}]}",
		 "f.json:4: repos[0].builders[1]: no builder \"c\" in builders"},
		{"{\"host_types\": [{\"name\": \"h\", \"goos\": \"linux\", \"goarch\": "
		 "\"amd64\"}],\n \"builders\": [{\"name\": \"b\", \"host_type\": \"h\",\n"
		 "  \"script\": \"x\", \"timeout\": \"soon\"}]}",
		 "f.json:3: builders[0].timeout: \"timeout\" must be a duration such "
		 "as \"90s\", \"10m\" or \"2h\", at most 7 days"},
		{"{\"repos\": [{\"url\": \"file:///r\",\n \"poll\": \"0s\"}]}",
		 "f.json:2: repos[0].poll: want a duration from 1s to 24h, such as \"30s\""},
		{"{\"host_types\": [{\"name\": \"h\", \"goos\": \"linux\", \"goarch\": \"amd64\"},\n"
		 "  {\"name\": \"h\", \"goos\": \"linux\", \"goarch\": \"arm64\"}]}",
		 "f.json:2: host_types[1].name: \"h\" is also host_types[0].name"},
		{"{\"host_types\": [{\"name\": \"h\", \"goos\": \"linux\",\n"
		 "  \"goarch\": \"amd64\", \"expectd\": 2}]}",
		 "f.json:2: host_types[0].expectd: unknown key (known here: name, goos, "
		 "goarch, labels, expected, owner)"},
		{"{\"hosttypes\": []}",
		 "f.json:1: hosttypes: unknown key (known here: host_types, builders, repos)"},
		{"{\"host_types\": [{\"name\": \"h\", \"goos\": \"Linux\", \"goarch\": \"amd64\"}]}",
		 "f.json:1: host_types[0].goos: want lower-case letters and digits (such as linux)"},
		{"{\"host_types\": [{\"name\": \"h\", \"goos\": \"linux\", \"goarch\":"
		 " \"a23456789012345678901234567890123\"}]}",
		 "f.json:1: host_types[0].goarch: want lower-case letters and digits (such as amd64)"},
		{"{\"host_types\": [{\"name\": \"Host.1_a-b\", \"goos\": \"linux\","
		 " \"goarch\": \"amd64\"},\n  {\"name\": \"h/x\", \"goos\": \"linux\","
		 " \"goarch\": \"amd64\"}]}",
		 "f.json:2: host_types[1].name: want a name of 1 to 64 letters, digits, "
		 "'.', '_' or '-'"},
		{"{\"host_types\": [{\"name\": \"h\", \"goos\": \"linux\", \"goarch\": \"amd64\",\n"
		 "\"expected\": -1}]}",
		 "f.json:2: host_types[0].expected: want a whole number of machines from 0 to 100000"},
		{"{\"host_types\": [{\"name\": \"h\", \"goos\": \"linux\", \"goarch\": \"amd64\"}],\n"
		 " \"builders\": [{\"name\": \"b\", \"host_type\": \"h\"}]}",
		 "f.json:2: builders[0]: nothing to run: give \"command\" (an array) or \"script\""},
		{"{\"host_types\": [{\"name\": \"h\", \"goos\": \"linux\", \"goarch\": \"amd64\"}],\n"
		 " \"builders\": [{\"name\": \"b\", \"host_type\": \"h\", \"script\": \"x\",\n"
		 "   \"env\": {\"RFARM_X\": \"1\"}}]}",
		 "f.json:3: builders[0].env: RFARM_X: RFARM_ variables are set by the buildlet"},
		{"{\"host_types\": [{\"name\": \"h\", \"goos\": \"linux\", \"goarch\": \"amd64\"}],\n"
		 " \"builders\": [{\"name\": \"b\", \"host_type\": \"h\", \"script\": \"x\",\n"
		 "   \"artifacts\": [\"../x\"]}]}",
		 "f.json:3: builders[0].artifacts: artifacts[0] must be a relative path "
		 "or glob inside the work directory (no \"..\", no leading \"/\")"},
		{"{\"repos\": [{\"url\": \"a b\"}]}",
		 "f.json:1: repos[0].url: want an https://, http://, git://, ssh:// "
		 "or file:// URL without spaces"},
		{"{\"repos\": [{\"url\": \"/srv/git/app\"}]}",
		 "f.json:1: repos[0].url: want an https://, http://, git://, ssh:// "
		 "or file:// URL without spaces"},
		{"{\"repos\": [{\"url\": \"https://h/a.git\",\n"
		 "  \"branches\": [\"main\", \"-x\"]}]}",
		 "f.json:2: repos[0].branches[1]: \"-x\" is not a branch name git takes"},
		{"{\"repos\": [{\"url\": \"https://h/a.git\", \"branches\": [\"a:b\"]}]}",
		 "f.json:1: repos[0].branches[0]: \"a:b\" is not a branch name git takes"},
		{"{\"repos\": [{\"url\": \"https://h/a.git\", \"branches\": [\"rel..x\"]}]}",
		 "f.json:1: repos[0].branches[0]: \"rel..x\" is not a branch name git takes"},
		{"{\"builders\": {}}",
		 "f.json:1: builders: want an array of at most 1000 objects"},
		{"[]", "f.json:1: a config is a JSON object with host_types, builders and repos"},
	};

	(void)state;
	for (size_t i = 0; i < N(c); i++)
		check_bad(c[i].text, c[i].want);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	check_bad("{\"builders\": [\n{\"name\": \"x\",\n ]}",
		  "f.json:3:2: string or '}' expected near ']'");
	check_bad("{\"repos\": [], \"repos\": []}",
		  "f.json:1:21: duplicate object key near '\"repos\"'");
	check_bad("[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
		  "f.json:1: JSON nests 20 levels deep; the limit is 16");
}

static void test_path_line(void **state)
{
	static const char t[] = "{\"a\": [1,\n 2, {\"b\\\"\": 3,\n\"c\": \"x\\\"]\"}],\n"
				"\"d\": {}}";

	(void)state;
	assert_int_equal(config_path_line(t, strlen(t), ""), 1);
	assert_int_equal(config_path_line(t, strlen(t), "a[0]"), 1);
	assert_int_equal(config_path_line(t, strlen(t), "a[1]"), 2);
	assert_int_equal(config_path_line(t, strlen(t), "a[2].c"), 3);
	assert_int_equal(config_path_line(t, strlen(t), "d"), 4);
	assert_int_equal(config_path_line(t, strlen(t), "a[3]"), 0);
	assert_int_equal(config_path_line(t, strlen(t), "e"), 0);
}

static json_t *expand(const struct config *c, const char *in, rc_t want_rc,
		      const char *want_code)
{
	struct request_error err = {"", ""};
	json_t *j = json_loads(in, 0, NULL), *out = NULL;

	assert_non_null(j);
	assert_int_equal(config_expand_request(c, j, &out, &err), want_rc);
	if (want_code)
		assert_string_equal(err.code, want_code);
	json_decref(j);
	return out;
}

static void test_expand(void **state)
{
	struct config *c = parse_ok(
		"{\"host_types\":[{\"name\":\"h\",\"goos\":\"linux\",\"goarch\":"
		"\"arm64\",\"labels\":[\"big\"]}],\"builders\":[{\"name\":\"b\","
		"\"host_type\":\"h\",\"script\":\"make test\",\"env\":{\"CC\":\"cc\"},"
		"\"timeout\":\"20m\",\"artifacts\":[\"out/*\"]}]}");
	json_t *out;
	char *s;

	(void)state;
	out = expand(c, "{\"builder\":\"b\",\"priority\":5,\"source\":{\"git\":"
		     "{\"url\":\"file:///r\",\"ref\":\"main\"}}}", RC_OK, NULL);
	s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	/* host_type: only buildlets of host type h run it. */
	assert_string_equal(s, "{\"artifacts\":[\"out/*\"],\"env\":{\"CC\":\"cc\"},"
			    "\"host_type\":\"h\","
			    "\"labels\":[\"big\"],\"platforms\":[\"linux/arm64\"],"
			    "\"priority\":5,\"script\":\"make test\",\"source\":{\"git\":"
			    "{\"ref\":\"main\",\"url\":\"file:///r\"}},\"timeout\":\"20m\"}");
	free(s);
	json_decref(out);
	/* Not a builder request: left alone. */
	assert_null(expand(c, "{\"platforms\":[\"linux/amd64\"]}", RC_OK, NULL));
	assert_null(expand(c, "{\"builder\":\"x\"}", RC_INVALID, "unknown_builder"));
	assert_null(expand(NULL, "{\"builder\":\"b\"}", RC_INVALID, "unknown_builder"));
	assert_null(expand(c, "{\"builder\":7}", RC_INVALID, "bad_builder"));
	assert_null(expand(c, "{\"builder\":\"b\",\"script\":\"x\"}", RC_INVALID,
			   "unknown_field"));
	/* The builder's host type is the config's, not the caller's. */
	assert_null(expand(c, "{\"builder\":\"b\",\"host_type\":\"other\"}",
			   RC_INVALID, "unknown_field"));
	config_free(&c);
}

static void test_load_files(void **state)
{
	char dir[] = "/tmp/test_config.XXXXXX", path[64];
	struct config_error err = {""};
	struct config *c = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/farm.json", dir);
	assert_int_not_equal(config_load(path, &c, &err), RC_OK);
	assert_non_null(strstr(err.msg, path));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(issue_shape, f);
	fclose(f);
	assert_int_equal(config_load(path, &c, &err), RC_OK);
	assert_string_equal(c->file, path);
	config_free(&c);
	f = fopen(path, "w");
	fputs("{\"host_types\": [],\n\n \"repos\": [{\"url\": \"file:///r\", "
	      "\"builders\": [\"x\"]}]}", f);
	fclose(f);
	assert_int_equal(config_load(path, &c, &err), RC_INVALID);
	assert_null(c);
	assert_non_null(strstr(err.msg, ":3: repos[0].builders[0]: no builder"));
	assert_int_equal(strncmp(err.msg, path, strlen(path)), 0);
	unlink(path);
	rmdir(dir);
}

/* The example shipped in env/ loads. */
static void test_env_example(void **state)
{
	struct config_error err = {""};
	struct config *c = NULL;

	(void)state;
	if (config_load(RFARM_FARM_JSON, &c, &err))
		fail_msg("%s", err.msg);
	assert_true(json_array_size(config_builders(c)) > 0);
	config_free(&c);
}

/* Paths longer than the scanner's buffer (found by fuzz_config: a
 * stack-buffer-overflow) are scanned past and never match. */
static void test_path_line_long_keys(void **state)
{
	char text[2048];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof text - n, "{\"");
	memset(text + n, 'a', 200);
	n += 200;
	n += (size_t)snprintf(text + n, sizeof text - n, "\": {\"");
	memset(text + n, 'b', 200);
	n += 200;
	n += (size_t)snprintf(text + n, sizeof text - n, "\": [[[{\"c\": 1}]]], \"d\": 2},\n\"e\": 3}");
	assert_int_equal(config_path_line(text, n, "e"), 2);
	assert_int_equal(config_path_line(text, n, "x"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_shape_loads),
		cmocka_unit_test(test_minimal_and_defaults),
		cmocka_unit_test(test_semantic_errors),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_path_line),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_load_files),
		cmocka_unit_test(test_env_example),
		cmocka_unit_test(test_path_line_long_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
