/*
 * creds.c - base credentials: environment, shared-credentials file, IMDSv2
 * with a root-only cache (see creds.h).
 *
 * The INI reader is a small bounded line parser (the format is too simple
 * for a library and too loose to accept whatever a library accepts); the
 * IMDS JSON goes through jansson, IMDS itself is asked through the HTTP
 * unit (unsigned, plain http, one time limit for the three calls).
 * Secrets pass through jansson strings and our own buffers; both are wiped
 * before release.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "iamgate/creds.h"
#include "iamgate/http.h"
#include "iamgate/timefmt.h"
#include "iamgate/util.h"

#define MAX_TOKEN 8192
#define MAX_LINE 16384
#define MAX_IMDS_BODY IG_CREDS_JSON_MAX
#define MAX_IMDS_TOKEN 1024

extern char **environ;

static int64_t clock_now(const struct ig_creds_config *cfg)
{
	return cfg->now ? cfg->now(cfg->now_arg) : (int64_t)time(NULL);
}

static void creds_wipe(struct ig_aws_creds *c)
{
	c->session_token = NULL;
	explicit_bzero(c, sizeof(*c));
}

/* Copy a validated secret value into the creds; session token malloc'd. */
static int creds_set(struct ig_aws_creds *c, const char *id, const char *secret, const char *token)
{
	if (!ig_aws_creds_key_id_ok(id) || !ig_aws_creds_secret_ok(secret, 128) ||
	    (token != NULL && !ig_aws_creds_secret_ok(token, MAX_TOKEN)))
		return IG_ERR_PARSE;
	memcpy(c->access_key_id, id, strlen(id) + 1);
	memcpy(c->secret_access_key, secret, strlen(secret) + 1);
	if (token != NULL && (c->session_token = strdup(token)) == NULL)
		return IG_ERR_NOMEM;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Shared-credentials file                                             */

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim blanks on both ends of [*s, *e). */
static void trim(const char **s, const char **e)
{
	while (*s < *e && is_blank(**s))
		(*s)++;
	while (*e > *s && is_blank((*e)[-1]))
		(*e)--;
}

static int key_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(k, want, n) == 0;
}

/* A copied value slot: wiped and freed by the caller. */
struct ini_val {
	char *v;
	size_t cap;
};

static int ini_take(struct ini_val *slot, const char *v, size_t n)
{
	if (slot->v != NULL)
		return IG_ERR_PARSE; /* repeated key */
	if ((slot->v = malloc(n + 1)) == NULL)
		return IG_ERR_NOMEM;
	slot->cap = n + 1;
	memcpy(slot->v, v, n);
	slot->v[n] = '\0';
	return 0;
}

/* The reader's state: where we are and what the target profile holds. */
struct ini {
	const char *profile;
	struct ini_val id, secret, token;
	int in_target, seen_target, in_any;
};

/* "[name]" (trimmed): which section the following keys belong to. */
static int ini_section(struct ini *st, const char *s, const char *e)
{
	const char *ns = s + 1, *ne = e - 1;

	if (e - s < 3 || *ne != ']' || memchr(ns, ']', (size_t)(ne - ns)) ||
	    memchr(ns, '[', (size_t)(ne - ns)))
		return IG_ERR_PARSE;
	trim(&ns, &ne);
	if (ns == ne)
		return IG_ERR_PARSE;
	st->in_any = 1;
	st->in_target = strlen(st->profile) == (size_t)(ne - ns) &&
	                memcmp(ns, st->profile, (size_t)(ne - ns)) == 0;
	if (st->in_target && st->seen_target++)
		return IG_ERR_PARSE; /* ambiguous: which one did the admin mean? */
	return 0;
}

/* "key = value" (trimmed) inside a section. */
static int ini_pair(struct ini *st, const char *s, const char *e)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));
	const char *ks = s, *ke = eq, *vs, *ve = e;
	size_t kn;

	if (!st->in_any || eq == NULL)
		return IG_ERR_PARSE;
	vs = eq + 1;
	trim(&ks, &ke);
	trim(&vs, &ve);
	if (ks == ke)
		return IG_ERR_PARSE;
	for (const char *k = ks; k < ke; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_'))
			return IG_ERR_PARSE;
	kn = (size_t)(ke - ks);
	if (!st->in_target)
		return 0;
	if (key_is(ks, kn, "aws_access_key_id"))
		return ini_take(&st->id, vs, (size_t)(ve - vs));
	if (key_is(ks, kn, "aws_secret_access_key"))
		return ini_take(&st->secret, vs, (size_t)(ve - vs));
	if (key_is(ks, kn, "aws_session_token"))
		return ini_take(&st->token, vs, (size_t)(ve - vs));
	return 0; /* region, output, ...: not ours */
}

