/*
 * test_gitpoll.c - the commit watcher's git side: ls-remote and git log
 * parsing on hostile texts, then the real thing on a repository made in a
 * temporary directory (real git processes, a real bare mirror).
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

#include "gitpoll.h"
#include "xalloc.h"

#define H1 "1111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333"

static void heads_default(void **state)
{
	const char *text = "ref: refs/heads/trunk\tHEAD\n" H1 "\tHEAD\n"
			   H2 "\trefs/heads/feature\n" H1 "\trefs/heads/trunk\n";
	struct gitpoll_head *h;
	size_t n;

	(void)state;
	assert_int_equal(gitpoll_parse_heads(text, NULL, 0, &h, &n), RC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].branch, "trunk");
	assert_string_equal(h[0].hash, H1);
	free(h);
}

static void heads_named(void **state)
{
	/* A ref that only ends like a wanted one is not it; a branch the
	 * remote lacks is left out; order follows the config. */
	const char *text = H1 "\trefs/heads/main\n" H2 "\trefs/heads/x/refs/heads/rel\n"
			   H3 "\trefs/heads/rel\n" H2 "\trefs/tags/main\n";
	const char *want[] = {"rel", "gone", "main"};
	struct gitpoll_head *h;
	size_t n;

	(void)state;
	assert_int_equal(gitpoll_parse_heads(text, want, 3, &h, &n), RC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(h[0].branch, "rel");
	assert_string_equal(h[0].hash, H3);
	assert_string_equal(h[1].branch, "main");
	assert_string_equal(h[1].hash, H1);
	free(h);
}

static void heads_garbage(void **state)
{
	/* Short hashes, no tab, upper case, an overlong ref, no HEAD
	 * symref: nothing comes out, nothing crashes. */
	char big[600];
	const char *lines[] = {"1234\trefs/heads/main\n",
			       "ref: refs/heads/main HEAD\n",
			       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\trefs/heads/main\n",
			       H1 "\tHEAD\n", "", "\n\n\t\n", big};
	const char *want[] = {"main"};
	struct gitpoll_head *h;
	size_t n;

	(void)state;
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, H1 "\trefs/heads/", 52);
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		assert_int_equal(gitpoll_parse_heads(lines[i], want, 1, &h, &n), RC_OK);
		assert_int_equal(n, 0);
		free(h);
		assert_int_equal(gitpoll_parse_heads(lines[i], NULL, 0, &h, &n), RC_OK);
		assert_int_equal(n, 0);
		free(h);
	}
}

static void log_records(void **state)
{
	const char *text = H2 "\x1f" H1 "\x1f" "Ann <a@x>\x1f" "1700000000\x1f"
			   "fix <b>it</b> \"now\"\x1e\n"
			   "bad record\x1e\n"
			   H1 "\x1f\x1f" "Bob <b@x>\x1f" "1600000000\x1f\x1e\n"
			   H3 "\x1f" H1 "\x1f" "C\x1f" "-5\x1f" "neg\x1e";
	struct gitpoll_commit *c;
	size_t n;

	(void)state;
	assert_int_equal(gitpoll_parse_log(text, &c, &n), RC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].hash, H2);
	assert_string_equal(c[0].parents, H1);
	assert_string_equal(c[0].author, "Ann <a@x>");
	assert_int_equal(c[0].time_ms, 1700000000000LL);
	assert_string_equal(c[0].subject, "fix <b>it</b> \"now\"");
	assert_string_equal(c[1].parents, "");
	assert_string_equal(c[1].subject, "");
	gitpoll_commits_free(&c, n);
	assert_null(c);
}

/* ---- on a real repository ---- */

struct repo {
	char dir[64];    /* temporary directory */
	char src[128];   /* the repository commits go to */
	char url[160];   /* file:// URL of src */
	char mirror[128];
};

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (system(cmd))
		fail_msg("command failed: %s", cmd);
}

static void commit(struct repo *r, const char *msg)
{
	sh("cd %s && git -c user.name=T -c user.email=t@x commit -q --allow-empty "
	   "-m '%s'", r->src, msg);
}

static int setup(void **state)
{
	struct repo *r = xcalloc(1, sizeof *r);

	snprintf(r->dir, sizeof r->dir, "/tmp/rfarm-gitpoll-XXXXXX");
	if (!mkdtemp(r->dir))
		return -1;
	snprintf(r->src, sizeof r->src, "%s/src", r->dir);
	snprintf(r->url, sizeof r->url, "file://%s", r->src);
	snprintf(r->mirror, sizeof r->mirror, "%s/mirror.git", r->dir);
	sh("git init -q -b main %s", r->src);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct repo *r = *state;

	sh("rm -rf %s", r->dir);
	free(r);
	return 0;
}

