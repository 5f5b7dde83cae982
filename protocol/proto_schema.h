/*
 * proto_schema.h - private to protocol/: the message layouts as data.
 *
 * Each message type is a table of fields: wire key, C shape, offset in its
 * struct, whether it is required, and the accepted integer range. Encoding,
 * decoding and freeing all walk the same tables, so a field added here is
 * sent, checked and released everywhere at once. Not for other modules:
 * include proto.h instead.
 */
#ifndef RFARM_PROTO_SCHEMA_H
#define RFARM_PROTO_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

enum proto_field_kind {
	PF_I32,  /* int32_t; msgpack int */
	PF_I64,  /* int64_t; msgpack int */
	PF_F64,  /* double; msgpack float or int */
	PF_STR,  /* char *; msgpack str without NUL bytes */
	PF_STRV, /* struct proto_strv; array of str */
	PF_ENV,  /* struct proto_env; map of str to str */
	PF_BIN,  /* unsigned char * plus a size_t length; msgpack bin */
	PF_REC,  /* an embedded struct; a map */
	PF_RECV, /* pointer to structs plus a size_t count; array of maps */
};

struct proto_record;

struct proto_field {
	const char *key;                 /* wire name */
	enum proto_field_kind kind;      /* C and wire shape */
	size_t off;                      /* offset of the member in its struct */
	size_t off_n;                    /* PF_BIN, PF_RECV: offset of the count */
	bool required;                   /* decoding fails when it is absent */
	int64_t min;                     /* PF_I32, PF_I64: smallest accepted */
	int64_t max;                     /* PF_I32, PF_I64: largest accepted */
	const struct proto_record *rec;  /* PF_REC, PF_RECV: element layout */
};

struct proto_record {
	const struct proto_field *fields; /* in encoding order */
	size_t n;                         /* count of fields (at most 32) */
	size_t size;                      /* sizeof the struct, for PF_RECV */
};

/* Layout of the union member for t; NULL when t is not a message type. */
const struct proto_record *proto_schema_record(enum proto_type t);

/* The type whose name is s[0..len); PROTO_NONE if there is none. */
enum proto_type proto_schema_find(const char *s, size_t len);

/* "(1 or 2)" / "(1 to 2147483647)": the accepted range of an integer field. */
void proto_schema_range(const struct proto_field *f, char *out, size_t n);

/*
 * Copy untrusted bytes into out for an error message: printable ASCII is
 * kept, anything else becomes '?', and long text is cut with "...".
 */
void proto_schema_quote(char *out, size_t n, const char *s, size_t len);

/* A key that occurs twice in env (NULL keys count as ""); NULL if none. */
const char *proto_schema_env_dup(const struct proto_env *env);

/* Release what a record at base owns (strings, arrays, nested records). */
void proto_schema_record_free(const struct proto_record *r, void *base);

/*
 * The field path used in error messages, e.g. "run.argv[2]". Pushing
 * returns the old length so the caller can pop back to it; text that does
 * not fit is cut, which only shortens a message.
 */
struct proto_path {
	char s[128]; /* NUL-terminated path */
	size_t len;  /* strlen(s) */
};

size_t proto_path_push(struct proto_path *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void proto_path_pop(struct proto_path *p, size_t len);

/* Member at byte offset off of the struct at base. */
static inline void *proto_field_at(void *base, size_t off)
{
	return (char *)base + off;
}

static inline const void *proto_field_at_c(const void *base, size_t off)
{
	return (const char *)base + off;
}

#endif
