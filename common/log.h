/*
 * log.h - one-line diagnostics on stderr.
 *
 * "2026-11-22T10:00:00.123Z coordinator info: job 42: queued -> dispatched".
 * Thread-safe (one fprintf per line). The level is set with
 * RFARM_LOG=debug|info|warn|error. RFARM_LOG_FORMAT=json
 * writes each line as {"time","component","level","msg"} for log
 * pipelines. Job state changes always read "job ID: FROM -> TO".
 */
#ifndef RFARM_LOG_H
#define RFARM_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_component(const char *name); /* per thread; default "rfarm" */
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Emitter for libwebsockets' lws_set_log_level(): forwards its lines
 * (errors as warnings, the rest as debug) so one format covers both.
 * Declared here without lws types: level bit 1 is LLL_ERR, bit 2 LLL_WARN.
 */
void log_lws_emit(int level, const char *line);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
