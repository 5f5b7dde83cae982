/*
 * coord.c - the coordinator object and its event loop.
 *
 * One lws context, one vhost, two protocols: "http" (API, dashboard files)
 * and "rfarm.v1" (buildlet sessions). The context runs on evloop.c's
 * libev loop where there is one, else on lws' poll loop. After every
 * turn of the loop (a batch of events) the scheduler runs if something
 * changed and the store commits the turn's writes in one transaction.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobs.h"
#include "clock.h"
#include "config.h"
#include "evloop.h"
#include "fsutil.h"
#include "internal.h"
#include "log.h"
#include "netaddr.h"
#include "peers.h"
#include "xalloc.h"

#define TICK_US (250 * LWS_US_PER_MS)

static const struct lws_protocols protocols[] = {
	{"http", http_callback, sizeof(struct http_conn), 0, 0, NULL, 0},
	{PROTO_SUBPROTOCOL, session_callback, sizeof(struct session *),
	 64 * 1024, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}};

void coord_config_defaults(struct coord_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->listen_host = "127.0.0.1";
	cfg->listen_port = 8080;
	cfg->data_dir = "./rfarm-data";
	cfg->heartbeat_ms = 5000;
	cfg->default_timeout_s = 3600;
	cfg->max_attempts = 3;
	cfg->grace_ms = 120000;
	cfg->max_handshakes_per_s = 1000;
	cfg->max_conns_per_addr = 256;
	cfg->max_header_bytes = 8192;
	cfg->max_auth_failures = 10;
	cfg->timeout_margin_ms = 60000;
	cfg->io_timeout_s = 30;
	cfg->max_source_bytes = (int64_t)1 << 30;
	cfg->max_artifact_bytes = (int64_t)2 << 30;
	cfg->max_artifacts = 1000;
	cfg->max_artifact_total = (int64_t)8 << 30;
	cfg->max_log_bytes = (int64_t)64 << 20;
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct coord *c = lws_container_of(sul, struct coord, tick);
	int64_t now = clock_mono_ms();

	lease_check(c, now);
	guard_sweep(c, now);
	dash_tick(c, now);
	lws_sul_schedule(c->ctx, 0, &c->tick, on_tick, TICK_US);
}

static rc_t open_store(struct coord *c, struct errbuf *eb)
{
	char *path = xasprintf("%s/rfarm.db", c->data_dir);
	rc_t rc = store_open(path, &c->store, eb);

	free(path);
	return rc;
}

/* On libev if we can; if lws cannot load its libev plugin, on poll (the
 * second try failing too means the trouble was elsewhere: say nothing). */
static struct lws_context *context_on_loop(struct coord *c,
					   struct lws_context_creation_info *info)
{
	struct lws_context *ctx;

	c->loop = evloop_new();
	if (!c->loop)
		return lws_create_context(info);
	evloop_attach(c->loop, info);
	if ((ctx = lws_create_context(info)))
		return ctx;
	evloop_free(&c->loop);
	info->options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
	info->foreign_loops = NULL;
	if ((ctx = lws_create_context(info)))
		log_warn("lws could not run on libev (is its libev plugin, "
			 "libwebsockets-evlib-ev, installed?): using poll, "
			 "which slows down with thousands of connections");
	return ctx;
}

