/*
 * test_fsutil.c - unit tests for common/fsutil.c in a temporary directory:
 * mkdir -p, atomic writes (content, mode, no temporary left), capped
 * reads, and rm -rf that must not follow a symbolic link out of the tree.
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

#include "fsutil.h"
#include "xalloc.h"

/* ---- helpers ---------------------------------------------------------- */

static int setup_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");
	char *dir = xasprintf("%s/rfarm-test-fsutil.XXXXXX", base ? base : "/tmp");

	if (!mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	umask(022);
	*state = dir;
	return 0;
}

static int teardown_tmpdir(void **state)
{
	char *dir = *state;
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int r = system(cmd);

	free(cmd);
	free(dir);
	return r == 0 ? 0 : -1;
}

static int is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Number of entries in dir other than "." and "..". */
static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* ---- fs_mkdirs ---------------------------------------------------------- */

static void test_mkdirs_nested(void **state)
{
	const char *tmp = *state;
	char *deep = xasprintf("%s/a/b/c/d", tmp);
	char *slash = xasprintf("%s/x/y/", tmp);
	char *mid = xasprintf("%s/a/b", tmp);
	struct errbuf eb = {""};
	struct stat st;

	assert_int_equal(fs_mkdirs(deep, 0750, &eb), RC_OK);
	assert_true(is_dir(deep));
	assert_int_equal(stat(mid, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750); /* created ones get mode */
	/* Again: existing directories are fine. */
	assert_int_equal(fs_mkdirs(deep, 0750, &eb), RC_OK);
	assert_int_equal(fs_mkdirs(slash, 0755, &eb), RC_OK);
	assert_true(is_dir(slash));
	assert_string_equal(eb.msg, "");
	free(deep);
	free(slash);
	free(mid);
}

static void test_mkdirs_errors(void **state)
{
	const char *tmp = *state;
	char *file = xasprintf("%s/plain", tmp);
	char *under = xasprintf("%s/plain/sub/dir", tmp);
	struct errbuf eb = {""};

	write_file(file, "x");
	assert_int_equal(fs_mkdirs(under, 0755, &eb), RC_IO);
	assert_non_null(strstr(eb.msg, "plain/sub")); /* says where */
	errbuf_clear(&eb);
	assert_int_equal(fs_mkdirs("", 0755, &eb), RC_INVALID);
	assert_string_not_equal(eb.msg, "");
	free(file);
	free(under);
}

/* ---- fs_write_atomic, fs_replace_file -------------------------------------- */

static void test_write_atomic(void **state)
{
	static const struct {
		const char *text; /* content */
		mode_t mode;      /* requested mode */
	} cases[] = {
		{"first version\n", 0600},
		{"second, longer version\n", 0644}, /* replaces the first */
		{"", 0640},                           /* empty file */
	};
	/* the durable writer and the one without fsync behave alike */
	rc_t (*const writers[])(const char *, const void *, size_t, mode_t,
				struct errbuf *) = {fs_write_atomic, fs_replace_file};
	const char *tmp = *state;
	char *path = xasprintf("%s/out.txt", tmp);

	for (size_t k = 0; k < 2 * sizeof cases / sizeof cases[0]; k++) {
		size_t i = k % (sizeof cases / sizeof cases[0]);
		struct errbuf eb = {""};
		struct stat st;
		char *data = NULL;
		size_t len = 99;

		assert_int_equal(writers[k / (sizeof cases / sizeof cases[0])](
					 path, cases[i].text, strlen(cases[i].text),
					 cases[i].mode, &eb),
				 RC_OK);
		assert_int_equal(fs_read_all(path, 0, &data, &len, &eb), RC_OK);
		assert_int_equal(len, strlen(cases[i].text));
		assert_string_equal(data, cases[i].text);
		free(data);
		assert_int_equal(stat(path, &st), 0);
		/* A fresh temporary file each time, so each write's mode
		 * holds (less the umask of 022). */
		assert_int_equal(st.st_mode & 0777, cases[i].mode & ~0022);
		assert_int_equal(count_entries(tmp), 1); /* no temp file left */
	}
	free(path);
}

static void test_write_atomic_fails_cleanly(void **state)
{
	const char *tmp = *state;
	char *path = xasprintf("%s/missing/out.txt", tmp);
	char *dirpath = xasprintf("%s/adir", tmp);
	struct errbuf eb = {""};

	assert_int_equal(fs_write_atomic(path, "x", 1, 0644, &eb), RC_IO);
	assert_non_null(strstr(eb.msg, "missing/out.txt"));
	assert_int_equal(count_entries(tmp), 0);
	/* The rename onto a directory fails: the temporary is removed. */
	assert_int_equal(mkdir(dirpath, 0755), 0);
	errbuf_clear(&eb);
	assert_int_equal(fs_write_atomic(dirpath, "x", 1, 0644, &eb), RC_IO);
	assert_string_not_equal(eb.msg, "");
	assert_int_equal(count_entries(tmp), 1);
	assert_true(is_dir(dirpath));
	free(path);
	free(dirpath);
}

/* ---- fs_read_all -------------------------------------------------------- */

static void test_read_all_limits(void **state)
{
	const char *tmp = *state;
	char *path = xasprintf("%s/ten", tmp);
	static const struct {
		size_t max; /* cap given to fs_read_all */
		rc_t rc;    /* expected result for a 10-byte file */
	} cases[] = {
		{0, RC_OK}, /* 0 = no cap */
		{10, RC_OK},
		{100, RC_OK},
		{9, RC_TOO_LARGE},
		{1, RC_TOO_LARGE},
	};

	write_file(path, "0123456789");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct errbuf eb = {""};
		char *data = (char *)"sentinel";
		size_t len = 99;
		rc_t rc = fs_read_all(path, cases[i].max, &data, &len, &eb);

		assert_int_equal(rc, cases[i].rc);
		if (rc == RC_OK) {
			assert_int_equal(len, 10);
			assert_string_equal(data, "0123456789");
			assert_string_equal(eb.msg, "");
		} else {
			assert_null(data); /* nothing to free on failure */
			assert_int_equal(len, 0);
			assert_non_null(strstr(eb.msg, "ten"));
		}
		free(data);
	}
	free(path);
}

