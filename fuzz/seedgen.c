/*
 * seedgen.c - writes the binary seeds of fuzz/corpus (run by
 * fuzz/make_seeds.sh; not a fuzzer).
 *
 *   seedgen proto DIR   one valid frame of every message type, encoded by
 *                       proto_encode, with every field set
 *   seedgen tar DIR     small source archives: ordinary trees (plain tar,
 *                       gzip, pax, gnutar), and hostile ones (.., absolute
 *                       paths, symlinks and writes through them, hard
 *                       links out, devices, a mode-0 directory)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <archive.h>
#include <archive_entry.h>

#include "proto.h"

static int write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

/* ---- protocol ---- */

static char *argv_run[] = {"make", "-j2", "test"};
static char *labels[] = {"large", "gpu"};
static char *plats[] = {"linux/amd64", "linux/386"};
static char *globs[] = {"out/*.tar.gz", "bin/app"};
static struct proto_kv env[] = {{"CC", "cc"}, {"GOFLAGS", "-mod=mod"}};
static struct proto_attempt_ref refs[] = {{12, 1}, {13, 2}};
static struct proto_resume resume[] = {{12, 1, 4}};
static struct proto_artifact arts[] = {
	{"out/app", "d32b9027a27ccac0095b336145025f1a3ad19975f28998ae60e2af27bf2920cb", 6},
};
static unsigned char logdata[] = "hello\n\0binary\xff";

static void proto_seeds(struct proto_msg *m)
{
	m[PROTO_HELLO].u.hello = (struct proto_hello){
		1, "b1", "linux-amd64", "linux", "amd64", {plats, 2}, {labels, 2},
		4, "0.1.0", refs, 2, refs, 1};
	m[PROTO_WELCOME].u.welcome = (struct proto_welcome){"s-1", 5000, 1 << 20,
							  resume, 1};
	m[PROTO_HB].u.hb = (struct proto_hb){2, 0.75, 123456789};
	m[PROTO_RUN].u.run = (struct proto_run){
		12, 1, "linux/amd64", {argv_run, 3}, "", {env, 2}, 600, 60,
		{"tarball", "/api/v1/blobs/d32b9027a27ccac0095b336145025f1a3ad19975f28998ae60e2af27bf2920cb",
		 "", "d32b9027a27ccac0095b336145025f1a3ad19975f28998ae60e2af27bf2920cb"},
		{globs, 2}, "/api/v1/blobs/", "0123456789abcdef"};
	m[PROTO_STARTED].u.ref = refs[0];
	m[PROTO_LOG].u.log = (struct proto_log){12, 1, 3, 2, logdata, sizeof logdata - 1};
	m[PROTO_DONE].u.done = (struct proto_done){12, 1, 2, 0, 1500, "", "abc123",
						   arts, 1};
	m[PROTO_ACK].u.ref = refs[0];
	m[PROTO_CANCEL].u.ref = refs[1];
}

static int gen_proto(const char *dir)
{
	struct proto_msg m[PROTO__COUNT];
	struct proto_run script;

	memset(m, 0, sizeof m);
	proto_seeds(m);
	for (int t = PROTO_NONE + 1; t < PROTO__COUNT; t++) {
		struct errbuf eb = {""};
		struct buf b;
		char name[32];

		m[t].type = (enum proto_type)t;
		buf_init(&b, 0, 0);
		if (proto_encode(&m[t], NULL, &b, &eb)) {
			fprintf(stderr, "seedgen: %s: %s\n", proto_type_name(m[t].type), eb.msg);
			return -1;
		}
		snprintf(name, sizeof name, "%s.msgpack", proto_type_name(m[t].type));
		if (write_file(dir, name, buf_data(&b), b.len))
			return -1;
		buf_free(&b);
	}
	/* A run with a script and a git source instead. */
	script = m[PROTO_RUN].u.run;
	script.argv.n = 0;
	script.script = "make && make check";
	script.source = (struct proto_source){"git", "https://example.org/app.git",
					      "main", ""};
	m[PROTO_RUN].u.run = script;
	{
		struct errbuf eb = {""};
		struct buf b;

		buf_init(&b, 0, 0);
		if (proto_encode(&m[PROTO_RUN], NULL, &b, &eb) ||
		    write_file(dir, "run-script-git.msgpack", buf_data(&b), b.len))
			return -1;
		buf_free(&b);
	}
	return 0;
}

/* ---- tarballs ---- */

struct entry {
	const char *name; /* path in the archive */
	mode_t type;      /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR */
	const char *link; /* symlink or hard link target */
	int hard;         /* link is a hard link */
	const char *data; /* contents of a regular file */
	mode_t perm;      /* 0: 0644 for files, 0755 for directories */
};

