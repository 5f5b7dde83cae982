/*
 * artifacts.h - finding a job's artifacts and uploading them.
 *
 * After the command exits, each pattern (a path or glob relative to the
 * work directory) is expanded; every regular file found is hashed and
 * streamed from disk to the coordinator's blob store with libcurl
 * (PUT <base>/api/v1/blobs/<sha256>, the attempt's upload token as a
 * bearer token), retried with backoff. Memory does not grow with file
 * size. Symbolic links are not followed: an artifact is a file the job
 * made inside its work directory. When the job ran as another user, a file
 * that user does not own is refused (a link in a parent directory could
 * otherwise make the buildlet upload its own secrets).
 */
#ifndef RFARM_ARTIFACTS_H
#define RFARM_ARTIFACTS_H

#include <stddef.h>

#include "proto.h"
#include "rc.h"

struct os_user;

/*
 * Expand patterns under workdir and upload what they match to
 * base_url + upload_path + sha. *out (n entries, caller frees with
 * artifacts_free) lists what was uploaded. A pattern that matches
 * nothing is not an error here (the coordinator judges that); a failed
 * upload is, after the retries, and at once when the coordinator refuses
 * it with a 4xx (over a cap: trying again would get the same answer). With owner set, every file must be
 * owner's (a file that is not fails the upload).
 */
rc_t artifacts_upload(const char *workdir, const struct proto_strv *patterns,
		      const char *base_url, const char *upload_path,
		      const char *token, const char *ca_file, const char *pin,
		      const struct os_user *owner, struct proto_artifact **out,
		      size_t *n, struct errbuf *eb);
void artifacts_free(struct proto_artifact **a, size_t n);

#endif
