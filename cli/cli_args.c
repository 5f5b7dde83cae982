/*
 * cli_args.c - argument syntax shared by the rfarm commands: messages in
 * one shape ("rfarm CMD: ..."), getopt hygiene, numbers, listen addresses,
 * platforms, secret files and query strings.
 *
 * Everything here is pure or touches only the file it is asked to read, so
 * the unit tests cover it directly.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"
#include "xalloc.h"

/* A secret file larger than this is not a key. */
#define KEY_FILE_MAX 4096

void cli_getopt_reset(void)
{
	optind = 0;
	opterr = 0;
}

void cli_getopt_error(char **argv, const char *optstring, int c,
		      struct errbuf *eb)
{
	/* After ':' or a rejected long option, optind has moved past the
	 * offending word; an unknown letter inside a bundle such as "-fz" is
	 * only known by optopt. */
	const char *word = optind > 0 ? argv[optind - 1] : "";

	if (c == ':')
		errbuf_set(eb, "option '%s' needs a value", word);
	else if (optopt > 0 && optopt < 256 && !strchr(optstring, optopt))
		errbuf_set(eb, "unknown option '-%c'", optopt);
	else if (optopt == 0)
		errbuf_set(eb, "unknown option '%s'", word);
	else
		errbuf_set(eb, "option '%s' takes no value", word);
}

static void vmessage(const struct cli_cmd *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "rfarm %s: ", cmd->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", cmd->usage);
	return CLI_EXIT_USAGE;
}

int cli_option_error(const struct cli_cmd *cmd, char **argv,
		     const char *optstring, int c)
{
	struct errbuf eb = {""};

	cli_getopt_error(argv, optstring, c, &eb);
	return cli_usage_error(cmd, "%s", eb.msg);
}

int cli_fail(const struct cli_cmd *cmd, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(cmd, fmt, ap);
	va_end(ap);
	return status;
}

int cli_help(const struct cli_cmd *cmd)
{
	fputs(cmd->usage, stdout);
	return CLI_EXIT_OK;
}

/* A non-empty run of lower-case letters and digits, ending at stop. */
static const char *word_lower(const char *s, char stop)
{
	const char *p = s;

	while (islower((unsigned char)*p) || isdigit((unsigned char)*p))
		p++;
	return p > s && *p == stop ? p : NULL;
}

int cli_platform_valid(const char *s)
{
	const char *slash = word_lower(s, '/');

	return slash && word_lower(slash + 1, '\0') != NULL;
}

/* 1..64 characters, each a digit, one of "._-", or a letter (upper-case
 * letters only if upper is set). */
static int name_valid(const char *s, int upper)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    !(upper && isupper((unsigned char)*s)) && !strchr("._-", *s))
			return 0;
	return 1;
}

int cli_host_type_valid(const char *s)
{
	return name_valid(s, 0);
}

int cli_buildlet_name_valid(const char *s)
{
	return name_valid(s, 1);
}

rc_t cli_number_parse(const char *s, long min, long max, const char *what,
		      long *out, struct errbuf *eb)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || isspace((unsigned char)*s) || *end || errno || v < min ||
	    v > max) {
		errbuf_set(eb, "%s must be a number from %ld to %ld, not '%s'",
			   what, min, max, s);
		return RC_INVALID;
	}
	*out = v;
	return RC_OK;
}

int cli_number_arg(const struct cli_cmd *cmd, const char *s, long min,
		   long max, const char *what, long *out)
{
	struct errbuf eb = {""};

	if (cli_number_parse(s, min, max, what, out, &eb))
		return cli_usage_error(cmd, "%s", eb.msg);
	return 0;
}

/* The multiplier of a size suffix ("", "K", "MiB", "gb"), or 0. */
static int64_t size_unit(const char *u)
{
	static const char units[] = "KMGT";
	const char *at;
	int64_t m = 1;

	if (!*u)
		return 1;
	at = strchr(units, toupper((unsigned char)*u));
	if (!at)
		return 0;
	for (const char *c = units; c <= at; c++)
		m *= 1024;
	u++;
	if (*u == 'i' || *u == 'I')
		u++;
	if (*u == 'b' || *u == 'B')
		u++;
	return *u ? 0 : m;
}

rc_t cli_size_parse(const char *s, const char *what, int64_t *out,
		    struct errbuf *eb)
{
	const int64_t max = (int64_t)1 << 62;
	char *end = NULL;
	long long v;
	int64_t m;

	errno = 0;
	v = isdigit((unsigned char)*s) ? strtoll(s, &end, 10) : 0;
	m = end ? size_unit(end) : 0;
	if (!end || errno || v < 1 || !m || v > max / m) {
		errbuf_set(eb, "%s wants a size such as 512M or 2G, not '%s'",
			   what, s);
		return RC_INVALID;
	}
	*out = (int64_t)v * m;
	return RC_OK;
}

