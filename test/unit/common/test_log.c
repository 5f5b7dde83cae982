/*
 * test_log.c - log lines as text and as JSON (RFARM_LOG_FORMAT=json).
 *
 * stderr is pointed at a temporary file, lines are written, and the file
 * is read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Run fn with stderr captured; returns what was written (malloc'd). */
static char *capture(void (*fn)(void))
{
	char path[] = "/tmp/rfarm-test-log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *text = calloc(1, 4096);
	FILE *f;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	assert_true(fread(text, 1, 4095, f) > 0);
	fclose(f);
	unlink(path);
	return text;
}

static void write_lines(void)
{
	log_set_component("coordinator");
	log_info("job %d: %s -> %s", 42, "queued", "dispatched");
	log_warn("a \"quoted\" word, a back\\slash and a\nnewline");
	log_debug("not shown at the default level");
}

static void test_json_lines(void **state)
{
	char *text;

	(void)state;
	/* Read once, at the first line logged by this process. */
	setenv("RFARM_LOG_FORMAT", "json", 1);
	unsetenv("RFARM_LOG");
	text = capture(write_lines);
	assert_non_null(strstr(text, "\"component\":\"coordinator\",\"level\":\"info\","
				     "\"msg\":\"job 42: queued -> dispatched\"}\n"));
	assert_non_null(strstr(text, "\"level\":\"warn\",\"msg\":\"a \\\"quoted\\\" "
				     "word, a back\\\\slash and a\\u000anewline\"}\n"));
	assert_null(strstr(text, "not shown"));
	assert_int_equal(strncmp(text, "{\"time\":\"20", 11), 0);
	/* Exactly two lines, each one JSON object. */
	size_t lines = 0;

	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 2);
	assert_non_null(strstr(text, "}\n{\"time\":"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
