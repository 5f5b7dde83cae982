/*
 * cmd_server.c - the long-running commands: coordinator, buildlet, up
 * (both in one process), and keygen.
 *
 * The one decision a reader must know: SIGINT and SIGTERM only call the
 * stop functions, which coordinator.h and buildlet.h promise are safe from
 * a signal handler; the handler finds what to stop through two atomic
 * pointers that are set before the loops run and cleared, with the signals
 * blocked, before anything is freed. In `rfarm up` the buildlet runs on a
 * second thread started from the coordinator's on_listening callback,
 * because only then is the URL to dial known (the port may be ephemeral).
 */
#include "cli.h"
#include "tlspin.h"

#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildlet.h"
#include "clock.h"
#include "coordinator.h"
#include "log.h"
#include "netaddr.h"
#include "sha256.h"
#include "xalloc.h"

/* Long-only options get codes above any character (see cli_getopt_error). */
enum {
	OPT_LISTEN = 256,
	OPT_DATA,
	OPT_COORDINATOR,
	OPT_NAME,
	OPT_HOST_TYPE,
	OPT_PLATFORM,
	OPT_CAPACITY,
	OPT_LABEL,
	OPT_WORKDIR,
	OPT_TOKEN_FILE,
	OPT_KILL_GRACE,
	OPT_NO_NATIVE,
	OPT_HEARTBEAT,
	OPT_GRACE,
	OPT_TIMEOUT,
	OPT_MAX_ATTEMPTS,
	OPT_MAX_HANDSHAKES,
	OPT_DASH_DIR,
	OPT_MAX_CONNS,
	OPT_MAX_HEADER,
	OPT_MAX_AUTH_FAIL,
	OPT_MAX_LOG,
	OPT_MAX_ARTIFACT,
	OPT_MAX_ARTIFACTS,
	OPT_MAX_ARTIFACT_TOTAL,
	OPT_MAX_SOURCE,
	OPT_TIMEOUT_MARGIN,
	OPT_IO_TIMEOUT,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_HOST,
	OPT_OUT,
	OPT_CA,
	OPT_INSECURE,
	OPT_PIN,
	OPT_PUBLIC_READ,
	OPT_SCOPE,
	OPT_EXPIRES,
	OPT_RUN_AS,
	OPT_MAX_PROCS,
	OPT_MAX_FILE_SIZE,
	OPT_CONFIG,
	OPT_HOOK_SECRET,
};

/* What the signal handler stops; NULL when there is nothing to stop. */
static _Atomic(struct coord *) running_coord;
static _Atomic(struct buildlet *) running_buildlet;

static void on_stop_signal(int sig)
{
	struct coord *c = atomic_load(&running_coord);
	struct buildlet *b = atomic_load(&running_buildlet);

	(void)sig;
	if (c)
		coord_stop(c);
	if (b)
		buildlet_stop(b);
}

/* SIGHUP: the coordinator rereads its --config file. */
static void on_hup_signal(int sig)
{
	struct coord *c = atomic_load(&running_coord);

	(void)sig;
	if (c)
		coord_reload_request(c);
}

/* For `coordinator` and `up` only: a standalone buildlet keeps the
 * default (a hangup ends it). */
static void signals_install_hup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_hup_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
}

static void signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A peer that goes away must be an error return, not our death. */
	signal(SIGPIPE, SIG_IGN);
}

/* Block (or unblock) the stop signals in the calling thread. */
static void signals_block(int block, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(block ? SIG_BLOCK : SIG_SETMASK, block ? &set : old,
			block ? old : NULL);
}

/* Forget the running objects so a late signal cannot reach freed memory. */
static void signals_forget(void)
{
	sigset_t old;

	signals_block(1, &old);
	atomic_store(&running_coord, NULL);
	atomic_store(&running_buildlet, NULL);
	signals_block(0, &old);
}

/* --listen and --data, shared by `coordinator` and `up`. */
struct serve_args {
	struct coord_config cfg;  /* filled from the options */
	char host[256];           /* storage for cfg.listen_host */
};

/* A duration option in [min_ms, max_ms]; 0 on success, else the usage
 * error was printed. */
