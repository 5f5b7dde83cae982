/*
 * gitpoll.h - what the commit watcher asks of git: a repository's branch
 * heads (git ls-remote), the new commits of a branch fetched into a bare
 * mirror, and their metadata (git log). No coordinator state: the watcher
 * thread calls these, the parsers are unit-tested on their own.
 */
#ifndef RFARM_GITPOLL_H
#define RFARM_GITPOLL_H

#include <stddef.h>
#include <stdint.h>

#include "rc.h"

#define GITPOLL_HASH_LEN 40
#define GITPOLL_BRANCH_MAX 256   /* longest branch name, with its NUL */
#define GITPOLL_MAX_NEW 100      /* commits recorded per branch per poll */
#define GITPOLL_LS_TIMEOUT_MS (60 * 1000)
#define GITPOLL_FETCH_TIMEOUT_MS (10 * 60 * 1000)

struct gitpoll_head {
	char branch[GITPOLL_BRANCH_MAX];
	char hash[GITPOLL_HASH_LEN + 1];
};

struct gitpoll_commit {
	char hash[GITPOLL_HASH_LEN + 1];
	char *parents;   /* space-separated */
	char *author;    /* "Name <email>" */
	int64_t time_ms; /* committer time */
	char *subject;
};

/*
 * The heads of ls-remote output text (NUL-terminated, "HASH\tREF" lines,
 * with --symref also "ref: refs/heads/B\tHEAD"): for each of branches[n]
 * that the remote has, its head; with n == 0, the branch HEAD points to.
 * *out gets a new array (free()).
 */
rc_t gitpoll_parse_heads(const char *text, const char *const *branches,
			 size_t n, struct gitpoll_head **out, size_t *n_out);
/* Commits of `git log --format=GITPOLL_LOG_FORMAT` output, newest first
 * as git prints them; *out is new (gitpoll_commits_free). Records that do
 * not parse are skipped. */
#define GITPOLL_LOG_FORMAT "%H%x1f%P%x1f%an <%ae>%x1f%ct%x1f%s%x1e"
rc_t gitpoll_parse_log(const char *text, struct gitpoll_commit **out,
		       size_t *n);
void gitpoll_commits_free(struct gitpoll_commit **c, size_t n);

/* Where git runs: a bare mirror, and a flag that cancels it. */
struct gitpoll_dir {
	const char *path;           /* the mirror (a bare repository) */
	const volatile int *cancel; /* non-zero: kill git, give up */
};

/* Make the bare mirror m->path if it is missing. */
rc_t gitpoll_mirror_init(const struct gitpoll_dir *m, struct errbuf *eb);
/* Ask url for its heads (see gitpoll_parse_heads). */
rc_t gitpoll_heads(const struct gitpoll_dir *m, const char *url,
		   const char *const *branches, size_t n,
		   struct gitpoll_head **out, size_t *n_out, struct errbuf *eb);
/* Fetch heads[n] from url into the mirror's refs/heads. */
rc_t gitpoll_fetch(const struct gitpoll_dir *m, const char *url,
		   const struct gitpoll_head *heads, size_t n,
		   struct errbuf *eb);
/*
 * The commits reachable from head but not from old ("" or a commit the
 * mirror lacks: just head), oldest first, at most GITPOLL_MAX_NEW of the
 * newest; *skipped says how many older ones were left out.
 */
rc_t gitpoll_new_commits(const struct gitpoll_dir *m, const char *head,
			 const char *old, struct gitpoll_commit **out,
			 size_t *n, size_t *skipped, struct errbuf *eb);

#endif
