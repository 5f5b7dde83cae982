/*
 * runner.c - one job attempt on its own thread (see runner.h).
 *
 * runner_start() turns the run message into what the thread needs (argv,
 * the complete environment, the work directory path), so the thread never
 * touches the caller's data or the buildlet's environment. The thread then
 * makes the work directory, spawns through os.h and supervises the process
 * group in one poll(2) loop over stdout, stderr and a self-pipe that
 * runner_cancel() writes to. poll's timeout doubles as the clock for the
 * timeout, the no-output (idle) timeout, the SIGTERM -> SIGKILL grace and
 * the reaping of the main process, because a grandchild may keep the
 * pipes open after it exits.
 *
 * The job's environment is built from scratch: nothing of the buildlet's
 * environment reaches a job except PATH, LANG, LC_ALL and TZ, so secrets
 * such as RFARM_BUILDLET_KEY never leak into build logs.
 *
 * With run_as, the buildlet (root) still makes the work directory and
 * fetches the sources, then hands the tree to the user before the job
 * starts; from then on it treats the tree as the job's: it removes it as
 * that user and reads artifacts only if that user owns them.
 */
#include "artifacts.h"
#include "runner.h"
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "log.h"
#include "os.h"
#include "xalloc.h"

#define RUNNER_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
/* How long output is still read after the main process has exited. */
#define DRAIN_MS 1000
/* poll tick while the pipes are open, to notice the main process exit. */
#define TICK_MS 100

struct runner {
	int64_t job;                 /* job id */
	int32_t attempt;             /* attempt number */
	char **argv;                 /* owned, NULL-terminated; NULL if empty */
	char **envp;                 /* owned, NULL-terminated */
	char *workdir;               /* owned: <work_root>/job-<job>-<attempt> */
	char *work_root;             /* owned copy of opt->work_root */
	int timeout_s;               /* effective timeout, 0 = none */
	int idle_timeout_s;          /* no-output limit, 0 = none */
	int kill_grace_ms;           /* SIGTERM -> SIGKILL delay */
	int keep_workdir;            /* leave the work directory behind */
	int workdir_made;            /* we created workdir: remove it at end */
	struct runner_events ev;     /* callbacks */
	void *ud;                    /* callback argument */
	pthread_t thread;            /* the attempt's thread */
	int wake[2];                 /* self-pipe: runner_cancel -> poll */
	atomic_int cancelled;        /* runner_cancel was called */
	atomic_int finished;         /* on_done_cb has returned */
	int64_t seq;                 /* next log chunk number */
	struct proto_source source;  /* owned copy: what to fetch first */
	char commit[64];             /* what a git source resolved to */
	char *base_url;              /* owned: resolves a source path */
	char *ca_file;               /* owned: PEM CAs for HTTPS, or NULL */
	char *pin;                   /* owned: certificate pin, or NULL */
	struct proto_strv artifacts; /* owned: patterns to upload afterwards */
	char *upload_path;           /* owned: "/api/v1/blobs/" */
	char *upload_token;          /* owned: this attempt's credential */
	unsigned char *chunk;        /* PROTO_LOG_CHUNK read buffer */
	struct os_user user;         /* who the job runs as, if has_user */
	int has_user;                /* 1: run as user, not as the buildlet */
	struct os_limits limits;     /* the job's limits (zero: inherited) */
};

/* The supervision state of one running process group. */
struct watch {
	struct os_proc *p;   /* the process */
	int fds[2];          /* stdout, stderr read ends; -1 once at EOF */
	int64_t started;     /* monotonic ms at spawn */
	int64_t deadline;    /* timeout, INT64_MAX for none */
	int64_t last_output; /* monotonic ms of the last output (or spawn) */
	int64_t kill_at;     /* when SIGKILL follows SIGTERM; -1 none due */
	int64_t drain_until; /* stop reading after this; set at exit */
	int64_t exited;      /* monotonic ms at reaping; -1 while running */
	int backoff;         /* poll timeout once the pipes are closed */
	int exit_code;       /* exit status, -1 if killed */
	int sig;             /* terminating signal, 0 if none */
	char *error;         /* done error text, "" while none */
	size_t error_len;    /* size of error */
};

/* --- environment ------------------------------------------------------- */

struct envv {
	char **v;   /* "K=V" strings, owned, NULL-terminated */
	size_t n;   /* entries in use */
	size_t cap; /* slots allocated (excluding the terminator) */
};

