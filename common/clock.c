/* clock.c - monotonic and wall clocks, RFC 3339 and duration text. */
#include "clock.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *format(int64_t wall_ms, char *out, size_t n, int with_ms)
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	if (with_ms)
		snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
	else
		snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec);
	return out;
}

char *clock_format_rfc3339(int64_t wall_ms, char *out, size_t n)
{
	return format(wall_ms, out, n, 0);
}

char *clock_format_rfc3339_ms(int64_t wall_ms, char *out, size_t n)
{
	return format(wall_ms, out, n, 1);
}

int64_t clock_parse_duration_ms(const char *s)
{
	int64_t total = 0;
	int any = 0;

	if (!s || !*s)
		return -1;
	while (*s) {
		int64_t v = 0, unit;
		int digits = 0;

		/* Bound every value so that v * 3600000 and the sum of a
		 * few such terms stay far from overflow. */
		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (*s++ - '0');
			if (v > INT64_MAX / 10 / 3600000 / 16)
				return -1;
			digits++;
		}
		if (!digits)
			return -1;
		if (!strncmp(s, "ms", 2)) {
			unit = 1;
			s += 2;
		} else if (*s == 's') {
			unit = 1000;
			s++;
		} else if (*s == 'm') {
			unit = 60000;
			s++;
		} else if (*s == 'h') {
			unit = 3600000;
			s++;
		} else if (*s == 'd') {
			unit = 86400000;
			s++;
		} else if (*s == '\0' && !any) {
			unit = 1000;
		} else {
			return -1;
		}
		if (total > INT64_MAX / 2 - v * unit)
			return -1;
		total += v * unit;
		any = 1;
	}
	return total;
}
