/*
 * creds.c - base credentials: environment, shared-credentials file, IMDSv2
 * with a root-only cache (see creds.h).
 *
 * The INI reader is a small bounded line parser (the format is too simple
 * for a library and too loose to accept whatever a library accepts); the
 * IMDS JSON goes through jansson.  Secrets pass through jansson strings and
 * our own buffers; both are wiped before release.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
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

int ig_creds_parse_ini(const char *text, size_t len, const char *profile, struct ig_aws_creds *out,
                       unsigned *bad_line)
{
	struct ini_val id = {0}, secret = {0}, token = {0};
	const char *p = text, *end = text + len;
	unsigned line = 0;
	int in_target = 0, seen_target = 0, in_any = 0, r = 0;

	memset(out, 0, sizeof(*out));
	*bad_line = 0;
	if (profile == NULL)
		profile = "default";
	if (text == NULL || memchr(text, '\0', len) != NULL)
		return IG_ERR_PARSE;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *s = p, *e = nl ? nl : end;
		const char *eq;

		p = nl ? nl + 1 : end;
		line++;
		r = IG_ERR_PARSE;
		if (e > s && e[-1] == '\r')
			e--;
		if ((size_t)(e - s) > MAX_LINE || line > 100000)
			goto fail;
		if (s < e && is_blank(*s)) {
			/* configparser would take this as a continuation line: refuse
			 * rather than guess, unless it is blank. */
			trim(&s, &e);
			if (s == e)
				continue;
			goto fail;
		}
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			const char *ns = s + 1, *ne = e - 1;
			if (e - s < 3 || *ne != ']' || memchr(ns, ']', (size_t)(ne - ns)) ||
			    memchr(ns, '[', (size_t)(ne - ns)))
				goto fail;
			trim(&ns, &ne);
			if (ns == ne)
				goto fail;
			in_any = 1;
			in_target = strlen(profile) == (size_t)(ne - ns) &&
			            memcmp(ns, profile, (size_t)(ne - ns)) == 0;
			if (in_target && seen_target++)
				goto fail; /* ambiguous: which one did the admin mean? */
			continue;
		}
		if (!in_any || (eq = memchr(s, '=', (size_t)(e - s))) == NULL)
			goto fail;
		{
			const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
			trim(&ks, &ke);
			trim(&vs, &ve);
			if (ks == ke)
				goto fail;
			for (const char *k = ks; k < ke; k++)
				if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
				      (*k >= '0' && *k <= '9') || *k == '_'))
					goto fail;
			if (!in_target)
				continue;
			if (key_is(ks, (size_t)(ke - ks), "aws_access_key_id"))
				r = ini_take(&id, vs, (size_t)(ve - vs));
			else if (key_is(ks, (size_t)(ke - ks), "aws_secret_access_key"))
				r = ini_take(&secret, vs, (size_t)(ve - vs));
			else if (key_is(ks, (size_t)(ke - ks), "aws_session_token"))
				r = ini_take(&token, vs, (size_t)(ve - vs));
			else
				r = 0; /* region, output, ...: not ours */
			if (r != 0)
				goto fail;
		}
	}
	line = 0;
	r = IG_ERR_NOTFOUND;
	if (!seen_target || id.v == NULL || secret.v == NULL)
		goto fail;
	if ((r = creds_set(out, id.v, secret.v, token.v)) != 0)
		goto fail;
	r = 0;
	goto out;
fail:
	*bad_line = r == IG_ERR_PARSE ? line : 0;
	ig_aws_creds_clear(out);
	creds_wipe(out);
out:
	ig_freezero(id.v, id.cap);
	ig_freezero(secret.v, secret.cap);
	ig_freezero(token.v, token.cap);
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

