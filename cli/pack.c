/*
 * pack.c - a source directory to a deterministic .tar.gz (see pack.h).
 *
 * Two passes: the walk lstat()s the tree into a list of entries (so every
 * special file and the size limit are refused before a byte is written),
 * then the list is sorted by path and written through libarchive, whose
 * output goes through one callback that writes, hashes and counts it.
 * Sorting the whole list, rather than each directory, is what makes the
 * order independent of readdir(); a parent still comes before its
 * children because a path sorts before every path it is a prefix of.
 */
#include "pack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "fsutil.h"
#include "sha256.h"
#include "xalloc.h"

/* .rfarmignore is a short list of patterns, not a data file. */
#define IGNORE_FILE_MAX (1u << 20)
/* File contents go into the archive this many bytes at a time. */
#define COPY_CHUNK (64u << 10)

/* One .rfarmignore pattern. */
struct ignore_rule {
	char *pat;    /* fnmatch pattern, without leading or trailing '/' */
	int anchored; /* had a '/': matched against the whole relative path */
	int dir_only; /* had a trailing '/': matches directories only */
};

/* One path to pack, found by the walk. */
struct entry {
	char *path;   /* relative to the packed directory, no leading "./" */
	mode_t mode;  /* file type and permission bits from lstat */
	int64_t size; /* bytes of a regular file, else 0 */
	char *link;   /* target of a symbolic link, else NULL */
};

/* The walk over the tree and what it collected. */
struct walk {
	const char *root;           /* the directory being packed */
	struct ignore_rule *rules;  /* .rfarmignore patterns */
	size_t nrules, caprules;    /* in use, allocated */
	struct entry *ents;         /* what will be packed, unsorted */
	size_t nents, capents;      /* in use, allocated */
	int64_t total;              /* bytes of regular files so far */
	dev_t out_dev;              /* the archive being written: never packed */
	ino_t out_ino;              /* (its inode number) */
};

/* Where libarchive's output goes: the file, the hash and the count. */
struct sink {
	int fd;                 /* the output file */
	struct sha256_ctx *sha; /* running digest of everything written */
	int64_t size;           /* bytes written */
};

/* ---- .rfarmignore ---- */

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (end > s && strchr(" \t\r", end[-1]))
		*--end = '\0';
	return s;
}

/* Parse one line; blank lines and comments add nothing. */
static rc_t ignore_line(struct walk *w, char *line, int lineno,
			struct errbuf *eb)
{
	char *p = trim(line);
	size_t n = strlen(p);
	struct ignore_rule *r;
	int dir_only = 0;

	if (n == 0 || p[0] == '#')
		return RC_OK;
	if (p[0] == '!') {
		errbuf_set(eb, "%s line %d: '%s': negation (!) is not "
			   "supported", PACK_IGNORE_FILE, lineno, p);
		return RC_INVALID;
	}
	while (n > 0 && p[n - 1] == '/') {
		p[--n] = '\0';
		dir_only = 1;
	}
	if (n == 0)
		return RC_OK; /* "/" alone would ignore everything: skip it */
	r = xarray_push(&w->rules, &w->nrules, &w->caprules, sizeof *r);
	r->anchored = strchr(p, '/') != NULL;
	r->dir_only = dir_only;
	r->pat = xstrdup(p[0] == '/' ? p + 1 : p);
	return RC_OK;
}

/* Read DIR/.rfarmignore if there is one. */
static rc_t ignore_load(struct walk *w, struct errbuf *eb)
{
	char *path = xasprintf("%s/%s", w->root, PACK_IGNORE_FILE);
	struct errbuf readerr = {""};
	char *text = NULL, *line, *save = NULL;
	int lineno = 0;
	rc_t rc;

	rc = fs_read_all(path, IGNORE_FILE_MAX, &text, NULL, &readerr);
	if (rc == RC_NOT_FOUND) {
		rc = RC_OK;
		goto out;
	}
	if (rc) {
		errbuf_set(eb, "%s", readerr.msg);
		goto out;
	}
	/* strtok_r would merge empty lines and shift the line numbers. */
	for (line = text; line && !rc; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		rc = ignore_line(w, line, ++lineno, eb);
	}
out:
	free(text);
	free(path);
	return rc;
}

/* 1 if rel (whose last component is base) is left out by a rule. */
static int ignore_match(const struct walk *w, const char *rel,
			const char *base, int is_dir)
{
	size_t i;

	for (i = 0; i < w->nrules; i++) {
		const struct ignore_rule *r = &w->rules[i];

		if (r->dir_only && !is_dir)
			continue;
		if (r->anchored ? !fnmatch(r->pat, rel, FNM_PATHNAME)
				: !fnmatch(r->pat, base, 0))
			return 1;
	}
	return 0;
}

/* ---- the walk ---- */

static const char *type_name(mode_t m)
{
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISFIFO(m))
		return "a fifo";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	return "not a regular file, directory or symbolic link";
}

static rc_t read_link(const char *full, const struct stat *st, char **out,
		      struct errbuf *eb)
{
	size_t cap = st->st_size > 0 ? (size_t)st->st_size + 1 : 256;
	char *t = NULL;
	ssize_t n;

