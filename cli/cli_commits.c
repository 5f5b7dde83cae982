/*
 * cli_commits.c - the pure half of `rfarm repos`, `rfarm commits` and
 * `rfarm retry --commit`: their arguments into requests, and the API's
 * answers into text (a repository table, the commit matrix, what a retry
 * did). cmd_commits.c glues them to the API client.
 */
#include "cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Widest cell state ("cancelled") and the hash column. */
#define STATE_WIDTH 9
#define HASH_WIDTH 7
/* The subject column is never narrower than this, however many builders. */
#define SUBJECT_MIN 12

enum { OPT_COMMIT = 300, OPT_BUILDER, OPT_REPO, OPT_JSON, OPT_LIMIT };

/* The finished text, handed over to the caller. */
static char *buf_take(struct buf *b)
{
	char *s = xstrdup(buf_cstr(b));

	buf_free(b);
	return s;
}

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

/* ---- arguments ---- */

int cli_retry_is_commit(int argc, char **argv)
{
	static const char *const opts[] = {"--commit", "--builder", "--repo"};

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
			size_t n = strlen(opts[k]);

			if (!strncmp(argv[i], opts[k], n) &&
			    (argv[i][n] == '\0' || argv[i][n] == '='))
				return 1;
		}
	return 0;
}

/* A hash or prefix: 7 to 40 hex digits (either case). */
static int commit_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 7 && n <= 40 && strspn(s, "0123456789abcdefABCDEF") == n;
}

rc_t cli_retry_commit_request(int argc, char **argv,
			      struct cli_retry_commit *out, struct errbuf *eb)
{
	static const struct option opts[] = {
		{"commit", required_argument, NULL, OPT_COMMIT},
		{"builder", required_argument, NULL, OPT_BUILDER},
		{"repo", required_argument, NULL, OPT_REPO},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *commit = NULL;
	int c;

	memset(out, 0, sizeof *out);
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': out->help = 1; return RC_OK;
		case OPT_COMMIT: commit = optarg; break;
		case OPT_JSON: out->json = 1; break;
		case OPT_BUILDER:
			if (!cli_buildlet_name_valid(optarg)) {
				errbuf_set(eb, "bad --builder '%s': a builder name "
					   "of the config", optarg);
				goto bad;
			}
			json_object_set_new(out->body ? out->body
					    : (out->body = json_object()),
					    "builder", json_string(optarg));
			break;
		case OPT_REPO:
			if (!*optarg) {
				errbuf_set(eb, "--repo wants a repository URL or id");
				goto bad;
			}
			json_object_set_new(out->body ? out->body
					    : (out->body = json_object()),
					    "repo", json_string(optarg));
			break;
		default:
			cli_getopt_error(argv, ":h", c, eb);
			goto bad;
		}
	}
	if (optind < argc) {
		errbuf_set(eb, "unexpected argument '%s' (retry a build with "
			   "`rfarm retry BUILD`, a commit with --commit HASH)",
			   argv[optind]);
		goto bad;
	}
	if (!commit) {
		errbuf_set(eb, "--builder and --repo go with --commit HASH");
		goto bad;
	}
	if (!commit_name_ok(commit)) {
		errbuf_set(eb, "bad --commit '%s': a commit hash or a prefix of "
			   "at least 7 hex digits", commit);
		goto bad;
	}
	out->path = xasprintf("/api/v1/commits/%s/retry", commit);
	return RC_OK;
bad:
	json_decref(out->body);
	out->body = NULL;
	return RC_INVALID;
}

void cli_retry_commit_clear(struct cli_retry_commit *r)
{
	json_decref(r->body);
	free(r->path);
	memset(r, 0, sizeof *r);
}

/* ---- text ---- */

char *cli_format_repos(const json_t *list)
{
	json_t *repos = json_object_get(list, "repos"), *r;
	struct buf out;
	size_t i;

	buf_init(&out, 0, 0);
	if (!json_array_size(repos)) {
		buf_puts(&out, "no repositories (the config's \"repos\" lists "
			 "those to watch)\n");
		return buf_take(&out);
	}
	json_array_foreach(repos, i, r) {
		json_t *b;
		size_t k;

		buf_printf(&out, "%lld %s%s\n  commits %lld, last poll %s%s%s\n"
			   "  builders:", (long long)json_integer_value(
				   json_object_get(r, "id")), str_or(r, "url", "?"),
			   json_is_false(json_object_get(r, "watched"))
				   ? " (no longer watched)" : "",
			   (long long)json_integer_value(json_object_get(r, "commits")),
			   str_or(r, "last_poll", "never"),
			   json_is_string(json_object_get(r, "last_error"))
				   ? ", failed: " : "",
			   str_or(r, "last_error", ""));
		json_array_foreach(json_object_get(r, "builders"), k, b)
			buf_printf(&out, " %s", json_string_value(b) ?
				   json_string_value(b) : "?");
		buf_puts(&out, k ? "\n" : " -\n");
	}
	return buf_take(&out);
}

