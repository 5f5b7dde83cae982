/* log.c - stderr diagnostics with a timestamp and a per-thread component. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static enum log_level min_level = LOG_INFO;
static int level_from_env_done;
static __thread const char *component = "rfarm";

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level lvl)
{
	min_level = lvl;
	level_from_env_done = 1;
}

void log_set_component(const char *name)
{
	component = name;
}

static void level_from_env(void)
{
	const char *e = getenv("RFARM_LOG");

	level_from_env_done = 1;
	if (!e)
		return;
	for (int i = 0; i < 4; i++)
		if (!strcmp(e, level_names[i]))
			min_level = (enum log_level)i;
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
