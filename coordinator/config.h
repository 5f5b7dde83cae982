/*
 * config.h - host types, builders and watched repositories as data: the
 * JSON file of `rfarm coordinator --config FILE` (env/CONFIG.md has every
 * key).
 *
 * Parsing is pure (text in, a validated config or "FILE:LINE: PATH:
 * reason" out) so it is unit-tested without a coordinator; config_load
 * only adds reading the file. Unknown keys are refused, not ignored: a
 * typo in a config must not pass silently. A loaded config never
 * changes; a reload makes a new one and the coordinator swaps it in.
 */
#ifndef RFARM_CONFIG_H
#define RFARM_CONFIG_H

#include <stddef.h>

#include <jansson.h>

#include "rc.h"
#include "request.h"

#define CONFIG_MAX_BYTES (4 * 1024 * 1024) /* largest config file */
#define CONFIG_MAX_DEPTH 16                /* nesting of [ and { */
#define CONFIG_MAX_ENTRIES 1000            /* host types, builders, repos */
#define CONFIG_MAX_EXPECTED 100000         /* machines of one host type */

/* Why a config was refused: "FILE:LINE: PATH: reason". */
struct config_error {
	char msg[640];
};

struct config {
	json_t *root; /* the file's object, validated; owned */
	char *file;   /* the name it was loaded from (for messages) */
};

/* Validate text[0..len) as a config named file; on RC_OK *out is new. */
rc_t config_parse(const char *text, size_t len, const char *file,
		  struct config **out, struct config_error *err);
/* Read path (at most CONFIG_MAX_BYTES) and config_parse it. */
rc_t config_load(const char *path, struct config **out,
		 struct config_error *err);
void config_free(struct config **c);

/* The arrays of the file (empty arrays when absent); borrowed. */
json_t *config_host_types(const struct config *c);
json_t *config_builders(const struct config *c);
json_t *config_repos(const struct config *c);
/* An entry of host_types or builders by name; NULL if there is none. */
json_t *config_host_type(const struct config *c, const char *name);
json_t *config_builder(const struct config *c, const char *name);

/*
 * A build request by builder ({"builder": "NAME"}, optionally with
 * "source", "priority", "no_cache" and "idle_timeout") as the request
 * request_parse_build takes: the builder's platform (its host type's
 * goos/goarch), script or command, env, timeout, artifacts and the host
 * type's labels. *out is a new object, or NULL (and RC_OK) when in has no
 * "builder" key. c may be NULL (no config loaded: every builder is
 * unknown).
 */
rc_t config_expand_request(const struct config *c, json_t *in, json_t **out,
			   struct request_error *err);

/* The line (1-based) of the value at path ("builders[1].host_type") in
 * text, or 0 if it is not there. text is valid JSON. */
int config_path_line(const char *text, size_t len, const char *path);

#endif
