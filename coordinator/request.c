/* request.c - build request validation (see request.h). */
#include "request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "sha256.h"

rc_t request_fail(struct request_error *err, const char *code,
		  const char *fmt, ...)
{
	va_list ap;

	snprintf(err->code, sizeof err->code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return RC_INVALID;
}

int request_valid_platform(const char *s)
{
	const char *slash = strchr(s, '/');

	if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/') ||
	    strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '/'))
			return 0;
	return 1;
}

static rc_t parse_platforms(json_t *in, json_t *spec, struct request_error *err)
{
	json_t *v = json_object_get(in, "platforms"), *out = json_array(), *e;
	size_t i;

	json_object_set_new(spec, "platforms", out);
	if (!json_is_array(v) || json_array_size(v) == 0)
		return request_fail(err, "bad_platform",
			    "\"platforms\" must be a non-empty array such as "
			    "[\"linux/amd64\"]");
	if (json_array_size(v) > REQUEST_MAX_PLATFORMS)
		return request_fail(err, "bad_platform", "at most %d platforms",
			    REQUEST_MAX_PLATFORMS);
	json_array_foreach(v, i, e) {
		const char *p = json_string_value(e);

		if (!p || !request_valid_platform(p))
			return request_fail(err, "bad_platform",
				    "platforms[%zu]: \"%.64s\" is not GOOS/GOARCH "
				    "(for example linux/amd64)", i, p ? p : "(not a string)");
		for (size_t k = 0; k < i; k++)
			if (!strcmp(p, json_string_value(json_array_get(v, k))))
				return request_fail(err, "bad_platform",
					    "platform %s is listed twice", p);
		json_array_append_new(out, json_string(p));
	}
	return RC_OK;
}

static rc_t parse_command(json_t *in, json_t *spec, struct request_error *err)
{
	json_t *cmd = json_object_get(in, "command"), *script = json_object_get(in, "script"), *e;
	size_t i;

	if (cmd && script)
		return request_fail(err, "bad_command", "give \"command\" or \"script\", not both");
	if (script) {
		const char *s = json_string_value(script);

		if (!s || !*s)
			return request_fail(err, "empty_command",
				    "\"script\" must be a non-empty string");
		json_object_set(spec, "script", script);
		return RC_OK;
	}
	if (!cmd)
		return request_fail(err, "empty_command",
			    "nothing to run: give \"command\" (an array) or \"script\"");
	if (!json_is_array(cmd) || json_array_size(cmd) == 0)
		return request_fail(err, "empty_command",
			    "\"command\" must be a non-empty array of strings");
	if (json_array_size(cmd) > REQUEST_MAX_ARGS)
		return request_fail(err, "bad_command", "at most %d arguments", REQUEST_MAX_ARGS);
	json_array_foreach(cmd, i, e)
		if (!json_is_string(e))
			return request_fail(err, "bad_command", "command[%zu] is not a string", i);
	if (!*json_string_value(json_array_get(cmd, 0)))
		return request_fail(err, "empty_command", "command[0] (the program) is empty");
	json_object_set(spec, "command", cmd);
	return RC_OK;
}

static rc_t parse_env(json_t *in, json_t *spec, struct request_error *err)
{
	json_t *env = json_object_get(in, "env"), *v;
	const char *k;

	if (!env) {
		json_object_set_new(spec, "env", json_object());
		return RC_OK;
	}
	if (!json_is_object(env))
		return request_fail(err, "bad_env", "\"env\" must be an object of strings");
	if (json_object_size(env) > REQUEST_MAX_ENV)
		return request_fail(err, "bad_env", "at most %d variables", REQUEST_MAX_ENV);
	json_object_foreach(env, k, v) {
		if (!*k || strchr(k, '=') || strlen(k) > 256)
			return request_fail(err, "bad_env", "bad variable name \"%.64s\"", k);
		if (!strncmp(k, "RFARM_", 6))
			return request_fail(err, "bad_env",
				    "%.64s: RFARM_ variables are set by the buildlet", k);
		if (!json_is_string(v))
			return request_fail(err, "bad_env", "env.%.64s must be a string", k);
	}
	json_object_set(spec, "env", env);
	return RC_OK;
}

static rc_t parse_labels(json_t *in, json_t *spec, struct request_error *err)
{
	json_t *v = json_object_get(in, "labels"), *e;
	size_t i;

	if (!v) {
		json_object_set_new(spec, "labels", json_array());
		return RC_OK;
	}
	if (!json_is_array(v) || json_array_size(v) > REQUEST_MAX_LABELS)
		return request_fail(err, "bad_label", "\"labels\" must be an array of at most "
			    "%d strings", REQUEST_MAX_LABELS);
	json_array_foreach(v, i, e)
		if (!json_is_string(e) || !*json_string_value(e) ||
		    strlen(json_string_value(e)) > 64)
			return request_fail(err, "bad_label", "labels[%zu] must be a "
				    "non-empty string of at most 64 bytes", i);
	json_object_set(spec, "labels", v);
	return RC_OK;
}