static int duration_arg(const struct cli_cmd *cmd, const char *flag,
			int64_t min_ms, int64_t max_ms, int *out_ms)
{
	int64_t ms = clock_parse_duration_ms(optarg);

	if (ms < min_ms || ms > max_ms) {
		cli_usage_error(cmd, "bad %s '%s': want a duration such as 5s, "
				"2m or 1h", flag, optarg);
		return -1;
	}
	*out_ms = (int)ms;
	return 0;
}

/* The per-peer limits: connections, header bytes, failed handshakes. */
static int peer_limit_arg(const struct cli_cmd *cmd, int opt,
			  struct coord_config *cfg)
{
	long n;

	if (opt == OPT_MAX_HEADER) {
		if (cli_number_arg(cmd, optarg, 1024, 32768, "--max-header-bytes",
				   &n))
			return -1;
		cfg->max_header_bytes = (int)n;
	} else if (cli_number_arg(cmd, optarg, 0, 1000000, opt == OPT_MAX_CONNS
				  ? "--max-conns-per-addr" : "--max-auth-failures",
				  &n)) {
		return -1;
	} else if (opt == OPT_MAX_CONNS) {
		cfg->max_conns_per_addr = (int)n;
	} else {
		cfg->max_auth_failures = (int)n;
	}
	return 0;
}

/* The per-job caps: log bytes, artifacts, source size. */
static int job_cap_arg(const struct cli_cmd *cmd, int opt,
		       struct coord_config *cfg)
{
	struct errbuf eb = {""};
	long n;

	switch (opt) {
	case OPT_MAX_LOG:
		if (!strcmp(optarg, "0")) { /* keep every byte */
			cfg->max_log_bytes = 0;
			return 0;
		}
		if (cli_size_parse(optarg, "--max-log-bytes",
				   &cfg->max_log_bytes, &eb))
			break;
		if (cfg->max_log_bytes >= 1024)
			return 0;
		errbuf_set(&eb, "--max-log-bytes must be 0 (no cap) or at "
			   "least 1K, not '%s'", optarg);
		break;
	case OPT_MAX_ARTIFACTS:
		if (cli_number_parse(optarg, 1, 1000000, "--max-artifacts", &n, &eb))
			break;
		cfg->max_artifacts = (int)n;
		return 0;
	case OPT_MAX_ARTIFACT:
		if (!cli_size_parse(optarg, "--max-artifact-bytes",
				    &cfg->max_artifact_bytes, &eb))
			return 0;
		break;
	case OPT_MAX_ARTIFACT_TOTAL:
		if (!cli_size_parse(optarg, "--max-artifact-total",
				    &cfg->max_artifact_total, &eb))
			return 0;
		break;
	default:
		if (!cli_size_parse(optarg, "--max-source-bytes",
				    &cfg->max_source_bytes, &eb))
			return 0;
		break;
	}
	return cli_usage_error(cmd, "%s", eb.msg), -1;
}

