/*
 * cmd_commits.c - the commit matrix verbs: `rfarm repos`, `rfarm commits`
 * and `rfarm retry --commit` (cmd_retry in cmd_client.c hands those
 * over). Arguments and text are cli_commits.c's; this file only calls
 * the API.
 */
#include "cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "api_client.h"
#include "xalloc.h"

#define DEFAULT_WIDTH 100

enum { OPT_JSON = 256, OPT_REPO, OPT_LIMIT, OPT_BEFORE };

static int api_fail(const struct cli_cmd *cmd, rc_t rc, const struct errbuf *eb)
{
	return cli_fail(cmd, rc == RC_IO ? CLI_EXIT_USAGE : CLI_EXIT_FAIL, "%s",
			eb->msg[0] ? eb->msg : rc_str(rc));
}

static void print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	fflush(stdout);
}

static void print_text(char *text)
{
	fputs(text, stdout);
	fflush(stdout);
	free(text);
}

/* The terminal's width, else $COLUMNS, else DEFAULT_WIDTH. */
static int term_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");

	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) &&
	    ws.ws_col > 0)
		return ws.ws_col;
	if (cols && atoi(cols) > 0)
		return atoi(cols);
	return DEFAULT_WIDTH;
}

int cmd_repos(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct api_client *api;
	struct errbuf eb = {""};
	json_t *reply = NULL;
	int c, json = 0, status = CLI_EXIT_OK;
	rc_t rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return cli_help(cmd);
		if (c != OPT_JSON) {
			return cli_option_error(cmd, argv, ":h", c);
		}
		json = 1;
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	api = api_client_new(NULL);
	rc = api_client_get_json(api, "/api/v1/repos", &reply, &eb);
	if (rc)
		status = api_fail(cmd, rc, &eb);
	else if (json)
		print_json(reply);
	else
		print_text(cli_format_repos(reply));
	json_decref(reply);
	api_client_free(&api);
	return status;
}

/*
 * The id of the repository --repo names (an id, or a URL looked up in GET
 * /repos); without --repo, the only one there is. Returns -1 with *id
 * set, else the exit status after a message.
 */
static int repo_id(const struct cli_cmd *cmd, struct api_client *api,
		   const char *want, long *id)
{
	struct errbuf eb = {""};
	json_t *reply = NULL, *repos, *r;
	int status = -1;
	size_t i;
	rc_t rc;

	if (want && !cli_number_parse(want, 1, LONG_MAX, "--repo", id, &eb))
		return -1;
	errbuf_clear(&eb); /* not a number: a URL */
	rc = api_client_get_json(api, "/api/v1/repos", &reply, &eb);
	if (rc)
		return api_fail(cmd, rc, &eb);
	repos = json_object_get(reply, "repos");
	*id = 0;
	json_array_foreach(repos, i, r) {
		const char *url = json_string_value(json_object_get(r, "url"));

		if (!want || (url && !strcmp(want, url)))
			*id = *id ? -1 : (long)json_integer_value(json_object_get(r, "id"));
	}
	if (*id == 0)
		status = cli_fail(cmd, CLI_EXIT_FAIL, want ? "no repository %s "
				  "(`rfarm repos` lists them)" : "no repositories yet "
				  "(the config's \"repos\" lists those to watch)%s",
				  want ? want : "");
	else if (*id < 0)
		status = cli_usage_error(cmd, "there are %zu repositories: say "
					 "which with --repo ID or URL (`rfarm "
					 "repos` lists them)", json_array_size(repos));
	json_decref(reply);
	return status;
}

struct commits_args {
	const char *repo;   /* --repo, or NULL */
	const char *limit;  /* --limit, validated, or NULL */
	const char *before; /* --before, validated, or NULL */
	int json;           /* --json */
};

/* Returns -1 to go on, else the exit status. */
static int commits_parse(const struct cli_cmd *cmd, int argc, char **argv,
			 struct commits_args *a)
{
	static const struct option opts[] = {
		{"repo", required_argument, NULL, OPT_REPO},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"before", required_argument, NULL, OPT_BEFORE},
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
		case OPT_REPO: a->repo = optarg; break;
		case OPT_JSON: a->json = 1; break;
		case OPT_LIMIT:
		case OPT_BEFORE:
			if (cli_number_arg(cmd, optarg, 1,
					   c == OPT_LIMIT ? 1000 : LONG_MAX,
					   c == OPT_LIMIT ? "--limit" : "--before",
					   &n))
				return CLI_EXIT_USAGE;
			*(c == OPT_LIMIT ? &a->limit : &a->before) = optarg;
			break;
		default:
			return cli_option_error(cmd, argv, ":h", c);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return -1;
}

int cmd_commits(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct commits_args a = {0};
	struct api_client *api;
	struct errbuf eb = {""};
	json_t *reply = NULL;
	struct buf path;
	int status;
	long id;
	rc_t rc;

	if ((status = commits_parse(cmd, argc, argv, &a)) >= 0)
		return status;
	api = api_client_new(NULL);
	buf_init(&path, 0, 0);
	if ((status = repo_id(cmd, api, a.repo, &id)) >= 0)
		goto out;
	status = CLI_EXIT_OK;
	buf_printf(&path, "/api/v1/repos/%ld/commits", id);
	if (a.limit)
		cli_query_add(&path, "limit", a.limit);
	if (a.before)
		cli_query_add(&path, "before", a.before);
	rc = api_client_get_json(api, buf_cstr(&path), &reply, &eb);
	if (rc)
		status = api_fail(cmd, rc, &eb);
	else if (a.json)
		print_json(reply);
	else
		print_text(cli_format_commits(reply, term_width()));
out:
	json_decref(reply);
	buf_free(&path);
	api_client_free(&api);
	return status;
}

int cmd_retry_commit(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct cli_retry_commit r;
	struct api_client *api;
	struct errbuf eb = {""};
	json_t *reply = NULL;
	int status = CLI_EXIT_OK;
	rc_t rc;

	if (cli_retry_commit_request(argc, argv, &r, &eb))
		return cli_usage_error(cmd, "%s", eb.msg);
	if (r.help) {
		cli_retry_commit_clear(&r);
		return cli_help(cmd);
	}
	api = api_client_new(NULL);
	rc = api_client_post_json(api, r.path, r.body, &reply, &eb);
	if (rc)
		status = api_fail(cmd, rc, &eb);
	else if (r.json)
		print_json(reply);
	else
		print_text(cli_format_retry(reply));
	json_decref(reply);
	api_client_free(&api);
	cli_retry_commit_clear(&r);
	return status;
}
