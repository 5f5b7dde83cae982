/* gitpoll.c - branch heads and new commits through git (see gitpoll.h). */
#include "gitpoll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "gitcmd.h"
#include "xalloc.h"

#define LS_OUTPUT_MAX (4 << 20)
#define LOG_OUTPUT_MAX (4 << 20)
#define SMALL_OUTPUT_MAX 4096

static int is_hash(const char *s, size_t len)
{
	return len == GITPOLL_HASH_LEN &&
	       strspn(s, "0123456789abcdef") >= GITPOLL_HASH_LEN;
}

/* ---- parsing ---- */

/* "refs/heads/B" of a line's ref, if it is one: the branch, else NULL. */
static const char *branch_of(const char *ref)
{
	return strncmp(ref, "refs/heads/", 11) ? NULL : ref + 11;
}

/* One line of ls-remote: "HASH\tREF" or "ref: TARGET\tHEAD". */
struct ls_line {
	char hash[GITPOLL_HASH_LEN + 1];
	char ref[GITPOLL_BRANCH_MAX + 16];
	char symref[GITPOLL_BRANCH_MAX + 16]; /* HEAD's target, or "" */
};

static int parse_ls_line(const char *line, size_t len, struct ls_line *l)
{
	const char *tab = memchr(line, '\t', len);
	size_t rlen;

	memset(l, 0, sizeof *l);
	if (!tab || (rlen = len - (size_t)(tab + 1 - line)) >= sizeof l->ref)
		return -1;
	memcpy(l->ref, tab + 1, rlen);
	if (len > 5 && !strncmp(line, "ref: ", 5)) {
		size_t slen = (size_t)(tab - line) - 5;

		if (slen >= sizeof l->symref)
			return -1;
		memcpy(l->symref, line + 5, slen);
		return 0;
	}
	if (!is_hash(line, (size_t)(tab - line)))
		return -1;
	memcpy(l->hash, line, GITPOLL_HASH_LEN);
	return 0;
}

static void add_head(struct gitpoll_head **out, size_t *n, size_t *cap,
		     const char *branch, const char *hash)
{
	struct gitpoll_head *h = xarray_push(out, n, cap, sizeof **out);

	snprintf(h->branch, sizeof h->branch, "%s", branch);
	snprintf(h->hash, sizeof h->hash, "%s", hash);
}

/* The wanted branches' heads, in the order of branches. */
static void pick_named(const struct ls_line *v, size_t nv,
		       const char *const *branches, size_t n,
		       struct gitpoll_head **out, size_t *n_out, size_t *cap)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nv; k++) {
			const char *b = branch_of(v[k].ref);

			if (v[k].hash[0] && b && !strcmp(b, branches[i])) {
				add_head(out, n_out, cap, b, v[k].hash);
				break;
			}
		}
}

/* The branch HEAD names, with HEAD's hash. */
static void pick_default(const struct ls_line *v, size_t nv,
			 struct gitpoll_head **out, size_t *n_out, size_t *cap)
{
	const char *branch = NULL, *hash = NULL;

	for (size_t k = 0; k < nv; k++) {
		if (strcmp(v[k].ref, "HEAD"))
			continue;
		if (v[k].symref[0])
			branch = branch_of(v[k].symref);
		else
			hash = v[k].hash;
	}
	if (branch && hash && *branch && strlen(branch) < GITPOLL_BRANCH_MAX)
		add_head(out, n_out, cap, branch, hash);
}

rc_t gitpoll_parse_heads(const char *text, const char *const *branches,
			 size_t n, struct gitpoll_head **out, size_t *n_out)
{
	struct ls_line *v = NULL;
	size_t nv = 0, cap = 0, ocap = 0;
	const char *p = text;

	*out = NULL;
	*n_out = 0;
	while (*p) {
		size_t len = strcspn(p, "\n");
		struct ls_line l;

		if (!parse_ls_line(p, len, &l))
			*(struct ls_line *)xarray_push(&v, &nv, &cap, sizeof *v) = l;
		p += len + (p[len] == '\n');
	}
	if (n)
		pick_named(v, nv, branches, n, out, n_out, &ocap);
	else
		pick_default(v, nv, out, n_out, &ocap);
	free(v);
	return RC_OK;
}