/* Returns -1 to go on, else the exit status. */
static int serve_parse(const struct cli_cmd *cmd, int argc, char **argv,
		       struct serve_args *sa)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"data", required_argument, NULL, OPT_DATA},
		{"dashboard-dir", required_argument, NULL, OPT_DASH_DIR},
		{"heartbeat", required_argument, NULL, OPT_HEARTBEAT},
		{"grace", required_argument, NULL, OPT_GRACE},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS},
		{"max-handshakes", required_argument, NULL, OPT_MAX_HANDSHAKES},
		{"max-conns-per-addr", required_argument, NULL, OPT_MAX_CONNS},
		{"max-header-bytes", required_argument, NULL, OPT_MAX_HEADER},
		{"max-auth-failures", required_argument, NULL, OPT_MAX_AUTH_FAIL},
		{"max-log-bytes", required_argument, NULL, OPT_MAX_LOG},
		{"max-artifact-bytes", required_argument, NULL, OPT_MAX_ARTIFACT},
		{"max-artifacts", required_argument, NULL, OPT_MAX_ARTIFACTS},
		{"max-artifact-total", required_argument, NULL,
		 OPT_MAX_ARTIFACT_TOTAL},
		{"max-source-bytes", required_argument, NULL, OPT_MAX_SOURCE},
		{"timeout-margin", required_argument, NULL, OPT_TIMEOUT_MARGIN},
		{"io-timeout", required_argument, NULL, OPT_IO_TIMEOUT},
		{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
		{"public-read", no_argument, NULL, OPT_PUBLIC_READ},
		{"tls-key", required_argument, NULL, OPT_TLS_KEY},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"hook-secret-file", required_argument, NULL, OPT_HOOK_SECRET},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct errbuf eb = {""};
	long n;
	int c;

	coord_config_defaults(&sa->cfg);
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return cli_help(cmd);
		case OPT_DATA: sa->cfg.data_dir = optarg; break;
		case OPT_DASH_DIR: sa->cfg.dashboard_dir = optarg; break;
		case OPT_LISTEN:
			if (cli_listen_parse(optarg, sa->host, sizeof sa->host,
					     &sa->cfg.listen_port, &eb))
				return cli_usage_error(cmd, "%s", eb.msg);
			sa->cfg.listen_host = sa->host;
			break;
		case OPT_HEARTBEAT:
			if (duration_arg(cmd, "--heartbeat", 100, 600000,
					 &sa->cfg.heartbeat_ms))
				return CLI_EXIT_USAGE;
			break;
		case OPT_GRACE:
			if (duration_arg(cmd, "--grace", 0, 86400000,
					 &sa->cfg.grace_ms))
				return CLI_EXIT_USAGE;
			break;
		case OPT_TIMEOUT:
			if (duration_arg(cmd, "--timeout", 1000, 604800000,
					 &sa->cfg.default_timeout_s))
				return CLI_EXIT_USAGE;
			sa->cfg.default_timeout_s /= 1000;
			break;
		case OPT_MAX_ATTEMPTS:
			if (cli_number_arg(cmd, optarg, 1, 100, "--max-attempts", &n))
				return CLI_EXIT_USAGE;
			sa->cfg.max_attempts = (int)n;
			break;
		case OPT_TLS_CERT: sa->cfg.tls_cert = optarg; break;
		case OPT_PUBLIC_READ: sa->cfg.public_read = 1; break;
		case OPT_TLS_KEY: sa->cfg.tls_key = optarg; break;
		case OPT_CONFIG: sa->cfg.config_file = optarg; break;
		case OPT_HOOK_SECRET: sa->cfg.hook_secret_file = optarg; break;
		case OPT_IO_TIMEOUT:
			if (duration_arg(cmd, "--io-timeout", 1000, 3600000,
					 &sa->cfg.io_timeout_s))
				return CLI_EXIT_USAGE;
			sa->cfg.io_timeout_s /= 1000;
			break;
		case OPT_TIMEOUT_MARGIN:
			if (duration_arg(cmd, "--timeout-margin", 1000, 86400000,
					 &sa->cfg.timeout_margin_ms))
				return CLI_EXIT_USAGE;
			break;
		case OPT_MAX_HANDSHAKES:
			if (cli_number_arg(cmd, optarg, 0, 100000,
					   "--max-handshakes", &n))
				return CLI_EXIT_USAGE;
			sa->cfg.max_handshakes_per_s = (int)n;
			break;
		case OPT_MAX_CONNS:
		case OPT_MAX_HEADER:
		case OPT_MAX_AUTH_FAIL:
			if (peer_limit_arg(cmd, c, &sa->cfg))
				return CLI_EXIT_USAGE;
			break;
		case OPT_MAX_LOG:
		case OPT_MAX_ARTIFACT:
		case OPT_MAX_ARTIFACTS:
		case OPT_MAX_ARTIFACT_TOTAL:
		case OPT_MAX_SOURCE:
			if (job_cap_arg(cmd, c, &sa->cfg))
				return CLI_EXIT_USAGE;
			break;
		default:
			return cli_option_error(cmd, argv, ":h", c);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	if (!sa->cfg.tls_cert != !sa->cfg.tls_key)
		return cli_usage_error(cmd, "give --tls-cert and --tls-key together");
	return -1;
}

int cmd_coordinator(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct serve_args sa = {0};
	struct errbuf eb = {""};
	struct coord *c;
	int status;

	if ((status = serve_parse(cmd, argc, argv, &sa)) >= 0)
		return status;
	c = coord_new(&sa.cfg, &eb);
	if (!c)
		return cli_fail(cmd, CLI_EXIT_FAIL, "%s", eb.msg);
	atomic_store(&running_coord, c);
	signals_install();
	signals_install_hup();
	status = coord_run(c) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	signals_forget();
	coord_free(&c);
	return status;
}

