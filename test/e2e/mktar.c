/*
 * mktar.c - writes hostile source tarballs for the end-to-end tests.
 *
 *   mktar KIND OUT [ARG...]
 *
 * writes a gzip-compressed pax archive OUT with libarchive's writer, which
 * happily stores what a safe extractor must refuse. Every archive starts
 * with a harmless "ok.txt", so the hostile entry comes after extraction
 * has begun. KIND is one of:
 *
 *   abs PATH...       a regular file at each absolute PATH
 *   dotdot REL...     a regular file at each relative path (../escape.txt)
 *   symlink DIR...    "linkN" -> DIR, then a file "linkN/file.txt" through it
 *   hardlink PATH...  "hlN" hard-linked to PATH, then a regular "hlN" with
 *                     data, which lands in PATH if the link was made
 *   goodlink          not hostile: "same.txt" hard-linked to "ok.txt", and
 *                     "sub/again.txt" to it, as tar writes a tree with
 *                     hard links; a safe extractor must accept it
 *   many [N]          N (default 100000) empty files m/000000 ...
 *   bomb [BYTES]      one file of BYTES (default 2 GiB) zeros, written a
 *                     MiB at a time: a few MB on disk
 *   device            a character device entry (1,3: /dev/null's numbers)
 *
 * Exit status 0 on success, 2 on a usage error, 1 if writing failed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <archive.h>
#include <archive_entry.h>

#define CHUNK (1u << 20)                   /* zeros written at a time */
#define BOMB_DEFAULT ((int64_t)2 << 30)    /* 2 GiB */
#define MANY_DEFAULT 100000L               /* entries of "many" */
#define PAYLOAD "written by mktar\n"       /* data of the hostile files */

static int fail(struct archive *a, const char *what)
{
	fprintf(stderr, "mktar: %s: %s\n", what, archive_error_string(a));
	return -1;
}

/* Add one entry; data (size bytes) may be NULL for size 0. */
static int add(struct archive *a, const char *name, mode_t type,
	       const char *link, int hard, const char *data)
{
	struct archive_entry *e = archive_entry_new();
	size_t n = data ? strlen(data) : 0;
	int rc = 0;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, (la_int64_t)n);
	if (link && hard)
		archive_entry_set_hardlink(e, link);
	else if (link)
		archive_entry_set_symlink(e, link);
	if (type == AE_IFCHR)
		archive_entry_set_rdev(e, makedev(1, 3));
	if (archive_write_header(a, e) < ARCHIVE_WARN)
		rc = fail(a, name);
	else if (n && archive_write_data(a, data, n) != (la_ssize_t)n)
		rc = fail(a, name);
	archive_entry_free(e);
	return rc;
}

static int kind_paths(struct archive *a, int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (add(a, argv[i], AE_IFREG, NULL, 0, PAYLOAD))
			return -1;
	return 0;
}

static int kind_symlink(struct archive *a, int argc, char **argv)
{
	char name[64], file[80];
	int i;

	for (i = 0; i < argc; i++) {
		snprintf(name, sizeof name, "link%d", i);
		snprintf(file, sizeof file, "link%d/file.txt", i);
		if (add(a, name, AE_IFLNK, argv[i], 0, NULL) ||
		    add(a, file, AE_IFREG, NULL, 0, PAYLOAD))
			return -1;
	}
	return 0;
}

static int kind_hardlink(struct archive *a, int argc, char **argv)
{
	char name[64];
	int i;

	for (i = 0; i < argc; i++) {
		snprintf(name, sizeof name, "hl%d", i);
		if (add(a, name, AE_IFREG, argv[i], 1, NULL) ||
		    add(a, name, AE_IFREG, NULL, 0, PAYLOAD))
			return -1;
	}
	return 0;
}

static int kind_many(struct archive *a, long n)
{
	char name[32];
	long i;

	if (add(a, "m", AE_IFDIR, NULL, 0, NULL))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "m/%06ld", i);
		if (add(a, name, AE_IFREG, NULL, 0, NULL))
			return -1;
	}
	return 0;
}

static int kind_bomb(struct archive *a, int64_t size)
{
	struct archive_entry *e = archive_entry_new();
	char *zeros = calloc(1, CHUNK);
	int64_t left = size;
	int rc = 0;

	archive_entry_set_pathname(e, "zeros.bin");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, size);
	if (!zeros || archive_write_header(a, e) < ARCHIVE_WARN)
		rc = fail(a, "zeros.bin");
	while (!rc && left > 0) {
		size_t n = left < CHUNK ? (size_t)left : CHUNK;

		if (archive_write_data(a, zeros, n) != (la_ssize_t)n)
			rc = fail(a, "zeros.bin data");
		left -= (int64_t)n;
	}
	free(zeros);
	archive_entry_free(e);
	return rc;
}

static int write_kind(struct archive *a, const char *kind, int argc,
		      char **argv)
{
	if (!strcmp(kind, "abs") || !strcmp(kind, "dotdot"))
		return kind_paths(a, argc, argv);
	if (!strcmp(kind, "symlink"))
		return kind_symlink(a, argc, argv);
	if (!strcmp(kind, "hardlink"))
		return kind_hardlink(a, argc, argv);
	if (!strcmp(kind, "goodlink"))
		return add(a, "same.txt", AE_IFREG, "ok.txt", 1, NULL) ||
		       add(a, "sub", AE_IFDIR, NULL, 0, NULL) ||
		       add(a, "sub/again.txt", AE_IFREG, "same.txt", 1, NULL);
	if (!strcmp(kind, "many"))
		return kind_many(a, argc ? atol(argv[0]) : MANY_DEFAULT);
	if (!strcmp(kind, "bomb"))
		return kind_bomb(a, argc ? atoll(argv[0]) : BOMB_DEFAULT);
	if (!strcmp(kind, "device"))
		return add(a, "dev-null", AE_IFCHR, NULL, 0, NULL);
	fprintf(stderr, "mktar: unknown kind '%s'\n", kind);
	return -2;
}

int main(int argc, char **argv)
{
	struct archive *a;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: mktar KIND OUT [ARG...]\n");
		return 2;
	}
	a = archive_write_new();
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_open_filename(a, argv[2]) != ARCHIVE_OK) {
		fail(a, argv[2]);
		archive_write_free(a);
		return 1;
	}
	rc = add(a, "ok.txt", AE_IFREG, NULL, 0, "fine\n");
	if (!rc)
		rc = write_kind(a, argv[1], argc - 3, argv + 3);
	if (archive_write_close(a) != ARCHIVE_OK && !rc)
		rc = fail(a, "close");
	archive_write_free(a);
	if (rc == -2)
		return 2;
	return rc ? 1 : 0;
}
