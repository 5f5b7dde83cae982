/*
 * test_netaddr.c - unit tests for common/netaddr.c: loopback names, the
 * host of a URL (ports, user info, IPv6 brackets, paths) and the rule for
 * plain http/ws.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "netaddr.h"

static void test_loopback(void **state)
{
	(void)state;
	assert_true(net_host_is_loopback("127.0.0.1"));
	assert_true(net_host_is_loopback("127.9.9.9"));
	assert_true(net_host_is_loopback("LOCALHOST"));
	assert_true(net_host_is_loopback("::1"));
	assert_true(net_host_is_loopback("[::1]"));
	assert_false(net_host_is_loopback("10.0.0.1"));
	assert_false(net_host_is_loopback("127example.com"));
	assert_false(net_host_is_loopback("localhost.evil.example"));
	assert_false(net_host_is_loopback(""));
}

static void test_url_host(void **state)
{
	char h[64];

	(void)state;
	assert_int_equal(net_url_host("http://farm.example:8080/x", h, sizeof h), 0);
	assert_string_equal(h, "farm.example");
	assert_int_equal(net_url_host("ws://user:pw@127.0.0.1/buildlet", h, sizeof h), 0);
	assert_string_equal(h, "127.0.0.1");
	assert_int_equal(net_url_host("https://[::1]:8443", h, sizeof h), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(net_url_host("http://host?q=a/b", h, sizeof h), 0);
	assert_string_equal(h, "host");
	/* the @ of a path is not user info */
	assert_int_equal(net_url_host("http://10.0.0.1/a@127.0.0.1", h, sizeof h), 0);
	assert_string_equal(h, "10.0.0.1");
	assert_int_equal(net_url_host("http://:80/", h, sizeof h), -1);
	assert_int_equal(net_url_host("http://[::1", h, sizeof h), -1);
	assert_int_equal(net_url_host("http://averyveryverylonghostname.example", h, 8), -1);
}

static void test_may_use(void **state)
{
	(void)state;
	assert_true(net_url_may_use("https://farm.example", 0));
	assert_true(net_url_may_use("WSS://farm.example", 0));
	assert_true(net_url_may_use("http://127.0.0.1:8080", 0));
	assert_true(net_url_may_use("http://localhost", 0));
	assert_false(net_url_may_use("http://farm.example", 0));
	assert_false(net_url_may_use("ws://127.0.0.1.evil.example", 0));
	assert_false(net_url_may_use("http://user@evil.example/@127.0.0.1", 0));
	assert_true(net_url_may_use("http://farm.example", 1));
	assert_false(net_url_may_use("http://", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_url_host),
		cmocka_unit_test(test_may_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
