/*
 * test_cli.c - unit tests of the rfarm command line's pure parts and of
 * the API client's error mapping.
 *
 * The argument parsers, request builder, exit-status rule and text
 * formatting are driven through tables. The API client is pointed at a
 * closed port and at a scripted HTTP peer on 127.0.0.1 (a thread that
 * answers one request with canned bytes), never at a real coordinator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_client.h"
#include "cli.h"

/* ---- cli_submit_request ---- */

#define MAXARGS 24

struct submit_case {
	const char *name;          /* what the row shows */
	const char *argv[MAXARGS]; /* starts with "submit", NULL-terminated */
	const char *want_json;     /* expected request, or NULL on error */
	const char *want_err;      /* expected error text (exact) */
	struct cli_submit_flags want_flags; /* --wait/--json/--help */
};

static const struct submit_case submit_cases[] = {
	{"command after --",
	 {"submit", "--platform", "linux/amd64", "--", "make", "test"},
	 "{\"platforms\":[\"linux/amd64\"],\"env\":{},\"labels\":[],"
	 "\"priority\":0,\"command\":[\"make\",\"test\"]}", NULL, {0, 0, 0}},
	{"args after -- that start with '-'",
	 {"submit", "--platform", "linux/amd64", "--", "make", "-j2", "--keep-going",
	  "--", "-x"},
	 "{\"platforms\":[\"linux/amd64\"],\"env\":{},\"labels\":[],"
	 "\"priority\":0,\"command\":[\"make\",\"-j2\",\"--keep-going\","
	 "\"--\",\"-x\"]}", NULL, {0, 0, 0}},
	{"everything",
	 {"submit", "--platform", "linux/amd64", "--platform=darwin/arm64",
	  "--env", "CC=cc", "--env", "EMPTY=", "--env", "X=a=b", "--label",
	  "large", "--priority", "-3", "--timeout", "10m", "--wait", "--json",
	  "--script", "make && make test"},
	 "{\"platforms\":[\"linux/amd64\",\"darwin/arm64\"],"
	 "\"env\":{\"CC\":\"cc\",\"EMPTY\":\"\",\"X\":\"a=b\"},"
	 "\"labels\":[\"large\"],\"priority\":-3,\"timeout\":\"10m\","
	 "\"script\":\"make && make test\"}", NULL, {1, 1, 0}},
	{"idle timeout",
	 {"submit", "--platform", "linux/amd64", "--idle-timeout", "5m",
	  "--timeout=1h", "--", "make"},
	 "{\"platforms\":[\"linux/amd64\"],\"env\":{},\"labels\":[],"
	 "\"priority\":0,\"idle_timeout\":\"5m\",\"timeout\":\"1h\","
	 "\"command\":[\"make\"]}", NULL, {0, 0, 0}},
	{"idle timeout, bare seconds",
	 {"submit", "--platform", "linux/amd64", "--idle-timeout=90",
	  "--script", "make"},
	 "{\"platforms\":[\"linux/amd64\"],\"env\":{},\"labels\":[],"
	 "\"priority\":0,\"idle_timeout\":\"90\",\"script\":\"make\"}",
	 NULL, {0, 0, 0}},
	{"later --env wins",
	 {"submit", "--platform", "linux/amd64", "--env", "A=1", "--env", "A=2",
	  "--script", "true"},
	 "{\"platforms\":[\"linux/amd64\"],\"env\":{\"A\":\"2\"},\"labels\":[],"
	 "\"priority\":0,\"script\":\"true\"}", NULL, {0, 0, 0}},
	{"script value that looks like an option",
	 {"submit", "--platform", "linux/amd64", "--script", "--", "make"},
	 NULL, "unexpected argument 'make': put the command after --, as "
	 "in: rfarm submit --platform linux/amd64 -- make test", {0, 0, 0}},
	{"script value that looks like an option, then options",
	 {"submit", "--script", "--", "--wait", "--platform", "linux/amd64"},
	 "{\"platforms\":[\"linux/amd64\"],\"env\":{},\"labels\":[],"
	 "\"priority\":0,\"script\":\"--\"}", NULL, {1, 0, 0}},
	{"help",
	 {"submit", "--help", "--bogus"}, NULL, NULL, {0, 0, 1}},
	{"missing platform",
	 {"submit", "--", "make"},
	 NULL, "give at least one --platform GOOS/GOARCH", {0, 0, 0}},
	{"bad platform",
	 {"submit", "--platform", "linux", "--", "make"},
	 NULL, "bad --platform 'linux': want GOOS/GOARCH such as linux/amd64",
	 {0, 0, 0}},
	{"upper-case platform",
	 {"submit", "--platform", "Linux/amd64", "--", "make"},
	 NULL, "bad --platform 'Linux/amd64': want GOOS/GOARCH such as "
	 "linux/amd64", {0, 0, 0}},
	{"platform twice",
	 {"submit", "--platform", "linux/amd64", "--platform", "linux/amd64",
	  "--", "make"},
	 NULL, "platform linux/amd64 is given twice", {0, 0, 0}},
	{"env without =",
	 {"submit", "--platform", "linux/amd64", "--env", "NOEQUALS", "--",
	  "make"},
	 NULL, "--env wants KEY=VALUE, not 'NOEQUALS'", {0, 0, 0}},
	{"env with bad name",
	 {"submit", "--platform", "linux/amd64", "--env", "1X=y", "--", "make"},
	 NULL, "bad variable name in --env '1X=y' (letters, digits and _, not "
	 "starting with a digit)", {0, 0, 0}},
	{"both script and command",
	 {"submit", "--platform", "linux/amd64", "--script", "make", "--",
	  "make"},
	 NULL, "give either --script TEXT or -- CMD ARGS, not both", {0, 0, 0}},
	{"nothing to run",
	 {"submit", "--platform", "linux/amd64"},
	 NULL, "nothing to run: give --script TEXT or -- CMD ARGS", {0, 0, 0}},
	{"nothing after --",
	 {"submit", "--platform", "linux/amd64", "--"},
	 NULL, "nothing to run: give --script TEXT or -- CMD ARGS", {0, 0, 0}},
	{"command without --",
	 {"submit", "--platform", "linux/amd64", "make", "test"},
	 NULL, "unexpected argument 'make': put the command after --, as in: "
	 "rfarm submit --platform linux/amd64 -- make test", {0, 0, 0}},
	{"unknown option",
	 {"submit", "--bogus", "--platform", "linux/amd64", "--", "make"},
	 NULL, "unknown option '--bogus'", {0, 0, 0}},
	{"unknown short option",
	 {"submit", "-z", "--platform", "linux/amd64", "--", "make"},
	 NULL, "unknown option '-z'", {0, 0, 0}},
	{"an option after -- is part of the command",
	 {"submit", "--", "make", "--platform"}, NULL,
	 "give at least one --platform GOOS/GOARCH", {0, 0, 0}},
	{"option at the end without value",
	 {"submit", "--platform"}, NULL,
	 "option '--platform' needs a value", {0, 0, 0}},
	{"flag given a value",
	 {"submit", "--wait=yes"}, NULL,
	 "option '--wait=yes' takes no value", {0, 0, 0}},
	{"bad priority",
	 {"submit", "--priority", "high"}, NULL,
	 "--priority must be a number from -1000000 to 1000000, not 'high'",
	 {0, 0, 0}},
	{"bad timeout",
	 {"submit", "--timeout", "soon"}, NULL,
	 "bad --timeout 'soon': want a duration such as 90s, 10m or 1h30m",
	 {0, 0, 0}},
	{"bad idle timeout",
	 {"submit", "--platform", "linux/amd64", "--idle-timeout", "soon",
	  "--", "make"}, NULL,
	 "bad --idle-timeout 'soon': want a duration such as 90s, 10m or "
	 "1h30m", {0, 0, 0}},
	{"zero idle timeout",
	 {"submit", "--idle-timeout", "0s"}, NULL,
	 "bad --idle-timeout '0s': want a duration such as 90s, 10m or "
	 "1h30m", {0, 0, 0}},
	{"idle timeout without value",
	 {"submit", "--platform", "linux/amd64", "--idle-timeout"}, NULL,
	 "option '--idle-timeout' needs a value", {0, 0, 0}},
	{"bad label",
	 {"submit", "--label", "a b"}, NULL,
	 "bad --label 'a b' (letters, digits, '.', '_' and '-')", {0, 0, 0}},
};

