/*
 * os.h - the operating-system seam of the buildlet.
 *
 * Everything that differs between Unix-likes and Windows lives behind this
 * header: starting a process in its own group, signalling and reaping that
 * group, and describing the machine. os_posix.c implements it for Linux and
 * macOS; a Windows port adds os_windows.c and nothing else changes.
 */
#ifndef RFARM_OS_H
#define RFARM_OS_H

#include <stddef.h>
#include <stdint.h>

#include "rc.h"

struct os_proc {
	long pid;   /* process id, also its process-group id */
	int out_fd; /* read end of the child's stdout, non-blocking */
	int err_fd; /* read end of the child's stderr, non-blocking */
};

/*
 * Start argv[0] (looked up in the PATH found in envp, else the default
 * path) with exactly envp as its environment, in directory cwd, in a new
 * process group, with stdin from /dev/null, default signal dispositions and
 * no inherited descriptors. An exec failure is reported here, not as an
 * exit code: RC_NOT_FOUND or RC_IO, with eb saying
 * "exec nosuch: No such file or directory".
 */
rc_t os_proc_spawn(const char *const *argv, const char *const *envp,
		   const char *cwd, struct os_proc *p, struct errbuf *eb);

/*
 * Who a job runs as (--run-as), resolved once at start: the supplementary
 * groups are looked up here because the child of a multi-threaded process
 * may not read /etc/group between fork and exec.
 */
#define OS_USER_GROUPS_MAX 64
struct os_user {
	char name[64];                   /* login name */
	long uid;                        /* user id */
	long gid;                        /* primary group id */
	int n_groups;                    /* entries used in groups */
	long groups[OS_USER_GROUPS_MAX]; /* supplementary groups (with gid) */
};

/* What a job's processes may use; 0 leaves a limit as inherited. */
struct os_limits {
	long max_procs;        /* processes of the job's user (RLIMIT_NPROC;
				  per user, and not enforced for root) */
	int64_t max_file_size; /* bytes a file may grow to (RLIMIT_FSIZE):
				  a write past it gets the signal
				  os_file_size_signal() */
	int no_core;           /* 1: no core dumps (RLIMIT_CORE 0) */
};

/*
 * Look a user up by name. RC_NOT_FOUND with eb = "no such user: NAME".
 */
rc_t os_user_lookup(const char *name, struct os_user *u, struct errbuf *eb);
/* 1 if this process may run jobs as another user (it runs as root). */
int os_can_switch_user(void);
/* 1 if u is the user this process runs as. */
int os_user_is_self(const struct os_user *u);
/*
 * Check that u can enter dir by trying it (a process as u that changes
 * into it), so permissions, ACLs and groups all count. RC_IO with eb =
 * "chdir DIR: Permission denied" if not.
 */
rc_t os_user_check_dir(const struct os_user *u, const char *dir,
		       struct errbuf *eb);

/*
 * os_proc_spawn with limits applied and, with user set, the identity
 * switched (groups, gid, uid, in that order, checked afterwards) in the
 * child before the chdir and the exec, so a directory the user cannot
 * enter fails as "chdir DIR: Permission denied". Either may be NULL.
 */
rc_t os_proc_spawn_as(const char *const *argv, const char *const *envp,
		      const char *cwd, const struct os_user *user,
		      const struct os_limits *lim, struct os_proc *p,
		      struct errbuf *eb);

/*
 * Give the tree at path to u (lchown, never following a link; the top
 * last, so nobody else can enter it while it changes hands). For a tree
 * the buildlet made and in which nothing of the job has run yet.
 */
rc_t os_tree_give(const char *path, const struct os_user *u,
		  struct errbuf *eb);

/*
 * rm -rf path without trusting its contents: with u set and path owned by
 * u, its contents are removed by a process running as u (so a link the
 * job swapped in can never make the buildlet delete its own files), then
 * the empty directory itself. Without u, or for a tree not owned by u,
 * the same as fs_remove_tree. A missing path is not an error.
 */
rc_t os_tree_remove(const char *path, const struct os_user *u,
		    struct errbuf *eb);

/*
 * Open a file of the job's for reading (an artifact): a regular file, no
 * link at the last component, and with u set owned by u, so a job cannot
 * get the buildlet to read what only the buildlet may. Returns a
 * descriptor, or -1 with eb set.
 */
int os_job_file_open(const char *path, const struct os_user *u,
		     struct errbuf *eb);

/* The signal a write past the file size limit raises (0: none here). */
int os_file_size_signal(void);
/* "SIGXFSZ" etc. for a terminating signal, or NULL if unknown. */
const char *os_signal_name(int sig);

/* Terminate politely (SIGTERM) or forcibly (SIGKILL) the whole group. */
void os_proc_terminate(const struct os_proc *p, int force);

/*
 * Reap the process. With block = 0 returns RC_BUSY while it runs.
 * On RC_OK *exit_code is its status (-1 if killed) and *sig the signal
 * that ended it (0 if it exited).
 */
rc_t os_proc_wait(struct os_proc *p, int block, int *exit_code, int *sig);

/* Native platform in Go's names: "linux"/"darwin"/..., "amd64"/"arm64"/... */
void os_platform(char *goos, size_t goos_len, char *goarch, size_t goarch_len);
/* Short host name for a default buildlet name. */
void os_hostname(char *out, size_t n);
/* 1-minute load average, or -1. */
double os_load(void);
/* Bytes free on the file system holding path, or -1. */
int64_t os_disk_free(const char *path);

#endif
