/*
 * fuzz_proto.c - libFuzzer target for the wire protocol decoder.
 *
 * Any bytes go through the bounded pre-scanner and the decoder, under the
 * default limits and under tight ones (so every limit is reached with
 * small inputs). What decodes must encode again, and that encoding must
 * be a fixed point: decode(encode(m)) encodes to the same bytes. A
 * message that decodes but cannot be sent back, or changes on the way,
 * is a bug even when no sanitizer notices.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* The round trip is checked below this size: near the frame limit a
 * message may grow by its defaulted fields and legitimately not fit. */
#define ROUND_TRIP_MAX (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_proto: %s: %s\n", what, why);
	abort();
}

/* Encode m into out, or abort: m was decoded, so it must encode. */
static void encode_or_die(const struct proto_msg *m, struct buf *out)
{
	struct errbuf eb = {""};

	if (proto_encode(m, NULL, out, &eb) != RC_OK)
		die("a decoded message does not encode", eb.msg);
}

static void round_trip(const struct proto_msg *m)
{
	struct proto_msg again;
	struct errbuf eb = {""};
	struct buf once, twice;

	buf_init(&once, 0, 0);
	buf_init(&twice, 0, 0);
	encode_or_die(m, &once);
	if (proto_decode(buf_data(&once), once.len, NULL, &again, &eb) != RC_OK)
		die("our own encoding does not decode", eb.msg);
	encode_or_die(&again, &twice);
	if (once.len != twice.len || memcmp(buf_data(&once), buf_data(&twice), once.len))
		die("encode(decode(encode(m))) differs from encode(m)",
		    proto_type_name(m->type));
	proto_msg_free(&again);
	buf_free(&once);
	buf_free(&twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct proto_limits tight = {
		.max_message = 2048, .max_string = 64, .max_items = 16, .max_depth = 4,
	};
	struct proto_msg m;
	struct errbuf eb = {""};

	(void)proto_scan(data, size, &tight, &eb);
	if (proto_decode(data, size, &tight, &m, &eb) == RC_OK)
		proto_msg_free(&m);
	if (proto_decode(data, size, NULL, &m, &eb) != RC_OK)
		return 0;
	if (size < ROUND_TRIP_MAX)
		round_trip(&m);
	proto_msg_free(&m);
	return 0;
}