	for (;;) {
		t = xrealloc(t, cap);
		n = readlink(full, t, cap);
		if (n < 0) {
			errbuf_set(eb, "readlink %s: %s", full, strerror(errno));
			free(t);
			return RC_IO;
		}
		if ((size_t)n < cap)
			break;
		cap *= 2; /* the link changed since lstat: try again */
	}
	t[n] = '\0';
	*out = t;
	return RC_OK;
}

/* Record one path that is not ignored. */
static rc_t entry_add(struct walk *w, const char *rel, const char *full,
		      const struct stat *st, struct errbuf *eb)
{
	struct entry *e;
	char *link = NULL;

	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode) &&
	    !S_ISLNK(st->st_mode)) {
		errbuf_set(eb, "%s is %s: only regular files, directories and "
			   "symbolic links can be sent (list it in %s to leave "
			   "it out)", full, type_name(st->st_mode),
			   PACK_IGNORE_FILE);
		return RC_INVALID;
	}
	if (S_ISREG(st->st_mode)) {
		w->total += st->st_size;
		if (w->total > PACK_MAX_BYTES) {
			errbuf_set(eb, "%s holds more than 2 GiB of files "
				   "(reached at %s); list what the build does "
				   "not need in %s", w->root, full,
				   PACK_IGNORE_FILE);
			return RC_TOO_LARGE;
		}
	}
	if (S_ISLNK(st->st_mode) && read_link(full, st, &link, eb))
		return RC_IO;
	e = xarray_push(&w->ents, &w->nents, &w->capents, sizeof *e);
	e->path = xstrdup(rel);
	e->mode = st->st_mode;
	e->size = S_ISREG(st->st_mode) ? st->st_size : 0;
	e->link = link;
	return RC_OK;
}

static rc_t walk_dir(struct walk *w, const char *rel, struct errbuf *eb);

/* One name found in the directory rel. */
static rc_t walk_name(struct walk *w, const char *rel, const char *name,
		      struct errbuf *eb)
{
	char *crel = *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
	char *full = xasprintf("%s/%s", w->root, crel);
	struct stat st;
	rc_t rc = RC_OK;

	if (lstat(full, &st) < 0) {
		errbuf_set(eb, "lstat %s: %s", full, strerror(errno));
		rc = RC_IO;
		goto out;
	}
	if (st.st_dev == w->out_dev && st.st_ino == w->out_ino)
		goto out;
	if (ignore_match(w, crel, name, S_ISDIR(st.st_mode)))
		goto out;
	rc = entry_add(w, crel, full, &st, eb);
	if (rc == RC_OK && S_ISDIR(st.st_mode))
		rc = walk_dir(w, crel, eb);
out:
	free(full);
	free(crel);
	return rc;
}

/* Every name in the directory rel ("" for the top). */
static rc_t walk_dir(struct walk *w, const char *rel, struct errbuf *eb)
{
	char *full = *rel ? xasprintf("%s/%s", w->root, rel) : xstrdup(w->root);
	DIR *d = opendir(full);
	struct dirent *de;
	rc_t rc = RC_OK;

	if (!d) {
		errbuf_set(eb, "cannot open directory %s: %s", full,
			   strerror(errno));
		rc = RC_IO;
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = walk_name(w, rel, de->d_name, eb);
		if (rc)
			goto out;
	}
	if (errno) {
		errbuf_set(eb, "read directory %s: %s", full, strerror(errno));
		rc = RC_IO;
	}
out:
	if (d)
		closedir(d);
	free(full);
	return rc;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path,
		      ((const struct entry *)b)->path);
}

static void walk_free(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->nrules; i++)
		free(w->rules[i].pat);
	free(w->rules);
	for (i = 0; i < w->nents; i++) {
		free(w->ents[i].path);
		free(w->ents[i].link);
	}
	free(w->ents);
}

/* ---- writing ---- */

static la_ssize_t on_write(struct archive *a, void *ud, const void *p,
			   size_t n)
{
	struct sink *s = ud;
	const char *c = p;
	size_t left = n;

	while (left) {
		ssize_t k = write(s->fd, c, left);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			archive_set_error(a, errno, "%s", strerror(errno));
			return -1;
		}
		c += k;
		left -= (size_t)k;
	}
	sha256_update(s->sha, p, n);
	s->size += (int64_t)n;
	return (la_ssize_t)n;
}

/* Copy the contents of a regular file; exactly e->size bytes or fail. */
static rc_t copy_file(struct archive *a, const char *full,
		      const struct entry *e, char *chunk, struct errbuf *eb)
{
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int64_t left = e->size;
	rc_t rc = RC_IO;

	if (fd < 0) {
		errbuf_set(eb, "open %s: %s", full, strerror(errno));
		return RC_IO;
	}
	while (left > 0) {
		size_t want = left < COPY_CHUNK ? (size_t)left : COPY_CHUNK;
		ssize_t n = read(fd, chunk, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errbuf_set(eb, "read %s: %s", full, strerror(errno));
			goto out;
		}
		if (n == 0) {
			errbuf_set(eb, "%s changed while it was packed", full);
			goto out;
		}
		if (archive_write_data(a, chunk, (size_t)n) != n) {
			errbuf_set(eb, "writing the archive: %s",
				   archive_error_string(a));
			goto out;
		}
		left -= n;
	}
	rc = RC_OK;
out:
	close(fd);
	return rc;
}

