/*
 * internal.h - what the buildlet's files share: the buildlet object, its
 * outbound queue and its job slots.
 *
 * Two kinds of threads touch a buildlet: the lws event loop (connection,
 * incoming messages, writes) and one runner thread per job (process
 * output). They meet only in the outbound queue, which is guarded by mu;
 * runner threads wake the loop with lws_cancel_service().
 */
#ifndef RFARM_BUILDLET_INTERNAL_H
#define RFARM_BUILDLET_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include <libwebsockets.h>

#include "buf.h"
#include "buildlet.h"
#include "list.h"
#include "os.h"
#include "proto.h"
#include "runner.h"
#include "spool.h"

#define BUILDLET_VERSION "0.1.0"
/* Output queued beyond this blocks the job's process (back-pressure). */
#define OUTQ_HIGH_WATER (8 * 1024 * 1024)

/* An encoded outbound message with LWS_PRE headroom. */
struct out_frame {
	struct list link;   /* in outq or held */
	struct buf b;       /* the frame */
	int is_done;        /* a "done": kept in held until acked */
	int is_log;         /* a "log" chunk */
	int64_t job;        /* for done and log frames */
	int32_t attempt;    /* for done and log frames */
	int64_t seq;        /* for log frames */
};

/* One job attempt running here. */
struct job_slot {
	struct list link;       /* in buildlet->slots */
	struct buildlet *b;     /* owner */
	struct runner *r;       /* its runner thread */
	int64_t job;            /* job id */
	int32_t attempt;        /* attempt number */
	struct spool *spool;    /* its log spool (owned by buildlet->spools),
				   or NULL if it could not be made */
	atomic_int done;        /* its done is queued: the slot is free, even
				   before the runner thread has ended */
};

struct buildlet {
	struct buildlet_config cfg;  /* strings below are owned copies */
	char **platforms;            /* every "goos/goarch" served, native first */
	size_t n_platforms;
	char **labels;               /* owned label copies */
	char *name, *host_type, *workdir, *key; /* owned */
	char *ws_host, *ws_path;     /* parsed coordinator URL */
	char *http_base;             /* http(s)://host:port[/prefix] for blobs */
	int ws_port, ws_tls;         /* port; 1 for wss */
	struct os_user run_as;       /* who jobs run as, if has_run_as */
	int has_run_as;              /* 1: jobs switch to run_as */
	struct os_limits limits;     /* limits of every job's processes */

	struct lws_context *ctx;     /* event loop */
	struct lws *wsi;             /* current connection, or NULL */
	int hello_sent;              /* hello written on this connection */
	int welcomed;                /* welcome received on this connection */
	int heartbeat_ms;            /* from welcome */
	int attempts;                /* connection attempts since last welcome */
	int64_t retry_after_ms;      /* the coordinator's Retry-After, once */
	int draining;                /* told to take no more jobs */
	volatile sig_atomic_t stop;  /* set by buildlet_stop */
	lws_sorted_usec_list_t retry_sul; /* reconnect timer */
	lws_sorted_usec_list_t hb_sul;    /* heartbeat timer */
	struct buf rx;               /* incoming message being reassembled */
	struct list slots;           /* struct job_slot (loop thread only) */

	pthread_mutex_t mu;          /* guards outq, outq_bytes, held */
	pthread_cond_t space;        /* signalled when outq drains */
	struct list outq;            /* struct out_frame to write */
	size_t outq_bytes;           /* bytes in outq */
	struct list held;            /* written "done" frames awaiting ack */
	struct list spools;          /* struct spool of unacked attempts */
	char *spool_dir;             /* <workdir>/spool */
};

/* Queue a message for the coordinator (any thread). */
void buildlet_enqueue(struct buildlet *b, const struct proto_msg *m);

/* Handle one decoded message from the coordinator (loop thread). */
void buildlet_on_message(struct buildlet *b, struct proto_msg *m);
/* The spool of an attempt, or NULL; the caller holds mu. */
struct spool *buildlet_spool_find(struct buildlet *b, int64_t job,
				  int32_t attempt);
/* Free the slots whose runners have finished (loop thread). */
void buildlet_reap(struct buildlet *b);

#endif
