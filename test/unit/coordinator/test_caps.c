/*
 * test_caps.c - unit tests for coordinator/caps.c: which artifact goes
 * over which cap (per file, count, total per attempt), at the edges, the
 * order the caps are judged in, and that the message names the file and
 * the flag; hostile sizes near INT64_MAX do not overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "caps.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_artifact_check(void **state)
{
	static const struct caps cap = {1000, 3, 2500};
	static const struct {
		int64_t count;    /* artifacts before it */
		int64_t bytes;    /* their bytes */
		int64_t size;     /* this one */
		const char *code; /* expected, NULL = fits */
		const char *says; /* expected in the message */
	} cases[] = {
		{0, 0, 0, NULL, NULL},
		{0, 0, 1000, NULL, NULL},                  /* at the file cap */
		{0, 0, 1001, "artifact_too_large", "1001 bytes is over the limit of 1000 bytes per file (--max-artifact-bytes)"},
		{2, 1500, 1000, NULL, NULL},               /* third, total 2500 */
		{3, 0, 1, "too_many_artifacts", "over the limit of 3 artifacts per job (--max-artifacts)"},
		{2, 1501, 1000, "artifacts_too_large", "over the limit of 2500 bytes per job (--max-artifact-total)"},
		{2, 2500, 0, NULL, NULL},                  /* empty file: fits */
		/* the per-file cap is judged first */
		{5, 9999, 5000, "artifact_too_large", "5000 bytes"},
		/* count before total */
		{3, 9999, 1, "too_many_artifacts", "3 artifacts"},
		{0, 0, INT64_MAX, "artifact_too_large", "9223372036854775807 bytes"},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		char why[400] = "";
		const char *code = caps_artifact_check(&cap, cases[i].count,
						       cases[i].bytes, "out/app",
						       cases[i].size, why,
						       sizeof why);

		if (!cases[i].code) {
			if (code)
				fail_msg("case %zu: refused (%s: %s)", i, code, why);
			continue;
		}
		if (!code || strcmp(code, cases[i].code))
			fail_msg("case %zu: got %s, want %s", i,
				 code ? code : "NULL", cases[i].code);
		if (strncmp(why, "artifact out/app: ", 18) ||
		    !strstr(why, cases[i].says))
			fail_msg("case %zu: message \"%s\"", i, why);
	}
}

static void test_huge_caps_no_overflow(void **state)
{
	/* Caps at the parser's ceiling, a total already near it. */
	static const struct caps cap = {(int64_t)1 << 62, 1000, (int64_t)1 << 62};
	char why[400] = "";

	(void)state;
	assert_null(caps_artifact_check(&cap, 1, ((int64_t)1 << 62) - 10, "a",
					10, why, sizeof why));
	assert_string_equal(caps_artifact_check(&cap, 1, (int64_t)1 << 62, "a",
						(int64_t)1 << 62, why,
						sizeof why),
			    "artifacts_too_large");
}

static void test_message_fits_small_buffer(void **state)
{
	static const struct caps cap = {10, 10, 10};
	char why[16];

	(void)state;
	assert_string_equal(caps_artifact_check(&cap, 0, 0, "a-long-file-name",
						11, why, sizeof why),
			    "artifact_too_large");
	assert_int_equal(strlen(why), sizeof why - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_artifact_check),
		cmocka_unit_test(test_huge_caps_no_overflow),
		cmocka_unit_test(test_message_fits_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
