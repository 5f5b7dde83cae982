/*
 * cli.h - the inside of the `rfarm` command: the command table type, the
 * pure pieces the commands are built from, and the command entry points.
 *
 * The design decision a reader must know: everything that turns argument
 * vectors into requests, or JSON answers into text and exit statuses, is a
 * pure function here (cli_args.c, cli_submit.c, cli_format.c) so the unit
 * tests can drive it without a server. The cmd_*.c files only glue those
 * to the API client or to the coordinator and buildlet libraries.
 */
#ifndef RFARM_CLI_H
#define RFARM_CLI_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "rc.h"

#ifndef RFARM_VERSION
#define RFARM_VERSION "0.1.0"
#endif

/* Exit statuses of every command. */
enum cli_exit {
	CLI_EXIT_OK = 0,    /* did what was asked; all jobs passed */
	CLI_EXIT_FAIL = 1,  /* server said no, not found; a job failed */
	CLI_EXIT_USAGE = 2, /* bad arguments, server unreachable; job error */
};

struct cli_cmd {
	const char *name;    /* "submit" */
	const char *summary; /* one line for `rfarm help` */
	/* Runs the command; argv[0] is the command name. Returns the exit
	 * status (enum cli_exit, or another value documented in usage). */
	int (*run)(const struct cli_cmd *cmd, int argc, char **argv);
	const char *usage;   /* whole text for `rfarm CMD --help` */
};

/* ---- messages and getopt (cli_args.c) ---- */

/*
 * Prepare getopt_long for a fresh argument vector. Sets optind to 0, which
 * glibc documents as "reinitialise everything", so state left from an
 * earlier vector (a half-read "-fx" bundle) cannot leak into this one,
 * and opterr to 0 because we word our own messages.
 */
void cli_getopt_reset(void);
/*
 * Describe what getopt_long rejected: c is the '?' or ':' it returned for
 * argv and the short-option string it was given.
 */
void cli_getopt_error(char **argv, const char *optstring, int c,
		      struct errbuf *eb);
/* "rfarm CMD: MESSAGE" and the usage on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* cli_getopt_error's message as a usage error; returns CLI_EXIT_USAGE. */
int cli_option_error(const struct cli_cmd *cmd, char **argv,
		     const char *optstring, int c);