/* Copy n bytes of host into out, or say it is too long. */
static rc_t host_copy(const char *s, size_t n, char *out, size_t outlen,
		      struct errbuf *eb)
{
	if (n >= outlen) {
		errbuf_set(eb, "host in listen address '%s' is too long", s);
		return RC_INVALID;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return RC_OK;
}

rc_t cli_listen_parse(const char *s, char *host, size_t hostlen, int *port,
		      struct errbuf *eb)
{
	const char *colon, *h = s;
	size_t hn;
	long p;
	rc_t rc;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		colon = close && close[1] == ':' ? close + 1 : NULL;
		h = s + 1;
		hn = close ? (size_t)(close - h) : 0;
	} else {
		colon = strrchr(s, ':');
		hn = colon ? (size_t)(colon - s) : 0;
		if (colon && memchr(s, ':', hn)) {
			errbuf_set(eb, "listen address '%s': put an IPv6 "
				   "address in brackets, as in [::1]:8080", s);
			return RC_INVALID;
		}
	}
	if (!colon || (s[0] == '[' && hn == 0)) {
		errbuf_set(eb, "listen address '%s' must be HOST:PORT or :PORT",
			   s);
		return RC_INVALID;
	}
	if (cli_number_parse(colon + 1, 0, 65535, "the port", &p, NULL) ||
	    !isdigit((unsigned char)colon[1])) {
		errbuf_set(eb, "port in listen address '%s' must be a number "
			   "from 0 to 65535", s);
		return RC_INVALID;
	}
	if (hn == 0)
		rc = host_copy("0.0.0.0", 7, host, hostlen, eb);
	else
		rc = host_copy(h, hn, host, hostlen, eb);
	if (rc == RC_OK)
		*port = (int)p;
	return rc;
}

/* The file must be a regular file that only its owner can read or write. */
static rc_t key_file_check(const char *path, int fd, struct errbuf *eb)
{
	struct stat st;
	unsigned mode;

	if (fstat(fd, &st) < 0) {
		errbuf_set(eb, "token file %s: %s", path, strerror(errno));
		return RC_IO;
	}
	mode = (unsigned)st.st_mode & 07777;
	if (!S_ISREG(st.st_mode)) {
		errbuf_set(eb, "token file %s is not a regular file", path);
		return RC_INVALID;
	}
	if (mode & (S_IRGRP | S_IROTH)) {
		errbuf_set(eb, "token file %s is readable by others (mode %04o); "
			   "chmod 600 it", path, mode);
		return RC_AUTH;
	}
	if (mode & (S_IWGRP | S_IWOTH)) {
		errbuf_set(eb, "token file %s is writable by others (mode %04o); "
			   "chmod 600 it", path, mode);
		return RC_AUTH;
	}
	return RC_OK;
}

/* Read up to KEY_FILE_MAX bytes; *out is NUL-terminated. */
static rc_t key_file_slurp(const char *path, int fd, char *out,
			   struct errbuf *eb)
{
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, out + n, KEY_FILE_MAX + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			errbuf_set(eb, "token file %s: %s", path,
				   strerror(errno));
			return RC_IO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > KEY_FILE_MAX) {
			errbuf_set(eb, "token file %s is larger than %d bytes; "
				   "it should hold just the key", path,
				   KEY_FILE_MAX);
			return RC_TOO_LARGE;
		}
	}
	out[n] = '\0';
	return RC_OK;
}

rc_t cli_key_file_read(const char *path, char **key, struct errbuf *eb)
{
	char *text = xmalloc(KEY_FILE_MAX + 2);
	const char *start;
	size_t n;
	int fd;
	rc_t rc;

	*key = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		errbuf_set(eb, "token file %s: %s", path, strerror(errno));
		rc = errno == ENOENT ? RC_NOT_FOUND : RC_IO;
		goto out;
	}
	rc = key_file_check(path, fd, eb);
	if (rc == RC_OK)
		rc = key_file_slurp(path, fd, text, eb);
	if (rc)
		goto out;
	for (start = text; isspace((unsigned char)*start); start++)
		;
	n = strlen(start);
	while (n > 0 && isspace((unsigned char)start[n - 1]))
		n--;
	if (n == 0) {
		errbuf_set(eb, "token file %s is empty", path);
		rc = RC_INVALID;
		goto out;
	}
	*key = xstrndup(start, n);
out:
	if (fd >= 0)
		close(fd);
	/* The secret is not left behind in freed memory. */
	secret_wipe(text, KEY_FILE_MAX + 2);
	free(text);
	return rc;
}

static void percent_encode(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (isalnum(ch) || strchr("-._~/", ch))
			buf_putc(b, (char)ch);
		else
			buf_printf(b, "%%%02X", ch);
	}
}

void cli_query_add(struct buf *b, const char *key, const char *value)
{
	const char *sep = "?";

	if (b->len && memchr(buf_data(b), '?', b->len))
		sep = "&";
	buf_puts(b, sep);
	percent_encode(b, key);
	buf_putc(b, '=');
	percent_encode(b, value);
}
