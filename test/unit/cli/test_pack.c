/*
 * test_pack.c - unit tests of `rfarm submit --src`: pack_dir (pack.h) and
 * the request it leads to (cli_submit_request_src, cli_submit_source_set).
 *
 * Real trees are made under a temporary directory, packed, and read back
 * with libarchive's reader: the digest must not depend on the order files
 * were created in, the entries must be sorted and carry no time or owner,
 * .rfarmignore must leave out exactly what its rules say (a table), and
 * special files and oversized trees must be refused by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "cli.h"
#include "fsutil.h"
#include "pack.h"
#include "sha256.h"
#include "xalloc.h"

/* ---- helpers ---- */

/* A scratch directory for one test, removed at the end. */
struct scratch {
	char root[64]; /* /tmp/rfarm-pack.XXXXXX */
	char *out;     /* root/out.tar.gz: the archive, outside the trees */
};

static int scratch_setup(void **state)
{
	struct scratch *s = xcalloc(1, sizeof *s);

	snprintf(s->root, sizeof s->root, "/tmp/rfarm-pack.XXXXXX");
	if (!mkdtemp(s->root)) {
		free(s);
		return -1;
	}
	s->out = xasprintf("%s/out.tar.gz", s->root);
	*state = s;
	return 0;
}

static int scratch_teardown(void **state)
{
	struct scratch *s = *state;
	struct errbuf eb = {""};

	fs_remove_tree(s->root, &eb);
	free(s->out);
	free(s);
	return 0;
}

/* root/rel as a new string. */
static char *path_in(const char *root, const char *rel)
{
	return xasprintf("%s/%s", root, rel);
}

/* Make the directories above root/rel. */
static void make_parents(const char *root, const char *rel)
{
	char *p = path_in(root, rel), *slash = strrchr(p, '/');
	struct errbuf eb = {""};

	*slash = '\0';
	assert_int_equal(fs_mkdirs(p, 0755, &eb), RC_OK);
	free(p);
}

/* Write root/rel with the given contents and permission bits. */
static void make_file(const char *root, const char *rel, const char *text,
		      mode_t mode)
{
	char *p = path_in(root, rel);
	FILE *f;

	make_parents(root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

static void make_dir(const char *root, const char *rel)
{
	char *p = path_in(root, rel);
	struct errbuf eb = {""};

	assert_int_equal(fs_mkdirs(p, 0755, &eb), RC_OK);
	free(p);
}

static void make_link(const char *root, const char *rel, const char *target)
{
	char *p = path_in(root, rel);

	make_parents(root, rel);
	assert_int_equal(symlink(target, p), 0);
	free(p);
}

/* What the reader found in one entry. */
struct got {
	char *name;      /* pathname as stored */
	mode_t type;     /* AE_IFREG, AE_IFDIR, AE_IFLNK */
	mode_t perm;     /* permission bits */
	char *link;      /* symlink target or NULL */
	char *data;      /* contents of a regular file (NUL-terminated) */
	int64_t mtime;   /* stored modification time */
	int64_t uid;     /* stored owner */
	int64_t gid;     /* stored group */
	int has_names;   /* an owner or group name was stored */
};

/* Everything in an archive, in order. */
struct listing {
	struct got *e; /* entries */
	size_t n, cap; /* in use, allocated */
};

static int empty(const char *s)
{
	return !s || !*s;
}

static void got_read_data(struct archive *a, struct got *g, int64_t size)
{
	size_t off = 0;
	la_ssize_t r;

	g->data = xcalloc(1, (size_t)size + 1);
	while ((r = archive_read_data(a, g->data + off, (size_t)size - off)) > 0)
		off += (size_t)r;
	assert_true(r >= 0);
	assert_int_equal(off, (size_t)size);
}

static void listing_read(const char *path, struct listing *l)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int r;

	memset(l, 0, sizeof *l);
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		struct got *g = xarray_push(&l->e, &l->n, &l->cap, sizeof *g);

		g->name = xstrdup(archive_entry_pathname(ae));
		g->type = archive_entry_filetype(ae);
		g->perm = archive_entry_perm(ae);
		if (archive_entry_symlink(ae))
			g->link = xstrdup(archive_entry_symlink(ae));
		g->mtime = archive_entry_mtime(ae);
		g->uid = archive_entry_uid(ae);
		g->gid = archive_entry_gid(ae);
		g->has_names = !empty(archive_entry_uname(ae)) ||
			       !empty(archive_entry_gname(ae));
		if (g->type == AE_IFREG)
			got_read_data(a, g, archive_entry_size(ae));
	}
	assert_int_equal(r, ARCHIVE_EOF);
	archive_read_free(a);
}

