/*
 * test_clock.c - unit tests for common/clock.c: duration text, RFC 3339
 * formatting of fixed instants, and the clocks moving forward.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"

static void test_parse_duration(void **state)
{
	static const struct {
		const char *in; /* duration text */
		int64_t ms;     /* expected milliseconds, -1 = malformed */
	} cases[] = {
		{"90", 90000},
		{"0", 0},
		{"90s", 90000},
		{"10m", 600000},
		{"2h", 7200000},
		{"1h30m", 5400000},
		{"1h30m15s", 5415000},
		{"500ms", 500},
		{"1s500ms", 1500},
		{"1m1ms", 60001},
		{"007s", 7000},
		{"", -1},
		{"1x", -1},
		{"m", -1},
		{"ms", -1},
		{"-5", -1},
		{"+5", -1},
		{" 5", -1},
		{"5 ", -1},
		{"5 s", -1},
		{"1.5h", -1},
		{"1m30", -1},  /* a bare number is only allowed on its own */
		{"10M", -1},   /* units are lower case */
		{"1hh", -1},
		{"99999999999999999999", -1}, /* too many digits */
		{"999999999999999h", -1},     /* caught by the digit bound */
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t got = clock_parse_duration_ms(cases[i].in);

		if (got != cases[i].ms)
			fail_msg("clock_parse_duration_ms(\"%s\") = %lld, want %lld",
				 cases[i].in, (long long)got, (long long)cases[i].ms);
	}
	assert_int_equal(clock_parse_duration_ms(NULL), -1);
}

static void test_format_rfc3339(void **state)
{
	static const struct {
		int64_t ms;         /* wall clock, ms since the epoch */
		const char *plain;  /* clock_format_rfc3339 */
		const char *with_ms; /* clock_format_rfc3339_ms */
	} cases[] = {
		{0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"},
		{1795341600000, "2026-11-22T10:00:00Z", "2026-11-22T10:00:00.000Z"},
		{1795341600123, "2026-11-22T10:00:00Z", "2026-11-22T10:00:00.123Z"},
		{951782400007, "2000-02-29T00:00:00Z", "2000-02-29T00:00:00.007Z"},
		{4102444799999, "2099-12-31T23:59:59Z", "2099-12-31T23:59:59.999Z"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64];

		assert_ptr_equal(clock_format_rfc3339(cases[i].ms, out, sizeof out), out);
		assert_string_equal(out, cases[i].plain);
		assert_ptr_equal(clock_format_rfc3339_ms(cases[i].ms, out, sizeof out), out);
		assert_string_equal(out, cases[i].with_ms);
	}
}

static void test_format_truncates_safely(void **state)
{
	char out[16];

	(void)state;
	memset(out, '#', sizeof out);
	clock_format_rfc3339(1795341600000, out, 5);
	assert_string_equal(out, "2026");
	assert_int_equal(out[5], '#'); /* nothing written past n */
	memset(out, '#', sizeof out);
	clock_format_rfc3339_ms(1795341600123, out, 1);
	assert_string_equal(out, "");
	assert_int_equal(out[1], '#');
}

static void test_clocks(void **state)
{
	int64_t m1 = clock_mono_ms(), w = clock_wall_ms(), m2;

	(void)state;
	/* After 2020-01-01 and before 2100: a sane wall clock in ms. */
	assert_true(w > INT64_C(1577836800000));
	assert_true(w < INT64_C(4102444800000));
	m2 = clock_mono_ms();
	assert_true(m2 >= m1);
}

/*
 * Sums and products that would overflow int64 must be refused, not wrap
 * (under UBSan a signed overflow ends the process at the report).
 */
static void test_parse_duration_overflow(void **state)
{
	static const char *const cases[] = {
		/* 2562047788019 passes the per-digit bound, but times 3600000
		 * it exceeds INT64_MAX. */
		"2562047788019h",
		/* Each part fits; the sum does not. */
		"2000000000000h2000000000000h2000000000000h2000000000000h"
		"2000000000000h",
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t got = clock_parse_duration_ms(cases[i]);

		if (got != -1)
			fail_msg("clock_parse_duration_ms(\"%s\") = %lld, want -1",
				 cases[i], (long long)got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_format_rfc3339),
		cmocka_unit_test(test_format_truncates_safely),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_parse_duration_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