static int argv_count(const char *const *argv)
{
	int n = 0;

	while (n < MAXARGS && argv[n])
		n++;
	return n;
}

static void test_submit_request(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof submit_cases / sizeof submit_cases[0]; i++) {
		const struct submit_case *tc = &submit_cases[i];
		char *argv[MAXARGS + 1] = {0};
		struct cli_submit_flags flags = {9, 9, 9};
		struct errbuf eb = {""};
		json_t *req = (json_t *)&eb, *want;
		int argc = argv_count(tc->argv);
		rc_t rc;

		memcpy(argv, tc->argv, sizeof tc->argv);
		print_message("submit: %s\n", tc->name);
		rc = cli_submit_request(argc, argv, &req, &flags, &eb);
		if (!tc->want_json && !tc->want_err) {
			/* --help: success with nothing to send */
			assert_int_equal(rc, RC_OK);
			assert_null(req);
		} else if (tc->want_json) {
			assert_int_equal(rc, RC_OK);
			want = json_loads(tc->want_json, 0, NULL);
			assert_non_null(want);
			if (!json_equal(req, want)) {
				char *got = json_dumps(req, JSON_COMPACT);

				print_error("got %s\n", got);
				free(got);
				fail();
			}
			json_decref(want);
			json_decref(req);
		} else {
			assert_int_equal(rc, RC_INVALID);
			assert_null(req);
			assert_string_equal(eb.msg, tc->want_err);
		}
		if (tc->want_json || !tc->want_err) {
			assert_int_equal(flags.wait, tc->want_flags.wait);
			assert_int_equal(flags.json, tc->want_flags.json);
			assert_int_equal(flags.help, tc->want_flags.help);
		}
	}
}

/* getopt state from one vector must not leak into the next. */
static void test_submit_request_twice(void **state)
{
	char *a[] = {"submit", "-zq", NULL};
	char *b[] = {"submit", "--platform", "linux/arm64", "--script", "x",
		     NULL};
	struct errbuf eb = {""};
	json_t *req = NULL;

	(void)state;
	assert_int_equal(cli_submit_request(2, a, &req, NULL, &eb),
			 RC_INVALID);
	assert_string_equal(eb.msg, "unknown option '-z'");
	errbuf_clear(&eb);
	assert_int_equal(cli_submit_request(5, b, &req, NULL, &eb), RC_OK);
	assert_string_equal(json_string_value(json_object_get(req, "script")),
			    "x");
	json_decref(req);
}