static void listing_free(struct listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->e[i].name);
		free(l->e[i].link);
		free(l->e[i].data);
	}
	free(l->e);
}

static const struct got *listing_find(const struct listing *l,
				      const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].name, name))
			return &l->e[i];
	return NULL;
}

/* Pack dir into s->out and expect success. */
static void pack_ok(struct scratch *s, const char *dir, char *sha,
		    int64_t *size)
{
	struct errbuf eb = {""};
	rc_t rc = pack_dir(dir, s->out, sha, size, &eb);

	if (rc)
		print_error("pack_dir: %s\n", eb.msg);
	assert_int_equal(rc, RC_OK);
}

/* ---- determinism ---- */

/* The same tree, written in two orders. */
static const char *const tree_files[] = {
	"zeta.c", "alpha.c", "src/b.c", "src/a.c", "src/deep/x.h", "Makefile",
	"a.txt", "a/inner.txt",
};
#define NFILES (sizeof tree_files / sizeof tree_files[0])

static void tree_make(const char *root, int reverse)
{
	size_t i;

	for (i = 0; i < NFILES; i++) {
		const char *f = tree_files[reverse ? NFILES - 1 - i : i];

		make_file(root, f, f, 0644);
	}
	if (reverse)
		make_link(root, "src/link", "a.c");
	make_dir(root, "empty");
	if (!reverse)
		make_link(root, "src/link", "a.c");
}

static void test_deterministic(void **state)
{
	struct scratch *s = *state;
	char *one = path_in(s->root, "one"), *two = path_in(s->root, "two");
	char sha1[65], sha2[65], sha3[65], check[65];
	int64_t size1, size2, size3;
	unsigned char hdr[10];
	char *data;
	size_t len;
	struct errbuf eb = {""};

	tree_make(one, 0);
	tree_make(two, 1);
	pack_ok(s, one, sha1, &size1);
	/* The reported digest and size are those of the file written. */
	assert_int_equal(fs_read_all(s->out, 0, &data, &len, &eb), RC_OK);
	sha256_hex(data, len, check);
	assert_string_equal(sha1, check);
	assert_int_equal(size1, (int64_t)len);
	/* A gzip header without a time and without a file name. */
	assert_true(len > sizeof hdr);
	memcpy(hdr, data, sizeof hdr);
	/* The file ends with the gzip trailer's length (a tar is at least
	 * 10240 bytes), not with zeros padding it to a block. */
	assert_int_not_equal(data[len - 1] | data[len - 2] | data[len - 3] |
			     data[len - 4], 0);
	free(data);
	assert_int_equal(hdr[0], 0x1f);
	assert_int_equal(hdr[1], 0x8b);
	assert_int_equal(hdr[3] & 0x08, 0); /* FNAME */
	assert_int_equal(hdr[4] | hdr[5] | hdr[6] | hdr[7], 0); /* MTIME */

	pack_ok(s, two, sha2, &size2);
	assert_string_equal(sha1, sha2);
	assert_int_equal(size1, size2);
	/* Touching a file changes nothing; changing a byte changes it. */
	assert_int_equal(utimensat(AT_FDCWD, two, NULL, 0), 0);
	pack_ok(s, two, sha3, &size3);
	assert_string_equal(sha1, sha3);
	make_file(two, "src/a.c", "src/a.C", 0644);
	pack_ok(s, two, sha3, &size3);
	assert_string_not_equal(sha1, sha3);
	free(one);
	free(two);
}

/* ---- contents ---- */

