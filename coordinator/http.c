/*
 * http.c - the "http" protocol: request parsing, routing, response
 * writing, log streaming and the dashboard's static files.
 *
 * A response body is copied into the connection's out buffer and written
 * in pieces from WRITEABLE callbacks. A log is streamed straight from the
 * store, 64 KiB at a time, so memory does not grow with log size; with
 * ?follow=1 the stream waits for new chunks (http_streams_wake) until the
 * job ends, then closes the connection to mark the end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "blobs.h"
#include "internal.h"
#include "log.h"
#include "route.h"
#include "xalloc.h"

#define WRITE_PIECE (32 * 1024)
#define LOG_READ_BYTES (64 * 1024)
#define LOG_CUT_MARKER_MAX 64

static const struct {
	enum lws_token_indexes tok; /* header token that carries the URI */
	const char *name;           /* method name */
} methods[] = {
	{WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
	{WSI_TOKEN_PUT_URI, "PUT"},       {WSI_TOKEN_DELETE_URI, "DELETE"},
	{WSI_TOKEN_HEAD_URI, "HEAD"},     {WSI_TOKEN_PATCH_URI, "PATCH"},
	{WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
};

static void conn_reset(struct http_conn *h)
{
	lws_sul_cancel(&h->body_deadline);
	if (h->c)
		blobapi_release(h);
	if (h->link.next)
		list_del(&h->link);
	buf_free(&h->body);
	buf_free(&h->out);
	memset(h, 0, sizeof *h);
}

int http_write_headers(struct http_conn *h, int status, const char *ctype,
		       lws_filepos_t len, const struct http_header *extra,
		       size_t n_extra)
{
	unsigned char hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start,
					   *end = hdr + sizeof hdr - 1;
	int immutable = 0;

	for (size_t i = 0; i < n_extra; i++)
		immutable |= !strcmp(extra[i].name, "cache-control:");
	if (lws_add_http_common_headers(h->wsi, (unsigned)status, ctype, len, &p, end) ||
	    (!immutable &&
	     lws_add_http_header_by_name(h->wsi, (const unsigned char *)"cache-control:",
					 (const unsigned char *)"no-store", 8, &p, end)))
		return -1;
	for (size_t i = 0; i < n_extra; i++)
		if (lws_add_http_header_by_name(h->wsi,
						(const unsigned char *)extra[i].name,
						(const unsigned char *)extra[i].value,
						(int)strlen(extra[i].value), &p, end))
			return -1;
	if (lws_finalize_write_http_header(h->wsi, start, &p, end))
		return -1;
	h->responded = 1;
	return 0;
}

int http_respond(struct http_conn *h, int status, const char *content_type,
		 const void *body, size_t len)
{
	buf_reset(&h->out);
	h->out_off = 0;
	/* A HEAD answer has the length of the body, never the body. */
	if ((strcmp(h->method, "HEAD") && buf_append(&h->out, body, len)) ||
	    http_write_headers(h, status, content_type, len, NULL, 0))
		return -1;
	lws_callback_on_writable(h->wsi);
	return 0;
}

int http_respond_json(struct http_conn *h, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	int r;

	json_decref(body);
	if (!text)
		return -1;
	r = http_respond(h, status, "application/json", text, strlen(text));
	free(text);
	return r;
}

int http_respond_error(struct http_conn *h, int status, const char *code,
		       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return http_respond_json(h, status,
				 json_pack("{s:{s:s,s:s}}", "error", "code", code,
					   "message", msg));
}

/* Append s[0..n) percent-encoded (all but unreserved characters). */
static void query_encode(struct buf *q, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			buf_putc(q, (char)c);
		else
			buf_printf(q, "%%%02X", c);
	}
}

/*
 * lws hands the query over decoded, one "name=value" fragment per pair
 * (an encoded '=' in a name already made '_'); encode them again into one
 * raw query so that route.c's parser is the only one there is.
 */
int http_query_arg(struct http_conn *h, const char *name, char *out, size_t n)
{
	char frag[1024];
	struct buf q;
	int r;

	buf_init(&q, 0, ROUTE_QUERY_MAX);
	for (int i = 0; lws_hdr_copy_fragment(h->wsi, frag, sizeof frag,
					      WSI_TOKEN_HTTP_URI_ARGS, i) >= 0; i++) {
		const char *eq = strchr(frag, '=');

		if (i)
			buf_putc(&q, '&');
		query_encode(&q, frag, eq ? (size_t)(eq - frag) : strlen(frag));
		if (eq) {
			buf_putc(&q, '=');
			query_encode(&q, eq + 1, strlen(eq + 1));
		}
	}
	r = route_query_get(buf_cstr(&q), q.len, name, out, n);
	buf_free(&q);
	return r;
}

/* ---- log streaming ---- */

void http_streams_wake(struct coord *c, int64_t job)
{
	struct list *l;

	list_for_each(l, &c->streams) {
		struct http_conn *h = list_entry(l, struct http_conn, link);

		if (h->job == job)
			lws_callback_on_writable(h->wsi);
	}
}

/*
 * The line a log shows where --max-log-bytes cut bytes out of it. Writes
 * it to out (n bytes) if out is not NULL; returns its length.
 */
static int64_t log_cut_marker(int64_t cut, char *out, size_t n)
{
	char line[LOG_CUT_MARKER_MAX];
	int len = snprintf(line, sizeof line,
			   "\n[rfarm: %lld bytes of log cut here]\n",
			   (long long)cut);

	if (out)
		snprintf(out, n, "%s", line);
	return len;
}

int http_log_start(struct http_conn *h, int64_t job, int follow, int stream,
		   int64_t from)
{
	static const struct http_header nosniff = {"x-content-type-options:",
						   "nosniff"};
	struct store_job j;
	int64_t size = 0, cut = 0;
	int final;

	if (store_job_get(h->c->store, job, &j))
		return http_respond_error(h, 404, "not_found", "no job %lld",
					  (long long)job);
	if (j.cached_from) {
		/* Answered from another job: its log is this job's log. */
		job = j.cached_from;
		store_job_clear(&j);
		if (store_job_get(h->c->store, job, &j))
			return http_respond_error(h, 404, "not_found", "the job "
						  "this one was answered from is gone");
	}
	h->streaming = 1;
	h->follow = follow;
	h->job = job;
	h->attempt = j.attempt;
	h->stream = stream;
	h->skip = from;
	final = job_state_final(j.state);
	store_job_clear(&j);
	buf_init(&h->out, 0, 0);
	if (follow) {
		list_add_tail(&h->c->streams, &h->link);
		if (http_write_headers(h, 200, "text/plain; charset=utf-8",
				       LWS_ILLEGAL_HTTP_CONTENT_LEN, &nosniff, 1))
			return -1;
		/* A quiet job must not look like a stalled transfer. */
		lws_set_timeout(h->wsi, NO_PENDING_TIMEOUT, 0);
	} else {
		/* The log of a running job may be cut while it is read
		 * (--max-log-bytes), so its length is not known in advance:
		 * the end of the connection ends it, as for a follower. */
		h->unsized = !final;
		if (h->attempt > 0 &&
		    store_log_size(h->c->store, job, h->attempt,
				   h->unsized ? 0 : stream, &size, &cut))
			return http_respond_error(h, 500, "store",
						  "cannot read the log");
		h->log_end = size + cut;
		if (cut > 0)
			size += log_cut_marker(cut, NULL, 0);
		size = from < size ? size - from : 0;
		h->remaining = size;
		if (http_write_headers(h, 200, "text/plain; charset=utf-8",
				       h->unsized ? LWS_ILLEGAL_HTTP_CONTENT_LEN :
				       (lws_filepos_t)size, &nosniff, 1))
			return -1;
	}
	lws_callback_on_writable(h->wsi);
	return 0;
}

/* Append what the stream sends, less what ?from= leaves out. */
static void stream_append(struct http_conn *h, const char *p, size_t n)
{
	size_t drop = h->skip < (int64_t)n ? (size_t)h->skip : n;

	h->skip -= (int64_t)drop;
	buf_append(&h->out, p + drop, n - drop);
}

static void collect_chunk(void *ud, int64_t seq, int stream, const void *data,
			  size_t len)
{
	struct http_conn *h = ud;
	char marker[LOG_CUT_MARKER_MAX];

	(void)seq;
	if (stream == STORE_LOG_CUT) {
		log_cut_marker((int64_t)len, marker, sizeof marker);
		stream_append(h, marker, strlen(marker));
		return;
	}
	stream_append(h, data, len);
}

/* The next log bytes into h->out: past what ?from= leaves out, until
 * some are there or the log has no more. */
static void log_read_on(struct http_conn *h, int contiguous)
{
	struct store_log_cursor was;

	do {
		was = h->cur;
		if (store_log_read(h->c->store, h->job, h->attempt, h->stream,
				   &h->cur, LOG_READ_BYTES, contiguous,
				   collect_chunk, h))
			return;
	} while (h->out.len == 0 && h->skip > 0 &&
		 (h->cur.seq != was.seq || h->cur.off != was.off));
}

/* Fill h->out with the next log bytes. Returns 1 when the stream is over. */
static int log_refill(struct http_conn *h)
{
	struct store_job j;
	int final, over = 0;

	buf_reset(&h->out);
	h->out_off = 0;
	if (h->unsized) {
		if (h->cur.off < h->log_end && h->attempt > 0)
			log_read_on(h, 0);
		return h->out.len == 0;
	}
	if (!h->follow) {
		if (h->remaining > 0)
			log_read_on(h, 0);
		if (h->out.len > (size_t)h->remaining)
			h->out.len = (size_t)h->remaining; /* grew meanwhile */
		h->remaining -= (int64_t)h->out.len;
		return h->out.len == 0;
	}
	if (store_job_get(h->c->store, h->job, &j))
		return 1;
	final = job_state_final(j.state);
	if (j.attempt != h->attempt) {
		h->skip = 0; /* what the page showed was another attempt's */
		if (h->attempt > 0)
			buf_printf(&h->out, "\n--- rfarm: attempt %d lost; "
				   "attempt %d follows ---\n", h->attempt, j.attempt);
		h->attempt = j.attempt;
		h->cur = (struct store_log_cursor){0, 0};
	}
	if (h->attempt > 0)
		log_read_on(h, !final);
	if (h->out.len == 0 && final)
		over = 1;
	store_job_clear(&j);
	return over;
}

static int write_out(struct http_conn *h)
{
	unsigned char piece[LWS_PRE + WRITE_PIECE];
	size_t n = h->out.len - h->out_off;

	if (n > WRITE_PIECE)
		n = WRITE_PIECE;
	memcpy(piece + LWS_PRE, buf_data(&h->out) + h->out_off, n);
	if (lws_write(h->wsi, piece + LWS_PRE, n, LWS_WRITE_HTTP) != (int)n)
		return -1;
	h->out_off += n;
	return 0;
}

static int on_writeable(struct http_conn *h)
{
	if (!h->responded)
		return 0;
	if (h->out_off < h->out.len) {
		if (write_out(h))
			return -1;
		if (h->out_off < h->out.len || h->sending_file || h->streaming) {
			lws_callback_on_writable(h->wsi);
			return 0;
		}
		/* All of the answer is out: end the transaction in this
		 * callback. A keep-alive client sends its next request as
		 * soon as it has the answer; read before the end, lws took
		 * it for more of this one's body (400, then a busy loop). */
	}
	if (h->sending_file) {
		int r = blobapi_send_more(h);

		if (r < 0)
			return -1;
		if (!r) {
			lws_callback_on_writable(h->wsi);
			return 0;
		}
		blobapi_release(h);
	}
	if (h->streaming) {
		if (!log_refill(h)) {
			if (h->out.len)
				lws_callback_on_writable(h->wsi);
			else if (h->follow)
				lws_set_timeout(h->wsi, NO_PENDING_TIMEOUT, 0);
			return 0; /* a follower sleeps until woken */
		}
		if (h->follow || h->unsized)
			return -1; /* closing marks the end of the log */
	}
	/* An unread oversized body would be parsed as the next request. */
	if (h->body.err == RC_TOO_LARGE)
		return -1;
	if (lws_http_transaction_completed(h->wsi))
		return -1;
	return 0;
}

/* ---- static dashboard files ---- */

static const char *mime_for(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot)
		return "application/octet-stream";
	if (!strcmp(dot, ".html"))
		return "text/html; charset=utf-8";
	if (!strcmp(dot, ".css"))
		return "text/css; charset=utf-8";
	if (!strcmp(dot, ".js"))
		return "text/javascript; charset=utf-8";
	if (!strcmp(dot, ".json"))
		return "application/json";
	if (!strcmp(dot, ".log") || !strcmp(dot, ".txt"))
		return "text/plain; charset=utf-8";
	return "application/octet-stream";
}

