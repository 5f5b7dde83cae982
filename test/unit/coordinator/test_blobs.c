/*
 * test_blobs.c - unit tests for coordinator/blobs.c: bodies arriving in
 * uneven pieces are stored byte for byte whatever their length (a whole
 * number of direct-write blocks, a gather buffer and a bit, empty), on a
 * disk file system and on tmpfs (no O_DIRECT before Linux 6.6); a wrong
 * digest, a short body, a long body and an abort leave nothing behind.
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

#include "blobs.h"
#include "fsutil.h"
#include "xalloc.h"

/* A blob store under base (a temporary directory, removed by done()). */
static char *store_in(const char *base)
{
	char tmpl[256];
	struct errbuf eb = {""};
	char *root;

	snprintf(tmpl, sizeof tmpl, "%s/rfarm-blobs.XXXXXX", base);
	assert_non_null(mkdtemp(tmpl));
	root = xasprintf("%s/blobs", tmpl);
	assert_int_equal(blobs_init(root, &eb), RC_OK);
	return root;
}

static void done(char *root)
{
	struct errbuf eb = {""};

	*strrchr(root, '/') = '\0';
	assert_int_equal(fs_remove_tree(root, &eb), RC_OK);
	free(root);
}

/* Deterministic bytes that do not repeat with any block size. */
static unsigned char *body(size_t n)
{
	unsigned char *p = xmalloc(n ? n : 1);
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
	return p;
}

/* Files left in <root>/tmp. */
static int tmp_files(const char *root)
{
	char *tmp = xasprintf("%s/tmp", root);
	DIR *d = opendir(tmp);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	free(tmp);
	return n;
}

/* Send p[0..n) as name in pieces of 1, 7, 65536, 4093, ... bytes. */
static rc_t send_blob(const char *root, const char *name, int64_t length,
		      const unsigned char *p, size_t n, int64_t *size)
{
	static const size_t pieces[] = {1, 7, 65536, 4093, 65536, 300000};
	struct blob_upload *u = NULL;
	struct errbuf eb = {""};
	int existed = 0;
	size_t off = 0;
	rc_t rc;

	rc = blob_upload_begin(root, name, length, (int64_t)1 << 30, &u, &eb);
	if (rc)
		return rc;
	for (size_t i = 0; off < n; i++) {
		size_t k = pieces[i % 6];

		if (k > n - off)
			k = n - off;
		blob_upload_write(u, p + off, k);
		off += k;
	}
	return blob_upload_finish(&u, &existed, size, &eb);
}

static void round_trip(const char *root, size_t n)
{
	unsigned char *p = body(n), *back;
	char sha[SHA256_HEX_LEN + 1], *path;
	int64_t size = -1;
	FILE *f;

	sha256_hex(p, n, sha);
	assert_int_equal(send_blob(root, sha, (int64_t)n, p, n, &size), RC_OK);
	assert_int_equal(size, (int64_t)n);
	assert_true(blobs_exists(root, sha, &size));
	assert_int_equal(size, (int64_t)n);
	path = blobs_path(root, sha);
	back = xmalloc(n + 1);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(back, 1, n + 1, f), n);
	fclose(f);
	assert_memory_equal(back, p, n);
	assert_int_equal(tmp_files(root), 0);
	free(back);
	free(path);
	free(p);
}

static void sizes(const char *base)
{
	static const size_t n[] = {0, 1, 4095, 4096, 1 << 20, (1 << 20) + 1,
				   (3 << 20) + 12345, 5 << 20};
	char *root = store_in(base);

	for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
		round_trip(root, n[i]);
	done(root);
}

static void test_sizes_disk(void **state)
{
	(void)state;
	sizes(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
}

/* tmpfs: O_DIRECT on recent kernels, buffered writes on older ones. */
static void test_sizes_tmpfs(void **state)
{
	struct stat st;

	(void)state;
	if (stat("/dev/shm", &st) || !S_ISDIR(st.st_mode) ||
	    access("/dev/shm", W_OK))
		skip();
	sizes("/dev/shm");
}

static void test_refusals_leave_nothing(void **state)
{
	char *root = store_in("/tmp");
	size_t n = (2 << 20) + 777;
	unsigned char *p = body(n);
	char sha[SHA256_HEX_LEN + 1], wrong[SHA256_HEX_LEN + 1];
	struct blob_upload *u = NULL;
	struct errbuf eb = {""};
	int64_t size;

	(void)state;
	sha256_hex(p, n, sha);
	memset(wrong, 'a', SHA256_HEX_LEN);
	wrong[SHA256_HEX_LEN] = '\0';
	/* a digest that is not the body's */
	assert_int_equal(send_blob(root, wrong, (int64_t)n, p, n, &size),
			 RC_INVALID);
	assert_false(blobs_exists(root, wrong, NULL));
	/* a body that ends early, one that runs long */
	assert_int_equal(send_blob(root, sha, (int64_t)n + 1, p, n, &size),
			 RC_TRUNCATED);
	assert_int_equal(send_blob(root, sha, (int64_t)n - 1, p, n, &size),
			 RC_TOO_LARGE);
	assert_false(blobs_exists(root, sha, NULL));
	/* a dropped connection */
	assert_int_equal(blob_upload_begin(root, sha, (int64_t)n, INT64_MAX,
					   &u, &eb), RC_OK);
	blob_upload_write(u, p, n / 2);
	blob_upload_abort(&u);
	assert_null(u);
	assert_false(blobs_exists(root, sha, NULL));
	assert_int_equal(tmp_files(root), 0);
	free(p);
	done(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_disk),
		cmocka_unit_test(test_sizes_tmpfs),
		cmocka_unit_test(test_refusals_leave_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