/* Characters of s (UTF-8: continuation bytes do not count). */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* s cut to at most w characters (a cut one ends in "~"), padded to w. */
static void put_cell(struct buf *b, const char *s, size_t w)
{
	size_t len = text_width(s), used = 0;

	if (len > w) {
		const char *p = s;

		while (*p && used + 1 < w) {
			p++;
			while (((unsigned char)*p & 0xc0) == 0x80)
				p++;
			used++;
		}
		buf_append(b, s, (size_t)(p - s));
		buf_putc(b, '~');
		used++;
	} else {
		buf_puts(b, s);
		used = len;
	}
	for (; used < w; used++)
		buf_putc(b, ' ');
}

/* End a row: no trailing blanks. */
static void end_row(struct buf *b)
{
	while (b->len && buf_data(b)[b->len - 1] == ' ')
		b->len--;
	buf_putc(b, '\n');
}

static const char *cell_text(const json_t *cells, const char *builder)
{
	const json_t *c = json_object_get(cells, builder);

	return json_is_object(c) ? str_or(c, "state", "?") : "-";
}

char *cli_format_commits(const json_t *page, int width)
{
	json_t *builders = json_object_get(page, "builders");
	json_t *commits = json_object_get(page, "commits"), *m, *b;
	json_t *repo = json_object_get(page, "repo");
	long rest = width;
	size_t i, k, subject_w;
	struct buf out;

	buf_init(&out, 0, 0);
	buf_printf(&out, "%s: %lld commits, newest first\n", str_or(repo, "url", "?"),
		   (long long)json_integer_value(json_object_get(repo, "commits")));
	if (!json_array_size(commits)) {
		buf_puts(&out, "no commits yet\n");
		return buf_take(&out);
	}
	rest -= HASH_WIDTH + 2;
	json_array_foreach(builders, k, b) {
		size_t w = text_width(json_string_value(b));

		rest -= (long)(w > STATE_WIDTH ? w : STATE_WIDTH) + 2;
	}
	subject_w = rest > SUBJECT_MIN ? (size_t)rest : SUBJECT_MIN;
	put_cell(&out, "COMMIT", HASH_WIDTH + 2);
	put_cell(&out, "SUBJECT", subject_w + 2);
	json_array_foreach(builders, k, b) {
		size_t w = text_width(json_string_value(b));

		put_cell(&out, json_string_value(b),
			 (w > STATE_WIDTH ? w : STATE_WIDTH) + 2);
	}
	end_row(&out);
	json_array_foreach(commits, i, m) {
		char hash[HASH_WIDTH + 1];

		snprintf(hash, sizeof hash, "%s", str_or(m, "hash", "?"));
		put_cell(&out, hash, HASH_WIDTH + 2);
		put_cell(&out, str_or(m, "subject", ""), subject_w);
		buf_puts(&out, "  ");
		json_array_foreach(builders, k, b) {
			size_t w = text_width(json_string_value(b));

			put_cell(&out, cell_text(json_object_get(m, "cells"),
						 json_string_value(b)),
				 (w > STATE_WIDTH ? w : STATE_WIDTH) + 2);
		}
		end_row(&out);
	}
	if (json_is_integer(json_object_get(page, "next_before")))
		buf_printf(&out, "(more: --before %lld)\n", (long long)
			   json_integer_value(json_object_get(page, "next_before")));
	return buf_take(&out);
}

char *cli_format_retry(const json_t *reply)
{
	json_t *commit = json_object_get(reply, "commit"), *c;
	struct buf out;
	size_t i;

	buf_init(&out, 0, 0);
	buf_printf(&out, "commit %.12s %s\n", str_or(commit, "hash", "?"),
		   str_or(commit, "subject", ""));
	json_array_foreach(json_object_get(reply, "cells"), i, c) {
		const char *a = str_or(c, "action", "?");

		buf_printf(&out, "  %s: %s (build %lld)\n", str_or(c, "builder", "?"),
			   !strcmp(a, "retried") ? "failed jobs queued again" :
			   !strcmp(a, "built") ? "built for the first time" :
			   !strcmp(a, "rebuilt") ? "passed; built again without the cache" :
			   !strcmp(a, "busy") ? "queued or running; left alone" : a,
			   (long long)json_integer_value(json_object_get(c, "build")));
	}
	return buf_take(&out);
}