/* One header, then the contents of a regular file. */
static rc_t write_entry(struct archive *a, struct archive_entry *ae,
			const struct walk *w, const struct entry *e,
			char *chunk, struct errbuf *eb)
{
	char *full = xasprintf("%s/%s", w->root, e->path);
	rc_t rc = RC_OK;
	int r;

	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, e->path);
	archive_entry_set_filetype(ae, e->mode & S_IFMT);
	/* Permissions as they are; setuid/setgid/sticky mean nothing to a
	 * build and would only surprise the buildlet. */
	archive_entry_set_perm(ae, e->mode & 0777);
	archive_entry_set_size(ae, e->size);
	archive_entry_set_mtime(ae, 0, 0);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	if (e->link)
		archive_entry_set_symlink(ae, e->link);
	r = archive_write_header(a, ae);
	if (r < ARCHIVE_WARN) {
		errbuf_set(eb, "adding %s to the archive: %s", full,
			   archive_error_string(a));
		rc = RC_IO;
	} else if (S_ISREG(e->mode)) {
		rc = copy_file(a, full, e, chunk, eb);
	}
	free(full);
	return rc;
}

/* Set up a gzip'd pax writer whose output goes to the sink. */
static struct archive *writer_new(struct sink *s, struct errbuf *eb)
{
	struct archive *a = archive_write_new();

	if (!a) {
		errbuf_set(eb, "cannot start libarchive");
		return NULL;
	}
	/* pax_restricted writes plain ustar headers and adds pax records
	 * only for what ustar cannot hold (long names and link targets);
	 * "!timestamp" keeps the time out of the gzip header; a last
	 * block of 1 byte means no zeros padded after the gzip stream. */
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_options(a, "gzip:!timestamp") != ARCHIVE_OK ||
	    archive_write_open(a, s, NULL, on_write, NULL) != ARCHIVE_OK) {
		errbuf_set(eb, "cannot start the archive: %s",
			   archive_error_string(a));
		archive_write_free(a);
		return NULL;
	}
	return a;
}

/* Write every entry, in order, then close the archive. */
static rc_t write_archive(const struct walk *w, struct sink *s,
			  struct errbuf *eb)
{
	struct archive *a = writer_new(s, eb);
	struct archive_entry *ae = archive_entry_new();
	char *chunk = xmalloc(COPY_CHUNK);
	size_t i;
	rc_t rc = RC_IO;

	if (!a || !ae)
		goto out;
	for (i = 0; i < w->nents; i++)
		if ((rc = write_entry(a, ae, w, &w->ents[i], chunk, eb)))
			goto out;
	if (archive_write_close(a) != ARCHIVE_OK) {
		errbuf_set(eb, "finishing the archive: %s",
			   archive_error_string(a));
		rc = RC_IO;
		goto out;
	}
	rc = RC_OK;
out:
	free(chunk);
	if (ae)
		archive_entry_free(ae);
	if (a)
		archive_write_free(a);
	return rc;
}

rc_t pack_dir(const char *dir, const char *out_path, char sha_hex[65],
	      int64_t *size, struct errbuf *eb)
{
	struct walk w = {.root = dir};
	struct sink s = {.fd = -1};
	struct stat st;
	rc_t rc = RC_IO;

	sha_hex[0] = '\0';
	*size = 0;
	s.fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s.fd < 0 || fstat(s.fd, &st) < 0) {
		errbuf_set(eb, "create %s: %s", out_path, strerror(errno));
		goto out;
	}
	w.out_dev = st.st_dev;
	w.out_ino = st.st_ino;
	if (stat(dir, &st) < 0) {
		errbuf_set(eb, "cannot use %s: %s", dir, strerror(errno));
		rc = RC_INVALID;
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		errbuf_set(eb, "%s is not a directory", dir);
		rc = RC_INVALID;
		goto out;
	}
	if ((rc = ignore_load(&w, eb)) || (rc = walk_dir(&w, "", eb)))
		goto out;
	qsort(w.ents, w.nents, sizeof *w.ents, entry_cmp);
	s.sha = sha256_new();
	if ((rc = write_archive(&w, &s, eb)))
		goto out;
	if (close(s.fd) < 0) {
		s.fd = -1;
		errbuf_set(eb, "write %s: %s", out_path, strerror(errno));
		rc = RC_IO;
		goto out;
	}
	s.fd = -1;
	sha256_final_hex(&s.sha, sha_hex);
	*size = s.size;
out:
	if (s.sha)
		sha256_final_hex(&s.sha, sha_hex); /* only frees it */
	if (rc)
		sha_hex[0] = '\0';
	if (s.fd >= 0)
		close(s.fd);
	walk_free(&w);
	return rc;
}