/* One line, without its newline. */
static int ini_line(struct ini *st, const char *s, const char *e)
{
	if (e > s && e[-1] == '\r')
		e--;
	if ((size_t)(e - s) > MAX_LINE)
		return IG_ERR_PARSE;
	if (s < e && is_blank(*s)) {
		/* configparser would take this as a continuation line: refuse
		 * rather than guess, unless it is blank. */
		trim(&s, &e);
		return s == e ? 0 : IG_ERR_PARSE;
	}
	trim(&s, &e);
	if (s == e || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return ini_section(st, s, e);
	return ini_pair(st, s, e);
}

int ig_creds_parse_ini(const char *text, size_t len, const char *profile, struct ig_aws_creds *out,
                       unsigned *bad_line)
{
	struct ini st = {0};
	const char *p = text, *end = text + len;
	unsigned line = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	*bad_line = 0;
	st.profile = profile != NULL ? profile : "default";
	if (text == NULL || memchr(text, '\0', len) != NULL)
		return IG_ERR_PARSE;
	while (p < end && r == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		r = ++line > 100000 ? IG_ERR_PARSE : ini_line(&st, p, e);
		p = nl ? nl + 1 : end;
	}
	if (r == 0)
		line = 0; /* what follows is about values, not a line */
	if (r == 0 && (!st.seen_target || st.id.v == NULL || st.secret.v == NULL))
		r = IG_ERR_NOTFOUND;
	if (r == 0)
		r = creds_set(out, st.id.v, st.secret.v, st.token.v);
	if (r != 0) {
		*bad_line = r == IG_ERR_PARSE ? line : 0;
		ig_aws_creds_clear(out);
		creds_wipe(out);
	}
	ig_freezero(st.id.v, st.id.cap);
	ig_freezero(st.secret.v, st.secret.cap);
	ig_freezero(st.token.v, st.token.cap);
	return r;
}

/* ------------------------------------------------------------------ */
/* IMDS JSON                                                           */

/* jansson frees without wiping: overwrite a secret string in place first. */
static void json_wipe_str(json_t *v)
{
	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
}

static const char *json_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL; /* absent, not a string, or with an embedded NUL */
	return json_string_value(v);
}

int ig_creds_parse_imds_json(const char *json, size_t len, struct ig_aws_creds *out)
{
	json_error_t jerr;
	json_t *root = NULL;
	const char *code, *type, *id, *secret, *token, *exp;
	int64_t when;
	int r = IG_ERR_PARSE;

	memset(out, 0, sizeof(*out));
	if (json == NULL || len == 0 || len > IG_CREDS_JSON_MAX)
		return IG_ERR_PARSE;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root))
		goto out;
	code = json_str(root, "Code");
	type = json_str(root, "Type");
	if (code == NULL || (json_object_get(root, "Type") != NULL && type == NULL))
		goto out;
	if (strcmp(code, "Success") != 0) {
		r = IG_ERR_AWS;
		goto out;
	}
	if (type != NULL && strcmp(type, "AWS-HMAC") != 0)
		goto out;
	id = json_str(root, "AccessKeyId");
	secret = json_str(root, "SecretAccessKey");
	token = json_str(root, "Token");
	exp = json_str(root, "Expiration");
	if (id == NULL || secret == NULL || token == NULL || exp == NULL ||
	    ig_timefmt_parse_utc(exp, &when) != 0)
		goto out;
	if ((r = creds_set(out, id, secret, token)) != 0)
		goto out;
	out->expiration = when;
	r = 0;
