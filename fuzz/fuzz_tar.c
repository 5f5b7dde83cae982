/*
 * fuzz_tar.c - libFuzzer target for source extraction
 * (buildlet/source.c source_extract): the input is a source archive.
 *
 * Each input is written to one file and extracted into a fresh work
 * directory under small limits, which is then removed; both live in one
 * temporary directory per process, so an execution costs a write, an
 * extraction and a removal. Besides the sanitizers the target checks the
 * promise of source.h: nothing appears next to the work directory (an
 * entry with "..", an absolute path, or a write through a symbolic link
 * would put it there).
 *
 * A bug here could write outside the tree, so the target will not run as
 * root: it switches to "nobody" first (scripts/fuzz.sh gives that user its
 * corpus and output directories).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "source.h"

#define NOBODY 65534

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char top[64];          /* this process's temporary directory */
static char archive[96];      /* top/in.tar: the input */
static char work[96];         /* top/w: the work directory */

static void die(const char *what)
{
	fprintf(stderr, "fuzz_tar: %s: %s\n", what, strerror(errno));
	abort();
}

static void cleanup(void)
{
	struct errbuf eb = {""};

	fs_remove_tree(top, &eb);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (geteuid() == 0 &&
	    (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)))
		die("cannot stop being root");
	snprintf(top, sizeof top, "%s/rfarm-fuzz-tar.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (strlen(top) >= sizeof top - 1 || !mkdtemp(top))
		die("mkdtemp");
	snprintf(archive, sizeof archive, "%s/in.tar", top);
	snprintf(work, sizeof work, "%s/w", top);
	atexit(cleanup);
	return 0;
}

/* rm -rf that first makes each directory ours to empty (an archive may
 * leave a directory without write or search permission); never follows
 * symbolic links. */
static void remove_tree(int parent, const char *name)
{
	struct stat st;
	DIR *d;
	int fd;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW))
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlinkat(parent, name, 0);
		return;
	}
	fchmodat(parent, name, 0700, 0);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (d = fdopendir(fd))) {
		struct dirent *e;

		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				remove_tree(dirfd(d), e->d_name);
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	if (unlinkat(parent, name, AT_REMOVEDIR) && errno != ENOENT)
		die("cannot empty the work directory");
}

/* 1 if anything but in.tar is next to the (removed) work directory: an
 * entry with "..", or written through a link to "..", lands there. */
static int escaped(void)
{
	DIR *d = opendir(top);
	struct dirent *e;
	int others = 0;

	if (!d)
		die("opendir");
	while ((e = readdir(d)))
		others += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
			  strcmp(e->d_name, "in.tar");
	closedir(d);
	errno = EEXIST;
	return others;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct source_limits lim = {
		.max_download = 1 << 20, .max_entries = 64, .max_bytes = 1 << 20,
	};
	struct errbuf eb = {""};
	int fd = open(archive, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd))
		die("cannot write the archive");
	if (mkdir(work, 0700))
		die("cannot make the work directory");
	(void)source_extract(archive, work, &lim, &eb);
	remove_tree(AT_FDCWD, work);
	if (escaped())
		die("an entry escaped the work directory");
	return 0;
}
