/*
 * api_client.c - JSON over HTTP to the coordinator, through libcurl.
 *
 * The only file of rfarm's command line that includes curl/curl.h. One
 * easy handle per client is reused between requests, so `rfarm submit
 * --wait` polls over one kept-alive connection. Everything that can go
 * wrong is turned into one user-facing sentence here (see api_client.h for
 * which result code means what).
 */
#include "api_client.h"
#include "tlspin.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "buf.h"
#include "netaddr.h"
#include "xalloc.h"

/* Seconds to wait for the TCP (and TLS) connection to come up. */
#define CONNECT_TIMEOUT_S 10L
/* Whole-request limit for plain JSON calls; streams have none. */
#define JSON_TIMEOUT_S 120L
/* An upload slower than this many bytes a second ... */
#define UPLOAD_LOW_SPEED 1L
/* ... for this many seconds has stalled and is given up. */
#define UPLOAD_STALL_S 60L
/* An error body of a stream is kept for the message, up to this size. */
#define MAX_ERROR_BODY (64u << 10)
/* How much of a surprising body is quoted back to the user. */
#define SNIPPET_LEN 80

struct api_client {
	char *base_url;     /* no trailing slash */
	char *token;        /* bearer token from RFARM_TOKEN, or NULL */
	CURL *easy;         /* created on first use, reused for keep-alive */
};

/* What a request does; GET and POST are the JSON calls. */
enum method {
	METHOD_GET,  /* read a document or a stream */
	METHOD_POST, /* send body_json */
	METHOD_HEAD, /* ask whether something exists; no body either way */
	METHOD_PUT,  /* send the file upload */
};

/* One request in flight. */
struct xfer {
	enum method method;          /* what to send */
	const char *body_json;       /* POST body, NULL for an empty one */
	FILE *upload;                /* PUT body, read from where it stands */
	curl_off_t upload_size;      /* bytes of upload to send */
	CURL *easy;                  /* the client's handle */
	long status;                 /* HTTP status once headers are in */
	struct buf body;             /* JSON reply, or the error body */
	api_client_write_cb write_cb; /* streaming sink, or NULL */
	void *ud;                    /* passed to write_cb */
	int sink_failed;             /* write_cb asked to stop */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

/* curl_global_init is not thread-safe and must run once per process. */
static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct api_client *api_client_new(const char *base_url)
{
	struct api_client *c = xcalloc(1, sizeof *c);
	const char *tok = getenv("RFARM_TOKEN");
	size_t n;

	if (!base_url || !*base_url)
		base_url = getenv("RFARM_URL");
	if (!base_url || !*base_url)
		base_url = API_CLIENT_DEFAULT_URL;
	n = strlen(base_url);
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	c->base_url = xstrndup(base_url, n);
	if (tok && *tok)
		c->token = xstrdup(tok);
	pthread_once(&global_once, global_init);
	return c;
}

void api_client_free(struct api_client **cp)
{
	struct api_client *c = *cp;

	if (!c)
		return;
	if (c->easy)
		curl_easy_cleanup(c->easy);
	free(c->base_url);
	free(c->token);
	free(c);
	*cp = NULL;
}

const char *api_client_url(const struct api_client *c)
{
	return c->base_url;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	if (!x->status)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->write_cb && x->status < 300) {
		if (x->write_cb(x->ud, p, n) < 0) {
			x->sink_failed = 1;
			return 0; /* anything but n makes libcurl stop */
		}
		return n;
	}
	return buf_append(&x->body, p, n) == RC_OK ? n : 0;
}

/* Quote the start of an unexpected body, printable characters only. */
static void body_snippet(struct buf *body, char *out, size_t outlen)
{
	const unsigned char *p = buf_data(body);
	size_t i, n = body->len < SNIPPET_LEN ? body->len : SNIPPET_LEN;

	if (n >= outlen)
		n = outlen - 1;
	for (i = 0; i < n; i++)
		out[i] = isprint(p[i]) ? (char)p[i] : ' ';
	out[n] = '\0';
}

