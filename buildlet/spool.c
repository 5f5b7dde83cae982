/* spool.c - on-disk log chunks of an attempt (see spool.h). */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "xalloc.h"

struct record_head {
	int64_t seq;    /* chunk sequence number */
	int32_t stream; /* 1 stdout, 2 stderr */
	uint32_t len;   /* bytes that follow */
};

struct spool *spool_open(const char *dir, int64_t job, int32_t attempt,
			 struct errbuf *eb)
{
	struct spool *sp = xcalloc(1, sizeof *sp);

	sp->path = xasprintf("%s/job-%lld-%d.log", dir, (long long)job, (int)attempt);
	sp->fd = open(sp->path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		      0600);
	if (sp->fd < 0) {
		errbuf_set(eb, "log spool %s: %s", sp->path, strerror(errno));
		free(sp->path);
		free(sp);
		return NULL;
	}
	list_init(&sp->link);
	sp->job = job;
	sp->attempt = attempt;
	return sp;
}

void spool_free(struct spool **spp)
{
	struct spool *sp = *spp;

	if (!sp)
		return;
	close(sp->fd);
	unlink(sp->path);
	free(sp->path);
	free(sp);
	*spp = NULL;
}

rc_t spool_append(struct spool *sp, int64_t seq, int stream, const void *data,
		  size_t len)
{
	struct record_head h = {seq, stream, (uint32_t)len};
	struct iovec iov[2] = {{&h, sizeof h}, {(void *)data, len}};
	ssize_t want = (ssize_t)(sizeof h + len), n;

	if (sp->broken)
		return RC_IO;
	/* One writev with O_APPEND: a record is whole or, on a full disk,
	 * the spool is marked broken and replay stops before it. */
	n = writev(sp->fd, iov, 2);
	if (n != want) {
		log_warn("log spool %s: %s; output from here on is not kept for "
			 "a resend", sp->path, n < 0 ? strerror(errno) : "short write");
		sp->broken = 1;
		return RC_IO;
	}
	return RC_OK;
}

int spool_read_next(struct spool *sp, int64_t *seq, int *stream,
		    struct buf *data)
{
	unsigned char chunk[PROTO_LOG_CHUNK];
	struct record_head h;
	ssize_t n = pread(sp->fd, &h, sizeof h, sp->read_off);

	if (n < 0)
		return -1;
	if ((size_t)n < sizeof h || h.len > sizeof chunk)
		return 0;
	n = pread(sp->fd, chunk, h.len, sp->read_off + (off_t)sizeof h);
	if (n < 0)
		return -1;
	if ((size_t)n < h.len)
		return 0; /* the runner is still writing it */
	buf_reset(data);
	if (buf_append(data, chunk, h.len))
		return -1;
	sp->read_off += (off_t)(sizeof h + h.len);
	*seq = h.seq;
	*stream = h.stream;
	return 1;
}
