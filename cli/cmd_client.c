/*
 * cmd_client.c - the API client verbs: submit, status, logs, list,
 * buildlets, cancel, retry.
 *
 * Each verb parses its arguments, makes one or a few API calls through
 * api_client.h and prints either text for people (cli_format.c) or, with
 * --json, the server's JSON as it came. Exit statuses: 0 ok, 1 the server
 * said no or a job failed, 2 a usage error or the coordinator could not be
 * reached (RC_IO from the client). `submit --src DIR` first packs DIR
 * (pack.h) and uploads it as a blob unless the coordinator has it already.
 */
#include "cli.h"
#include "fsutil.h"
#include "clock.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_client.h"
#include "pack.h"
#include "sha256.h"
#include "xalloc.h"

/* --wait polls at this interval at first, doubling up to the maximum. */
#define WAIT_FIRST_MS 200
#define WAIT_MAX_MS 1000
/* --wait rides out a coordinator restart for this many failed polls. */
#define WAIT_MAX_UNREACHABLE 60

enum { OPT_JSON = 256, OPT_STREAM, OPT_STATE, OPT_PLATFORM, OPT_LIMIT,
       OPT_UNDO, OPT_BEFORE };

/* Report a failed API call; an unreachable server is exit status 2. */
static int api_fail(const struct cli_cmd *cmd, rc_t rc,
		    const struct errbuf *eb)
{
	return cli_fail(cmd, rc == RC_IO ? CLI_EXIT_USAGE : CLI_EXIT_FAIL,
			"%s", eb->msg[0] ? eb->msg : rc_str(rc));
}

static void print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	fflush(stdout);
}

/* Print text made by a cli_format_* function and free it. */
static void print_text(FILE *f, char *text)
{
	fputs(text, f);
	fflush(f);
	free(text);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * The one positional argument of status/logs/cancel/retry: a positive id.
 * Returns -1 when *id is set, else the exit status after a message.
 */
static int one_id(const struct cli_cmd *cmd, int argc, char **argv,
		  const char *what, long *id)
{
	if (optind >= argc)
		return cli_usage_error(cmd, "give the %s id", what);
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind + 1]);
	if (cli_number_arg(cmd, argv[optind], 1, LONG_MAX, what, id))
		return CLI_EXIT_USAGE;
	return -1;
}

/*
 * Options of the verbs that only take --json and --help. Returns -1 to go
 * on, else the exit status.
 */
static int flags_only(const struct cli_cmd *cmd, int argc, char **argv,
		      int *json)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return cli_help(cmd);
		if (c == OPT_JSON && json) {
			*json = 1;
			continue;
		}
		return cli_option_error(cmd, argv, ":h", c);
	}
	return -1;
}

/* Poll a build until every job is final; print the outcome. */
static int wait_build(const struct cli_cmd *cmd, struct api_client *api,
		      long id, int json)
{
	char path[64];
	int delay = WAIT_FIRST_MS, unreachable = 0, status = -1;
	json_t *build = NULL;
	struct errbuf eb = {""};
	rc_t rc;

	snprintf(path, sizeof path, "/api/v1/builds/%ld", id);
	while (status < 0) {
		json_decref(build);
		errbuf_clear(&eb);
		rc = api_client_get_json(api, path, &build, &eb);
		if (rc == RC_IO && ++unreachable < WAIT_MAX_UNREACHABLE) {
			if (unreachable == 1)
				cli_fail(cmd, 0, "%s; still waiting", eb.msg);
			sleep_ms(WAIT_MAX_MS);
			continue;
		}
		if (rc)
			return api_fail(cmd, rc, &eb);
		unreachable = 0;
		status = cli_wait_exit_code(build);
		if (status < 0) {
			sleep_ms(delay);
			delay = delay * 2 > WAIT_MAX_MS ? WAIT_MAX_MS : delay * 2;
		}
	}
	print_text(stderr, cli_format_wait(build));
	if (json)
		print_json(build);
	json_decref(build);
	return status;
}

/*
 * Put the packed source f (its digest sha) on the coordinator unless it is
 * there already. Returns -1 when it is there, else the exit status after
 * a message.
 */