static rc_t rc_for_status(long status)
{
	switch (status) {
	case 400: case 409: case 422:
		return RC_INVALID;
	case 401: case 403:
		return RC_AUTH;
	case 404:
		return RC_NOT_FOUND;
	default:
		return RC_ERR;
	}
}

/* An HTTP error: quote the server's {"error":{...}} if it sent one. */
static rc_t status_error(struct xfer *x, struct errbuf *eb)
{
	json_t *j = json_loadb((const char *)buf_data(&x->body), x->body.len,
			       0, NULL);
	json_t *err = json_object_get(j, "error");
	const char *msg = json_string_value(json_object_get(err, "message"));
	const char *code = json_string_value(json_object_get(err, "code"));
	char snip[SNIPPET_LEN + 1];

	if (msg)
		errbuf_set(eb, "server said: %s (%s, HTTP %ld)", msg,
			   code ? code : "no code", x->status);
	else if (x->body.len == 0)
		errbuf_set(eb, "server answered HTTP %ld with an empty body",
			   x->status);
	else {
		body_snippet(&x->body, snip, sizeof snip);
		errbuf_set(eb, "server answered HTTP %ld with a body that is "
			   "not a JSON error: '%s'", x->status, snip);
	}
	json_decref(j);
	return rc_for_status(x->status);
}

static rc_t redirect_error(struct api_client *c, struct xfer *x,
			   struct errbuf *eb)
{
	char *where = NULL;

	curl_easy_getinfo(c->easy, CURLINFO_REDIRECT_URL, &where);
	errbuf_set(eb, "server answered HTTP %ld (redirect to %s); set "
		   "RFARM_URL to the coordinator's own address", x->status,
		   where ? where : "nowhere");
	return RC_PROTO;
}

/* libcurl failed before or during the exchange: say why, as RC_IO. */
static rc_t transport_error(struct api_client *c, struct xfer *x, CURLcode res,
			    const char *detail, struct errbuf *eb)
{
	long os_errno = 0;
	curl_off_t connect_us = 0;

	if (x->sink_failed) {
		errbuf_set(eb, "writing the output failed");
		return RC_IO;
	}
	if (x->body.err == RC_TOO_LARGE) {
		errbuf_set(eb, "the reply from %s is larger than %zu bytes",
			   c->base_url, (size_t)x->body.max);
		return RC_PROTO;
	}
	curl_easy_getinfo(c->easy, CURLINFO_OS_ERRNO, &os_errno);
	curl_easy_getinfo(c->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
	if (res == CURLE_COULDNT_CONNECT && os_errno)
		detail = strerror((int)os_errno);
	if (!*detail)
		detail = curl_easy_strerror(res);
	if (res == CURLE_URL_MALFORMAT || res == CURLE_UNSUPPORTED_PROTOCOL)
		errbuf_set(eb, "cannot use the coordinator URL %s (%s); set "
			   "RFARM_URL to http://HOST:PORT", c->base_url, detail);
	else if (res == CURLE_COULDNT_CONNECT ||
		 res == CURLE_COULDNT_RESOLVE_HOST ||
		 (res == CURLE_OPERATION_TIMEDOUT && connect_us == 0))
		errbuf_set(eb, "cannot reach the coordinator at %s (%s); is it "
			   "running? (set RFARM_URL)", c->base_url, detail);
	else
		errbuf_set(eb, "lost the connection to the coordinator at %s "
			   "(%s)", c->base_url, detail);
	return RC_IO;
}

/* A bearer token goes into a header line: refuse one that could break it. */
static int token_ok(const char *t)
{
	for (; *t; t++)
		if (iscntrl((unsigned char)*t) || *t == ' ')
			return 0;
	return 1;
}

static size_t on_upload_read(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = fread(p, 1, size * nmemb, x->upload);

	return n == 0 && ferror(x->upload) ? CURL_READFUNC_ABORT : n;
}

/* The method's own options: what is sent, and how long it may take. */
static void easy_method(CURL *h, struct xfer *x)
{
	switch (x->method) {
	case METHOD_GET:
		break;
	case METHOD_POST:
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
				 x->body_json ? x->body_json : "");
		break;
	case METHOD_HEAD:
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		break;
	case METHOD_PUT:
		/* libcurl pulls the body through the callback a buffer at a
		 * time and sends the size as Content-Length. */
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_upload_read);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, x->upload_size);
		/* A big upload may take long; a stalled one may not. */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, UPLOAD_LOW_SPEED);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, UPLOAD_STALL_S);
		return;
	}
	if (!x->write_cb)
		curl_easy_setopt(h, CURLOPT_TIMEOUT, JSON_TIMEOUT_S);
}

