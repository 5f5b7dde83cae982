/*
 * proto.h - wire protocol v1 between coordinator and buildlet.
 *
 * One WebSocket binary message is one msgpack map with a string key "t"
 * naming its type (see shared DESIGN.md, "Wire protocol v1"). This module
 * turns those bytes into owned C structs and back. It does no I/O.
 *
 * The one design decision a reader must know: msgpack-c 4.0 allocates for a
 * container's *declared* count before reading it, so decoding first walks
 * the raw bytes with a bounded scanner (proto_scan) that checks every
 * declared length and count against the bytes actually present and against
 * struct proto_limits. Only a frame that passes is given to msgpack-c.
 *
 * Unknown keys are ignored; an unknown "t" is RC_PROTO. Decode errors name
 * the field: "run.argv[2]: expected string, got integer".
 */
#ifndef RFARM_PROTO_H
#define RFARM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rc.h"

#define PROTO_VERSION 1
#define PROTO_SUBPROTOCOL "rfarm.v1"

#define PROTO_TYPES(X)                                                 \
	X(PROTO_HELLO, "hello")     /* B->C first message of a session */ \
	X(PROTO_WELCOME, "welcome") /* C->B hello accepted */            \
	X(PROTO_HB, "hb")           /* B->C heartbeat */                  \
	X(PROTO_RUN, "run")         /* C->B run a job attempt */          \
	X(PROTO_STARTED, "started") /* B->C the process started */        \
	X(PROTO_LOG, "log")         /* B->C a chunk of output */          \
	X(PROTO_DONE, "done")       /* B->C the attempt ended */          \
	X(PROTO_ACK, "ack")         /* C->B result stored, forget it */   \
	X(PROTO_CANCEL, "cancel")   /* C->B stop an attempt */            \
	X(PROTO_DRAIN, "drain")     /* C->B finish running jobs, take no more */

enum proto_type {
	PROTO_NONE = 0,
#define PROTO_ENUM(name, text) name,
	PROTO_TYPES(PROTO_ENUM)
#undef PROTO_ENUM
	PROTO__COUNT
};

/* "hello" for PROTO_HELLO; "?" when out of range. */
const char *proto_type_name(enum proto_type t);

/* Hard limits applied while decoding (and checked when encoding). */
struct proto_limits {
	size_t max_message; /* bytes in one frame */
	size_t max_string;  /* bytes in one string or binary value */
	size_t max_items;   /* entries in one array or map */
	unsigned max_depth; /* nesting of containers */
};

/* Defaults: 1 MiB frames, 512 KiB strings, 10,000 items, depth 8.
 * msgpack-c may use ~16 bytes of memory per frame byte while decoding,
 * so the frame limit also bounds decode memory (about 16 MiB). */
extern const struct proto_limits proto_default_limits;

/* The largest log chunk a buildlet sends in one "log" message. */
#define PROTO_LOG_CHUNK (64 * 1024)

struct proto_strv {
	char **v; /* n owned NUL-terminated strings */
	size_t n; /* count */
};

struct proto_kv {
	char *key; /* owned */
	char *val; /* owned */
};

struct proto_env {
	struct proto_kv *v; /* n owned pairs, in wire order */
	size_t n;           /* count */
};

struct proto_attempt_ref {
	int64_t job;     /* job id */
	int32_t attempt; /* attempt number, from 1 */
};

struct proto_hello {
	int32_t proto;         /* PROTO_VERSION */
	char *name;            /* buildlet name, unique in the farm */
	char *host_type;       /* e.g. "linux-amd64" */
	char *goos;            /* native OS, e.g. "linux" */
	char *goarch;          /* native arch, e.g. "amd64" */
	struct proto_strv platforms; /* extra key: every "goos/goarch" served
					(native first); may be empty, meaning
					only goos/goarch */
	struct proto_strv labels;    /* free-form labels */
	int32_t capacity;      /* job slots, >= 1 */
	char *version;         /* rfarm version of the buildlet */
	struct proto_attempt_ref *held; /* unacked results it still holds */
	size_t n_held;                  /* count of held */
	struct proto_attempt_ref *running; /* extra key: attempts still running
					      here, so a coordinator can tell
					      which ones a restart lost */
	size_t n_running;                  /* count of running */
};

/* Where the log of an attempt should go on after a reconnect. */
struct proto_resume {
	int64_t job;     /* job id */
	int32_t attempt; /* attempt number */
	int64_t seq;     /* first log seq the coordinator does not have */
};

