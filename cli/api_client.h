/*
 * api_client.h - the coordinator's JSON HTTP API as seen by the command
 * line: GET and POST of JSON documents, streamed GETs for logs, and HEAD
 * and streamed PUT of a file for blobs.
 *
 * This is the only part of rfarm that talks HTTP as a client through
 * libcurl; api_client.c is the only file that includes curl/curl.h. The
 * design decision a caller must know: every failure is turned here into one
 * sentence a user can act on, and the result code says *whose* fault it
 * was, so the command line can choose its exit status:
 *
 *   RC_IO        the coordinator could not be reached, or the connection
 *                broke ("cannot reach the coordinator at URL (...)")
 *   RC_INVALID   HTTP 400/409/422: the server refused the request
 *   RC_AUTH      HTTP 401/403
 *   RC_NOT_FOUND HTTP 404
 *   RC_ERR       any other HTTP status >= 400
 *   RC_PROTO     the server answered, but not with the JSON we expected
 *
 * With an error body {"error":{"code","message"}} the text is
 * "server said: MESSAGE (CODE, HTTP 400)".
 */
#ifndef RFARM_API_CLIENT_H
#define RFARM_API_CLIENT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "rc.h"

/* Where the coordinator is when RFARM_URL is not set. */
#define API_CLIENT_DEFAULT_URL "http://127.0.0.1:8080"
/* Largest JSON reply we are willing to hold in memory. */
#define API_CLIENT_MAX_REPLY (64u << 20)

struct api_client;

/*
 * A client for base_url (NULL: $RFARM_URL, else API_CLIENT_DEFAULT_URL)
 * that sends "Authorization: Bearer $RFARM_TOKEN" when that variable is
 * set. Never fails: nothing is connected until the first request.
 */
struct api_client *api_client_new(const char *base_url);
void api_client_free(struct api_client **c);

/* The base URL without a trailing slash ("http://127.0.0.1:8080"). */
const char *api_client_url(const struct api_client *c);

/*
 * GET base_url + path ("/api/v1/builds/7") and parse the reply. On RC_OK
 * *out is a new reference the caller must json_decref(); on failure *out is
 * NULL and eb says why.
 */
rc_t api_client_get_json(struct api_client *c, const char *path,
			 json_t **out, struct errbuf *eb);

/* POST body (borrowed; NULL sends an empty body) as application/json;
 * the reply as for GET. */
rc_t api_client_post_json(struct api_client *c, const char *path,
			  const json_t *body, json_t **out, struct errbuf *eb);

/*
 * Called with each piece of a streamed body as it arrives. Return 0 to go
 * on, -1 to abort the transfer: api_client_get_stream then returns RC_IO.
 * A callback that wants to say why writes into the same errbuf first (the
 * first message in an errbuf wins).
 */
typedef int (*api_client_write_cb)(void *ud, const void *p, size_t n);

/*
 * GET base_url + path and hand the body to write_cb as it arrives, with
 * no overall timeout (a followed log may take hours). An HTTP error body is
 * not passed to write_cb; it becomes the error text instead.
 */
rc_t api_client_get_stream(struct api_client *c, const char *path,
			   api_client_write_cb write_cb, void *ud,
			   struct errbuf *eb);

/*
 * HEAD base_url + path: RC_OK for a 2xx answer, RC_NOT_FOUND for 404, else
 * as above. Used to ask whether a blob is already on the coordinator.
 */
rc_t api_client_head(struct api_client *c, const char *path,
		     struct errbuf *eb);

/*
 * PUT the regular file f (borrowed; read from its current position to its
 * end) to base_url + path as application/octet-stream, with its size as
 * Content-Length. The body is streamed a buffer at a time, so memory does
 * not grow with the file; there is no overall time limit, but an upload
 * that moves nothing for a minute is given up (RC_IO). On RC_OK and when
 * out is not NULL, *out is the JSON reply (a new reference).
 */
rc_t api_client_put_file(struct api_client *c, const char *path, FILE *f,
			 json_t **out, struct errbuf *eb);

#endif
