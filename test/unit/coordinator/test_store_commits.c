/*
 * test_store_commits.c - the commit watcher's tables (store_commits.c) on
 * a real SQLite file: repositories synced from a config, heads, commits
 * recorded once, prefixes, pages, the cells of the matrix, and the queue
 * order of post-submit jobs against API ones.
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

#include "store.h"
#include "xalloc.h"

#define HA "aaaaaaa111111111111111111111111111111111"
#define HB "aaaaaaa222222222222222222222222222222222"
#define HC "cccccccc33333333333333333333333333333333"

struct fx {
	char *dir;
	struct store *s;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	struct errbuf eb = {""};
	char *path;

	f->dir = xstrdup("/tmp/rfarm-test-commits.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	path = xasprintf("%s/rfarm.db", f->dir);
	if (store_open(path, &f->s, &eb))
		return fprintf(stderr, "%s\n", eb.msg), -1;
	free(path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int r;

	store_close(&f->s);
	r = system(cmd);
	free(cmd);
	free(f->dir);
	free(f);
	return r ? -1 : 0;
}

static int64_t add_commit(struct store *s, int64_t repo, const char *hash,
			  int *is_new)
{
	struct store_commit c = {.repo_id = repo, .hash = (char *)hash,
				 .parents = "", .author = "A <a@x>",
				 .time_ms = 1000, .subject = "<s> & \"q\"",
				 .branch = "main", .seen_ms = 2000};
	int64_t id;

	assert_int_equal(store_commit_add(s, &c, &id, is_new), RC_OK);
	return id;
}

static void repos_sync(void **state)
{
	struct fx *f = *state;
	struct store_repo *v, r;
	int64_t a, b, a2;
	size_t n;

	assert_int_equal(store_repo_sync(f->s, "https://h/a.git", "[\"x\"]", &a), RC_OK);
	assert_int_equal(store_repo_sync(f->s, "https://h/b.git", "[]", &b), RC_OK);
	assert_true(a > 0 && b > a);
	/* A reload: everything unwatched, then the config's synced again.
	 * Ids stay; builders follow the config. */
	assert_int_equal(store_repo_unwatch_all(f->s), RC_OK);
	assert_int_equal(store_repo_sync(f->s, "https://h/a.git", "[\"x\",\"y\"]", &a2), RC_OK);
	assert_int_equal(a2, a);
	assert_int_equal(store_flush(f->s), RC_OK);
	assert_int_equal(store_repo_list(f->s, &v, &n), RC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].builders, "[\"x\",\"y\"]");
	assert_int_equal(v[0].watched, 1);
	assert_int_equal(v[1].watched, 0);
	store_repo_array_free(&v, n);
	assert_int_equal(store_repo_polled(f->s, a, 5000, "host down"), RC_OK);
	assert_int_equal(store_repo_get(f->s, a, &r), RC_OK);
	assert_int_equal(r.last_poll_ms, 5000);
	assert_string_equal(r.last_error, "host down");
	store_repo_clear(&r);
	assert_int_equal(store_repo_get(f->s, 99, &r), RC_NOT_FOUND);
}

static void count_head(void *ud, const char *branch, const char *hash)
{
	int *n = ud;

	(*n)++;
	assert_true(!strcmp(branch, "main") || !strcmp(branch, "rel"));
	assert_true(!strcmp(hash, HA) || !strcmp(hash, HC));
}

static void heads(void **state)
{
	struct fx *f = *state;
	char hash[41] = "";
	int64_t r;
	int n = 0;

	store_repo_sync(f->s, "https://h/a.git", "[]", &r);
	assert_int_equal(store_repo_head(f->s, r, "main", hash, sizeof hash), RC_NOT_FOUND);
	store_repo_set_head(f->s, r, "main", HB);
	store_repo_set_head(f->s, r, "main", HA); /* moved on */
	store_repo_set_head(f->s, r, "rel", HC);
	assert_int_equal(store_repo_head(f->s, r, "main", hash, sizeof hash), RC_OK);
	assert_string_equal(hash, HA);
	assert_int_equal(store_repo_heads(f->s, r, count_head, &n), RC_OK);
	assert_int_equal(n, 2);
}

