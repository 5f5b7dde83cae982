/*
 * auth.c - buildlet keys: hex(HMAC-SHA256(master, host_type)).
 *
 * The master secret is 32 random bytes kept hex-encoded in
 * <data>/master.key (mode 0600), made on first start. Only a holder of
 * the data directory can mint keys (`rfarm keygen`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "internal.h"
#include "xalloc.h"

static rc_t create_master(const char *path, char *master, struct errbuf *eb)
{
	unsigned char raw[32];

	if (random_bytes(raw, sizeof raw)) {
		errbuf_set(eb, "no random bytes for the master key");
		return RC_IO;
	}
	hex_encode(raw, sizeof raw, master);
	return fs_write_atomic(path, master, SHA256_HEX_LEN, 0600, eb);
}

rc_t auth_load_master(const char *data_dir, char *master, struct errbuf *eb)
{
	char *path = xasprintf("%s/master.key", data_dir), *text = NULL;
	size_t len = 0;
	rc_t rc;

	rc = fs_mkdirs(data_dir, 0700, eb);
	if (rc)
		goto out;
	rc = fs_read_all(path, 4096, &text, &len, NULL);
	if (rc == RC_NOT_FOUND) {
		rc = create_master(path, master, eb);
		goto out;
	}
	if (rc) {
		errbuf_set(eb, "cannot read %s", path);
		goto out;
	}
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (!sha256_hex_valid(text)) {
		errbuf_set(eb, "%s is not a 64-character hex key", path);
		rc = RC_INVALID;
		goto out;
	}
	memcpy(master, text, SHA256_HEX_LEN + 1);
out:
	free(text);
	free(path);
	return rc;
}

void auth_key_for(const char *master, const char *host_type, char *out)
{
	hmac_sha256_hex(master, strlen(master), host_type, strlen(host_type), out);
}

rc_t coord_buildlet_key(const char *data_dir, const char *host_type, char *out,
			struct errbuf *eb)
{
	char master[SHA256_HEX_LEN + 1];
	rc_t rc = auth_load_master(data_dir, master, eb);

	if (rc)
		return rc;
	auth_key_for(master, host_type, out);
	return RC_OK;
}
