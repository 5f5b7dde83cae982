/*
 * test_jobstate.c - unit tests for coordinator/jobstate.c: every one of
 * the 7x7 transitions against a table written out by hand from the state
 * machine, names both ways, and which states are final.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jobstate.h"

/*
 * legal[from][to], from the life cycle in jobstate.h / DESIGN.md:
 *   queued     -> dispatched, cancelled, error, and passed or failed
 *                 (answered from an identical job without running)
 *   dispatched -> running, queued (buildlet lost), any final state (a
 *                 buildlet may report done without started)
 *   running    -> queued (buildlet lost), any final state
 *   failed, cancelled, error -> queued (a user's retry: a new attempt)
 *   passed     -> nothing
 * No state moves to itself.
 */
#define Q JOB_QUEUED
#define D JOB_DISPATCHED
#define R JOB_RUNNING
#define P JOB_PASSED
#define F JOB_FAILED
#define C JOB_CANCELLED
#define E JOB_ERROR
static const int legal[JOB__COUNT][JOB__COUNT] = {
	/*          Q  D  R  P  F  C  E */
	[Q] = {0, 1, 0, 1, 1, 1, 1},
	[D] = {1, 0, 1, 1, 1, 1, 1},
	[R] = {1, 0, 0, 1, 1, 1, 1},
	[P] = {0, 0, 0, 0, 0, 0, 0},
	[F] = {1, 0, 0, 0, 0, 0, 0},
	[C] = {1, 0, 0, 0, 0, 0, 0},
	[E] = {1, 0, 0, 0, 0, 0, 0},
};

static void test_transition_table(void **state)
{
	(void)state;
	assert_int_equal(JOB__COUNT, 7);
	for (int from = 0; from < JOB__COUNT; from++)
		for (int to = 0; to < JOB__COUNT; to++)
			if (job_state_legal(from, to) != legal[from][to])
				fail_msg("job_state_legal(%s, %s) = %d, want %d",
					 job_state_name(from), job_state_name(to),
					 job_state_legal(from, to), legal[from][to]);
}

static void test_out_of_range_is_illegal(void **state)
{
	(void)state;
	/* JOB__COUNT is not a state: nothing leads to it or out of it. */
	for (int s = 0; s < JOB__COUNT; s++) {
		assert_false(job_state_legal(JOB__COUNT, s));
		assert_false(job_state_legal(s, JOB__COUNT));
	}
	assert_false(job_state_final(JOB__COUNT));
}

static void test_names(void **state)
{
	/* The wire names of DESIGN.md, in enum order. */
	static const struct {
		enum job_state s; /* state */
		const char *name; /* its name on the wire */
	} cases[] = {
		{Q, "queued"}, {D, "dispatched"}, {R, "running"}, {P, "passed"},
		{F, "failed"}, {C, "cancelled"},  {E, "error"},
	};

	(void)state;
	assert_int_equal(sizeof cases / sizeof cases[0], JOB__COUNT);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_string_equal(job_state_name(cases[i].s), cases[i].name);
		assert_int_equal(job_state_parse(cases[i].name), cases[i].s);
	}
	assert_string_equal(job_state_name(JOB__COUNT), "?");
}

static void test_parse_unknown(void **state)
{
	static const char *const bad[] = {
		"", "Queued", "QUEUED", "queued ", " queued", "queue", "canceled",
		"done", "?", "passedx",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (job_state_parse(bad[i]) != -1)
			fail_msg("job_state_parse(\"%s\") = %d, want -1", bad[i],
				 job_state_parse(bad[i]));
}

static void test_final(void **state)
{
	static const int final[JOB__COUNT] = {
		[Q] = 0, [D] = 0, [R] = 0, [P] = 1, [F] = 1, [C] = 1, [E] = 1,
	};

	(void)state;
	for (int s = 0; s < JOB__COUNT; s++) {
		assert_int_equal(job_state_final(s), final[s]);
		/* A final state's only way out is a retry, back to queued. */
		for (int to = 0; to < JOB__COUNT && final[s]; to++)
			if (to != Q)
				assert_false(job_state_legal(s, to));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transition_table),
		cmocka_unit_test(test_out_of_range_is_illegal),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_unknown),
		cmocka_unit_test(test_final),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
