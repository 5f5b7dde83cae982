/*
 * test_runner.c - the job runner against real processes: exit codes and
 * exec errors, both output streams byte for byte and in sequence, output
 * streamed while the job runs, the job's environment (and what must not
 * leak into it), the work directory, timeouts, the no-output timeout,
 * SIGTERM -> SIGKILL, cancellation, background processes that hold
 * the pipes open, the file size limit, and (as root) jobs run as nobody.
 * Every wait is bounded.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "os.h"
#include "runner.h"
#include "xalloc.h"

#define DONE_WAIT_MS 10000

/* Growable byte string for one output stream. */
struct bytes {
	unsigned char *p; /* data */
	size_t len;       /* bytes used */
	size_t cap;       /* bytes allocated */
};

/* Everything the callbacks saw, guarded by mu. */
struct events {
	pthread_mutex_t mu;    /* guards the rest */
	pthread_cond_t cv;     /* signalled at every event */
	int started;           /* on_started_cb calls */
	int done;              /* on_done_cb calls */
	int64_t t_start;       /* when runner_start was called */
	int64_t t_started;     /* on_started_cb time */
	int64_t t_first_log;   /* first on_log_cb time, -1 if none */
	int64_t t_done;        /* on_done_cb time */
	struct bytes out[2];   /* stdout, stderr */
	int64_t next_seq;      /* seq expected next */
	int bad;               /* a rule was broken; see why */
	char why[256];         /* first broken rule */
	size_t max_chunk;      /* largest chunk seen */
	int64_t chunks;        /* chunks seen */
	int logged;            /* 1 once any chunk arrived */
	struct proto_done d;   /* copy of done (error points into error) */
	char error[512];       /* copy of done->error */
	int64_t job;           /* expected job id */
	int32_t attempt;       /* expected attempt */
};

static char tmpdir[64];   /* per-binary scratch directory */
static char work_root[128]; /* tmpdir/work */

static void flag(struct events *e, const char *why)
{
	if (!e->bad)
		snprintf(e->why, sizeof e->why, "%s", why);
	e->bad = 1;
}

