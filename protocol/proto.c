/*
 * proto.c - message type names, default limits and proto_msg_free.
 *
 * Freeing walks the same field tables as encoding and decoding
 * (proto_schema.c), so it releases exactly what a decoder filled in or a
 * caller built with heap strings, and nothing is forgotten when a field is
 * added.
 */
#include "proto.h"

#include <string.h>

#include "proto_schema.h"

static const char *const type_names[PROTO__COUNT] = {
	[PROTO_NONE] = "?",
#define PROTO_NAME(name, text) [name] = text,
	PROTO_TYPES(PROTO_NAME)
#undef PROTO_NAME
};

const struct proto_limits proto_default_limits = {
	.max_message = 1024 * 1024,
	.max_string = 512 * 1024,
	.max_items = 10000,
	.max_depth = 8,
};

const char *proto_type_name(enum proto_type t)
{
	if (t <= PROTO_NONE || t >= PROTO__COUNT)
		return "?";
	return type_names[t];
}

void proto_msg_free(struct proto_msg *m)
{
	const struct proto_record *r;

	if (!m)
		return;
	r = proto_schema_record(m->type);
	if (r)
		proto_schema_record_free(r, &m->u);
	memset(m, 0, sizeof *m);
}