/* libcurl's SSL_CTX hook: trust the server by its pin instead. */
static CURLcode pin_ctx(CURL *curl, void *ssl_ctx, void *pin)
{
	(void)curl;
	return tls_pin_install(ssl_ctx, pin) ? CURLE_SSL_CERTPROBLEM : CURLE_OK;
}

static void easy_setup(struct api_client *c, struct xfer *x, const char *url,
		       struct curl_slist *hdrs, char *errtext)
{
	CURL *h = c->easy;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "rfarm-cli");
	/* A coordinator with a self-signed certificate: trust exactly it. */
	if (getenv("RFARM_CA") && *getenv("RFARM_CA"))
		curl_easy_setopt(h, CURLOPT_CAINFO, getenv("RFARM_CA"));
	if (getenv("RFARM_PIN") && *getenv("RFARM_PIN")) {
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, pin_ctx);
		curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, getenv("RFARM_PIN"));
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errtext);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	easy_method(h, x);
}

/* The request headers; the caller frees the list. */
static struct curl_slist *request_headers(const struct xfer *x,
					  const char *auth)
{
	struct curl_slist *hdrs = NULL;

	hdrs = curl_slist_append(hdrs, x->write_cb ? "Accept: */*" :
				 "Accept: application/json");
	if (auth)
		hdrs = curl_slist_append(hdrs, auth);
	if (x->method == METHOD_POST && x->body_json)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (x->method == METHOD_PUT) {
		hdrs = curl_slist_append(hdrs, "Content-Type: "
					 "application/octet-stream");
		/* Send the body at once rather than wait up to a second
		 * for a "100 Continue" the server may never send. */
		hdrs = curl_slist_append(hdrs, "Expect:");
	}
	return hdrs;
}

/*
 * Run one request as x->method says. On RC_OK x->status is a 2xx code and
 * x->body holds the reply (or, when streaming, the sink got it).
 */