/* Set key to val, replacing an earlier value of the same key. */
static void env_set(struct envv *e, const char *key, const char *val)
{
	size_t klen = strlen(key);
	char *kv = xasprintf("%s=%s", key, val ? val : "");

	for (size_t i = 0; i < e->n; i++) {
		if (!strncmp(e->v[i], key, klen) && e->v[i][klen] == '=') {
			free(e->v[i]);
			e->v[i] = kv;
			return;
		}
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->v = xrealloc(e->v, (e->cap + 1) * sizeof *e->v);
	}
	e->v[e->n++] = kv;
	e->v[e->n] = NULL;
}

static void strv_free(char ***v)
{
	if (!*v)
		return;
	for (char **s = *v; *s; s++)
		free(*s);
	free(*v);
	*v = NULL;
}

/* Base, then the run's own variables, then ours, which always win. */
static char **env_build(const struct proto_run *run, const char *workdir,
			const char *platform)
{
	static const char *const keep[] = { "LANG", "LC_ALL", "TZ" };
	struct envv e = { NULL, 0, 0 };
	const char *path = getenv("PATH");
	char num[32];

	env_set(&e, "PATH", path && *path ? path : RUNNER_DEFAULT_PATH);
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
		if (getenv(keep[i]))
			env_set(&e, keep[i], getenv(keep[i]));
	env_set(&e, "HOME", workdir);
	env_set(&e, "TMPDIR", workdir);
	for (size_t i = 0; i < run->env.n; i++) {
		const char *k = run->env.v[i].key;

		if (!k || !*k || strchr(k, '=')) {
			log_warn("job %lld: ignoring bad environment name '%s'",
				 (long long)run->job, k ? k : "");
			continue;
		}
		env_set(&e, k, run->env.v[i].val);
	}
	snprintf(num, sizeof num, "%lld", (long long)run->job);
	env_set(&e, "RFARM_JOB", num);
	snprintf(num, sizeof num, "%d", (int)run->attempt);
	env_set(&e, "RFARM_ATTEMPT", num);
	env_set(&e, "RFARM_WORKDIR", workdir);
	env_set(&e, "RFARM_PLATFORM", platform);
	return e.v;
}

/* argv to exec: the script under /bin/sh -c, or the command as given. */
static char **argv_build(const struct proto_run *run)
{
	char **v;

	if (run->script && run->script[0]) {
		v = xcalloc(4, sizeof *v);
		v[0] = xstrdup("/bin/sh");
		v[1] = xstrdup("-c");
		v[2] = xstrdup(run->script);
		return v;
	}
	if (run->argv.n == 0)
		return NULL;
	v = xcalloc(run->argv.n + 1, sizeof *v);
	for (size_t i = 0; i < run->argv.n; i++)
		v[i] = xstrdup(run->argv.v[i] ? run->argv.v[i] : "");
	return v;
}

/* "90s", "10m", "2h": the largest unit that divides the duration. */
static void duration_format(int secs, char *out, size_t n)
{
	if (secs > 0 && secs % 3600 == 0)
		snprintf(out, n, "%dh", secs / 3600);
	else if (secs > 0 && secs % 60 == 0)
		snprintf(out, n, "%dm", secs / 60);
	else
		snprintf(out, n, "%ds", secs);
}

/* "512M", "2G", "1000": the largest binary unit that divides n. */
static void size_format(int64_t n, char *out, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (n > 0 && n % 1024 == 0 && u < 3) {
		n /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(out, len, "%lld", (long long)n);
	else
		snprintf(out, len, "%lld%c", (long long)n, units[u]);
}

/* " (file size limit --max-file-size 1M)", or the same without a size. */
static void fsize_limit_text(const struct runner *r, char *out, size_t len)
{
	char sz[32];

	if (r->limits.max_file_size <= 0) {
		snprintf(out, len, " (file size limit)");
		return;
	}
	size_format(r->limits.max_file_size, sz, sizeof sz);
	snprintf(out, len, " (file size limit --max-file-size %s)", sz);
}

/* --- output ------------------------------------------------------------ */

static void deliver(struct runner *r, int stream, size_t n)
{
	if (r->ev.on_log_cb)
		r->ev.on_log_cb(r->ud, r->job, r->attempt, r->seq, stream,
				r->chunk, n);
	r->seq++;
}

/*
 * Read one chunk from stream i (0 stdout, 1 stderr) and deliver it.
 * Returns 1 if data came, 0 if none is available now, -1 at EOF or on an
 * error, after closing the descriptor.
 */
static int read_chunk(struct runner *r, struct watch *w, int i)
{
	ssize_t n;

	do
		n = read(w->fds[i], r->chunk, PROTO_LOG_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		deliver(r, i + 1, (size_t)n);
		/* After delivery: time the callback spent blocked on
		 * back-pressure is the farm's delay, not the job's silence. */
		w->last_output = clock_mono_ms();
		return 1;
	}
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n < 0)
		log_warn("job %lld: reading output: %s", (long long)r->job,
			 strerror(errno));
	close(w->fds[i]);
	w->fds[i] = -1;
	return -1;
}

