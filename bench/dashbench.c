/*
 * dashbench.c - how fast the dashboard's pages are made from the store.
 *
 * usage: dashbench DATA_DIR BUILDS PLATFORMS
 *
 * Fills DATA_DIR/rfarm.db (if it has no builds yet) through the store API
 * with BUILDS builds of PLATFORMS jobs each, every job run once with a
 * short log (a few failed, the newest still running or queued), then
 * times what the coordinator does on a change: the first index page
 * (median of 21 runs), and every index page once. Pages go to
 * DATA_DIR/dashboard. `rfarm dashboard` times everything else
 * (bench/dashboard.sh). Prints figures; not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dashdata.h"
#include "store.h"
#include "xalloc.h"

#define PAGE_RUNS 21

static const char *const plats[] = {
	"linux/amd64", "linux/arm64", "linux/386", "darwin/arm64",
	"darwin/amd64", "windows/amd64", "freebsd/amd64", "openbsd/amd64",
	"linux/riscv64", "linux/ppc64le", "linux/s390x", "netbsd/amd64",
	"windows/arm64", "linux/mips64", "plan9/amd64", "solaris/amd64",
	"illumos/amd64", "aix/ppc64", "js/wasm", "wasip1/wasm",
};
#define N_PLATS (sizeof plats / sizeof plats[0])

static rc_t fill_job(struct store *s, int64_t build, int p, int64_t t, int i,
		     int running)
{
	char log[160];
	int64_t job, cut;
	int fail = (i * 7 + p) % 23 == 0;
	int len = snprintf(log, sizeof log, "building for %s\nok  pkg/a 0.1s\n"
			   "%s", plats[p], fail ? "--- FAIL: TestX\nFAIL\n" : "PASS\n");
	rc_t rc = store_job_insert(s, build, plats[p], "[]", 0, t, &job);

	if (rc || running > 1)
		return rc;
	if ((rc = store_job_dispatch(s, job, 1, "bench-1", t + 10)) ||
	    (rc = store_job_started(s, job, 1, t + 20)) ||
	    (rc = store_log_append(s, job, 1, 0, 1, log, (size_t)len, 0, &cut)))
		return rc;
	if (running)
		return RC_OK;
	return store_job_finish(s, job, 1, fail ? JOB_FAILED : JOB_PASSED,
				fail, 0, 1000 + i % 900, "", t + 2000);
}

static rc_t fill(struct store *s, int builds, int n_plats)
{
	int64_t t0 = clock_wall_ms() - (int64_t)builds * 60000, id;
	rc_t rc = RC_OK;

	for (int i = 0; i < builds && !rc; i++) {
		char spec[256];
		int64_t t = t0 + (int64_t)i * 60000;
		/* The newest two builds are still going: 1 running, 2 queued. */
		int running = i >= builds - 2 ? builds - i : 0;

		snprintf(spec, sizeof spec, "{\"command\":[\"go\",\"test\",\"./...\"],"
			 "\"env\":{\"N\":\"%d\"},\"labels\":[]}", i);
		rc = store_build_insert(s, t, 0, spec, &id);
		for (int p = 0; p < n_plats && !rc; p++)
			rc = fill_job(s, id, p, t, i, running);
		if (!rc && i % 1000 == 999)
			rc = store_flush(s);
	}
	return rc ? rc : store_flush(s);
}

static int cmp_ms(const void *a, const void *b)
{
	return (int)(*(const int64_t *)a - *(const int64_t *)b);
}

int main(int argc, char **argv)
{
	struct dashdata d = {0};
	struct errbuf eb = {""};
	int64_t t, runs[PAGE_RUNS];
	int builds, n_plats, n_pages = 1;
	char *db, *dir;

	if (argc != 4 || (builds = atoi(argv[2])) < 1 ||
	    (n_plats = atoi(argv[3])) < 1 || n_plats > (int)N_PLATS) {
		fprintf(stderr, "usage: dashbench DATA_DIR BUILDS PLATFORMS(1..%zu)\n",
			N_PLATS);
		return 2;
	}
	db = xasprintf("%s/rfarm.db", argv[1]);
	dir = xasprintf("%s/dashboard", argv[1]);
	if (store_open(db, &d.store, &eb)) {
		fprintf(stderr, "dashbench: %s\n", eb.msg);
		return 1;
	}
	d.dir = dir;
	if (store_build_count_above(d.store, 0) == 0) {
		t = clock_mono_ms();
		if (fill(d.store, builds, n_plats)) {
			fprintf(stderr, "dashbench: cannot fill the store\n");
			return 1;
		}
		printf("filled %d builds x %d platforms in %.2f s\n", builds, n_plats,
		       (double)(clock_mono_ms() - t) / 1000);
	}
	dashboard_write_assets(dir, &eb);
	for (int i = 0; i < PAGE_RUNS; i++) {
		t = clock_mono_ms();
		dashdata_header(&d, 1, clock_wall_ms());
		if (dashdata_index(&d, 1, &n_pages, &eb)) {
			fprintf(stderr, "dashbench: %s\n", eb.msg);
			return 1;
		}
		runs[i] = clock_mono_ms() - t;
	}
	qsort(runs, PAGE_RUNS, sizeof *runs, cmp_ms);
	printf("index page 1 (coordinator path, %d builds x %d platforms): "
	       "median %lld ms, max %lld ms\n", DASH_PAGE_BUILDS, n_plats,
	       (long long)runs[PAGE_RUNS / 2], (long long)runs[PAGE_RUNS - 1]);
	t = clock_mono_ms();
	dashdata_header(&d, 1, clock_wall_ms());
	for (int p = 1; p <= n_pages; p++)
		if (dashdata_index(&d, p, &n_pages, &eb)) {
			fprintf(stderr, "dashbench: %s\n", eb.msg);
			return 1;
		}
	printf("all %d index pages (%d builds x %d platforms): %lld ms\n",
	       n_pages, builds, n_plats, (long long)(clock_mono_ms() - t));
	store_close(&d.store);
	free(db);
	free(dir);
	return 0;
}
