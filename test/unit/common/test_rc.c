/*
 * test_rc.c - unit tests for common/rc.c: the name tables generated from
 * RC_LIST, and errbuf's "first message wins" rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rc.h"

static void test_names(void **state)
{
	static const struct {
		rc_t rc;          /* code */
		const char *name; /* rc_name */
		const char *text; /* rc_str */
	} cases[] = {
		{RC_OK, "RC_OK", "ok"},
		{RC_INVALID, "RC_INVALID", "invalid input"},
		{RC_TOO_LARGE, "RC_TOO_LARGE", "too large"},
		{RC_NOT_FOUND, "RC_NOT_FOUND", "not found"},
		{RC_DB, "RC_DB", "database error"},
		{RC_TIMEOUT, "RC_TIMEOUT", "timed out"},
	};

	(void)state;
	assert_int_equal(RC_OK, 0); /* `if (rc)` means failure */
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_string_equal(rc_name(cases[i].rc), cases[i].name);
		assert_string_equal(rc_str(cases[i].rc), cases[i].text);
	}
	/* Every code has a distinct, non-empty name and text. */
	for (int a = 0; a < RC__COUNT; a++) {
		assert_true(strncmp(rc_name(a), "RC_", 3) == 0);
		assert_true(rc_str(a)[0] != '\0');
		for (int b = 0; b < a; b++) {
			assert_string_not_equal(rc_name(a), rc_name(b));
			assert_string_not_equal(rc_str(a), rc_str(b));
		}
	}
	assert_string_equal(rc_name(RC__COUNT), "RC_UNKNOWN");
	assert_string_equal(rc_str(RC__COUNT), "unknown result");
}

static void test_errbuf_first_wins(void **state)
{
	struct errbuf eb = {""};
	char long_text[600];

	(void)state;
	errbuf_set(&eb, "open %s: %s", "/x", "No such file");
	errbuf_set(&eb, "second %d", 2);
	assert_string_equal(eb.msg, "open /x: No such file");
	errbuf_clear(&eb);
	assert_string_equal(eb.msg, "");
	errbuf_set(&eb, "second %d", 2);
	assert_string_equal(eb.msg, "second 2");

	/* Long text is cut and stays terminated. */
	errbuf_clear(&eb);
	memset(long_text, 'x', sizeof long_text - 1);
	long_text[sizeof long_text - 1] = '\0';
	errbuf_set(&eb, "%s", long_text);
	assert_int_equal(strlen(eb.msg), sizeof eb.msg - 1);

	/* No buffer: a no-op, not a crash. */
	errbuf_set(NULL, "ignored %d", 1);
	errbuf_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_errbuf_first_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
