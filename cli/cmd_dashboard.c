/*
 * cmd_dashboard.c - `rfarm dashboard`: every dashboard page from a data
 * directory's database, without a coordinator.
 *
 * The pages are the ones a coordinator serves (the same code writes
 * them), so the output directory can be published by any web server or
 * object store. A running coordinator may share the database: SQLite's
 * WAL lets this read beside it.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "coordinator.h"
#include "xalloc.h"

enum { OPT_DATA = 256, OPT_OUT };

int cmd_dashboard(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, OPT_DATA},
		{"out", required_argument, NULL, OPT_OUT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *data = "./rfarm-data", *out = NULL;
	char *fallback = NULL;
	struct errbuf eb = {""};
	size_t pages = 0;
	int64_t start = clock_mono_ms();
	int c, status = CLI_EXIT_OK;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return cli_help(cmd);
		case OPT_DATA: data = optarg; break;
		case OPT_OUT: out = optarg; break;
		default:
			return cli_option_error(cmd, argv, ":h", c);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!out)
		out = fallback = xasprintf("%s/dashboard", data);
	if (coord_dashboard_render(data, out, &pages, &eb))
		status = cli_fail(cmd, CLI_EXIT_FAIL, "%s", eb.msg);
	printf("%zu pages in %s in %.3f s\n", pages, out,
	       (double)(clock_mono_ms() - start) / 1000.0);
	free(fallback);
	return status;
}