static rc_t create_context(struct coord *c, struct errbuf *eb)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof info);
	info.port = c->cfg.listen_port;
	info.iface = c->cfg.listen_host;
	info.protocols = protocols;
	info.user = c;
	info.pt_serv_buf_size = 64 * 1024;
	info.timeout_secs = (unsigned)c->cfg.io_timeout_s;
	/* Headers trickling in (slow loris) hold parser memory: they get the
	 * same bound as a stalled request, but never more than lws' 10 s. */
	info.timeout_secs_ah_idle = (unsigned)(c->cfg.io_timeout_s < 10
					       ? c->cfg.io_timeout_s : 10);
	/* lws closes, unanswered, a request whose headers overflow its
	 * buffer; twice our cap leaves room to answer the usual ones 431. */
	info.max_http_header_data2 = (unsigned)c->cfg.max_header_bytes * 2;
	if (c->cfg.tls_cert) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = c->cfg.tls_cert;
		info.ssl_private_key_filepath = c->cfg.tls_key;
	}
	c->ctx = context_on_loop(c, &info);
	if (!c->ctx) {
		errbuf_set(eb, "cannot listen on %s:%d (in use, not a local "
			   "address, or a bad --tls-cert/--tls-key?)",
			   c->cfg.listen_host, c->cfg.listen_port);
		return RC_IO;
	}
	c->vhost = lws_get_vhost_by_name(c->ctx, "default");
	return RC_OK;
}

static void announce(struct coord *c)
{
	int port = lws_get_vhost_listen_port(c->vhost);
	char *url_file = xasprintf("%s/url", c->data_dir);

	snprintf(c->base_url, sizeof c->base_url, "%s://%s:%d",
		 c->cfg.tls_cert ? "https" : "http", c->cfg.listen_host, port);
	fs_write_atomic(url_file, c->base_url, strlen(c->base_url), 0644, NULL);
	free(url_file);
	log_info("listening on %s (dashboard %s/, API %s/api/v1/; event loop "
		 "%s)", c->base_url, c->base_url, c->base_url,
		 evloop_name(c->loop));
}

/* An open API (no token yet) is for loopback only: anyone who reaches
 * it could run commands on every buildlet. */
static rc_t check_open_mode(struct coord *c, struct errbuf *eb)
{
	if (c->loopback || store_api_tokens_exist(c->store))
		return RC_OK;
	errbuf_set(eb, "refusing to serve an open API on %s: anyone reaching it "
		   "could run commands on your buildlets. Create a token first "
		   "(rfarm token create --scope admin --data %s) and enrol "
		   "buildlets (rfarm enroll NAME --host-type T --data %s)",
		   c->cfg.listen_host, c->data_dir, c->data_dir);
	return RC_AUTH;
}

/* After a reload: the new repos to the watcher, a new hook secret. */
static void reload_watched(struct coord *c)
{
	struct errbuf eb = {""};

	postsubmit_sync(c);
	if (hooks_load_secret(c, &eb))
		log_error("%s (the old hook secret stays in force)", eb.msg);
}

rc_t coord_config_reload(struct coord *c, struct config_error *err)
{
	struct config *next;
	rc_t rc;

	if (!c->cfg.config_file) {
		snprintf(err->msg, sizeof err->msg, "the coordinator was started "
			 "without --config: there is nothing to reload");
		return RC_NOT_FOUND;
	}
	if ((rc = config_load(c->cfg.config_file, &next, err))) {
		snprintf(c->farm_error, sizeof c->farm_error, "%s", err->msg);
		c->farm_error_ms = clock_wall_ms();
		if (c->ctx) /* not the first load: that one stops the start */
			log_error("config not reloaded, the old one stays in "
				  "force: %s", err->msg);
		return rc;
	}
	config_free(&c->farm);
	c->farm = next;
	c->farm_loaded_ms = clock_wall_ms();
	if (c->ctx) /* a reload; the first sync follows the store's opening */
		reload_watched(c);
	c->farm_error[0] = '\0';
	c->farm_error_ms = 0;
	log_info("config %s loaded: %zu host type(s), %zu builder(s), %zu "
		 "repo(s)", c->cfg.config_file,
		 json_array_size(config_host_types(next)),
		 json_array_size(config_builders(next)),
		 json_array_size(config_repos(next)));
	return RC_OK;
}

