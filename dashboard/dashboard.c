/*
 * dashboard.c - the I/O edge of the dashboard: render, then write.
 *
 * Pages are written with fs_write_atomic (temporary file, fsync, rename),
 * so a web server reading the directory sees the old page or the new one,
 * never half of one. The style sheet is embedded in each page, so one file
 * per page is the whole output.
 */
#include "dashboard.h"

#include <stdlib.h>

#include "fsutil.h"
#include "xalloc.h"

#define DASH_DIR_MODE 0755  /* created output directories */
#define DASH_FILE_MODE 0644 /* pages: readable by any web server */

rc_t dashboard_write(const struct dash_snapshot *s, const char *dir,
		     struct errbuf *eb)
{
	struct buf page;
	char *path = NULL;
	rc_t rc;

	buf_init(&page, 0, 0);
	if (!s || !dir || !dir[0]) {
		errbuf_set(eb, "dashboard: no snapshot or no output directory");
		rc = RC_INVALID;
		goto out;
	}
	rc = fs_mkdirs(dir, DASH_DIR_MODE, eb);
	if (rc)
		goto out;
	rc = dashboard_render_index(s, &page);
	if (rc) {
		errbuf_set(eb, "render %s/index.html: %s", dir, rc_str(rc));
		goto out;
	}
	path = xasprintf("%s/index.html", dir);
	rc = fs_write_atomic(path, buf_cstr(&page), page.len, DASH_FILE_MODE, eb);
out:
	free(path);
	buf_free(&page);
	return rc;
}