struct proto_welcome {
	char *session;        /* session id chosen by the coordinator */
	int32_t heartbeat_ms; /* how often to send "hb" */
	int64_t max_message;  /* largest frame the coordinator accepts */
	struct proto_resume *resume; /* extra key: for each running or held
					attempt the coordinator still wants,
					the log seq to resend from; attempts
					not listed are superseded */
	size_t n_resume;             /* count of resume */
};

struct proto_hb {
	int32_t running;    /* jobs running now */
	double load;        /* 1-minute load average */
	int64_t disk_free;  /* bytes free under the work root */
};

struct proto_source {
	char *kind;   /* "" (none), "git" or "tarball" */
	char *url;    /* git URL or blob download URL */
	char *ref;    /* git ref */
	char *sha256; /* tarball digest */
};

struct proto_run {
	int64_t job;              /* job id */
	int32_t attempt;          /* attempt number, from 1 */
	char *platform;           /* extra key: "goos/goarch" to build for */
	struct proto_strv argv;   /* command, exec'd without a shell ... */
	char *script;             /* ... or a script for sh -c ("" if argv) */
	struct proto_env env;     /* environment the job asked for */
	int32_t timeout_s;        /* 0 = buildlet default */
	int32_t idle_timeout_s;   /* extra key: end the job if it prints
				     nothing for this long; 0 = never */
	struct proto_source source; /* where the sources come from */
	struct proto_strv artifacts; /* paths or globs to upload */
	char *upload_url;         /* base URL for artifact uploads */
	char *upload_token;       /* per-attempt upload credential */
};

struct proto_log {
	int64_t job;          /* job id */
	int32_t attempt;      /* attempt number */
	int64_t seq;          /* from 0, per attempt, both streams together */
	int32_t stream;       /* 1 stdout, 2 stderr */
	unsigned char *data;  /* owned bytes (may contain NULs) */
	size_t len;           /* length of data */
};

struct proto_artifact {
	char *name;   /* path relative to the work directory */
	char *sha256; /* hex digest */
	int64_t size; /* bytes */
};

struct proto_done {
	int64_t job;          /* job id */
	int32_t attempt;      /* attempt number */
	int32_t exit_code;    /* exit status, -1 if none */
	int32_t signal;       /* terminating signal, 0 if none */
	int64_t duration_ms;  /* wall time of the process */
	char *error;          /* infrastructure failure text, "" if none */
	char *commit;         /* extra key: the commit a git source resolved
				 to, "" if none */
	struct proto_artifact *artifacts; /* uploaded artifacts */
	size_t n_artifacts;               /* count */
};

/* ack, cancel and started carry just the attempt they refer to. */

struct proto_msg {
	enum proto_type type; /* which member of u is valid */
	union {
		struct proto_hello hello;
		struct proto_welcome welcome;
		struct proto_hb hb;
		struct proto_run run;
		struct proto_attempt_ref ref; /* started, ack, cancel */
		struct proto_log log;
		struct proto_done done;
	} u;
};

/*
 * Append the msgpack encoding of m to out (which may carry LWS_PRE
 * headroom). String fields that are NULL encode as "". Fails with
 * RC_TOO_LARGE if the frame would exceed lim->max_message (lim may be NULL
 * for the defaults), RC_INVALID for an unknown type.
 */
rc_t proto_encode(const struct proto_msg *m, const struct proto_limits *lim,
		  struct buf *out, struct errbuf *eb);

/*
 * Decode one frame into *m, which the caller then owns (proto_msg_free).
 * On failure *m holds nothing to free, eb says which field is wrong, and
 * the result is RC_TOO_LARGE (a limit), RC_TRUNCATED (bytes missing),
 * RC_INVALID (wrong type, missing required field, trailing bytes) or
 * RC_PROTO (unknown message type). lim may be NULL for the defaults.
 */
rc_t proto_decode(const void *p, size_t n, const struct proto_limits *lim,
		  struct proto_msg *m, struct errbuf *eb);

/*
 * Check that p[0..n) is exactly one msgpack value whose every declared
 * length and count fits in the bytes present and in lim. Exposed for tests
 * and fuzzers; proto_decode calls it first.
 */
rc_t proto_scan(const void *p, size_t n, const struct proto_limits *lim,
		struct errbuf *eb);

/* Release everything a decoded (or hand-built, heap-owned) message owns. */
void proto_msg_free(struct proto_msg *m);

#endif
