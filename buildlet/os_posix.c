/*
 * os_posix.c - os.h for Linux and macOS: spawning a job's process group,
 * signalling and reaping it, and describing the machine.
 *
 * Spawning follows libuv's unix/process.c: every descriptor we make is
 * close-on-exec, the PATH lookup happens in the parent before fork (the
 * buildlet is multi-threaded, so the child may only make async-signal-safe
 * calls: no malloc, no stdio), and the child reports a failed chdir or
 * execve through a close-on-exec status pipe, so the caller learns about
 * "exec make: No such file or directory" synchronously instead of as a
 * mysterious exit code 127. All platform #ifdefs of the buildlet live here.
 *
 * A job may run as another user (--run-as): the child applies the limits,
 * then drops to that user's groups, gid and uid (all resolved in the
 * parent) and checks that it cannot get root back, before it even looks at
 * the work directory. The buildlet's own touches of a job's files are made
 * link-proof here too (os_tree_give, os_tree_remove, os_job_file_open).
 */
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"

#ifdef __linux__
#include <sys/syscall.h>
#endif

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
/* Highest descriptor the fallback close loop in the child visits. */
#define FD_CLOSE_CAP 65536

/* What the child was doing when it failed; sent up the status pipe. */
enum child_stage {
	STAGE_SETPGID, /* setpgid(0, 0) */
	STAGE_DUP,     /* dup2 of stdin/stdout/stderr */
	STAGE_LIMITS,  /* setrlimit */
	STAGE_GID,     /* setgid */
	STAGE_GROUPS,  /* setgroups */
	STAGE_UID,     /* setuid */
	STAGE_VERIFY,  /* the identity is not what was asked, or root can
			  be regained */
	STAGE_CHDIR,   /* chdir(cwd) */
	STAGE_EXEC,    /* execve */
};

struct child_report {
	int stage; /* enum child_stage */
	int err;   /* errno at that point */
};

/* Everything the child needs, prepared by the parent before fork. */
struct spawn_plan {
	const char *path;          /* resolved program path */
	char *const *argv;         /* argv as given */
	char *const *envp;         /* environment as given */
	const char *cwd;           /* directory to run in */
	int null_fd;               /* /dev/null, becomes stdin */
	int out_w;                 /* write end of the stdout pipe */
	int err_w;                 /* write end of the stderr pipe */
	int status_w;              /* write end of the status pipe */
	int max_fd;                /* highest fd the fallback close visits */
	int switch_user;           /* 1: become uid/gid/groups below */
	uid_t uid;                 /* user to become */
	gid_t gid;                 /* its primary group */
	int n_groups;              /* entries used in groups */
	gid_t groups[OS_USER_GROUPS_MAX]; /* its supplementary groups */
	int n_limits;              /* entries used in limits */
	struct {
		int resource;      /* RLIMIT_* */
		struct rlimit rl;  /* soft = hard: the job cannot raise it */
	} limits[3];
};

/*
 * Serialises descriptor creation and fork between our own spawning
 * threads, so one runner's pipes cannot leak into another runner's child
 * on systems without pipe2() (where close-on-exec is set in a second step).
 */
static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;

static int fd_set_flag(int fd, int getcmd, int setcmd, int flag)
{
	int fl = fcntl(fd, getcmd);

	if (fl < 0)
		return -1;
	return fcntl(fd, setcmd, fl | flag);
}

/*
 * Keep fd above 2 so that the child's dup2 onto 0, 1 and 2 can never
 * overwrite a descriptor it has still to duplicate (possible when the
 * buildlet was started with a standard stream closed).
 */
static int fd_lift(int *fd)
{
	int nfd;

	if (*fd > 2)
		return 0;
	nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -1;
	close(*fd);
	*fd = nfd;
	return 0;
}