static void commits_once_and_found(void **state)
{
	struct fx *f = *state;
	struct store_commit c, *page;
	int64_t r, r2, a, b, c3;
	int is_new;
	size_t n;

	store_repo_sync(f->s, "https://h/a.git", "[]", &r);
	store_repo_sync(f->s, "https://h/b.git", "[]", &r2);
	a = add_commit(f->s, r, HA, &is_new);
	assert_true(is_new);
	assert_int_equal(add_commit(f->s, r, HA, &is_new), a);
	assert_false(is_new);
	b = add_commit(f->s, r, HB, &is_new);
	assert_true(b > a);
	c3 = add_commit(f->s, r2, HC, &is_new); /* the other repo */
	assert_true(c3 > b);
	/* The same hash in another repository is another commit. */
	assert_true(add_commit(f->s, r2, HA, &is_new) != a);
	assert_true(is_new);
	assert_int_equal(store_flush(f->s), RC_OK);
	assert_int_equal(store_commit_count(f->s, r), 2);

	assert_int_equal(store_commit_find(f->s, r, HB, &c), RC_OK);
	assert_int_equal(c.id, b);
	assert_string_equal(c.subject, "<s> & \"q\"");
	assert_string_equal(c.author, "A <a@x>");
	assert_int_equal(c.time_ms, 1000);
	store_commit_clear(&c);
	assert_int_equal(store_commit_find(f->s, r, "aaaaaaa2", &c), RC_OK);
	assert_int_equal(c.id, b);
	store_commit_clear(&c);
	/* "aaaaaaa" is both of repo r's commits; in any repo, HC is one. */
	assert_int_equal(store_commit_find(f->s, r, "aaaaaaa", &c), RC_INVALID);
	assert_int_equal(store_commit_find(f->s, 0, "cccccccc", &c), RC_OK);
	assert_int_equal(c.repo_id, r2);
	store_commit_clear(&c);
	/* Too short, not hex, unknown, and a LIKE-ish prefix. */
	assert_int_equal(store_commit_find(f->s, r, "aaaaaa", &c), RC_NOT_FOUND);
	assert_int_equal(store_commit_find(f->s, r, "AAAAAAA1", &c), RC_NOT_FOUND);
	assert_int_equal(store_commit_find(f->s, r, "bbbbbbbb", &c), RC_NOT_FOUND);
	assert_int_equal(store_commit_find(f->s, r, "aaaaaa%", &c), RC_NOT_FOUND);

	assert_int_equal(store_commit_page(f->s, r, 0, 50, &page, &n), RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(page[0].id, b); /* newest first */
	store_commit_array_free(&page, n);
	assert_int_equal(store_commit_page(f->s, r, 1, 50, &page, &n), RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(page[0].id, a);
	store_commit_array_free(&page, n);
}

/* A build of builder for commit, with one job in state st. */
static int64_t cell_build(struct store *s, int64_t commit, const char *builder,
			  int64_t *job)
{
	int64_t b;

	assert_int_equal(store_build_insert(s, 1, 0, "{}", &b), RC_OK);
	assert_int_equal(store_build_set_origin(s, b, builder, commit), RC_OK);
	assert_int_equal(store_job_insert(s, b, "linux/amd64", "[]", 0, 10, job), RC_OK);
	return b;
}

static void cells(void **state)
{
	struct fx *f = *state;
	struct store_cell *v;
	struct store_build sb;
	int64_t r, a, b, j, b1, b2, b3;
	int is_new;
	size_t n;

	store_repo_sync(f->s, "https://h/a.git", "[\"unit\",\"lint\"]", &r);
	a = add_commit(f->s, r, HA, &is_new);
	b = add_commit(f->s, r, HB, &is_new);
	b1 = cell_build(f->s, a, "unit", &j);
	b2 = cell_build(f->s, a, "unit", &j); /* a retry: the newest counts */
	b3 = cell_build(f->s, b, "lint", &j);
	assert_int_equal(store_flush(f->s), RC_OK);
	assert_int_equal(store_build_of_cell(f->s, a, "unit"), b2);
	assert_int_equal(store_build_of_cell(f->s, a, "lint"), 0);
	assert_int_equal(store_build_get(f->s, b1, &sb), RC_OK);
	assert_string_equal(sb.builder, "unit");
	assert_int_equal(sb.commit_id, a);
	store_build_clear(&sb);

	assert_int_equal(store_cells(f->s, r, a, b, &v, &n), RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].commit_id, b); /* newest commit first */
	assert_string_equal(v[0].builder, "lint");
	assert_int_equal(v[0].build_id, b3);
	assert_int_equal(v[0].job.id, j);
	assert_int_equal(v[0].job.state, JOB_QUEUED);
	assert_int_equal(v[1].build_id, b2);
	store_cell_array_free(&v, n);
	/* Only the range asked for, only this repository's commits. */
	assert_int_equal(store_cells(f->s, r, a, a, &v, &n), RC_OK);
	assert_int_equal(n, 1);
	store_cell_array_free(&v, n);
	assert_int_equal(store_cells(f->s, r + 1, a, b, &v, &n), RC_OK);
	assert_int_equal(n, 0);
	store_cell_array_free(&v, n);
}

static int collect(void *ud, const struct store_job *j)
{
	char *order = ud;

	snprintf(order + strlen(order), 64, "%lld ", (long long)j->id);
	return 0;
}

static void queue_order(void **state)
{
	struct fx *f = *state;
	char order[256] = "";
	int64_t b, api1, api2, old, new, hi;
	struct store_job j;

	assert_int_equal(store_build_insert(f->s, 1, 0, "{}", &b), RC_OK);
	/* Post-submit of an older commit (id 5) and a newer one (id 9),
	 * made before the API jobs; one API job has a higher priority. */
	store_job_insert(f->s, b, "linux/amd64", "[]", 0, 100, &old);
	store_job_set_queue(f->s, old, "linux-amd64", 1, -5);
	store_job_insert(f->s, b, "linux/amd64", "[]", 0, 101, &new);
	store_job_set_queue(f->s, new, "", 1, -9);
	store_job_insert(f->s, b, "linux/amd64", "[]", 0, 300, &api1);
	store_job_insert(f->s, b, "linux/amd64", "[]", 5, 400, &api2);
	store_job_insert(f->s, b, "linux/amd64", "[]", 5, 50, &hi);
	store_job_set_queue(f->s, hi, "", 1, -1);
	assert_int_equal(store_flush(f->s), RC_OK);
	assert_int_equal(store_job_scan_queue(f->s, 0, 10, collect, order), RC_OK);
	{
		char want[256];

		/* API by priority then age; then post-submit by priority,
		 * then newest commit. */
		snprintf(want, sizeof want, "%lld %lld %lld %lld %lld ",
			 (long long)api2, (long long)api1, (long long)hi,
			 (long long)new, (long long)old);
		assert_string_equal(order, want);
	}
	assert_int_equal(store_job_get(f->s, old, &j), RC_OK);
	assert_string_equal(j.host_type, "linux-amd64");
	assert_int_equal(j.postsubmit, 1);
	store_job_clear(&j);
	assert_int_equal(store_job_get(f->s, api1, &j), RC_OK);
	assert_string_equal(j.host_type, "");
	assert_int_equal(j.postsubmit, 0);
	store_job_clear(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(repos_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(heads, setup, teardown),
		cmocka_unit_test_setup_teardown(commits_once_and_found, setup, teardown),
		cmocka_unit_test_setup_teardown(cells, setup, teardown),
		cmocka_unit_test_setup_teardown(queue_order, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
