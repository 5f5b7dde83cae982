/*
 * gitcmd.h - run git as a child process, bounded in time and output.
 *
 * Shared by the buildlet (fetching a job's git source) and the
 * coordinator's commit watcher. git gets a small fixed environment: no
 * terminal prompts (a password prompt would hang until the deadline), no
 * system config, the C locale (its messages are quoted in errors).
 */
#ifndef RFARM_GITCMD_H
#define RFARM_GITCMD_H

#include "buf.h"
#include "rc.h"

#define GITCMD_ERR_MAX 4096 /* stderr kept for the error message */

/*
 * Run args (args[0] is "git") in dir with HOME=dir, for at most
 * timeout_ms. Its stdout goes to out (may be NULL: discarded), up to
 * out's cap: more is RC_TOO_LARGE. On failure eb says "git WHAT failed:
 * <its last stderr line>" or "git WHAT took longer than N s" (RC_TIMEOUT;
 * git is killed). When *cancel (cancel may be NULL) becomes non-zero git
 * is killed within 200 ms and the result is RC_TIMEOUT too.
 */
rc_t git_run(const char *dir, const char *what, const char *const *args,
	     int timeout_ms, const volatile int *cancel, struct buf *out,
	     struct errbuf *eb);

#endif
