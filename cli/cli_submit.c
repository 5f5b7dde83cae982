/*
 * cli_submit.c - `rfarm submit` arguments to the POST /api/v1/builds body,
 * and a finished build to the exit status of `rfarm submit --wait`.
 *
 * Options are read in order and stop at the first "--" (getopt's "+"
 * mode): nothing after it is ever taken for an option, so
 * `-- make -j2 test` reaches the server as ["make","-j2","test"].
 * `--src DIR` is handed back to the caller, which packs and uploads the
 * directory before the digest can go into the body.
 */
#include "cli.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sha256.h"
#include "xalloc.h"

/* Long-only options get codes above any character (see cli_getopt_error). */
enum {
	OPT_PLATFORM = 256,
	OPT_ENV,
	OPT_LABEL,
	OPT_PRIORITY,
	OPT_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_SCRIPT,
	OPT_WAIT,
	OPT_JSON,
	OPT_SRC,
	OPT_ARTIFACT,
	OPT_NO_CACHE,
	OPT_GIT,
	OPT_REF,
};

static const char submit_optstring[] = "+:h";

static const struct option submit_options[] = {
	{"platform", required_argument, NULL, OPT_PLATFORM},
	{"env", required_argument, NULL, OPT_ENV},
	{"label", required_argument, NULL, OPT_LABEL},
	{"priority", required_argument, NULL, OPT_PRIORITY},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
	{"script", required_argument, NULL, OPT_SCRIPT},
	{"wait", no_argument, NULL, OPT_WAIT},
	{"json", no_argument, NULL, OPT_JSON},
	{"src", required_argument, NULL, OPT_SRC},
	{"artifact", required_argument, NULL, OPT_ARTIFACT},
	{"no-cache", no_argument, NULL, OPT_NO_CACHE},
	{"git", required_argument, NULL, OPT_GIT},
	{"ref", required_argument, NULL, OPT_REF},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* What the options said, before it becomes JSON. */
struct submit {
	json_t *req;          /* the body being built; owned */
	const char *script;   /* --script, borrowed from argv */
	const char *src;      /* --src, borrowed from argv */
	int have_priority;    /* --priority was given */
	struct cli_submit_flags flags; /* --wait, --json, --help */
};

/* Priorities are small numbers; the bound only catches typos. */
#define PRIORITY_MAX 1000000L

static int env_name_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || isdigit((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

static int label_valid(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return 0;
	return 1;
}

static int array_has(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (!strcmp(json_string_value(v), s))
			return 1;
	return 0;
}

static rc_t add_platform(struct submit *sb, const char *p, struct errbuf *eb)
{
	json_t *arr = json_object_get(sb->req, "platforms");

	if (!cli_platform_valid(p)) {
		errbuf_set(eb, "bad --platform '%s': want GOOS/GOARCH such as "
			   "linux/amd64", p);
		return RC_INVALID;
	}
	if (array_has(arr, p)) {
		errbuf_set(eb, "platform %s is given twice", p);
		return RC_INVALID;
	}
	json_array_append_new(arr, json_string(p));
	return RC_OK;
}

static rc_t add_env(struct submit *sb, const char *kv, struct errbuf *eb)
{
	const char *eq = strchr(kv, '=');
	json_t *env = json_object_get(sb->req, "env");
	char *name;

	if (!eq) {
		errbuf_set(eb, "--env wants KEY=VALUE, not '%s'", kv);
		return RC_INVALID;
	}
	if (!env_name_valid(kv, (size_t)(eq - kv))) {
		errbuf_set(eb, "bad variable name in --env '%s' (letters, "
			   "digits and _, not starting with a digit)", kv);
		return RC_INVALID;
	}
	/* A later --env for the same name wins, as in a shell. */
	name = xstrndup(kv, (size_t)(eq - kv));
	json_object_set_new(env, name, json_string(eq + 1));
	free(name);
	return RC_OK;
}

static rc_t add_label(struct submit *sb, const char *l, struct errbuf *eb)
{
	json_t *arr = json_object_get(sb->req, "labels");

	if (!label_valid(l)) {
		errbuf_set(eb, "bad --label '%s' (letters, digits, '.', '_' "
			   "and '-')", l);
		return RC_INVALID;
	}
	if (!array_has(arr, l))
		json_array_append_new(arr, json_string(l));
	return RC_OK;
}

/* --git URL / --ref REF build "source": {"git": {"url", "ref"}}; the
 * coordinator checks them. */
static rc_t set_git(struct submit *sb, const char *key, const char *v,
		    struct errbuf *eb)
{
	json_t *src = json_object_get(sb->req, "source"), *git;

	if (sb->src) {
		errbuf_set(eb, "give --src or --git, not both");
		return RC_INVALID;
	}
	if (!src) {
		src = json_pack("{s:{}}", "git");
		json_object_set_new(sb->req, "source", src);
	}
	git = json_object_get(src, "git");
	if (json_object_get(git, key)) {
		errbuf_set(eb, "give --%s once", !strcmp(key, "url") ? "git" : "ref");
		return RC_INVALID;
	}
	json_object_set_new(git, key, json_string(v));
	return RC_OK;
}

/* --artifact: a path or glob inside the work directory, sent as given. */
static rc_t add_artifact(struct submit *sb, const char *a, struct errbuf *eb)
{
	json_t *arr = json_object_get(sb->req, "artifacts");

	if (!a[0] || a[0] == '/' || !strcmp(a, "..") || !strncmp(a, "../", 3) ||
	    strstr(a, "/../")) {
		errbuf_set(eb, "bad --artifact '%s': want a path or glob inside "
			   "the work directory, such as out/*.tar.gz", a);
		return RC_INVALID;
	}
	if (!arr) {
		arr = json_array();
		json_object_set_new(sb->req, "artifacts", arr);
	}
	if (!array_has(arr, a))
		json_array_append_new(arr, json_string(a));
	return RC_OK;
}

/* --timeout and --idle-timeout: the text goes as given, for the server
 * to parse; checking it here turns a typo into a usage error. */
static rc_t set_duration(struct submit *sb, const char *key, const char *opt,
			 const char *d, struct errbuf *eb)
{
	if (clock_parse_duration_ms(d) <= 0) {
		errbuf_set(eb, "bad %s '%s': want a duration such as "
			   "90s, 10m or 1h30m", opt, d);
		return RC_INVALID;
	}
	json_object_set_new(sb->req, key, json_string(d));
	return RC_OK;
}

static rc_t set_priority(struct submit *sb, const char *s, struct errbuf *eb)
{
	long v;
	rc_t rc = cli_number_parse(s, -PRIORITY_MAX, PRIORITY_MAX,
				   "--priority", &v, eb);

	if (rc == RC_OK)
		json_object_set_new(sb->req, "priority", json_integer(v));
	return rc;
}

/* --src DIR: packed and uploaded by cmd_submit, which then adds the
 * digest with cli_submit_source_set. */
static rc_t set_src(struct submit *sb, const char *dir, struct errbuf *eb)
{
	if (!*dir) {
		errbuf_set(eb, "--src wants a directory, not ''");
		return RC_INVALID;
	}
	if (sb->src) {
		errbuf_set(eb, "give --src once");
		return RC_INVALID;
	}
	if (json_object_get(sb->req, "source")) {
		errbuf_set(eb, "give --src or --git, not both");
		return RC_INVALID;
	}
	sb->src = dir;
	return RC_OK;
}

/* One option from getopt_long. */
static rc_t submit_option(struct submit *sb, int c, char **argv,
			  struct errbuf *eb)
{
	switch (c) {
	case OPT_PLATFORM: return add_platform(sb, optarg, eb);
	case OPT_ENV: return add_env(sb, optarg, eb);
	case OPT_LABEL: return add_label(sb, optarg, eb);
	case OPT_PRIORITY: return set_priority(sb, optarg, eb);
	case OPT_TIMEOUT:
		return set_duration(sb, "timeout", "--timeout", optarg, eb);
	case OPT_IDLE_TIMEOUT:
		return set_duration(sb, "idle_timeout", "--idle-timeout",
				    optarg, eb);
	case OPT_SCRIPT: sb->script = optarg; return RC_OK;
	case OPT_WAIT: sb->flags.wait = 1; return RC_OK;
	case OPT_JSON: sb->flags.json = 1; return RC_OK;
	case OPT_SRC: return set_src(sb, optarg, eb);
	case OPT_ARTIFACT: return add_artifact(sb, optarg, eb);
	case OPT_NO_CACHE:
		json_object_set_new(sb->req, "no_cache", json_true());
		return RC_OK;
	case OPT_GIT: return set_git(sb, "url", optarg, eb);
	case OPT_REF: return set_git(sb, "ref", optarg, eb);
	case 'h': sb->flags.help = 1; return RC_OK;
	default:
		cli_getopt_error(argv, submit_optstring, c, eb);
		return RC_INVALID;
	}
}

/* After the options: the command (after "--") or the script. */
static rc_t submit_what(struct submit *sb, int argc, char **argv,
			int dashdash, struct errbuf *eb)
{
	json_t *cmd;
	int i;

	if (optind < argc && !dashdash) {
		errbuf_set(eb, "unexpected argument '%s': put the command "
			   "after --, as in: rfarm submit --platform "
			   "linux/amd64 -- make test", argv[optind]);
		return RC_INVALID;
	}
	if (sb->script && optind < argc) {
		errbuf_set(eb, "give either --script TEXT or -- CMD ARGS, "
			   "not both");
		return RC_INVALID;
	}
	if (sb->script && *sb->script) {
		json_object_set_new(sb->req, "script", json_string(sb->script));
		return RC_OK;
	}
	if (optind >= argc) {
		errbuf_set(eb, "nothing to run: give --script TEXT or -- CMD "
			   "ARGS");
		return RC_INVALID;
	}
	cmd = json_array();
	for (i = optind; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	json_object_set_new(sb->req, "command", cmd);
	return RC_OK;
}

/* The body starts with the fields every request has, in a fixed order. */
static json_t *request_skeleton(void)
{
	json_t *req = json_object();

	json_object_set_new(req, "platforms", json_array());
	json_object_set_new(req, "env", json_object());
	json_object_set_new(req, "labels", json_array());
	json_object_set_new(req, "priority", json_integer(0));
	return req;
}

rc_t cli_submit_request(int argc, char **argv, json_t **req,
			struct cli_submit_flags *flags, struct errbuf *eb)
{
	return cli_submit_request_src(argc, argv, req, flags, NULL, eb);
}

rc_t cli_submit_request_src(int argc, char **argv, json_t **req,
			    struct cli_submit_flags *flags, const char **src,
			    struct errbuf *eb)
{
	struct submit sb = {.req = request_skeleton()};
	int c, dashdash, last = 1;
	rc_t rc = RC_OK;

	*req = NULL;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, submit_optstring, submit_options,
				NULL)) != -1) {
		rc = submit_option(&sb, c, argv, eb);
		if (rc || sb.flags.help)
			goto out;
		last = optind;
	}
	/* getopt stepped over a "--" exactly when it moved one word past
	 * where the last option ended and that word is "--". */
	dashdash = optind == last + 1 && !strcmp(argv[last], "--");
	if (json_array_size(json_object_get(sb.req, "platforms")) == 0) {
		errbuf_set(eb, "give at least one --platform GOOS/GOARCH");
		rc = RC_INVALID;
		goto out;
	}
	rc = submit_what(&sb, argc, argv, dashdash, eb);
out:
	if (flags)
		*flags = sb.flags;
	if (src)
		*src = rc == RC_OK ? sb.src : NULL;
	if (rc == RC_OK && !sb.flags.help)
		*req = json_incref(sb.req);
	json_decref(sb.req);
	return rc;
}

rc_t cli_submit_source_set(json_t *req, const char *sha_hex,
			   struct errbuf *eb)
{
	json_t *src;

	if (!sha_hex || !sha256_hex_valid(sha_hex)) {
		errbuf_set(eb, "a source digest must be 64 lower-case hex "
			   "characters");
		return RC_INVALID;
	}
	src = json_object();
	json_object_set_new(src, "tarball", json_string(sha_hex));
	json_object_set_new(req, "source", src);
	return RC_OK;
}

int cli_job_state_final(const char *state)
{
	static const char *const finals[] = {"passed", "failed", "cancelled",
					     "error"};
	size_t i;

	for (i = 0; i < sizeof finals / sizeof finals[0]; i++)
		if (!strcmp(state, finals[i]))
			return 1;
	return 0;
}

int cli_wait_exit_code(const json_t *build)
{
	json_t *jobs = json_object_get(build, "jobs"), *job;
	int any_error = 0, any_bad = 0;
	size_t i;

	if (!json_is_array(jobs) || json_array_size(jobs) == 0)
		return CLI_EXIT_USAGE;
	json_array_foreach(jobs, i, job) {
		const char *st = json_string_value(json_object_get(job,
								   "state"));

		if (!st)
			any_error = 1;
		else if (!cli_job_state_final(st))
			return -1;
		else if (!strcmp(st, "error"))
			any_error = 1;
		else if (strcmp(st, "passed"))
			any_bad = 1;
	}
	if (any_error)
		return CLI_EXIT_USAGE;
	return any_bad ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
