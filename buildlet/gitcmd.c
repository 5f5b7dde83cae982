/* gitcmd.c - git as a bounded child process (see gitcmd.h). */
#include "gitcmd.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "os.h"
#include "xalloc.h"

struct git_io {
	struct os_proc p;
	struct buf *out;           /* stdout, or NULL */
	char err[GITCMD_ERR_MAX];  /* the first GITCMD_ERR_MAX - 1 bytes */
	size_t err_len;
	int open_fds;              /* pipes not yet at end of file */
};

/* Read what one pipe has; close it at end of file. */
static void drain(struct git_io *g, int *fd, int is_err)
{
	char tmp[4096];
	ssize_t n = read(*fd, tmp, sizeof tmp);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		g->open_fds--;
		return;
	}
	if (!is_err) {
		if (g->out)
			buf_append(g->out, tmp, (size_t)n);
		return;
	}
	if ((size_t)n > sizeof g->err - 1 - g->err_len)
		n = (ssize_t)(sizeof g->err - 1 - g->err_len);
	memcpy(g->err + g->err_len, tmp, (size_t)n);
	g->err_len += (size_t)n;
}

/* Read both pipes until git closes them, the deadline passes or the
 * caller cancels. */
static void pump(struct git_io *g, int64_t deadline, const volatile int *cancel)
{
	while (g->open_fds && clock_mono_ms() < deadline && !(cancel && *cancel)) {
		struct pollfd pfd[2] = {{g->p.out_fd, POLLIN, 0},
					{g->p.err_fd, POLLIN, 0}};

		if (poll(pfd, 2, 200) < 0 && errno != EINTR)
			break;
		if (pfd[0].fd >= 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			drain(g, &g->p.out_fd, 0);
		if (pfd[1].fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			drain(g, &g->p.err_fd, 1);
	}
}

/* Why git failed: its first "fatal:" or "error:" line (the ones after it
 * are advice), else its last line. */
static const char *why_line(char *text)
{
	size_t len = strlen(text);
	char *p, *nl;

	while (len && strchr(" \n\r\t", text[len - 1]))
		text[--len] = '\0';
	for (p = text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!strncmp(p, "fatal: ", 7) || !strncmp(p, "error: ", 7)) {
			if (nl)
				*nl = '\0';
			return p;
		}
		if (!nl)
			break;
	}
	nl = strrchr(text, '\n');
	return nl ? nl + 1 : text[0] ? text : "no message";
}

rc_t git_run(const char *dir, const char *what, const char *const *args,
	     int timeout_ms, const volatile int *cancel, struct buf *out,
	     struct errbuf *eb)
{
	const char *path = getenv("PATH");
	char *pathvar = xasprintf("PATH=%s", path ? path : "/usr/bin:/bin");
	char *homevar = xasprintf("HOME=%s", dir);
	const char *envp[] = {pathvar, homevar, "GIT_TERMINAL_PROMPT=0",
			      "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C", NULL};
	struct git_io *g = xcalloc(1, sizeof *g);
	int code = -1, sig = 0;
	rc_t rc;

	g->out = out;
	g->open_fds = 2;
	rc = os_proc_spawn(args, envp, dir, &g->p, eb);
	free(pathvar);
	free(homevar);
	if (rc)
		goto done;
	pump(g, clock_mono_ms() + timeout_ms, cancel);
	if (g->open_fds)
		os_proc_terminate(&g->p, 1);
	if (g->p.out_fd >= 0)
		close(g->p.out_fd);
	if (g->p.err_fd >= 0)
		close(g->p.err_fd);
	os_proc_wait(&g->p, 1, &code, &sig);
	if (g->open_fds && cancel && *cancel) {
		errbuf_set(eb, "git %s cancelled", what);
		rc = RC_TIMEOUT;
	} else if (g->open_fds) {
		errbuf_set(eb, "git %s took longer than %d s", what,
			   timeout_ms / 1000);
		rc = RC_TIMEOUT;
	} else if (code != 0) {
		errbuf_set(eb, "git %s failed: %.300s", what, why_line(g->err));
		rc = RC_IO;
	} else if (out && out->err) {
		errbuf_set(eb, "git %s printed more than %zu bytes", what,
			   out->max);
		rc = out->err;
	}
done:
	free(g);
	return rc;
}
