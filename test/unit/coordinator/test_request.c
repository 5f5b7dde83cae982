/*
 * test_request.c - unit tests for coordinator/request.c: build request
 * bodies in, the normalized spec (compared as sorted compact JSON) or an
 * error (rc, machine code and a fragment of the user message) out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "request.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A minimal valid request around extra members (which start with ','). */
#define BODY(extra) "{\"platforms\":[\"linux/amd64\"],\"command\":[\"make\"]" extra "}"
/* The spec of BODY("") with the timeout_s, priority and idle timeout given. */
#define SPEC_IDLE(prio, tmo, idle)                                          \
	"{\"artifacts\":[],\"command\":[\"make\"],\"env\":{},\"idle_timeout_s\":" #idle ","    \
	"\"labels\":[],\"platforms\":[\"linux/amd64\"],\"priority\":" #prio    \
	",\"timeout_s\":" #tmo "}"
#define SPEC(prio, tmo) SPEC_IDLE(prio, tmo, 0)
#define SHA64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void check_ok(const char *body, size_t len, const char *want)
{
	struct request_error err = {"", ""};
	json_t *spec = NULL;
	rc_t rc = request_parse_build(body, len, &spec, &err);
	char *got;

	if (rc != RC_OK)
		fail_msg("%s: rc %d, %s: %s", body, rc, err.code, err.message);
	assert_non_null(spec);
	got = json_dumps(spec, JSON_SORT_KEYS | JSON_COMPACT);
	if (strcmp(got, want))
		fail_msg("%s:\n got  %s\n want %s", body, got, want);
	free(got);
	json_decref(spec);
}

static void check_err(const char *body, size_t len, const char *code,
		      const char *fragment)
{
	struct request_error err = {"", ""};
	json_t *spec = (json_t *)&err; /* must be reset to NULL */
	rc_t rc = request_parse_build(body, len, &spec, &err);

	if (rc != RC_INVALID)
		fail_msg("%.200s: rc %d, want RC_INVALID", body, rc);
	assert_null(spec);
	if (strcmp(err.code, code))
		fail_msg("%.200s: code \"%s\", want \"%s\" (%s)", body, err.code,
			 code, err.message);
	if (!strstr(err.message, fragment))
		fail_msg("%.200s: message \"%s\" lacks \"%s\"", body, err.message,
			 fragment);
}

/* ---- accepted requests ---------------------------------------------- */

