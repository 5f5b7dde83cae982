/*
 * test_artifacts.c - unit tests for buildlet/artifacts.c that need no
 * coordinator: a pattern that leaves the work directory is refused, a
 * pattern matching nothing reports nothing, and a directory the buildlet
 * cannot read is named with the reason instead of "no file matched"
 * (run as nobody in a child process; skipped when not root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "artifacts.h"
#include "fsutil.h"

#define NOBODY 65534

static rc_t collect(const char *dir, const char *pattern, size_t *n,
		    struct errbuf *eb)
{
	char *v[] = {(char *)pattern};
	struct proto_strv pats = {v, 1};
	struct proto_artifact *a = NULL;
	rc_t rc;

	/* Nothing matches in these tests, so nothing is uploaded: the
	 * address is never dialled. */
	rc = artifacts_upload(dir, &pats, "http://127.0.0.1:9", "/api/v1/blobs/",
			      "t", NULL, NULL, NULL, &a, n, eb);
	artifacts_free(&a, *n);
	return rc;
}

static void test_patterns(void **state)
{
	char dir[] = "/tmp/rfarm-art-XXXXXX";
	struct errbuf eb = {""};
	size_t n = 9;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(collect(dir, "../x", &n, &eb), RC_INVALID);
	assert_non_null(strstr(eb.msg, "leaves the work directory"));
	assert_int_equal(collect(dir, "out/*", &n, &eb), RC_OK);
	assert_int_equal(n, 0);
	fs_remove_tree(dir, NULL);
}

static void test_unreadable_dir_named(void **state)
{
	char dir[] = "/tmp/rfarm-art-XXXXXX", sub[64], file[80];
	pid_t pid;
	int status = 0;

	(void)state;
	if (getuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(sub, sizeof sub, "%s/out", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(file, sizeof file, "%s/app", sub);
	fclose(fopen(file, "w"));
	pid = fork();
	if (pid == 0) {
		struct errbuf eb = {""};
		size_t n = 0;
		rc_t rc;

		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(3);
		rc = collect(dir, "out/*", &n, &eb);
		if (rc != RC_IO || !strstr(eb.msg, "artifact out/*: cannot read") ||
		    !strstr(eb.msg, "Permission denied")) {
			fprintf(stderr, "rc %d: %s\n", rc, eb.msg);
			_exit(1);
		}
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	fs_remove_tree(dir, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_unreadable_dir_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