static int source_upload(const struct cli_cmd *cmd, struct api_client *api,
			 const char *sha, int64_t size, FILE *f)
{
	char *path = xasprintf("/api/v1/blobs/%s", sha);
	struct errbuf eb = {""};
	int status = -1;
	rc_t rc;

	rc = api_client_head(api, path, &eb);
	if (rc == RC_OK) {
		fprintf(stderr, "source: already on the coordinator "
			"(sha256 %.12s…)\n", sha);
		goto out;
	}
	if (rc != RC_NOT_FOUND) {
		status = api_fail(cmd, rc, &eb);
		goto out;
	}
	errbuf_clear(&eb);
	rc = api_client_put_file(api, path, f, NULL, &eb);
	if (rc) {
		status = cli_fail(cmd, rc == RC_IO ? CLI_EXIT_USAGE :
				  CLI_EXIT_FAIL, "uploading the source: %s",
				  eb.msg[0] ? eb.msg : rc_str(rc));
		goto out;
	}
	fprintf(stderr, "source: uploaded %" PRId64 " bytes (sha256 %.12s…)\n",
		size, sha);
out:
	fflush(stderr);
	free(path);
	return status;
}

/*
 * --src DIR: pack it into a temporary file, upload it if needed and name
 * it in req. The file is unlinked as soon as it is open for reading, so
 * nothing is left behind even if we are killed during the upload.
 * Returns -1 to go on, else the exit status after a message.
 */
