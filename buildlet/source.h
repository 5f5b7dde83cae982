/*
 * source.h - a job's sources, fetched into its work directory before the
 * command runs.
 *
 * A git source is fetched with the git command (only the ref, shallow).
 * A tarball source is downloaded from the coordinator's blob store with
 * libcurl, its SHA-256 checked while it streams to a file next to the work
 * directory, and extracted with libarchive into the work directory. The
 * extraction is hostile-input safe: an entry with an absolute path, a ".."
 * component, a device or fifo, a hard link leaving the tree, or a write
 * through a symbolic link is refused, and so are more than
 * max_entries entries or more than max_bytes of content (or a compression
 * ratio that only a decompression bomb has).
 */
#ifndef RFARM_SOURCE_H
#define RFARM_SOURCE_H

#include <stdint.h>

#include "proto.h"
#include "rc.h"

struct source_limits {
	int64_t max_download; /* bytes of the archive itself */
	int64_t max_entries;  /* entries in the archive */
	int64_t max_bytes;    /* content bytes once extracted */
	const char *ca_file;  /* PEM CAs for an HTTPS download; NULL: system */
	const char *pin;      /* "sha256:..." of the server's certificate, or NULL */
	const char *token;    /* bearer token for the download, or NULL */
};

extern const struct source_limits source_default_limits;

/*
 * Put src into workdir (which exists and is empty). base_url resolves a
 * relative src->url ("/api/v1/blobs/..."); tmp_path is where an archive
 * is downloaded to (removed afterwards). A git source is fetched shallow
 * (only src->ref) with the git command and checked out; commit gets the
 * resolved hash ("" otherwise). A kind of "" does nothing. Errors say what
 * was wrong ("entry ../x leaves the work directory", "git fetch failed:
 * fatal: couldn't find remote ref nope").
 */
rc_t source_fetch(const struct proto_source *src, const char *base_url,
		  const char *workdir, const char *tmp_path,
		  const struct source_limits *lim, char *commit,
		  size_t commit_len, struct errbuf *eb);

/* Make a libcurl handle (CURL *) trust the coordinator the buildlet
 * trusts: ca_file (PEM) and/or a certificate pin; NULLs leave the
 * system's CAs. Shared with artifacts.c. */
void source_curl_trust(void *curl, const char *ca_file, const char *pin);

/* Extract an archive file (exposed for tests). */
rc_t source_extract(const char *archive, const char *workdir,
		    const struct source_limits *lim, struct errbuf *eb);

#endif