/* ---- listen addresses, numbers, platforms ---- */

struct listen_case {
	const char *in;        /* --listen value */
	rc_t rc;               /* expected result */
	const char *host;      /* expected host on RC_OK */
	int port;              /* expected port on RC_OK */
	const char *err;       /* expected message on failure */
};

static const struct listen_case listen_cases[] = {
	{"127.0.0.1:0", RC_OK, "127.0.0.1", 0, NULL},
	{"127.0.0.1:8080", RC_OK, "127.0.0.1", 8080, NULL},
	{":8080", RC_OK, "0.0.0.0", 8080, NULL},
	{"localhost:65535", RC_OK, "localhost", 65535, NULL},
	{"[::1]:80", RC_OK, "::1", 80, NULL},
	{"nope", RC_INVALID, NULL, 0,
	 "listen address 'nope' must be HOST:PORT or :PORT"},
	{"host:99999", RC_INVALID, NULL, 0,
	 "port in listen address 'host:99999' must be a number from 0 to 65535"},
	{"host:", RC_INVALID, NULL, 0,
	 "port in listen address 'host:' must be a number from 0 to 65535"},
	{"host:+80", RC_INVALID, NULL, 0,
	 "port in listen address 'host:+80' must be a number from 0 to 65535"},
	{"host:-1", RC_INVALID, NULL, 0,
	 "port in listen address 'host:-1' must be a number from 0 to 65535"},
	{"::1:80", RC_INVALID, NULL, 0,
	 "listen address '::1:80': put an IPv6 address in brackets, as in "
	 "[::1]:8080"},
	{"[::1]", RC_INVALID, NULL, 0,
	 "listen address '[::1]' must be HOST:PORT or :PORT"},
	{"[]:80", RC_INVALID, NULL, 0,
	 "listen address '[]:80' must be HOST:PORT or :PORT"},
	{"", RC_INVALID, NULL, 0, "listen address '' must be HOST:PORT or :PORT"},
};

static void test_listen_parse(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof listen_cases / sizeof listen_cases[0]; i++) {
		const struct listen_case *tc = &listen_cases[i];
		char host[64] = "untouched";
		struct errbuf eb = {""};
		int port = -7;

		print_message("listen: '%s'\n", tc->in);
		assert_int_equal(cli_listen_parse(tc->in, host, sizeof host,
						  &port, &eb), tc->rc);
		if (tc->rc == RC_OK) {
			assert_string_equal(host, tc->host);
			assert_int_equal(port, tc->port);
		} else {
			assert_string_equal(eb.msg, tc->err);
			assert_int_equal(port, -7);
		}
	}
}

static void test_listen_host_too_long(void **state)
{
	char host[8];
	struct errbuf eb = {""};
	int port;

	(void)state;
	assert_int_equal(cli_listen_parse("abcdefgh:1", host, sizeof host,
					  &port, &eb), RC_INVALID);
	assert_string_equal(eb.msg,
			    "host in listen address 'abcdefgh:1' is too long");
	assert_int_equal(cli_listen_parse("abcdefg:1", host, sizeof host,
					  &port, NULL), RC_OK);
	assert_string_equal(host, "abcdefg");
}