static void test_contents(void **state)
{
	struct scratch *s = *state;
	/* strcmp order of the paths (upper case first; "a" before
	 * "a.txt" before "a/..."); directories are stored with a '/'. */
	static const char *const want[] = {
		"Makefile", "a/", "a.txt", "a/inner.txt", "alpha.c", "bin/",
		"bin/run", "bin/setuid", "empty/", "src/", "src/a.c",
		"src/b.c", "src/deep/", "src/deep/x.h", "src/link", "zeta.c",
	};
	char *dir = path_in(s->root, "tree");
	struct listing l;
	const struct got *g;
	char sha[65];
	int64_t size;
	size_t i;

	tree_make(dir, 0);
	make_file(dir, "bin/run", "#!/bin/sh\n", 0755);
	make_file(dir, "bin/setuid", "x", 04755);
	pack_ok(s, dir, sha, &size);
	listing_read(s->out, &l);
	assert_int_equal(l.n, sizeof want / sizeof want[0]);
	for (i = 0; i < l.n; i++)
		assert_string_equal(l.e[i].name, want[i]);
	for (i = 0; i < l.n; i++) {
		assert_int_equal(l.e[i].mtime, 0);
		assert_int_equal(l.e[i].uid, 0);
		assert_int_equal(l.e[i].gid, 0);
		assert_false(l.e[i].has_names);
		assert_true(l.e[i].name[0] != '/' &&
			    strncmp(l.e[i].name, "./", 2));
	}
	g = listing_find(&l, "src/deep/x.h");
	assert_non_null(g);
	assert_int_equal(g->type, AE_IFREG);
	assert_int_equal(g->perm, 0644);
	assert_string_equal(g->data, "src/deep/x.h");
	g = listing_find(&l, "bin/run");
	assert_int_equal(g->perm, 0755);
	assert_string_equal(g->data, "#!/bin/sh\n");
	g = listing_find(&l, "bin/setuid");
	assert_int_equal(g->perm, 0755); /* setuid dropped */
	g = listing_find(&l, "src/link");
	assert_int_equal(g->type, AE_IFLNK);
	assert_string_equal(g->link, "a.c");
	g = listing_find(&l, "empty/");
	assert_int_equal(g->type, AE_IFDIR);
	assert_int_equal(g->perm, 0755);
	listing_free(&l);
	free(dir);
}

/* Long names and link targets do not fit ustar: pax records carry them,
 * still without any time or owner. */
static void test_long_names(void **state)
{
	struct scratch *s = *state;
	char *dir = path_in(s->root, "tree"), name[304], target[200];
	struct listing l;
	char sha[65];
	int64_t size;

	/* Three components of 100 characters: past ustar's 255. */
	memset(name, 'n', sizeof name - 1);
	name[100] = name[201] = '/';
	name[sizeof name - 1] = '\0';
	memset(target, 't', sizeof target);
	target[sizeof target - 1] = '\0';
	make_file(dir, name, "long", 0644);
	make_link(dir, "l", target);
	pack_ok(s, dir, sha, &size);
	listing_read(s->out, &l);
	/* "l", then two directories and the file. */
	assert_int_equal(l.n, 4);
	assert_string_equal(l.e[0].link, target);
	assert_string_equal(l.e[3].name, name);
	assert_string_equal(l.e[3].data, "long");
	assert_int_equal(l.e[3].mtime, 0);
	assert_int_equal(l.e[3].uid, 0);
	assert_false(l.e[3].has_names);
	listing_free(&l);
	free(dir);
}

/* ---- .rfarmignore ---- */

static const char ignore_text[] =
	"# build output\n"
	"*.o\n"
	"\n"
	"build/\n"
	"/top-only.txt\n"
	"docs/*.md\n"
	"   spaced.txt  \r\n"
	"logs\n"
	"/out/\n"
	"# *.c is only a comment\n";

struct ignore_case {
	const char *path; /* a file made in the tree */
	int included;     /* expected in the archive */
};

static const struct ignore_case ignore_cases[] = {
	{"main.c", 1},
	{".rfarmignore", 1},
	{"main.o", 0},                /* *.o at the top */
	{"sub/deep/x.o", 0},          /* ... and at any depth */
	{"main.o.txt", 1},            /* the whole name must match */
	{"build/out.bin", 0},         /* build/ is a directory */
	{"sub/build/y.bin", 0},       /* ... at any depth */
	{"lib/build", 1},             /* a file named build is not */
	{"top-only.txt", 0},          /* anchored: only at the top */
	{"sub/top-only.txt", 1},
	{"docs/a.md", 0},             /* "docs/ *.md" from the top */
	{"docs/readme.txt", 1},
	{"docs/sub/b.md", 1},         /* '*' does not cross '/' */
	{"other/docs/c.md", 1},       /* a slash anchors the pattern */
	{"spaced.txt", 0},            /* white space around is trimmed */
	{"logs/1.txt", 0},            /* no slash: a directory ... */
	{"sub/logs", 0},              /* ... or a file, anywhere */
	{"out/x", 0},                 /* /out/: the top directory */
	{"sub/out/x", 1},             /* ... only */
	{"# build output", 1},        /* comments are not patterns */
	{"keep.c", 1},
};

