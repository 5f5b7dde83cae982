/* config.c - the farm's host types, builders and repositories (see config.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fsutil.h"
#include "xalloc.h"

#define PATH_MAX_LEN 256

/* What a validation step needs to word an error: the text for lines. */
struct vctx {
	const char *text;
	size_t len;
	const char *file;
	struct config_error *err;
};

/* ---- where a path is in the text ---- */

struct scan {
	const char *p, *e; /* next byte, end */
	int line;          /* line of p */
	const char *want;  /* the path looked for */
	int found;         /* its line, 0 while not found */
};

static void skip_ws(struct scan *s)
{
	for (; s->p < s->e && strchr(" \t\r\n", *s->p); s->p++)
		if (*s->p == '\n')
			s->line++;
}

/* p is on the opening quote; afterwards just past the closing one. */
static void skip_string(struct scan *s)
{
	for (s->p++; s->p < s->e && *s->p != '"'; s->p++)
		if (*s->p == '\\')
			s->p++;
	s->p++;
}

static void scan_value(struct scan *s, char *path, size_t plen, int depth);

/* Append a child's name to path; 0 if it does not fit. */
static int path_push(char *path, size_t plen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int path_push(char *path, size_t plen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(path + plen, PATH_MAX_LEN - plen, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < PATH_MAX_LEN - plen;
}

/* A child whose path does not fit never matches: mark it with a byte no
 * path holds, keeping the string terminated inside the buffer. */
static void path_poison(char *path, size_t plen)
{
	if (plen + 1 < PATH_MAX_LEN) {
		path[plen] = '\x01';
		path[plen + 1] = '\0';
	} else {
		path[PATH_MAX_LEN - 2] = '\x01';
		path[PATH_MAX_LEN - 1] = '\0';
	}
}

static void scan_object(struct scan *s, char *path, size_t plen, int depth)
{
	for (s->p++; !s->found && s->p < s->e;) {
		const char *key;

		skip_ws(s);
		if (s->p >= s->e || *s->p == '}' || *s->p != '"')
			break;
		key = s->p + 1;
		skip_string(s);
		/* A key with escapes or a path too long never matches: it is
		 * still scanned past. */
		if (!path_push(path, plen, "%s%.*s", plen ? "." : "",
			       (int)(s->p - 1 - key), key))
			path_poison(path, plen);
		skip_ws(s);
		if (s->p < s->e && *s->p == ':')
			s->p++;
		scan_value(s, path, strlen(path), depth + 1);
		path[plen] = '\0';
		skip_ws(s);
		if (s->p >= s->e || *s->p != ',')
			break;
		s->p++;
	}
	s->p++;
}

static void scan_array(struct scan *s, char *path, size_t plen, int depth)
{
	for (size_t i = 0; s->p++, !s->found && s->p < s->e; i++) {
		skip_ws(s);
		if (s->p >= s->e || *s->p == ']')
			break;
		if (!path_push(path, plen, "[%zu]", i))
			path_poison(path, plen);
		scan_value(s, path, strlen(path), depth + 1);
		path[plen] = '\0';
		skip_ws(s);
		if (s->p >= s->e || *s->p != ',')
			break;
	}
	s->p++;
}

static void scan_value(struct scan *s, char *path, size_t plen, int depth)
{
	skip_ws(s);
	if (s->p >= s->e || depth > CONFIG_MAX_DEPTH)
		return;
	if (!strcmp(path, s->want)) {
		s->found = s->line;
		return;
	}
	if (*s->p == '{')
		scan_object(s, path, plen, depth);
	else if (*s->p == '[')
		scan_array(s, path, plen, depth);
	else if (*s->p == '"')
		skip_string(s);
	else
		while (s->p < s->e && !strchr(",]} \t\r\n", *s->p))
			s->p++;
}

int config_path_line(const char *text, size_t len, const char *path)
{
	struct scan s = {text, text + len, 1, path, 0};
	char cur[PATH_MAX_LEN] = "";

	scan_value(&s, cur, 0, 0);
	return s.found;
}

/* ---- errors ---- */

/* The line of path, or of the nearest enclosing value that has one. */
static int line_of(const struct vctx *v, const char *path)
{
	char p[PATH_MAX_LEN];
	int line;

	snprintf(p, sizeof p, "%s", path);
	while (!(line = config_path_line(v->text, v->len, p)) && *p) {
		char *dot = strrchr(p, '.'), *br = strrchr(p, '[');
		char *cut = dot > br ? dot : br;

		if (!cut)
			break;
		*cut = '\0';
	}
	return line ? line : 1;
}

static rc_t vfail(const struct vctx *v, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static rc_t vfail(const struct vctx *v, const char *path, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(v->err->msg, sizeof v->err->msg, "%s:%d: %s%s%s", v->file,
		 line_of(v, path), path, *path ? ": " : "", why);
	return RC_INVALID;
}

/* ---- validation ---- */

/* Every key of o is one of known (NULL-terminated). */
static rc_t check_keys(const struct vctx *v, json_t *o, const char *path,
		       const char *const *known)
{
	const char *k;
	json_t *val;

	json_object_foreach(o, k, val) {
		char p[PATH_MAX_LEN], list[200] = "";
		size_t i;

		for (i = 0; known[i] && strcmp(k, known[i]); i++)
			;
		if (known[i])
			continue;
		for (i = 0; known[i]; i++)
			snprintf(list + strlen(list), sizeof list - strlen(list),
				 "%s%s", i ? ", " : "", known[i]);
		snprintf(p, sizeof p, "%s%s%.64s", path, *path ? "." : "", k);
		return vfail(v, p, "unknown key (known here: %s)", list);
	}
	return RC_OK;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"
/* What a name of a host type or builder is made of. */
#define NAME_CHARS LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ._-"

/* s is 1 to max bytes, all of them in chars. */
static int word_ok(const char *s, size_t max, const char *chars)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= max && strspn(s, chars) == n;
}

/* arr[i] (an entry of what) is an object of only the keys known and its
 * name is well made and unique among arr[0..i). */
static rc_t check_entry(const struct vctx *v, json_t *arr, size_t i,
			const char *what, const char *const known[])
{
	json_t *e = json_array_get(arr, i);
	const char *name = json_string_value(json_object_get(e, "name"));
	char p[PATH_MAX_LEN];
	rc_t rc;

	snprintf(p, sizeof p, "%s[%zu]", what, i);
	if (!json_is_object(e))
		return vfail(v, p, "want an object");
	if ((rc = check_keys(v, e, p, known)))
		return rc;
	snprintf(p, sizeof p, "%s[%zu].name", what, i);
	if (!word_ok(name, 64, NAME_CHARS))
		return vfail(v, p, "want a name of 1 to 64 letters, digits, "
			     "'.', '_' or '-'");
	for (size_t k = 0; k < i; k++)
		if (!strcmp(name, json_string_value(json_object_get(
					  json_array_get(arr, k), "name"))))
			return vfail(v, p, "\"%s\" is also %s[%zu].name", name,
				     what, k);
	return RC_OK;
}

/* An array of at most max non-empty strings of at most maxlen bytes. */
static rc_t check_strings(const struct vctx *v, json_t *a, const char *path,
			  size_t max, size_t maxlen)
{
	char p[PATH_MAX_LEN];
	json_t *e;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > max)
		return vfail(v, path, "want an array of at most %zu strings", max);
	json_array_foreach(a, i, e) {
		const char *s = json_string_value(e);

		snprintf(p, sizeof p, "%s[%zu]", path, i);
		if (!s || !*s || strlen(s) > maxlen)
			return vfail(v, p, "want a non-empty string of at most "
				     "%zu bytes", maxlen);
	}
	return RC_OK;
}

static rc_t check_host_type(const struct vctx *v, json_t *arr, size_t i)
{
	static const char *const keys[] = {"name", "goos", "goarch", "labels",
					   "expected", "owner", NULL};
	json_t *h = json_array_get(arr, i), *x;
	const char *f[] = {"goos", "goarch"};
	char p[PATH_MAX_LEN];
	rc_t rc;

	if ((rc = check_entry(v, arr, i, "host_types", keys)))
		return rc;
	for (int k = 0; k < 2; k++) {
		snprintf(p, sizeof p, "host_types[%zu].%s", i, f[k]);
		if (!word_ok(json_string_value(json_object_get(h, f[k])), 32,
			     LOWER_DIGITS))
			return vfail(v, p, "want lower-case letters and digits "
				     "(such as %s)", k ? "amd64" : "linux");
	}
	snprintf(p, sizeof p, "host_types[%zu].labels", i);
	if ((x = json_object_get(h, "labels")) &&
	    (rc = check_strings(v, x, p, REQUEST_MAX_LABELS, 64)))
		return rc;
	snprintf(p, sizeof p, "host_types[%zu].expected", i);
	x = json_object_get(h, "expected");
	if (x && (!json_is_integer(x) || json_integer_value(x) < 0 ||
		  json_integer_value(x) > CONFIG_MAX_EXPECTED))
		return vfail(v, p, "want a whole number of machines from 0 to %d",
			     CONFIG_MAX_EXPECTED);
	snprintf(p, sizeof p, "host_types[%zu].owner", i);
	x = json_object_get(h, "owner");
	if (x && !json_is_string(x))
		return vfail(v, p, "want a string (who to call about these machines)");
	return RC_OK;
}

/* The request a builder stands for (see config_expand_request). */
static json_t *builder_request(json_t *host_type, json_t *b)
{
	static const char *const copy[] = {"script", "command", "env", "timeout",
					   "idle_timeout", "artifacts"};
	json_t *req = json_object();
	char plat[80];

	snprintf(plat, sizeof plat, "%s/%s",
		 json_string_value(json_object_get(host_type, "goos")),
		 json_string_value(json_object_get(host_type, "goarch")));
	json_object_set_new(req, "platforms", json_pack("[s]", plat));
	for (size_t k = 0; k < sizeof copy / sizeof copy[0]; k++)
		if (json_object_get(b, copy[k]))
			json_object_set(req, copy[k], json_object_get(b, copy[k]));
	if (json_object_get(host_type, "labels"))
		json_object_set(req, "labels", json_object_get(host_type, "labels"));
	/* A buildlet started with --host-type T serves the builders of T,
	 * and only those. */
	json_object_set(req, "host_type", json_object_get(host_type, "name"));
	return req;
}

/* Which key of a builder a request_parse_build error code is about. */
static const char *key_of_code(json_t *b, const char *code)
{
	static const struct {
		const char *code, *key;
	} map[] = {{"bad_env", "env"}, {"bad_artifact", "artifacts"},
		   {"bad_timeout", "timeout"}, {"bad_label", "labels"},
		   {"bad_host_type", "host_type"}};

	for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
		if (!strcmp(code, map[k].code))
			return map[k].key;
	if (strstr(code, "command") && json_object_get(b, "script"))
		return "script";
	if (strstr(code, "command") && json_object_get(b, "command"))
		return "command";
	return "";
}

/* Whatever request_parse_build would refuse in a build of b. */
static rc_t check_builder_request(const struct vctx *v, json_t *ht, json_t *b,
				  size_t i)
{
	json_t *req = builder_request(ht, b), *spec = NULL;
	char *text = json_dumps(req, JSON_COMPACT);
	struct request_error re;
	char p[PATH_MAX_LEN];
	rc_t rc = request_parse_build(text, strlen(text), &spec, &re);
	const char *key = rc ? key_of_code(b, re.code) : "";

	free(text);
	json_decref(req);
	json_decref(spec);
	if (!rc)
		return RC_OK;
	if (!strcmp(key, "labels"))
		snprintf(p, sizeof p, "builders[%zu].host_type", i);
	else
		snprintf(p, sizeof p, "builders[%zu]%s%s", i, *key ? "." : "", key);
	return vfail(v, p, "%s", re.message);
}

static rc_t check_builder(const struct vctx *v, json_t *root, size_t i)
{
	static const char *const keys[] = {"name", "host_type", "script",
					   "command", "env", "timeout",
					   "idle_timeout", "artifacts", NULL};
	json_t *arr = json_object_get(root, "builders"), *b = json_array_get(arr, i);
	const char *ht;
	char p[PATH_MAX_LEN];
	json_t *h = NULL, *e;
	size_t k;
	rc_t rc;

	if ((rc = check_entry(v, arr, i, "builders", keys)))
		return rc;
	snprintf(p, sizeof p, "builders[%zu].host_type", i);
	ht = json_string_value(json_object_get(b, "host_type"));
	json_array_foreach(json_object_get(root, "host_types"), k, e)
		if (ht && !strcmp(ht, json_string_value(json_object_get(e, "name"))))
			h = e;
	if (!ht)
		return vfail(v, p, "want the name of one of host_types");
	if (!h)
		return vfail(v, p, "no host type \"%.64s\" in host_types", ht);
	return check_builder_request(v, h, b, i);
}

/* poll: a duration from 1 s to a day; default 60 s. */
static rc_t check_poll(const struct vctx *v, json_t *r, size_t i)
{
	json_t *x = json_object_get(r, "poll");
	int64_t ms = 0;
	char p[PATH_MAX_LEN];

	if (!x)
		return RC_OK;
	if (json_is_string(x))
		ms = clock_parse_duration_ms(json_string_value(x));
	else if (json_is_integer(x))
		ms = json_integer_value(x) * 1000;
	snprintf(p, sizeof p, "repos[%zu].poll", i);
	if (ms < 1000 || ms > 86400000)
		return vfail(v, p, "want a duration from 1s to 24h, such as \"30s\"");
	return RC_OK;
}

static rc_t check_repo_builders(const struct vctx *v, json_t *root, json_t *r,
				size_t i)
{
	json_t *a = json_object_get(r, "builders"), *e;
	char p[PATH_MAX_LEN];
	size_t k;
	rc_t rc;

	snprintf(p, sizeof p, "repos[%zu].builders", i);
	if (!a)
		return RC_OK;
	if ((rc = check_strings(v, a, p, CONFIG_MAX_ENTRIES, 64)))
		return rc;
	json_array_foreach(a, k, e) {
		const char *name = json_string_value(e);
		size_t j;
		json_t *b;

		json_array_foreach(json_object_get(root, "builders"), j, b)
			if (!strcmp(name, json_string_value(json_object_get(b, "name"))))
				break;
		snprintf(p, sizeof p, "repos[%zu].builders[%zu]", i, k);
		if (j == json_array_size(json_object_get(root, "builders")))
			return vfail(v, p, "no builder \"%.64s\" in builders", name);
	}
	return RC_OK;
}

/* A branch name git would take in a refspec: none of the characters
 * git-check-ref-format refuses, no "..", no leading '-' or '/'. */
static int branch_ok(const char *b)
{
	size_t len = strlen(b);

	if (!len || b[0] == '-' || b[0] == '/' || b[len - 1] == '/' ||
	    b[len - 1] == '.' || strstr(b, "..") || strstr(b, "//") ||
	    strstr(b, "@{") || (len >= 5 && !strcmp(b + len - 5, ".lock")))
		return 0;
	for (; *b; b++)
		if ((unsigned char)*b <= ' ' || *b == 0x7f || strchr("~^:?*[\\", *b))
			return 0;
	return 1;
}

static rc_t check_branches(const struct vctx *v, json_t *a, const char *path)
{
	char p[PATH_MAX_LEN + 24];
	json_t *e;
	size_t k;
	rc_t rc;

	if ((rc = check_strings(v, a, path, CONFIG_MAX_ENTRIES, 255)))
		return rc;
	json_array_foreach(a, k, e) {
		snprintf(p, sizeof p, "%s[%zu]", path, k);
		if (!branch_ok(json_string_value(e)))
			return vfail(v, p, "\"%.64s\" is not a branch name git "
				     "takes", json_string_value(e));
	}
	return RC_OK;
}

static rc_t check_repo(const struct vctx *v, json_t *root, size_t i)
{
	static const char *const keys[] = {"url", "branches", "builders", "poll",
					   NULL};
	json_t *arr = json_object_get(root, "repos"), *r = json_array_get(arr, i), *x;
	char p[PATH_MAX_LEN];
	const char *url;
	rc_t rc;

	snprintf(p, sizeof p, "repos[%zu]", i);
	if (!json_is_object(r))
		return vfail(v, p, "want an object");
	if ((rc = check_keys(v, r, p, keys)))
		return rc;
	snprintf(p, sizeof p, "repos[%zu].url", i);
	url = json_string_value(json_object_get(r, "url"));
	if (!url || strlen(url) > 1024 || !request_valid_git_url(url))
		return vfail(v, p, "want an https://, http://, git://, ssh:// or "
			     "file:// URL without spaces");
	for (size_t k = 0; k < i; k++)
		if (!strcmp(url, json_string_value(json_object_get(
					 json_array_get(arr, k), "url"))))
			return vfail(v, p, "%s is also repos[%zu].url", url, k);
	snprintf(p, sizeof p, "repos[%zu].branches", i);
	if ((x = json_object_get(r, "branches")) &&
	    (rc = check_branches(v, x, p)))
		return rc;
	if ((rc = check_repo_builders(v, root, r, i)))
		return rc;
	return check_poll(v, r, i);
}

static rc_t check_arrays(const struct vctx *v, json_t *root)
{
	static const char *const keys[] = {"host_types", "builders", "repos", NULL};
	rc_t rc;

	if (!json_is_object(root))
		return vfail(v, "", "a config is a JSON object with host_types, "
			     "builders and repos");
	if ((rc = check_keys(v, root, "", keys)))
		return rc;
	for (int k = 0; keys[k]; k++) {
		json_t *a = json_object_get(root, keys[k]);

		if (!a)
			json_object_set_new(root, keys[k], json_array());
		else if (!json_is_array(a) || json_array_size(a) > CONFIG_MAX_ENTRIES)
			return vfail(v, keys[k], "want an array of at most %d "
				     "objects", CONFIG_MAX_ENTRIES);
	}
	return RC_OK;
}

static rc_t validate(const struct vctx *v, json_t *root)
{
	rc_t rc = check_arrays(v, root);
	size_t i;

	for (i = 0; !rc && i < json_array_size(json_object_get(root, "host_types")); i++)
		rc = check_host_type(v, json_object_get(root, "host_types"), i);
	for (i = 0; !rc && i < json_array_size(json_object_get(root, "builders")); i++)
		rc = check_builder(v, root, i);
	for (i = 0; !rc && i < json_array_size(json_object_get(root, "repos")); i++)
		rc = check_repo(v, root, i);
	return rc;
}

rc_t config_parse(const char *text, size_t len, const char *file,
		  struct config **out, struct config_error *err)
{
	struct vctx v = {text, len, file, err};
	json_error_t je;
	json_t *root;
	int depth = request_json_depth(text, len);

	*out = NULL;
	if (depth > CONFIG_MAX_DEPTH)
		return vfail(&v, "", "JSON nests %d levels deep; the limit is %d",
			     depth, CONFIG_MAX_DEPTH);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err->msg, sizeof err->msg, "%s:%d:%d: %s", file, je.line,
			 je.column, je.text);
		return RC_INVALID;
	}
	if (validate(&v, root)) {
		json_decref(root);
		return RC_INVALID;
	}
	*out = xcalloc(1, sizeof **out);
	(*out)->root = root;
	(*out)->file = xstrdup(file);
	return RC_OK;
}