out:
	if (r != 0) {
		ig_aws_creds_clear(out);
		creds_wipe(out);
	}
	if (root != NULL) {
		json_wipe_str(json_object_get(root, "SecretAccessKey"));
		json_wipe_str(json_object_get(root, "Token"));
		json_decref(root);
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* IMDS over HTTP                                                      */

/* The three IMDSv2 calls share one time limit and one unsigned config. */
struct imds {
	struct ig_http_config hc;
	int64_t deadline; /* monotonic ms */
};

/*
 * One IMDS request in the time that remains.  0 with resp->status (the
 * body in resp when it is 200), or IG_ERR_TIMEOUT, IG_ERR_NET, IG_ERR_RANGE
 * (body too big), IG_ERR_NOMEM, IG_ERR_INTERNAL.  hdr (one header, holding
 * the IMDS token after the first call) is wiped by the HTTP unit's copy;
 * the caller wipes its own.
 */
static int imds_call(struct imds *m, const char *method, const char *path,
                     const struct ig_http_header *hdr, struct ig_http_response *resp)
{
	struct ig_http_request q = {method, path, NULL, hdr, 1, NULL, 0};
	int64_t left = m->deadline - ig_mono_ms();
	int r;

	ig_http_response_clear(resp);
	if (left <= 0)
		return IG_ERR_TIMEOUT;
	m->hc.timeout_ms = m->hc.attempt_timeout_ms = (unsigned)left;
	r = ig_http_send(&m->hc, NULL, &q, resp); /* resp->reason says more */
	switch (resp->reason) {
	case IG_R_OK:
	case IG_R_HTTP_ERROR:
	case IG_R_HTTP_5XX:
	case IG_R_HTTP_REDIRECT: return 0; /* an answer: its status decides */
	case IG_R_TIMEOUT: return IG_ERR_TIMEOUT;
	case IG_R_RESPONSE_TOO_LARGE: return IG_ERR_RANGE;
	case IG_R_INTERNAL_ERROR: return r;
	default: return IG_ERR_NET;
	}
}

/* IMDS tokens are opaque base64-ish text. */
static int imds_token_ok(const char *s, size_t n)
{
	if (n == 0 || n > MAX_IMDS_TOKEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '=' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* IAM role names: 1..64 of [\w+=,.@-]. */
static int role_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_+=,.@-", c) != NULL) ||
		    c == '\0')
			return 0;
	}
	return 1;
}

/* The reason and error of a call that got no answer. */
static int call_failed(int r, struct ig_creds_info *info)
{
	switch (r) {
	case IG_ERR_NOMEM:
	case IG_ERR_INTERNAL: info->reason = "internal"; return r;
	case IG_ERR_RANGE: info->reason = "imds_malformed"; return IG_ERR_PARSE;
	default: info->reason = "imds_unavailable"; return r;
	}
}

/* Step 1: PUT /latest/api/token into hdr ("X-aws-ec2-metadata-token: ..."). */
static int imds_token(struct imds *m, struct ig_http_response *resp, char *hdr, size_t cap,
                      struct ig_creds_info *info)
{
	struct ig_http_header ttl = {"X-aws-ec2-metadata-token-ttl-seconds", NULL};
	char secs[16];
	size_t n;
	int r;

	if ((r = ig_bfmt(secs, sizeof(secs), "%d", IG_CREDS_IMDS_TOKEN_TTL)) != 0)
		return r;
	ttl.value = secs;
	if ((r = imds_call(m, "PUT", "/latest/api/token", &ttl, resp)) != 0)
		return call_failed(r, info);
	info->reason = "imds_unavailable";
	if (resp->status != 200)
		return IG_ERR_NET;
	n = resp->body.len;
	while (n > 0 && (resp->body.p[n - 1] == '\n' || resp->body.p[n - 1] == '\r'))
		n--;
	info->reason = "imds_malformed";
	if (!imds_token_ok(resp->body.p, n) || n >= cap)
		return IG_ERR_PARSE;
	memcpy(hdr, resp->body.p, n);
	hdr[n] = '\0';
	return 0;
}

/* Step 2: the instance profile's role name (the first line). */
static int imds_role(struct imds *m, const struct ig_http_header *tok,
                     struct ig_http_response *resp, struct ig_creds_info *info)
{
	size_t n;
	int r;

	if ((r = imds_call(m, "GET", "/latest/meta-data/iam/security-credentials/", tok, resp)) !=
	    0)
		return call_failed(r, info);
	info->reason = "imds_no_role";
	if (resp->status == 404)
		return IG_ERR_NOTFOUND;
	info->reason = "imds_unavailable";
	if (resp->status != 200)
		return IG_ERR_NET;
	n = strcspn(resp->body.p, "\r\n");
	info->reason = "imds_no_role";
	if (!role_name_ok(resp->body.p, n))
		return IG_ERR_PARSE;
	memcpy(info->imds_role, resp->body.p, n);
	info->imds_role[n] = '\0';
	return 0;
}

