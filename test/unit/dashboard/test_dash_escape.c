/*
 * test_dash_escape.c - unit tests for the dashboard's escapers (html.c,
 * utf8.c): HTML text and attributes, JSON strings, URL paths, UTF-8
 * validation and the small formatters.
 *
 * Tables of input and exact expected output; JSON output is also parsed
 * back with jansson, which must return the input (invalid bytes replaced).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "dashboard.h"
#include "html.h"
#include "utf8.h"
#include "xalloc.h"

#define FFFD "\xEF\xBF\xBD"

static char *escape_n(const char *s, size_t n)
{
	struct buf b;
	char *r;

	buf_init(&b, 0, 0);
	html_escape_n(&b, s, n);
	r = xstrdup(b.len ? buf_cstr(&b) : "");
	buf_free(&b);
	return r;
}

static void test_escape_table(void **state)
{
	static const struct {
		const char *in;  /* raw text */
		const char *out; /* expected escaped text */
	} cases[] = {
		{ "", "" },
		{ "plain text", "plain text" },
		{ "&", "&amp;" },
		{ "<", "&lt;" },
		{ ">", "&gt;" },
		{ "\"", "&quot;" },
		{ "'", "&#39;" },
		{ "a<b&c>d", "a&lt;b&amp;c&gt;d" },
		{ "&amp;", "&amp;amp;" },
		{ "<script>alert(1)</script>",
		  "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "x\" onmouseover='y'", "x&quot; onmouseover=&#39;y&#39;" },
		{ "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x90\x91",
		  "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x90\x91" },
		{ "tab\tnl\ncr\r", "tab\tnl\ncr\r" },
		{ "bell\x07" "del\x7f", "bell" FFFD "del" FFFD },
		/* invalid UTF-8: one U+FFFD per byte that does not decode */
		{ "a\xFF" "b", "a" FFFD "b" },
		{ "\xC3", FFFD },                   /* cut short at the end */
		{ "\xC3(", FFFD "(" },              /* missing continuation */
		{ "\xC0\xAF", FFFD FFFD },          /* overlong '/' */
		{ "\xE0\x80\xAF", FFFD FFFD FFFD }, /* overlong, 3 bytes */
		{ "\xED\xA0\x80", FFFD FFFD FFFD }, /* a surrogate */
		{ "\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD }, /* > U+10FFFF */
		{ "\xC2\x85", FFFD },               /* C1 control NEL */
		{ "\x80<", FFFD "&lt;" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = escape_n(cases[i].in, strlen(cases[i].in));

		assert_string_equal(got, cases[i].out);
		free(got);
	}
}

static void test_escape_nul_and_null(void **state)
{
	struct buf b;
	char *got;

	(void)state;
	got = escape_n("a\0b", 3); /* a log may hold NUL bytes */
	assert_string_equal(got, "a" FFFD "b");
	free(got);

	buf_init(&b, 0, 0);
	html_escape(&b, NULL);
	assert_int_equal(b.len, 0);
	html_escape(&b, "x&y");
	assert_string_equal(buf_cstr(&b), "x&amp;y");
	buf_free(&b);

	/* A capped buffer keeps its first error; escaping never overruns. */
	buf_init(&b, 0, 8);
	html_escape(&b, "<<<<<<<<");
	assert_int_equal(b.err, RC_TOO_LARGE);
	assert_true(b.len <= 8);
	buf_free(&b);
}

static void test_utf8_decode(void **state)
{
	static const struct {
		const char *in; /* bytes */
		size_t len;     /* expected sequence length, 0 invalid */
		uint32_t cp;    /* expected code point */
	} cases[] = {
		{ "A", 1, 0x41 },
		{ "\xC3\xA9", 2, 0xE9 },
		{ "\xE2\x9C\x93", 3, 0x2713 },
		{ "\xF0\x9F\x90\x91", 4, 0x1F411 },
		{ "\xF4\x8F\xBF\xBF", 4, 0x10FFFF },
		{ "\xEF\xBF\xBD", 3, 0xFFFD },
		{ "\xC1\xBF", 0, 0 },
		{ "\xE0\x9F\xBF", 0, 0 },
		{ "\xED\xBF\xBF", 0, 0 },
		{ "\xF0\x8F\xBF\xBF", 0, 0 },
		{ "\xF5\x80\x80\x80", 0, 0 },
		{ "\xE2\x9C", 0, 0 },
		{ "\xBF", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint32_t cp = 0;
		size_t n = utf8_decode((const unsigned char *)cases[i].in,
				       strlen(cases[i].in), &cp);

		assert_int_equal(n, cases[i].len);
		if (n)
			assert_int_equal(cp, cases[i].cp);
	}
}

static void test_utf8_prefix_and_trunc(void **state)
{
	char cmd[2 * 100 + 1];
	struct buf b;

	(void)state;
	assert_int_equal(html_utf8_prefix("", 5), 0);
	assert_int_equal(html_utf8_prefix("abcdef", 3), 3);
	assert_int_equal(html_utf8_prefix("\xC3\xA9\xC3\xA9\xC3\xA9", 2), 4);
	assert_int_equal(html_utf8_prefix("\xF0\x9F\x90\x91x", 1), 4);
	for (int i = 0; i < 100; i++)
		memcpy(cmd + 2 * i, "\xC3\xA9", 2);
	cmd[200] = '\0';
	buf_init(&b, 0, 0);
	html_escape_trunc(&b, cmd, 80);
	assert_int_equal(b.len, 160 + 3); /* 80 two-byte chars, then "…" */
	assert_memory_equal(buf_cstr(&b), cmd, 160);
	assert_string_equal(buf_cstr(&b) + 160, "\xE2\x80\xA6");
	buf_reset(&b);
	html_escape_trunc(&b, "short & sweet", 80);
	assert_string_equal(buf_cstr(&b), "short &amp; sweet");
	buf_free(&b);
}

static void test_formatters(void **state)
{
	static const struct {
		int64_t ms;       /* duration */
		const char *text; /* expected display */
	} durations[] = {
		{ 0, "0ms" },          { 340, "340ms" },
		{ 1000, "1.0s" },      { 1234, "1.2s" },
		{ 60000, "1m00s" },    { 125000, "2m05s" },
		{ 3723000, "1h02m" },  { -5, "0ms" },
	};
	static const struct {
		int64_t bytes;    /* size */
		const char *text; /* expected display */
	} sizes[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1536, "1.5 KiB" },
		{ 12 * 1024 * 1024, "12.0 MiB" },
	};
	struct buf b;

	(void)state;
	buf_init(&b, 0, 0);
	for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
		buf_reset(&b);
		html_duration(&b, durations[i].ms);
		assert_string_equal(buf_cstr(&b), durations[i].text);
	}
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		buf_reset(&b);
		html_size(&b, sizes[i].bytes);
		assert_string_equal(buf_cstr(&b), sizes[i].text);
	}
	buf_reset(&b);
	html_time(&b, INT64_C(1795341600000));
	assert_string_equal(buf_cstr(&b), "<time datetime=\"2026-11-22T10:00:00Z\">"
					  "2026-11-22T10:00:00Z</time>");
	buf_free(&b);
}