static int add(struct archive *a, const struct entry *x)
{
	struct archive_entry *e = archive_entry_new();
	size_t n = x->data ? strlen(x->data) : 0;
	int rc = 0;

	archive_entry_set_pathname(e, x->name);
	archive_entry_set_filetype(e, x->type);
	archive_entry_set_perm(e, x->perm ? x->perm : x->type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, (la_int64_t)n);
	if (x->link && x->hard)
		archive_entry_set_hardlink(e, x->link);
	else if (x->link)
		archive_entry_set_symlink(e, x->link);
	if (x->type == AE_IFCHR)
		archive_entry_set_rdev(e, makedev(1, 3));
	if (archive_write_header(a, e) < ARCHIVE_WARN ||
	    (n && archive_write_data(a, x->data, n) != (la_ssize_t)n))
		rc = -1;
	archive_entry_free(e);
	return rc;
}

/* format: 'u' ustar, 'p' pax, 'g' gnutar; gz: gzip it. */
static int tarball(const char *dir, const char *name, int format, int gz,
		   const struct entry *e, size_t n)
{
	struct archive *a = archive_write_new();
	char path[512];
	int rc = 0;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (format == 'u')
		archive_write_set_format_ustar(a);
	else if (format == 'g')
		archive_write_set_format_gnutar(a);
	else
		archive_write_set_format_pax_restricted(a);
	if (gz)
		archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		rc = -1;
	for (size_t i = 0; !rc && i < n; i++)
		rc = add(a, &e[i]);
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = -1;
	archive_write_free(a);
	if (rc)
		fprintf(stderr, "seedgen: %s failed\n", path);
	return rc;
}

#define T(dir, name, fmt, gz, ...)                                              \
	do {                                                                     \
		static const struct entry e_[] = {__VA_ARGS__};                  \
		if (tarball(dir, name, fmt, gz, e_, sizeof e_ / sizeof e_[0]))   \
			return -1;                                               \
	} while (0)
#define F(n, d) {n, AE_IFREG, NULL, 0, d, 0}
#define D(n) {n, AE_IFDIR, NULL, 0, NULL, 0}
#define SL(n, to) {n, AE_IFLNK, to, 0, NULL, 0}
#define HL(n, to) {n, AE_IFREG, to, 1, NULL, 0}

static int gen_tar(const char *d)
{
	T(d, "tree.tar", 'u', 0, D("src"), F("src/main.c", "int main(void){return 0;}\n"),
	  F("Makefile", "all:\n\tcc src/main.c\n"), SL("src/link", "main.c"),
	  HL("src/again.c", "src/main.c"));
	T(d, "tree.tar.gz", 'p', 1, D("./"), D("./a"), F("./a/x.txt", "x\n"),
	  F("./a/b/", NULL), F("./b.txt", "b\n"));
	T(d, "gnu-longname.tar", 'g', 0,
	  F("a/very/long/path/that/needs/a/gnu/long/name/header/because/it/is/"
	    "longer/than/one/hundred/bytes/file.txt", "long\n"));
	T(d, "dotdot.tar", 'p', 0, F("ok.txt", "ok\n"), F("../escape.txt", "x\n"));
	T(d, "dotdot-mid.tar", 'p', 0, F("a/../../escape.txt", "x\n"));
	T(d, "absolute.tar", 'p', 0, F("ok.txt", "ok\n"), F("/tmp/rfarm-abs.txt", "x\n"));
	T(d, "symlink-out.tar", 'p', 0, SL("up", ".."), F("up/escape.txt", "x\n"));
	T(d, "symlink-abs.tar", 'p', 0, SL("etc", "/etc"), F("etc/rfarm.txt", "x\n"));
	T(d, "symlink-chain.tar", 'p', 0, D("d"), SL("d/l1", "../l2"), SL("l2", ".."),
	  F("d/l1/escape.txt", "x\n"));
	T(d, "hardlink-out.tar", 'p', 0, HL("hl", "../in.tar"), F("hl", "x\n"));
	T(d, "hardlink-abs.tar", 'p', 0, HL("hl", "/etc/passwd"));
	T(d, "device.tar", 'p', 0, {"null", AE_IFCHR, NULL, 0, NULL, 0});
	T(d, "mode0-dir.tar", 'u', 0, {"locked", AE_IFDIR, NULL, 0, NULL, 01000},
	  F("locked/x.txt", "x\n"), {"ro", AE_IFDIR, NULL, 0, NULL, 0500});
	T(d, "dup.tar", 'u', 0, F("a", "1\n"), D("a"), F("a/b", "2\n"), SL("a", "b"));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "proto") && strcmp(argv[1], "tar"))) {
		fprintf(stderr, "usage: seedgen proto|tar DIR\n");
		return 2;
	}
	return (!strcmp(argv[1], "proto") ? gen_proto(argv[2]) : gen_tar(argv[2])) ? 1 : 0;
}