/* Take what is already in the pipes, then stop reading them. */
static void drain_and_close(struct runner *r, struct watch *w)
{
	for (int i = 0; i < 2; i++) {
		/* Bounded: the writers were just killed, but a dying
		 * writer could otherwise keep us here a little while. */
		for (int k = 0; k < 64 && w->fds[i] >= 0; k++)
			if (read_chunk(r, w, i) == 0)
				break;
		if (w->fds[i] >= 0) {
			close(w->fds[i]);
			w->fds[i] = -1;
		}
	}
}

/* --- supervision --------------------------------------------------------- */

static int pipes_open(const struct watch *w)
{
	return w->fds[0] >= 0 || w->fds[1] >= 0;
}

/* Begin the kill sequence for why ("cancelled", "timed out after 1s"). */
static void kill_start(struct runner *r, struct watch *w, const char *why,
		       int64_t now)
{
	if (w->error[0])
		return;
	snprintf(w->error, w->error_len, "%s", why);
	log_info("job %lld attempt %d: %s", (long long)r->job, r->attempt,
		 why);
	if (r->kill_grace_ms <= 0) {
		os_proc_terminate(w->p, 1);
		return;
	}
	os_proc_terminate(w->p, 0);
	w->kill_at = now + r->kill_grace_ms;
}

/* Start the kill for a limit of secs: "<what> 10m". */
static void kill_after(struct runner *r, struct watch *w, const char *what,
		       int secs, int64_t now)
{
	char d[32], why[64];

	duration_format(secs, d, sizeof d);
	snprintf(why, sizeof why, "%s %s", what, d);
	kill_start(r, w, why, now);
}

/* When the job has been silent for too long; INT64_MAX for no limit. */
static int64_t idle_deadline(const struct runner *r, const struct watch *w)
{
	if (r->idle_timeout_s <= 0)
		return INT64_MAX;
	return w->last_output + (int64_t)r->idle_timeout_s * 1000;
}

static void on_wake(struct runner *r, struct watch *w, int64_t now)
{
	char b[64];

	while (read(r->wake[0], b, sizeof b) > 0)
		;
	if (!atomic_load(&r->cancelled))
		return;
	if (w->exited < 0)
		kill_start(r, w, "cancelled", now);
	else
		w->drain_until = now; /* result is known: stop waiting */
}

