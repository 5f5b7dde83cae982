/*
 * test_list.c - unit tests for common/list.h: order, removal from any
 * position, pop, the harmless second list_del, and safe iteration while
 * removing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "list.h"

struct item {
	int v;            /* payload */
	struct list link; /* in a test list */
};

/* The payloads in list order, as a string of digits. */
static void contents(struct list *head, char *out)
{
	struct list *l;
	size_t n = 0;

	list_for_each(l, head)
		out[n++] = (char)('0' + list_entry(l, struct item, link)->v);
	out[n] = '\0';
}

static void test_order_and_del(void **state)
{
	struct list head = LIST_INIT(head);
	struct item it[5];
	char s[8];

	(void)state;
	assert_true(list_empty(&head));
	for (int i = 0; i < 5; i++) {
		it[i].v = i;
		list_add_tail(&head, &it[i].link);
	}
	contents(&head, s);
	assert_string_equal(s, "01234");
	list_del(&it[0].link); /* first */
	list_del(&it[2].link); /* middle */
	list_del(&it[4].link); /* last */
	contents(&head, s);
	assert_string_equal(s, "13");
	/* A removed link is self-linked: deleting it again changes nothing. */
	list_del(&it[2].link);
	assert_ptr_equal(it[2].link.next, &it[2].link);
	contents(&head, s);
	assert_string_equal(s, "13");
	assert_ptr_equal(head.prev, &it[3].link);
}

static void test_pop_and_safe_iteration(void **state)
{
	struct list head, *l, *tmp;
	struct item it[6];
	char s[8];

	(void)state;
	list_init(&head);
	assert_null(list_pop(&head));
	for (int i = 0; i < 6; i++) {
		it[i].v = i;
		list_add_tail(&head, &it[i].link);
	}
	/* Remove the even ones while walking. */
	list_for_each_safe(l, tmp, &head)
		if (list_entry(l, struct item, link)->v % 2 == 0)
			list_del(l);
	contents(&head, s);
	assert_string_equal(s, "135");
	l = list_pop(&head);
	assert_ptr_equal(l, &it[1].link);
	assert_ptr_equal(l->next, l); /* popped links are self-linked */
	assert_ptr_equal(list_pop(&head), &it[3].link);
	assert_ptr_equal(list_pop(&head), &it[5].link);
	assert_null(list_pop(&head));
	assert_true(list_empty(&head));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_del),
		cmocka_unit_test(test_pop_and_safe_iteration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
