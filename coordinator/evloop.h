/*
 * evloop.h - the loop under the coordinator's lws context.
 *
 * lws' default loop calls poll(2) over every descriptor on each wake-up:
 * with thousands of idle buildlets, each heartbeat costs a walk of all of
 * them. Where libev and lws' libev plugin exist, lws runs on a libev loop
 * we own (epoll on Linux; elsewhere what libev picks), and a wake-up
 * costs only the ready descriptors. Anywhere else the poll loop stays.
 */
#ifndef RFARM_EVLOOP_H
#define RFARM_EVLOOP_H

#include <libwebsockets.h>

struct evloop;

/* A loop for lws to run on, or NULL: this build has no libev, or
 * RFARM_EVLOOP=poll asks for the poll loop. */
struct evloop *evloop_new(void);

/* Point the context about to be created at e's loop. */
void evloop_attach(struct evloop *e, struct lws_context_creation_info *info);

/* Wait for the next batch of events and handle it: e's loop, or
 * lws_service when e is NULL. Negative when lws says stop. */
int evloop_run_once(struct evloop *e, struct lws_context *ctx);

/* What runs the loop, for the log: "libev (epoll)", "poll". */
const char *evloop_name(const struct evloop *e);

/* After the context that ran on e is destroyed. */
void evloop_free(struct evloop **e);

#endif