/* ---- rfarm up ---- */

/* The embedded buildlet of `rfarm up` and its thread. */
struct up {
	const char *data_dir;     /* the coordinator's data directory */
	char *base_url;           /* copy of the URL the coordinator serves */
	char *workdir;            /* <data>/work */
	char host_type[64];       /* "<goos>-<goarch>" */
	char key[SHA256_HEX_LEN + 1]; /* the buildlet key for host_type */
	struct buildlet *b;       /* created in on_listening */
	pthread_t thread;         /* runs buildlet_run(b) */
	int thread_started;       /* thread must be joined */
	int failed;               /* the buildlet could not be started */
};

static void *up_buildlet_main(void *ud)
{
	struct up *u = ud;

	if (buildlet_run(u->b) != 0)
		log_error("the embedded buildlet stopped with an error");
	return NULL;
}

/* Make the buildlet that dials base_url; NULL after logging why. */
static struct buildlet *up_buildlet_new(struct up *u)
{
	struct buildlet_config bc;
	struct errbuf eb = {""};
	struct buildlet *b;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (coord_buildlet_key(u->data_dir, u->host_type, u->key, &eb)) {
		log_error("cannot make the local buildlet's key: %s", eb.msg);
		return NULL;
	}
	buildlet_config_defaults(&bc);
	bc.coordinator_url = u->base_url;
	bc.name = "local";
	bc.host_type = u->host_type;
	bc.capacity = ncpu > 0 ? (int)(ncpu < 1024 ? ncpu : 1024) : 1;
	bc.workdir = u->workdir;
	bc.key = u->key;
	b = buildlet_new(&bc, &eb);
	if (!b)
		log_error("cannot start the local buildlet: %s", eb.msg);
	return b;
}

/*
 * `rfarm up` without its buildlet is not what was asked for: stop. The
 * callback may come from inside coord_new, before there is anything to
 * stop; cmd_up then sees u->failed and does not run.
 */
static void up_abort(struct up *u)
{
	struct coord *c = atomic_load(&running_coord);

	u->failed = 1;
	if (c)
		coord_stop(c);
}

/* The coordinator is listening: start the buildlet that dials it. */
static void up_on_listening(void *ud, const char *base_url)
{
	struct up *u = ud;
	sigset_t old;

	u->base_url = xstrdup(base_url);
	u->b = up_buildlet_new(u);
	if (!u->b) {
		up_abort(u);
		return;
	}
	/* The thread inherits a mask without SIGINT/SIGTERM, so the handler
	 * runs on the main thread. */
	signals_block(1, &old);
	u->thread_started = pthread_create(&u->thread, NULL, up_buildlet_main,
					   u) == 0;
	signals_block(0, &old);
	if (!u->thread_started) {
		log_error("cannot start the buildlet thread");
		up_abort(u);
		return;
	}
	atomic_store(&running_buildlet, u->b);
	printf("rfarm is up: dashboard %s/ , API %s/api/v1/ — Ctrl-C to stop\n",
	       base_url, base_url);
	fflush(stdout);
}

static void up_init(struct up *u, const char *data_dir)
{
	char goos[32], goarch[32];

	memset(u, 0, sizeof *u);
	u->data_dir = data_dir;
	u->workdir = xasprintf("%s/work", data_dir);
	buildlet_native_platform(goos, sizeof goos, goarch, sizeof goarch);
	snprintf(u->host_type, sizeof u->host_type, "%s-%s", goos, goarch);
}

/* Stop and free the buildlet side; the coordinator has returned. */
static void up_finish(struct up *u)
{
	if (u->b)
		buildlet_stop(u->b);
	if (u->thread_started)
		pthread_join(u->thread, NULL);
	buildlet_free(&u->b);
	free(u->base_url);
	free(u->workdir);
	secret_wipe(u->key, sizeof u->key);
}

