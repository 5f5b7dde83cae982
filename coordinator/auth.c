/*
 * auth.c - credentials: buildlet keys (hex(HMAC-SHA256(master,
 * host_type))), enrolments and API tokens, each stored as a hash only.
 *
 * The master secret is 32 random bytes kept hex-encoded in
 * <data>/master.key (mode 0600), made on first start. Only a holder of
 * the data directory can mint keys, enrol buildlets or create tokens.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "fsutil.h"
#include "internal.h"
#include "xalloc.h"

static rc_t create_master(const char *path, char *master, struct errbuf *eb)
{
	if (random_hex(master, 32)) {
		errbuf_set(eb, "no random bytes for the master key");
		return RC_IO;
	}
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

/* The store of a data directory, for the offline operator verbs. */
static rc_t open_data_store(const char *data_dir, struct store **st,
			    struct errbuf *eb)
{
	char *path = xasprintf("%s/rfarm.db", data_dir);
	rc_t rc = fs_mkdirs(data_dir, 0700, eb);

	if (!rc)
		rc = store_open(path, st, eb);
	free(path);
	return rc;
}

int auth_expired(int64_t expires_ms, int64_t now_ms, char *why, size_t n,
		 const char *what)
{
	char t[40];

	if (!expires_ms || now_ms < expires_ms)
		return 0;
	snprintf(why, n, "%s expired at %s", what,
		 clock_format_rfc3339(expires_ms, t, sizeof t));
	return 1;
}

int auth_api_token(struct coord *c, const char *token, char *scope, size_t n,
		   char *why, size_t wn)
{
	char hash[SHA256_HEX_LEN + 1];
	int64_t expires = 0;

	sha256_hex(token, strlen(token), hash);
	if (!store_api_token_scope(c->store, hash, scope, n, &expires)) {
		snprintf(why, wn, "unknown or revoked API token");
		return 0;
	}
	return !auth_expired(expires, clock_wall_ms(), why, wn, "this API token");
}

rc_t coord_enroll(const char *data_dir, const char *name, const char *host_type,
		  const char *const *labels, size_t n_labels, int64_t expires_ms,
		  char *token, size_t token_len, struct errbuf *eb)
{
	char secret[SHA256_HEX_LEN + 1], hash[SHA256_HEX_LEN + 1], *text;
	json_t *arr = json_array();
	struct store *st = NULL;
	rc_t rc;

	for (size_t i = 0; i < n_labels; i++)
		json_array_append_new(arr, json_string(labels[i]));
	text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (random_hex(secret, 32)) {
		free(text);
		errbuf_set(eb, "no random bytes for the secret");
		return RC_IO;
	}
	sha256_hex(secret, strlen(secret), hash);
	rc = open_data_store(data_dir, &st, eb);
	if (!rc)
		rc = store_enrol_put(st, name, host_type, text, hash, clock_wall_ms(),
				     expires_ms);
	if (!rc)
		rc = store_flush(st);
	if (rc)
		errbuf_set(eb, "cannot enrol %s in %s", name, data_dir);
	else
		snprintf(token, token_len, "%s.%s", name, secret);
	store_close(&st);
	free(text);
	return rc;
}

/* Revoke name in the store of data_dir with fn; what names it in errors. */
static rc_t revoke_in(const char *data_dir, const char *name,
		      rc_t (*fn)(struct store *, const char *), const char *what,
		      struct errbuf *eb)
{
	struct store *st = NULL;
	rc_t rc = open_data_store(data_dir, &st, eb);

	if (!rc)
		rc = fn(st, name);
	if (!rc)
		rc = store_flush(st);
	if (rc == RC_NOT_FOUND)
		errbuf_set(eb, "no %s %s", what, name);
	store_close(&st);
	return rc;
}

rc_t coord_revoke(const char *data_dir, const char *name, struct errbuf *eb)
{
	return revoke_in(data_dir, name, store_enrol_revoke, "enrolled buildlet",
			 eb);
}

rc_t coord_token_create(const char *data_dir, const char *name,
			const char *scope, int64_t expires_ms, char *token,
			size_t token_len, struct errbuf *eb)
{
	char hex[SHA256_HEX_LEN + 1], hash[SHA256_HEX_LEN + 1];
	struct store *st = NULL;
	rc_t rc;

	if (random_hex(hex, 32)) {
		errbuf_set(eb, "no random bytes for the token");
		return RC_IO;
	}
	snprintf(token, token_len, "rfarm_%s_%s", scope, hex);
	sha256_hex(token, strlen(token), hash);
	rc = open_data_store(data_dir, &st, eb);
	if (!rc)
		rc = store_api_token_put(st, name, scope, hash, clock_wall_ms(),
					 expires_ms);
	if (!rc)
		rc = store_flush(st);
	if (rc)
		errbuf_set(eb, "cannot create token %s in %s", name, data_dir);
	store_close(&st);
	return rc;
}

rc_t coord_token_revoke(const char *data_dir, const char *name,
			struct errbuf *eb)
{
	return revoke_in(data_dir, name, store_api_token_revoke, "API token", eb);
}
