/*
 * test_peers.c - unit tests for coordinator/peers.c: the per-address
 * connection cap (counted by fd, reused fds, other addresses unaffected),
 * IPv4-mapped folding, and the failed-handshake window (limit reached
 * exactly once, wait time, expiry, sweep).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "peers.h"

static struct peers *mk(int conns, int failures, int64_t window_ms)
{
	struct peers_limits lim = {conns, failures, window_ms};

	return peers_new(&lim);
}

static void test_cap_per_address(void **state)
{
	struct peers *p = mk(3, 0, 1000);

	(void)state;
	for (int fd = 10; fd < 13; fd++)
		assert_int_equal(peers_connect(p, fd, "127.0.0.2"), 0);
	assert_int_equal(peers_connect(p, 13, "127.0.0.2"), 1);
	assert_int_equal(peers_conns(p, "127.0.0.2"), 3);
	/* another address is not affected */
	assert_int_equal(peers_connect(p, 14, "127.0.0.1"), 0);
	/* a refused fd was never counted: closing it changes nothing */
	peers_disconnect(p, 13);
	assert_int_equal(peers_conns(p, "127.0.0.2"), 3);
	peers_disconnect(p, 11);
	assert_int_equal(peers_conns(p, "127.0.0.2"), 2);
	assert_int_equal(peers_connect(p, 11, "127.0.0.2"), 0);
	peers_free(&p);
	assert_null(p);
}

static void test_mapped_ipv4_is_one_address(void **state)
{
	struct peers *p = mk(2, 0, 1000);
	char out[PEER_ADDR_MAX];

	(void)state;
	peers_addr_fold("::FFFF:10.1.2.3", out, sizeof out);
	assert_string_equal(out, "10.1.2.3");
	peers_addr_fold("::ffff:abcd", out, sizeof out); /* not IPv4-mapped */
	assert_string_equal(out, "::ffff:abcd");
	assert_int_equal(peers_connect(p, 3, "10.1.2.3"), 0);
	assert_int_equal(peers_connect(p, 4, "::ffff:10.1.2.3"), 0);
	assert_int_equal(peers_connect(p, 5, "10.1.2.3"), 1);
	peers_free(&p);
}

static void test_reused_fd_is_recounted(void **state)
{
	struct peers *p = mk(0, 0, 1000);

	(void)state;
	assert_int_equal(peers_connect(p, 7, "a"), 0);
	/* the close of fd 7 was missed; the kernel hands 7 out again */
	assert_int_equal(peers_connect(p, 7, "b"), 0);
	assert_int_equal(peers_conns(p, "a"), 0);
	assert_int_equal(peers_conns(p, "b"), 1);
	peers_disconnect(p, 7);
	peers_disconnect(p, 7);
	assert_int_equal(peers_conns(p, "b"), 0);
	/* large fds grow the table */
	assert_int_equal(peers_connect(p, 19999, "c"), 0);
	assert_int_equal(peers_conns(p, "c"), 1);
	peers_disconnect(p, -1);
	peers_free(&p);
}

static void test_failure_window(void **state)
{
	struct peers *p = mk(0, 3, 60000);

	(void)state;
	assert_int_equal(peers_fail(p, "x", 1000), 0);
	assert_int_equal(peers_fail(p, "x", 2000), 0);
	assert_int_equal(peers_blocked(p, "x", 2000), 0);
	assert_int_equal(peers_fail(p, "x", 3000), 1); /* the limit, said once */
	assert_int_equal(peers_fail(p, "x", 4000), 0);
	assert_int_equal(peers_blocked(p, "x", 4000), 57);
	assert_int_equal(peers_blocked(p, "y", 4000), 0);
	assert_int_equal(peers_blocked(p, "x", 61000), 0);
	/* a new window starts afresh */
	assert_int_equal(peers_fail(p, "x", 61000), 0);
	assert_int_equal(peers_blocked(p, "x", 61000), 0);
	peers_free(&p);
}

static void test_sweep_forgets_old_failures(void **state)
{
	struct peers *p = mk(0, 2, 1000);

	(void)state;
	peers_fail(p, "x", 0);
	peers_fail(p, "x", 10);
	assert_true(peers_blocked(p, "x", 500) > 0);
	peers_sweep(p, 500);
	assert_true(peers_blocked(p, "x", 500) > 0);
	peers_sweep(p, 2000);
	assert_int_equal(peers_blocked(p, "x", 2000), 0);
	/* an address still connected survives the sweep */
	assert_int_equal(peers_connect(p, 5, "y"), 0);
	peers_sweep(p, 5000);
	assert_int_equal(peers_conns(p, "y"), 1);
	peers_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_per_address),
		cmocka_unit_test(test_mapped_ipv4_is_one_address),
		cmocka_unit_test(test_reused_fd_is_recounted),
		cmocka_unit_test(test_failure_window),
		cmocka_unit_test(test_sweep_forgets_old_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
