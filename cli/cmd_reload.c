/*
 * cmd_reload.c - `rfarm reload`: make a running coordinator reread its
 * --config file, and say whether it took it.
 *
 * The coordinator is reached through the API (POST /api/v1/reload, an
 * admin token in RFARM_TOKEN), not a signal: the answer carries the
 * file:line: reason of an invalid file, and it works across machines.
 * --data DIR finds a local coordinator's address in DIR/url.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"
#include "fsutil.h"
#include "xalloc.h"

enum { OPT_DATA = 256, OPT_JSON };

/* The URL a coordinator with data directory dir wrote at start. */
static char *url_of(const char *dir, struct errbuf *eb)
{
	char *path = xasprintf("%s/url", dir), *url = NULL;
	size_t len;

	if (fs_read_all(path, 1024, &url, &len, eb)) {
		free(path);
		return NULL;
	}
	free(path);
	url[strcspn(url, "\r\n")] = '\0';
	return url;
}

static void print_summary(json_t *reply)
{
	json_t *cfg = json_object_get(reply, "config");

	printf("config %s reloaded: %zu host type(s), %zu builder(s), %zu "
	       "repo(s)\n", json_string_value(json_object_get(reply, "file")),
	       json_array_size(json_object_get(cfg, "host_types")),
	       json_array_size(json_object_get(cfg, "builders")),
	       json_array_size(json_object_get(cfg, "repos")));
}

static int reload(const struct cli_cmd *cmd, const char *url, int json)
{
	struct api_client *api = api_client_new(url);
	struct errbuf eb = {""};
	json_t *reply = NULL;
	rc_t rc = api_client_post_json(api, "/api/v1/reload", NULL, &reply, &eb);
	int status = CLI_EXIT_OK;

	if (rc)
		status = cli_fail(cmd, rc == RC_IO ? CLI_EXIT_USAGE : CLI_EXIT_FAIL,
				  "%s", eb.msg[0] ? eb.msg : rc_str(rc));
	else if (json)
		json_dumpf(reply, stdout, JSON_INDENT(2)), putchar('\n');
	else
		print_summary(reply);
	json_decref(reply);
	api_client_free(&api);
	return status;
}

int cmd_reload(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, OPT_DATA},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL;
	struct errbuf eb = {""};
	char *url = NULL;
	int c, json = 0, status;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return cli_help(cmd);
		case OPT_DATA: data = optarg; break;
		case OPT_JSON: json = 1; break;
		default:
			return cli_option_error(cmd, argv, ":h", c);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (data && !(url = url_of(data, &eb)))
		return cli_fail(cmd, CLI_EXIT_USAGE, "no running coordinator "
				"found in %s: %s", data, eb.msg);
	status = reload(cmd, url, json);
	free(url);
	return status;
}