static void test_platform_and_host_type(void **state)
{
	static const struct {
		const char *s;
		int platform, host_type;
	} cases[] = {
		{"linux/amd64", 1, 0},  {"darwin/arm64", 1, 0},
		{"plan9/386", 1, 0},    {"linux", 0, 1},
		{"linux/", 0, 0},       {"/amd64", 0, 0},
		{"linux/amd64/x", 0, 0}, {"Linux/amd64", 0, 0},
		{"linux-amd64", 0, 1},  {"linux_amd64.big", 0, 1},
		{"", 0, 0},             {"linux amd64", 0, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("platform: '%s'\n", cases[i].s);
		assert_int_equal(cli_platform_valid(cases[i].s),
				 cases[i].platform);
		assert_int_equal(cli_host_type_valid(cases[i].s),
				 cases[i].host_type);
	}
}

static void test_number_parse(void **state)
{
	static const struct {
		const char *s;
		rc_t rc;
		long v;
	} cases[] = {
		{"1", RC_OK, 1},     {"10", RC_OK, 10},   {"0", RC_INVALID, 0},
		{"11", RC_INVALID, 0}, {"", RC_INVALID, 0}, {" 5", RC_INVALID, 0},
		{"5x", RC_INVALID, 0}, {"99999999999999999999", RC_INVALID, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct errbuf eb = {""};
		long v = -1;

		assert_int_equal(cli_number_parse(cases[i].s, 1, 10, "N", &v,
						  &eb), cases[i].rc);
		if (cases[i].rc == RC_OK)
			assert_int_equal(v, cases[i].v);
		else
			assert_int_equal(v, -1);
	}
	{
		struct errbuf eb = {""};
		long v;

		cli_number_parse("x", 1, 10, "--capacity", &v, &eb);
		assert_string_equal(eb.msg, "--capacity must be a number from "
				    "1 to 10, not 'x'");
	}
}

/* What f(cmd) writes to stderr, into out; returns f's status. */
static int capture_stderr(int (*f)(const struct cli_cmd *), char *out,
			  size_t n)
{
	static const struct cli_cmd cmd = {"demo", "", NULL, "usage: demo\n"};
	FILE *tmp = tmpfile();
	int saved = dup(2), status;
	size_t got;

	assert_non_null(tmp);
	fflush(stderr);
	assert_int_not_equal(dup2(fileno(tmp), 2), -1);
	status = f(&cmd);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	got = fread(out, 1, n - 1, tmp);
	out[got] = '\0';
	fclose(tmp);
	return status;
}

static long number_arg_out;

static int number_arg_good(const struct cli_cmd *cmd)
{
	return cli_number_arg(cmd, "7", 1, 10, "--n", &number_arg_out);
}

static int number_arg_bad(const struct cli_cmd *cmd)
{
	return cli_number_arg(cmd, "70", 1, 10, "--n", &number_arg_out);
}

static int option_error_missing(const struct cli_cmd *cmd)
{
	static char a0[] = "demo", a1[] = "--data";
	char *argv[] = {a0, a1, NULL};

	optind = 2; /* as getopt_long leaves it after a missing value */
	return cli_option_error(cmd, argv, ":h", ':');
}

/* The usage-error helpers: message, usage text, status. */
static void test_usage_helpers(void **state)
{
	char text[256];

	(void)state;
	assert_int_equal(capture_stderr(number_arg_good, text, sizeof text), 0);
	assert_int_equal(number_arg_out, 7);
	assert_string_equal(text, "");
	assert_int_equal(capture_stderr(number_arg_bad, text, sizeof text),
			 CLI_EXIT_USAGE);
	assert_string_equal(text, "rfarm demo: --n must be a number from 1 to "
			    "10, not '70'\n\nusage: demo\n");
	assert_int_equal(capture_stderr(option_error_missing, text, sizeof text),
			 CLI_EXIT_USAGE);
	assert_string_equal(text, "rfarm demo: option '--data' needs a value\n"
			    "\nusage: demo\n");
}

static void test_size_parse(void **state)
{
	static const struct {
		const char *s;  /* input */
		rc_t rc;        /* expected result */
		int64_t v;      /* expected bytes */
	} cases[] = {
		{"1", RC_OK, 1},
		{"4096", RC_OK, 4096},
		{"512M", RC_OK, (int64_t)512 << 20},
		{"2G", RC_OK, (int64_t)2 << 30},
		{"2g", RC_OK, (int64_t)2 << 30},
		{"64KiB", RC_OK, 64 << 10},
		{"1MB", RC_OK, 1 << 20},
		{"3T", RC_OK, (int64_t)3 << 40},
		{"0", RC_INVALID, 0},
		{"", RC_INVALID, 0},
		{"M", RC_INVALID, 0},
		{"-1M", RC_INVALID, 0},
		{" 1M", RC_INVALID, 0},
		{"1.5G", RC_INVALID, 0},
		{"1X", RC_INVALID, 0},
		{"1MX", RC_INVALID, 0},
		{"99999999999T", RC_INVALID, 0},
		{"99999999999999999999", RC_INVALID, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct errbuf eb = {""};
		int64_t v = -1;

		assert_int_equal(cli_size_parse(cases[i].s, "--max-file-size",
						&v, &eb), cases[i].rc);
		assert_true(cases[i].rc == RC_OK ? v == cases[i].v : v == -1);
		if (cases[i].rc != RC_OK)
			assert_non_null(strstr(eb.msg, "--max-file-size wants a "
						   "size such as 512M"));
	}
}

static void test_query_add(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0, 0);
	buf_puts(&b, "/api/v1/builds");
	cli_query_add(&b, "platform", "linux/amd64");
	cli_query_add(&b, "state", "a b&c=d");
	assert_string_equal(buf_cstr(&b), "/api/v1/builds?platform=linux/amd64"
			    "&state=a%20b%26c%3Dd");
	buf_free(&b);
}

/* ---- token files ---- */

static char *temp_file(const char *content, mode_t mode)
{
	char *path = strdup("/tmp/test_cli_key_XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)),
			 (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static void test_key_file(void **state)
{
	static const struct {
		const char *content;
		mode_t mode;
		rc_t rc;
		const char *key;     /* on RC_OK */
		const char *err_fmt; /* on failure; %s is the path */
	} cases[] = {
		{"  abc123\n", 0600, RC_OK, "abc123", NULL},
		{"k e y\r\n", 0400, RC_OK, "k e y", NULL},
		{"abc", 0644, RC_AUTH, NULL,
		 "token file %s is readable by others (mode 0644); chmod 600 it"},
		{"abc", 0640, RC_AUTH, NULL,
		 "token file %s is readable by others (mode 0640); chmod 600 it"},
		{"abc", 0620, RC_AUTH, NULL,
		 "token file %s is writable by others (mode 0620); chmod 600 it"},
		{" \n\t", 0600, RC_INVALID, NULL, "token file %s is empty"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *path = temp_file(cases[i].content, cases[i].mode);
		struct errbuf eb = {""};
		char want[512];
		char *key = (char *)"untouched";

		print_message("key file: mode %04o\n", (unsigned)cases[i].mode);
		assert_int_equal(cli_key_file_read(path, &key, &eb),
				 cases[i].rc);
		if (cases[i].rc == RC_OK) {
			assert_string_equal(key, cases[i].key);
			free(key);
		} else {
			assert_null(key);
			snprintf(want, sizeof want, cases[i].err_fmt, path);
			assert_string_equal(eb.msg, want);
		}
		unlink(path);
		free(path);
	}
}

static void test_key_file_missing_and_large(void **state)
{
	struct errbuf eb = {""};
	char *key = NULL, *big = malloc(5000), *path;

	(void)state;
	assert_int_equal(cli_key_file_read("/nonexistent/key", &key, &eb),
			 RC_NOT_FOUND);
	assert_string_equal(eb.msg, "token file /nonexistent/key: No such "
			    "file or directory");
	memset(big, 'k', 4999);
	big[4999] = '\0';
	path = temp_file(big, 0600);
	errbuf_clear(&eb);
	assert_int_equal(cli_key_file_read(path, &key, &eb), RC_TOO_LARGE);
	assert_null(key);
	unlink(path);
	free(path);
	free(big);
}

/* ---- --wait exit status ---- */

static void test_wait_exit_code(void **state)
{
	static const struct {
		const char *build;
		int want;
	} cases[] = {
		{"{\"jobs\":[{\"state\":\"passed\"},{\"state\":\"passed\"}]}", 0},
		{"{\"jobs\":[{\"state\":\"passed\"},{\"state\":\"failed\"}]}", 1},
		{"{\"jobs\":[{\"state\":\"cancelled\"}]}", 1},
		{"{\"jobs\":[{\"state\":\"failed\"},{\"state\":\"error\"}]}", 2},
		{"{\"jobs\":[{\"state\":\"error\"},{\"state\":\"passed\"}]}", 2},
		{"{\"jobs\":[{\"state\":\"passed\"},{\"state\":\"running\"}]}", -1},
		{"{\"jobs\":[{\"state\":\"error\"},{\"state\":\"queued\"}]}", -1},
		{"{\"jobs\":[{\"state\":\"dispatched\"}]}", -1},
		{"{\"jobs\":[{\"state\":\"passed\"},{}]}", 2},
		{"{\"jobs\":[]}", 2},
		{"{\"id\":7}", 2},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *b = json_loads(cases[i].build, 0, NULL);

		print_message("wait: %s\n", cases[i].build);
		assert_non_null(b);
		assert_int_equal(cli_wait_exit_code(b), cases[i].want);
		json_decref(b);
	}
}

/* ---- human output ---- */

static const char build_json[] =
	"{\"id\":7,\"created\":\"2026-11-22T10:00:00Z\",\"state\":\"error\","
	"\"command\":[\"make\"],\"jobs\":["
	"{\"id\":12,\"platform\":\"linux/amd64\",\"state\":\"passed\","
	"\"exit_code\":0,\"signal\":0,\"error\":\"\",\"buildlet\":\"b1\","
	"\"duration_ms\":1234,\"reason\":\"\"},"
	"{\"id\":13,\"platform\":\"linux/arm64\",\"state\":\"failed\","
	"\"exit_code\":2,\"signal\":0,\"error\":\"\",\"buildlet\":\"pi-4\","
	"\"duration_ms\":184000},"
	"{\"id\":14,\"platform\":\"darwin/arm64\",\"state\":\"error\","
	"\"exit_code\":-1,\"signal\":0,\"error\":\"source fetch failed\","
	"\"buildlet\":\"mac\",\"duration_ms\":7500000},"
	"{\"id\":15,\"platform\":\"windows/amd64\",\"state\":\"queued\","
	"\"buildlet\":\"\",\"duration_ms\":0,"
	"\"reason\":\"no buildlet for windows/amd64\"},"
	"{\"id\":16,\"platform\":\"linux/386\",\"state\":\"cancelled\","
	"\"exit_code\":-1,\"signal\":15,\"buildlet\":\"b1\",\"cached\":false,"
	"\"duration_ms\":42},"
	"{\"id\":17,\"platform\":\"freebsd/amd64\",\"state\":\"passed\","
	"\"exit_code\":0,\"buildlet\":\"b2\",\"cached\":true}]}";

static void test_format_build(void **state)
{
	json_t *b = json_loads(build_json, 0, NULL);
	char *text;

	(void)state;
	assert_non_null(b);
	text = cli_format_build(b);
	assert_string_equal(text,
		"build 7: error, created 2026-11-22T10:00:00Z\n"
		"JOB  PLATFORM       STATE      EXIT       DURATION  BUILDLET  NOTE\n"
		"12   linux/amd64    passed     0          1.2s      b1\n"
		"13   linux/arm64    failed     2          3m04s     pi-4\n"
		"14   darwin/arm64   error      -          2h05m     mac       source fetch failed\n"
		"15   windows/amd64  queued     -          -         -         no buildlet for windows/amd64\n"
		"16   linux/386      cancelled  signal 15  42ms      b1\n"
		"17   freebsd/amd64  passed     0          -         b2        from cache\n");
	free(text);
	text = cli_format_wait(b);
	assert_string_equal(text,
		"job 12 linux/amd64 passed exit 0\n"
		"job 13 linux/arm64 failed exit 2\n"
		"job 14 darwin/arm64 error: source fetch failed\n"
		"job 15 windows/amd64 queued\n"
		"job 16 linux/386 cancelled signal 15\n"
		"job 17 freebsd/amd64 passed exit 0 (from cache)\n");
	free(text);
	json_decref(b);
}

static void test_format_sparse_build(void **state)
{
	json_t *b = json_loads("{\"id\":3,\"jobs\":[{\"id\":4}]}", 0, NULL);
	char *text = cli_format_build(b);

	(void)state;
	assert_string_equal(text,
		"build 3: -\n"
		"JOB  PLATFORM  STATE  EXIT  DURATION  BUILDLET  NOTE\n"
		"4    -         -      -     -         -\n");
	free(text);
	json_decref(b);
}

static void test_format_lists(void **state)
{
	json_t *l = json_loads(
		"{\"builds\":[{\"id\":8,\"state\":\"running\",\"created\":"
		"\"2026-11-22T10:05:00Z\",\"jobs\":[{\"platform\":\"linux/amd64\","
		"\"state\":\"passed\"},{\"platform\":\"linux/arm64\",\"state\":"
		"\"running\"}]},{\"id\":7,\"state\":\"passed\",\"created\":"
		"\"2026-11-22T10:00:00Z\",\"jobs\":[]}]}", 0, NULL);
	json_t *bl = json_loads(
		"{\"buildlets\":[{\"name\":\"b1\",\"host_type\":\"linux-amd64\","
		"\"platforms\":[\"linux/amd64\",\"linux/386\"],\"labels\":[],"
		"\"capacity\":2,\"running\":1,\"connected\":true,\"version\":"
		"\"0.1.0\",\"last_seen\":\"2026-11-22T10:00:00Z\",\"credential\":"
		"\"enrolled\",\"revoked\":false},{\"name\":"
		"\"mac\",\"host_type\":\"darwin-arm64\",\"platforms\":"
		"[\"darwin/arm64\"],\"labels\":[\"large\",\"fast\"],\"capacity\":8,"
		"\"running\":0,\"connected\":false,\"credential\":\"enrolled\","
		"\"revoked\":true}]}", 0, NULL);
	json_t *empty = json_loads("{\"builds\":[],\"buildlets\":[]}", 0, NULL);
	char *text;

	(void)state;
	text = cli_format_build_list(l);
	assert_string_equal(text,
		"BUILD  STATE    CREATED               JOBS\n"
		"8      running  2026-11-22T10:05:00Z  linux/amd64:passed linux/arm64:running\n"
		"7      passed   2026-11-22T10:00:00Z\n");
	free(text);
	text = cli_format_buildlets(bl);
	assert_string_equal(text,
		"NAME  HOST-TYPE     PLATFORMS              BUSY  CONNECTED  CREDENTIAL  VERSION  LAST-SEEN             LABELS\n"
		"b1    linux-amd64   linux/amd64,linux/386  1/2   yes        enrolled    0.1.0    2026-11-22T10:00:00Z  -\n"
		"mac   darwin-arm64  darwin/arm64           0/8   no         revoked     -        -                     large,fast\n");
	free(text);
	text = cli_format_build_list(empty);
	assert_string_equal(text, "no builds\n");
	free(text);
	text = cli_format_buildlets(empty);
	assert_string_equal(text, "no buildlets\n");
	free(text);
	json_decref(l);
	json_decref(bl);
	json_decref(empty);
}

/* ---- API client against a closed port and a scripted peer ---- */

/* A one-shot HTTP peer: accepts one connection, reads the request head
 * (and a body of Content-Length bytes), sends the canned answer, closes. */
struct peer {
	int lfd;                /* listening socket */
	int port;               /* its port on 127.0.0.1 */
	char *answer;           /* raw bytes to send; owned */
	char request[8192];     /* what the client sent */
	pthread_t thread;       /* runs peer_main */
};

static int loopback_socket(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static size_t request_body_len(const char *head)
{
	const char *cl = strcasestr(head, "\r\nContent-Length:");

	return cl ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
}

static void *peer_main(void *ud)
{
	struct peer *p = ud;
	size_t n = 0;
	int fd = accept(p->lfd, NULL, NULL);
	char *end = NULL;

	if (fd < 0)
		return NULL;
	while (n < sizeof p->request - 1) {
		ssize_t r = read(fd, p->request + n, sizeof p->request - 1 - n);

		if (r <= 0)
			break;
		n += (size_t)r;
		p->request[n] = '\0';
		end = strstr(p->request, "\r\n\r\n");
		if (end && n >= (size_t)(end + 4 - p->request) +
				 request_body_len(p->request))
			break;
	}
	if (write(fd, p->answer, strlen(p->answer)) < 0)
		perror("peer write");
	close(fd);
	return NULL;
}

static void peer_start(struct peer *p, char *answer)
{
	memset(p, 0, sizeof *p);
	p->lfd = loopback_socket(&p->port);
	p->answer = answer;
	assert_int_equal(listen(p->lfd, 1), 0);
	assert_int_equal(pthread_create(&p->thread, NULL, peer_main, p), 0);
}

static void peer_finish(struct peer *p)
{
	pthread_join(p->thread, NULL);
	close(p->lfd);
	free(p->answer);
}

static struct api_client *client_for(int port)
{
	char url[64];

	snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
	return api_client_new(url);
}

static void test_api_refused(void **state)
{
	/* A bound socket that does not listen: connecting is refused. */
	int port, fd = loopback_socket(&port);
	struct api_client *c = client_for(port);
	struct errbuf eb = {""};
	char want[256];
	json_t *out = (json_t *)&eb;

	(void)state;
	assert_int_equal(api_client_get_json(c, "/api/v1/builds", &out, &eb),
			 RC_IO);
	assert_null(out);
	snprintf(want, sizeof want, "cannot reach the coordinator at "
		 "http://127.0.0.1:%d (Connection refused); is it running? "
		 "(set RFARM_URL)", port);
	assert_string_equal(eb.msg, want);
	api_client_free(&c);
	assert_null(c);
	close(fd);
}

/* A whole HTTP/1.1 answer: status line, headers, a Content-Length that
 * matches body unless clen >= 0 says otherwise, body. */
static char *http_answer(const char *status, const char *headers,
			 const char *body, long clen)
{
	char *a = NULL;

	assert_true(asprintf(&a, "HTTP/1.1 %s\r\n%sContent-Length: %ld\r\n"
			     "Connection: close\r\n\r\n%s", status, headers,
			     clen >= 0 ? clen : (long)strlen(body), body) > 0);
	return a;
}

static const struct {
	const char *status;   /* status line after "HTTP/1.1 " */
	const char *headers;  /* extra header lines */
	const char *body;     /* what follows the head */
	long clen;            /* Content-Length, -1 for the body's length */
	rc_t rc;              /* api_client_get_json's result */
	const char *want;     /* the message, or the JSON on RC_OK */
} api_cases[] = {
	{"400 Bad Request", "Content-Type: application/json\r\n",
	 "{\"error\":{\"code\":\"bad_request\",\"message\":\"no platforms\"}}\n",
	 -1, RC_INVALID, "server said: no platforms (bad_request, HTTP 400)"},
	{"404 Not Found", "",
	 "{\"error\":{\"code\":\"not_found\",\"message\":\"no build 9\"}}", -1,
	 RC_NOT_FOUND, "server said: no build 9 (not_found, HTTP 404)"},
	{"401 Unauthorized", "", "{\"error\":{\"message\":\"bad token\"}}  ",
	 -1, RC_AUTH, "server said: bad token (no code, HTTP 401)"},
	{"409 Conflict", "",
	 "{\"error\":{\"code\":\"conflict\",\"message\":\"finished\"}}", -1,
	 RC_INVALID, "server said: finished (conflict, HTTP 409)"},
	{"502 Bad Gateway", "", "<html>\nproxy</html>\n\n\n", -1, RC_ERR,
	 "server answered HTTP 502 with a body that is not a JSON error: "
	 "'<html> proxy</html>   '"},
	{"500 Oops", "", "", -1, RC_ERR,
	 "server answered HTTP 500 with an empty body"},
	{"200 OK", "", "hello", -1, RC_PROTO,
	 "the server's reply (HTTP 200) is not JSON: 'hello'"},
	{"301 Moved", "Location: http://elsewhere/\r\n", "", -1, RC_PROTO,
	 "server answered HTTP 301 (redirect to http://elsewhere/); set "
	 "RFARM_URL to the coordinator's own address"},
	{"200 OK", "", "{\"id\":7}\r\n", -1, RC_OK, "{\"id\":7}"},
	{"200 OK", "", "{\"id\":", 100, RC_IO, NULL},
};

static void test_api_answers(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof api_cases / sizeof api_cases[0]; i++) {
		struct peer p;
		struct api_client *c;
		struct errbuf eb = {""};
		json_t *out = NULL;

		print_message("api case %zu: %s\n", i, api_cases[i].status);
		peer_start(&p, http_answer(api_cases[i].status,
					   api_cases[i].headers,
					   api_cases[i].body,
					   api_cases[i].clen));
		c = client_for(p.port);
		assert_int_equal(api_client_get_json(c, "/api/v1/builds/9",
						     &out, &eb), api_cases[i].rc);
		peer_finish(&p);
		assert_non_null(strstr(p.request, "GET /api/v1/builds/9 "
				       "HTTP/1.1\r\n"));
		if (api_cases[i].rc == RC_OK) {
			char *got = json_dumps(out, JSON_COMPACT);

			assert_string_equal(got, api_cases[i].want);
			free(got);
		} else if (api_cases[i].want) {
			assert_null(out);
			assert_string_equal(eb.msg, api_cases[i].want);
		} else {
			assert_null(out);
			assert_non_null(strstr(eb.msg, "lost the connection to "
					       "the coordinator at"));
		}
		json_decref(out);
		api_client_free(&c);
	}
}

static void test_api_post_with_token(void **state)
{
	struct peer p;
	struct api_client *c;
	struct errbuf eb = {""};
	json_t *body = json_pack("{s:[s]}", "platforms", "linux/amd64");
	json_t *out = NULL;

	(void)state;
	setenv("RFARM_TOKEN", "tok-123", 1);
	peer_start(&p, http_answer("201 Created", "", "{\"id\":7,\"jobs\":[]}",
				   -1));
	c = client_for(p.port);
	unsetenv("RFARM_TOKEN");
	assert_int_equal(api_client_post_json(c, "/api/v1/builds", body, &out,
					      &eb), RC_OK);
	peer_finish(&p);
	assert_int_equal(json_integer_value(json_object_get(out, "id")), 7);
	assert_non_null(strstr(p.request, "POST /api/v1/builds HTTP/1.1\r\n"));
	assert_non_null(strstr(p.request, "\r\nAuthorization: Bearer tok-123\r\n"));
	assert_non_null(strstr(p.request, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(p.request,
			       "\r\n\r\n{\"platforms\":[\"linux/amd64\"]}"));
	json_decref(out);
	json_decref(body);
	api_client_free(&c);
}

static void test_api_no_token_header(void **state)
{
	struct peer p;
	struct api_client *c;
	struct errbuf eb = {""};
	json_t *out = NULL;

	(void)state;
	unsetenv("RFARM_TOKEN");
	peer_start(&p, http_answer("200 OK", "", "{}", -1));
	c = client_for(p.port);
	assert_int_equal(api_client_post_json(c, "/api/v1/builds/3/cancel",
					      NULL, &out, &eb), RC_OK);
	peer_finish(&p);
	assert_non_null(strstr(p.request, "POST /api/v1/builds/3/cancel "));
	assert_null(strcasestr(p.request, "Authorization"));
	json_decref(out);
	api_client_free(&c);
}

/* A stream sink that collects what it is given. */
static int collect(void *ud, const void *data, size_t n)
{
	return buf_append(ud, data, n) == RC_OK ? 0 : -1;
}

static void test_api_stream(void **state)
{
	struct peer p;
	struct api_client *c;
	struct errbuf eb = {""};
	struct buf got;

	(void)state;
	buf_init(&got, 0, 0);
	peer_start(&p, strdup("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		   "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
		   "6\r\nline1\n\r\n7\r\n\x01line2\n\r\n0\r\n\r\n"));
	c = client_for(p.port);
	assert_int_equal(api_client_get_stream(c, "/api/v1/jobs/12/log?follow=1",
					       collect, &got, &eb), RC_OK);
	peer_finish(&p);
	assert_non_null(strstr(p.request,
			       "GET /api/v1/jobs/12/log?follow=1 HTTP/1.1\r\n"));
	assert_int_equal(got.len, 13);
	assert_memory_equal(buf_data(&got), "line1\n\x01line2\n", 13);
	api_client_free(&c);

	/* An error body is the message, never log output. */
	buf_reset(&got);
	peer_start(&p, http_answer("404 Not Found", "",
				   "{\"error\":{\"code\":\"not_found\","
				   "\"message\":\"no job\"}}", -1));
	c = client_for(p.port);
	assert_int_equal(api_client_get_stream(c, "/api/v1/jobs/99/log",
					       collect, &got, &eb),
			 RC_NOT_FOUND);
	peer_finish(&p);
	assert_int_equal(got.len, 0);
	assert_string_equal(eb.msg, "server said: no job (not_found, HTTP 404)");
	api_client_free(&c);
	buf_free(&got);
}

static int refuse_bytes(void *ud, const void *data, size_t n)
{
	errbuf_set(ud, "disk full");
	return -1;
}

static void test_api_stream_sink_fails(void **state)
{
	struct peer p;
	struct api_client *c;
	struct errbuf eb = {""};

	(void)state;
	peer_start(&p, http_answer("200 OK", "", "abc", -1));
	c = client_for(p.port);
	assert_int_equal(api_client_get_stream(c, "/x", refuse_bytes, &eb, &eb),
			 RC_IO);
	peer_finish(&p);
	assert_string_equal(eb.msg, "disk full");
	api_client_free(&c);
}

static void test_api_default_url(void **state)
{
	struct api_client *c;

	(void)state;
	unsetenv("RFARM_URL");
	c = api_client_new(NULL);
	assert_string_equal(api_client_url(c), "http://127.0.0.1:8080");
	api_client_free(&c);
	setenv("RFARM_URL", "https://farm.example:8443//", 1);
	c = api_client_new(NULL);
	assert_string_equal(api_client_url(c), "https://farm.example:8443");
	api_client_free(&c);
	unsetenv("RFARM_URL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_submit_request),
		cmocka_unit_test(test_submit_request_twice),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_listen_host_too_long),
		cmocka_unit_test(test_platform_and_host_type),
		cmocka_unit_test(test_number_parse),
		cmocka_unit_test(test_usage_helpers),
		cmocka_unit_test(test_size_parse),
		cmocka_unit_test(test_query_add),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_key_file_missing_and_large),
		cmocka_unit_test(test_wait_exit_code),
		cmocka_unit_test(test_format_build),
		cmocka_unit_test(test_format_sparse_build),
		cmocka_unit_test(test_format_lists),
		cmocka_unit_test(test_api_refused),
		cmocka_unit_test(test_api_answers),
		cmocka_unit_test(test_api_post_with_token),
		cmocka_unit_test(test_api_no_token_header),
		cmocka_unit_test(test_api_stream),
		cmocka_unit_test(test_api_stream_sink_fails),
		cmocka_unit_test(test_api_default_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
