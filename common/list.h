/*
 * list.h - intrusive doubly-linked lists.
 *
 * The link lives inside the object that owns it, so putting an object on a
 * list never allocates and removing it is O(1). An empty list head points
 * at itself.
 */
#ifndef RFARM_LIST_H
#define RFARM_LIST_H

#include <stddef.h>

struct list {
	struct list *prev; /* previous link, or the head */
	struct list *next; /* next link, or the head */
};

#define LIST_INIT(name) { &(name), &(name) }
#define list_entry(link, type, member) \
	((type *)((char *)(link) - offsetof(type, member)))
#define list_for_each(pos, head) \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)
#define list_for_each_safe(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

static inline void list_init(struct list *l)
{
	l->prev = l->next = l;
}

static inline int list_empty(const struct list *l)
{
	return l->next == l;
}

static inline void list_add_tail(struct list *head, struct list *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

/* Unlink l and leave it self-linked, so a second list_del is harmless. */
static inline void list_del(struct list *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	list_init(l);
}

static inline struct list *list_pop(struct list *head)
{
	struct list *l;

	if (list_empty(head))
		return NULL;
	l = head->next;
	list_del(l);
	return l;
}

#endif