static int safe_rel_path(const char *p)
{
	if (strstr(p, "..") || strstr(p, "//"))
		return 0;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '/' || *p == '.' ||
		      *p == '-' || *p == '_'))
			return 0;
	return 1;
}

/*
 * What every dashboard file is sent with. The pages hold build output and
 * user text (escaped, but a slip must not run): only our own script and
 * style sheet may load, nothing inline, nothing framed, no forms; and the
 * browser may not guess a .log is HTML.
 */
static const char *const static_headers[][2] = {
	{"content-security-policy:",
	 "default-src 'none'; script-src 'self'; style-src 'self'; "
	 "connect-src 'self'; img-src 'self'; base-uri 'none'; "
	 "form-action 'none'; frame-ancestors 'none'"},
	{"x-content-type-options:", "nosniff"},
	{"cache-control:", "no-cache"},
};

/* static_headers in the wire format of this connection into buf. */
static int static_header_block(struct lws *wsi, unsigned char *buf, size_t n)
{
	unsigned char *p = buf, *end = buf + n;

	for (size_t i = 0; i < sizeof static_headers / sizeof static_headers[0]; i++)
		if (lws_add_http_header_by_name(wsi,
				(const unsigned char *)static_headers[i][0],
				(const unsigned char *)static_headers[i][1],
				(int)strlen(static_headers[i][1]), &p, end))
			return -1;
	return (int)(p - buf);
}

