/*
 * caps.h - the per-attempt caps on artifacts, as pure functions: the
 * blob upload route asks before it accepts an artifact, and the result
 * of an attempt is checked against the same rules, so a buildlet that
 * skipped the upload (its blob already existed) is held to them too.
 *
 * No I/O and no coordinator internals: the unit test drives every case.
 */
#ifndef RFARM_CAPS_H
#define RFARM_CAPS_H

#include <stddef.h>
#include <stdint.h>

struct caps {
	int64_t artifact_bytes; /* largest artifact file (--max-artifact-bytes) */
	int64_t artifacts;      /* artifacts per attempt (--max-artifacts) */
	int64_t artifact_total; /* their bytes per attempt (--max-artifact-total) */
};

/*
 * Would an artifact of size bytes, after count artifacts of bytes so far,
 * go over a cap? NULL if not; else the error code ("artifact_too_large",
 * "too_many_artifacts", "artifacts_too_large") and why (n bytes) names
 * the artifact (name, e.g. "out/app" or "blob <sha>") and the cap.
 */
const char *caps_artifact_check(const struct caps *cap, int64_t count,
				int64_t bytes, const char *name, int64_t size,
				char *why, size_t n);

#endif
