/* caps.c - the per-attempt artifact caps (see caps.h). */
#include "caps.h"

#include <stdio.h>

const char *caps_artifact_check(const struct caps *cap, int64_t count,
				int64_t bytes, const char *name, int64_t size,
				char *why, size_t n)
{
	if (size > cap->artifact_bytes) {
		snprintf(why, n, "artifact %.200s: %lld bytes is over the limit "
			 "of %lld bytes per file (--max-artifact-bytes)", name,
			 (long long)size, (long long)cap->artifact_bytes);
		return "artifact_too_large";
	}
	if (count >= cap->artifacts) {
		snprintf(why, n, "artifact %.200s: over the limit of %lld "
			 "artifacts per job (--max-artifacts)", name,
			 (long long)cap->artifacts);
		return "too_many_artifacts";
	}
	/* As a difference: a sum of hostile sizes could overflow. */
	if (size > cap->artifact_total - bytes) {
		snprintf(why, n, "artifact %.200s: its %lld bytes take the job's "
			 "artifacts over the limit of %lld bytes per job "
			 "(--max-artifact-total)", name, (long long)size,
			 (long long)cap->artifact_total);
		return "artifacts_too_large";
	}
	return NULL;
}