static int serve_static(struct http_conn *h)
{
	unsigned char extra[512];
	char *file;
	struct stat st;
	int r, n_extra;

	if (strcmp(h->method, "GET"))
		return http_respond_error(h, 405, "method_not_allowed",
					  "%s is not allowed on %s", h->method,
					  h->path);
	if (!safe_rel_path(h->path))
		return http_respond_error(h, 404, "not_found", "no such page");
	file = xasprintf("%s%s%s", h->c->dash_dir, h->path,
			 h->path[strlen(h->path) - 1] == '/' ? "index.html" : "");
	if (stat(file, &st) || !S_ISREG(st.st_mode)) {
		free(file);
		return http_respond_error(h, 404, "not_found", "no page %s", h->path);
	}
	n_extra = static_header_block(h->wsi, extra, sizeof extra);
	if (n_extra < 0) {
		free(file);
		return -1;
	}
	r = lws_serve_http_file(h->wsi, file, mime_for(file), (char *)extra,
				n_extra);
	free(file);
	if (r < 0)
		return -1;
	return r > 0 && lws_http_transaction_completed(h->wsi) ? -1 : 0;
}

/* ---- health and metrics ---- */

/* Ready once the store is open and migrated (coord_new refuses to start
 * otherwise) and it still answers. */