rc_t config_load(const char *path, struct config **out,
		 struct config_error *err)
{
	struct errbuf eb = {""};
	char *text;
	size_t len;
	rc_t rc;

	*out = NULL;
	if ((rc = fs_read_all(path, CONFIG_MAX_BYTES, &text, &len, &eb))) {
		snprintf(err->msg, sizeof err->msg, "%s: %s", path,
			 eb.msg[0] ? eb.msg : rc_str(rc));
		return rc;
	}
	rc = config_parse(text, len, path, out, err);
	free(text);
	return rc;
}

void config_free(struct config **cp)
{
	if (!*cp)
		return;
	json_decref((*cp)->root);
	free((*cp)->file);
	free(*cp);
	*cp = NULL;
}

json_t *config_host_types(const struct config *c)
{
	return json_object_get(c->root, "host_types");
}

json_t *config_builders(const struct config *c)
{
	return json_object_get(c->root, "builders");
}

json_t *config_repos(const struct config *c)
{
	return json_object_get(c->root, "repos");
}

static json_t *by_name(json_t *arr, const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e)
		if (!strcmp(name, json_string_value(json_object_get(e, "name"))))
			return e;
	return NULL;
}

json_t *config_host_type(const struct config *c, const char *name)
{
	return by_name(config_host_types(c), name);
}

