/*
 * hooks.c - what makes the watcher poll now: a git host's push webhook
 * (POST /api/v1/hooks/git, proved with the shared secret of
 * --hook-secret-file) and an operator (POST /api/v1/repos/{id}/poll).
 *
 * The secret is checked the ways git hosts send it: GitHub, Gitea and
 * Forgejo sign the body (X-Hub-Signature-256: sha256=HMAC), GitLab sends
 * the secret itself (X-Gitlab-Token). A failed check counts toward the
 * address's failure limit like a failed buildlet handshake. A hook only
 * makes a poll happen sooner: what is built still comes from git.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "config.h"
#include "internal.h"
#include "log.h"
#include "peers.h"
#include "xalloc.h"

#define SECRET_MIN 16 /* bytes: shorter secrets are refused */
#define SIG_HDR "x-hub-signature-256:"
#define TOKEN_HDR "x-gitlab-token:"

rc_t hooks_load_secret(struct coord *c, struct errbuf *eb)
{
	const char *path = c->cfg.hook_secret_file;
	char text[sizeof c->hook_secret + 1];
	size_t len;
	FILE *f;

	if (!path)
		return RC_OK;
	if (!(f = fopen(path, "r"))) {
		errbuf_set(eb, "--hook-secret-file %s: %s", path, strerror(errno));
		return RC_IO;
	}
	len = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[len] = '\0';
	text[strcspn(text, "\r\n")] = '\0';
	len = strlen(text);
	if (len < SECRET_MIN || len >= sizeof c->hook_secret) {
		errbuf_set(eb, "--hook-secret-file %s: want one line of %d to %zu "
			   "bytes (rfarm keygen or `openssl rand -hex 32`)", path,
			   SECRET_MIN, sizeof c->hook_secret - 1);
		secret_wipe(text, sizeof text);
		return RC_INVALID;
	}
	memcpy(c->hook_secret, text, len + 1);
	secret_wipe(text, sizeof text);
	return RC_OK;
}

/* 0 if the request proves the secret, else the status to refuse with. */
static int check_secret(struct http_conn *h, const char **why)
{
	struct coord *c = h->c;
	char got[160], want[SHA256_HEX_LEN + 8];
	int ok;

	if (lws_hdr_custom_copy(h->wsi, got, sizeof got, SIG_HDR,
				(int)strlen(SIG_HDR)) > 0) {
		memcpy(want, "sha256=", 7);
		hmac_sha256_hex(c->hook_secret, strlen(c->hook_secret),
				buf_data(&h->body) ? buf_data(&h->body) : (void *)"",
				h->body.len, want + 7);
		ok = secret_equal(got, want);
		*why = "X-Hub-Signature-256 does not match the body signed with "
		       "the hook secret";
	} else if (lws_hdr_custom_copy(h->wsi, got, sizeof got, TOKEN_HDR,
				       (int)strlen(TOKEN_HDR)) > 0) {
		ok = secret_equal(got, c->hook_secret);
		*why = "X-Gitlab-Token is not the hook secret";
	} else {
		*why = "no X-Hub-Signature-256 or X-Gitlab-Token header";
		return 401;
	}
	secret_wipe(got, sizeof got);
	return ok ? 0 : 403;
}

/* A URL as hosts spell it variously: no trailing "/" or ".git". */
static size_t url_core(const char *u)
{
	size_t len = strlen(u);

	while (len && u[len - 1] == '/')
		len--;
	if (len > 4 && !strncmp(u + len - 4, ".git", 4))
		len -= 4;
	return len;
}

static int same_repo(const char *a, const char *b)
{
	size_t la = url_core(a), lb = url_core(b);

	return la == lb && !strncmp(a, b, la);
}

/* Kick the watched repositories the payload names; *named whether it
 * names any repository at all. */
static size_t kick_named(struct coord *c, json_t *body, json_t *polling,
			 int *named)
{
	static const char *const objs[] = {"repository", "project"};
	static const char *const keys[] = {"clone_url", "git_url", "ssh_url",
					   "html_url", "url", "git_http_url",
					   "git_ssh_url", "http_url"};
	json_t *repos = c->farm ? config_repos(c->farm) : NULL, *r;
	size_t kicked = 0, i;

	*named = 0;
	json_array_foreach(repos, i, r) {
		const char *url = json_string_value(json_object_get(r, "url"));
		int hit = 0;

		for (size_t o = 0; o < 2; o++)
			for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
				const char *u = json_string_value(json_object_get(
					json_object_get(body, objs[o]), keys[k]));

				*named |= u != NULL;
				hit |= u && same_repo(u, url);
			}
		if (hit && postsubmit_kick_url(c, url)) {
			json_array_append_new(polling, json_string(url));
			kicked++;
		}
	}
	return kicked;
}

static void kick_all(struct coord *c, json_t *polling)
{
	json_t *repos = c->farm ? config_repos(c->farm) : NULL, *r;
	size_t i;

	postsubmit_kick(c, 0);
	json_array_foreach(repos, i, r)
		json_array_append(polling, json_object_get(r, "url"));
}

int hooks_git(struct http_conn *h)
{
	struct coord *c = h->c;
	const char *why = "";
	char peer[64];
	json_t *body, *polling;
	int status, named = 0;

	if (!c->hook_secret[0])
		return http_respond_error(h, 404, "hooks_off", "webhooks are off: "
					  "start the coordinator with "
					  "--hook-secret-file FILE");
	guard_peer(h->wsi, peer, sizeof peer);
	if ((status = peers_blocked(c->peers, peer, clock_mono_ms())))
		return http_respond_error(h, 429, "too_many_failures", "too many "
					  "failed attempts from %s: wait %d s",
					  peer, status);
	if ((status = check_secret(h, &why))) {
		log_warn("git hook from %s refused: %s", peer, why);
		peers_fail(c->peers, peer, clock_mono_ms());
		return http_respond_error(h, status, "bad_signature", "%s", why);
	}
	body = json_loadb((const char *)buf_data(&h->body), h->body.len, 0, NULL);
	polling = json_array();
	if (!kick_named(c, body, polling, &named) && !named)
		kick_all(c, polling);
	log_info("git hook from %s: polling %zu repositor%s", peer,
		 json_array_size(polling),
		 json_array_size(polling) == 1 ? "y" : "ies");
	json_decref(body);
	return http_respond_json(h, 202, json_pack("{s:o}", "polling", polling));
}

int hooks_repo_poll(struct http_conn *h, int64_t id)
{
	struct store_repo r;
	int status;

	if (store_repo_get(h->c->store, id, &r) || !r.watched) {
		if (!r.url)
			return http_respond_error(h, 404, "not_found",
						  "no repository %lld",
						  (long long)id);
		store_repo_clear(&r);
		return http_respond_error(h, 409, "not_watched", "repository %lld "
					  "is no longer in the config", (long long)id);
	}
	status = postsubmit_kick(h->c, id)
		 ? http_respond_json(h, 202, json_pack("{s:[s]}", "polling", r.url))
		 : http_respond_error(h, 503, "no_watcher", "the commit watcher "
				      "is not running");
	store_repo_clear(&r);
	return status;
}
