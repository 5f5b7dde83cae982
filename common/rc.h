/*
 * rc.h - the one result enum of rfarm.
 *
 * Every fallible function returns an rc_t; the local is always `rc`. The
 * list is an X-macro so the name table can never drift from the enum.
 * Functions that fail also say *what* went wrong where they detect it,
 * usually into a caller-supplied error buffer (see errbuf below).
 */
#ifndef RFARM_RC_H
#define RFARM_RC_H

#include <stddef.h>

#define RC_LIST(X)                                                         \
	X(RC_OK, "ok")                 /* success */                        \
	X(RC_ERR, "error")             /* unspecified failure */            \
	X(RC_NOMEM, "out of memory")   /* only from capped paths */         \
	X(RC_INVALID, "invalid input") /* malformed or out-of-range input */ \
	X(RC_TOO_LARGE, "too large")   /* exceeds a configured limit */     \
	X(RC_TRUNCATED, "truncated")   /* input ended early */              \
	X(RC_NOT_FOUND, "not found")   /* no such object */                 \
	X(RC_EXISTS, "already exists") /* duplicate where uniqueness holds */ \
	X(RC_IO, "i/o error")          /* a system call failed */           \
	X(RC_DB, "database error")     /* SQLite reported an error */       \
	X(RC_PROTO, "protocol error")  /* peer broke the wire protocol */   \
	X(RC_STATE, "illegal state")   /* transition not allowed */         \
	X(RC_AUTH, "unauthorized")     /* bad or missing credentials */     \
	X(RC_BUSY, "busy")             /* try again later */                \
	X(RC_TIMEOUT, "timed out")     /* a deadline passed */

typedef enum {
#define RC_ENUM(name, text) name,
	RC_LIST(RC_ENUM)
#undef RC_ENUM
	RC__COUNT
} rc_t;

/* Short human text for a result code; never NULL. */
const char *rc_str(rc_t rc);

/* Symbolic name ("RC_INVALID"); never NULL. */
const char *rc_name(rc_t rc);

/*
 * Caller-supplied error text, in the style of Redis' anet.c: the function
 * that detects a problem writes the detail a user needs. Writing to a NULL
 * or zero-sized buffer is a no-op, and the first message wins.
 */
struct errbuf {
	char msg[256]; /* NUL-terminated detail, "" when none */
};

void errbuf_set(struct errbuf *eb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void errbuf_clear(struct errbuf *eb);

#endif
