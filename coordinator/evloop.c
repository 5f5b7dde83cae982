/*
 * evloop.c - a libev loop under lws, or nothing (lws' poll loop).
 *
 * The loop is "foreign" to lws: we create it, so lws installs no signal
 * watchers of its own (the CLI's handlers for SIGINT/SIGTERM/SIGHUP stay
 * in force) and we decide when it runs. ev_run(EVRUN_ONCE) returns after
 * one batch of events, where lws_service returned, so the coordinator's
 * per-turn work still follows every batch. lws_cancel_service wakes it
 * the same way (a write to lws' event pipe, which sits in this loop), and
 * lws' sul timers run from an ev_timer lws keeps in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evloop.h"
#include "xalloc.h"

#if defined(RFARM_HAVE_LIBEV) && defined(LWS_WITH_LIBEV)
#include <ev.h>

struct evloop {
	struct ev_loop *loop; /* ours: lws gets it as a foreign loop */
	void *foreign[1];     /* info.foreign_loops: one service thread */
	char name[32];        /* for the log */
};

static const char *backend_name(unsigned backend)
{
	switch (backend) {
	case EVBACKEND_EPOLL:
		return "epoll";
	case EVBACKEND_KQUEUE:
		return "kqueue";
	case EVBACKEND_POLL:
		return "poll";
	case EVBACKEND_SELECT:
		return "select";
	default:
		return "other";
	}
}

struct evloop *evloop_new(void)
{
	const char *want = getenv("RFARM_EVLOOP");
	struct evloop *e;
	struct ev_loop *loop;

	if (want && !strcmp(want, "poll"))
		return NULL;
	/* EVFLAG_NOSIGMASK: libev leaves the signal mask alone; we watch
	 * no signals with it. */
	loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
	if (!loop)
		return NULL;
	e = xcalloc(1, sizeof *e);
	e->loop = loop;
	e->foreign[0] = loop;
	snprintf(e->name, sizeof e->name, "libev (%s)",
		 backend_name(ev_backend(loop)));
	return e;
}

void evloop_attach(struct evloop *e, struct lws_context_creation_info *info)
{
	info->options |= LWS_SERVER_OPTION_LIBEV;
	info->foreign_loops = e->foreign;
}

int evloop_run_once(struct evloop *e, struct lws_context *ctx)
{
	if (!e)
		return lws_service(ctx, 0);
	ev_run(e->loop, EVRUN_ONCE);
	return 0;
}

const char *evloop_name(const struct evloop *e)
{
	return e ? e->name : "poll";
}

void evloop_free(struct evloop **ep)
{
	struct evloop *e = *ep;

	if (!e)
		return;
	ev_loop_destroy(e->loop);
	free(e);
	*ep = NULL;
}

#else /* no libev here: lws' own poll loop */

struct evloop *evloop_new(void)
{
	return NULL;
}

void evloop_attach(struct evloop *e, struct lws_context_creation_info *info)
{
	(void)e;
	(void)info;
}

int evloop_run_once(struct evloop *e, struct lws_context *ctx)
{
	(void)e;
	return lws_service(ctx, 0);
}

const char *evloop_name(const struct evloop *e)
{
	(void)e;
	return "poll";
}

void evloop_free(struct evloop **ep)
{
	*ep = NULL;
}

#endif