static rc_t perform(struct api_client *c, const char *path, struct xfer *x,
		    struct errbuf *eb)
{
	char errtext[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	char *url = xasprintf("%s%s", c->base_url, path);
	char *auth = NULL;
	CURLcode res;
	rc_t rc = RC_OK;

	if (!net_url_may_use(c->base_url, getenv("RFARM_INSECURE") &&
			     !strcmp(getenv("RFARM_INSECURE"), "1"))) {
		errbuf_set(eb, "refusing plain http to %s: the token, sources "
			   "and logs would cross the network in the clear; use "
			   "https:// (see `rfarm certgen`), or say --insecure "
			   "(rfarm --insecure VERB ..., or RFARM_INSECURE=1)",
			   c->base_url);
		rc = RC_INVALID;
		goto out;
	}
	if (c->token && !token_ok(c->token)) {
		errbuf_set(eb, "RFARM_TOKEN contains spaces or control "
			   "characters");
		rc = RC_INVALID;
		goto out;
	}
	if (!c->easy && !(c->easy = curl_easy_init())) {
		errbuf_set(eb, "cannot start libcurl");
		rc = RC_ERR;
		goto out;
	}
	x->easy = c->easy;
	if (c->token)
		auth = xasprintf("Authorization: Bearer %s", c->token);
	hdrs = request_headers(x, auth);
	easy_setup(c, x, url, hdrs, errtext);
	res = curl_easy_perform(c->easy);
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (res != CURLE_OK)
		rc = transport_error(c, x, res, errtext, eb);
	else if (x->status >= 400)
		rc = status_error(x, eb);
	else if (x->status >= 300)
		rc = redirect_error(c, x, eb);
out:
	curl_slist_free_all(hdrs);
	free(auth);
	free(url);
	return rc;
}

/* Parse a successful reply as JSON. */
static rc_t reply_json(struct xfer *x, json_t **out, struct errbuf *eb)
{
	json_error_t jerr;
	char snip[SNIPPET_LEN + 1];

	*out = json_loadb((const char *)buf_data(&x->body), x->body.len, 0,
			  &jerr);
	if (*out)
		return RC_OK;
	body_snippet(&x->body, snip, sizeof snip);
	errbuf_set(eb, "the server's reply (HTTP %ld) is not JSON: '%s'",
		   x->status, snip);
	return RC_PROTO;
}

static rc_t request_json(struct api_client *c, enum method m, const char *path,
			 const json_t *body, json_t **out, struct errbuf *eb)
{
	struct xfer x = {.method = m};
	char *text = NULL;
	rc_t rc;

	*out = NULL;
	buf_init(&x.body, 0, API_CLIENT_MAX_REPLY);
	if (body)
		text = json_dumps(body, JSON_COMPACT);
	if (body && !text) {
		errbuf_set(eb, "cannot encode the request as JSON");
		rc = RC_INVALID;
		goto out;
	}
	x.body_json = text;
	rc = perform(c, path, &x, eb);
	if (rc == RC_OK)
		rc = reply_json(&x, out, eb);
out:
	free(text);
	buf_free(&x.body);
	return rc;
}

rc_t api_client_get_json(struct api_client *c, const char *path,
			 json_t **out, struct errbuf *eb)
{
	return request_json(c, METHOD_GET, path, NULL, out, eb);
}

rc_t api_client_post_json(struct api_client *c, const char *path,
			  const json_t *body, json_t **out, struct errbuf *eb)
{
	return request_json(c, METHOD_POST, path, body, out, eb);
}

rc_t api_client_get_stream(struct api_client *c, const char *path,
			   api_client_write_cb write_cb, void *ud,
			   struct errbuf *eb)
{
	struct xfer x = {.method = METHOD_GET};
	rc_t rc;

	buf_init(&x.body, 0, MAX_ERROR_BODY);
	x.write_cb = write_cb;
	x.ud = ud;
	rc = perform(c, path, &x, eb);
	buf_free(&x.body);
	return rc;
}

rc_t api_client_head(struct api_client *c, const char *path,
		     struct errbuf *eb)
{
	struct xfer x = {.method = METHOD_HEAD};
	rc_t rc;

	buf_init(&x.body, 0, MAX_ERROR_BODY);
	rc = perform(c, path, &x, eb);
	buf_free(&x.body);
	return rc;
}

rc_t api_client_put_file(struct api_client *c, const char *path, FILE *f,
			 json_t **out, struct errbuf *eb)
{
	struct xfer x = {.method = METHOD_PUT, .upload = f};
	struct stat st;
	json_t *reply = NULL;
	off_t pos = ftello(f);
	rc_t rc;

	if (out)
		*out = NULL;
	if (pos < 0 || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < pos) {
		errbuf_set(eb, "cannot upload: not a regular file");
		return RC_INVALID;
	}
	x.upload_size = (curl_off_t)(st.st_size - pos);
	buf_init(&x.body, 0, MAX_ERROR_BODY);
	rc = perform(c, path, &x, eb);
	if (rc == RC_OK)
		rc = reply_json(&x, &reply, eb);
	buf_free(&x.body);
	if (out)
		*out = reply;
	else
		json_decref(reply);
	return rc;
}