int cmd_up(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct serve_args sa = {0};
	struct errbuf eb = {""};
	struct coord *c;
	struct up u;
	int status;

	if ((status = serve_parse(cmd, argc, argv, &sa)) >= 0)
		return status;
	up_init(&u, sa.cfg.data_dir);
	sa.cfg.on_listening_cb = up_on_listening;
	sa.cfg.ud = &u;
	c = coord_new(&sa.cfg, &eb);
	if (!c) {
		up_finish(&u);
		return cli_fail(cmd, CLI_EXIT_FAIL, "%s", eb.msg);
	}
	atomic_store(&running_coord, c);
	signals_install();
	signals_install_hup();
	if (u.failed)
		status = CLI_EXIT_FAIL;
	else
		status = coord_run(c) == 0 && !u.failed ? CLI_EXIT_OK :
			 CLI_EXIT_FAIL;
	signals_forget();
	up_finish(&u);
	coord_free(&c);
	return status;
}

/* ---- rfarm keygen ---- */

int cmd_keygen(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, OPT_DATA},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct coord_config cfg;
	char key[SHA256_HEX_LEN + 1];
	struct errbuf eb = {""};
	int c;

	coord_config_defaults(&cfg);
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return cli_help(cmd);
		if (c == OPT_DATA) {
			cfg.data_dir = optarg;
			continue;
		}
		return cli_option_error(cmd, argv, ":h", c);
	}
	if (optind + 1 != argc)
		return cli_usage_error(cmd, "give exactly one HOST_TYPE");
	if (!cli_host_type_valid(argv[optind]))
		return cli_usage_error(cmd, "bad host type '%s' (lower-case "
				       "letters, digits, '.', '_', '-')",
				       argv[optind]);
	if (coord_buildlet_key(cfg.data_dir, argv[optind], key, &eb))
		return cli_fail(cmd, CLI_EXIT_FAIL, "%s", eb.msg);
	fprintf(stderr, "buildlet key for host type %s (master secret in "
		"%s/master.key):\n", argv[optind], cfg.data_dir);
	printf("%s\n", key);
	secret_wipe(key, sizeof key);
	return CLI_EXIT_OK;
}

/* ---- rfarm buildlet ---- */

/* `rfarm buildlet` options, and storage for what the config points to. */
struct dial_args {
	struct buildlet_config cfg;  /* what buildlet_new gets */
	const char **platforms;      /* argc slots; cfg.platforms */
	const char **labels;         /* argc slots; cfg.labels */
	const char *token_file;      /* --token-file, or NULL */
	char *key;                   /* the secret, owned */
};

/* One option; returns -1 to go on, else the exit status. */
static int dial_option(const struct cli_cmd *cmd, struct dial_args *da,
		       int c, struct errbuf *eb)
{
	long n;
	int64_t ms;

	switch (c) {
	case OPT_COORDINATOR: da->cfg.coordinator_url = optarg; break;
	case OPT_NAME: da->cfg.name = optarg; break;
	case OPT_WORKDIR: da->cfg.workdir = optarg; break;
	case OPT_TOKEN_FILE: da->token_file = optarg; break;
	case OPT_LABEL: da->labels[da->cfg.n_labels++] = optarg; break;
	case OPT_NO_NATIVE: da->cfg.no_native = 1; break;
	case OPT_CA: da->cfg.ca_file = optarg; break;
	case OPT_INSECURE: da->cfg.insecure = 1; break;
	case OPT_PIN:
		if (!tls_pin_valid(optarg))
			return cli_usage_error(cmd, "bad --pin '%s': want sha256: and "
					       "64 hex digits, as `rfarm certgen` "
					       "prints", optarg);
		da->cfg.pin = optarg;
		break;
	case OPT_HOST_TYPE:
		if (!cli_host_type_valid(optarg))
			return cli_usage_error(cmd, "bad --host-type '%s' "
				"(lower-case letters, digits, '.', '_', '-')",
				optarg);
		da->cfg.host_type = optarg;
		break;
	case OPT_PLATFORM:
		if (!cli_platform_valid(optarg))
			return cli_usage_error(cmd, "bad --platform '%s': want "
				"GOOS/GOARCH such as linux/amd64", optarg);
		da->platforms[da->cfg.n_platforms++] = optarg;
		break;
	case OPT_CAPACITY:
		if (cli_number_arg(cmd, optarg, 1, 1024, "--capacity", &n))
			return CLI_EXIT_USAGE;
		da->cfg.capacity = (int)n;
		break;
	case OPT_KILL_GRACE:
		ms = clock_parse_duration_ms(optarg);
		if (ms < 0 || ms > INT_MAX)
			return cli_usage_error(cmd, "bad --kill-grace '%s': "
				"want a duration such as 10s", optarg);
		da->cfg.kill_grace_ms = (int)ms;
		break;
	case OPT_RUN_AS: da->cfg.run_as = optarg; break;
	case OPT_MAX_PROCS:
		if (cli_number_arg(cmd, optarg, 1, 1000000, "--max-procs", &n))
			return CLI_EXIT_USAGE;
		da->cfg.max_procs = n;
		break;
	case OPT_MAX_FILE_SIZE:
		if (cli_size_parse(optarg, "--max-file-size",
				   &da->cfg.max_file_size, eb))
			return cli_usage_error(cmd, "%s", eb->msg);
		break;
	default:
		return cli_usage_error(cmd, "%s", eb->msg);
	}
	return -1;
}

