/*
 * fuzz_config.c - libFuzzer target for the farm config (coordinator/
 * config.c, `--config FILE`).
 *
 * Any bytes are a config file. A refusal must say why; an accepted config
 * must expand every builder into a build request that request.c accepts
 * (config.c promises that), and the path-to-line scanner must not fault
 * on the accepted text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *why, const char *detail)
{
	fprintf(stderr, "fuzz_config: %s: %s\n", why, detail);
	abort();
}

/* Every builder of an accepted config makes a valid build. */
static void expand_all(const struct config *c)
{
	json_t *b;
	size_t i;

	json_array_foreach(config_builders(c), i, b) {
		json_t *in = json_pack("{s:O}", "builder", json_object_get(b, "name"));
		json_t *out = NULL, *spec = NULL;
		struct request_error err = {"", ""};
		char *text;

		if (config_expand_request(c, in, &out, &err) || !out)
			die("an accepted builder does not expand", err.message);
		text = json_dumps(out, JSON_COMPACT);
		if (!text || request_parse_build(text, strlen(text), &spec, &err))
			die("an expanded builder is not a valid request", err.message);
		free(text);
		json_decref(spec);
		json_decref(out);
		json_decref(in);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	struct config_error err;

	memset(&err, 0, sizeof err);
	if (config_parse((const char *)data, size, "fuzz.json", &c, &err)) {
		if (c)
			die("a refused config was returned", "");
		if (!err.msg[0])
			die("a refusal says nothing", "");
		return 0;
	}
	expand_all(c);
	config_path_line((const char *)data, size, "builders[0].host_type");
	config_free(&c);
	return 0;
}
