/*
 * test_buf.c - unit tests for common/buf.c: the hard cap and the sticky
 * first error, headroom that survives growth, printf growth, consume and
 * the NUL-terminated view.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void test_append_grows(void **state)
{
	struct buf b;
	char chunk[100];

	(void)state;
	buf_init(&b, 0, 0);
	assert_null(buf_data(&b));
	memset(chunk, 'x', sizeof chunk);
	/* 100 appends of 100 bytes force several reallocations. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(buf_append(&b, chunk, sizeof chunk), RC_OK);
	assert_int_equal(b.len, 10000);
	assert_true(b.cap > b.len); /* room for the terminator */
	assert_int_equal(buf_putc(&b, 'y'), RC_OK);
	assert_int_equal(buf_puts(&b, "zz"), RC_OK);
	assert_int_equal(b.len, 10003);
	assert_memory_equal(buf_data(&b) + 9998, "xxyzz", 5);
	assert_int_equal(b.err, RC_OK);
	buf_free(&b);
	assert_null(b.mem);
	assert_int_equal(b.len, 0);
}

static void test_cap_too_large_first_error_kept(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0, 8);
	assert_int_equal(buf_puts(&b, "12345678"), RC_OK); /* exactly the cap */
	assert_int_equal(buf_putc(&b, '9'), RC_TOO_LARGE);
	assert_int_equal(b.len, 8); /* unchanged by the failed append */
	assert_int_equal(b.err, RC_TOO_LARGE);
	/* Later appends are refused with the first error, even empty ones. */
	assert_int_equal(buf_append(&b, "", 0), RC_TOO_LARGE);
	assert_int_equal(buf_printf(&b, "%d", 1), RC_TOO_LARGE);
	assert_int_equal(b.len, 8);
	assert_string_equal(buf_cstr(&b), "12345678");
	/* reset forgets contents and the error but keeps the allocation. */
	buf_reset(&b);
	assert_int_equal(b.err, RC_OK);
	assert_int_equal(b.len, 0);
	assert_non_null(b.mem);
	assert_int_equal(buf_puts(&b, "abc"), RC_OK);
	assert_string_equal(buf_cstr(&b), "abc");
	buf_free(&b);
}

static void test_cap_refuses_whole_append(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0, 10);
	assert_int_equal(buf_puts(&b, "abcdef"), RC_OK);
	/* 6 + 5 > 10: nothing of the 5 bytes goes in, not even a prefix. */
	assert_int_equal(buf_puts(&b, "ghijk"), RC_TOO_LARGE);
	assert_string_equal(buf_cstr(&b), "abcdef");
	buf_free(&b);
}

static void test_headroom_preserved(void **state)
{
	struct buf b;
	char big[5000];

	(void)state;
	buf_init(&b, 16, 0);
	assert_int_equal(buf_puts(&b, "hi"), RC_OK);
	assert_ptr_equal(buf_data(&b), b.mem + 16);
	/* An encoder writes a header into the headroom after appending. */
	for (int i = 0; i < 16; i++)
		b.mem[i] = (unsigned char)(0xa0 + i);
	memset(big, 'q', sizeof big);
	assert_int_equal(buf_append(&b, big, sizeof big), RC_OK); /* realloc */
	for (int i = 0; i < 16; i++)
		assert_int_equal(b.mem[i], 0xa0 + i);
	assert_memory_equal(buf_data(&b), "hiqq", 4);
	assert_int_equal(b.len, 2 + sizeof big);
	buf_free(&b);
	assert_int_equal(b.pre, 16); /* free keeps the configuration */
}

static void test_printf_growth(void **state)
{
	struct buf b;
	char expect[3000];

	(void)state;
	buf_init(&b, 4, 0);
	assert_int_equal(buf_printf(&b, "%s=%d;", "a", 1), RC_OK);
	memset(expect, 'w', sizeof expect - 1);
	expect[sizeof expect - 1] = '\0';
	/* Far beyond the first allocation: must grow, not truncate. */
	assert_int_equal(buf_printf(&b, "%s|%05d", expect, 42), RC_OK);
	assert_int_equal(b.len, 4 + 2999 + 6);
	assert_memory_equal(buf_data(&b), "a=1;www", 7);
	assert_string_equal(buf_cstr(&b) + 4 + 2999, "|00042");
	buf_free(&b);
}

static void test_printf_over_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0, 10);
	assert_int_equal(buf_printf(&b, "%d", 12345), RC_OK);
	assert_int_equal(buf_printf(&b, "%d", 123456), RC_TOO_LARGE);
	assert_string_equal(buf_cstr(&b), "12345");
	buf_free(&b);
}

static void test_consume(void **state)
{
	static const struct {
		size_t n;           /* bytes to consume from "abcdefgh" */
		const char *expect; /* what is left */
	} cases[] = {
		{0, "abcdefgh"}, {1, "bcdefgh"}, {5, "fgh"},
		{8, ""},         {100, ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b;

		buf_init(&b, 3, 0);
		assert_int_equal(buf_puts(&b, "abcdefgh"), RC_OK);
		buf_consume(&b, cases[i].n);
		assert_int_equal(b.len, strlen(cases[i].expect));
		assert_string_equal(buf_cstr(&b), cases[i].expect);
		/* Appending after consume continues right after the rest. */
		assert_int_equal(buf_putc(&b, '!'), RC_OK);
		assert_memory_equal(buf_data(&b) + b.len - 1, "!", 1);
		buf_free(&b);
	}
}

static void test_cstr(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8, 0);
	/* Never appended: still a valid empty string. */
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append(&b, "ab\0cd", 5), RC_OK);
	assert_int_equal(b.len, 5); /* the terminator is not counted */
	assert_memory_equal(buf_cstr(&b), "ab\0cd", 6);
	buf_free(&b);

	/* A capped buffer filled to the cap still has room for the NUL. */
	buf_init(&b, 0, 4);
	assert_int_equal(buf_puts(&b, "wxyz"), RC_OK);
	assert_string_equal(buf_cstr(&b), "wxyz");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_grows),
		cmocka_unit_test(test_cap_too_large_first_error_kept),
		cmocka_unit_test(test_cap_refuses_whole_append),
		cmocka_unit_test(test_headroom_preserved),
		cmocka_unit_test(test_printf_growth),
		cmocka_unit_test(test_printf_over_cap),
		cmocka_unit_test(test_consume),
		cmocka_unit_test(test_cstr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