/* Returns -1 to go on, else the exit status. */
static int dial_parse(const struct cli_cmd *cmd, int argc, char **argv,
		      struct dial_args *da)
{
	static const struct option opts[] = {
		{"coordinator", required_argument, NULL, OPT_COORDINATOR},
		{"name", required_argument, NULL, OPT_NAME},
		{"host-type", required_argument, NULL, OPT_HOST_TYPE},
		{"platform", required_argument, NULL, OPT_PLATFORM},
		{"capacity", required_argument, NULL, OPT_CAPACITY},
		{"label", required_argument, NULL, OPT_LABEL},
		{"workdir", required_argument, NULL, OPT_WORKDIR},
		{"token-file", required_argument, NULL, OPT_TOKEN_FILE},
		{"kill-grace", required_argument, NULL, OPT_KILL_GRACE},
		{"no-native", no_argument, NULL, OPT_NO_NATIVE},
		{"ca", required_argument, NULL, OPT_CA},
		{"insecure", no_argument, NULL, OPT_INSECURE},
		{"pin", required_argument, NULL, OPT_PIN},
		{"run-as", required_argument, NULL, OPT_RUN_AS},
		{"max-procs", required_argument, NULL, OPT_MAX_PROCS},
		{"max-file-size", required_argument, NULL, OPT_MAX_FILE_SIZE},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct errbuf eb = {""};
	int c, status;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return cli_help(cmd);
		if (c == '?' || c == ':')
			return cli_option_error(cmd, argv, ":h", c);
		if ((status = dial_option(cmd, da, c, &eb)) >= 0)
			return status;
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	if (!da->cfg.coordinator_url)
		return cli_usage_error(cmd, "give --coordinator URL");
	if (!strstr(da->cfg.coordinator_url, "://"))
		return cli_usage_error(cmd, "--coordinator wants a URL such as "
				       "https://farm.example:8443, not '%s'",
				       da->cfg.coordinator_url);
	return -1;
}

/* The key from --token-file, else RFARM_BUILDLET_KEY; never from argv. */
static int url_on_loopback(const char *url)
{
	char host[256];

	return !net_url_host(url, host, sizeof host) && net_host_is_loopback(host);
}

static int dial_key(const struct cli_cmd *cmd, struct dial_args *da)
{
	const char *env = getenv("RFARM_BUILDLET_KEY");
	struct errbuf eb = {""};

	if (da->token_file) {
		if (cli_key_file_read(da->token_file, &da->key, &eb))
			return cli_fail(cmd, CLI_EXIT_USAGE, "%s", eb.msg);
		da->cfg.token_file = da->token_file;
		da->cfg.read_key = cli_key_file_read;
	} else if (env && *env) {
		da->key = xstrdup(env);
	} else if (url_on_loopback(da->cfg.coordinator_url)) {
		/* an open coordinator (no enrolment yet) lets anyone in */
		da->key = xstrdup("");
	} else {
		return cli_fail(cmd, CLI_EXIT_USAGE, "no buildlet token: give "
				"--token-file FILE or set RFARM_BUILDLET_KEY "
				"(the coordinator's operator makes one with "
				"`rfarm enroll NAME --host-type T`)");
	}
	da->cfg.key = da->key;
	return -1;
}

int cmd_buildlet(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct dial_args da = {0};
	struct errbuf eb = {""};
	struct buildlet *b = NULL;
	int status;

	buildlet_config_defaults(&da.cfg);
	da.platforms = xcalloc((size_t)argc, sizeof *da.platforms);
	da.labels = xcalloc((size_t)argc, sizeof *da.labels);
	da.cfg.platforms = da.platforms;
	da.cfg.labels = da.labels;
	if ((status = dial_parse(cmd, argc, argv, &da)) >= 0 ||
	    (status = dial_key(cmd, &da)) >= 0)
		goto out;
	b = buildlet_new(&da.cfg, &eb);
	if (!b) {
		status = cli_fail(cmd, CLI_EXIT_FAIL, "%s", eb.msg);
		goto out;
	}
	atomic_store(&running_buildlet, b);
	signals_install();
	status = buildlet_run(b) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	signals_forget();
	buildlet_free(&b);
out:
	if (da.key)
		secret_wipe(da.key, strlen(da.key));
	free(da.key);
	free(da.platforms);
	free(da.labels);
	return status;
}

/* ---- rfarm certgen ---- */

int cmd_certgen(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"host", required_argument, NULL, OPT_HOST},
		{"out", required_argument, NULL, OPT_OUT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *host = NULL, *dir = ".";
	char fingerprint[80];
	struct errbuf eb = {""};
	int c;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return cli_help(cmd);
		case OPT_HOST: host = optarg; break;
		case OPT_OUT: dir = optarg; break;
		default:
			return cli_option_error(cmd, argv, ":h", c);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!host || !*host || strchr(host, '/') || strlen(host) > 253)
		return cli_usage_error(cmd, "give --host NAME (the name or address "
				       "buildlets and clients will dial)");
	if (cli_certgen(host, dir, fingerprint, sizeof fingerprint, &eb))
		return cli_fail(cmd, CLI_EXIT_FAIL, "%s", eb.msg);
	fprintf(stderr, "wrote %s/%s.crt and %s/%s.key (keep the key secret)\n",
		dir, host, dir, host);
	printf("%s\n", fingerprint);
	return CLI_EXIT_OK;
}