static void test_url_path(void **state)
{
	static const struct {
		const char *in;  /* artifact name */
		const char *out; /* expected path text */
	} cases[] = {
		{ "out/app.tar.gz", "out/app.tar.gz" },
		{ "a b&c\"d<e>'", "a%20b%26c%22d%3Ce%3E%27" },
		{ "caf\xC3\xA9?#%", "caf%C3%A9%3F%23%25" },
		{ "\xFF", "%FF" },
	};
	struct buf b;

	(void)state;
	buf_init(&b, 0, 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf_reset(&b);
		html_url_path(&b, cases[i].in);
		assert_string_equal(buf_cstr(&b), cases[i].out);
	}
	buf_free(&b);
}

static void test_json_strings(void **state)
{
	static const struct {
		const char *in;     /* raw bytes */
		const char *out;    /* expected JSON text */
		const char *parsed; /* what a JSON parser must read back */
	} cases[] = {
		{ "", "\"\"", "" },
		{ "plain", "\"plain\"", "plain" },
		{ "q\"b\\", "\"q\\\"b\\\\\"", "q\"b\\" },
		{ "a\nb\tc\r", "\"a\\nb\\tc\\r\"", "a\nb\tc\r" },
		{ "\x01\x1f", "\"\\u0001\\u001f\"", "\x01\x1f" },
		{ "</script>&", "\"\\u003c/script\\u003e\\u0026\"", "</script>&" },
		{ "caf\xC3\xA9", "\"caf\xC3\xA9\"", "caf\xC3\xA9" },
		{ "x\xFFy", "\"x\\ufffdy\"", "x" FFFD "y" },
		{ "\xE2\x80\xA8", "\"\\u2028\"", "\xE2\x80\xA8" },
	};
	struct buf b;

	(void)state;
	buf_init(&b, 0, 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char doc[256];
		json_error_t err;
		json_t *v;

		buf_reset(&b);
		jsonw_str(&b, cases[i].in);
		assert_string_equal(buf_cstr(&b), cases[i].out);
		snprintf(doc, sizeof doc, "[%s]", buf_cstr(&b));
		v = json_loads(doc, 0, &err);
		assert_non_null(v);
		assert_string_equal(json_string_value(json_array_get(v, 0)),
				    cases[i].parsed);
		json_decref(v);
	}
	/* NUL inside a counted string, NULL as "" and times. */
	buf_reset(&b);
	jsonw_str_n(&b, "a\0b", 3);
	jsonw_str(&b, NULL);
	jsonw_time(&b, 0);
	jsonw_time(&b, INT64_C(1795341600000));
	assert_string_equal(buf_cstr(&b), "\"a\\u0000b\"\"\"null"
					  "\"2026-11-22T10:00:00Z\"");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_table),
		cmocka_unit_test(test_escape_nul_and_null),
		cmocka_unit_test(test_utf8_decode),
		cmocka_unit_test(test_utf8_prefix_and_trunc),
		cmocka_unit_test(test_formatters),
		cmocka_unit_test(test_url_path),
		cmocka_unit_test(test_json_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
