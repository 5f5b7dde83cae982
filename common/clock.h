/*
 * clock.h - time in milliseconds.
 *
 * Monotonic time measures durations and deadlines; wall time is what the
 * store records and what users read (RFC 3339, UTC). Pure logic (scheduler,
 * job states) never calls these: it takes "now" as an argument.
 */
#ifndef RFARM_CLOCK_H
#define RFARM_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t clock_mono_ms(void);
int64_t clock_wall_ms(void);

/* "2026-11-22T10:00:00Z"; returns out. */
char *clock_format_rfc3339(int64_t wall_ms, char *out, size_t n);
/* "2026-11-22T10:00:00.123Z"; returns out. */
char *clock_format_rfc3339_ms(int64_t wall_ms, char *out, size_t n);

/*
 * Parse a duration such as "90", "90s", "10m", "1h30m", "500ms", "30d" into
 * milliseconds. A bare number means seconds. Returns -1 when malformed.
 */
int64_t clock_parse_duration_ms(const char *s);

#endif