/* ---- rfarm enroll / revoke ---- */

/* --expires D: when a credential made now stops working (wall clock, ms);
 * 0 on success, else the usage error was printed. */
static int expires_arg(const struct cli_cmd *cmd, int64_t *expires_ms)
{
	int64_t d = clock_parse_duration_ms(optarg);

	if (d < 1000) {
		cli_usage_error(cmd, "bad --expires '%s': want a duration such "
				"as 90d, 12h or 30m", optarg);
		return -1;
	}
	*expires_ms = clock_wall_ms() + d;
	return 0;
}

/* "; it expires at TIME" or "" for a credential that never does. */
static const char *expiry_text(int64_t expires_ms, char *buf, size_t n)
{
	char t[40];

	if (!expires_ms)
		return "";
	snprintf(buf, n, "; it expires at %s",
		 clock_format_rfc3339(expires_ms, t, sizeof t));
	return buf;
}

int cmd_enroll(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"host-type", required_argument, NULL, OPT_HOST_TYPE},
		{"expires", required_argument, NULL, OPT_EXPIRES},
		{"label", required_argument, NULL, OPT_LABEL},
		{"data", required_argument, NULL, OPT_DATA},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *host_type = NULL, *data = "./rfarm-data";
	const char **labels = xcalloc((size_t)argc + 1, sizeof *labels);
	size_t n_labels = 0;
	char token[160], exp[80];
	struct errbuf eb = {""};
	int64_t expires_ms = 0;
	int c, status = -1;

	cli_getopt_reset();
	while (status < 0 && (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': status = cli_help(cmd); break;
		case OPT_HOST_TYPE: host_type = optarg; break;
		case OPT_DATA: data = optarg; break;
		case OPT_LABEL: labels[n_labels++] = optarg; break;
		case OPT_EXPIRES:
			if (expires_arg(cmd, &expires_ms))
				status = CLI_EXIT_USAGE;
			break;
		default:
			status = cli_option_error(cmd, argv, ":h", c);
		}
	}
	if (status < 0 && (optind + 1 != argc || !cli_buildlet_name_valid(argv[optind])))
		status = cli_usage_error(cmd, "give one buildlet NAME (letters, "
					 "digits, '.', '_', '-')");
	if (status < 0 && (!host_type || !cli_host_type_valid(host_type)))
		status = cli_usage_error(cmd, "give --host-type T");
	if (status < 0 && coord_enroll(data, argv[optind], host_type, labels,
				       n_labels, expires_ms, token, sizeof token, &eb))
		status = cli_fail(cmd, CLI_EXIT_FAIL, "%s", eb.msg);
	if (status < 0) {
		fprintf(stderr, "buildlet %s enrolled as %s%s; give it this token "
			"(shown once) in a 0600 --token-file:\n", argv[optind],
			host_type, expiry_text(expires_ms, exp, sizeof exp));
		printf("%s\n", token);
		secret_wipe(token, sizeof token);
		status = CLI_EXIT_OK;
	}
	free(labels);
	return status;
}

