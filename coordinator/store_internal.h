/*
 * store_internal.h - what the store's files share (store.c owns the
 * connection; store_commits.c adds the commit watcher's tables). Only
 * store*.c include it, and with it sqlite3.h.
 */
#ifndef RFARM_STORE_INTERNAL_H
#define RFARM_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

#define STORE_OTHER_STMTS 32 /* statement slots for files other than store.c */

/* The statement of slot (prepared from sql on first use), reset and with
 * its bindings cleared. One slot is one statement for the store's life. */
sqlite3_stmt *store_stmt_other(struct store *s, int slot, const char *sql);
/* Open the loop turn's write transaction if none is open. */
rc_t store_begin_write(struct store *s);
/* Step a statement that returns no rows; logs and RC_DB on failure. */
rc_t store_step_done(struct store *s, sqlite3_stmt *st, const char *what);
rc_t store_db_error(struct store *s, const char *what);
/* Fill row (a struct store_*) from the statement's current row. */
typedef void (*store_row_fn)(sqlite3_stmt *st, void *row);
/* Step st for one row into row (size bytes, zeroed first): RC_NOT_FOUND
 * if there is none. A NULL what makes an error quiet (RC_DB, not logged):
 * for lookups that answer only yes or no. */
rc_t store_row(struct store *s, sqlite3_stmt *st, store_row_fn fill, void *row,
	       size_t size, const char *what);
/* store_row of column 0 as a string into out (n bytes). */
rc_t store_text(struct store *s, sqlite3_stmt *st, char *out, size_t n,
		const char *what);
/* The integer in column 0 of st's first row; dflt when there is no row
 * (or an error) or the value is NULL. */
int64_t store_one_int(sqlite3_stmt *st, int64_t dflt);
/* Every row of st into a new array (*(T **)arrayp, *n) of size-byte
 * elements; on an error the rows read are cleared and freed. */
rc_t store_rows(struct store *s, sqlite3_stmt *st, store_row_fn fill,
		void (*clear)(void *row), void *arrayp, size_t *n, size_t size,
		const char *what);
/* Clear each of the n size-byte rows of *(T **)arrayp, free it and set
 * it to NULL. */
void store_array_free(void *arrayp, size_t n, size_t size,
		      void (*clear)(void *row));
/* Column i as a new string ("" for NULL). */
char *store_col_text(sqlite3_stmt *st, int i);
/* Row fills and clears for lists of one column: char * and int64_t. */
void store_text_row(sqlite3_stmt *st, void *row);
void store_text_clear(void *row);
void store_int64_row(sqlite3_stmt *st, void *row);
/* The columns of a job row, in the order store_job_from_row reads. */
#define STORE_JOB_COLS                                                  \
	"id, build_id, platform, labels, state, priority, created_ms,"  \
	" attempt, buildlet, coalesce(started_ms,0),"                   \
	" coalesce(finished_ms,0), coalesce(exit_code,-1),"             \
	" coalesce(signal,0), coalesce(duration_ms,0), error, reason,"  \
	" cancel_requested, lost, deadline_ms, coalesce(cache_key,''),"  \
	" cached, coalesce(cached_from,0), coalesce(attached_to,0),"    \
	" git_commit, host_type, postsubmit"
/* A job from STORE_JOB_COLS starting at column at. */
void store_job_from_row(sqlite3_stmt *st, int at, struct store_job *j);
sqlite3_int64 store_last_rowid(struct store *s);

#endif
