/*
 * request.h - validating a build request (POST /api/v1/builds).
 *
 * Pure: JSON text in, a normalized spec or a precise error out. The spec
 * is what the store keeps and what dispatch turns into "run" messages:
 *   {"platforms":[...], "command":[...] | "script":"...", "env":{...},
 *    "labels":[...], "priority":N, "timeout_s":N, "idle_timeout_s":N,
 *    "artifacts":[...], "source":{"tarball":"<sha256>"} (if given),
 *    "no_cache":true (if given), "host_type":"T" (if given: only
 *    buildlets of host type T run its jobs)}
 * (timeout_s 0: the coordinator's default; idle_timeout_s 0: none)
 */
#ifndef RFARM_REQUEST_H
#define RFARM_REQUEST_H

#include <stddef.h>

#include <jansson.h>

#include "rc.h"

#define REQUEST_MAX_PLATFORMS 64
#define REQUEST_MAX_ARGS 4096
#define REQUEST_MAX_ENV 1024
#define REQUEST_MAX_LABELS 64
#define REQUEST_MAX_TIMEOUT_S (7 * 24 * 3600)
#define REQUEST_MAX_ARTIFACTS 64

struct request_error {
	char code[32];     /* machine-readable, e.g. "bad_platform" */
	char message[400]; /* what a user needs to fix it */
};

/* Parse and validate; on success *spec is a new reference. */
rc_t request_parse_build(const char *body, size_t len, json_t **spec,
			 struct request_error *err);
/* Fill err with code and message; returns RC_INVALID. */
rc_t request_fail(struct request_error *err, const char *code,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A build request needs a few levels; deeper nesting is refused before
 * the JSON parser recurses into it. */
#define REQUEST_MAX_DEPTH 16
/* How deep [ and { nest in the JSON text (strings skipped). */
int request_json_depth(const char *p, size_t n);

/* 1 if s is "goos/goarch" (lower-case letters and digits). */
int request_valid_platform(const char *s);
/* 1 if s is a host type name: 1 to 64 of A-Z a-z 0-9 . _ - */
int request_valid_host_type(const char *s);
/* 1 if url is a git URL builds may fetch (https, http, git, ssh, file;
 * no spaces or control characters). */
int request_valid_git_url(const char *url);

#endif
