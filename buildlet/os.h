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