static int serve_ready(struct http_conn *h)
{
	if (store_schema_version(h->c->store) < 1)
		return http_respond(h, 503, "text/plain", "store not ready\n", 16);
	return http_respond(h, 200, "text/plain", "ready\n", 6);
}

static int serve_metrics(struct http_conn *h)
{
	struct buf text;
	int r;

	buf_init(&text, 0, 0);
	metrics_render(h->c, &text);
	r = http_respond(h, 200, "text/plain; version=0.0.4; charset=utf-8",
			 buf_data(&text), text.len);
	buf_free(&text);
	return r;
}

/* ---- requests ---- */

static int route(struct http_conn *h)
{
	struct route r;

	route_parse(h->method, h->path, &r);
	if (r.id != ROUTE_NONE && !r.allowed)
		return http_respond_error(h, 405, "method_not_allowed",
					  "%s is not allowed on %s", h->method,
					  h->path);
	switch (r.id) {
	case ROUTE_ALIVE:
		return http_respond(h, 200, "text/plain", "ok\n", 3);
	case ROUTE_READY:
		return serve_ready(h);
	case ROUTE_METRICS:
		return serve_metrics(h);
	case ROUTE_DASHBOARD:
		return serve_static(h);
	default:
		return api_handle(h, &r);
	}
}

/* What a request needs: 0 nothing, 1 read, 2 submit, 3 admin (route.h). */
static int needed_scope(const struct http_conn *h)
{
	struct route r;

	route_parse(h->method, h->path, &r);
	return (int)r.scope;
}

static int scope_level(const char *scope)
{
	return !strcmp(scope, "admin") ? 3 : !strcmp(scope, "submit") ? 2
					   : !strcmp(scope, "read") ? 1 : 0;
}

/*
 * Once any API token exists, every route but /alive and /ready needs one
 * of a strong enough scope (reads may be public with --public-read). A
 * buildlet's upload token opens the blob routes of its attempt. Returns
 * -1 to go on, else what the callback returns after answering.
 */