struct body {
	char *p;
	size_t len, cap;
	int too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (n >= b->cap - b->len) {
		b->too_big = 1;
		return 0;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

struct imds {
	char base[256]; /* http://host[:port] */
	int64_t deadline;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define SETOPT(h, o, v)                                                                            \
	do {                                                                                       \
		if (curl_easy_setopt((h), (o), (v)) != CURLE_OK)                                   \
			goto out;                                                                  \
	} while (0)

/*
 * One IMDS request.  hdr is one extra header line (holds the IMDS token, so
 * it is wiped).  Returns 0 with *status and the body, IG_ERR_TIMEOUT,
 * IG_ERR_NET, IG_ERR_RANGE (body too big).
 */
static int imds_call(const struct imds *m, const char *method, const char *path, const char *hdr,
                     struct body *b, long *status)
{
	struct curl_slist *hl = NULL, *t;
	char url[512];
	CURL *h = NULL;
	CURLcode cc;
	long left = (long)(m->deadline - mono_ms());
	int r = IG_ERR_INTERNAL;

	*status = 0;
	b->len = 0;
	b->too_big = 0;
	b->p[0] = '\0';
	if (left <= 0)
		return IG_ERR_TIMEOUT;
	if (ig_bfmt(url, sizeof(url), "%s%s", m->base, path) != 0)
		return IG_ERR_INVAL;
	if ((t = curl_slist_append(hl, hdr)) == NULL)
		return IG_ERR_NOMEM;
	hl = t;
	if ((t = curl_slist_append(hl, "Content-Type:")) == NULL) {
		r = IG_ERR_NOMEM;
		goto out;
	}
	hl = t;
	if ((h = curl_easy_init()) == NULL)
		goto out;
	SETOPT(h, CURLOPT_URL, url);
	SETOPT(h, CURLOPT_PROTOCOLS_STR, "http");
	SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "http");
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(h, CURLOPT_PROXY, "");
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_TIMEOUT_MS, left);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, left);
	SETOPT(h, CURLOPT_HTTPHEADER, hl);
	SETOPT(h, CURLOPT_USERAGENT, "iamgate");
	SETOPT(h, CURLOPT_MAXFILESIZE, (long)(b->cap - 1));
	SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(h, CURLOPT_WRITEDATA, b);
	if (strcmp(method, "PUT") == 0) {
		SETOPT(h, CURLOPT_CUSTOMREQUEST, "PUT");
		SETOPT(h, CURLOPT_POSTFIELDS, "");
		SETOPT(h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	cc = curl_easy_perform(h);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		r = IG_ERR_TIMEOUT;
	else if (b->too_big || cc == CURLE_FILESIZE_EXCEEDED)
		r = IG_ERR_RANGE;
	else if (cc != CURLE_OK)
		r = IG_ERR_NET;
	else
		r = curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status) == CURLE_OK ? 0
		                                                                     : IG_ERR_NET;
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	for (t = hl; t != NULL; t = t->next)
		explicit_bzero(t->data, strlen(t->data));
	curl_slist_free_all(hl);
	return r;
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

static const char *net_reason(int r)
{
	switch (r) {
	case IG_ERR_NOMEM:
	case IG_ERR_INTERNAL: return "internal";
	case IG_ERR_RANGE: return "imds_malformed";
	default: return "imds_unavailable";
	}
}

static int net_err(int r)
{
	return r == IG_ERR_RANGE ? IG_ERR_PARSE : r;
}

/* Token, role name, credentials JSON: IMDSv2. */
static int imds_fetch(const struct ig_creds_config *cfg, struct ig_aws_creds *out,
                      struct ig_creds_info *info)
{
	struct imds m;
	struct body b = {0};
	char hdr[MAX_IMDS_TOKEN + 64], path[128], host[300];
	size_t n;
	long st;
	int r;

	info->reason = "invalid_config";
	if (ig_http_base_url(cfg->imds_endpoint ? cfg->imds_endpoint : IG_CREDS_IMDS_DEFAULT,
	                     "http", m.base, sizeof(m.base), host, sizeof(host)) != 0)
		return IG_ERR_INVAL;
	info->reason = "internal";
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return IG_ERR_INTERNAL;
	if ((b.p = malloc(MAX_IMDS_BODY + 1)) == NULL)
		return IG_ERR_NOMEM;
	b.cap = MAX_IMDS_BODY + 1;
	m.deadline = mono_ms() +
	             (cfg->imds_timeout_ms ? cfg->imds_timeout_ms : IG_CREDS_IMDS_TIMEOUT_MS);

	if ((r = ig_bfmt(hdr, sizeof(hdr), "X-aws-ec2-metadata-token-ttl-seconds: %d",
	                 IG_CREDS_IMDS_TOKEN_TTL)) != 0 ||
	    (r = imds_call(&m, "PUT", "/latest/api/token", hdr, &b, &st)) != 0) {
		info->reason = net_reason(r);
		r = net_err(r);
		goto out;
	}
	r = IG_ERR_NET;
	info->reason = "imds_unavailable";
	if (st != 200)
		goto out;
	n = b.len;
	while (n > 0 && (b.p[n - 1] == '\n' || b.p[n - 1] == '\r'))
		n--;
	r = IG_ERR_PARSE;
	info->reason = "imds_malformed";
	if (!imds_token_ok(b.p, n))
		goto out;
	b.p[n] = '\0';
	if ((r = ig_bfmt(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", b.p)) != 0)
		goto out;

	if ((r = imds_call(&m, "GET", "/latest/meta-data/iam/security-credentials/", hdr, &b,
	                   &st)) != 0) {
		info->reason = net_reason(r);
		r = net_err(r);
		goto out;
	}
	if (st == 404) {
		r = IG_ERR_NOTFOUND;
		info->reason = "imds_no_role";
		goto out;
	}
	r = IG_ERR_NET;
	info->reason = "imds_unavailable";
	if (st != 200)
		goto out;
	/* One role per instance profile: the first line. */
	n = strcspn(b.p, "\r\n");
	r = IG_ERR_PARSE;
	info->reason = "imds_no_role";
	if (!role_name_ok(b.p, n))
		goto out;
	memcpy(info->imds_role, b.p, n);
	info->imds_role[n] = '\0';
	if ((r = ig_bfmt(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s",
	                 info->imds_role)) != 0)
		goto out;

	if ((r = imds_call(&m, "GET", path, hdr, &b, &st)) != 0) {
		info->reason = net_reason(r);
		r = net_err(r);
		goto out;
	}
	r = IG_ERR_NET;
	info->reason = "imds_unavailable";
	if (st != 200)
		goto out;
	r = ig_creds_parse_imds_json(b.p, b.len, out);
	info->reason = r == 0 ? "ok" : r == IG_ERR_AWS ? "imds_error" : "imds_malformed";
out:
	explicit_bzero(hdr, sizeof(hdr));
	ig_freezero(b.p, b.cap);
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
