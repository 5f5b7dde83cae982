/*
 * spool.h - every log chunk of an attempt, kept on disk until the
 * coordinator has acknowledged the attempt's result.
 *
 * The runner thread appends each chunk before it is queued for sending;
 * after a reconnect the coordinator says from which seq it wants the log
 * again (welcome.resume) and the loop thread replays the file from there.
 * So a connection that drops mid-job loses no output, and the coordinator
 * stores each chunk once (it ignores a seq it already has).
 *
 * Record: seq (8 bytes), stream (4), length (4), then the bytes; all in
 * host order, since only this process reads the file.
 */
#ifndef RFARM_SPOOL_H
#define RFARM_SPOOL_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "list.h"
#include "rc.h"

struct spool {
	struct list link;    /* in buildlet->spools (guarded by its mu) */
	int64_t job;         /* job id */
	int32_t attempt;     /* attempt number */
	int fd;              /* the record file, appended with O_APPEND */
	char *path;          /* its name, for unlink */
	int64_t next_send;   /* first seq not yet sent on this connection;
				INT64_MAX when the coordinator wants none */
	off_t read_off;      /* replay position in the file */
	int replaying;       /* replay the file before sending live chunks */
	int broken;          /* an append failed: replay cannot be trusted */
};

/* Create (truncate) the spool file of an attempt under dir. */
struct spool *spool_open(const char *dir, int64_t job, int32_t attempt,
			 struct errbuf *eb);
/* Close and delete the file. */
void spool_free(struct spool **sp);
/* Append one chunk (runner thread). */
rc_t spool_append(struct spool *sp, int64_t seq, int stream, const void *data,
		  size_t len);
/*
 * Read the record at read_off and move past it. Returns 1 with the chunk
 * in *seq, *stream and data (reset first), 0 at the end of what is
 * completely written, -1 on a read error.
 */
int spool_read_next(struct spool *sp, int64_t *seq, int *stream,
		    struct buf *data);

#endif