/* Token, role name, credentials JSON: IMDSv2. */
static int imds_fetch(const struct ig_creds_config *cfg, struct ig_aws_creds *out,
                      struct ig_creds_info *info)
{
	struct imds m = {0};
	struct ig_http_response resp = {0};
	struct ig_http_header tok = {"X-aws-ec2-metadata-token", NULL};
	char token[MAX_IMDS_TOKEN + 1], path[128];
	enum ig_reason why;
	int r;

	m.hc.endpoint = cfg->imds_endpoint ? cfg->imds_endpoint : IG_CREDS_IMDS_DEFAULT;
	m.hc.proto = IG_HTTP_PLAIN;
	m.hc.plain_http = 1;
	m.hc.max_attempts = 1;
	m.hc.max_response = MAX_IMDS_BODY;
	info->reason = "invalid_config";
	if (ig_http_check(&m.hc, NULL, &why) != 0)
		return IG_ERR_INVAL;
	m.deadline = ig_mono_ms() +
	             (cfg->imds_timeout_ms ? cfg->imds_timeout_ms : IG_CREDS_IMDS_TIMEOUT_MS);
	tok.value = token;
	if ((r = imds_token(&m, &resp, token, sizeof(token), info)) != 0 ||
	    (r = imds_role(&m, &tok, &resp, info)) != 0)
		goto out;
	if ((r = ig_bfmt(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s",
	                 info->imds_role)) != 0)
		goto out;
	if ((r = imds_call(&m, "GET", path, &tok, &resp)) != 0) {
		r = call_failed(r, info);
		goto out;
	}
	r = IG_ERR_NET;
	info->reason = "imds_unavailable";
	if (resp.status != 200)
		goto out;
	r = ig_creds_parse_imds_json(resp.body.p, resp.body.len, out);
	info->reason = r == 0 ? "ok" : r == IG_ERR_AWS ? "imds_error" : "imds_malformed";
out:
	explicit_bzero(token, sizeof(token));
	ig_http_response_clear(&resp);
	return r;
}

/* Render creds as the IMDS JSON (cache format).  Values are validated
 * character sets with nothing to escape. */
static int cache_render(const struct ig_aws_creds *c, char *buf, size_t cap)
{
	struct tm tm;
	time_t t = (time_t)c->expiration;
	char when[32];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return IG_ERR_INTERNAL;
	return ig_bfmt(buf, cap,
	               "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"%s\","
	               "\"SecretAccessKey\":\"%s\",\"Token\":\"%s\",\"Expiration\":\"%s\"}\n",
	               c->access_key_id, c->secret_access_key, c->session_token, when);
}

static int load_imds(const struct ig_creds_config *cfg, struct ig_aws_creds *out,
                     struct ig_creds_info *info)
{
	char *buf = NULL;
	size_t len = 0;
	int dirfd = -1, r;
	int64_t now = clock_now(cfg);

	if (cfg->cache_dir != NULL) {
		if (ig_open_trusted_dir(cfg->cache_dir, &dirfd, info->detail,
		                        sizeof(info->detail)) != 0) {
			info->reason = "imds_cache_unusable";
			return IG_ERR_UNSAFE;
		}
		/* Anything wrong with the cache file just means: ask IMDS. */
		if (ig_read_file_at(dirfd, IG_CREDS_CACHE_NAME, IG_CREDS_JSON_MAX, 1, &buf, &len) ==
		    0) {
			if (ig_creds_parse_imds_json(buf, len, out) == 0) {
				if (out->expiration - now > IG_CREDS_REFRESH_MARGIN) {
					info->from_cache = 1;
					info->reason = "ok";
					r = 0;
					goto out;
				}
				ig_aws_creds_clear(out);
				creds_wipe(out);
			}
			ig_freezero(buf, len);
			buf = NULL;
		}
	}
	if ((r = imds_fetch(cfg, out, info)) != 0)
		goto out;
	/* Caching what would not be served from the cache is pointless. */
	if (dirfd >= 0 && out->expiration - now > IG_CREDS_REFRESH_MARGIN) {
		size_t cap = IG_CREDS_JSON_MAX;
		if ((buf = malloc(cap)) != NULL && cache_render(out, buf, cap) == 0 &&
		    ig_write_file_at(dirfd, IG_CREDS_CACHE_NAME, buf, strlen(buf), 0600, 0, 0) == 0)
			info->cache_written = 1;
		ig_freezero(buf, cap);
		buf = NULL;
	}
	r = 0;
out:
	ig_freezero(buf, len);
	if (dirfd >= 0)
		close(dirfd);
	return r;
}