/* A duration given as text ("10m") or integer seconds; -1 if bad. */
static int64_t duration_ms(json_t *t)
{
	if (json_is_integer(t))
		return json_integer_value(t) > 0 &&
				       json_integer_value(t) <= REQUEST_MAX_TIMEOUT_S
			       ? json_integer_value(t) * 1000
			       : -1;
	if (json_is_string(t))
		return clock_parse_duration_ms(json_string_value(t));
	return -1;
}

static rc_t parse_idle(json_t *in, json_t *spec, struct request_error *err)
{
	json_t *t = json_object_get(in, "idle_timeout");
	int64_t ms = t ? duration_ms(t) : 0;

	if (t && (ms <= 0 || ms > (int64_t)REQUEST_MAX_TIMEOUT_S * 1000))
		return request_fail(err, "bad_timeout",
			    "\"idle_timeout\" must be a duration such as \"5m\", "
			    "at most 7 days");
	json_object_set_new(spec, "idle_timeout_s", json_integer((ms + 999) / 1000));
	return RC_OK;
}

/* A relative path or glob that cannot leave the work directory. */
static int pattern_ok(const char *p)
{
	const char *c = p;

	if (!*p || *p == '/' || strlen(p) > 256)
		return 0;
	while (*c) {
		size_t n = strcspn(c, "/");

		if (n == 2 && !strncmp(c, "..", 2))
			return 0;
		c += n;
		if (*c == '/')
			c++;
	}
	return 1;
}

static rc_t parse_artifacts(json_t *in, json_t *spec, struct request_error *err)
{
	json_t *v = json_object_get(in, "artifacts"), *e;
	size_t i;

	if (!v) {
		json_object_set_new(spec, "artifacts", json_array());
		return RC_OK;
	}
	if (!json_is_array(v) || json_array_size(v) > REQUEST_MAX_ARTIFACTS)
		return request_fail(err, "bad_artifact", "\"artifacts\" must be an array of "
			    "at most %d paths or globs", REQUEST_MAX_ARTIFACTS);
	json_array_foreach(v, i, e)
		if (!json_is_string(e) || !pattern_ok(json_string_value(e)))
			return request_fail(err, "bad_artifact",
				    "artifacts[%zu] must be a relative path or glob "
				    "inside the work directory (no \"..\", no "
				    "leading \"/\")", i);
	json_object_set(spec, "artifacts", v);
	return RC_OK;
}

int request_valid_host_type(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		      *s == '-'))
			return 0;
	return 1;
}

/* Kept only when given, so specs without it stay byte-identical. */
static rc_t parse_host_type(json_t *in, json_t *spec, struct request_error *err)
{
	json_t *v = json_object_get(in, "host_type");

	if (!v)
		return RC_OK;
	if (!json_is_string(v) || !request_valid_host_type(json_string_value(v)))
		return request_fail(err, "bad_host_type", "\"host_type\" must be a "
			    "host type name: 1 to 64 letters, digits, '.', '_' "
			    "or '-'");
	json_object_set(spec, "host_type", v);
	return RC_OK;
}

static rc_t parse_no_cache(json_t *in, json_t *spec, struct request_error *err)
{
	json_t *v = json_object_get(in, "no_cache");

	if (v && !json_is_boolean(v))
		return request_fail(err, "bad_no_cache", "\"no_cache\" must be true or false");
	if (json_is_true(v))
		json_object_set_new(spec, "no_cache", json_true());
	return RC_OK;
}

/* A git URL we are willing to hand to git: a known scheme, no spaces or
 * control characters (git treats some of those specially). */
static int git_url_ok(const char *u)
{
	static const char *const schemes[] = {"https://", "http://", "git://",
					      "ssh://", "file://"};
	int known = 0;

	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
		known |= !strncmp(u, schemes[i], strlen(schemes[i]));
	if (!known || strlen(u) > 1024)
		return 0;
	for (; *u; u++)
		if ((unsigned char)*u <= ' ')
			return 0;
	return 1;
}

/* A ref or commit: no leading '-', no spaces, nothing git would refuse. */
static int git_ref_ok(const char *r)
{
	if (!*r || *r == '-' || strlen(r) > 255 || strstr(r, ".."))
		return 0;
	for (; *r; r++)
		if ((unsigned char)*r <= ' ' || strchr("~^:?*[\\", *r))
			return 0;
	return 1;
}

static rc_t parse_git(json_t *git, json_t *spec, struct request_error *err)
{
	const char *url = json_string_value(json_object_get(git, "url"));
	const char *ref = json_string_value(json_object_get(git, "ref"));

	if (!json_is_object(git) || !url || json_object_size(git) > 2)
		return request_fail(err, "bad_source", "source.git must be "
			    "{\"url\": \"...\", \"ref\": \"...\"}");
	if (!git_url_ok(url))
		return request_fail(err, "bad_source", "source.git.url must be an https://, "
			    "http://, git://, ssh:// or file:// URL without spaces");
	if (!ref)
		ref = "HEAD";
	if (!git_ref_ok(ref))
		return request_fail(err, "bad_source", "source.git.ref \"%.64s\" is not a "
			    "branch, tag or commit name", ref);
	json_object_set_new(spec, "source", json_pack("{s:{s:s,s:s}}", "git",
						      "url", url, "ref", ref));
	return RC_OK;
}