/* Split a record at unit separators into at most n fields. */
static size_t fields(char *rec, char **f, size_t n)
{
	size_t k = 0;

	while (k < n) {
		f[k++] = rec;
		rec = strchr(rec, '\x1f');
		if (!rec)
			break;
		*rec++ = '\0';
	}
	return k;
}

static int parse_record(char *rec, struct gitpoll_commit *c)
{
	char *f[5], *end;
	long long t;

	while (*rec == '\n')
		rec++;
	if (fields(rec, f, 5) != 5 || !is_hash(f[0], strlen(f[0])))
		return -1;
	t = strtoll(f[3], &end, 10);
	if (*end || t < 0)
		return -1;
	memcpy(c->hash, f[0], GITPOLL_HASH_LEN + 1);
	c->parents = xstrdup(f[1]);
	c->author = xstrdup(f[2]);
	c->time_ms = (int64_t)t * 1000;
	c->subject = xstrdup(f[4]);
	return 0;
}

rc_t gitpoll_parse_log(const char *text, struct gitpoll_commit **out,
		       size_t *n)
{
	char *copy = xstrdup(text), *rec = copy, *sep;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	while (*rec) {
		struct gitpoll_commit c = {0};

		sep = strchr(rec, '\x1e');
		if (sep)
			*sep = '\0';
		if (!parse_record(rec, &c))
			*(struct gitpoll_commit *)xarray_push(out, n, &cap,
							      sizeof **out) = c;
		if (!sep)
			break;
		rec = sep + 1;
	}
	free(copy);
	return RC_OK;
}

void gitpoll_commits_free(struct gitpoll_commit **c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((*c)[i].parents);
		free((*c)[i].author);
		free((*c)[i].subject);
	}
	free(*c);
	*c = NULL;
}

/* ---- running git ---- */

rc_t gitpoll_mirror_init(const struct gitpoll_dir *m, struct errbuf *eb)
{
	char *head = xasprintf("%s/HEAD", m->path);
	const char *args[] = {"git", "init", "-q", "--bare", "--", m->path, NULL};
	struct stat st;
	rc_t rc = RC_OK;

	if (stat(head, &st))
		rc = git_run("/", "init", args, GITPOLL_LS_TIMEOUT_MS, m->cancel,
			     NULL, eb);
	free(head);
	return rc;
}

rc_t gitpoll_heads(const struct gitpoll_dir *m, const char *url,
		   const char *const *branches, size_t n,
		   struct gitpoll_head **out, size_t *n_out, struct errbuf *eb)
{
	/* "--" ends the options: a URL cannot become one. Only heads and
	 * HEAD are asked for, not every tag of a large repository. */
	const char *args[] = {"git", "ls-remote", "--symref", "--", url, "HEAD",
			      "refs/heads/*", NULL};
	struct buf text;
	rc_t rc;

	buf_init(&text, 0, LS_OUTPUT_MAX);
	rc = git_run(m->path, "ls-remote", args, GITPOLL_LS_TIMEOUT_MS, m->cancel, &text, eb);
	if (!rc)
		rc = gitpoll_parse_heads(buf_cstr(&text), branches, n, out, n_out);
	buf_free(&text);
	return rc;
}

/* fetch url's heads into the mirror, each named by hash (by_hash) or by
 * its branch. */
static rc_t fetch(const struct gitpoll_dir *m, const char *url,
		  const struct gitpoll_head *heads, size_t n, int by_hash,
		  struct errbuf *eb)
{
	const char *fixed[] = {"git", "fetch", "-q", "--no-tags",
			       "--no-write-fetch-head", "--", url};
	size_t nf = sizeof fixed / sizeof fixed[0];
	const char **args = xcalloc(nf + n + 1, sizeof *args);
	char **specs = xcalloc(n + 1, sizeof *specs);
	rc_t rc;