int cmd_revoke(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, OPT_DATA},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *data = "./rfarm-data";
	struct errbuf eb = {""};
	int c;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return cli_help(cmd);
		if (c == OPT_DATA) {
			data = optarg;
			continue;
		}
		return cli_option_error(cmd, argv, ":h", c);
	}
	if (optind + 1 != argc)
		return cli_usage_error(cmd, "give one buildlet NAME");
	if (coord_revoke(data, argv[optind], &eb))
		return cli_fail(cmd, CLI_EXIT_FAIL, "%s", eb.msg);
	fprintf(stderr, "buildlet %s revoked: refused from now on\n", argv[optind]);
	return CLI_EXIT_OK;
}

/* ---- rfarm token create / revoke ---- */

int cmd_token(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"scope", required_argument, NULL, OPT_SCOPE},
		{"name", required_argument, NULL, OPT_NAME},
		{"expires", required_argument, NULL, OPT_EXPIRES},
		{"data", required_argument, NULL, OPT_DATA},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *scope = NULL, *name = NULL, *data = "./rfarm-data", *verb;
	char token[160], fallback[32], exp[80];
	struct errbuf eb = {""};
	int64_t expires_ms = 0;
	int c;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return cli_help(cmd);
		case OPT_SCOPE: scope = optarg; break;
		case OPT_NAME: name = optarg; break;
		case OPT_DATA: data = optarg; break;
		case OPT_EXPIRES:
			if (expires_arg(cmd, &expires_ms))
				return CLI_EXIT_USAGE;
			break;
		default:
			return cli_option_error(cmd, argv, ":h", c);
		}
	}
	verb = optind < argc ? argv[optind] : "";
	if (!strcmp(verb, "revoke")) {
		if (optind + 2 != argc)
			return cli_usage_error(cmd, "give the token's NAME");
		if (coord_token_revoke(data, argv[optind + 1], &eb))
			return cli_fail(cmd, CLI_EXIT_FAIL, "%s", eb.msg);
		fprintf(stderr, "API token %s revoked\n", argv[optind + 1]);
		return CLI_EXIT_OK;
	}
	if (strcmp(verb, "create") || optind + 1 != argc)
		return cli_usage_error(cmd, "say create or revoke");
	if (!scope || (strcmp(scope, "read") && strcmp(scope, "submit") &&
		       strcmp(scope, "admin")))
		return cli_usage_error(cmd, "give --scope read, submit or admin");
	if (!name) {
		snprintf(fallback, sizeof fallback, "%s-%ld", scope, (long)getpid());
		name = fallback;
	}
	if (!cli_buildlet_name_valid(name))
		return cli_usage_error(cmd, "bad --name '%s'", name);
	if (coord_token_create(data, name, scope, expires_ms, token, sizeof token,
			       &eb))
		return cli_fail(cmd, CLI_EXIT_FAIL, "%s", eb.msg);
	fprintf(stderr, "API token %s (%s%s), shown once; use it as RFARM_TOKEN:\n",
		name, scope, expiry_text(expires_ms, exp, sizeof exp));
	printf("%s\n", token);
	secret_wipe(token, sizeof token);
	return CLI_EXIT_OK;
}