static int gate(struct http_conn *h)
{
	static const char *const names[] = {"", "read", "submit", "admin"};
	char auth[200], scope[16], why[120];
	int need = needed_scope(h), have;
	int64_t job;
	int attempt;

	if (!need || (need == 1 && h->c->cfg.public_read) ||
	    !store_api_tokens_exist(h->c->store))
		return -1;
	h->body.err = RC_TOO_LARGE; /* a refused body is not read: close */
	if (lws_hdr_copy(h->wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION) <= 7 ||
	    strncmp(auth, "Bearer ", 7))
		return http_respond_error(h, 401, "unauthorized", "this coordinator "
					  "needs an API token (Authorization: "
					  "Bearer TOKEN; RFARM_TOKEN for the CLI)");
	if (!strncmp(h->path, "/api/v1/blobs/", 14) &&
	    store_token_lookup(h->c->store, auth + 7, &job, &attempt)) {
		h->body.err = RC_OK;
		return -1;
	}
	if (!auth_api_token(h->c, auth + 7, scope, sizeof scope, why, sizeof why))
		return http_respond_error(h, 401, "unauthorized", "%s", why);
	have = scope_level(scope);
	if (have < need)
		return http_respond_error(h, 403, "forbidden", "%s %s needs the %s "
					  "scope; this token has %s", h->method,
					  h->path, names[need], scope);
	h->body.err = RC_OK;
	return -1;
}

/* An API request body (at most 1 MiB) must be in within --io-timeout. */
static void body_too_slow(lws_sorted_usec_list_t *sul)
{
	struct http_conn *h = lws_container_of(sul, struct http_conn, body_deadline);
	char peer[64];

	guard_peer(h->wsi, peer, sizeof peer);
	log_warn("dropping a request from %s: its body did not arrive within "
		 "--io-timeout (%d s)", peer, h->c->cfg.io_timeout_s);
	lws_set_timeout(h->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static int on_http(struct coord *c, struct http_conn *h, struct lws *wsi,
		   const char *uri)
{
	int r;
	char cl[32];
	long long len = -1;

	conn_reset(h);
	h->c = c;
	h->wsi = wsi;
	buf_init(&h->body, 0, COORD_MAX_BODY);
	buf_init(&h->out, 0, 0);
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
			snprintf(h->method, sizeof h->method, "%s", methods[i].name);
			break;
		}
	snprintf(h->path, sizeof h->path, "%s", uri);
	if ((r = guard_header_bytes(wsi)) > c->cfg.max_header_bytes) {
		h->body.err = RC_TOO_LARGE; /* close after answering */
		return http_respond_error(h, 431, "headers_too_large",
					  "request headers of %d bytes are over "
					  "the limit of %d", r, c->cfg.max_header_bytes);
	}
	if ((r = gate(h)) >= 0)
		return r;
	if (strcmp(h->method, "POST") && strcmp(h->method, "PUT"))
		return route(h);
	if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
		len = atoll(cl);
	if (len > COORD_MAX_BODY && strncmp(h->path, "/api/v1/blobs/", 14)) {
		h->body.err = RC_TOO_LARGE;
		return http_respond_error(h, 413, "too_large",
					  "request body of %lld bytes is over the "
					  "limit of %d bytes", len, COORD_MAX_BODY);
	}
	if (len < 0 && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
		h->body.err = RC_TOO_LARGE; /* close after answering */
		return http_respond_error(h, 411, "length_required",
					  "send the request body with a "
					  "Content-Length, not chunked");
	}
	if (!strcmp(h->method, "PUT") && !strncmp(h->path, "/api/v1/blobs/", 14))
		return blobapi_put_begin(h, len);
	if (len <= 0)
		return route(h); /* no body is coming */
	/* lws restarts its timeout on every byte: a body trickled in just
	 * under it would hold the connection for ever. */
	lws_sul_schedule(lws_get_context(wsi), 0, &h->body_deadline, body_too_slow,
			 (lws_usec_t)c->cfg.io_timeout_s * LWS_US_PER_SEC);
	return 0; /* wait for the body */
}

static int on_body_done(struct http_conn *h)
{
	lws_sul_cancel(&h->body_deadline);
	if (h->body.err == RC_TOO_LARGE)
		return http_respond_error(h, 413, "too_large",
					  "request body is over the limit of %d bytes",
					  COORD_MAX_BODY);
	return route(h);
}

int http_callback(struct lws *wsi, enum lws_callback_reasons reason,
		  void *user, void *in, size_t len)
{
	struct coord *c = lws_context_user(lws_get_context(wsi));
	struct http_conn *h = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return on_http(c, h, wsi, in);
	case LWS_CALLBACK_HTTP_BODY:
		if (h->upload)
			blob_upload_write(h->upload, in, len);
		else if (!h->responded)
			buf_append(&h->body, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (h->upload)
			return blobapi_put_finish(h);
		return h->responded ? 0 : on_body_done(h);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writeable(h);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (h)
			conn_reset(h);
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return guard_upgrade(c, wsi);
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		return guard_accept(c, user);
	case LWS_CALLBACK_DEL_POLL_FD:
		guard_closed(c, ((struct lws_pollargs *)in)->fd);
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* A WebSocket upgrade that did not ask for rfarm.v1. */
		return -1;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}
