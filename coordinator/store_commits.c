/*
 * store_commits.c - watched repositories, their commits and the builds
 * made for them (see store.h). Statements use store_stmt_other slots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "xalloc.h"

#define REPO_COLS "id, url, builders, watched, last_poll_ms, last_error"
#define COMMIT_COLS "id, repo_id, hash, parents, author, time_ms, subject," \
	" branch, seen_ms"

enum {
	SC_REPO_ADD,
	SC_REPO_SET,
	SC_REPO_ID,
	SC_REPO_UNWATCH,
	SC_REPO_GET,
	SC_REPO_LIST,
	SC_REPO_POLLED,
	SC_HEAD_GET,
	SC_HEAD_SET,
	SC_HEADS,
	SC_COMMIT_ADD,
	SC_COMMIT_ID,
	SC_COMMIT_GET,
	SC_COMMIT_FIND,
	SC_COMMIT_PAGE,
	SC_COMMIT_BEFORE,
	SC_COMMIT_COUNT,
	SC_COMMIT_ABOVE,
	SC_BUILD_ORIGIN,
	SC_BUILD_OF_CELL,
	SC_CELLS,
	SC__COUNT
};

static const char *const sql[SC__COUNT] = {
	[SC_REPO_ADD] = "INSERT OR IGNORE INTO repos(url) VALUES(?)",
	[SC_REPO_SET] = "UPDATE repos SET builders=?, watched=1 WHERE url=?",
	[SC_REPO_ID] = "SELECT id FROM repos WHERE url=?",
	[SC_REPO_UNWATCH] = "UPDATE repos SET watched=0",
	[SC_REPO_GET] = "SELECT " REPO_COLS " FROM repos WHERE id=?",
	[SC_REPO_LIST] = "SELECT " REPO_COLS " FROM repos ORDER BY id",
	[SC_REPO_POLLED] = "UPDATE repos SET last_poll_ms=?, last_error=?"
			   " WHERE id=?",
	[SC_HEAD_GET] = "SELECT hash FROM repo_heads WHERE repo_id=? AND branch=?",
	[SC_HEAD_SET] = "INSERT OR REPLACE INTO repo_heads(repo_id, branch, hash)"
			" VALUES(?,?,?)",
	[SC_HEADS] = "SELECT branch, hash FROM repo_heads WHERE repo_id=?"
		     " ORDER BY branch",
	[SC_COMMIT_ADD] = "INSERT OR IGNORE INTO commits(repo_id, hash, parents,"
			  " author, time_ms, subject, branch, seen_ms)"
			  " VALUES(?,?,?,?,?,?,?,?)",
	[SC_COMMIT_ID] = "SELECT id FROM commits WHERE repo_id=? AND hash=?",
	[SC_COMMIT_GET] = "SELECT " COMMIT_COLS " FROM commits WHERE id=?",
	/* A prefix: hash >= p AND hash < p || 'g' uses the unique index. */
	[SC_COMMIT_FIND] = "SELECT " COMMIT_COLS " FROM commits WHERE"
			   " (?1=0 OR repo_id=?1) AND hash>=?2 AND hash<?2||'g'"
			   " ORDER BY id DESC LIMIT 2",
	[SC_COMMIT_PAGE] = "SELECT " COMMIT_COLS " FROM commits WHERE repo_id=?"
			   " ORDER BY id DESC LIMIT ? OFFSET ?",
	[SC_COMMIT_BEFORE] = "SELECT " COMMIT_COLS " FROM commits WHERE"
			     " repo_id=? AND id<? ORDER BY id DESC LIMIT ?",
	[SC_COMMIT_COUNT] = "SELECT count(*) FROM commits WHERE repo_id=?",
	[SC_COMMIT_ABOVE] = "SELECT count(*) FROM commits WHERE repo_id=?"
			    " AND id>?",
	[SC_BUILD_ORIGIN] = "UPDATE builds SET builder=?, commit_id=? WHERE id=?",
	[SC_BUILD_OF_CELL] = "SELECT max(id) FROM builds WHERE commit_id=?"
			     " AND builder=?",
	/* The newest build of each (commit, builder) and its first job. */
	[SC_CELLS] = "SELECT cb.commit_id, cb.builder, cb.bid, " STORE_JOB_COLS
		     " FROM (SELECT b.commit_id AS commit_id, b.builder AS builder,"
		     "  max(b.id) AS bid FROM builds b JOIN commits c"
		     "  ON c.id=b.commit_id WHERE c.repo_id=?1"
		     "  AND b.commit_id BETWEEN ?2 AND ?3"
		     "  GROUP BY b.commit_id, b.builder) cb"
		     " JOIN jobs ON jobs.id=(SELECT min(id) FROM jobs"
		     "  WHERE build_id=cb.bid)"
		     " ORDER BY cb.commit_id DESC, cb.builder",
};

