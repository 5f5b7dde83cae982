/*
 * main.c - the `rfarm` binary: the command table and the dispatch.
 *
 * One binary carries the coordinator, the buildlet and the API client
 * verbs. Each command is a row {name, summary, function, usage}; the
 * function gets argv starting at the command name and returns the exit
 * status (0 ok, 1 failure, 2 usage error or unreachable server).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage_up[] =
	"usage: rfarm up [--listen HOST:PORT] [--data DIR] [--config FILE]\n"
	"                [farm options]\n"
	"\n"
	"Run a coordinator and one embedded buildlet for this machine's\n"
	"platform in one process: the quickest way to try rfarm.\n"
	"\n"
	"  --listen HOST:PORT  address to serve on (default 127.0.0.1:8080;\n"
	"                      :PORT for all interfaces, port 0 for any free)\n"
	"  --data DIR          database, blobs and keys (default ./rfarm-data);\n"
	"                      the buildlet works in DIR/work\n"
	"  --config FILE       host types, builders and watched repositories\n"
	"                      (env/CONFIG.md); SIGHUP or `rfarm reload`\n"
	"                      rereads it\n"
	"  (and the farm options of `rfarm coordinator --help`)\n";

static const char usage_coordinator[] =
	"usage: rfarm coordinator [--listen HOST:PORT] [--data DIR] [--heartbeat D]\n"
	"                         [--grace D] [--timeout D] [--max-attempts N]\n"
	"                         [--max-handshakes N] [--timeout-margin D]\n"
	"                         [--io-timeout D] [--tls-cert F --tls-key F]\n"
	"                         [--max-log-bytes SIZE] [--max-artifact-bytes SIZE]\n"
	"                         [--max-artifacts N] [--max-artifact-total SIZE]\n"
	"                         [--max-source-bytes SIZE] [--config FILE]\n"
	"                         [--hook-secret-file FILE] [--dashboard-dir DIR]\n"
	"\n"
	"Serve the HTTP API, the dashboard and the /buildlet WebSocket.\n"
	"\n"
	"  --listen HOST:PORT  address to serve on (default 127.0.0.1:8080;\n"
	"                      :PORT for all interfaces, [::1]:PORT for IPv6,\n"
	"                      port 0 for any free port)\n"
	"  --data DIR          database, blobs and keys (default ./rfarm-data)\n"
	"  --config FILE       host types, builders and watched repositories\n"
	"                      (JSON; env/CONFIG.md, example env/farm.json);\n"
	"                      reread on SIGHUP and `rfarm reload`, an invalid\n"
	"                      file is refused and the old one kept\n"
	"\n"
	"Farm options (also for `up`):\n"
	"  --dashboard-dir DIR the dashboard's pages (default DATA/dashboard).\n"
	"                      Every page can be rendered again from the\n"
	"                      database, and is at start: a tmpfs here spares\n"
	"                      the disk a few files per job\n"
	"  --hook-secret-file FILE  one line (16+ bytes) that git hosts' push\n"
	"                      webhooks prove (POST /api/v1/hooks/git, signed\n"
	"                      as GitHub/Gitea do or as GitLab's token): a push\n"
	"                      makes the watched repositories poll at once;\n"
	"                      reread on reload. Without it webhooks are off\n"
	"  --heartbeat D       how often buildlets send hb (default 5s); one\n"
	"                      silent for 3 heartbeats is disconnected\n"
	"  --grace D           how long a vanished buildlet keeps its jobs\n"
	"                      before they run elsewhere (default 2m)\n"
	"  --timeout D         job time limit when a build sets none (default 1h)\n"
	"  --timeout-margin D  how long past a job's limit to wait for its\n"
	"                      buildlet before ending the job here (default 1m)\n"
	"  --max-attempts N    tries before a job whose buildlets keep\n"
	"                      vanishing ends in error (default 3)\n"
	"  --public-read       with API tokens, let anyone read (GET)\n"
	"  --tls-cert F, --tls-key F\n"
	"                      serve HTTPS and WSS with this certificate and key\n"
	"                      (rfarm certgen makes a self-signed pair)\n"
	"  --io-timeout D      drop a connection stalled mid-request this long\n"
	"                      (default 30s; quiet log streams are not stalled)\n"
	"  --max-handshakes N  buildlet sessions admitted per second; the\n"
	"                      rest are told when to retry (default 1000, 0 = no cap)\n"
	"\n"
	"Limits per peer address:\n"
	"  --max-conns-per-addr N  open connections one address may hold; more\n"
	"                      are refused at once (default 256, 0 = no cap)\n"
	"  --max-header-bytes N    request header bytes; more get 431\n"
	"                      (default 8192, 1024..32768)\n"
	"  --max-auth-failures N   failed buildlet handshakes per minute before\n"
	"                      the address must wait (429; default 10, 0 = off)\n"
	"\n"
	"Limits per job (SIZE: 64K, 512M, 2G, ...):\n"
	"  --max-log-bytes SIZE    log kept per attempt (default 64M; 0 = all):\n"
	"                      past it the first half and the latest bytes are\n"
	"                      kept, with a line saying how many were cut\n"
	"  --max-artifact-bytes SIZE  largest artifact file (default 2G)\n"
	"  --max-artifacts N       artifacts per attempt (default 1000)\n"
	"  --max-artifact-total SIZE  artifact bytes per attempt (default 8G)\n"
	"                      (an upload over one of these is refused with 413\n"
	"                      and the job fails, naming the file and the cap)\n"
	"  --max-source-bytes SIZE    largest source tarball upload (default 1G)\n";

static const char usage_buildlet[] =
	"usage: rfarm buildlet --coordinator URL [--name N] [--host-type T]\n"
	"                      [--platform GOOS/GOARCH]... [--no-native] [--capacity N]\n"
	"                      [--label L]... [--workdir DIR]\n"
	"                      [--token-file F] [--kill-grace DURATION]\n"
	"                      [--ca FILE | --pin sha256:HEX] [--insecure]\n"
	"                      [--run-as USER] [--max-procs N] [--max-file-size SIZE]\n"
	"\n"
	"Dial out to a coordinator and run the jobs it sends. Opens no port.\n"
	"The token comes from --token-file (mode 0600) or RFARM_BUILDLET_KEY,\n"
	"never the command line; the coordinator's operator makes one with\n"
	"`rfarm enroll NAME --host-type T` (or a host-type key with `rfarm\n"
	"keygen HOST_TYPE`). With neither, it joins a coordinator on loopback\n"
	"that is still open (nobody enrolled yet).\n"
	"\n"
	"  --coordinator URL   https://HOST:PORT (or ws://, wss://)\n"
	"  --name N            buildlet name (default: the host name)\n"
	"  --host-type T       host type the key is for (default GOOS-GOARCH)\n"
	"  --platform P        extra GOOS/GOARCH it can build for (repeat)\n"
	"  --no-native         serve only the --platform ones, not this machine's\n"
	"  --ca FILE           trust these PEM certificates for the coordinator\n"
	"                      (e.g. the one `rfarm certgen` made); default: system\n"
	"  --pin sha256:HEX    trust the coordinator's certificate by fingerprint\n"
	"                      (what `rfarm certgen` prints), instead of CAs\n"
	"  --insecure          allow plain http/ws to a coordinator not on loopback\n"
	"  --capacity N        jobs at a time (default 1)\n"
	"  --label L           label offered to the scheduler (repeat)\n"
	"  --workdir DIR       where jobs run (default ./rfarm-work)\n"
	"  --token-file F      file holding the key\n"
	"  --kill-grace D      SIGTERM to SIGKILL delay on cancel (default 10s)\n"
	"\n"
	"Isolation (a job's environment is its request's env, RFARM_*, PATH,\n"
	"HOME, TMPDIR, LANG, LC_ALL, TZ: nothing else of the buildlet's):\n"
	"  --run-as USER       run jobs as USER (the buildlet runs as root); they\n"
	"                      own their work directory, not the key or spool;\n"
	"                      without it a root buildlet warns: jobs run as root\n"
	"  --max-procs N       processes a job's user may have (RLIMIT_NPROC; per\n"
	"                      user, so it takes effect with --run-as)\n"
	"  --max-file-size S   largest file a job may write, e.g. 512M, 2G\n"
	"                      (RLIMIT_FSIZE); a job that hits it is killed by\n"
	"                      SIGXFSZ and says so\n";

static const char usage_keygen[] =
	"usage: rfarm keygen HOST_TYPE [--data DIR]\n"
	"\n"
	"Print the key a buildlet of HOST_TYPE presents to this coordinator\n"
	"(made from the master secret in DIR/master.key, created if missing).\n"
	"The key is the last line of the output.\n";

static const char usage_submit[] =
	"usage: rfarm submit --platform GOOS/GOARCH... [--env K=V]... [--label L]...\n"
	"                    [--priority N] [--timeout DURATION]\n"
	"                    [--idle-timeout DURATION] [--src DIR] [--artifact GLOB]...\n"
	"                    [--git URL [--ref REF]] [--no-cache] [--wait] [--json]\n"
	"                    (--script TEXT | -- CMD ARGS...)\n"
	"\n"
	"Request a build: one job per platform. Prints the build id.\n"
	"Everything after -- is the command, even words starting with '-'.\n"
	"\n"
	"  --platform P    GOOS/GOARCH to build on (repeat; at least one)\n"
	"  --env K=V       environment variable for the command (repeat)\n"
	"  --label L       run only on buildlets with this label (repeat)\n"
	"  --priority N    higher runs first (default 0)\n"
	"  --timeout D     per-job time limit, such as 10m or 1h30m\n"
	"  --idle-timeout D\n"
	"                  stop a job that prints nothing for D, such as 5m\n"
	"  --script TEXT   a shell script instead of a command\n"
	"  --src DIR       send DIR as the job's source: packed (regular files,\n"
	"                  directories, symlinks; minus what DIR/.rfarmignore\n"
	"                  lists), uploaded unless the coordinator has it, and\n"
	"                  unpacked into the job's work directory before CMD runs\n"
	"  --git URL       fetch the job's source with git (only --ref, shallow;\n"
	"  --ref REF       branch, tag or commit, default HEAD); the job records\n"
	"                  the commit it got. Only a full commit hash is cached.\n"
	"  --artifact GLOB file(s) to bring back from the work directory (repeat);\n"
	"                  a pattern that matches nothing fails a passing job\n"
	"  --no-cache      run even if an identical job already passed (by default\n"
	"                  such a job is answered from it, and identical jobs\n"
	"                  submitted together run once)\n"
	"  --wait          wait for every job; print one line per job on stderr;\n"
	"                  exit 0 all passed, 1 a job failed or was cancelled,\n"
	"                  2 a job could not be run (error)\n"
	"  --json          print the server's JSON\n"
	"\n"
	"Environment: RFARM_URL (default http://127.0.0.1:8080), RFARM_TOKEN,\n"
	"RFARM_CA (PEM certificates to trust for an https:// RFARM_URL) or\n"
	"RFARM_PIN (sha256:... of its certificate). Plain http:// to a\n"
	"coordinator not on loopback is refused unless you say\n"
	"rfarm --insecure VERB ... (or RFARM_INSECURE=1).\n";

static const char usage_status[] =
	"usage: rfarm status BUILD [--json]\n"
	"\n"
	"Show a build and its jobs.\n";

static const char usage_logs[] =
	"usage: rfarm logs JOB [-f|--follow] [--stream stdout|stderr]\n"
	"\n"
	"Print a job's log. With --follow, keep printing until the job ends.\n";

static const char usage_list[] =
	"usage: rfarm list [--state S] [--platform P] [--limit N] [--json]\n"
	"\n"
	"List builds, newest first.\n";

static const char usage_buildlets[] =
	"usage: rfarm buildlets [--json]\n"
	"\n"
	"List the connected and known buildlets.\n";

static const char usage_cancel[] =
	"usage: rfarm cancel BUILD [--json]\n"
	"\n"
	"Cancel the jobs of a build that have not finished.\n";

static const char usage_retry[] =
	"usage: rfarm retry BUILD [--json]\n"
	"       rfarm retry --commit HASH [--builder NAME] [--repo URL|ID] [--json]\n"
	"\n"
	"Run the jobs of a build that failed, errored or were cancelled again,\n"
	"as new attempts of the same jobs.\n"
	"\n"
	"With --commit, retry cells of a watched repository's commit matrix:\n"
	"the named builder's, or every builder of the commit's repository.\n"
	"A failed, errored or cancelled cell is retried in place; one not\n"
	"built yet is built (ahead of post-submit work); a passed cell is\n"
	"built again without the cache (you asked to see it run); a queued or\n"
	"running one is left alone.\n"
	"\n"
	"  --commit HASH    a full hash or a unique prefix of 7+ hex digits\n"
	"  --builder NAME   just this builder's cell\n"
	"  --repo URL|ID    the repository, when the hash is in several\n"
	"  --json           print the server's answer\n";

static const char usage_repos[] =
	"usage: rfarm repos [--json]\n"
	"\n"
	"List the watched repositories: id, URL, commits recorded, last poll\n"
	"and its error, the builders their commits get.\n";

static const char usage_commits[] =
	"usage: rfarm commits [--repo ID|URL] [--limit N] [--before COMMIT_ID]\n"
	"                     [--json]\n"
	"\n"
	"Show a watched repository's commits, newest first, as a matrix: short\n"
	"hash, subject, and per builder the state of that commit's build\n"
	"(\"-\": not built yet).\n"
	"\n"
	"  --repo ID|URL       which repository (needed when there are several)\n"
	"  --limit N           commits to show, 1 to 1000 (default 50)\n"
	"  --before COMMIT_ID  the page after the one that said \"more\"\n"
	"  --json              print GET /api/v1/repos/{id}/commits as it came\n";

static const char usage_drain[] =
	"usage: rfarm drain BUILDLET [--undo] [--json]\n"
	"\n"
	"Let a buildlet finish its running jobs and give it no more, for\n"
	"maintenance. It stays drained across reconnects until --undo.\n";

static const char usage_get[] =
	"usage: rfarm get JOB [-o DIR]\n"
	"\n"
	"Download every artifact of a job into DIR (default .), keeping their\n"
	"paths, and check each against its SHA-256 before it takes its name.\n"
	"Prints \"SHA256  PATH\" per file (sha256sum -c reads it).\n"
	"\n"
	"  -o, --output DIR  where to put them\n";

static const char usage_certgen[] =
	"usage: rfarm certgen --host NAME [--out DIR]\n"
	"\n"
	"Write a self-signed certificate and key for a first deployment:\n"
	"DIR/NAME.crt and DIR/NAME.key (mode 0600), default DIR is the current\n"
	"directory. Prints its SHA-256 fingerprint as sha256:... on the last\n"
	"line. Start the coordinator with --tls-cert NAME.crt --tls-key NAME.key;\n"
	"buildlets and clients trust it with --ca NAME.crt (RFARM_CA).\n";

static const char usage_enroll[] =
	"usage: rfarm enroll NAME --host-type T [--label L]... [--expires D]\n"
	"                    [--data DIR]\n"
	"\n"
	"Give one buildlet its own credential, in the coordinator's data\n"
	"directory (it may be running). Prints the token once, as the last line;\n"
	"only its hash is kept. The buildlet's host type and labels come from\n"
	"here, not from what it claims. Enrolling NAME again replaces it.\n"
	"The first enrolment ends open mode (keyless buildlets on loopback).\n"
	"\n"
	"  --expires D   the token stops working after D (such as 90d); a\n"
	"                connected buildlet is cut within a second then\n";

static const char usage_revoke[] =
	"usage: rfarm revoke NAME [--data DIR]\n"
	"\n"
	"Refuse an enrolled buildlet from now on; a running coordinator cuts\n"
	"its session within a second.\n";

static const char usage_token[] =
	"usage: rfarm token create --scope read|submit|admin [--name N]\n"
	"                          [--expires D] [--data DIR]\n"
	"       rfarm token revoke NAME [--data DIR]\n"
	"\n"
	"API tokens, in the coordinator's data directory (it may be running).\n"
	"create prints the token once, as the last line; only its hash is kept.\n"
	"Once any token exists, the API needs one (RFARM_TOKEN): read for GET,\n"
	"submit for builds and uploads, admin for cancel, retry, drain, purge.\n"
	"A missing, unknown, revoked or expired token is 401, a weak one 403.\n"
	"Revoking every token does not open the API again. The coordinator's\n"
	"--public-read lets anyone read.\n"
	"\n"
	"  --expires D   the token stops working after D (such as 30d)\n";

static const char usage_purge[] =
	"usage: rfarm purge --before AGE [--json]\n"
	"\n"
	"Delete builds older than AGE (such as 30d, 12h) whose jobs have all\n"
	"finished, with their jobs, attempts and logs. Running work is never\n"
	"touched.\n";

static const char usage_dashboard[] =
	"usage: rfarm dashboard [--data DIR] [--out DIR]\n"
	"\n"
	"Write every dashboard page from the database in DIR, without a\n"
	"coordinator (one may be running on it): the matrix (index.html,\n"
	"page-2.html ..., index.json), builds/ID.html and .json, jobs/ID.html\n"
	"and .log, buildlets.html, queue.html, failures.html, the watched\n"
	"repositories (repos/index.html, repos/ID.html, .json and\n"
	"ID-page-N.html), style.css and live.js. Any web server can serve the\n"
	"result. No host-type alerts: offline nothing is connected. Prints\n"
	"how many pages it wrote and how long it took.\n"
	"\n"
	"  --data DIR   the coordinator's data directory (default ./rfarm-data)\n"
	"  --out DIR    where the pages go (default DIR/dashboard, the\n"
	"               directory a coordinator serves)\n";

static const char usage_reload[] =
	"usage: rfarm reload [--data DIR] [--json]\n"
	"\n"
	"Make the running coordinator reread its --config file (host types,\n"
	"builders, repositories; env/CONFIG.md). Connections and jobs are kept;\n"
	"new builds use the new config, queued and running ones keep theirs.\n"
	"An invalid file is refused with FILE:LINE: reason (exit status 1) and\n"
	"the old config stays in force. `kill -HUP` on the coordinator does the\n"
	"same, with the outcome in its log. Needs an admin token (RFARM_TOKEN).\n"
	"\n"
	"  --data DIR   reach the coordinator whose data directory is DIR (its\n"
	"               address is in DIR/url); default RFARM_URL\n"
	"  --json       print the loaded config as the server sent it\n";

static int cmd_version(const struct cli_cmd *cmd, int argc, char **argv);
static int cmd_help(const struct cli_cmd *cmd, int argc, char **argv);

static const char usage_version[] = "usage: rfarm version\n";
static const char usage_help[] = "usage: rfarm help [COMMAND]\n";

static const struct cli_cmd commands[] = {
	{"up", "coordinator and a local buildlet in one process", cmd_up,
	 usage_up},
	{"coordinator", "serve the API, dashboard and buildlet sessions",
	 cmd_coordinator, usage_coordinator},
	{"buildlet", "dial a coordinator and run its jobs", cmd_buildlet,
	 usage_buildlet},
	{"keygen", "print the key for a buildlet host type", cmd_keygen,
	 usage_keygen},
	{"submit", "request a build", cmd_submit, usage_submit},
	{"status", "show a build and its jobs", cmd_status, usage_status},
	{"logs", "print or follow a job's log", cmd_logs, usage_logs},
	{"list", "list builds, newest first", cmd_list, usage_list},
	{"buildlets", "list buildlets", cmd_buildlets, usage_buildlets},
	{"cancel", "cancel a build's unfinished jobs", cmd_cancel,
	 usage_cancel},
	{"retry", "run a build's (or a commit's) failed jobs again", cmd_retry,
	 usage_retry},
	{"repos", "list watched repositories", cmd_repos, usage_repos},
	{"commits", "a repository's commits by builder, newest first",
	 cmd_commits, usage_commits},
	{"get", "download a job's artifacts, verified", cmd_get, usage_get},
	{"certgen", "make a self-signed TLS certificate", cmd_certgen,
	 usage_certgen},
	{"enroll", "give a buildlet its own credential", cmd_enroll, usage_enroll},
	{"revoke", "refuse an enrolled buildlet", cmd_revoke, usage_revoke},
	{"token", "create or revoke API tokens", cmd_token, usage_token},
	{"drain", "stop giving a buildlet new jobs", cmd_drain, usage_drain},
	{"purge", "delete old finished builds and their logs", cmd_purge,
	 usage_purge},
	{"dashboard", "write the dashboard's pages from a database",
	 cmd_dashboard, usage_dashboard},
	{"reload", "make the coordinator reread its --config file",
	 cmd_reload, usage_reload},
	{"version", "print the version", cmd_version, usage_version},
	{"help", "help on a command", cmd_help, usage_help},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void overview(FILE *f)
{
	size_t i;

	fputs("usage: rfarm [--insecure] COMMAND [ARGS]\n\ncommands:\n", f);
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name,
			commands[i].summary);
	fputs("\n`rfarm COMMAND --help` tells more about a command.\n"
	      "--insecure lets client commands use plain http:// to a "
	      "coordinator\nnot on loopback (RFARM_INSECURE=1 does the same).\n", f);
}

static const struct cli_cmd *command_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int cmd_version(const struct cli_cmd *cmd, int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return cli_help(cmd);
	if (argc > 1)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[1]);
	printf("rfarm %s\n", RFARM_VERSION);
	return CLI_EXIT_OK;
}

static int cmd_help(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct cli_cmd *which;

	if (argc < 2) {
		overview(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 2)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[2]);
	which = command_find(argv[1]);
	if (!which)
		return cli_usage_error(cmd, "unknown command '%s'", argv[1]);
	return cli_help(which);
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2) {
		overview(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		overview(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--insecure")) {
		/* for every client verb: plain http off loopback is allowed */
		setenv("RFARM_INSECURE", "1", 1);
		argv[1] = argv[0];
		return main(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(command_find("version"), 1, argv + 1);
	cmd = command_find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "rfarm: unknown command '%s'\n\n", argv[1]);
		overview(stderr);
		return CLI_EXIT_USAGE;
	}
	return cmd->run(cmd, argc - 1, argv + 1);
}
