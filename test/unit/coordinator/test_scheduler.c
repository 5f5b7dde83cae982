/*
 * test_scheduler.c - unit tests for coordinator/scheduler.c: which
 * buildlet a job goes to (platform, label subset, host type, free slots,
 * most room, ties), the verdicts when none can take it, and the waiting reasons users
 * read, including their truncation into small buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const amd64[] = {"linux/amd64"};
static const char *const arm64[] = {"linux/arm64"};
static const char *const multi[] = {"linux/amd64", "linux/386", "windows/amd64"};
static const char *const no_labels[] = {NULL}; /* never read: n = 0 */
static const char *const l_large[] = {"large"};
static const char *const l_gpu_large_ssd[] = {"gpu", "large", "ssd"};
static const char *const l_large_gpu[] = {"large", "gpu"};
static const char *const l_upper_gpu[] = {"GPU"};

/* A candidate serving plats with labels, capacity cap and run in use. */
#define CAND(plats, labs, nlabs, cap, run) \
	{ plats, N(plats), labs, nlabs, cap, run, "" }
/* The same, of host type ht (its session's). */
#define CAND_HT(plats, labs, nlabs, cap, run, ht) \
	{ plats, N(plats), labs, nlabs, cap, run, ht }

static const struct sched_job job_amd64 = {"linux/amd64", no_labels, 0, NULL};
static const struct sched_job job_386 = {"linux/386", no_labels, 0, NULL};
static const struct sched_job job_riscv = {"linux/riscv64", no_labels, 0, NULL};
static const struct sched_job job_amd_short = {"linux/amd", no_labels, 0, NULL};
static const struct sched_job job_large = {"linux/amd64", l_large, 1, NULL};
static const struct sched_job job_large_gpu = {"linux/amd64", l_large_gpu, 2, NULL};
/* Jobs of builders: bound to a host type. */
static const struct sched_job job_ht_a = {"linux/amd64", no_labels, 0, "linux-amd64-a"};
static const struct sched_job job_ht_b = {"linux/amd64", no_labels, 0, "linux-amd64-b"};
static const struct sched_job job_ht_arm = {"linux/arm64", no_labels, 0, "linux-arm64"};
static const struct sched_job job_ht_large = {"linux/amd64", l_large, 1, "linux-amd64-a"};
static const struct sched_job job_ht_empty = {"linux/amd64", no_labels, 0, ""};

static const struct sched_candidate c_platform[] = {
	CAND(arm64, no_labels, 0, 4, 0),
	CAND(amd64, no_labels, 0, 1, 0),
};
static const struct sched_candidate c_labels[] = {
	CAND(amd64, no_labels, 0, 8, 0),      /* lacks "large" */
	CAND(amd64, l_gpu_large_ssd, 3, 1, 0), /* has more than asked */
};
static const struct sched_candidate c_label_missing[] = {
	CAND(amd64, l_large, 1, 8, 0), /* has large, not gpu */
	CAND(arm64, l_large_gpu, 2, 8, 0),
};
static const struct sched_candidate c_label_case[] = {
	CAND(amd64, l_upper_gpu, 1, 8, 0),
};
static const struct sched_candidate c_full[] = {
	CAND(amd64, no_labels, 0, 2, 2),
	CAND(amd64, no_labels, 0, 1, 1),
	CAND(arm64, no_labels, 0, 9, 0), /* free, but the wrong platform */
};
static const struct sched_candidate c_most_room[] = {
	CAND(amd64, no_labels, 0, 4, 3), /* 1 free */
	CAND(amd64, no_labels, 0, 8, 2), /* 6 free: first of the best */
	CAND(amd64, no_labels, 0, 6, 0), /* 6 free: a tie, later */
	CAND(arm64, no_labels, 0, 99, 0),
};
static const struct sched_candidate c_room_not_size[] = {
	CAND(amd64, no_labels, 0, 16, 15), /* biggest, 1 free */
	CAND(amd64, no_labels, 0, 2, 0),   /* 2 free */
};
static const struct sched_candidate c_tie[] = {
	CAND(arm64, no_labels, 0, 2, 0),
	CAND(amd64, no_labels, 0, 3, 1),
	CAND(amd64, no_labels, 0, 2, 0),
	CAND(amd64, no_labels, 0, 4, 2),
};
static const struct sched_candidate c_zero_cap[] = {
	CAND(amd64, no_labels, 0, 0, 0),
	CAND(amd64, no_labels, 0, 1, 1),
	CAND(amd64, no_labels, 0, 1, 3), /* over-full after a restart */
};
static const struct sched_candidate c_last_free[] = {
	CAND(amd64, no_labels, 0, 0, 0),
	CAND(amd64, no_labels, 0, 2, 2),
	CAND(amd64, no_labels, 0, 3, 2),
};
static const struct sched_candidate c_multi[] = {
	CAND(amd64, no_labels, 0, 8, 0),
	CAND(multi, no_labels, 0, 1, 0),
};