/* "rfarm CMD: MESSAGE" on stderr; returns status. */
int cli_fail(const struct cli_cmd *cmd, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The usage on stdout; returns CLI_EXIT_OK. */
int cli_help(const struct cli_cmd *cmd);

/* ---- argument syntax (cli_args.c) ---- */

/* 1 if s is "goos/goarch": lower-case letters and digits, one slash. */
int cli_platform_valid(const char *s);
/* 1 if s is a plausible host type: [a-z0-9._-], 1 to 64 characters. */
int cli_host_type_valid(const char *s);
/* A buildlet name as the coordinator accepts it (letters of both cases). */
int cli_buildlet_name_valid(const char *s);
/*
 * Parse a decimal integer in [min, max] with nothing after it. On failure
 * eb says "WHAT must be a number from MIN to MAX, not 'S'".
 */
rc_t cli_number_parse(const char *s, long min, long max, const char *what,
		      long *out, struct errbuf *eb);
/* cli_number_parse for a command's argument (such as optarg): 0 and *out,
 * else its message as a usage error and CLI_EXIT_USAGE. */
int cli_number_arg(const struct cli_cmd *cmd, const char *s, long min,
		   long max, const char *what, long *out);
/*
 * Parse a size in bytes: digits with an optional binary suffix K, M, G or
 * T (any case, an optional trailing "B" or "iB": 512M, 2G, 64KiB), from 1
 * to 2^62. On failure eb says "WHAT wants a size such as 512M or 2G, not
 * 'S'".
 */
rc_t cli_size_parse(const char *s, const char *what, int64_t *out,
		    struct errbuf *eb);
/*
 * Parse "HOST:PORT", ":PORT" (all interfaces: host "0.0.0.0") or
 * "[V6ADDR]:PORT" into host (hostlen bytes) and port (0 to 65535; 0 asks
 * for a free port).
 */
rc_t cli_listen_parse(const char *s, char *host, size_t hostlen, int *port,
		      struct errbuf *eb);
/*
 * Read a secret from path: refuses a file that group or others can read or
 * write (say so, with its mode and "chmod 600"), strips white space around
 * it. On RC_OK *key is a new string the caller frees.
 */
rc_t cli_key_file_read(const char *path, char **key, struct errbuf *eb);
/* Append "?key=value" (or "&key=value" after the first), percent-encoded. */
void cli_query_add(struct buf *b, const char *key, const char *value);

/* ---- submit (cli_submit.c) ---- */

struct cli_submit_flags {
	int wait; /* --wait: poll until every job is final */
	int json; /* --json: print the server's JSON */
	int help; /* --help was given: print usage, do nothing else */
};

/*
 * Turn `rfarm submit` arguments (argv[0] is "submit") into the body of
 * POST /api/v1/builds. Options stop at the first "--": everything after it
 * is the command, even words that start with '-'. On RC_OK *req is a new
 * object (NULL when flags->help); on RC_INVALID eb says what is wrong.
 * flags may be NULL.
 */
rc_t cli_submit_request(int argc, char **argv, json_t **req,
			struct cli_submit_flags *flags, struct errbuf *eb);
/*
 * The same, and *src is the directory of --src DIR (borrowed from argv;
 * NULL when not given), which the body cannot carry: the caller packs and
 * uploads it, then names the blob with cli_submit_source_set.
 * (cli_submit_request accepts --src and leaves it out.)
 */
rc_t cli_submit_request_src(int argc, char **argv, json_t **req,
			    struct cli_submit_flags *flags, const char **src,
			    struct errbuf *eb);

/*
 * Make req send the tarball blob with digest sha_hex as the source
 * ("source":{"tarball":"<sha256>"}). RC_INVALID if sha_hex is not 64
 * lower-case hex characters.
 */
rc_t cli_submit_source_set(json_t *req, const char *sha_hex,
			   struct errbuf *eb);

/* 1 for passed, failed, cancelled and error. */
int cli_job_state_final(const char *state);
/*
 * The exit status of `rfarm submit --wait` for a build object: -1 while a
 * job is not final; else 0 if every job passed, 2 if any is "error" (or the
 * build has no jobs or a job no state), otherwise 1.
 */
int cli_wait_exit_code(const json_t *build);

/* ---- human output (cli_format.c); each returns text to free() ---- */

/* A header line, column titles, one line per job. */
char *cli_format_build(const json_t *build);
/* One line per job: "job 12 linux/amd64 passed exit 0". */
char *cli_format_wait(const json_t *build);
/* {"builds":[...]} as a table, newest first as the server sent it. */
char *cli_format_build_list(const json_t *list);
/* {"buildlets":[...]} as a table. */
char *cli_format_buildlets(const json_t *list);

/* ---- the commit matrix (cli_commits.c) ---- */

/* 1 if `rfarm retry` arguments retry a commit's cells (--commit,
 * --builder or --repo before any "--"), not a build. */
int cli_retry_is_commit(int argc, char **argv);

struct cli_retry_commit {
	char *path;   /* "/api/v1/commits/HASH/retry" */
	json_t *body; /* {"builder", "repo"} as given; NULL if neither */
	int json;     /* --json */
	int help;     /* --help: print usage, do nothing else */
};
/*
 * `rfarm retry --commit HASH [--builder NAME] [--repo URL|ID] [--json]`
 * into the request; on RC_INVALID eb says what is wrong. Free with
 * cli_retry_commit_clear.
 */
rc_t cli_retry_commit_request(int argc, char **argv,
			      struct cli_retry_commit *out, struct errbuf *eb);
void cli_retry_commit_clear(struct cli_retry_commit *r);
/* {"repos":[...]} as text. */
char *cli_format_repos(const json_t *list);
/* A GET /repos/{id}/commits answer as a matrix width columns wide: short
 * hash, the subject cut to fit, one column per builder with its state
 * ("-": not built yet). */
char *cli_format_commits(const json_t *page, int width);
/* What POST /commits/{name}/retry did, one line per cell. */
char *cli_format_retry(const json_t *reply);

/* ---- commands (cmd_server.c, cmd_client.c) ---- */

int cmd_coordinator(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_buildlet(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_up(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_keygen(const struct cli_cmd *cmd, int argc, char **argv);

int cmd_submit(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_status(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_logs(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_list(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_buildlets(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_cancel(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_retry(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_drain(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_purge(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_get(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_certgen(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_enroll(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_revoke(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_token(const struct cli_cmd *cmd, int argc, char **argv);
/* cmd_dashboard.c */
int cmd_dashboard(const struct cli_cmd *cmd, int argc, char **argv);
/* cmd_commits.c */
int cmd_repos(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_commits(const struct cli_cmd *cmd, int argc, char **argv);
int cmd_retry_commit(const struct cli_cmd *cmd, int argc, char **argv);
/* cmd_reload.c */
int cmd_reload(const struct cli_cmd *cmd, int argc, char **argv);
/* Write DIR/HOST.crt and DIR/HOST.key (0600), a self-signed certificate
 * for host; fingerprint gets "sha256:<hex of its DER>". 0 or -1. */
int cli_certgen(const char *host, const char *dir, char *fingerprint,
		size_t n, struct errbuf *eb);

#endif