static void on_started(void *ud, int64_t job, int32_t attempt)
{
	struct events *e = ud;

	pthread_mutex_lock(&e->mu);
	if (job != e->job || attempt != e->attempt)
		flag(e, "started: wrong job or attempt");
	if (e->started || e->done || e->chunks)
		flag(e, "started: not first");
	e->started++;
	e->t_started = clock_mono_ms();
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

static void bytes_add(struct bytes *b, const unsigned char *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void on_log(void *ud, int64_t job, int32_t attempt, int64_t seq,
		   int stream, const unsigned char *data, size_t len)
{
	struct events *e = ud;

	pthread_mutex_lock(&e->mu);
	if (job != e->job || attempt != e->attempt)
		flag(e, "log: wrong job or attempt");
	if (!e->started || e->done)
		flag(e, "log: outside started..done");
	if (seq != e->next_seq)
		flag(e, "log: seq not contiguous from 0");
	if (stream != 1 && stream != 2)
		flag(e, "log: bad stream");
	if (len == 0 || len > PROTO_LOG_CHUNK)
		flag(e, "log: bad chunk length");
	e->next_seq = seq + 1;
	if (e->t_first_log < 0)
		e->t_first_log = clock_mono_ms();
	if (len > e->max_chunk)
		e->max_chunk = len;
	e->chunks++;
	e->logged = 1;
	if (stream == 1 || stream == 2)
		bytes_add(&e->out[stream - 1], data, len);
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

static void on_done(void *ud, const struct proto_done *d)
{
	struct events *e = ud;

	pthread_mutex_lock(&e->mu);
	if (d->job != e->job || d->attempt != e->attempt)
		flag(e, "done: wrong job or attempt");
	if (e->done)
		flag(e, "done: twice");
	e->done++;
	e->t_done = clock_mono_ms();
	e->d = *d;
	snprintf(e->error, sizeof e->error, "%s", d->error ? d->error : "(null)");
	e->d.error = e->error;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

static const struct runner_events callbacks = { on_started, on_log, on_done };

static void events_init(struct events *e, int64_t job, int32_t attempt)
{
	memset(e, 0, sizeof *e);
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	e->t_first_log = -1;
	e->job = job;
	e->attempt = attempt;
}

static void events_fini(struct events *e)
{
	free(e->out[0].p);
	free(e->out[1].p);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
}

/* Wait until *counter > 0 or ms pass; returns the counter. */
static int wait_for(struct events *e, int *counter, int ms)
{
	struct timespec ts;
	int v;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&e->mu);
	while (!*counter &&
	       pthread_cond_timedwait(&e->cv, &e->mu, &ts) == 0)
		;
	v = *counter;
	pthread_mutex_unlock(&e->mu);
	return v;
}

static void run_init(struct proto_run *run, int64_t job, int32_t attempt)
{
	memset(run, 0, sizeof *run);
	run->job = job;
	run->attempt = attempt;
	run->script = "";
	run->platform = "";
}

static void opt_init(struct runner_options *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->work_root = work_root;
	opt->platform = "linux/amd64";
	opt->kill_grace_ms = 200;
	opt->default_timeout_s = 60;
}

/* Start, wait for done (bounded), free. Checks the callback rules. */
static void run_to_done(const struct proto_run *run,
			const struct runner_options *opt, struct events *e)
{
	struct errbuf eb = { "" };
	struct runner *r;

	e->t_start = clock_mono_ms();
	r = runner_start(run, opt, &callbacks, e, &eb);
	assert_non_null(r);
	assert_true(wait_for(e, &e->done, DONE_WAIT_MS));
	/* runner_finished follows on_done_cb's return, very soon. */
	for (int i = 0; i < 1000 && !runner_finished(r); i++)
		usleep(1000);
	assert_true(runner_finished(r));
	runner_free(&r);
	assert_null(r);
	if (e->bad)
		fail_msg("%s", e->why);
}

static char *str_of(const struct bytes *b)
{
	char *s = xmalloc(b->len + 1);

	if (b->len)
		memcpy(s, b->p, b->len);
	s[b->len] = '\0';
	return s;
}

static void write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_runner.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(work_root, sizeof work_root, "%s/work", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- results ------------------------------------------------------------- */

struct result_case {
	const char *argv[4]; /* command, or {NULL} */
	const char *script;  /* script, or "" */
	int exit_code;       /* expected */
	int sig;             /* expected */
	int started;         /* on_started expected */
	const char *error;   /* expected, "%s" = tmpdir */
	const char *out;     /* expected stdout */
};

static void test_results(void **state)
{
	static const struct result_case cases[] = {
		{ { "true" }, "", 0, 0, 1, "", "" },
		{ { "sh", "-c", "exit 3" }, "", 3, 0, 1, "", "" },
		{ { "sh", "-c", "kill -9 $$" }, "", -1, 9, 1, "", "" },
		{ { NULL }, "echo hi; exit 4", 4, 0, 1, "", "hi\n" },
		{ { "echo", "a b", "c" }, "", 0, 0, 1, "", "a b c\n" },
		{ { "nosuchcmd-xyz" }, "", -1, 0, 0,
		  "exec nosuchcmd-xyz: No such file or directory", "" },
		{ { "%s/plain.sh" }, "", -1, 0, 0,
		  "exec %s/plain.sh: Permission denied", "" },
		{ { NULL }, "", -1, 0, 0, "empty command", "" },
	};
	char plain[128];

	(void)state;
	snprintf(plain, sizeof plain, "%s/plain.sh", tmpdir);
	write_file(plain, "#!/bin/sh\necho no\n", 18, 0644);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct result_case *c = &cases[i];
		char *argv[4], args[4][128], error[256], *out;
		struct proto_run run;
		struct runner_options opt;
		struct events e;
		size_t n = 0;

		run_init(&run, 100 + (int64_t)i, 1);
		opt_init(&opt);
		for (; n < 4 && c->argv[n]; n++) {
			snprintf(args[n], sizeof args[n], c->argv[n], tmpdir);
			argv[n] = args[n];
		}
		run.argv.v = argv;
		run.argv.n = n;
		run.script = (char *)c->script;
		snprintf(error, sizeof error, c->error, tmpdir);
		events_init(&e, run.job, run.attempt);
		run_to_done(&run, &opt, &e);
		out = str_of(&e.out[0]);
		print_message("case %zu: exit %d signal %d error '%s'\n", i,
			      e.d.exit_code, e.d.signal, e.error);
		assert_int_equal(e.started, c->started);
		assert_int_equal(e.d.exit_code, c->exit_code);
		assert_int_equal(e.d.signal, c->sig);
		assert_string_equal(e.error, error);
		assert_string_equal(out, c->out);
		assert_true(e.d.duration_ms >= 0 && e.d.duration_ms < 5000);
		assert_int_equal(e.d.n_artifacts, 0);
		free(out);
		events_fini(&e);
	}
}

static void test_streams(void **state)
{
	struct proto_run run;
	struct runner_options opt;
	struct events e;
	char *out, *err;

	(void)state;
	run_init(&run, 2, 1);
	opt_init(&opt);
	run.script = "echo out; echo err >&2; echo out2";
	events_init(&e, 2, 1);
	run_to_done(&run, &opt, &e);
	out = str_of(&e.out[0]);
	err = str_of(&e.out[1]);
	assert_string_equal(out, "out\nout2\n");
	assert_string_equal(err, "err\n");
	assert_int_equal(e.next_seq, e.chunks);
	free(out);
	free(err);
	events_fini(&e);
}

/* 5 MB on each stream at once, byte-exact, in order, in legal chunks. */
static void test_large_output(void **state)
{
	const size_t size = 5000000;
	unsigned char *data = xmalloc(size);
	uint32_t x = 12345;
	char file[128], script[300];
	struct proto_run run;
	struct runner_options opt;
	struct events e;

	(void)state;
	for (size_t i = 0; i < size; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)(x >> 16);
	}
	snprintf(file, sizeof file, "%s/big.bin", tmpdir);
	write_file(file, data, size, 0644);
	snprintf(script, sizeof script, "cat %s >&2 & cat %s; wait", file,
		 file);
	run_init(&run, 3, 1);
	opt_init(&opt);
	run.script = script;
	events_init(&e, 3, 1);
	run_to_done(&run, &opt, &e);
	assert_string_equal(e.error, "");
	assert_int_equal(e.d.exit_code, 0);
	for (int s = 0; s < 2; s++) {
		assert_int_equal(e.out[s].len, size);
		assert_memory_equal(e.out[s].p, data, size);
	}
	assert_true(e.max_chunk <= PROTO_LOG_CHUNK);
	assert_true(e.chunks >= (int64_t)(2 * size / PROTO_LOG_CHUNK));
	assert_int_equal(e.next_seq, e.chunks);
	free(data);
	events_fini(&e);
}

/* Output is delivered while the process runs, not at its end. */
static void test_streaming(void **state)
{
	struct proto_run run;
	struct runner_options opt;
	struct events e;
	char *out;

	(void)state;
	run_init(&run, 4, 1);
	opt_init(&opt);
	run.script = "echo a; sleep 2; echo b";
	events_init(&e, 4, 1);
	run_to_done(&run, &opt, &e);
	out = str_of(&e.out[0]);
	assert_string_equal(out, "a\nb\n");
	assert_true(e.t_first_log >= 0);
	assert_true(e.t_first_log - e.t_started < 1000);
	assert_true(e.t_done - e.t_first_log >= 1500);
	assert_true(e.d.duration_ms >= 1900 && e.d.duration_ms < 5000);
	free(out);
	events_fini(&e);
}

/* --- environment and work directory -------------------------------------- */

/* The value of NAME in env output, or NULL. */
static const char *env_get(const char *env, const char *name, char *val,
			   size_t n)
{
	size_t len = strlen(name);

	for (const char *l = env; *l;) {
		size_t ll = strcspn(l, "\n");

		if (!strncmp(l, name, len) && l[len] == '=') {
			snprintf(val, n, "%.*s", (int)(ll - len - 1), l + len + 1);
			return val;
		}
		l += ll + (l[ll] == '\n');
	}
	return NULL;
}

static int env_name_allowed(const char *line)
{
	static const char *const allowed[] = {
		"PATH=", "LANG=", "LC_ALL=", "TZ=", "HOME=", "TMPDIR=", "FOO=",
		"RFARM_JOB=", "RFARM_ATTEMPT=", "RFARM_WORKDIR=",
		"RFARM_PLATFORM=",
	};

	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		if (!strncmp(line, allowed[i], strlen(allowed[i])))
			return 1;
	return 0;
}

struct env_case {
	const char *platform;  /* run->platform */
	const char *want_plat; /* expected RFARM_PLATFORM */
};

static void test_environment(void **state)
{
	static const struct env_case cases[] = {
		{ "", "linux/amd64" },
		{ "linux/386", "linux/386" },
	};
	struct proto_kv kv[] = {
		{ "FOO", "bar" },          { "RFARM_JOB", "999" },
		{ "RFARM_WORKDIR", "/x" }, { "LANG", "C.UTF-8" },
	};
	char *argv[] = { "env" };

	(void)state;
	setenv("RFARM_BUILDLET_KEY", "s3cret", 1);
	setenv("RFARM_TOKEN", "t0ken", 1);
	setenv("SOME_OTHER_VAR", "x", 1);
	setenv("LANG", "en_US.UTF-8", 1);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct proto_run run;
		struct runner_options opt;
		struct events e;
		char *out, v[512], wd[256];

		run_init(&run, 42, 3);
		opt_init(&opt);
		run.argv.v = argv;
		run.argv.n = 1;
		run.env.v = kv;
		run.env.n = sizeof kv / sizeof kv[0];
		run.platform = (char *)cases[i].platform;
		events_init(&e, 42, 3);
		run_to_done(&run, &opt, &e);
		out = str_of(&e.out[0]);
		snprintf(wd, sizeof wd, "%s/job-42-3", work_root);
		assert_int_equal(e.d.exit_code, 0);
		assert_null(strstr(out, "s3cret"));
		assert_null(strstr(out, "t0ken"));
		assert_null(strstr(out, "SOME_OTHER_VAR"));
		for (const char *l = out; *l; l = strchr(l, '\n') + 1) {
			if (!env_name_allowed(l))
				fail_msg("unexpected variable: %.*s",
					 (int)strcspn(l, "\n"), l);
		}
		assert_string_equal(env_get(out, "RFARM_JOB", v, sizeof v), "42");
		assert_string_equal(env_get(out, "RFARM_ATTEMPT", v, sizeof v), "3");
		assert_string_equal(env_get(out, "RFARM_WORKDIR", v, sizeof v), wd);
		assert_string_equal(env_get(out, "RFARM_PLATFORM", v, sizeof v),
				    cases[i].want_plat);
		assert_string_equal(env_get(out, "FOO", v, sizeof v), "bar");
		assert_string_equal(env_get(out, "LANG", v, sizeof v), "C.UTF-8");
		assert_string_equal(env_get(out, "HOME", v, sizeof v), wd);
		assert_string_equal(env_get(out, "TMPDIR", v, sizeof v), wd);
		assert_string_equal(env_get(out, "PATH", v, sizeof v),
				    getenv("PATH"));
		free(out);
		events_fini(&e);
	}
	unsetenv("RFARM_BUILDLET_KEY");
	unsetenv("RFARM_TOKEN");
	unsetenv("SOME_OTHER_VAR");
}

static int path_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

struct workdir_case {
	const char *root;  /* work root under tmpdir */
	int stale;         /* pre-create the work dir with a stale file */
	int keep;          /* keep_workdir */
};

/* The work dir is fresh, is the cwd, and is gone afterwards (unless
 * kept); a missing work root is created. */
static void test_workdir(void **state)
{
	static const struct workdir_case cases[] = {
		{ "work", 1, 0 },
		{ "new/deeper/root", 0, 0 },
		{ "work", 1, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char root[160], wd[200], real[PATH_MAX], want[PATH_MAX + 32], f[300];
		struct proto_run run;
		struct runner_options opt;
		struct events e;
		char *out;

		snprintf(root, sizeof root, "%s/%s", tmpdir, cases[i].root);
		snprintf(wd, sizeof wd, "%s/job-7-%zu", root, i + 1);
		if (cases[i].stale) {
			char cmd[700];

			snprintf(cmd, sizeof cmd,
				 "mkdir -p %s/sub && touch %s/stale %s/sub/x",
				 wd, wd, wd);
			assert_int_equal(system(cmd), 0);
		}
		run_init(&run, 7, (int32_t)i + 1);
		opt_init(&opt);
		opt.work_root = root;
		opt.keep_workdir = cases[i].keep;
		run.script = "pwd; ls -A; touch made";
		events_init(&e, 7, (int32_t)i + 1);
		run_to_done(&run, &opt, &e);
		out = str_of(&e.out[0]);
		assert_string_equal(e.error, "");
		assert_non_null(realpath(root, real));
		snprintf(want, sizeof want, "%s/job-7-%zu\n", real, i + 1);
		assert_string_equal(out, want);
		assert_true(path_exists(root));
		snprintf(f, sizeof f, "%s/made", wd);
		assert_int_equal(path_exists(wd), cases[i].keep);
		assert_int_equal(path_exists(f), cases[i].keep);
		free(out);
		events_fini(&e);
	}
}

static void test_workdir_error(void **state)
{
	struct proto_run run;
	struct runner_options opt;
	struct events e;
	char root[128];
	char *argv[] = { "true" };

	(void)state;
	snprintf(root, sizeof root, "%s/afile", tmpdir);
	write_file(root, "x", 1, 0644); /* a file where the root should be */
	run_init(&run, 8, 1);
	opt_init(&opt);
	opt.work_root = root;
	run.argv.v = argv;
	run.argv.n = 1;
	events_init(&e, 8, 1);
	run_to_done(&run, &opt, &e);
	assert_int_equal(e.started, 0);
	assert_int_equal(e.d.exit_code, -1);
	assert_non_null(strstr(e.error, "work directory: "));
	events_fini(&e);
}

/* --- stopping ------------------------------------------------------------ */

struct stop_case {
	const char *script;   /* the job */
	int timeout_s;        /* run->timeout_s */
	int default_s;        /* opt->default_timeout_s */
	int grace_ms;         /* opt->kill_grace_ms */
	int sig;              /* expected terminating signal */
	const char *error;    /* expected error */
};

static void test_timeouts(void **state)
{
	static const struct stop_case cases[] = {
		{ "exec sleep 30", 1, 60, 200, SIGTERM, "timed out after 1s" },
		{ "exec sleep 30", 0, 1, 200, SIGTERM, "timed out after 1s" },
		{ "trap '' TERM; sleep 30", 1, 60, 300, SIGKILL,
		  "timed out after 1s" },
		{ "exec sleep 30", 1, 60, 0, SIGKILL, "timed out after 1s" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct proto_run run;
		struct runner_options opt;
		struct events e;
		int64_t took;

		run_init(&run, 9, (int32_t)i + 1);
		opt_init(&opt);
		run.script = (char *)cases[i].script;
		run.timeout_s = cases[i].timeout_s;
		opt.default_timeout_s = cases[i].default_s;
		opt.kill_grace_ms = cases[i].grace_ms;
		events_init(&e, 9, (int32_t)i + 1);
		run_to_done(&run, &opt, &e);
		took = e.t_done - e.t_start;
		print_message("case %zu: %s after %lld ms\n", i, e.error,
			      (long long)took);
		assert_string_equal(e.error, cases[i].error);
		assert_int_equal(e.d.exit_code, -1);
		assert_int_equal(e.d.signal, cases[i].sig);
		assert_true(took >= 900 && took < 3000);
		assert_true(e.d.duration_ms >= 900);
		events_fini(&e);
	}
}

struct idle_case {
	const char *script;   /* the job */
	int timeout_s;        /* run->timeout_s */
	int idle_s;           /* run->idle_timeout_s */
	int grace_ms;         /* opt->kill_grace_ms */
	int exit_code;        /* expected */
	int sig;              /* expected terminating signal */
	const char *error;    /* expected error */
	const char *out;      /* expected stdout */
	const char *err;      /* expected stderr */
	int min_ms;           /* the attempt took at least this long */
	int max_ms;           /* ... and less than this */
};

/* The no-output limit: silence stops the job like a timeout, output on
 * either stream restarts the clock, and the log up to then is kept. */
static void test_idle_timeout(void **state)
{
	static const char steady[] =
		"i=0; while [ $i -lt 7 ]; do echo $i; sleep 0.3; i=$((i+1)); done";
	static const char steady_err[] =
		"i=0; while [ $i -lt 7 ]; do echo $i >&2; sleep 0.3; "
		"i=$((i+1)); done";
	static const struct idle_case cases[] = {
		{ "exec sleep 30", 0, 1, 200, -1, SIGTERM, "no output for 1s",
		  "", "", 900, 3000 },
		{ "echo a; echo b >&2; exec sleep 30", 0, 1, 200, -1, SIGTERM,
		  "no output for 1s", "a\n", "b\n", 900, 3000 },
		{ "exec sleep 30", 0, 2, 200, -1, SIGTERM, "no output for 2s",
		  "", "", 1900, 4000 },
		/* output restarts the clock: silence from 0.6 s, fires ~1.6 s */
		{ "echo a; sleep 0.6; echo b; exec sleep 30", 0, 1, 200, -1,
		  SIGTERM, "no output for 1s", "a\nb\n", "", 1500, 3500 },
		{ steady, 0, 1, 200, 0, 0, "", "0\n1\n2\n3\n4\n5\n6\n", "",
		  1900, 4500 },
		{ steady_err, 0, 1, 200, 0, 0, "", "",
		  "0\n1\n2\n3\n4\n5\n6\n", 1900, 4500 },
		/* the earlier limit wins */
		{ "exec sleep 30", 1, 5, 200, -1, SIGTERM, "timed out after 1s",
		  "", "", 900, 3000 },
		{ "exec sleep 30", 5, 1, 200, -1, SIGTERM, "no output for 1s",
		  "", "", 900, 3000 },
		/* a job that ignores SIGTERM is killed after the grace */
		{ "trap '' TERM; echo ready; sleep 30", 0, 1, 300, -1, SIGKILL,
		  "no output for 1s", "ready\n", "", 1200, 3500 },
		/* silence with closed pipes is still silence */
		{ "exec >/dev/null 2>&1; sleep 30", 0, 1, 200, -1, SIGTERM,
		  "no output for 1s", "", "", 900, 3000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct idle_case *c = &cases[i];
		struct proto_run run;
		struct runner_options opt;
		struct events e;
		char *out, *err;
		int64_t took;

		run_init(&run, 13, (int32_t)i + 1);
		opt_init(&opt);
		run.script = (char *)c->script;
		run.timeout_s = c->timeout_s;
		run.idle_timeout_s = c->idle_s;
		opt.kill_grace_ms = c->grace_ms;
		events_init(&e, 13, (int32_t)i + 1);
		run_to_done(&run, &opt, &e);
		took = e.t_done - e.t_start;
		out = str_of(&e.out[0]);
		err = str_of(&e.out[1]);
		print_message("case %zu: '%s' after %lld ms\n", i, e.error,
			      (long long)took);
		assert_string_equal(e.error, c->error);
		assert_int_equal(e.d.exit_code, c->exit_code);
		assert_int_equal(e.d.signal, c->sig);
		assert_string_equal(out, c->out);
		assert_string_equal(err, c->err);
		assert_true(took >= c->min_ms && took < c->max_ms);
		free(out);
		free(err);
		events_fini(&e);
	}
}

static void test_cancel(void **state)
{
	struct proto_run run;
	struct runner_options opt;
	struct events e;
	struct errbuf eb = { "" };
	struct runner *r;
	char *argv[] = { "sleep", "30" };
	int64_t t;

	(void)state;
	run_init(&run, 10, 1);
	opt_init(&opt);
	opt.kill_grace_ms = 5000; /* sleep dies of SIGTERM at once */
	run.argv.v = argv;
	run.argv.n = 2;
	events_init(&e, 10, 1);
	r = runner_start(&run, &opt, &callbacks, &e, &eb);
	assert_non_null(r);
	assert_true(wait_for(&e, &e.started, DONE_WAIT_MS));
	assert_false(runner_finished(r));
	t = clock_mono_ms();
	runner_cancel(r);
	assert_true(wait_for(&e, &e.done, DONE_WAIT_MS));
	assert_true(e.t_done - t < 500);
	runner_cancel(r); /* late: harmless */
	runner_free(&r);
	assert_string_equal(e.error, "cancelled");
	assert_int_equal(e.d.signal, SIGTERM);
	assert_int_equal(e.d.exit_code, -1);
	assert_false(e.bad);
	events_fini(&e);
}

/* runner_free on a running attempt cancels it and still reports done. */
static void test_free_running(void **state)
{
	struct proto_run run;
	struct runner_options opt;
	struct events e;
	struct errbuf eb = { "" };
	struct runner *r;
	int64_t t;

	(void)state;
	run_init(&run, 11, 1);
	opt_init(&opt);
	run.script = "trap '' TERM; echo ready; sleep 30";
	events_init(&e, 11, 1);
	r = runner_start(&run, &opt, &callbacks, &e, &eb);
	assert_non_null(r);
	/* Only once it printed is the trap surely in place. */
	assert_true(wait_for(&e, &e.logged, DONE_WAIT_MS));
	t = clock_mono_ms();
	runner_free(&r);
	assert_null(r);
	assert_true(clock_mono_ms() - t < 2000);
	assert_int_equal(e.done, 1);
	assert_string_equal(e.error, "cancelled");
	assert_int_equal(e.d.signal, SIGKILL);
	events_fini(&e);
}

/* Dead: no such process, or a zombie nobody has reaped yet. */
static int pid_dead(long pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

static int pid_gone_within(long pid, int ms)
{
	int64_t end = clock_mono_ms() + ms;

	while (!pid_dead(pid)) {
		if (clock_mono_ms() >= end)
			return 0;
		usleep(10000);
	}
	return 1;
}

struct group_case {
	const char *script; /* prints the background pid first */
	int timeout_s;      /* run->timeout_s */
	int exit_code;      /* expected */
	const char *error;  /* expected */
	int max_ms;         /* upper bound for the attempt */
	const char *tail;   /* expected end of stdout */
};

/* A background grandchild holding the pipes does not hang the attempt,
 * and the whole group dies with it. */
static void test_process_group(void **state)
{
	static const struct group_case cases[] = {
		{ "sleep 30 & echo $!", 0, 0, "", 2500, "\n" },
		{ "sleep 30 >/dev/null 2>&1 & echo $!", 0, 0, "", 1000, "\n" },
		{ "sleep 30 >/dev/null 2>&1 & echo $!; sleep 30", 1, -1,
		  "timed out after 1s", 3000, "\n" },
		/* output written shortly after the main exit still counts */
		{ "(sleep 0.3; echo late) & echo $!", 0, 0, "", 1500,
		  "\nlate\n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct proto_run run;
		struct runner_options opt;
		struct events e;
		char *out;
		long pid;

		run_init(&run, 12, (int32_t)i + 1);
		opt_init(&opt);
		run.script = (char *)cases[i].script;
		run.timeout_s = cases[i].timeout_s;
		events_init(&e, 12, (int32_t)i + 1);
		run_to_done(&run, &opt, &e);
		out = str_of(&e.out[0]);
		print_message("case %zu: done after %lld ms\n", i,
			      (long long)(e.t_done - e.t_start));
		assert_string_equal(e.error, cases[i].error);
		assert_int_equal(e.d.exit_code, cases[i].exit_code);
		assert_true(e.t_done - e.t_start < cases[i].max_ms);
		assert_true(strlen(out) >= strlen(cases[i].tail));
		assert_string_equal(out + strlen(out) - strlen(cases[i].tail),
				    cases[i].tail);
		pid = strtol(out, NULL, 10);
		assert_true(pid > 1);
		assert_true(pid_gone_within(pid, 2000));
		free(out);
		events_fini(&e);
	}
}

/* --- limits and another user --------------------------------------------- */

struct limit_case {
	const char *argv[8];   /* command, or {NULL} for the script */
	const char *script;    /* script, or "" */
	int64_t max_file_size; /* the limit, 0 for none */
	int exit_code;         /* expected */
	int sig;               /* expected */
	const char *error;     /* expected done error */
	const char *err_tail;  /* expected end of stderr */
};

/* Hitting the file size limit says so: in the error when the command
 * itself is killed, in a note when a shell reports it as 128+25. */
static void test_file_size_limit(void **state)
{
	static const struct limit_case cases[] = {
		{ { "dd", "if=/dev/zero", "of=big", "bs=1024", "count=64",
		    "status=none" }, "", 16384, -1, SIGXFSZ,
		  "killed by SIGXFSZ (file size limit --max-file-size 16K)",
		  "" },
		{ { NULL }, "head -c 100000 /dev/zero > big", 16384, 153, 0, "",
		  "rfarm: exit status 153 is 128+SIGXFSZ: a process of the job "
		  "was probably killed (file size limit --max-file-size 16K)\n" },
		{ { NULL }, "head -c 100000 /dev/zero > big; wc -c < big", 0, 0,
		  0, "", "" },
		{ { NULL }, "exit 153", 0, 153, 0, "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct limit_case *c = &cases[i];
		struct os_limits lim = { 0, c->max_file_size, 1 };
		char *argv[8], *err;
		struct proto_run run;
		struct runner_options opt;
		struct events e;
		size_t n = 0;

		run_init(&run, 300 + (int64_t)i, 1);
		opt_init(&opt);
		opt.limits = &lim;
		for (; n < 8 && c->argv[n]; n++)
			argv[n] = (char *)c->argv[n];
		run.argv.v = argv;
		run.argv.n = n;
		run.script = (char *)c->script;
		events_init(&e, run.job, run.attempt);
		run_to_done(&run, &opt, &e);
		err = str_of(&e.out[1]);
		print_message("case %zu: exit %d signal %d error '%s' err '%s'\n",
			      i, e.d.exit_code, e.d.signal, e.error, err);
		assert_int_equal(e.d.exit_code, c->exit_code);
		assert_int_equal(e.d.signal, c->sig);
		assert_string_equal(e.error, c->error);
		assert_true(strlen(err) >= strlen(c->err_tail));
		assert_string_equal(err + strlen(err) - strlen(c->err_tail),
				    c->err_tail);
		if (!c->err_tail[0])
			assert_null(strstr(err, "rfarm:"));
		free(err);
		events_fini(&e);
	}
}

/*
 * As root, a job run as nobody is nobody, owns its work directory and
 * nothing else, sees none of the buildlet's secrets, and its directory
 * (even a read-only part of it) is gone afterwards; a stale directory of
 * nobody's is removed first. Skipped unless root.
 */
static void test_run_as(void **state)
{
	static const char script[] =
		"id -u; stat -c '%u %a' .; touch made && echo made; "
		"(echo x > ../escape) 2>/dev/null || echo denied; "
		"(ls .. >/dev/null) 2>/dev/null && echo listed; "
		"mkdir -p ro/sub && touch ro/sub/f && chmod 555 ro/sub ro; "
		"env | sort";
	struct proto_kv kv[] = { { "FOO", "bar" } };
	struct os_user u;
	struct errbuf eb = { "" };
	struct proto_run run;
	struct runner_options opt;
	struct events e;
	char root[160], wd[200], want[128], cmd[1024], *out;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(os_user_lookup("nobody", &u, &eb), RC_OK);
	/* tmpdir is 0700: nobody must pass through it to the work root. */
	assert_int_equal(chmod(tmpdir, 0711), 0);
	snprintf(root, sizeof root, "%s/asuser", tmpdir);
	snprintf(wd, sizeof wd, "%s/job-9-1", root);
	snprintf(cmd, sizeof cmd, "mkdir -p %s/stale/ro && chmod 555 %s/stale/ro"
		 " && chown -R nobody %s && chmod 755 %s", wd, wd, wd, root);
	assert_int_equal(system(cmd), 0);
	setenv("RFARM_BUILDLET_KEY", "s3cret", 1);
	setenv("RFARM_TOKEN", "t0ken", 1);
	setenv("SOME_OTHER_VAR", "x", 1);
	run_init(&run, 9, 1);
	opt_init(&opt);
	opt.work_root = root;
	opt.run_as = &u;
	run.script = (char *)script;
	run.env.v = kv;
	run.env.n = 1;
	events_init(&e, 9, 1);
	run_to_done(&run, &opt, &e);
	unsetenv("RFARM_BUILDLET_KEY");
	unsetenv("RFARM_TOKEN");
	unsetenv("SOME_OTHER_VAR");
	out = str_of(&e.out[0]);
	print_message("%s", out);
	assert_string_equal(e.error, "");
	assert_int_equal(e.d.exit_code, 0);
	snprintf(want, sizeof want, "%ld\n%ld 700\nmade\ndenied\nlisted\n",
		 u.uid, u.uid);
	assert_memory_equal(out, want, strlen(want));
	assert_null(strstr(out, "s3cret"));
	assert_null(strstr(out, "t0ken"));
	assert_null(strstr(out, "SOME_OTHER_VAR"));
	/* PWD is the shell's own doing. */
	for (const char *l = out + strlen(want); *l; l = strchr(l, '\n') + 1)
		if (!env_name_allowed(l) && strncmp(l, "PWD=", 4))
			fail_msg("unexpected variable: %.*s",
				 (int)strcspn(l, "\n"), l);
	assert_false(path_exists(wd));
	snprintf(cmd, sizeof cmd, "%s/escape", root);
	assert_false(path_exists(cmd));
	free(out);
	events_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_streams),
		cmocka_unit_test(test_large_output),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_workdir),
		cmocka_unit_test(test_workdir_error),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_free_running),
		cmocka_unit_test(test_process_group),
		cmocka_unit_test(test_file_size_limit),
		cmocka_unit_test(test_run_as),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