json_t *config_builder(const struct config *c, const char *name)
{
	return by_name(config_builders(c), name);
}

rc_t config_expand_request(const struct config *c, json_t *in, json_t **out,
			   struct request_error *err)
{
	static const char *const pass[] = {"source", "priority", "no_cache",
					   "idle_timeout", NULL};
	json_t *bv = json_object_get(in, "builder"), *b, *v;
	const char *name = json_string_value(bv), *k;

	*out = NULL;
	if (!bv)
		return RC_OK;
	if (!name)
		return request_fail(err, "bad_builder", "\"builder\" must be a string");
	json_object_foreach(in, k, v) {
		size_t i;

		for (i = 0; pass[i] && strcmp(k, pass[i]); i++)
			;
		if (!pass[i] && strcmp(k, "builder"))
			return request_fail(err, "unknown_field", "\"%.64s\" cannot go with "
				     "\"builder\": the builder's config says what "
				     "to run (only source, priority, no_cache and "
				     "idle_timeout may be added)", k);
	}
	b = c ? config_builder(c, name) : NULL;
	if (!b)
		return request_fail(err, "unknown_builder", "no builder \"%.64s\" in the "
			     "coordinator's config (GET /api/v1/config lists them)",
			     name);
	*out = builder_request(config_host_type(c, json_string_value(
				       json_object_get(b, "host_type"))), b);
	for (size_t i = 0; pass[i]; i++)
		if (json_object_get(in, pass[i]))
			json_object_set(*out, pass[i], json_object_get(in, pass[i]));
	return RC_OK;
}