/* ------------------------------------------------------------------ */
/* Environment and file                                                */

static const char *env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);

	if (env == NULL)
		env = environ;
	for (; env != NULL && *env != NULL; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static int load_env(const struct ig_creds_config *cfg, struct ig_aws_creds *out,
                    struct ig_creds_info *info)
{
	const char *id = env_get(cfg->env, "AWS_ACCESS_KEY_ID");
	const char *secret = env_get(cfg->env, "AWS_SECRET_ACCESS_KEY");
	const char *token = env_get(cfg->env, "AWS_SESSION_TOKEN");
	int r;

	if (id == NULL || secret == NULL || id[0] == '\0' || secret[0] == '\0') {
		info->reason = "base_credentials_missing";
		return IG_ERR_NOTFOUND;
	}
	if (token != NULL && token[0] == '\0')
		token = NULL;
	if ((r = creds_set(out, id, secret, token)) != 0) {
		info->reason = r == IG_ERR_NOMEM ? "internal" : "base_credentials_malformed";
		return r;
	}
	info->reason = "ok";
	return 0;
}

static int load_file(const struct ig_creds_config *cfg, struct ig_aws_creds *out,
                     struct ig_creds_info *info)
{
	char dir[4096];
	const char *base;
	char *buf = NULL;
	size_t len = 0;
	unsigned line;
	int dirfd = -1, r;

	info->reason = "invalid_config";
	if (cfg->file == NULL || cfg->file[0] != '/' ||
	    ig_bfmt(dir, sizeof(dir), "%s", cfg->file) != 0)
		return IG_ERR_INVAL;
	base = strrchr(cfg->file, '/') + 1;
	if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return IG_ERR_INVAL;
	dir[base - cfg->file > 1 ? base - cfg->file - 1 : 1] = '\0';
	if ((r = ig_open_trusted_dir(dir, &dirfd, info->detail, sizeof(info->detail))) != 0) {
		info->reason = r == IG_ERR_NOTFOUND ? "credentials_file_missing"
		                                    : "credentials_file_unsafe";
		return r == IG_ERR_NOTFOUND ? r : IG_ERR_UNSAFE;
	}
	r = ig_read_file_at(dirfd, base, IG_CREDS_FILE_MAX, 1, &buf, &len);
	close(dirfd);
	switch (r) {
	case 0: break;
	case IG_ERR_NOTFOUND: info->reason = "credentials_file_missing"; return r;
	case IG_ERR_UNSAFE:
		info->reason = "credentials_file_unsafe";
		if (ig_bfmt(info->detail, sizeof(info->detail),
		            "%s must be a root-owned regular file (one link, no symlink) with mode "
		            "0600 or 0400; fix: chown root %s && chmod 0600 %s",
		            cfg->file, cfg->file, cfg->file) != 0)
			info->detail[0] = '\0';
		return r;
	default: info->reason = "credentials_file_unreadable"; return r;
	}
	r = ig_creds_parse_ini(buf, len, cfg->profile, out, &line);
	ig_freezero(buf, len);
	switch (r) {
	case 0: info->reason = "ok"; break;
	case IG_ERR_NOTFOUND: info->reason = "base_credentials_missing"; break;
	case IG_ERR_NOMEM: info->reason = "internal"; break;
	default: info->reason = "credentials_file_malformed"; break;
	}
	return r;
}

int ig_creds_load(const struct ig_creds_config *cfg, struct ig_aws_creds *out,
                  struct ig_creds_info *info)
{
	int r;

	memset(out, 0, sizeof(*out));
	memset(info, 0, sizeof(*info));
	info->reason = "invalid_config";
	if (cfg == NULL)
		return IG_ERR_INVAL;
	switch (cfg->source) {
	case IG_CREDS_SRC_ENV: r = load_env(cfg, out, info); break;
	case IG_CREDS_SRC_FILE: r = load_file(cfg, out, info); break;
	case IG_CREDS_SRC_IMDS: r = load_imds(cfg, out, info); break;
	default: return IG_ERR_INVAL;
	}
	if (r == 0 && out->expiration != 0 &&
	    out->expiration <= clock_now(cfg) + IG_AWS_CREDS_EXPIRY_MARGIN) {
		info->reason = "base_credentials_expired";
		r = IG_ERR_INVAL;
	}
	if (r != 0) {
		ig_aws_creds_clear(out);
		creds_wipe(out);
	}
	return r;
}