static void test_ignore(void **state)
{
	struct scratch *s = *state;
	char *dir = path_in(s->root, "tree");
	struct listing l;
	char sha[65];
	int64_t size;
	size_t i;

	make_file(dir, ".rfarmignore", ignore_text, 0644);
	for (i = 0; i < sizeof ignore_cases / sizeof ignore_cases[0]; i++)
		if (strcmp(ignore_cases[i].path, ".rfarmignore"))
			make_file(dir, ignore_cases[i].path, "x", 0644);
	pack_ok(s, dir, sha, &size);
	listing_read(s->out, &l);
	for (i = 0; i < sizeof ignore_cases / sizeof ignore_cases[0]; i++) {
		const struct ignore_case *c = &ignore_cases[i];
		int found = listing_find(&l, c->path) != NULL;

		if (found != c->included)
			fail_msg("%s: expected %s", c->path,
				 c->included ? "included" : "left out");
	}
	/* An ignored directory is left out itself, not only its files. */
	assert_null(listing_find(&l, "build/"));
	assert_null(listing_find(&l, "logs/"));
	assert_non_null(listing_find(&l, "docs/"));
	listing_free(&l);
	free(dir);
}

/* A .rfarmignore line pack_dir refuses, and what it says. */
struct bad_ignore_case {
	const char *text; /* the whole file */
	const char *want; /* expected in the error */
};

static const struct bad_ignore_case bad_ignore_cases[] = {
	{"*.o\n!keep.o\n", ".rfarmignore line 2: '!keep.o': negation"},
	{"\n\n  !x\n", "line 3"},
};

static void test_ignore_bad(void **state)
{
	struct scratch *s = *state;
	char *dir = path_in(s->root, "tree");
	char sha[65];
	int64_t size;
	size_t i;

	for (i = 0; i < sizeof bad_ignore_cases / sizeof bad_ignore_cases[0];
	     i++) {
		struct errbuf eb = {""};

		make_file(dir, ".rfarmignore", bad_ignore_cases[i].text, 0644);
		assert_int_equal(pack_dir(dir, s->out, sha, &size, &eb),
				 RC_INVALID);
		if (!strstr(eb.msg, bad_ignore_cases[i].want))
			fail_msg("error '%s' lacks '%s'", eb.msg,
				 bad_ignore_cases[i].want);
		assert_string_equal(sha, "");
	}
	free(dir);
}

/* ---- refusals ---- */

static void test_fifo(void **state)
{
	struct scratch *s = *state;
	char *dir = path_in(s->root, "tree"), *fifo;
	struct errbuf eb = {""};
	char sha[65];
	int64_t size;

	make_file(dir, "main.c", "int main(void){return 0;}\n", 0644);
	make_dir(dir, "run");
	fifo = path_in(dir, "run/pipe");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(pack_dir(dir, s->out, sha, &size, &eb), RC_INVALID);
	assert_non_null(strstr(eb.msg, fifo));
	assert_non_null(strstr(eb.msg, "is a fifo"));
	/* Left out by .rfarmignore, it is no problem. */
	make_file(dir, ".rfarmignore", "pipe\n", 0644);
	pack_ok(s, dir, sha, &size);
	free(fifo);
	free(dir);
}

static void test_too_large(void **state)
{
	struct scratch *s = *state;
	char *dir = path_in(s->root, "tree"), *big;
	struct errbuf eb = {""};
	char sha[65];
	int64_t size;
	int fd;

	make_file(dir, "small", "x", 0644);
	make_dir(dir, "data");
	big = path_in(dir, "data/big.img");
	/* Sparse: 2 GiB that take no disk; refused before it is read. */
	fd = open(big, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, PACK_MAX_BYTES), 0);
	close(fd);
	assert_int_equal(pack_dir(dir, s->out, sha, &size, &eb), RC_TOO_LARGE);
	assert_non_null(strstr(eb.msg, "more than 2 GiB"));
	free(big);
	free(dir);
}

