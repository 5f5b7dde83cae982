/*
 * dispatchbench.c - the HTTP client of bench/dispatch.sh and
 * bench/throughput.sh.
 *
 * usage: dispatchbench latency URL PLATFORM JOBS PROGRAM [ARG...]
 *        dispatchbench submit|submit-only URL PLATFORM JOBS CLIENTS TIMEOUT_S
 *
 * latency: submits JOBS no-cache jobs running PROGRAM, one after another,
 * each once the previous one passed. PROGRAM prints the wall clock
 * (CLOCK_REALTIME, "SECONDS.MICROSECONDS") as it starts, so the process
 * start is a buildlet-side timestamp on the same machine's clock as ours.
 * Per job it prints one line "JOB START_MS END_MS PASSED_MS", each
 * measured from the moment POST /api/v1/builds returned its 201:
 * START when the job's process read the clock, END when the job's
 * followed log (?follow=1) ended, which the coordinator does when the job
 * turns final, PASSED when a GET of the job then said "passed" (END plus
 * one request: what a client sees).
 *
 * submit: submits JOBS no-cache `true` jobs as fast as CLIENTS keep-alive
 * connections allow (curl multi, one request in flight per connection),
 * then follows the last job's log and polls /metrics every 10 ms until
 * JOBS more jobs are final. Prints "submitted N MS" and "final N MS
 * PASSED", MS from the first request. submit-only stops after
 * "submitted" (for a coordinator without buildlets: the API alone).
 *
 * One keep-alive connection per client: starting curl(1) per request
 * costs more than the 2 ms being measured. Prints numbers; not a test.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "xalloc.h"

#define RESP_MAX (256u << 20) /* a followed log may be long; cap it anyway */
#define POLL_US 10000000       /* how long a job may take to say passed */

struct conn {
	CURL *h;
	struct buf resp;
	char url[512];
};

static int64_t now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int64_t mono_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;

	return buf_append(&c->resp, p, size * n) ? 0 : size * n;
}

static void conn_init(struct conn *c)
{
	memset(c, 0, sizeof *c);
	c->h = curl_easy_init();
	if (!c->h) {
		fprintf(stderr, "dispatchbench: curl_easy_init failed\n");
		exit(1);
	}
	buf_init(&c->resp, 0, RESP_MAX);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 120L);
	if (getenv("DISPATCHBENCH_VERBOSE"))
		curl_easy_setopt(c->h, CURLOPT_VERBOSE, 1L);
}

static void conn_free(struct conn *c)
{
	curl_easy_cleanup(c->h);
	buf_free(&c->resp);
}

/* Set up a request on c; body NULL means GET. */
static void conn_prepare(struct conn *c, const char *base, const char *path,
			 const char *body)
{
	buf_reset(&c->resp);
	snprintf(c->url, sizeof c->url, "%s%s", base, path);
	curl_easy_setopt(c->h, CURLOPT_URL, c->url);
	if (body) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	} else {
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	}
}