static const struct sched_candidate c_host_types[] = {
	CAND_HT(amd64, no_labels, 0, 8, 0, "linux-amd64-b"), /* most room, wrong type */
	CAND_HT(amd64, no_labels, 0, 2, 0, "linux-amd64-a"),
	CAND_HT(arm64, no_labels, 0, 2, 0, "linux-amd64-a"), /* right type, wrong platform */
};
static const struct sched_candidate c_host_type_full[] = {
	CAND_HT(amd64, no_labels, 0, 1, 1, "linux-amd64-a"),
	CAND_HT(amd64, no_labels, 0, 8, 0, "linux-amd64-b"),
};
static const struct sched_candidate c_host_type_case[] = {
	CAND_HT(amd64, no_labels, 0, 8, 0, "Linux-AMD64-a"),
	CAND_HT(amd64, no_labels, 0, 8, 0, "linux-amd64-a2"),
	{amd64, N(amd64), no_labels, 0, 8, 0, NULL}, /* no host type known */
};
static const struct sched_candidate c_host_type_labels[] = {
	CAND_HT(amd64, no_labels, 0, 8, 0, "linux-amd64-a"), /* lacks large */
	CAND_HT(amd64, l_large, 1, 8, 0, "linux-amd64-b"),   /* wrong type */
};

static void test_pick_table(void **state)
{
	static const struct {
		const char *name;                  /* case, for failures */
		const struct sched_candidate *c;   /* candidates */
		size_t n;                          /* how many */
		const struct sched_job *job;       /* the job */
		enum sched_verdict v;              /* expected verdict */
		size_t pick;                       /* expected pick if picked */
	} cases[] = {
		{"platform match", c_platform, N(c_platform), &job_amd64, SCHED_PICKED, 1},
		{"no platform", c_platform, N(c_platform), &job_riscv, SCHED_NO_MATCH, 0},
		{"platform prefix", c_platform, N(c_platform), &job_amd_short, SCHED_NO_MATCH, 0},
		{"no candidates", c_platform, 0, &job_amd64, SCHED_NO_MATCH, 0},
		{"labels subset", c_labels, N(c_labels), &job_large, SCHED_PICKED, 1},
		{"no labels runs anywhere", c_labels, N(c_labels), &job_amd64, SCHED_PICKED, 0},
		{"label missing", c_label_missing, N(c_label_missing), &job_large_gpu,
		 SCHED_NO_MATCH, 0},
		{"labels are case-sensitive", c_label_case, N(c_label_case), &job_large,
		 SCHED_NO_MATCH, 0},
		{"all full", c_full, N(c_full), &job_amd64, SCHED_BUSY, 0},
		{"most room", c_most_room, N(c_most_room), &job_amd64, SCHED_PICKED, 1},
		{"room, not size", c_room_not_size, N(c_room_not_size), &job_amd64,
		 SCHED_PICKED, 1},
		{"tie to earlier", c_tie, N(c_tie), &job_amd64, SCHED_PICKED, 1},
		{"capacity 0 / full", c_zero_cap, N(c_zero_cap), &job_amd64, SCHED_BUSY, 0},
		{"only last free", c_last_free, N(c_last_free), &job_amd64, SCHED_PICKED, 2},
		{"multi-platform", c_multi, N(c_multi), &job_386, SCHED_PICKED, 1},
		{"multi-platform room", c_multi, N(c_multi), &job_amd64, SCHED_PICKED, 0},
		{"host type a", c_host_types, N(c_host_types), &job_ht_a, SCHED_PICKED, 1},
		{"host type b", c_host_types, N(c_host_types), &job_ht_b, SCHED_PICKED, 0},
		{"host type, other platform", c_host_types, N(c_host_types),
		 &job_ht_arm, SCHED_NO_MATCH, 0},
		{"unbound job runs on any type", c_host_types, N(c_host_types),
		 &job_amd64, SCHED_PICKED, 0},
		{"empty host type is unbound", c_host_types, N(c_host_types),
		 &job_ht_empty, SCHED_PICKED, 0},
		/* Its own type is full: another type's free slot does not count. */
		{"host type busy", c_host_type_full, N(c_host_type_full), &job_ht_a,
		 SCHED_BUSY, 0},
		{"host types are exact", c_host_type_case, N(c_host_type_case),
		 &job_ht_a, SCHED_NO_MATCH, 0},
		{"host type and labels", c_host_type_labels, N(c_host_type_labels),
		 &job_ht_large, SCHED_NO_MATCH, 0},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		size_t pick = 12345;
		enum sched_verdict v = sched_pick(cases[i].c, cases[i].n,
						  cases[i].job, &pick);

		if (v != cases[i].v)
			fail_msg("%s: verdict %d, want %d", cases[i].name, v,
				 cases[i].v);
		if (v == SCHED_PICKED && pick != cases[i].pick)
			fail_msg("%s: picked %zu, want %zu", cases[i].name, pick,
				 cases[i].pick);
	}
}