static void test_good_requests(void **state)
{
	static const struct {
		const char *body; /* request */
		const char *spec; /* normalized, sorted, compact */
	} cases[] = {
		{BODY(""), SPEC(0, 0)},
		{"{\"command\":[\"make\",\"test\",\"\"],\"platforms\":[\"linux/amd64\"]}",
		 "{\"artifacts\":[],\"command\":[\"make\",\"test\",\"\"],\"env\":{},\"idle_timeout_s\":0,\"labels\":[],"
		 "\"platforms\":[\"linux/amd64\"],\"priority\":0,\"timeout_s\":0}"},
		{"{\"platforms\":[\"linux/amd64\",\"linux/arm64\"],"
		 "\"script\":\"make && make test\",\"env\":{\"CC\":\"cc\",\"X\":\"\"},"
		 "\"labels\":[\"large\",\"gpu\"],\"priority\":5,\"timeout\":\"10m\"}",
		 "{\"artifacts\":[],\"env\":{\"CC\":\"cc\",\"X\":\"\"},\"idle_timeout_s\":0,\"labels\":[\"large\",\"gpu\"],"
		 "\"platforms\":[\"linux/amd64\",\"linux/arm64\"],\"priority\":5,"
		 "\"script\":\"make && make test\",\"timeout_s\":600}"},
		{BODY(",\"timeout\":\"90s\""), SPEC(0, 90)},
		{BODY(",\"timeout\":30"), SPEC(0, 30)},
		{BODY(",\"timeout\":\"1h30m\""), SPEC(0, 5400)},
		{BODY(",\"timeout\":\"500ms\""), SPEC(0, 1)}, /* rounded up */
		{BODY(",\"timeout\":\"168h\""), SPEC(0, 604800)}, /* 7 days */
		{BODY(",\"timeout\":604800"), SPEC(0, 604800)},
		{BODY(",\"priority\":-1000"), SPEC(-1000, 0)},
		{BODY(",\"priority\":1000"), SPEC(1000, 0)},
		{BODY(",\"env\":{},\"labels\":[]"), SPEC(0, 0)},
		{BODY(",\"idle_timeout\":\"5m\""), SPEC_IDLE(0, 0, 300)},
		{BODY(",\"idle_timeout\":45"), SPEC_IDLE(0, 0, 45)},
		{BODY(",\"source\":{\"git\":{\"url\":\"file:///srv/r.git\"}}"),
		 "{\"artifacts\":[],\"command\":[\"make\"],\"env\":{},\"idle_timeout_s\":0,"
		 "\"labels\":[],\"platforms\":[\"linux/amd64\"],\"priority\":0,"
		 "\"source\":{\"git\":{\"ref\":\"HEAD\",\"url\":\"file:///srv/r.git\"}},"
		 "\"timeout_s\":0}"},
		{BODY(",\"artifacts\":[\"out/*.tar.gz\",\"bin/x\"]"),
		 "{\"artifacts\":[\"out/*.tar.gz\",\"bin/x\"],\"command\":[\"make\"],"
		 "\"env\":{},\"idle_timeout_s\":0,\"labels\":[],"
		 "\"platforms\":[\"linux/amd64\"],\"priority\":0,\"timeout_s\":0}"},
		{BODY(",\"source\":{\"tarball\":\"" SHA64 "\"}"),
		 "{\"artifacts\":[],\"command\":[\"make\"],\"env\":{},\"idle_timeout_s\":0,"
		 "\"labels\":[],\"platforms\":[\"linux/amd64\"],\"priority\":0,"
		 "\"source\":{\"tarball\":\"" SHA64 "\"},\"timeout_s\":0}"},
		{"{\"platforms\":[\"windows/arm64\",\"plan9/386\"],\"command\":[\"x\"]}",
		 "{\"artifacts\":[],\"command\":[\"x\"],\"env\":{},\"idle_timeout_s\":0,\"labels\":[],"
		 "\"platforms\":[\"windows/arm64\",\"plan9/386\"],\"priority\":0,"
		 "\"timeout_s\":0}"},
		/* A host type is kept as given (letters of both cases). */
		{BODY(",\"host_type\":\"Linux-amd64_x.2\""),
		 "{\"artifacts\":[],\"command\":[\"make\"],\"env\":{},"
		 "\"host_type\":\"Linux-amd64_x.2\",\"idle_timeout_s\":0,"
		 "\"labels\":[],\"platforms\":[\"linux/amd64\"],\"priority\":0,"
		 "\"timeout_s\":0}"},
		/* Whitespace and key order do not matter. */
		{" {\n \"command\" : [ \"make\" ] ,\n \"platforms\" : [\"linux/amd64\"] }\n",
		 SPEC(0, 0)},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		check_ok(cases[i].body, strlen(cases[i].body), cases[i].spec);
}

/* len bounds the body: what follows is never read. */
static void test_len_respected(void **state)
{
	const char *body = BODY("") "trailing garbage";

	(void)state;
	check_ok(body, strlen(BODY("")), SPEC(0, 0));
	check_err(body, strlen(body), "bad_json", "not valid JSON");
	check_err("{}garbage", 2, "bad_platform", "non-empty array");
}

/* Nesting is measured outside strings and refused before jansson. */
static void test_depth(void **state)
{
	char deep[4096];
	size_t n = 0;

	(void)state;
	assert_int_equal(request_json_depth("{}", 2), 1);
	assert_int_equal(request_json_depth("{\"a\":[[{}]]}", 12), 4);
	assert_int_equal(request_json_depth("{\"a\":\"[[[[\\\"[[\"}", 16), 1);
	assert_int_equal(request_json_depth("]]]{", 4), 1);
	n += (size_t)snprintf(deep, sizeof deep, "{\"platforms\":[\"linux/amd64\"],"
			      "\"command\":[\"x\"],\"env\":{\"A\":");
	for (int i = 0; i < 1000; i++)
		deep[n++] = '[';
	deep[n] = '\0';
	check_err(deep, n, "too_deep", "nests 1002 levels deep; the limit is 16");
}

/* ---- refused requests ------------------------------------------------ */

static void test_bad_requests(void **state)
{
	static const struct {
		const char *body;     /* request */
		const char *code;     /* expected error code */
		const char *fragment; /* part of the message */
	} cases[] = {
		/* what to run */
		{"{\"platforms\":[\"linux/amd64\"],\"command\":[\"make\"],\"script\":\"x\"}",
		 "bad_command", "not both"},
		{"{\"platforms\":[\"linux/amd64\"]}", "empty_command", "nothing to run"},
		{"{\"platforms\":[\"linux/amd64\"],\"command\":[]}", "empty_command",
		 "non-empty array"},
		{"{\"platforms\":[\"linux/amd64\"],\"command\":\"make\"}", "empty_command",
		 "non-empty array"},
		{"{\"platforms\":[\"linux/amd64\"],\"command\":[\"\",\"x\"]}",
		 "empty_command", "command[0]"},
		{"{\"platforms\":[\"linux/amd64\"],\"command\":[\"make\",1]}", "bad_command",
		 "command[1] is not a string"},
		{"{\"platforms\":[\"linux/amd64\"],\"command\":[null]}", "bad_command",
		 "command[0] is not a string"},
		{"{\"platforms\":[\"linux/amd64\"],\"script\":\"\"}", "empty_command",
		 "\"script\" must be a non-empty string"},
		{"{\"platforms\":[\"linux/amd64\"],\"script\":[\"make\"]}", "empty_command",
		 "\"script\" must be a non-empty string"},
		/* platforms */
		{"{\"command\":[\"make\"]}", "bad_platform", "non-empty array"},
		{"{\"platforms\":[],\"command\":[\"make\"]}", "bad_platform", "non-empty array"},
		{"{\"platforms\":\"linux/amd64\",\"command\":[\"make\"]}", "bad_platform",
		 "non-empty array"},
		{"{\"platforms\":[\"linux\"],\"command\":[\"make\"]}", "bad_platform",
		 "platforms[0]: \"linux\" is not GOOS/GOARCH"},
		{"{\"platforms\":[\"linux/amd64\",\"Linux/amd64\"],\"command\":[\"make\"]}",
		 "bad_platform", "platforms[1]: \"Linux/amd64\""},
		{"{\"platforms\":[\"linux/amd64/x\"],\"command\":[\"make\"]}", "bad_platform",
		 "\"linux/amd64/x\" is not GOOS/GOARCH"},
		{"{\"platforms\":[\"/amd64\"],\"command\":[\"make\"]}", "bad_platform",
		 "\"/amd64\" is not"},
		{"{\"platforms\":[\"linux/\"],\"command\":[\"make\"]}", "bad_platform",
		 "\"linux/\" is not"},
		{"{\"platforms\":[\"linux/amd 64\"],\"command\":[\"make\"]}", "bad_platform",
		 "is not GOOS/GOARCH"},
		{"{\"platforms\":[7],\"command\":[\"make\"]}", "bad_platform",
		 "(not a string)"},
		{"{\"platforms\":[\"linux/amd64\",\"linux/arm64\",\"linux/amd64\"],"
		 "\"command\":[\"make\"]}",
		 "bad_platform", "platform linux/amd64 is listed twice"},
		/* env */
		{BODY(",\"env\":{\"CC\":1}"), "bad_env", "env.CC must be a string"},
		{BODY(",\"env\":{\"CC\":null}"), "bad_env", "env.CC must be a string"},
		{BODY(",\"env\":{\"A=B\":\"x\"}"), "bad_env", "bad variable name \"A=B\""},
		{BODY(",\"env\":{\"\":\"x\"}"), "bad_env", "bad variable name"},
		{BODY(",\"env\":{\"RFARM_TOKEN\":\"x\"}"), "bad_env",
		 "RFARM_ variables are set by the buildlet"},
		{BODY(",\"env\":[\"A=B\"]"), "bad_env", "must be an object"},
		/* labels */
		{BODY(",\"labels\":[\"large\",1]"), "bad_label", "labels[1]"},
		{BODY(",\"labels\":[\"\"]"), "bad_label", "labels[0]"},
		{BODY(",\"labels\":\"large\""), "bad_label", "must be an array"},
		/* priority */
		{BODY(",\"priority\":1001"), "bad_priority", "-1000 to 1000"},
		{BODY(",\"priority\":-1001"), "bad_priority", "-1000 to 1000"},
		{BODY(",\"priority\":1.5"), "bad_priority", "integer"},
		{BODY(",\"priority\":1.0"), "bad_priority", "integer"},
		{BODY(",\"priority\":\"5\""), "bad_priority", "integer"},
		/* timeout */
		{BODY(",\"timeout\":\"0s\""), "bad_timeout", "at most 7 days"},
		{BODY(",\"timeout\":\"abc\""), "bad_timeout", "duration"},
		{BODY(",\"timeout\":\"\""), "bad_timeout", "duration"},
		{BODY(",\"idle_timeout\":\"0s\""), "bad_timeout", "idle_timeout"},
		{BODY(",\"idle_timeout\":\"soon\""), "bad_timeout", "idle_timeout"},
		{BODY(",\"idle_timeout\":-3"), "bad_timeout", "idle_timeout"},
		{BODY(",\"timeout\":\"192h\""), "bad_timeout", "at most 7 days"},
		{BODY(",\"timeout\":691200"), "bad_timeout", "at most 7 days"},
		{BODY(",\"timeout\":604801"), "bad_timeout", "at most 7 days"},
		{BODY(",\"timeout\":0"), "bad_timeout", "duration"},
		{BODY(",\"timeout\":-5"), "bad_timeout", "duration"},
		{BODY(",\"timeout\":1.5"), "bad_timeout", "duration"},
		{BODY(",\"timeout\":true"), "bad_timeout", "duration"},
		{BODY(",\"timeout\":null"), "bad_timeout", "duration"},
		/* fields */
		{BODY(",\"colour\":\"red\""), "unknown_field", "unknown field \"colour\""},
		{BODY(",\"source\":{\"git\":{\"url\":\"x\"}}"), "bad_source",
		 "file:// URL"},
		{BODY(",\"source\":{\"git\":{\"url\":\"file:///r\",\"ref\":\"--upload-pack=x\"}}"),
		 "bad_source", "not a branch"},
		{BODY(",\"source\":{\"git\":{\"url\":\"https://x/ y\"}}"), "bad_source",
		 "without spaces"},
		{BODY(",\"source\":{\"git\":\"https://x\"}"), "bad_source", "url"},
		{BODY(",\"source\":{\"tarball\":\"abc\"}"), "bad_source", "SHA-256"},
		{BODY(",\"source\":{\"tarball\":7}"), "bad_source", "SHA-256"},
		{BODY(",\"source\":\"x.tar.gz\""), "bad_source", "tarball"},
		{BODY(",\"source\":{\"zip\":\"x\"}"), "bad_source", "tarball"},
		{BODY(",\"artifacts\":[\"../out/*\"]"), "bad_artifact", "inside the work"},
		{BODY(",\"artifacts\":[\"/etc/passwd\"]"), "bad_artifact", "inside the work"},
		{BODY(",\"artifacts\":[\"a/../../b\"]"), "bad_artifact", "inside the work"},
		{BODY(",\"artifacts\":\"out/*\""), "bad_artifact", "array"},
		/* host_type */
		{BODY(",\"host_type\":\"\""), "bad_host_type", "1 to 64"},
		{BODY(",\"host_type\":\"a b\""), "bad_host_type", "host type name"},
		{BODY(",\"host_type\":\"../x\""), "bad_host_type", "host type name"},
		{BODY(",\"host_type\":7"), "bad_host_type", "host type name"},
		{BODY(",\"host_type\":null"), "bad_host_type", "host type name"},
		{BODY(",\"host_type\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""),
		 "bad_host_type", "1 to 64"},
		/* JSON itself */
		{"{\"platforms\": [", "bad_json", "(line 1, column"},
		{"{\n\"platforms\": [\"linux/amd64\"],\n\"command\": [make]\n}", "bad_json",
		 "(line 3, column"},
		{"", "bad_json", "not valid JSON"},
		{"[]", "bad_json", "must be a JSON object"},
		{"[{\"platforms\":[\"linux/amd64\"],\"command\":[\"make\"]}]", "bad_json",
		 "must be a JSON object"},
		{"\"hello\"", "bad_json", "not valid JSON"},
		{BODY(",\"command\":[\"again\"]"), "bad_json", "duplicate"},
		{BODY(",\"env\":{\"A\":\"1\",\"A\":\"2\"}"), "bad_json", "duplicate"},
		{"{\"platforms\":[\"linux/amd64\"],\"command\":[\"a\\u0000b\"]}", "bad_json",
		 "not valid JSON"},
		{BODY("") BODY(""), "bad_json", "not valid JSON"},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		check_err(cases[i].body, strlen(cases[i].body), cases[i].code,
			  cases[i].fragment);
}

/*
 * A request with `count` copies of item in the array or object `member`.
 * Free the result.
 */
static char *body_with_many(const char *member, int count, int object)
{
	struct buf b;
	char *out;

	buf_init(&b, 0, 0);
	buf_puts(&b, "{\"platforms\":");
	if (!strcmp(member, "platforms")) {
		buf_putc(&b, '[');
		for (int i = 0; i < count; i++)
			buf_printf(&b, "%s\"linux/a%d\"", i ? "," : "", i);
		buf_puts(&b, "],\"command\":[\"make\"]}");
		goto done;
	}
	buf_puts(&b, "[\"linux/amd64\"]");
	if (strcmp(member, "command"))
		buf_puts(&b, ",\"command\":[\"make\"]");
	buf_printf(&b, ",\"%s\":%c", member, object ? '{' : '[');
	for (int i = 0; i < count; i++) {
		if (object)
			buf_printf(&b, "%s\"V%d\":\"x\"", i ? "," : "", i);
		else
			buf_printf(&b, "%s\"a%d\"", i ? "," : "", i);
	}
	buf_printf(&b, "%c}", object ? '}' : ']');
done:
	assert_int_equal(b.err, RC_OK);
	out = strdup(buf_cstr(&b));
	buf_free(&b);
	return out;
}

static void test_limits(void **state)
{
	static const struct {
		const char *member;   /* array or object to fill */
		int object;           /* 1 for env */
		int max;              /* the limit */
		const char *code;     /* error code past it */
		const char *fragment; /* part of the message */
	} cases[] = {
		{"platforms", 0, REQUEST_MAX_PLATFORMS, "bad_platform", "at most 64 platforms"},
		{"command", 0, REQUEST_MAX_ARGS, "bad_command", "at most 4096 arguments"},
		{"env", 1, REQUEST_MAX_ENV, "bad_env", "at most 1024 variables"},
		{"labels", 0, REQUEST_MAX_LABELS, "bad_label", "at most 64 strings"},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		char *at = body_with_many(cases[i].member, cases[i].max, cases[i].object);
		char *over = body_with_many(cases[i].member, cases[i].max + 1,
					    cases[i].object);
		struct request_error err = {"", ""};
		json_t *spec = NULL;

		/* Exactly at the limit is fine. */
		if (request_parse_build(at, strlen(at), &spec, &err))
			fail_msg("%s at the limit: %s: %s", cases[i].member, err.code,
				 err.message);
		json_decref(spec);
		check_err(over, strlen(over), cases[i].code, cases[i].fragment);
		free(at);
		free(over);
	}
}

/* Names from the request are cut in messages; messages stay terminated. */
static void test_long_names_cut(void **state)
{
	char name[1001], *body;
	struct request_error err;
	json_t *spec = NULL;

	(void)state;
	memset(name, 'k', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	body = NULL;
	assert_true(asprintf(&body, BODY(",\"%s\":1"), name) > 0);
	check_err(body, strlen(body), "unknown_field", "unknown field \"kkkk");
	/* Start from garbage: both fields must come back terminated. */
	memset(&err, 'z', sizeof err);
	assert_int_equal(request_parse_build(body, strlen(body), &spec, &err),
			 RC_INVALID);
	assert_null(spec);
	assert_true(strlen(err.message) < 100); /* the name is cut at 64 */
	assert_true(strlen(err.code) < sizeof err.code);
	free(body);
}

static void test_valid_platform(void **state)
{
	char p64[65], p65[66];
	static const struct {
		const char *s; /* candidate */
		int valid;     /* expected */
	} cases[] = {
		{"linux/amd64", 1}, {"windows/arm64", 1}, {"plan9/386", 1},
		{"a/b", 1},         {"linux", 0},         {"Linux/amd64", 0},
		{"linux/AMD64", 0}, {"linux/amd64/x", 0}, {"/amd64", 0},
		{"linux/", 0},      {"/", 0},             {"", 0},
		{"linux/amd-64", 0}, {"linux/amd_64", 0}, {"linux /amd64", 0},
		{"linux//amd64", 0}, {"linux/amd64\n", 0}, {"../etc", 0},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		if (request_valid_platform(cases[i].s) != cases[i].valid)
			fail_msg("request_valid_platform(\"%s\") != %d", cases[i].s,
				 cases[i].valid);
	/* At most 64 bytes in all. */
	memset(p64, 'a', sizeof p64 - 1);
	p64[5] = '/';
	p64[64] = '\0';
	assert_true(request_valid_platform(p64));
	memset(p65, 'a', sizeof p65 - 1);
	p65[5] = '/';
	p65[65] = '\0';
	assert_false(request_valid_platform(p65));
}

static void test_valid_host_type(void **state)
{
	static const struct {
		const char *s; /* candidate */
		int valid;     /* expected */
	} cases[] = {
		{"linux-amd64", 1}, {"Mac_M1.local", 1}, {"a", 1},
		{"", 0}, {"a b", 0}, {"a/b", 0}, {"a\n", 0}, {"é", 0},
		{"1234567890123456789012345678901234567890123456789012345678901234", 1},
		{"12345678901234567890123456789012345678901234567890123456789012345", 0},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		if (request_valid_host_type(cases[i].s) != cases[i].valid)
			fail_msg("request_valid_host_type(\"%s\") != %d", cases[i].s,
				 cases[i].valid);
}

/*
 * An integer timeout is range-checked before it is multiplied by 1000:
 * a huge one is "bad_timeout", not a signed overflow (which UBSan would
 * stop at).
 */
static void test_timeout_huge_integer(void **state)
{
	static const char *const bodies[] = {
		BODY(",\"timeout\":9223372036854775807"),
		BODY(",\"timeout\":-9223372036854775807"),
		BODY(",\"timeout\":9223372036854776"), /* x1000 just past */
	};

	(void)state;
	for (size_t i = 0; i < N(bodies); i++)
		check_err(bodies[i], strlen(bodies[i]), "bad_timeout", "duration");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_requests),
		cmocka_unit_test(test_len_respected),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_long_names_cut),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_valid_platform),
		cmocka_unit_test(test_valid_host_type),
		cmocka_unit_test(test_timeout_huge_integer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