/* {"tarball": "<sha256>"} or {"git": {"url": ..., "ref": ...}}. */
static rc_t parse_source(json_t *in, json_t *spec, struct request_error *err)
{
	json_t *src = json_object_get(in, "source"), *tb;
	const char *sha;

	if (!src)
		return RC_OK;
	if (json_object_get(src, "git") && json_object_size(src) == 1)
		return parse_git(json_object_get(src, "git"), spec, err);
	tb = json_object_get(src, "tarball");
	if (!json_is_object(src) || json_object_size(src) != 1 || !tb)
		return request_fail(err, "bad_source",
			    "\"source\" must be {\"tarball\": \"<sha256>\"} or "
			    "{\"git\": {\"url\": ..., \"ref\": ...}}");
	sha = json_string_value(tb);
	if (!sha || !sha256_hex_valid(sha))
		return request_fail(err, "bad_source", "source.tarball must be the SHA-256 "
			    "of an uploaded blob (64 lower-case hex characters)");
	json_object_set_new(spec, "source", json_pack("{s:s}", "tarball", sha));
	return RC_OK;
}

static rc_t parse_numbers(json_t *in, json_t *spec, struct request_error *err)
{
	json_t *prio = json_object_get(in, "priority"), *t = json_object_get(in, "timeout");
	json_int_t p = 0;
	int64_t ms = 0;

	if (prio) {
		if (!json_is_integer(prio) || json_integer_value(prio) < -1000 ||
		    json_integer_value(prio) > 1000)
			return request_fail(err, "bad_priority",
				    "\"priority\" must be an integer from -1000 to 1000");
		p = json_integer_value(prio);
	}
	if (t)
		ms = duration_ms(t);
	if (t && (ms <= 0 || ms > (int64_t)REQUEST_MAX_TIMEOUT_S * 1000))
		return request_fail(err, "bad_timeout",
			    "\"timeout\" must be a duration such as \"90s\", \"10m\" "
			    "or \"2h\", at most 7 days");
	json_object_set_new(spec, "priority", json_integer(p));
	json_object_set_new(spec, "timeout_s", json_integer((ms + 999) / 1000));
	return RC_OK;
}

static const char *const known_keys[] = {"platforms", "command", "script", "env",
					 "labels", "priority", "timeout",
					 "idle_timeout", "source", "artifacts",
					 "no_cache", "host_type"};

static rc_t check_keys(json_t *in, struct request_error *err)
{
	const char *k;
	json_t *v;

	json_object_foreach(in, k, v) {
		size_t i, n = sizeof known_keys / sizeof known_keys[0];

		for (i = 0; i < n && strcmp(k, known_keys[i]); i++)
			;
		if (i < n)
			continue;
		return request_fail(err, "unknown_field", "unknown field \"%.64s\"", k);
	}
	return RC_OK;
}

int request_json_depth(const char *p, size_t n)
{
	int depth = 0, max = 0, in_string = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_string = 0;
		} else if (ch == '"') {
			in_string = 1;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max)
				max = depth;
		} else if ((ch == '}' || ch == ']') && depth > 0) {
			depth--;
		}
	}
	return max;
}

rc_t request_parse_build(const char *body, size_t len, json_t **spec,
			 struct request_error *err)
{
	json_error_t je;
	json_t *in, *out;
	rc_t rc;
	int depth = request_json_depth(body, len);

	*spec = NULL;
	if (depth > REQUEST_MAX_DEPTH)
		return request_fail(err, "too_deep", "request JSON nests %d levels deep; "
			    "the limit is %d", depth, REQUEST_MAX_DEPTH);
	out = json_object();
	in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!in) {
		json_decref(out);
		return request_fail(err, "bad_json", "request body is not valid JSON: %s "
			    "(line %d, column %d)", je.text, je.line, je.column);
	}
	if (!json_is_object(in))
		rc = request_fail(err, "bad_json", "request body must be a JSON object");
	else if (!(rc = check_keys(in, err)) && !(rc = parse_platforms(in, out, err)) &&
		 !(rc = parse_command(in, out, err)) && !(rc = parse_env(in, out, err)) &&
		 !(rc = parse_labels(in, out, err)))
		rc = parse_numbers(in, out, err);
	if (!rc)
		rc = parse_idle(in, out, err);
	if (!rc)
		rc = parse_source(in, out, err);
	if (!rc)
		rc = parse_artifacts(in, out, err);
	if (!rc)
		rc = parse_no_cache(in, out, err);
	if (!rc)
		rc = parse_host_type(in, out, err);
	json_decref(in);
	if (rc) {
		json_decref(out);
		return rc;
	}
	*spec = out;
	return RC_OK;
}

int request_valid_git_url(const char *url)
{
	return url && git_url_ok(url);
}