static void test_matches_ignores_slots(void **state)
{
	(void)state;
	assert_true(sched_matches(&c_full[0], &job_amd64));   /* full */
	assert_true(sched_matches(&c_zero_cap[0], &job_amd64)); /* capacity 0 */
	assert_false(sched_matches(&c_full[2], &job_amd64));
	assert_true(sched_matches(&c_labels[1], &job_large));
	assert_false(sched_matches(&c_labels[0], &job_large));
	assert_true(sched_matches(&c_multi[1], &job_386));
	assert_false(sched_matches(&c_multi[0], &job_386));
	assert_true(sched_matches(&c_host_type_full[0], &job_ht_a)); /* full */
	assert_false(sched_matches(&c_host_type_full[1], &job_ht_a));
	assert_false(sched_matches(&c_host_type_case[2], &job_ht_a)); /* NULL */
	assert_true(sched_matches(&c_host_type_case[2], &job_amd64));
}

static void test_reason_texts(void **state)
{
	static const struct {
		enum sched_verdict v;        /* verdict */
		const struct sched_job *job; /* job */
		const char *text;            /* expected reason */
	} cases[] = {
		{SCHED_NO_MATCH, &job_riscv, "waiting for a linux/riscv64 buildlet"},
		{SCHED_NO_MATCH, &job_large_gpu,
		 "waiting for a linux/amd64 buildlet with labels large, gpu"},
		{SCHED_NO_MATCH, &job_large,
		 "waiting for a linux/amd64 buildlet with label large"},
		{SCHED_BUSY, &job_amd64, "waiting for a free linux/amd64 buildlet"},
		/* Busy means a matching one exists: labels add nothing. */
		{SCHED_BUSY, &job_large_gpu, "waiting for a free linux/amd64 buildlet"},
		{SCHED_PICKED, &job_large_gpu, ""},
		{SCHED_NO_MATCH, &job_ht_arm,
		 "waiting for a linux/arm64 buildlet of host type linux-arm64"},
		{SCHED_NO_MATCH, &job_ht_large,
		 "waiting for a linux/amd64 buildlet of host type linux-amd64-a "
		 "with label large"},
		{SCHED_BUSY, &job_ht_large,
		 "waiting for a free linux/amd64 buildlet of host type linux-amd64-a"},
		{SCHED_NO_MATCH, &job_ht_empty, "waiting for a linux/amd64 buildlet"},
		{SCHED_PICKED, &job_ht_a, ""},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		char out[128];

		memset(out, '#', sizeof out);
		out[sizeof out - 1] = '\0';
		sched_reason(cases[i].v, cases[i].job, out, sizeof out);
		assert_string_equal(out, cases[i].text);
	}
}

/* Every buffer size from 1 to the full length: a prefix, never overrun. */
static void test_reason_truncation(void **state)
{
	static const struct {
		enum sched_verdict v;        /* verdict */
		const struct sched_job *job; /* job */
	} cases[] = {
		{SCHED_NO_MATCH, &job_large_gpu},
		{SCHED_NO_MATCH, &job_riscv},
		{SCHED_BUSY, &job_amd64},
		{SCHED_NO_MATCH, &job_ht_large},
		{SCHED_BUSY, &job_ht_a},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		char full[128];
		size_t len;

		sched_reason(cases[i].v, cases[i].job, full, sizeof full);
		len = strlen(full);
		assert_true(len > 0);
		for (size_t n = 1; n <= len + 1; n++) {
			char out[128];

			memset(out, '#', sizeof out);
			sched_reason(cases[i].v, cases[i].job, out, n);
			assert_int_equal(strlen(out), n - 1);
			assert_memory_equal(out, full, n - 1);
			for (size_t k = n; k < sizeof out; k++)
				if (out[k] != '#')
					fail_msg("n=%zu: byte %zu overwritten", n, k);
		}
	}
}

/*
 * With n == 0, sched_reason() must write nothing: it once appended the
 * labels at out + strlen(out) with a size of n - strlen(out), which wraps
 * around. The buffer sits in a struct so an overrun lands in a guard we
 * can check instead of crashing.
 */
static void test_reason_size_zero(void **state)
{
	struct {
		char out[64];   /* what the caller passes, with size 0 */
		char guard[64]; /* must stay untouched */
	} b;

	(void)state;
	memset(&b, '#', sizeof b);
	b.out[sizeof b.out - 1] = '\0'; /* old contents of the caller's buffer */
	sched_reason(SCHED_NO_MATCH, &job_large_gpu, b.out, 0);
	for (size_t k = 0; k < sizeof b.out - 1; k++)
		if (b.out[k] != '#')
			fail_msg("size 0: out[%zu] overwritten", k);
	for (size_t k = 0; k < sizeof b.guard; k++)
		if (b.guard[k] != '#')
			fail_msg("size 0: wrote %zu bytes past the buffer", k + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_table),
		cmocka_unit_test(test_matches_ignores_slots),
		cmocka_unit_test(test_reason_texts),
		cmocka_unit_test(test_reason_truncation),
		cmocka_unit_test(test_reason_size_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