	memcpy(args, fixed, sizeof fixed);
	for (size_t i = 0; i < n; i++) {
		specs[i] = by_hash ? xasprintf("+%s:refs/heads/%s", heads[i].hash,
					       heads[i].branch)
				   : xasprintf("+refs/heads/%s:refs/heads/%s",
					       heads[i].branch, heads[i].branch);
		args[nf + i] = specs[i];
	}
	rc = git_run(m->path, "fetch", args, GITPOLL_FETCH_TIMEOUT_MS, m->cancel, NULL, eb);
	for (size_t i = 0; i < n; i++)
		free(specs[i]);
	free(specs);
	free(args);
	return rc;
}

rc_t gitpoll_fetch(const struct gitpoll_dir *m, const char *url,
		   const struct gitpoll_head *heads, size_t n,
		   struct errbuf *eb)
{
	/* By hash: exactly what ls-remote said, not what the branch became
	 * since. A server that refuses wants by hash (protocol v0 without
	 * allowReachableSHA1InWant) gets the branches by name. */
	rc_t rc = fetch(m, url, heads, n, 1, eb);

	if (rc == RC_IO)
		rc = fetch(m, url, heads, n, 0, eb);
	return rc;
}

/* Whether the mirror has commit hash. */
static int have_commit(const struct gitpoll_dir *m, const char *hash)
{
	char *obj = xasprintf("%s^{commit}", hash);
	const char *args[] = {"git", "cat-file", "-e", obj, NULL};
	struct errbuf eb = {""};
	rc_t rc = git_run(m->path, "cat-file", args, GITPOLL_LS_TIMEOUT_MS, m->cancel, NULL,
			  &eb);

	free(obj);
	return rc == RC_OK;
}

/* How many commits head has that old has not. */
static rc_t count_new(const struct gitpoll_dir *m, const char *head, const char *not,
		      size_t *count, struct errbuf *eb)
{
	const char *args[] = {"git", "rev-list", "--count", head, not, NULL};
	struct buf text;
	rc_t rc;

	buf_init(&text, 0, SMALL_OUTPUT_MAX);
	rc = git_run(m->path, "rev-list", args, GITPOLL_LS_TIMEOUT_MS, m->cancel, &text, eb);
	if (!rc)
		*count = (size_t)strtoull(buf_cstr(&text), NULL, 10);
	buf_free(&text);
	return rc;
}

static void reverse(struct gitpoll_commit *c, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		struct gitpoll_commit t = c[i];

		c[i] = c[n - 1 - i];
		c[n - 1 - i] = t;
	}
}

rc_t gitpoll_new_commits(const struct gitpoll_dir *m, const char *head,
			 const char *old, struct gitpoll_commit **out,
			 size_t *n, size_t *skipped, struct errbuf *eb)
{
	int ranged = old && *old && have_commit(m, old);
	char *not = ranged ? xasprintf("^%s", old) : NULL;
	char max[32];
	const char *args[] = {"git", "log", "--no-color", "--topo-order",
			      max, "--format=" GITPOLL_LOG_FORMAT, head, not,
			      NULL};
	struct buf text;
	size_t total = 1;
	rc_t rc = RC_OK;

	*out = NULL;
	*n = *skipped = 0;
	snprintf(max, sizeof max, "--max-count=%d", ranged ? GITPOLL_MAX_NEW : 1);
	if (ranged)
		rc = count_new(m, head, not, &total, eb);
	buf_init(&text, 0, LOG_OUTPUT_MAX);
	if (!rc)
		rc = git_run(m->path, "log", args, GITPOLL_LS_TIMEOUT_MS, m->cancel, &text, eb);
	if (!rc)
		rc = gitpoll_parse_log(buf_cstr(&text), out, n);
	if (!rc) {
		reverse(*out, *n);
		*skipped = total > *n ? total - *n : 0;
	}
	buf_free(&text);
	free(not);
	return rc;
}