/* One blocking request; returns the HTTP status, 0 on a transport error. */
static long conn_do(struct conn *c, const char *base, const char *path,
		    const char *body)
{
	long status = 0;
	CURLcode res;

	conn_prepare(c, base, path, body);
	res = curl_easy_perform(c->h);
	if (res != CURLE_OK) {
		fprintf(stderr, "dispatchbench: %s: %s\n", c->url,
			curl_easy_strerror(res));
		return 0;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* The first job's id in a POST /builds answer, or -1. */
static long long first_job_id(struct conn *c)
{
	json_t *root = json_loads(buf_cstr(&c->resp), 0, NULL);
	json_t *id = json_object_get(json_array_get(
		json_object_get(root, "jobs"), 0), "id");
	long long v = json_is_integer(id) ? json_integer_value(id) : -1;

	json_decref(root);
	return v;
}

/* The job's state in c's answer into st ("" if none there). */
static void job_state(struct conn *c, char *st, size_t n)
{
	json_t *root = json_loads(buf_cstr(&c->resp), 0, NULL);
	const char *s = json_string_value(json_object_get(root, "state"));

	snprintf(st, n, "%s", s ? s : "");
	json_decref(root);
}

static int state_live(const char *st)
{
	return !strcmp(st, "queued") || !strcmp(st, "dispatched") ||
	       !strcmp(st, "running");
}

/*
 * "SECONDS.MICROSECONDS" at the start of the log, in microseconds; -1 if
 * absent. Parsed as integers: a double keeps only ~16 digits.
 */
static int64_t log_stamp_us(struct conn *c)
{
	const char *s = buf_cstr(&c->resp), *dot;
	char *end;
	long long sec = strtoll(s, &end, 10), frac;
	int digits;

	if (end == s || *end != '.')
		return -1;
	dot = end;
	frac = strtoll(dot + 1, &end, 10);
	digits = (int)(end - dot - 1);
	if (digits < 1 || digits > 9)
		return -1;
	for (; digits < 6; digits++)
		frac *= 10;
	for (; digits > 6; digits--)
		frac /= 10;
	return (int64_t)sec * 1000000 + frac;
}

/* The JSON body of a no-cache build running argv. */
static char *build_body(const char *platform, int argc, char **argv)
{
	json_t *cmd = json_array(), *req;
	char *s;

	for (int i = 0; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	req = json_pack("{s:[s], s:o, s:b}", "platforms", platform,
			"command", cmd, "no_cache", 1);
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return s;
}

/* Wait for a job to pass after its log ended; 0 when it did. */
static int await_passed(struct conn *c, const char *base, long long job)
{
	char path[64];

	int64_t deadline = now_us() + POLL_US;
	char st[32] = "";

	snprintf(path, sizeof path, "/api/v1/jobs/%lld", job);
	/* Its log ended with it: the first GET nearly always says so. */
	while (now_us() < deadline) {
		if (conn_do(c, base, path, NULL) != 200)
			return -1;
		job_state(c, st, sizeof st);
		if (!strcmp(st, "passed"))
			return 0;
		if (!state_live(st))
			break;
		usleep(1000);
	}
	fprintf(stderr, "dispatchbench: job %lld did not pass (%s): %s\n", job,
		st, buf_cstr(&c->resp));
	return -1;
}

static int one_latency(struct conn *api, struct conn *follow,
		       const char *base, const char *body)
{
	char path[80];
	int64_t t0, start, end, passed;
	long long job;

	if (conn_do(api, base, "/api/v1/builds", body) != 201)
		goto fail;
	t0 = now_us();
	if ((job = first_job_id(api)) < 0)
		goto fail;
	snprintf(path, sizeof path, "/api/v1/jobs/%lld/log?follow=1", job);
	if (conn_do(follow, base, path, NULL) != 200)
		goto fail;
	end = now_us();
	if (await_passed(api, base, job))
		return -1;
	passed = now_us();
	if ((start = log_stamp_us(follow)) < 0) {
		fprintf(stderr, "dispatchbench: job %lld: no time stamp in "
			"its log: %.80s\n", job, buf_cstr(&follow->resp));
		return -1;
	}
	printf("%lld %.3f %.3f %.3f\n", job, (start - t0) / 1000.0,
	       (end - t0) / 1000.0, (passed - t0) / 1000.0);
	return 0;
fail:
	fprintf(stderr, "dispatchbench: %s: %.200s\n", api->url,
		buf_cstr(&api->resp));
	return -1;
}

static int cmd_latency(const char *base, const char *platform, int jobs,
		       int argc, char **argv)
{
	struct conn api, follow;
	char *body = build_body(platform, argc, argv);
	int rc = 0;

	conn_init(&api);
	conn_init(&follow);
	for (int i = 0; i < jobs && rc == 0; i++)
		rc = one_latency(&api, &follow, base, body);
	fflush(stdout);
	conn_free(&api);
	conn_free(&follow);
	free(body);
	return rc ? 1 : 0;
}

/* Sum of the final states' counts in a /metrics answer. */
static long long final_jobs(struct conn *c, long long *passed)
{
	static const char *const states[] = {"passed", "failed", "cancelled",
					      "error"};
	const char *text = buf_cstr(&c->resp);
	long long sum = 0;
	char key[64];

	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		const char *p;
		long long v;

		snprintf(key, sizeof key, "\nrfarm_jobs{state=\"%s\"} ",
			 states[i]);
		if (!(p = strstr(text, key)))
			return -1;
		v = strtoll(p + strlen(key), NULL, 10);
		if (i == 0)
			*passed = v;
		sum += v;
	}
	return sum;
}

static long long poll_final(struct conn *c, const char *base,
			    long long *passed)
{
	if (conn_do(c, base, "/metrics", NULL) != 200)
		return -1;
	return final_jobs(c, passed);
}

/* Submit jobs over n keep-alive connections; returns the last job id. */
static long long submit_all(const char *base, const char *body, int jobs,
			    int n)
{
	CURLM *m = curl_multi_init();
	struct conn *cs = xcalloc((size_t)n, sizeof *cs);
	int sent = 0, done = 0, running = 1;
	long long last = -1;

	for (int i = 0; i < n && sent < jobs; i++, sent++) {
		conn_init(&cs[i]);
		conn_prepare(&cs[i], base, "/api/v1/builds", body);
		curl_easy_setopt(cs[i].h, CURLOPT_PRIVATE, &cs[i]);
		curl_multi_add_handle(m, cs[i].h);
	}
	while (done < jobs && running) {
		CURLMsg *msg;
		int left;

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			struct conn *c;
			long status = 0;
			long long id;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  (char **)&c);
			curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
			curl_multi_remove_handle(m, c->h);
			if (msg->data.result != CURLE_OK || status != 201) {
				fprintf(stderr, "dispatchbench: submit: %s "
					"(HTTP %ld) %.200s\n",
					curl_easy_strerror(msg->data.result),
					status, buf_cstr(&c->resp));
				goto out;
			}
			if ((id = first_job_id(c)) > last)
				last = id;
			done++;
			if (sent < jobs) {
				sent++;
				conn_prepare(c, base, "/api/v1/builds", body);
				curl_multi_add_handle(m, c->h);
				running = 1;
			}
		}
		if (done < jobs)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
out:
	for (int i = 0; i < n && i < jobs; i++) {
		curl_multi_remove_handle(m, cs[i].h);
		conn_free(&cs[i]);
	}
	free(cs);
	curl_multi_cleanup(m);
	return done == jobs ? last : -1;
}

static int cmd_submit(const char *base, const char *platform, int jobs,
		      int clients, int timeout_s, int wait)
{
	char *argv[] = {"true"}, path[80];
	char *body = build_body(platform, 1, argv);
	struct conn c;
	long long before, after, passed = 0, last;
	int64_t t0, t1, deadline;
	int rc = 1;

	conn_init(&c);
	if ((before = poll_final(&c, base, &passed)) < 0)
		goto out;
	t0 = mono_us();
	deadline = t0 + (int64_t)timeout_s * 1000000;
	if ((last = submit_all(base, body, jobs, clients)) < 0)
		goto out;
	t1 = mono_us();
	printf("submitted %d %.3f\n", jobs, (t1 - t0) / 1000.0);
	fflush(stdout);
	if (!wait) {
		rc = 0;
		goto out;
	}
	/* The last job is among the last to end: wait on it for free. */
	snprintf(path, sizeof path, "/api/v1/jobs/%lld/log?follow=1", last);
	conn_do(&c, base, path, NULL);
	while ((after = poll_final(&c, base, &passed)) >= 0 &&
	       after - before < jobs && mono_us() < deadline) {
		struct timespec ten_ms = {0, 10 * 1000 * 1000};

		nanosleep(&ten_ms, NULL);
	}
	if (after - before < jobs) {
		fprintf(stderr, "dispatchbench: %lld of %d jobs final in "
			"time\n", after - before, jobs);
		goto out;
	}
	printf("final %lld %.3f %lld\n", after - before,
	       (mono_us() - t0) / 1000.0, passed);
	rc = 0;
out:
	conn_free(&c);
	free(body);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: dispatchbench latency URL PLATFORM JOBS "
		"PROGRAM [ARG...]\n"
		"       dispatchbench submit|submit-only URL PLATFORM JOBS "
		"CLIENTS TIMEOUT_S\n");
	return 2;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 6)
		return usage();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(argv[1], "latency") == 0)
		rc = cmd_latency(argv[2], argv[3], atoi(argv[4]), argc - 5,
				 argv + 5);
	else if (strcmp(argv[1], "submit") == 0 && argc == 7)
		rc = cmd_submit(argv[2], argv[3], atoi(argv[4]),
				atoi(argv[5]), atoi(argv[6]), 1);
	else if (strcmp(argv[1], "submit-only") == 0 && argc == 7)
		rc = cmd_submit(argv[2], argv[3], atoi(argv[4]),
				atoi(argv[5]), atoi(argv[6]), 0);
	else
		rc = usage();
	curl_global_cleanup();
	return rc;
}
