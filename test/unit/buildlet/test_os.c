/*
 * test_os.c - the buildlet's OS seam (os_posix.c) against real processes:
 * platform names, spawning with an exact environment, exec errors reported
 * synchronously, signal and descriptor hygiene in the child, the process
 * group, and the machine description; and job isolation: resource
 * limits, running as another user (as root; skipped otherwise), and the
 * buildlet's link-proof touches of a job's files.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "os.h"

#define WAIT_MS 5000

/* What a finished child produced. */
struct result {
	char out[4096]; /* stdout, NUL-terminated (truncated if longer) */
	size_t out_len; /* bytes kept in out */
	char err[4096]; /* stderr, NUL-terminated */
	size_t err_len; /* bytes kept in err */
	int exit_code;  /* from os_proc_wait */
	int sig;        /* from os_proc_wait */
};

static void read_into(int *fd, char *buf, size_t cap, size_t *len)
{
	char tmp[4096];
	ssize_t n = read(*fd, tmp, sizeof tmp);

	if (n > 0) {
		size_t k = (size_t)n;

		if (k > cap - 1 - *len)
			k = cap - 1 - *len;
		memcpy(buf + *len, tmp, k);
		*len += k;
		buf[*len] = '\0';
		return;
	}
	if (n < 0 && errno == EAGAIN)
		return;
	close(*fd);
	*fd = -1;
}

/* Collect both streams to EOF and reap, all within WAIT_MS. */
static void collect(struct os_proc *p, struct result *res)
{
	int64_t end = clock_mono_ms() + WAIT_MS;
	int fds[2] = { p->out_fd, p->err_fd };
	rc_t rc;

	memset(res, 0, sizeof *res);
	while ((fds[0] >= 0 || fds[1] >= 0) && clock_mono_ms() < end) {
		struct pollfd pf[2] = { { fds[0], POLLIN, 0 },
					{ fds[1], POLLIN, 0 } };

		if (poll(pf, 2, 100) <= 0)
			continue;
		if (pf[0].revents)
			read_into(&fds[0], res->out, sizeof res->out,
				  &res->out_len);
		if (pf[1].revents)
			read_into(&fds[1], res->err, sizeof res->err,
				  &res->err_len);
	}
	assert_true(fds[0] < 0 && fds[1] < 0);
	do {
		rc = os_proc_wait(p, 0, &res->exit_code, &res->sig);
		if (rc == RC_BUSY)
			usleep(5000);
	} while (rc == RC_BUSY && clock_mono_ms() < end);
	assert_int_equal(rc, RC_OK);
}

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_os.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_platform_matches_uname(void **state)
{
	static const struct {
		const char *uname; /* uname -s or -m */
		const char *go;    /* expected Go name */
	} want[] = {
		{ "Linux", "linux" },    { "Darwin", "darwin" },
		{ "x86_64", "amd64" },   { "aarch64", "arm64" },
		{ "arm64", "arm64" },    { "i686", "386" },
		{ "armv7l", "arm" },     { "riscv64", "riscv64" },
	};
	char goos[32], goarch[32];
	struct utsname u;
	int os_ok = 0, arch_ok = 0;

	(void)state;
	os_platform(goos, sizeof goos, goarch, sizeof goarch);
	assert_int_equal(uname(&u), 0);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (!strcmp(u.sysname, want[i].uname)) {
			assert_string_equal(goos, want[i].go);
			os_ok = 1;
		}
		if (!strcmp(u.machine, want[i].uname)) {
			assert_string_equal(goarch, want[i].go);
			arch_ok = 1;
		}
	}
	assert_true(os_ok && arch_ok); /* this machine is in the table */
#if defined(__linux__) && defined(__x86_64__)
	assert_string_equal(goos, "linux");
	assert_string_equal(goarch, "amd64");
#endif
}

static void test_spawn_true(void **state)
{
	const char *argv[] = { "/bin/true", NULL };
	const char *envp[] = { NULL };
	struct errbuf eb = { "" };
	struct os_proc p;
	struct result res;

	(void)state;
	assert_int_equal(os_proc_spawn(argv, envp, tmpdir, &p, &eb), RC_OK);
	assert_string_equal(eb.msg, "");
	assert_true(p.pid > 0);
	collect(&p, &res);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.sig, 0);
}