static int pipe_cloexec(int fds[2])
{
#ifdef __linux__
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
#else
	if (pipe(fds) < 0)
		return -1;
	if (fd_set_flag(fds[0], F_GETFD, F_SETFD, FD_CLOEXEC) < 0 ||
	    fd_set_flag(fds[1], F_GETFD, F_SETFD, FD_CLOEXEC) < 0)
		goto fail;
#endif
	if (fd_lift(&fds[0]) < 0 || fd_lift(&fds[1]) < 0)
		goto fail;
	return 0;
fail:
	close(fds[0]);
	close(fds[1]);
	return -1;
}

static const char *env_find(const char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static int is_executable(const char *path, int *exists)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	*exists = 1;
	return access(path, X_OK) == 0;
}

/*
 * Try name in the PATH entry dir[0..dlen) ("" means "."). Returns 1 when it
 * is executable (out holds it), 0 otherwise; the first file that merely
 * exists is kept in out too, with *found set.
 */
static int path_try(const char *dir, size_t dlen, const char *name,
		    const char *cwd, char *out, size_t n, int *found)
{
	char cand[PATH_MAX], check[PATH_MAX];
	int w, exists = 0;

	if (!dlen)
		w = snprintf(cand, sizeof cand, "./%s", name);
	else
		w = snprintf(cand, sizeof cand, "%.*s/%s", (int)dlen, dir, name);
	if (w < 0 || (size_t)w >= sizeof cand)
		return 0;
	/* A relative entry is relative to the directory the job runs in. */
	w = cand[0] == '/' ? snprintf(check, sizeof check, "%s", cand)
			   : snprintf(check, sizeof check, "%s/%s", cwd, cand);
	if (w < 0 || (size_t)w >= sizeof check)
		return 0;
	if (is_executable(check, &exists)) {
		snprintf(out, n, "%s", cand);
		return 1;
	}
	if (exists && !*found) {
		snprintf(out, n, "%s", cand);
		*found = 1;
	}
	return 0;
}

/*
 * Look name up in the PATH found in envp (else the default path) like
 * execvp: the first executable regular file wins; failing that, the first
 * file that exists is used so that execve reports why it cannot run
 * (EACCES). A name with a slash is used as it is. out receives the path
 * to exec.
 */
static rc_t path_resolve(const char *name, const char *const *envp,
			 const char *cwd, char *out, size_t n,
			 struct errbuf *eb)
{
	const char *seg = env_find(envp, "PATH");
	int found = 0;

	if (strchr(name, '/')) {
		snprintf(out, n, "%s", name);
		return RC_OK;
	}
	if (!seg)
		seg = DEFAULT_PATH;
	while (name[0]) {
		size_t len = strcspn(seg, ":");

		if (path_try(seg, len, name, cwd, out, n, &found))
			return RC_OK;
		if (!seg[len])
			break;
		seg += len + 1;
	}
	if (found)
		return RC_OK;
	errbuf_set(eb, "exec %s: %s", name, strerror(ENOENT));
	return RC_NOT_FOUND;
}

static void child_report(int fd, int stage)
{
	struct child_report cr = { stage, errno };
	ssize_t w;

	do
		w = write(fd, &cr, sizeof cr);
	while (w < 0 && errno == EINTR);
	_exit(127);
}