static void test_not_a_dir(void **state)
{
	struct scratch *s = *state;
	char *file = path_in(s->root, "file"), *none = path_in(s->root, "none");
	struct errbuf eb = {""}, eb2 = {""};
	char sha[65];
	int64_t size;

	make_file(s->root, "file", "x", 0644);
	assert_int_equal(pack_dir(file, s->out, sha, &size, &eb), RC_INVALID);
	assert_non_null(strstr(eb.msg, "is not a directory"));
	assert_int_equal(pack_dir(none, s->out, sha, &size, &eb2), RC_INVALID);
	assert_non_null(strstr(eb2.msg, "No such file"));
	free(file);
	free(none);
}

/* The archive may be written inside the tree; it never packs itself. */
static void test_output_inside(void **state)
{
	struct scratch *s = *state;
	char *dir = path_in(s->root, "tree"), *out = path_in(dir, "src.tgz");
	struct errbuf eb = {""};
	struct listing l;
	char sha[65];
	int64_t size;

	make_file(dir, "a.c", "a", 0644);
	assert_int_equal(pack_dir(dir, out, sha, &size, &eb), RC_OK);
	listing_read(out, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.e[0].name, "a.c");
	listing_free(&l);
	free(out);
	free(dir);
}

/* ---- the request ---- */

static void test_request_src(void **state)
{
	char *argv[] = {"submit", "--platform", "linux/amd64", "--src",
			"proj", "--", "make", NULL};
	static const char sha[] = "0123456789abcdef0123456789abcdef"
				  "0123456789abcdef0123456789abcdef";
	struct cli_submit_flags flags;
	struct errbuf eb = {""};
	const char *src = NULL;
	json_t *req = NULL;
	char *text;

	(void)state;
	/* Without a place for the directory, --src is accepted and left
	 * out of the body. */
	assert_int_equal(cli_submit_request(7, argv, &req, &flags, &eb), RC_OK);
	assert_null(json_object_get(req, "source"));
	json_decref(req);
	assert_int_equal(cli_submit_request_src(7, argv, &req, &flags, &src,
						&eb), RC_OK);
	assert_non_null(src);
	assert_string_equal(src, "proj");
	assert_false(flags.wait);
	assert_null(json_object_get(req, "source"));
	assert_int_equal(cli_submit_source_set(req, sha, &eb), RC_OK);
	text = json_dumps(req, JSON_COMPACT);
	assert_string_equal(text,
		"{\"platforms\":[\"linux/amd64\"],\"env\":{},\"labels\":[],"
		"\"priority\":0,\"command\":[\"make\"],\"source\":{\"tarball\":"
		"\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
		"abcdef\"}}");
	free(text);
	json_decref(req);
}

/* Arguments and digests the source part refuses. */
static void test_request_src_bad(void **state)
{
	char *twice[] = {"submit", "--platform", "linux/amd64", "--src", "a",
			 "--src", "b", "--", "make", NULL};
	char *empty[] = {"submit", "--platform", "linux/amd64", "--src", "",
			 "--", "make", NULL};
	static const char *const bad_sha[] = {
		"", "0123", "0123456789ABCDEF0123456789abcdef"
			    "0123456789abcdef0123456789abcdef",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
	};
	struct errbuf eb = {""}, eb2 = {""};
	const char *src = "unset";
	json_t *req = NULL;
	size_t i;

	(void)state;
	assert_int_equal(cli_submit_request_src(9, twice, &req, NULL, &src,
						&eb), RC_INVALID);
	assert_string_equal(eb.msg, "give --src once");
	assert_null(src); /* nothing half-parsed is handed back */
	assert_int_equal(cli_submit_request_src(7, empty, &req, NULL, &src,
						&eb2), RC_INVALID);
	assert_string_equal(eb2.msg, "--src wants a directory, not ''");
	assert_null(req);
	req = json_object();
	for (i = 0; i < sizeof bad_sha / sizeof bad_sha[0]; i++) {
		struct errbuf e = {""};

		assert_int_equal(cli_submit_source_set(req, bad_sha[i], &e),
				 RC_INVALID);
		assert_null(json_object_get(req, "source"));
	}
	json_decref(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deterministic,
						scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_contents, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_long_names, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_ignore, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_ignore_bad, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_fifo, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_too_large, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_not_a_dir, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_output_inside,
						scratch_setup, scratch_teardown),
		cmocka_unit_test(test_request_src),
		cmocka_unit_test(test_request_src_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
