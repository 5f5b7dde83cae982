/*
 * fuzz_request.c - libFuzzer target for build requests (the body of
 * POST /api/v1/builds, coordinator/request.c).
 *
 * Any bytes are a request body. A refusal must say why (a code and a
 * message) and leave no spec; an accepted spec must serialise, and every
 * platform in it must get a cache key (coordinator/cache.c), as the
 * coordinator does next with it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *why)
{
	fprintf(stderr, "fuzz_request: %s\n", why);
	abort();
}

static void use_spec(json_t *spec)
{
	json_t *plats = json_object_get(spec, "platforms"), *p;
	char key[SHA256_HEX_LEN + 1], *text;
	size_t i;

	text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		die("an accepted spec does not serialise");
	free(text);
	if (!json_array_size(plats))
		die("an accepted spec has no platforms");
	json_array_foreach(plats, i, p) {
		if (!json_string_value(p) || !request_valid_platform(json_string_value(p)))
			die("an accepted spec has a bad platform");
		cache_key(spec, json_string_value(p), key);
		if (strlen(key) != SHA256_HEX_LEN)
			die("a cache key is not a digest");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request_error err = {"", ""};
	json_t *spec = NULL;

	if (request_parse_build((const char *)data, size, &spec, &err) != RC_OK) {
		if (spec)
			die("a refused request left a spec");
		if (!err.code[0] || !err.message[0])
			die("a refused request does not say why");
		return 0;
	}
	if (!spec)
		die("an accepted request has no spec");
	use_spec(spec);
	json_decref(spec);
	return 0;
}
