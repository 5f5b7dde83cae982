/* log.c - stderr diagnostics with a timestamp and a per-thread component. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static enum log_level min_level = LOG_INFO;
static int level_from_env_done;
static int json_lines; /* RFARM_LOG_FORMAT=json: one JSON object a line */
static __thread const char *component = "rfarm";

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_component(const char *name)
{
	component = name;
}

static void level_from_env(void)
{
	const char *e = getenv("RFARM_LOG");
	const char *fmt = getenv("RFARM_LOG_FORMAT");

	level_from_env_done = 1;
	json_lines = fmt && !strcmp(fmt, "json");
	if (!e)
		return;
	for (int i = 0; i < 4; i++)
		if (!strcmp(e, level_names[i]))
			min_level = (enum log_level)i;
}

/* The message as a JSON string body: quotes, backslashes and control
 * characters escaped. */
static void json_escape(const char *in, char *out, size_t n)
{
	size_t o = 0;

	for (; *in && o + 7 < n; in++) {
		unsigned char ch = (unsigned char)*in;

		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20) {
			o += (size_t)snprintf(out + o, n - o, "\\u%04x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[1024], ts[40];
	va_list ap;

	if (!level_from_env_done)
		level_from_env();
	if (lvl < min_level)
		return;
	clock_format_rfc3339_ms(clock_wall_ms(), ts, sizeof ts);
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (json_lines) {
		char esc[sizeof line * 2];

		json_escape(line, esc, sizeof esc);
		fprintf(stderr, "{\"time\":\"%s\",\"component\":\"%s\","
			"\"level\":\"%s\",\"msg\":\"%s\"}\n",
			ts, component, level_names[lvl], esc);
		return;
	}
	fprintf(stderr, "%s %s %s: %s\n", ts, component, level_names[lvl], line);
}

void log_lws_emit(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && line[n - 1] == '\n')
		n--;
	if (level & 3)
		log_warn("lws: %.*s", (int)n, line);
	else
		log_debug("lws: %.*s", (int)n, line);
}