static int submit_source(const struct cli_cmd *cmd, struct api_client *api,
			 const char *dir, json_t *req)
{
	const char *tmpdir = getenv("TMPDIR");
	char *tmp = xasprintf("%s/rfarm-src-XXXXXX", tmpdir && *tmpdir ?
			      tmpdir : "/tmp");
	char sha[SHA256_HEX_LEN + 1];
	struct errbuf eb = {""};
	int64_t size = 0;
	FILE *f = NULL;
	int fd, created = 0, status = -1;

	fd = mkstemp(tmp);
	if (fd < 0) {
		status = cli_fail(cmd, CLI_EXIT_USAGE, "cannot create a "
				  "temporary file %s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	created = 1;
	if (pack_dir(dir, tmp, sha, &size, &eb)) {
		status = cli_fail(cmd, CLI_EXIT_USAGE, "source: %s", eb.msg);
		goto out;
	}
	f = fopen(tmp, "rbe");
	if (!f) {
		status = cli_fail(cmd, CLI_EXIT_USAGE, "cannot read %s: %s",
				  tmp, strerror(errno));
		goto out;
	}
	unlink(tmp);
	status = source_upload(cmd, api, sha, size, f);
	if (status < 0 && cli_submit_source_set(req, sha, &eb))
		status = cli_fail(cmd, CLI_EXIT_FAIL, "%s", eb.msg);
out:
	if (f)
		fclose(f);
	if (created)
		unlink(tmp); /* a no-op once the upload path unlinked it */
	free(tmp);
	return status;
}

int cmd_submit(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct cli_submit_flags flags;
	const char *src = NULL;
	struct api_client *api = NULL;
	json_t *req = NULL, *reply = NULL;
	struct errbuf eb = {""};
	json_int_t id;
	int status;
	rc_t rc;

	if (cli_submit_request_src(argc, argv, &req, &flags, &src, &eb))
		return cli_usage_error(cmd, "%s", eb.msg);
	if (flags.help)
		return cli_help(cmd);
	api = api_client_new(NULL);
	if (src && (status = submit_source(cmd, api, src, req)) >= 0)
		goto out;
	rc = api_client_post_json(api, "/api/v1/builds", req, &reply, &eb);
	if (rc) {
		status = api_fail(cmd, rc, &eb);
		goto out;
	}
	id = json_integer_value(json_object_get(reply, "id"));
	if (id <= 0) {
		status = cli_fail(cmd, CLI_EXIT_FAIL, "the server's reply has "
				  "no build id");
		goto out;
	}
	if (flags.json && !flags.wait)
		print_json(reply);
	else if (!flags.json) {
		/* Just the number, so scripts can capture it. */
		printf("%" JSON_INTEGER_FORMAT "\n", id);
		fflush(stdout);
	}
	status = flags.wait ? wait_build(cmd, api, (long)id, flags.json) : 0;
out:
	json_decref(reply);
	json_decref(req);
	api_client_free(&api);
	return status;
}

/* GET path and print it as JSON or through format. */
static int get_and_print(const struct cli_cmd *cmd, const char *path,
			 int json, char *(*format)(const json_t *))
{
	struct api_client *api = api_client_new(NULL);
	struct errbuf eb = {""};
	json_t *reply = NULL;
	int status = CLI_EXIT_OK;
	rc_t rc;

	rc = api_client_get_json(api, path, &reply, &eb);
	if (rc)
		status = api_fail(cmd, rc, &eb);
	else if (json)
		print_json(reply);
	else
		print_text(stdout, format(reply));
	json_decref(reply);
	api_client_free(&api);
	return status;
}

int cmd_status(const struct cli_cmd *cmd, int argc, char **argv)
{
	int json = 0, status;
	char path[64];
	long id;

	if ((status = flags_only(cmd, argc, argv, &json)) >= 0 ||
	    (status = one_id(cmd, argc, argv, "build", &id)) >= 0)
		return status;
	snprintf(path, sizeof path, "/api/v1/builds/%ld", id);
	return get_and_print(cmd, path, json, cli_format_build);
}

int cmd_buildlets(const struct cli_cmd *cmd, int argc, char **argv)
{
	int json = 0, status;

	if ((status = flags_only(cmd, argc, argv, &json)) >= 0)
		return status;
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	return get_and_print(cmd, "/api/v1/buildlets", json,
			     cli_format_buildlets);
}

/* Where `rfarm list` options go before they become a query string. */
struct list_args {
	const char *state;    /* --state, or NULL */
	const char *platform; /* --platform, or NULL */
	const char *limit;    /* --limit, validated, or NULL */
	int json;             /* --json */
};

/* Returns -1 to go on, else the exit status. */
static int list_parse(const struct cli_cmd *cmd, int argc, char **argv,
		      struct list_args *la)
{
	static const struct option opts[] = {
		{"state", required_argument, NULL, OPT_STATE},
		{"platform", required_argument, NULL, OPT_PLATFORM},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long n;
	int c;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return cli_help(cmd);
		case OPT_STATE: la->state = optarg; break;
		case OPT_JSON: la->json = 1; break;
		case OPT_PLATFORM:
			if (!cli_platform_valid(optarg))
				return cli_usage_error(cmd, "bad --platform "
					"'%s': want GOOS/GOARCH", optarg);
			la->platform = optarg;
			break;
		case OPT_LIMIT:
			if (cli_number_arg(cmd, optarg, 1, 100000, "--limit",
					   &n))
				return CLI_EXIT_USAGE;
			la->limit = optarg;
			break;
		default:
			return cli_option_error(cmd, argv, ":h", c);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	return -1;
}

int cmd_list(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct list_args la = {0};
	struct buf path;
	int status;

	if ((status = list_parse(cmd, argc, argv, &la)) >= 0)
		return status;
	buf_init(&path, 0, 0);
	buf_puts(&path, "/api/v1/builds");
	if (la.state)
		cli_query_add(&path, "state", la.state);
	if (la.platform)
		cli_query_add(&path, "platform", la.platform);
	if (la.limit)
		cli_query_add(&path, "limit", la.limit);
	status = get_and_print(cmd, buf_cstr(&path), la.json,
			       cli_format_build_list);
	buf_free(&path);
	return status;
}

/* The log sink: straight to file descriptor 1, nothing buffered. */
static int on_log_bytes(void *ud, const void *p, size_t n)
{
	struct errbuf *eb = ud;
	const char *c = p;

	while (n) {
		ssize_t w = write(STDOUT_FILENO, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			errbuf_set(eb, "writing the log to stdout: %s",
				   strerror(errno));
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int logs_parse(const struct cli_cmd *cmd, int argc, char **argv,
		      int *follow, const char **stream)
{
	static const struct option opts[] = {
		{"follow", no_argument, NULL, 'f'},
		{"stream", required_argument, NULL, OPT_STREAM},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":fh", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return cli_help(cmd);
		case 'f': *follow = 1; break;
		case OPT_STREAM:
			if (strcmp(optarg, "stdout") && strcmp(optarg, "stderr"))
				return cli_usage_error(cmd, "--stream is "
					"stdout or stderr, not '%s'", optarg);
			*stream = optarg;
			break;
		default:
			return cli_option_error(cmd, argv, ":fh", c);
		}
	}
	return -1;
}

int cmd_logs(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *stream = NULL;
	struct api_client *api = NULL;
	struct errbuf eb = {""};
	int follow = 0, status;
	struct buf path;
	long id;
	rc_t rc;

	if ((status = logs_parse(cmd, argc, argv, &follow, &stream)) >= 0 ||
	    (status = one_id(cmd, argc, argv, "job", &id)) >= 0)
		return status;
	buf_init(&path, 0, 0);
	buf_printf(&path, "/api/v1/jobs/%ld/log", id);
	if (follow)
		cli_query_add(&path, "follow", "1");
	if (stream)
		cli_query_add(&path, "stream", stream);
	api = api_client_new(NULL);
	rc = api_client_get_stream(api, buf_cstr(&path), on_log_bytes, &eb,
				   &eb);
	status = rc ? api_fail(cmd, rc, &eb) : CLI_EXIT_OK;
	api_client_free(&api);
	buf_free(&path);
	return status;
}

/* POST /api/v1/builds/{id}/ACTION and show what the server answered. */
static int build_action(const struct cli_cmd *cmd, int argc, char **argv,
			const char *action)
{
	struct api_client *api = NULL;
	struct errbuf eb = {""};
	json_t *reply = NULL;
	int json = 0, status;
	char path[96];
	long id;
	rc_t rc;

	if ((status = flags_only(cmd, argc, argv, &json)) >= 0 ||
	    (status = one_id(cmd, argc, argv, "build", &id)) >= 0)
		return status;
	snprintf(path, sizeof path, "/api/v1/builds/%ld/%s", id, action);
	api = api_client_new(NULL);
	rc = api_client_post_json(api, path, NULL, &reply, &eb);
	if (rc)
		status = api_fail(cmd, rc, &eb);
	else if (json || !json_is_array(json_object_get(reply, "jobs")))
		print_json(reply);
	else
		print_text(stdout, cli_format_build(reply));
	json_decref(reply);
	api_client_free(&api);
	return rc ? status : CLI_EXIT_OK;
}

int cmd_cancel(const struct cli_cmd *cmd, int argc, char **argv)
{
	return build_action(cmd, argc, argv, "cancel");
}

int cmd_retry(const struct cli_cmd *cmd, int argc, char **argv)
{
	/* --commit HASH retries cells of the commit matrix (cmd_commits.c). */
	if (cli_retry_is_commit(argc, argv))
		return cmd_retry_commit(cmd, argc, argv);
	return build_action(cmd, argc, argv, "retry");
}

/* POST path with body (may be NULL); prints the reply's JSON, or line. */
static int post_and_print(const struct cli_cmd *cmd, const char *path,
			  json_t *body, int json, const char *(*line)(json_t *))
{
	struct api_client *api = api_client_new(NULL);
	struct errbuf eb = {""};
	json_t *reply = NULL;
	int status = CLI_EXIT_OK;
	rc_t rc = api_client_post_json(api, path, body, &reply, &eb);

	if (rc)
		status = api_fail(cmd, rc, &eb);
	else if (json)
		print_json(reply);
	else
		printf("%s\n", line(reply));
	json_decref(reply);
	api_client_free(&api);
	return status;
}

static const char *drain_line(json_t *reply)
{
	static char text[200];

	snprintf(text, sizeof text, "buildlet %s: %s",
		 json_string_value(json_object_get(reply, "name")),
		 json_is_true(json_object_get(reply, "drained"))
			 ? "drained (finishes its jobs, takes no more)"
			 : "takes jobs again");
	return text;
}

int cmd_drain(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"undo", no_argument, NULL, OPT_UNDO},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, json = 0, undo = 0;
	char path[160];

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return cli_help(cmd);
		if (c == OPT_JSON || c == OPT_UNDO) {
			*(c == OPT_JSON ? &json : &undo) = 1;
			continue;
		}
		return cli_option_error(cmd, argv, ":h", c);
	}
	if (optind + 1 != argc)
		return cli_usage_error(cmd, "give one buildlet name");
	if (!cli_buildlet_name_valid(argv[optind]))
		return cli_usage_error(cmd, "bad buildlet name '%s' (letters, "
				       "digits, '.', '_', '-')", argv[optind]);
	snprintf(path, sizeof path, "/api/v1/buildlets/%s/%s", argv[optind],
		 undo ? "undrain" : "drain");
	return post_and_print(cmd, path, NULL, json, drain_line);
}

static const char *purge_line(json_t *reply)
{
	static char text[200];

	snprintf(text, sizeof text, "purged %lld build(s) and %lld log chunk(s)",
		 (long long)json_integer_value(json_object_get(reply, "builds")),
		 (long long)json_integer_value(json_object_get(reply, "log_chunks")));
	return text;
}

int cmd_purge(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"before", required_argument, NULL, OPT_BEFORE},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *before = NULL;
	json_t *body;
	int c, json = 0, status;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return cli_help(cmd);
		if (c == OPT_JSON) {
			json = 1;
		} else if (c == OPT_BEFORE) {
			before = optarg;
		} else {
			return cli_option_error(cmd, argv, ":h", c);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!before || clock_parse_duration_ms(before) < 0)
		return cli_usage_error(cmd, "give --before AGE, such as 30d or 12h");
	body = json_pack("{s:s}", "before", before);
	status = post_and_print(cmd, "/api/v1/purge", body, json, purge_line);
	json_decref(body);
	return status;
}

/* ---- rfarm get ---- */

struct download {
	FILE *f;                 /* the file being written */
	struct sha256_ctx *sha;  /* digest of what arrived */
	struct errbuf *eb;       /* where a write error is said */
};

static int on_artifact_bytes(void *ud, const void *p, size_t n)
{
	struct download *d = ud;

	sha256_update(d->sha, p, n);
	if (fwrite(p, 1, n, d->f) != n) {
		errbuf_set(d->eb, "write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A name from the server, used as a path under the output directory:
 * relative, no "..", no empty components. */
static int artifact_name_safe(const char *name)
{
	const char *c = name;

	if (!*name || *name == '/')
		return 0;
	while (*c) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 2 && !strncmp(c, "..", 2)) ||
		    (n == 1 && *c == '.'))
			return 0;
		c += n + (c[n] == '/');
	}
	return 1;
}

/* Download one artifact to dir/name through a temporary file, verifying
 * its digest before the file takes its name. */
static rc_t get_artifact(struct api_client *api, const json_t *a,
			 const char *dir, struct errbuf *eb)
{
	const char *name = json_string_value(json_object_get(a, "name"));
	const char *want = json_string_value(json_object_get(a, "sha256"));
	char *path, *tmp, *slash, got[SHA256_HEX_LEN + 1], url[128];
	struct download d = {NULL, NULL, eb};
	rc_t rc;

	if (!name || !want || !artifact_name_safe(name) || !sha256_hex_valid(want)) {
		errbuf_set(eb, "the server listed an unusable artifact name");
		return RC_PROTO;
	}
	path = xasprintf("%s/%s", dir, name);
	tmp = xasprintf("%s.part", path);
	slash = strrchr(path, '/');
	*slash = '\0';
	rc = fs_mkdirs(path, 0755, eb);
	*slash = '/';
	if (!rc && !(d.f = fopen(tmp, "wbe"))) {
		errbuf_set(eb, "%s: %s", tmp, strerror(errno));
		rc = RC_IO;
	}
	if (!rc) {
		d.sha = sha256_new();
		snprintf(url, sizeof url, "/api/v1/blobs/%s", want);
		rc = api_client_get_stream(api, url, on_artifact_bytes, &d, eb);
		sha256_final_hex(&d.sha, got);
		if (fclose(d.f) && !rc) {
			errbuf_set(eb, "%s: %s", tmp, strerror(errno));
			rc = RC_IO;
		}
	}
	if (!rc && strcmp(got, want)) {
		errbuf_set(eb, "%s: downloaded bytes hash to %s, not %s", name, got,
			   want);
		rc = RC_INVALID;
	}
	if (!rc && rename(tmp, path) < 0) {
		errbuf_set(eb, "%s: %s", path, strerror(errno));
		rc = RC_IO;
	}
	if (rc)
		unlink(tmp);
	else
		printf("%s  %s\n", want, path);
	free(tmp);
	free(path);
	return rc;
}

int cmd_get(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = ".";
	struct api_client *api = NULL;
	struct errbuf eb = {""};
	json_t *list = NULL, *a;
	char path[96];
	size_t i;
	int c, status;
	long id;
	rc_t rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		if (c == 'h')
			return cli_help(cmd);
		if (c == 'o') {
			dir = optarg;
			continue;
		}
		return cli_option_error(cmd, argv, ":ho:", c);
	}
	if ((status = one_id(cmd, argc, argv, "job", &id)) >= 0)
		return status;
	snprintf(path, sizeof path, "/api/v1/jobs/%ld/artifacts", id);
	api = api_client_new(NULL);
	rc = api_client_get_json(api, path, &list, &eb);
	json_array_foreach(json_object_get(list, "artifacts"), i, a)
		if (!rc)
			rc = get_artifact(api, a, dir, &eb);
	if (!rc && json_array_size(json_object_get(list, "artifacts")) == 0)
		fprintf(stderr, "rfarm get: job %ld has no artifacts\n", id);
	status = rc ? api_fail(cmd, rc, &eb) : CLI_EXIT_OK;
	json_decref(list);
	api_client_free(&api);
	return status;
}