/* ls-remote, fetch and log of head since old, as the watcher does. */
static size_t poll_range(struct repo *r, const char *old, char *head,
			 struct gitpoll_commit **c, size_t *skipped)
{
	struct gitpoll_dir m = {r->mirror, NULL};
	struct gitpoll_head *h;
	struct errbuf eb = {""};
	size_t n, nc;

	assert_int_equal(gitpoll_mirror_init(&m, &eb), RC_OK);
	assert_int_equal(gitpoll_heads(&m, r->url, NULL, 0, &h, &n, &eb), RC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].branch, "main");
	assert_int_equal(gitpoll_fetch(&m, r->url, h, 1, &eb), RC_OK);
	assert_int_equal(gitpoll_new_commits(&m, h[0].hash, old, c, &nc, skipped,
					     &eb), RC_OK);
	strcpy(head, h[0].hash);
	free(h);
	return nc;
}

static void real_repo(void **state)
{
	struct repo *r = *state;
	struct gitpoll_commit *c;
	char head1[41], head2[41];
	size_t n, skipped;

	commit(r, "one");
	commit(r, "two");
	/* First sight: only the head. */
	n = poll_range(r, "", head1, &c, &skipped);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].subject, "two");
	assert_string_equal(c[0].hash, head1);
	assert_string_equal(c[0].author, "T <t@x>");
	gitpoll_commits_free(&c, n);
	/* Three more: all three, oldest first, each the parent of the next. */
	commit(r, "three");
	commit(r, "four <b>&");
	commit(r, "five");
	n = poll_range(r, head1, head2, &c, &skipped);
	assert_int_equal(n, 3);
	assert_int_equal(skipped, 0);
	assert_string_equal(c[0].subject, "three");
	assert_string_equal(c[0].parents, head1);
	assert_string_equal(c[1].subject, "four <b>&");
	assert_string_equal(c[1].parents, c[0].hash);
	assert_string_equal(c[2].hash, head2);
	gitpoll_commits_free(&c, n);
	/* An old head the mirror never had (history rewritten elsewhere):
	 * just the head again. */
	n = poll_range(r, H1, head2, &c, &skipped);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].hash, head2);
	gitpoll_commits_free(&c, n);
}

static void too_many_new(void **state)
{
	struct repo *r = *state;
	struct gitpoll_commit *c;
	char head1[41], head2[41];
	size_t n, skipped;

	commit(r, "base");
	gitpoll_commits_free(&c, poll_range(r, "", head1, &c, &skipped));
	sh("cd %s && for i in $(seq 1 %d); do git -c user.name=T -c user.email=t@x "
	   "commit -q --allow-empty -m c$i; done", r->src, GITPOLL_MAX_NEW + 5);
	n = poll_range(r, head1, head2, &c, &skipped);
	assert_int_equal(n, GITPOLL_MAX_NEW);
	assert_int_equal(skipped, 5);
	assert_string_equal(c[0].subject, "c6"); /* the newest 100, oldest first */
	assert_string_equal(c[n - 1].hash, head2);
	gitpoll_commits_free(&c, n);
}

static void errors(void **state)
{
	struct repo *r = *state;
	struct gitpoll_dir m = {r->mirror, NULL};
	struct gitpoll_head *h = NULL;
	struct errbuf eb = {""};
	volatile int cancel = 1;
	size_t n;

	assert_int_equal(gitpoll_mirror_init(&m, &eb), RC_OK);
	/* A repository that is not there: git's own reason. */
	assert_int_equal(gitpoll_heads(&m, "file:///nonexistent/repo.git", NULL,
				       0, &h, &n, &eb), RC_IO);
	assert_non_null(strstr(eb.msg, "git ls-remote failed: "));
	assert_non_null(strstr(eb.msg, "nonexistent"));
	/* Cancelled: git is not even waited for. */
	m.cancel = &cancel;
	eb.msg[0] = '\0';
	assert_int_equal(gitpoll_heads(&m, r->url, NULL, 0, &h, &n, &eb),
			 RC_TIMEOUT);
	assert_string_equal(eb.msg, "git ls-remote cancelled");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(heads_default),
		cmocka_unit_test(heads_named),
		cmocka_unit_test(heads_garbage),
		cmocka_unit_test(log_records),
		cmocka_unit_test_setup_teardown(real_repo, setup, teardown),
		cmocka_unit_test_setup_teardown(too_many_new, setup, teardown),
		cmocka_unit_test_setup_teardown(errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