static sqlite3_stmt *stmt(struct store *s, int id)
{
	return store_stmt_other(s, id, sql[id]);
}

/* ---- repositories ---- */

rc_t store_repo_sync(struct store *s, const char *url, const char *builders,
		     int64_t *id)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, SC_REPO_ADD);
	sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	if ((rc = store_step_done(s, st, "add repo")))
		return rc;
	st = stmt(s, SC_REPO_SET);
	sqlite3_bind_text(st, 1, builders, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
	if ((rc = store_step_done(s, st, "set repo")))
		return rc;
	st = stmt(s, SC_REPO_ID);
	sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	*id = store_one_int(st, 0);
	return *id ? RC_OK : store_db_error(s, "repo id");
}

rc_t store_repo_unwatch_all(struct store *s)
{
	rc_t rc = store_begin_write(s);

	return rc ? rc : store_step_done(s, stmt(s, SC_REPO_UNWATCH), "unwatch");
}

static void repo_from_row(sqlite3_stmt *st, void *row)
{
	struct store_repo *r = row;

	r->id = sqlite3_column_int64(st, 0);
	r->url = store_col_text(st, 1);
	r->builders = store_col_text(st, 2);
	r->watched = sqlite3_column_int(st, 3);
	r->last_poll_ms = sqlite3_column_int64(st, 4);
	r->last_error = store_col_text(st, 5);
}

void store_repo_clear(struct store_repo *r)
{
	free(r->url);
	free(r->builders);
	free(r->last_error);
	memset(r, 0, sizeof *r);
}

rc_t store_repo_get(struct store *s, int64_t id, struct store_repo *out)
{
	sqlite3_stmt *st = stmt(s, SC_REPO_GET);

	sqlite3_bind_int64(st, 1, id);
	return store_row(s, st, repo_from_row, out, sizeof *out, "get repo");
}

static void repo_clear(void *row)
{
	store_repo_clear(row);
}

rc_t store_repo_list(struct store *s, struct store_repo **out, size_t *n)
{
	return store_rows(s, stmt(s, SC_REPO_LIST), repo_from_row, repo_clear,
			  out, n, sizeof **out, "list repos");
}

void store_repo_array_free(struct store_repo **r, size_t n)
{
	store_array_free(r, n, sizeof **r, repo_clear);
}

rc_t store_repo_polled(struct store *s, int64_t id, int64_t now_ms,
		       const char *error)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, SC_REPO_POLLED);
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_text(st, 2, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, id);
	return store_step_done(s, st, "repo polled");
}

rc_t store_repo_head(struct store *s, int64_t repo, const char *branch,
		     char *hash, size_t n)
{
	sqlite3_stmt *st = stmt(s, SC_HEAD_GET);

	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_text(st, 2, branch, -1, SQLITE_STATIC);
	return store_text(s, st, hash, n, "repo head");
}

rc_t store_repo_set_head(struct store *s, int64_t repo, const char *branch,
			 const char *hash)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, SC_HEAD_SET);
	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_text(st, 2, branch, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	return store_step_done(s, st, "set repo head");
}

rc_t store_repo_heads(struct store *s, int64_t repo, store_head_cb cb,
		      void *ud)
{
	sqlite3_stmt *st = stmt(s, SC_HEADS);
	int r;

	sqlite3_bind_int64(st, 1, repo);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		cb(ud, (const char *)sqlite3_column_text(st, 0),
		   (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	return r == SQLITE_DONE ? RC_OK : store_db_error(s, "repo heads");
}

/* ---- commits ---- */

rc_t store_commit_add(struct store *s, const struct store_commit *c,
		      int64_t *id, int *is_new)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, SC_COMMIT_ADD);
	sqlite3_bind_int64(st, 1, c->repo_id);
	sqlite3_bind_text(st, 2, c->hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->parents, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->author, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, c->time_ms);
	sqlite3_bind_text(st, 6, c->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->branch, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, c->seen_ms);
	if ((rc = store_step_done(s, st, "add commit")))
		return rc;
	*is_new = sqlite3_changes(sqlite3_db_handle(st)) > 0;
	st = stmt(s, SC_COMMIT_ID);
	sqlite3_bind_int64(st, 1, c->repo_id);
	sqlite3_bind_text(st, 2, c->hash, -1, SQLITE_STATIC);
	*id = store_one_int(st, 0);
	return *id ? RC_OK : store_db_error(s, "commit id");
}

