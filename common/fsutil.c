/* fsutil.c - atomic writes and directory trees (see fsutil.h). */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ftw.h>

#include "xalloc.h"

rc_t fs_mkdirs(const char *path, mode_t mode, struct errbuf *eb)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof tmp) {
		errbuf_set(eb, "bad directory path '%s'", path);
		return RC_INVALID;
	}
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST) {
			errbuf_set(eb, "mkdir %s: %s", tmp, strerror(errno));
			return RC_IO;
		}
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST) {
		errbuf_set(eb, "mkdir %s: %s", tmp, strerror(errno));
		return RC_IO;
	}
	return RC_OK;
}

static rc_t write_full(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return RC_IO;
		c += w;
		n -= (size_t)w;
	}
	return RC_OK;
}

static rc_t write_renamed(const char *path, const void *p, size_t n,
			  mode_t mode, int durable, struct errbuf *eb)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = -1;
	rc_t rc = RC_IO;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		errbuf_set(eb, "create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_full(fd, p, n) || (durable && fsync(fd) < 0)) {
		errbuf_set(eb, "write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		errbuf_set(eb, "close %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		errbuf_set(eb, "rename %s: %s", path, strerror(errno));
		goto out;
	}
	rc = RC_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

rc_t fs_write_atomic(const char *path, const void *p, size_t n, mode_t mode,
		     struct errbuf *eb)
{
	return write_renamed(path, p, n, mode, 1, eb);
}

rc_t fs_replace_file(const char *path, const void *p, size_t n, mode_t mode,
		     struct errbuf *eb)
{
	return write_renamed(path, p, n, mode, 0, eb);
}

rc_t fs_read_all(const char *path, size_t max, char **out, size_t *len,
		 struct errbuf *eb)
{
	FILE *f = fopen(path, "rbe");
	char *data = NULL;
	size_t n = 0, cap = 0;
	rc_t rc = RC_OK;

	*out = NULL;
	if (len)
		*len = 0;
	if (!f) {
		errbuf_set(eb, "open %s: %s", path, strerror(errno));
		return errno == ENOENT ? RC_NOT_FOUND : RC_IO;
	}
	for (;;) {
		size_t r;

		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			data = xrealloc(data, cap + 1);
		}
		r = fread(data + n, 1, cap - n, f);
		n += r;
		if (max && n > max) {
			errbuf_set(eb, "%s is larger than %zu bytes", path, max);
			rc = RC_TOO_LARGE;
			break;
		}
		if (r == 0) {
			if (ferror(f)) {
				errbuf_set(eb, "read %s: %s", path, strerror(errno));
				rc = RC_IO;
			}
			break;
		}
	}
	fclose(f);
	if (rc) {
		free(data);
		return rc;
	}
	if (!data)
		data = xmalloc(1);
	data[n] = '\0';
	*out = data;
	if (len)
		*len = n;
	return RC_OK;
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

rc_t fs_remove_tree(const char *path, struct errbuf *eb)
{
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 &&
	    errno != ENOENT) {
		errbuf_set(eb, "remove %s: %s", path, strerror(errno));
		return RC_IO;
	}
	return RC_OK;
}

void fs_start_writeback(int fd, int64_t off, int64_t len)
{
#ifdef SYNC_FILE_RANGE_WRITE
	sync_file_range(fd, off, len, SYNC_FILE_RANGE_WRITE);
#else
	(void)fd;
	(void)off;
	(void)len;
#endif
}