static void test_read_all_big_and_errors(void **state)
{
	const char *tmp = *state;
	char *path = xasprintf("%s/big", tmp);
	char *missing = xasprintf("%s/nope", tmp);
	size_t n = 300000, len = 0;
	char *text = xmalloc(n + 1), *data = NULL;
	struct errbuf eb = {""};

	/* Larger than several growth steps of the reader. */
	for (size_t i = 0; i < n; i++)
		text[i] = (char)('a' + i % 26);
	text[n] = '\0';
	write_file(path, text);
	assert_int_equal(fs_read_all(path, n, &data, &len, &eb), RC_OK);
	assert_int_equal(len, n);
	assert_memory_equal(data, text, n);
	assert_int_equal(data[n], '\0');
	free(data);

	assert_int_equal(fs_read_all(missing, 0, &data, NULL, &eb), RC_NOT_FOUND);
	assert_null(data);
	assert_non_null(strstr(eb.msg, "nope"));
	errbuf_clear(&eb);
	/* A directory can be opened but not read. */
	assert_int_equal(fs_read_all(tmp, 0, &data, &len, &eb), RC_IO);
	assert_null(data);
	free(text);
	free(path);
	free(missing);
}

/* ---- fs_remove_tree ----------------------------------------------------- */

static void test_remove_tree_keeps_symlink_targets(void **state)
{
	const char *tmp = *state;
	char *outside = xasprintf("%s/outside", tmp);
	char *precious = xasprintf("%s/outside/precious", tmp);
	char *tree = xasprintf("%s/tree", tmp);
	char *deep = xasprintf("%s/tree/a/b/c", tmp);
	char *f1 = xasprintf("%s/tree/a/b/c/file", tmp);
	char *f2 = xasprintf("%s/tree/top", tmp);
	char *dirlink = xasprintf("%s/tree/a/to-outside", tmp);
	char *filelink = xasprintf("%s/tree/a/b/to-precious", tmp);
	struct errbuf eb = {""};

	assert_int_equal(fs_mkdirs(outside, 0755, &eb), RC_OK);
	write_file(precious, "keep me");
	assert_int_equal(fs_mkdirs(deep, 0755, &eb), RC_OK);
	write_file(f1, "1");
	write_file(f2, "2");
	assert_int_equal(symlink(outside, dirlink), 0);
	assert_int_equal(symlink(precious, filelink), 0);

	assert_int_equal(fs_remove_tree(tree, &eb), RC_OK);
	assert_false(exists(tree));
	assert_true(is_dir(outside));
	assert_true(exists(precious));
	/* Missing is not an error: rm -rf. */
	assert_int_equal(fs_remove_tree(tree, &eb), RC_OK);
	assert_string_equal(eb.msg, "");
	free(outside);
	free(precious);
	free(tree);
	free(deep);
	free(f1);
	free(f2);
	free(dirlink);
	free(filelink);
}

static void test_remove_tree_of_symlink(void **state)
{
	const char *tmp = *state;
	char *target = xasprintf("%s/target", tmp);
	char *inside = xasprintf("%s/target/file", tmp);
	char *link = xasprintf("%s/link", tmp);
	struct errbuf eb = {""};

	/* Removing a link to a directory removes the link, not the target. */
	assert_int_equal(fs_mkdirs(target, 0755, &eb), RC_OK);
	write_file(inside, "x");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(fs_remove_tree(link, &eb), RC_OK);
	assert_false(exists(link));
	assert_true(exists(inside));
	free(target);
	free(inside);
	free(link);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmpdir, teardown_tmpdir)
	const struct CMUnitTest tests[] = {
		T(test_mkdirs_nested),
		T(test_mkdirs_errors),
		T(test_write_atomic),
		T(test_write_atomic_fails_cleanly),
		T(test_read_all_limits),
		T(test_read_all_big_and_errors),
		T(test_remove_tree_keeps_symlink_targets),
		T(test_remove_tree_of_symlink),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
