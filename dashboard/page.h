/*
 * page.h - what every dashboard page shares: the frame (head, header
 * line, nav), the look of a job state and the matrix cell of a job.
 *
 * Pages live at two depths: the root (index.html, queue.html ...) and one
 * level down (builds/ID.html, jobs/ID.html). Every link between pages is
 * relative and takes a root prefix ("" or "../"), so the directory works
 * under any URL prefix; links into the API are absolute (/api/v1/...).
 */
#ifndef RFARM_DASHBOARD_PAGE_H
#define RFARM_DASHBOARD_PAGE_H

#include "dashboard.h"

#define PAGE_ROOT ""     /* prefix for links from a page at the root */
#define PAGE_SUB "../"   /* ... from builds/, jobs/ and repos/ */
#define PAGE_MANY_COLUMNS 6 /* more matrix columns: compact, heads turned */
#define PAGE_LINKS_AROUND 2 /* pager: page numbers either side of this one */

struct state_look {
	const char *name; /* state as the store spells it; CSS class s-NAME */
	const char *sym;  /* symbol that reads without colour */
	int live;         /* the job may still change */
};

#define CACHED_SYM "\xE2\x86\xBA" /* ↺, the mark of a cached answer */

/* The look of a state; an unknown state gets "unknown" and "?". */
const struct state_look *page_state_look(const char *state);

/* s, or "" for NULL: the snapshot's strings may be missing. */
const char *page_str(const char *s);

struct page_frame {
	const char *title;  /* our own literal or NULL; see title_id */
	int64_t title_id;   /* > 0: the title is "TITLE #ID" */
	const char *root;   /* PAGE_ROOT or PAGE_SUB */
	const char *kind;   /* body class p-KIND: index, build, job ... */
	const char *poll;   /* JSON twin live.js polls for cells, or NULL */
	int script;         /* load live.js */
};

/* <!DOCTYPE> ... <main>: head, header line, nav and the banner of host
 * types short of machines. With f->poll, <main data-poll data-root>. */
void page_begin(struct buf *out, const struct page_frame *f,
		const struct dash_header *h);
/* </main> ... </html> */
void page_end(struct buf *out);

/* Hover text of a job: "job 7 linux/amd64: passed in 1.2s, exit 0". */
void page_job_title(struct buf *out, const struct dash_job *j);

/* The contract's cell: <a class="cell s-STATE" href="ROOTjobs/ID.html"
 * data-job data-state title>SYMBOL TEXT</a>. */
void page_cell(struct buf *out, const struct dash_job *j, const char *root);

/* "exit 3", "signal 9", or "–". */
void page_exit(struct buf *out, int exit_code, int signal);

/* <ul class="tags"> of escaped strings, or "–" for none. */
void page_tags(struct buf *out, const char *const *v, size_t n);

/* The fields of a job as scripts and live.js see it in index.json and
 * builds/ID.json, without the braces: "id":7,"build":3,"platform":... */
void page_job_json_fields(struct buf *out, const struct dash_job *j);

/* The opening of a build's JSON object in index.json and builds/ID.json:
 * {"id":..,"created":..,"command":..,"source":..,"commit":..,"requester":..
 * (no closing brace: each adds its own fields). */
void page_build_json_head(struct buf *out, const struct dash_build *b);

/* How the pages of a paged list are named: page 1 is first ("index.html"),
 * page N is STEMpage-N.html (stem "" or "7-"). */
struct page_names {
	const char *first;
	const char *stem;
};

/* Newer / older links both ways and a window of page numbers; nothing
 * for a single page. */
void page_pager(struct buf *out, const struct page_names *pn, int page,
		int n);

/* <div class="wrap"><table class="matrix[ many]"> and its head row: the
 * sticky corner (our own literal) and the escaped column names, turned
 * sideways when there are more than PAGE_MANY_COLUMNS; opens <tbody>. */
void page_matrix_head(struct buf *out, const char *corner,
		      const char *const *cols, size_t n);

/* <time datetime title>3h ago</time> (now_ms - then_ms), or "–" for 0. */
void page_ago(struct buf *out, int64_t then_ms, int64_t now_ms);

#endif