static void commit_from_row(sqlite3_stmt *st, void *row)
{
	struct store_commit *c = row;

	c->id = sqlite3_column_int64(st, 0);
	c->repo_id = sqlite3_column_int64(st, 1);
	c->hash = store_col_text(st, 2);
	c->parents = store_col_text(st, 3);
	c->author = store_col_text(st, 4);
	c->time_ms = sqlite3_column_int64(st, 5);
	c->subject = store_col_text(st, 6);
	c->branch = store_col_text(st, 7);
	c->seen_ms = sqlite3_column_int64(st, 8);
}

void store_commit_clear(struct store_commit *c)
{
	free(c->hash);
	free(c->parents);
	free(c->author);
	free(c->subject);
	free(c->branch);
	memset(c, 0, sizeof *c);
}

static void commit_clear(void *row)
{
	store_commit_clear(row);
}

void store_commit_array_free(struct store_commit **c, size_t n)
{
	store_array_free(c, n, sizeof **c, commit_clear);
}

rc_t store_commit_get(struct store *s, int64_t id, struct store_commit *out)
{
	sqlite3_stmt *st = stmt(s, SC_COMMIT_GET);

	sqlite3_bind_int64(st, 1, id);
	return store_row(s, st, commit_from_row, out, sizeof *out, "get commit");
}

rc_t store_commit_find(struct store *s, int64_t repo, const char *hash,
		       struct store_commit *out)
{
	sqlite3_stmt *st;
	size_t len = strlen(hash);
	int r, rows = 0;

	memset(out, 0, sizeof *out);
	if (len < 7 || len > 40 || strspn(hash, "0123456789abcdef") != len)
		return RC_NOT_FOUND;
	st = stmt(s, SC_COMMIT_FIND);
	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW && !rows++)
		commit_from_row(st, out);
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		store_commit_clear(out);
		return store_db_error(s, "find commit");
	}
	if (rows > 1) {
		store_commit_clear(out);
		return RC_INVALID;
	}
	return rows ? RC_OK : RC_NOT_FOUND;
}

rc_t store_commit_page(struct store *s, int64_t repo, int64_t offset,
		       int limit, struct store_commit **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, SC_COMMIT_PAGE);

	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_int(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset);
	return store_rows(s, st, commit_from_row, commit_clear, out, n,
			  sizeof **out, "list commits");
}

rc_t store_commit_page_before(struct store *s, int64_t repo, int64_t before,
			      int limit, struct store_commit **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, SC_COMMIT_BEFORE);

	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(st, 3, limit);
	return store_rows(s, st, commit_from_row, commit_clear, out, n,
			  sizeof **out, "list commits");
}

int64_t store_commit_count(struct store *s, int64_t repo)
{
	sqlite3_stmt *st = stmt(s, SC_COMMIT_COUNT);

	sqlite3_bind_int64(st, 1, repo);
	return store_one_int(st, -1);
}

int64_t store_commit_count_above(struct store *s, int64_t repo, int64_t id)
{
	sqlite3_stmt *st = stmt(s, SC_COMMIT_ABOVE);

	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_int64(st, 2, id);
	return store_one_int(st, -1);
}

/* ---- builds of commits ---- */

rc_t store_build_set_origin(struct store *s, int64_t build,
			    const char *builder, int64_t commit_id)
{
	sqlite3_stmt *st;
	rc_t rc = store_begin_write(s);

	if (rc)
		return rc;
	st = stmt(s, SC_BUILD_ORIGIN);
	sqlite3_bind_text(st, 1, builder, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, commit_id);
	sqlite3_bind_int64(st, 3, build);
	return store_step_done(s, st, "set build origin");
}

int64_t store_build_of_cell(struct store *s, int64_t commit_id,
			    const char *builder)
{
	sqlite3_stmt *st = stmt(s, SC_BUILD_OF_CELL);

	sqlite3_bind_int64(st, 1, commit_id);
	sqlite3_bind_text(st, 2, builder, -1, SQLITE_STATIC);
	return store_one_int(st, 0);
}

/* A row of SC_CELLS: three cell columns, then JOB_COLS from column 3. */
static void cell_from_row(sqlite3_stmt *st, void *row)
{
	struct store_cell *c = row;

	c->commit_id = sqlite3_column_int64(st, 0);
	c->builder = store_col_text(st, 1);
	c->build_id = sqlite3_column_int64(st, 2);
	store_job_from_row(st, 3, &c->job);
}

static void cell_clear(void *row)
{
	struct store_cell *c = row;

	free(c->builder);
	store_job_clear(&c->job);
}

rc_t store_cells(struct store *s, int64_t repo, int64_t lo, int64_t hi,
		 struct store_cell **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, SC_CELLS);

	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	return store_rows(s, st, cell_from_row, cell_clear, out, n,
			  sizeof **out, "commit cells");
}

void store_cell_array_free(struct store_cell **c, size_t n)
{
	store_array_free(c, n, sizeof **c, cell_clear);
}
