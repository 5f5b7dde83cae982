/*
 * fuzz_proto.c - libFuzzer entry point for the protocol decoder.
 *
 * Feeds arbitrary bytes to proto_decode with the default limits and frees
 * whatever it returns; the sanitizers do the checking. Not built by
 * default: configure with -DRFARM_FUZZ=ON and CC=clang (see README.md).
 */
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg m;
	struct errbuf eb = { "" };

	if (proto_decode(data, size, NULL, &m, &eb) == RC_OK)
		proto_msg_free(&m);
	return 0;
}