/* dup2 that also clears close-on-exec when from == to. */
static int dup_onto(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

/* Close (at exec) every descriptor above 2 except the status pipe. */
static void child_close_fds(const struct spawn_plan *sp)
{
#if defined(__linux__) && defined(SYS_close_range)
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
	/* Marking them close-on-exec keeps the status pipe open until the
	 * execve succeeds, which is exactly when it must close. */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	for (int fd = 3; fd <= sp->max_fd; fd++)
		if (fd != sp->status_w)
			close(fd);
}

/*
 * Become the job's user: gid, groups, then uid (after which the others can
 * no longer be changed), and check that it took and cannot be undone.
 */
static void child_become(const struct spawn_plan *sp)
{
	if (setgid(sp->gid) < 0)
		child_report(sp->status_w, STAGE_GID);
	if (setgroups(sp->n_groups, sp->groups) < 0)
		child_report(sp->status_w, STAGE_GROUPS);
	if (setuid(sp->uid) < 0)
		child_report(sp->status_w, STAGE_UID);
	errno = EPERM;
	if (getuid() != sp->uid || geteuid() != sp->uid ||
	    getgid() != sp->gid || getegid() != sp->gid)
		child_report(sp->status_w, STAGE_VERIFY);
	if (sp->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		child_report(sp->status_w, STAGE_VERIFY);
}

/* Runs in the forked child: async-signal-safe calls only. */
static void child_exec(const struct spawn_plan *sp)
{
	struct sigaction sa;
	sigset_t none;

	if (setpgid(0, 0) < 0)
		child_report(sp->status_w, STAGE_SETPGID);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL); /* SIGKILL, SIGSTOP fail: fine */
	if (dup_onto(sp->null_fd, 0) < 0 || dup_onto(sp->out_w, 1) < 0 ||
	    dup_onto(sp->err_w, 2) < 0)
		child_report(sp->status_w, STAGE_DUP);
	child_close_fds(sp);
	for (int i = 0; i < sp->n_limits; i++)
		if (setrlimit(sp->limits[i].resource, &sp->limits[i].rl) < 0)
			child_report(sp->status_w, STAGE_LIMITS);
	if (sp->switch_user)
		child_become(sp);
	if (chdir(sp->cwd) < 0)
		child_report(sp->status_w, STAGE_CHDIR);
	/* The parent blocked every signal around fork; unblock only now
	 * that no handler of the buildlet is left to run. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(sp->path, sp->argv, sp->envp);
	child_report(sp->status_w, STAGE_EXEC);
}

static int max_fd_guess(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > FD_CLOSE_CAP)
		return FD_CLOSE_CAP;
	return (int)rl.rlim_cur;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Turn what the child reported into the caller's error. */
static rc_t report_child_error(const struct child_report *cr,
			       const char *name, const char *cwd,
			       const struct os_user *user, struct errbuf *eb)
{
	switch (cr->stage) {
	case STAGE_EXEC:
		/* Linux refuses the exec (not the setuid) of a user already
		 * at its RLIMIT_NPROC. */
		if (cr->err == EAGAIN && user)
			errbuf_set(eb, "exec %s: %s (is user %s at its process "
				   "limit?)", name, strerror(cr->err), user->name);
		else
			errbuf_set(eb, "exec %s: %s", name, strerror(cr->err));
		return cr->err == ENOENT ? RC_NOT_FOUND : RC_IO;
	case STAGE_LIMITS:
		errbuf_set(eb, "spawn %s: setting resource limits: %s", name,
			   strerror(cr->err));
		return RC_IO;
	case STAGE_GID:
	case STAGE_GROUPS:
	case STAGE_UID:
	case STAGE_VERIFY:
		errbuf_set(eb, "spawn %s: cannot become user %s: %s%s", name,
			   user ? user->name : "?", strerror(cr->err),
			   cr->stage == STAGE_VERIFY ? " (could regain root)" : "");
		return RC_IO;
	case STAGE_CHDIR:
		errbuf_set(eb, "chdir %s: %s", cwd, strerror(cr->err));
		return RC_IO;
	default:
		errbuf_set(eb, "spawn %s: %s", name, strerror(cr->err));
		return RC_IO;
	}
}

/* Fork and exec; returns the child's pid or -1 with errno set. */
static long fork_child(const struct spawn_plan *sp)
{
	sigset_t all, old;
	pid_t pid;
	int saved;

	/* No signal handler of ours may run in the child before it resets
	 * the dispositions. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_exec(sp);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}

/* Read the child's status pipe: 0 bytes means execve succeeded. */
static int read_report(int fd, struct child_report *cr)
{
	ssize_t n;

	do
		n = read(fd, cr, sizeof *cr);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof *cr;
}

static void reap(long pid)
{
	while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Copy the user's identity into the plan, in the types the child needs. */
static void plan_user(struct spawn_plan *sp, const struct os_user *u)
{
	if (!u)
		return;
	sp->switch_user = 1;
	sp->uid = (uid_t)u->uid;
	sp->gid = (gid_t)u->gid;
	sp->n_groups = u->n_groups;
	for (int i = 0; i < u->n_groups; i++)
		sp->groups[i] = (gid_t)u->groups[i];
}

/* Add a limit of want (0: none asked), never above the current hard
 * limit, which only root could raise. */
static void plan_limit(struct spawn_plan *sp, int resource, rlim_t want,
		       int asked)
{
	struct rlimit cur;

	if (!asked)
		return;
	if (getrlimit(resource, &cur) == 0 && cur.rlim_max != RLIM_INFINITY &&
	    cur.rlim_max < want && geteuid() != 0)
		want = cur.rlim_max;
	sp->limits[sp->n_limits].resource = resource;
	sp->limits[sp->n_limits].rl.rlim_cur = want;
	sp->limits[sp->n_limits].rl.rlim_max = want;
	sp->n_limits++;
}

static void plan_limits(struct spawn_plan *sp, const struct os_limits *lim)
{
	if (!lim)
		return;
	plan_limit(sp, RLIMIT_NPROC, (rlim_t)lim->max_procs,
		   lim->max_procs > 0);
	plan_limit(sp, RLIMIT_FSIZE, (rlim_t)lim->max_file_size,
		   lim->max_file_size > 0);
	plan_limit(sp, RLIMIT_CORE, 0, lim->no_core);
}

rc_t os_proc_spawn(const char *const *argv, const char *const *envp,
		   const char *cwd, struct os_proc *p, struct errbuf *eb)
{
	return os_proc_spawn_as(argv, envp, cwd, NULL, NULL, p, eb);
}

rc_t os_proc_spawn_as(const char *const *argv, const char *const *envp,
		      const char *cwd, const struct os_user *user,
		      const struct os_limits *lim, struct os_proc *p,
		      struct errbuf *eb)
{
	char path[PATH_MAX];
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, st[2] = { -1, -1 };
	struct spawn_plan sp;
	struct child_report cr;
	long pid = -1;
	rc_t rc;

	p->pid = -1;
	p->out_fd = p->err_fd = -1;
	memset(&sp, 0, sizeof sp);
	sp.null_fd = -1;
	if (!argv || !argv[0]) {
		errbuf_set(eb, "empty command");
		return RC_INVALID;
	}
	rc = path_resolve(argv[0], envp, cwd, path, sizeof path, eb);
	if (rc)
		return rc;
	sp.path = path;
	sp.argv = (char *const *)argv;
	sp.envp = (char *const *)envp;
	sp.cwd = cwd;
	sp.max_fd = max_fd_guess();
	plan_user(&sp, user);
	plan_limits(&sp, lim);

	pthread_mutex_lock(&spawn_lock);
	sp.null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (sp.null_fd < 0 || fd_lift(&sp.null_fd) < 0 || pipe_cloexec(out) < 0 ||
	    pipe_cloexec(err) < 0 || pipe_cloexec(st) < 0) {
		pthread_mutex_unlock(&spawn_lock);
		errbuf_set(eb, "spawn %s: %s", argv[0], strerror(errno));
		rc = RC_IO;
		goto out;
	}
	sp.out_w = out[1];
	sp.err_w = err[1];
	sp.status_w = st[1];
	pid = fork_child(&sp);
	pthread_mutex_unlock(&spawn_lock);
	if (pid < 0) {
		errbuf_set(eb, "fork: %s", strerror(errno));
		rc = RC_IO;
		goto out;
	}
	close_fd(&st[1]); /* so the read below sees EOF at the exec */
	if (read_report(st[0], &cr)) {
		reap(pid);
		rc = report_child_error(&cr, argv[0], cwd, user, eb);
		goto out;
	}
	if (fd_set_flag(out[0], F_GETFL, F_SETFL, O_NONBLOCK) < 0 ||
	    fd_set_flag(err[0], F_GETFL, F_SETFL, O_NONBLOCK) < 0) {
		errbuf_set(eb, "spawn %s: %s", argv[0], strerror(errno));
		kill(-(pid_t)pid, SIGKILL);
		reap(pid);
		rc = RC_IO;
		goto out;
	}
	p->pid = pid;
	p->out_fd = out[0];
	p->err_fd = err[0];
	out[0] = err[0] = -1;
	rc = RC_OK;
out:
	close_fd(&sp.null_fd);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&st[0]);
	close_fd(&st[1]);
	return rc;
}

void os_proc_terminate(const struct os_proc *p, int force)
{
	if (p->pid <= 0)
		return;
	/* ESRCH (the group is already gone) is the outcome we want; anything
	 * else (EPERM: a service without CAP_KILL over --run-as jobs) leaves
	 * the job running, which the operator must hear about. */
	if (kill(-(pid_t)p->pid, force ? SIGKILL : SIGTERM) && errno != ESRCH)
		log_warn("cannot signal process group %ld: %s", p->pid,
			 strerror(errno));
}

rc_t os_proc_wait(struct os_proc *p, int block, int *exit_code, int *sig)
{
	int status = 0;
	pid_t r;

	if (p->pid <= 0)
		return RC_INVALID;
	do
		r = waitpid((pid_t)p->pid, &status, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return RC_BUSY;
	if (r < 0)
		return RC_IO;
	if (WIFSIGNALED(status)) {
		*exit_code = -1;
		*sig = WTERMSIG(status);
	} else {
		*exit_code = WEXITSTATUS(status);
		*sig = 0;
	}
	return RC_OK;
}

/* ---- users, and the buildlet's touches of a job's files ---- */

/* The user's supplementary groups into u (getgrouplist's types differ). */
static rc_t user_groups(const char *name, gid_t gid, struct os_user *u,
			struct errbuf *eb)
{
#ifdef __APPLE__
	typedef int group_t; /* macOS declares getgrouplist with int */
#else
	typedef gid_t group_t;
#endif
	group_t g[OS_USER_GROUPS_MAX];
	int n = OS_USER_GROUPS_MAX;

	/* Fewer groups would be safe, but would break builds strangely. */
	if (getgrouplist(name, (group_t)gid, g, &n) < 0) {
		errbuf_set(eb, "user %s is in more than %d groups", name,
			   OS_USER_GROUPS_MAX);
		return RC_TOO_LARGE;
	}
	u->n_groups = n;
	for (int i = 0; i < n; i++)
		u->groups[i] = (long)g[i];
	return RC_OK;
}

rc_t os_user_lookup(const char *name, struct os_user *u, struct errbuf *eb)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	int err;

	memset(u, 0, sizeof *u);
	if (!name || !*name || strlen(name) >= sizeof u->name) {
		errbuf_set(eb, "no such user: %s", name ? name : "");
		return RC_NOT_FOUND;
	}
	err = getpwnam_r(name, &pw, buf, sizeof buf, &res);
	if (!res) {
		if (err)
			errbuf_set(eb, "looking up user %s: %s", name,
				   strerror(err));
		else
			errbuf_set(eb, "no such user: %s", name);
		return err ? RC_IO : RC_NOT_FOUND;
	}
	snprintf(u->name, sizeof u->name, "%s", name);
	u->uid = (long)pw.pw_uid;
	u->gid = (long)pw.pw_gid;
	return user_groups(name, pw.pw_gid, u, eb);
}

int os_can_switch_user(void)
{
	return geteuid() == 0;
}

int os_user_is_self(const struct os_user *u)
{
	return (uid_t)u->uid == geteuid() && (uid_t)u->uid == getuid();
}

rc_t os_user_check_dir(const struct os_user *u, const char *dir,
		       struct errbuf *eb)
{
	const char *argv[] = { "true", NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct os_proc p;
	int code, sig;
	rc_t rc;

	rc = os_proc_spawn_as(argv, envp, dir, u, NULL, &p, eb);
	if (rc)
		return rc;
	close(p.out_fd);
	close(p.err_fd);
	os_proc_wait(&p, 1, &code, &sig);
	return RC_OK;
}

/* nftw has no user argument: the walk's target, per thread. */
static _Thread_local uid_t give_uid;
static _Thread_local gid_t give_gid;
static _Thread_local char give_failed[PATH_MAX];

static int give_one(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (lchown(path, give_uid, give_gid) == 0)
		return 0;
	snprintf(give_failed, sizeof give_failed, "%s", path);
	return -1;
}

rc_t os_tree_give(const char *path, const struct os_user *u,
		  struct errbuf *eb)
{
	give_uid = (uid_t)u->uid;
	give_gid = (gid_t)u->gid;
	give_failed[0] = '\0';
	/* FTW_DEPTH: the top directory, still the buildlet's and 0700,
	 * changes hands last, so no process of the user can swap a
	 * directory for a link while the walk runs. */
	if (nftw(path, give_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		errbuf_set(eb, "chown %s to %s: %s",
			   give_failed[0] ? give_failed : path, u->name,
			   strerror(errno));
		return RC_IO;
	}
	return RC_OK;
}

/* Wait for a helper process, at most limit_ms, then kill its group. */
static void wait_bounded(struct os_proc *p, int64_t limit_ms)
{
	int code, sig;

	for (int64_t t = 0; t < limit_ms; t += 20) {
		if (os_proc_wait(p, 0, &code, &sig) != RC_BUSY)
			return;
		usleep(20 * 1000);
	}
	os_proc_terminate(p, 1);
	os_proc_wait(p, 1, &code, &sig);
}

/* The contents of path, removed by u: what u may not touch stays. */
static rc_t remove_as(const char *path, const struct os_user *u,
		      struct errbuf *eb)
{
	/* u+rwX first: a job may leave read-only directories (Go's module
	 * cache does), which even their owner cannot empty. */
	const char *argv[] = { "/bin/sh", "-c",
			       "chmod -R u+rwX -- \"$1\"; rm -rf -- \"$1\"",
			       "sh", path, NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
	char abs[PATH_MAX], cwd[PATH_MAX];
	struct os_proc p;
	int w;
	rc_t rc;

	/* The helper runs in "/": a relative path is made absolute. */
	if (path[0] == '/')
		w = snprintf(abs, sizeof abs, "%s", path);
	else if (getcwd(cwd, sizeof cwd))
		w = snprintf(abs, sizeof abs, "%s/%s", cwd, path);
	else
		w = -1;
	if (w < 0 || (size_t)w >= sizeof abs) {
		errbuf_set(eb, "remove %s: path too long", path);
		return RC_IO;
	}
	argv[4] = abs;
	rc = os_proc_spawn_as(argv, envp, "/", u, NULL, &p, eb);
	if (rc)
		return rc;
	/* Nothing is read: the parent's rmdir always fails for u, and
	 * must not block the helper on a full pipe. */
	close(p.out_fd);
	close(p.err_fd);
	wait_bounded(&p, 10 * 60 * 1000);
	return RC_OK;
}

rc_t os_tree_remove(const char *path, const struct os_user *u,
		    struct errbuf *eb)
{
	struct stat st;
	rc_t rc;

	if (!u)
		return fs_remove_tree(path, eb);
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return RC_OK;
		errbuf_set(eb, "remove %s: %s", path, strerror(errno));
		return RC_IO;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != (uid_t)u->uid)
		return fs_remove_tree(path, eb);
	rc = remove_as(path, u, eb);
	if (rc)
		return rc;
	if (rmdir(path) < 0 && errno != ENOENT) {
		errbuf_set(eb, "remove %s: %s (what is left is not %s's to "
			   "remove, or a process of it still writes there)",
			   path, strerror(errno), u->name);
		return RC_IO;
	}
	return RC_OK;
}

int os_job_file_open(const char *path, const struct os_user *u,
		     struct errbuf *eb)
{
	/* O_NONBLOCK: a fifo in the artifacts must not hang the open. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		errbuf_set(eb, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		errbuf_set(eb, "open %s: not a regular file", path);
		close(fd);
		return -1;
	}
	/* A link in a parent directory can lead anywhere: what counts is
	 * that the job's user owns what was opened. */
	if (u && st.st_uid != (uid_t)u->uid) {
		errbuf_set(eb, "open %s: not the job's file (owned by uid %ld, "
			   "not %s)", path, (long)st.st_uid, u->name);
		close(fd);
		return -1;
	}
	return fd;
}

int os_file_size_signal(void)
{
	return SIGXFSZ;
}

const char *os_signal_name(int sig)
{
	static const struct {
		int sig;          /* number */
		const char *name; /* its name */
	} names[] = {
		{ SIGHUP, "SIGHUP" },   { SIGINT, "SIGINT" },
		{ SIGQUIT, "SIGQUIT" }, { SIGILL, "SIGILL" },
		{ SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
		{ SIGBUS, "SIGBUS" },   { SIGFPE, "SIGFPE" },
		{ SIGKILL, "SIGKILL" }, { SIGUSR1, "SIGUSR1" },
		{ SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" },
		{ SIGTERM, "SIGTERM" }, { SIGXCPU, "SIGXCPU" },
		{ SIGXFSZ, "SIGXFSZ" }, { SIGSYS, "SIGSYS" },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].sig == sig)
			return names[i].name;
	return NULL;
}

struct name_map {
	const char *uname; /* as uname(2) reports it */
	const char *go;    /* Go's name */
};

static const struct name_map os_names[] = {
	{ "Linux", "linux" },     { "Darwin", "darwin" },
	{ "FreeBSD", "freebsd" }, { "OpenBSD", "openbsd" },
	{ "NetBSD", "netbsd" },
};

static const struct name_map arch_names[] = {
	{ "x86_64", "amd64" },    { "amd64", "amd64" },
	{ "aarch64", "arm64" },   { "arm64", "arm64" },
	{ "i386", "386" },        { "i486", "386" },
	{ "i586", "386" },        { "i686", "386" },
	{ "armv6l", "arm" },      { "armv7l", "arm" },
	{ "riscv64", "riscv64" }, { "ppc64le", "ppc64le" },
	{ "ppc64", "ppc64" },     { "s390x", "s390x" },
};

/* Go's name for s, or s lower-cased when the table does not know it. */
static void map_name(const struct name_map *m, size_t n, const char *s,
		     char *out, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(m[i].uname, s)) {
			snprintf(out, len, "%s", m[i].go);
			return;
		}
	}
	snprintf(out, len, "%s", s);
	for (char *c = out; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
}

void os_platform(char *goos, size_t goos_len, char *goarch, size_t goarch_len)
{
	struct utsname u;

	if (uname(&u) < 0) {
		snprintf(goos, goos_len, "unknown");
		snprintf(goarch, goarch_len, "unknown");
		return;
	}
	map_name(os_names, sizeof os_names / sizeof os_names[0], u.sysname,
		 goos, goos_len);
	map_name(arch_names, sizeof arch_names / sizeof arch_names[0],
		 u.machine, goarch, goarch_len);
}

void os_hostname(char *out, size_t n)
{
	char h[256];

	if (gethostname(h, sizeof h) < 0 || !h[0]) {
		snprintf(out, n, "buildlet");
		return;
	}
	h[sizeof h - 1] = '\0';
	h[strcspn(h, ".")] = '\0';
	snprintf(out, n, "%s", h);
}

double os_load(void)
{
	double l[1];

	return getloadavg(l, 1) == 1 ? l[0] : -1;
}

int64_t os_disk_free(const char *path)
{
	struct statvfs vfs;

	if (statvfs(path, &vfs) < 0)
		return -1;
	return (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
}