/* argv[0] without a slash is found on the default path, and the child
 * gets exactly envp: nothing of ours. */
static void test_spawn_exact_env(void **state)
{
	const char *argv[] = { "env", NULL };
	const char *envp[] = { "A=1", "B=two words", NULL };
	struct errbuf eb = { "" };
	struct os_proc p;
	struct result res;

	(void)state;
	setenv("RFARM_BUILDLET_KEY", "s3cret", 1);
	assert_int_equal(os_proc_spawn(argv, envp, tmpdir, &p, &eb), RC_OK);
	collect(&p, &res);
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(res.out, "A=1\nB=two words\n");
	unsetenv("RFARM_BUILDLET_KEY");
}

/* cwd, stdin from /dev/null, stdout and stderr apart, a new group. */
static void test_spawn_cwd_stdio_group(void **state)
{
	const char *argv[] = { "sh", "-c",
			       "pwd; cat; echo err >&2; exit 7", NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct errbuf eb = { "" };
	struct os_proc p;
	struct result res;
	char want[PATH_MAX + 2], real[PATH_MAX];

	(void)state;
	assert_int_equal(os_proc_spawn(argv, envp, tmpdir, &p, &eb), RC_OK);
	assert_int_equal(getpgid((pid_t)p.pid), (pid_t)p.pid);
	collect(&p, &res);
	assert_non_null(realpath(tmpdir, real));
	snprintf(want, sizeof want, "%s\n", real);
	assert_string_equal(res.out, want);
	assert_string_equal(res.err, "err\n");
	assert_int_equal(res.exit_code, 7);
}

struct exec_error_case {
	const char *name;   /* argv[0]; "%s" is replaced by the temp dir */
	rc_t rc;            /* expected result */
	const char *msg;    /* expected message, "%s" as above */
};

static void test_spawn_exec_errors(void **state)
{
	static const struct exec_error_case cases[] = {
		{ "nosuchcmd-xyz", RC_NOT_FOUND,
		  "exec nosuchcmd-xyz: No such file or directory" },
		{ "%s/missing", RC_NOT_FOUND,
		  "exec %s/missing: No such file or directory" },
		{ "%s/plain.txt", RC_IO, "exec %s/plain.txt: Permission denied" },
		{ "%s", RC_IO, "exec %s: Permission denied" }, /* a directory */
	};
	const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	char file[128];
	FILE *f;

	(void)state;
	snprintf(file, sizeof file, "%s/plain.txt", tmpdir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho should not run\n", f);
	fclose(f);
	chmod(file, 0644);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[128], msg[256];
		const char *argv[2] = { name, NULL };
		struct errbuf eb = { "" };
		struct os_proc p;

		snprintf(name, sizeof name, cases[i].name, tmpdir);
		snprintf(msg, sizeof msg, cases[i].msg, tmpdir);
		assert_int_equal(os_proc_spawn(argv, envp, tmpdir, &p, &eb),
				 cases[i].rc);
		assert_string_equal(eb.msg, msg);
		assert_int_equal(p.pid, -1);
	}
	/* The failed children were reaped: no child is left to wait for. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_spawn_bad_cwd(void **state)
{
	const char *argv[] = { "/bin/true", NULL };
	const char *envp[] = { NULL };
	struct errbuf eb = { "" };
	struct os_proc p;
	char dir[128], msg[256];

	(void)state;
	snprintf(dir, sizeof dir, "%s/nodir", tmpdir);
	snprintf(msg, sizeof msg, "chdir %s: No such file or directory", dir);
	assert_int_equal(os_proc_spawn(argv, envp, dir, &p, &eb), RC_IO);
	assert_string_equal(eb.msg, msg);
}

/* An ignored or blocked signal in the buildlet is default in the job. */
static void test_spawn_resets_signals(void **state)
{
	const char *argv[] = { "sh", "-c", "kill -USR1 $$; echo survived",
			       NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct errbuf eb = { "" };
	struct os_proc p;
	struct result res;
	sigset_t block, old;

	(void)state;
	signal(SIGUSR1, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	assert_int_equal(os_proc_spawn(argv, envp, tmpdir, &p, &eb), RC_OK);
	collect(&p, &res);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
	assert_string_equal(res.out, "");
	assert_int_equal(res.exit_code, -1);
	assert_int_equal(res.sig, SIGUSR1);
}

/* A descriptor the buildlet forgot to mark close-on-exec stays behind. */
static void test_spawn_closes_fds(void **state)
{
	const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct errbuf eb = { "" };
	struct os_proc p;
	struct result res;
	char script[128];
	const char *argv[] = { "sh", "-c", script, NULL };
	int fd = open("/dev/null", O_WRONLY); /* deliberately no O_CLOEXEC */

	(void)state;
	assert_true(fd > 2);
	snprintf(script, sizeof script,
		 "if { true >&%d; } 2>/dev/null; then echo open; "
		 "else echo closed; fi",
		 fd);
	assert_int_equal(os_proc_spawn(argv, envp, tmpdir, &p, &eb), RC_OK);
	collect(&p, &res);
	close(fd);
	assert_string_equal(res.out, "closed\n");
}

static void test_terminate_and_wait(void **state)
{
	const char *argv[] = { "sleep", "30", NULL };
	const char *envp[] = { NULL };
	struct errbuf eb = { "" };
	struct os_proc p;
	int code = 99, sig = 99;

	(void)state;
	assert_int_equal(os_proc_spawn(argv, envp, tmpdir, &p, &eb), RC_OK);
	assert_int_equal(os_proc_wait(&p, 0, &code, &sig), RC_BUSY);
	os_proc_terminate(&p, 0);
	assert_int_equal(os_proc_wait(&p, 1, &code, &sig), RC_OK);
	assert_int_equal(code, -1);
	assert_int_equal(sig, SIGTERM);
	close(p.out_fd);
	close(p.err_fd);

	assert_int_equal(os_proc_spawn(argv, envp, tmpdir, &p, &eb), RC_OK);
	os_proc_terminate(&p, 1);
	assert_int_equal(os_proc_wait(&p, 1, &code, &sig), RC_OK);
	assert_int_equal(sig, SIGKILL);
	close(p.out_fd);
	close(p.err_fd);
}

/* --- isolation ----------------------------------------------------------- */

static void test_user_lookup(void **state)
{
	struct errbuf eb = { "" };
	struct os_user u;

	(void)state;
	assert_int_equal(os_user_lookup("root", &u, &eb), RC_OK);
	assert_string_equal(u.name, "root");
	assert_int_equal(u.uid, 0);
	assert_true(u.n_groups >= 1);
	assert_int_equal(os_user_lookup("no-such-user-xyz", &u, &eb),
			 RC_NOT_FOUND);
	assert_string_equal(eb.msg, "no such user: no-such-user-xyz");
	assert_int_equal(os_user_lookup("", &u, &eb), RC_NOT_FOUND);
	assert_int_equal(os_can_switch_user(), geteuid() == 0);
	assert_int_equal(os_user_lookup("root", &u, &eb), RC_OK);
	assert_int_equal(os_user_is_self(&u), getuid() == 0 && geteuid() == 0);
	assert_string_equal(os_signal_name(os_file_size_signal()), "SIGXFSZ");
	assert_string_equal(os_signal_name(SIGKILL), "SIGKILL");
	assert_null(os_signal_name(0));
}

struct limit_case {
	const char *argv[8];   /* command; "%s" = nothing to format */
	struct os_limits lim;  /* limits given */
	const char *out;       /* expected stdout */
	int exit_code;         /* expected */
	int sig;               /* expected */
};

/* Limits hold in the child, cannot be raised there, and a write past
 * the file size limit ends the writer with SIGXFSZ. */
static void test_spawn_limits(void **state)
{
	static const struct limit_case cases[] = {
		{ { "dd", "if=/dev/zero", "of=big", "bs=1024", "count=64",
		    "status=none", NULL },
		  { 0, 16384, 1 }, "", -1, SIGXFSZ },
		{ { "sh", "-c", "ulimit -f; ulimit -c; ulimit -H -c", NULL },
		  { 0, 16384, 1 }, "32\n0\n0\n", 0, 0 },
		/* Raising it back is refused: the hard limit is set too. */
		{ { "sh", "-c", "ulimit -f 64 2>/dev/null || echo refused",
		    NULL },
		  { 0, 16384, 0 }, "refused\n", 0, 0 },
		{ { "sh", "-c", "ulimit -u 2>/dev/null || ulimit -p", NULL },
		  { 7, 0, 0 }, "7\n", 0, 0 },
		{ { "dd", "if=/dev/zero", "of=big", "bs=1024", "count=64",
		    "status=none", NULL },
		  { 0, 0, 0 }, "", 0, 0 },
	};
	const char *envp[] = { "PATH=/usr/bin:/bin", NULL };

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct errbuf eb = { "" };
		struct os_proc p;
		struct result res;

		assert_int_equal(os_proc_spawn_as(cases[i].argv, envp, tmpdir,
						  NULL, &cases[i].lim, &p, &eb),
				 RC_OK);
		collect(&p, &res);
		print_message("case %zu: exit %d sig %d out '%s' err '%s'\n",
			      i, res.exit_code, res.sig, res.out, res.err);
		assert_string_equal(res.out, cases[i].out);
		assert_int_equal(res.exit_code, cases[i].exit_code);
		assert_int_equal(res.sig, cases[i].sig);
	}
}

static char userdir[96]; /* tmpdir/u: 0711, for the user tests */

/* Root only: the user tests need a user to become. */
static int as_root(struct os_user *u)
{
	struct errbuf eb = { "" };

	if (geteuid() != 0)
		return 0;
	assert_int_equal(os_user_lookup("nobody", u, &eb), RC_OK);
	snprintf(userdir, sizeof userdir, "%s/u", tmpdir);
	mkdir(userdir, 0777);
	assert_int_equal(chmod(userdir, 0777), 0);
	/* tmpdir itself is 0700 root: the user must pass through it. */
	assert_int_equal(chmod(tmpdir, 0711), 0);
	return 1;
}

/* The child is the user, with its groups, cannot become root again, and
 * enters the directory as the user. */
static void test_spawn_as_user(void **state)
{
	const char *argv[] = { "sh", "-c",
			       "id -u; id -g; id -G; echo x > /etc/rfarm-x || "
			       "echo denied",
			       NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	const char *t[] = { "true", NULL };
	struct errbuf eb = { "" };
	struct os_user u;
	struct os_proc p;
	struct result res;
	char want[128], msg[256], secret[128];

	(void)state;
	if (!as_root(&u))
		skip();
	assert_int_equal(os_proc_spawn_as(argv, envp, userdir, &u, NULL, &p,
					  &eb), RC_OK);
	collect(&p, &res);
	snprintf(want, sizeof want, "%ld\n%ld\n%ld\ndenied\n", u.uid, u.gid,
		 u.gid);
	assert_string_equal(res.out, want);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(access("/etc/rfarm-x", F_OK), -1);
	/* A directory only root may enter: the chdir fails as the user. */
	snprintf(secret, sizeof secret, "%s/secret", tmpdir);
	assert_int_equal(mkdir(secret, 0700), 0);
	snprintf(msg, sizeof msg, "chdir %s: Permission denied", secret);
	assert_int_equal(os_proc_spawn_as(t, envp, secret, &u, NULL, &p, &eb),
			 RC_IO);
	assert_string_equal(eb.msg, msg);
	assert_int_equal(os_user_check_dir(&u, secret, &eb), RC_IO);
	assert_int_equal(os_user_check_dir(&u, userdir, &eb), RC_OK);
	rmdir(secret);
}

static void make_file(const char *path, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("data\n", f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static long owner_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? (long)st.st_uid : -1;
}

/*
 * A tree handed to the user is the user's, links included, and nothing
 * they point to changes hands; removing it as the user leaves what a link
 * in it points to alone, even inside read-only directories; a job's file
 * is opened only if it is the user's and not through a link.
 */
static void test_tree_give_remove_open(void **state)
{
	char job[128], outside[128], path[256], target[256];
	struct errbuf eb = { "" };
	struct os_user u;
	int fd;

	(void)state;
	if (!as_root(&u))
		skip();
	snprintf(job, sizeof job, "%s/job-1-1", userdir);
	snprintf(outside, sizeof outside, "%s/outside", tmpdir);
	assert_int_equal(mkdir(outside, 0700), 0);
	snprintf(target, sizeof target, "%s/secret", outside);
	make_file(target, 0600);
	assert_int_equal(mkdir(job, 0700), 0);
	snprintf(path, sizeof path, "%s/src", job);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/src/a.c", job);
	make_file(path, 0644);
	snprintf(path, sizeof path, "%s/src/link", job);
	assert_int_equal(symlink(target, path), 0);
	snprintf(path, sizeof path, "%s/dirlink", job);
	assert_int_equal(symlink(outside, path), 0);

	assert_int_equal(os_tree_give(job, &u, &eb), RC_OK);
	assert_int_equal(owner_of(job), u.uid);
	snprintf(path, sizeof path, "%s/src/a.c", job);
	assert_int_equal(owner_of(path), u.uid);
	snprintf(path, sizeof path, "%s/src/link", job);
	assert_int_equal(owner_of(path), u.uid);
	assert_int_equal(owner_of(target), 0);
	assert_int_equal(owner_of(outside), 0);

	/* Opening: the user's file yes; a link, or root's file through a
	 * linked directory, no; without a user, only the link rule. */
	snprintf(path, sizeof path, "%s/src/a.c", job);
	fd = os_job_file_open(path, &u, &eb);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof path, "%s/src/link", job);
	assert_int_equal(os_job_file_open(path, &u, &eb), -1);
	assert_int_equal(os_job_file_open(path, NULL, &eb), -1);
	snprintf(path, sizeof path, "%s/dirlink/secret", job);
	errbuf_clear(&eb);
	assert_int_equal(os_job_file_open(path, &u, &eb), -1);
	assert_non_null(strstr(eb.msg, "not the job's file"));
	fd = os_job_file_open(path, NULL, &eb);
	assert_true(fd >= 0);
	close(fd);

	/* A read-only directory the job left still goes. */
	snprintf(path, sizeof path, "%s/src", job);
	assert_int_equal(chmod(path, 0555), 0);
	assert_int_equal(os_tree_remove(job, &u, &eb), RC_OK);
	assert_int_equal(owner_of(job), -1);
	assert_int_equal(owner_of(target), 0);
	assert_int_equal(os_tree_remove(job, &u, &eb), RC_OK); /* missing */
	snprintf(path, sizeof path, "rm -rf %s", outside);
	assert_int_equal(system(path), 0);
}

static void test_machine(void **state)
{
	char host[256];
	double load = os_load();

	(void)state;
	assert_true(os_disk_free(tmpdir) > 0);
	assert_int_equal(os_disk_free("/nonexistent/path/xyz"), -1);
	assert_true(load >= 0 || load == -1);
	os_hostname(host, sizeof host);
	assert_true(host[0] != '\0');
	assert_null(strchr(host, '.'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_platform_matches_uname),
		cmocka_unit_test(test_spawn_true),
		cmocka_unit_test(test_spawn_exact_env),
		cmocka_unit_test(test_spawn_cwd_stdio_group),
		cmocka_unit_test(test_spawn_exec_errors),
		cmocka_unit_test(test_spawn_bad_cwd),
		cmocka_unit_test(test_spawn_resets_signals),
		cmocka_unit_test(test_spawn_closes_fds),
		cmocka_unit_test(test_terminate_and_wait),
		cmocka_unit_test(test_machine),
		cmocka_unit_test(test_user_lookup),
		cmocka_unit_test(test_spawn_limits),
		cmocka_unit_test(test_spawn_as_user),
		cmocka_unit_test(test_tree_give_remove_open),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