/* Reap the process if it ended; else fire the timeout and the SIGKILL. */
static void check_timers(struct runner *r, struct watch *w, int64_t now)
{
	rc_t rc;

	if (w->exited >= 0)
		return;
	rc = os_proc_wait(w->p, 0, &w->exit_code, &w->sig);
	if (rc != RC_BUSY) {
		/* RC_IO: someone else reaped it (SIGCHLD ignored?); the
		 * status is lost, but the attempt must still end. */
		if (rc != RC_OK) {
			w->exit_code = -1;
			w->sig = 0;
			if (!w->error[0])
				snprintf(w->error, w->error_len,
					 "lost the process: waitpid failed");
		}
		w->exited = now;
		w->drain_until = now + DRAIN_MS;
		return;
	}
	if (now >= w->deadline)
		kill_after(r, w, "timed out after", r->timeout_s, now);
	if (now >= idle_deadline(r, w))
		kill_after(r, w, "no output for", r->idle_timeout_s, now);
	if (w->kill_at >= 0 && now >= w->kill_at) {
		os_proc_terminate(w->p, 1);
		w->kill_at = -1;
	}
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* How long poll may sleep before a timer needs attention. */
static int poll_timeout(const struct runner *r, struct watch *w, int64_t now)
{
	int64_t t;

	if (w->exited >= 0)
		return (int)(w->drain_until > now ? w->drain_until - now : 0);
	if (pipes_open(w)) {
		t = TICK_MS;
	} else {
		/* EOF usually comes a moment before the exit status: check
		 * again soon, then back off. */
		t = w->backoff;
		w->backoff = w->backoff < TICK_MS ? w->backoff * 2 : TICK_MS;
	}
	if (!w->error[0]) {
		t = min64(t, w->deadline - now);
		t = min64(t, idle_deadline(r, w) - now);
	}
	if (w->kill_at >= 0)
		t = min64(t, w->kill_at - now);
	return t < 0 ? 0 : (int)t;
}

static void poll_once(struct runner *r, struct watch *w, int64_t now)
{
	struct pollfd pf[3];
	int rc;

	pf[0].fd = w->fds[0];
	pf[1].fd = w->fds[1];
	pf[2].fd = r->wake[0];
	for (int i = 0; i < 3; i++) {
		pf[i].events = POLLIN;
		pf[i].revents = 0;
	}
	rc = poll(pf, 3, poll_timeout(r, w, now)); /* negative fds are skipped */
	if (rc <= 0)
		return;
	if (pf[2].revents)
		on_wake(r, w, clock_mono_ms());
	for (int i = 0; i < 2; i++)
		if (w->fds[i] >= 0 && pf[i].revents)
			read_chunk(r, w, i);
}

/* A line of the runner's own in the job's stderr stream. */
static void note(struct runner *r, const char *text)
{
	size_t n = strlen(text);

	if (n > PROTO_LOG_CHUNK)
		n = PROTO_LOG_CHUNK;
	memcpy(r->chunk, text, n);
	deliver(r, 2, n);
}

/*
 * Say so when the file size limit stopped the job: as the error when it
 * killed the command itself, and as a line in the log when the command is
 * a shell that reports a child's death as exit status 128 + the signal
 * (which a program may also exit with on its own: hence only a note).
 */
static void explain_limits(struct runner *r, const struct proto_done *done,
			   char *error, size_t error_len)
{
	int xfsz = os_file_size_signal();
	char lim[96], line[256];

	if (!xfsz || error[0])
		return;
	fsize_limit_text(r, lim, sizeof lim);
	if (done->signal == xfsz) {
		snprintf(error, error_len, "killed by %s%s",
			 os_signal_name(xfsz), lim);
		return;
	}
	if (done->signal == 0 && done->exit_code == 128 + xfsz &&
	    r->limits.max_file_size > 0) {
		snprintf(line, sizeof line, "rfarm: exit status %d is 128+%s: "
			 "a process of the job was probably killed%s\n",
			 done->exit_code, os_signal_name(xfsz), lim);
		note(r, line);
	}
}

/* Run the loop until the main process is reaped and the pipes closed. */
static void supervise(struct runner *r, struct os_proc *p,
		      struct proto_done *done, char *error, size_t error_len)
{
	struct watch w = {
		.p = p,
		.fds = { p->out_fd, p->err_fd },
		.started = clock_mono_ms(),
		.deadline = INT64_MAX,
		.kill_at = -1,
		.drain_until = -1,
		.exited = -1,
		.backoff = 1,
		.error = error,
		.error_len = error_len,
	};

	w.last_output = w.started;
	if (r->timeout_s > 0)
		w.deadline = w.started + (int64_t)r->timeout_s * 1000;
	for (;;) {
		int64_t now = clock_mono_ms();

		check_timers(r, &w, now);
		if (w.exited >= 0 && (!pipes_open(&w) || now >= w.drain_until))
			break;
		poll_once(r, &w, now);
	}
	/* Whatever is left of the group (a background grandchild holding
	 * the pipes, a daemon) dies with the attempt. */
	os_proc_terminate(p, 1);
	drain_and_close(r, &w);
	done->exit_code = w.exit_code;
	done->signal = w.sig;
	done->duration_ms = w.exited - w.started;
	explain_limits(r, done, error, error_len);
}

/* --- the thread -------------------------------------------------------- */

static rc_t workdir_prepare(struct runner *r, struct errbuf *eb)
{
	rc_t rc;

	/* A stale earlier run; the job's user removes what it made. */
	rc = os_tree_remove(r->workdir, r->has_user ? &r->user : NULL, eb);
	if (!rc)
		rc = fs_mkdirs(r->work_root, 0755, eb);
	if (!rc && mkdir(r->workdir, 0700) < 0) {
		errbuf_set(eb, "mkdir %s: %s", r->workdir, strerror(errno));
		rc = RC_IO;
	}
	r->workdir_made = rc == RC_OK;
	return rc;
}

static void workdir_cleanup(struct runner *r)
{
	struct errbuf eb = { "" };

	if (r->keep_workdir || !r->workdir_made)
		return;
	if (os_tree_remove(r->workdir, r->has_user ? &r->user : NULL, &eb))
		log_warn("job %lld attempt %d: %s", (long long)r->job,
			 r->attempt, eb.msg);
}

/* Sources into the work directory; 0, or -1 with error set. */
static int fetch_source(struct runner *r, char *error, size_t error_len)
{
	char *tmp = xasprintf("%s.src", r->workdir);
	struct errbuf eb = {""};
	struct source_limits lim = source_default_limits;
	rc_t rc;

	lim.ca_file = r->ca_file;
	lim.pin = r->pin;
	lim.token = r->upload_token;
	rc = source_fetch(&r->source, r->base_url, r->workdir, tmp, &lim,
			  r->commit, sizeof r->commit, &eb);

	free(tmp);
	if (rc)
		snprintf(error, error_len, "source: %s", eb.msg);
	return rc ? -1 : 0;
}

/* Start the process and supervise it; fills done and error. */
static void run_attempt(struct runner *r, struct proto_done *done,
			char *error, size_t error_len)
{
	struct errbuf eb = { "" };
	struct os_proc p;

	if (!r->argv) {
		snprintf(error, error_len, "empty command");
		return;
	}
	if (workdir_prepare(r, &eb)) {
		snprintf(error, error_len, "work directory: %s", eb.msg);
		return;
	}
	if (r->source.kind[0] && fetch_source(r, error, error_len))
		return;
	/* Only now, with the tree complete, does the job's user get it. */
	if (r->has_user && os_tree_give(r->workdir, &r->user, &eb)) {
		snprintf(error, error_len, "work directory: %s", eb.msg);
		return;
	}
	if (atomic_load(&r->cancelled)) {
		snprintf(error, error_len, "cancelled");
		return;
	}
	if (os_proc_spawn_as((const char *const *)r->argv,
			     (const char *const *)r->envp, r->workdir,
			     r->has_user ? &r->user : NULL, &r->limits, &p,
			     &eb)) {
		snprintf(error, error_len, "%s", eb.msg);
		return;
	}
	log_debug("job %lld attempt %d: started pid %ld", (long long)r->job,
		  r->attempt, p.pid);
	if (r->ev.on_started_cb)
		r->ev.on_started_cb(r->ud, r->job, r->attempt);
	supervise(r, &p, done, error, error_len);
}

/* After a command that ran to its end, upload what it made. A failed
 * upload is reported as an error, beside the real exit code. */
static void upload_artifacts(struct runner *r, struct proto_done *done,
			     char *error, size_t error_len)
{
	struct errbuf eb = {""};

	if (error[0] || !r->artifacts.n || done->signal)
		return;
	if (artifacts_upload(r->workdir, &r->artifacts, r->base_url,
			     r->upload_path, r->upload_token, r->ca_file, r->pin,
			     r->has_user ? &r->user : NULL,
			     &done->artifacts, &done->n_artifacts, &eb))
		snprintf(error, error_len, "%s", eb.msg);
}

static void *runner_main(void *arg)
{
	struct runner *r = arg;
	char error[512] = "";
	struct proto_done done;

	log_set_component("runner");
	memset(&done, 0, sizeof done);
	done.job = r->job;
	done.attempt = r->attempt;
	done.exit_code = -1;
	run_attempt(r, &done, error, sizeof error);
	upload_artifacts(r, &done, error, sizeof error);
	done.error = error;
	done.commit = r->commit;
	/* Clean up before reporting, so the caller sees a finished state. */
	workdir_cleanup(r);
	if (r->ev.on_done_cb)
		r->ev.on_done_cb(r->ud, &done);
	artifacts_free(&done.artifacts, done.n_artifacts);
	atomic_store(&r->finished, 1);
	return NULL;
}

/* --- public ------------------------------------------------------------ */

static int wake_pipe(int fds[2])
{
	if (pipe(fds) < 0)
		return -1;
	/* Children of os_proc_spawn close every inherited descriptor, so
	 * the gap before FD_CLOEXEC cannot leak this pipe into a job. */
	for (int i = 0; i < 2; i++) {
		if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0 ||
		    fcntl(fds[i], F_SETFL, O_NONBLOCK) < 0) {
			close(fds[0]);
			close(fds[1]);
			return -1;
		}
	}
	return 0;
}