/* The first load: a bad file stops the start, with the same message. */
static rc_t load_config(struct coord *c, struct errbuf *eb)
{
	struct config_error err;

	if (!c->cfg.config_file || !coord_config_reload(c, &err))
		return RC_OK;
	errbuf_set(eb, "%s", err.msg);
	return RC_INVALID;
}

struct coord *coord_new(const struct coord_config *cfg, struct errbuf *eb)
{
	struct coord *c = xcalloc(1, sizeof *c);

	log_set_component("coordinator");
	/* Over a file-size limit, write() should fail with EFBIG (a clear
	 * error for that one upload), not kill the coordinator. */
	signal(SIGXFSZ, SIG_IGN);
	lws_set_log_level(LLL_ERR | LLL_WARN, log_lws_emit);
	c->cfg = *cfg;
	c->data_dir = xstrdup(cfg->data_dir);
	c->dash_dir = cfg->dashboard_dir ? xstrdup(cfg->dashboard_dir)
					 : xasprintf("%s/dashboard", c->data_dir);
	c->blob_dir = xasprintf("%s/blobs", c->data_dir);
	list_init(&c->sessions);
	list_init(&c->by_rx);
	list_init(&c->open);
	list_init(&c->streams);
	list_init(&c->absent);
	c->metrics = metrics_new();
	c->peers = guard_new(cfg);
	c->loopback = net_host_is_loopback(cfg->listen_host);
	c->started_ms = clock_mono_ms();
	c->hs_refill_ms = c->started_ms;
	c->hs_tokens = cfg->max_handshakes_per_s;
	if (load_config(c, eb) || auth_load_master(c->data_dir, c->master, eb) ||
	    hooks_load_secret(c, eb) || open_store(c, eb) ||
	    check_open_mode(c, eb) || blobs_init(c->blob_dir, eb) ||
	    create_context(c, eb))
		goto fail;
	announce(c);
	dash_start(c);
	postsubmit_sync(c);
	c->sched_pending = 1;
	lws_sul_schedule(c->ctx, 0, &c->tick, on_tick, TICK_US);
	/* On an event library lws arms its timer after an event: make one,
	 * or the first tick could wait for the first connection. */
	lws_cancel_service(c->ctx);
	return c;
fail:
	coord_free(&c);
	return NULL;
}

int coord_run(struct coord *c)
{
	if (c->cfg.on_listening_cb)
		c->cfg.on_listening_cb(c->cfg.ud, c->base_url);
	while (!c->stop) {
		if (evloop_run_once(c->loop, c->ctx) < 0)
			break;
		postsubmit_drain(c);
		if (c->reload) {
			struct config_error err;

			c->reload = 0;
			coord_config_reload(c, &err);
		}
		while (c->n_settle)
			cache_settle(c, c->settle[--c->n_settle]);
		if (c->sched_pending)
			orch_schedule(c);
		if (store_flush(c->store))
			log_error("could not commit this turn's writes");
	}
	store_flush(c->store);
	log_info("stopped");
	return 0;
}

void coord_stop(struct coord *c)
{
	c->stop = 1;
	if (c->ctx)
		lws_cancel_service(c->ctx);
}

void coord_reload_request(struct coord *c)
{
	c->reload = 1;
	if (c->ctx)
		lws_cancel_service(c->ctx);
}

void coord_free(struct coord **cp)
{
	struct coord *c = *cp;

	if (!c)
		return;
	postsubmit_stop(c);
	if (c->ctx) {
		lws_sul_cancel(&c->tick);
		lws_context_destroy(c->ctx);
	}
	evloop_free(&c->loop);
	session_index_free(c);
	store_close(&c->store);
	config_free(&c->farm);
	lease_free_all(c);
	metrics_free(&c->metrics);
	peers_free(&c->peers);
	dash_free(c);
	free(c->settle);
	free(c->dash_dir);
	free(c->blob_dir);
	free(c->data_dir);
	secret_wipe(c->hook_secret, sizeof c->hook_secret);
	free(c);
	*cp = NULL;
}