static void runner_release(struct runner *r)
{
	strv_free(&r->argv);
	strv_free(&r->envp);
	free(r->workdir);
	free(r->work_root);
	free(r->source.kind);
	free(r->source.url);
	free(r->source.ref);
	free(r->source.sha256);
	free(r->base_url);
	free(r->ca_file);
	free(r->pin);
	for (size_t i = 0; i < r->artifacts.n; i++)
		free(r->artifacts.v[i]);
	free(r->artifacts.v);
	free(r->upload_path);
	free(r->upload_token);
	free(r->chunk);
	if (r->wake[0] >= 0)
		close(r->wake[0]);
	if (r->wake[1] >= 0)
		close(r->wake[1]);
	free(r);
}

struct runner *runner_start(const struct proto_run *run,
			    const struct runner_options *opt,
			    const struct runner_events *ev, void *ud,
			    struct errbuf *eb)
{
	struct runner *r = xcalloc(1, sizeof *r);
	const char *platform = run->platform && run->platform[0]
				       ? run->platform
				       : (opt->platform ? opt->platform : "");
	int err;

	r->job = run->job;
	r->attempt = run->attempt;
	r->work_root = xstrdup(opt->work_root);
	r->workdir = xasprintf("%s/job-%lld-%d", opt->work_root,
			       (long long)run->job, (int)run->attempt);
	r->argv = argv_build(run);
	r->source.kind = xstrdup(run->source.kind ? run->source.kind : "");
	r->source.url = xstrdup(run->source.url ? run->source.url : "");
	r->source.ref = xstrdup(run->source.ref ? run->source.ref : "");
	r->source.sha256 = xstrdup(run->source.sha256 ? run->source.sha256 : "");
	r->base_url = xstrdup(opt->base_url ? opt->base_url : "");
	r->ca_file = opt->ca_file ? xstrdup(opt->ca_file) : NULL;
	r->pin = opt->pin ? xstrdup(opt->pin) : NULL;
	r->artifacts.v = xcalloc(run->artifacts.n + 1, sizeof(char *));
	for (size_t i = 0; i < run->artifacts.n; i++)
		r->artifacts.v[r->artifacts.n++] = xstrdup(run->artifacts.v[i]);
	r->upload_path = xstrdup(run->upload_url && run->upload_url[0]
					 ? run->upload_url
					 : "/api/v1/blobs/");
	r->upload_token = xstrdup(run->upload_token ? run->upload_token : "");
	r->envp = env_build(run, r->workdir, platform);
	r->timeout_s = run->timeout_s > 0 ? run->timeout_s
					  : opt->default_timeout_s;
	r->idle_timeout_s = run->idle_timeout_s > 0 ? run->idle_timeout_s : 0;
	r->kill_grace_ms = opt->kill_grace_ms;
	r->keep_workdir = opt->keep_workdir;
	if (opt->run_as) {
		r->user = *opt->run_as;
		r->has_user = 1;
	}
	if (opt->limits)
		r->limits = *opt->limits;
	r->ev = *ev;
	r->ud = ud;
	r->chunk = xmalloc(PROTO_LOG_CHUNK);
	r->wake[0] = r->wake[1] = -1;
	atomic_init(&r->cancelled, 0);
	atomic_init(&r->finished, 0);
	if (wake_pipe(r->wake) < 0) {
		errbuf_set(eb, "runner pipe: %s", strerror(errno));
		r->wake[0] = r->wake[1] = -1;
		goto fail;
	}
	err = pthread_create(&r->thread, NULL, runner_main, r);
	if (err) {
		errbuf_set(eb, "runner thread: %s", strerror(err));
		goto fail;
	}
	return r;
fail:
	runner_release(r);
	return NULL;
}

void runner_cancel(struct runner *r)
{
	ssize_t w;

	if (!r)
		return;
	atomic_store(&r->cancelled, 1);
	/* A full pipe (EAGAIN) already holds a wake-up. */
	w = write(r->wake[1], "c", 1);
	(void)w;
}

int runner_finished(const struct runner *r)
{
	return atomic_load(&r->finished);
}

void runner_free(struct runner **rp)
{
	struct runner *r = *rp;

	if (!r)
		return;
	if (!runner_finished(r))
		runner_cancel(r);
	pthread_join(r->thread, NULL);
	runner_release(r);
	*rp = NULL;
}
