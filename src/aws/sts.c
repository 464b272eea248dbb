/*
 * sts.c - STS AssumeRole / GetCallerIdentity client (see sts.h).
 *
 * One call runs every request of every role in one curl multi handle, so k
 * roles cost about one round trip.  Each request is signed afresh for each
 * attempt (X-Amz-Date moves on).  The response body goes into a bounded
 * buffer that is wiped after parsing; the xml unit parses it with a SAX hook that
 * stops the parser at the first DOCTYPE, so no entity can be declared, let
 * alone expanded or loaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "iamgate/sts.h"
#include "iamgate/timefmt.h"
#include "iamgate/util.h"
#include "iamgate/xml.h"

#define STS_NS "https://sts.amazonaws.com/doc/2011-06-15/"
#define STS_VERSION "2011-06-15"
#define MAX_ARN 2048
#define MAX_TOKEN 8192
#define MAX_URL 512
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 2000
#define POLL_MAX_MS 200

/* ------------------------------------------------------------------ */
/* Validation                                                          */

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* 1 if s has min..max bytes, each alphanumeric or in extra. */
static int chars_ok(const char *s, size_t min, size_t max, const char *extra)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strnlen(s, max + 1);
	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!is_alnum(c) && (c == '\0' || strchr(extra, c) == NULL))
			return 0;
	}
	return 1;
}

int ig_sts_name_valid(const char *s)
{
	return chars_ok(s, 2, 64, "_+=,.@-");
}

int ig_sts_tag_valid(const char *key, const char *value)
{
	/* "aws:" keys are reserved by AWS and refused by STS. */
	if (key != NULL && strncasecmp(key, "aws:", 4) == 0)
		return 0;
	return chars_ok(key, 1, 128, " _.:/=+@-") && chars_ok(value, 0, 256, " _.:/=+@-");
}

int ig_sts_secret_chars_ok(const char *s, size_t max)
{
	return chars_ok(s, 1, max, "/+=");
}

int ig_sts_access_key_id_ok(const char *s)
{
	return chars_ok(s, 16, 128, "");
}

/* Printable ASCII without spaces, "arn:" prefix: what we accept as an ARN. */
static int arn_ok(const char *s, size_t min)
{
	size_t n;

	if (s == NULL || strncmp(s, "arn:", 4) != 0)
		return 0;
	n = strnlen(s, MAX_ARN + 1);
	if (n < min || n > MAX_ARN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

unsigned ig_sts_duration(unsigned d)
{
	if (d == 0)
		return IG_STS_DURATION_DEFAULT;
	if (d < IG_STS_DURATION_MIN)
		return IG_STS_DURATION_MIN;
	if (d > IG_STS_DURATION_MAX)
		return IG_STS_DURATION_MAX;
	return d;
}

int ig_sts_bastion_tags(const char *user, const char *source_ip, const char *host,
                        struct ig_sts_tag tags[3])
{
	tags[0].key = "bastion-user";
	tags[0].value = user;
	tags[1].key = "bastion-source-ip";
	tags[1].value = source_ip;
	tags[2].key = "bastion-host";
	tags[2].value = host;
	for (int i = 0; i < 3; i++)
		if (tags[i].value == NULL || tags[i].value[0] == '\0' ||
		    !ig_sts_tag_valid(tags[i].key, tags[i].value))
			return IG_ERR_INVAL;
	return 0;
}

int ig_sts_default_endpoint(const char *region, char *buf, size_t cap)
{
	if (!chars_ok(region, 1, 32, "-"))
		return IG_ERR_INVAL;
	for (const char *p = region; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			return IG_ERR_INVAL;
	return ig_bfmt(buf, cap, "https://sts.%s.amazonaws.com", region);
}

static int assume_req_valid(const struct ig_sts_assume_req *req)
{
	if (req == NULL || !arn_ok(req->role_arn, 20) || !ig_sts_name_valid(req->session_name))
		return 0;
	if (req->source_identity != NULL && !ig_sts_name_valid(req->source_identity))
		return 0;
	if (req->n_tags > IG_STS_MAX_TAGS || (req->n_tags > 0 && req->tags == NULL))
		return 0;
	for (size_t i = 0; i < req->n_tags; i++) {
		if (!ig_sts_tag_valid(req->tags[i].key, req->tags[i].value))
			return 0;
		/* STS refuses duplicate keys (case-insensitively); refuse them first. */
		for (size_t k = 0; k < i; k++)
			if (strcasecmp(req->tags[i].key, req->tags[k].key) == 0)
				return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* XML                                                                 */

/* STS elements: in the STS namespace or in none. */
static int child(xmlNodePtr parent, const char *local, int required, xmlNodePtr *out)
{
	return ig_xml_child(parent, STS_NS, local, required, out);
}

static int child_text(xmlNodePtr parent, const char *local, char *buf, size_t cap)
{
	return ig_xml_child_text(parent, STS_NS, local, buf, cap);
}

static int parse_root(const char *xml, size_t len, const char *local, xmlDocPtr *doc,
                      xmlNodePtr *root)
{
	int r;

	*root = NULL;
	if ((r = ig_xml_parse(xml, len, IG_STS_MAX_RESPONSE, doc)) != 0)
		return r;
	return ig_xml_root(*doc, STS_NS, local, root);
}

/* Optional ResponseMetadata/RequestId; an odd one is dropped, not fatal. */
static void request_id(xmlNodePtr root, const char *meta, char *buf, size_t cap)
{
	xmlNodePtr m = root, e;

	buf[0] = '\0';
	if (meta != NULL && (child(root, meta, 1, &m) != 0))
		return;
	if (child(m, "RequestId", 1, &e) != 0 || ig_xml_text(e, buf, cap) != 0 ||
	    !chars_ok(buf, 1, cap - 1, "-"))
		buf[0] = '\0';
}

int ig_sts_parse_assume_role(const char *xml, size_t len, int64_t now,
                             struct ig_sts_role_result *out)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, res, cr, aru, si;
	char *token = NULL, *arn = NULL, *rid = NULL;
	char when[40];
	int64_t exp = 0;
	int r;

	if ((r = parse_root(xml, len, "AssumeRoleResponse", &doc, &root)) != 0)
		goto out;
	if ((token = malloc(MAX_TOKEN + 1)) == NULL || (arn = malloc(MAX_ARN + 1)) == NULL ||
	    (rid = malloc(194)) == NULL) {
		r = IG_ERR_NOMEM;
		goto out;
	}
	if ((r = child(root, "AssumeRoleResult", 1, &res)) != 0 ||
	    (r = child(res, "Credentials", 1, &cr)) != 0 ||
	    (r = child(res, "AssumedRoleUser", 1, &aru)) != 0 ||
	    (r = child(res, "SourceIdentity", 0, &si)) != 0)
		goto out;
	if ((r = child_text(cr, "AccessKeyId", out->creds.access_key_id,
	                    sizeof(out->creds.access_key_id))) != 0 ||
	    (r = child_text(cr, "SecretAccessKey", out->creds.secret_access_key,
	                    sizeof(out->creds.secret_access_key))) != 0 ||
	    (r = child_text(cr, "SessionToken", token, MAX_TOKEN + 1)) != 0 ||
	    (r = child_text(cr, "Expiration", when, sizeof(when))) != 0 ||
	    (r = child_text(aru, "Arn", arn, MAX_ARN + 1)) != 0 ||
	    (r = child_text(aru, "AssumedRoleId", rid, 194)) != 0)
		goto out;
	if (si != NULL &&
	    (r = ig_xml_text(si, out->source_identity, sizeof(out->source_identity))) != 0)
		goto out;
	r = IG_ERR_PARSE;
	if (!ig_sts_access_key_id_ok(out->creds.access_key_id) ||
	    !ig_sts_secret_chars_ok(out->creds.secret_access_key, 128) ||
	    !ig_sts_secret_chars_ok(token, MAX_TOKEN) || ig_timefmt_parse_utc(when, &exp) != 0 ||
	    exp <= now || !arn_ok(arn, 20) || !chars_ok(rid, 2, 193, "_+=,.@:-") ||
	    (si != NULL && !ig_sts_name_valid(out->source_identity)))
		goto out;
	request_id(root, "ResponseMetadata", out->request_id, sizeof(out->request_id));
	if ((out->assumed_role_arn = strdup(arn)) == NULL ||
	    (out->assumed_role_id = strdup(rid)) == NULL) {
		r = IG_ERR_NOMEM;
		goto out;
	}
	out->creds.session_token = token;
	token = NULL;
	out->creds.expiration = exp;
	r = 0;
out:
	if (r != 0) {
		ig_aws_creds_clear(&out->creds);
		free(out->assumed_role_arn);
		free(out->assumed_role_id);
		out->assumed_role_arn = out->assumed_role_id = NULL;
		out->source_identity[0] = '\0';
		out->request_id[0] = '\0';
	}
	ig_freezero(token, MAX_TOKEN + 1);
	free(arn);
	free(rid);
	ig_xml_free(doc);
	return r;
}

int ig_sts_parse_error(const char *xml, size_t len, char *code, size_t code_cap, char *rid,
                       size_t rid_cap)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, err;
	int r;

	if (code_cap == 0 || rid_cap == 0)
		return IG_ERR_RANGE;
	code[0] = rid[0] = '\0';
	if ((r = parse_root(xml, len, "ErrorResponse", &doc, &root)) != 0 ||
	    (r = child(root, "Error", 1, &err)) != 0 ||
	    (r = child_text(err, "Code", code, code_cap)) != 0)
		goto out;
	if (!chars_ok(code, 1, code_cap - 1 < 63 ? code_cap - 1 : 63, "._")) {
		r = IG_ERR_PARSE;
		goto out;
	}
	request_id(root, NULL, rid, rid_cap);
out:
	if (r != 0)
		code[0] = '\0';
	ig_xml_free(doc);
	return r;
}

int ig_sts_parse_caller_identity(const char *xml, size_t len, struct ig_sts_identity *out)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, res;
	int r;

	if ((r = parse_root(xml, len, "GetCallerIdentityResponse", &doc, &root)) != 0 ||
	    (r = child(root, "GetCallerIdentityResult", 1, &res)) != 0 ||
	    (r = child_text(res, "Arn", out->arn, sizeof(out->arn))) != 0 ||
	    (r = child_text(res, "UserId", out->user_id, sizeof(out->user_id))) != 0 ||
	    (r = child_text(res, "Account", out->account, sizeof(out->account))) != 0)
		goto out;
	if (!arn_ok(out->arn, 20) || !chars_ok(out->user_id, 1, 193, "_+=,.@:-") ||
	    !chars_ok(out->account, 12, 12, ""))
		r = IG_ERR_PARSE;
out:
	if (r != 0)
		out->arn[0] = out->user_id[0] = out->account[0] = '\0';
	ig_xml_free(doc);
	return r;
}

void ig_sts_role_result_clear(struct ig_sts_role_result *r)
{
	if (r == NULL)
		return;
	ig_aws_creds_clear(&r->creds);
	free(r->assumed_role_arn);
	free(r->assumed_role_id);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ */
/* Request bodies                                                      */

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	char *np;
	size_t ncap;

	if (b->err)
		return;
	if (b->cap - b->len <= n) {
		ncap = b->cap ? b->cap : 256;
		while (ncap - b->len <= n)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->err = IG_ERR_NOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* "&name=" followed by the AWS percent-encoded value. */
static void sb_param(struct sbuf *b, const char *name, const char *value)
{
	char *enc;

	sb_str(b, "&");
	sb_str(b, name);
	sb_str(b, "=");
	if ((enc = ig_sigv4_uri_encode(value, strlen(value), 1)) == NULL) {
		b->err = IG_ERR_NOMEM;
		return;
	}
	sb_str(b, enc);
	free(enc);
}

int ig_sts_assume_role_body(const struct ig_sts_assume_req *req, char **body)
{
	struct sbuf b = {0};
	char num[32];

	*body = NULL;
	if (!assume_req_valid(req))
		return IG_ERR_INVAL;
	sb_str(&b, "Action=AssumeRole&Version=" STS_VERSION);
	sb_param(&b, "RoleArn", req->role_arn);
	sb_param(&b, "RoleSessionName", req->session_name);
	if (ig_bfmt(num, sizeof(num), "%u", ig_sts_duration(req->duration_seconds)) != 0)
		b.err = IG_ERR_INTERNAL;
	sb_param(&b, "DurationSeconds", num);
	if (req->source_identity != NULL)
		sb_param(&b, "SourceIdentity", req->source_identity);
	for (size_t i = 0; i < req->n_tags; i++) {
		char name[40];
		if (ig_bfmt(name, sizeof(name), "Tags.member.%zu.Key", i + 1) != 0)
			b.err = IG_ERR_INTERNAL;
		sb_param(&b, name, req->tags[i].key);
		if (ig_bfmt(name, sizeof(name), "Tags.member.%zu.Value", i + 1) != 0)
			b.err = IG_ERR_INTERNAL;
		sb_param(&b, name, req->tags[i].value);
	}
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*body = b.p;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Transport                                                           */

enum job_kind { JOB_ASSUME, JOB_IDENTITY };
enum job_state { J_WAIT, J_RUNNING, J_DONE };

struct endpoint {
	char url[MAX_URL]; /* https://host[:port]/ */
	char host[300];    /* Host header value, as signed */
};

struct job {
	enum job_kind kind;
	enum job_state state;
	char *body;
	int64_t start_at; /* monotonic ms of the next attempt */
	unsigned attempts;
	CURL *easy;
	struct curl_slist *hdrs;
	char *resp; /* IG_STS_MAX_RESPONSE + 1, wiped */
	size_t resp_len;
	int resp_too_big;
	int retryable; /* of the last attempt */
	int err;
	char reason[IG_STS_REASON_MAX];
	long http_status;
	const char *want_source_identity;
	struct ig_sts_role_result *role; /* JOB_ASSUME */
	struct ig_sts_identity *ident;   /* JOB_IDENTITY */
};

struct run {
	const struct ig_sts_config *cfg;
	const struct ig_aws_creds *creds;
	struct endpoint ep;
	CURLM *multi;
	int64_t deadline; /* monotonic ms */
	unsigned attempt_ms, max_attempts;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_now(const struct ig_sts_config *cfg)
{
	return cfg->now ? cfg->now(cfg->now_arg) : (int64_t)time(NULL);
}

static void set_reason(char *dst, int *err, int e, const char *reason)
{
	/* Reasons are short literals or checked STS codes (<= 63 bytes). */
	size_t n = strnlen(reason, IG_STS_REASON_MAX - 1);

	*err = e;
	memcpy(dst, reason, n);
	dst[n] = '\0';
}

int ig_sts_base_url(const char *url, const char *scheme, char *base, size_t base_cap, char *host,
                    size_t host_cap)
{
	CURLU *u = NULL;
	char *sch = NULL, *h = NULL, *port = NULL, *path = NULL, *x = NULL;
	int r = IG_ERR_INVAL;

	if (url == NULL || scheme == NULL || strnlen(url, MAX_URL) >= MAX_URL ||
	    (u = curl_url()) == NULL)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &sch, 0) != CURLUE_OK || strcmp(sch, scheme) != 0 ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || h[0] == '\0')
		goto out;
	if (curl_url_get(u, CURLUPART_USER, &x, 0) != CURLUE_NO_USER ||
	    curl_url_get(u, CURLUPART_PASSWORD, &x, 0) != CURLUE_NO_PASSWORD ||
	    curl_url_get(u, CURLUPART_QUERY, &x, 0) != CURLUE_NO_QUERY ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &x, 0) != CURLUE_NO_FRAGMENT ||
	    curl_url_get(u, CURLUPART_ZONEID, &x, 0) != CURLUE_NO_ZONEID)
		goto out;
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
	    (path[0] != '\0' && strcmp(path, "/") != 0))
		goto out;
	switch (curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT)) {
	case CURLUE_OK: r = ig_bfmt(host, host_cap, "%s:%s", h, port); break;
	case CURLUE_NO_PORT: r = ig_bfmt(host, host_cap, "%s", h); break;
	default: r = IG_ERR_INVAL; break;
	}
	if (r == 0)
		r = ig_bfmt(base, base_cap, "%s://%s", scheme, host);
	if (r != 0)
		r = IG_ERR_INVAL;
out:
	curl_free(x);
	curl_free(sch);
	curl_free(h);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return r;
}

/* https only; requests go to "BASE/". */
static int endpoint_parse(const char *url, struct endpoint *ep)
{
	char base[MAX_URL];

	if (ig_sts_base_url(url, "https", base, sizeof(base), ep->host, sizeof(ep->host)) != 0 ||
	    ig_bfmt(ep->url, sizeof(ep->url), "%s/", base) != 0)
		return IG_ERR_INVAL;
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	size_t n = size * nmemb;

	if (n > IG_STS_MAX_RESPONSE - j->resp_len) {
		j->resp_too_big = 1;
		return 0; /* curl aborts with CURLE_WRITE_ERROR */
	}
	memcpy(j->resp + j->resp_len, data, n);
	j->resp_len += n;
	return n;
}

static int add_header(struct curl_slist **l, const char *name, const char *value)
{
	struct curl_slist *n;
	char *line;
	size_t len = strlen(name) + strlen(value) + 3;
	int r;

	if ((line = malloc(len)) == NULL)
		return IG_ERR_NOMEM;
	r = ig_bfmt(line, len, "%s: %s", name, value);
	if (r == 0 && (n = curl_slist_append(*l, line)) != NULL)
		*l = n;
	else if (r == 0)
		r = IG_ERR_NOMEM;
	ig_freezero(line, len);
	return r;
}

/* Release the attempt's curl state; the job keeps its outcome. */
static void job_detach(struct run *rn, struct job *j)
{
	if (j->easy != NULL) {
		curl_multi_remove_handle(rn->multi, j->easy);
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	/* The list holds the base session token and the signature: wipe our
	 * copies (libcurl's own request buffers are beyond our reach). */
	for (struct curl_slist *l = j->hdrs; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
}

#define SETOPT(h, o, v)                                                                            \
	do {                                                                                       \
		if (curl_easy_setopt((h), (o), (v)) != CURLE_OK)                                   \
			goto fail;                                                                 \
	} while (0)

/* Sign and hand one attempt to the multi handle. */
static int job_start(struct run *rn, struct job *j, int64_t now_ms)
{
	struct ig_http_header h[4];
	struct ig_sigv4_request req = {0};
	struct ig_sigv4_params p = {0};
	struct ig_sigv4_result sig = {0};
	size_t nh = 0;
	long left = (long)(rn->deadline - now_ms);
	long to = left < (long)rn->attempt_ms ? left : (long)rn->attempt_ms;
	int r;

	if (to <= 0)
		return IG_ERR_TIMEOUT;
	h[nh++] = (struct ig_http_header){"Host", rn->ep.host};
	h[nh++] = (struct ig_http_header){"Content-Type",
	                                  "application/x-www-form-urlencoded; charset=utf-8"};
	req.method = "POST";
	req.path = "/";
	req.headers = h;
	req.n_headers = nh;
	req.body = (const uint8_t *)j->body;
	req.body_len = strlen(j->body);
	p.region = rn->cfg->region;
	p.service = "sts";
	p.now = (time_t)wall_now(rn->cfg);
	p.creds = rn->creds;
	p.normalize_path = 1;
	if ((r = ig_sigv4_sign(&req, &p, &sig)) != 0)
		return r;
	r = IG_ERR_NOMEM;
	if (add_header(&j->hdrs, "Host", rn->ep.host) != 0 ||
	    add_header(&j->hdrs, "Content-Type", h[1].value) != 0 ||
	    add_header(&j->hdrs, "X-Amz-Date", sig.amz_date) != 0 ||
	    (rn->creds->session_token != NULL &&
	     add_header(&j->hdrs, "X-Amz-Security-Token", rn->creds->session_token) != 0) ||
	    add_header(&j->hdrs, "Authorization", sig.authorization) != 0 ||
	    (j->hdrs = curl_slist_append(j->hdrs, "Expect:")) == NULL)
		goto fail;
	if ((j->easy = curl_easy_init()) == NULL)
		goto fail;
	r = IG_ERR_INTERNAL;
	SETOPT(j->easy, CURLOPT_URL, rn->ep.url);
	SETOPT(j->easy, CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(j->easy, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(j->easy, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(j->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(j->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(j->easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (rn->cfg->ca_file != NULL)
		SETOPT(j->easy, CURLOPT_CAINFO, rn->cfg->ca_file);
	SETOPT(j->easy, CURLOPT_PROXY, "");
	SETOPT(j->easy, CURLOPT_NOSIGNAL, 1L);
	SETOPT(j->easy, CURLOPT_TIMEOUT_MS, to);
	SETOPT(j->easy, CURLOPT_CONNECTTIMEOUT_MS, to);
	SETOPT(j->easy, CURLOPT_POST, 1L);
	SETOPT(j->easy, CURLOPT_POSTFIELDS, j->body);
	SETOPT(j->easy, CURLOPT_POSTFIELDSIZE, (long)req.body_len);
	SETOPT(j->easy, CURLOPT_HTTPHEADER, j->hdrs);
	SETOPT(j->easy, CURLOPT_USERAGENT, "iamgate");
	SETOPT(j->easy, CURLOPT_MAXFILESIZE, (long)IG_STS_MAX_RESPONSE);
	SETOPT(j->easy, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(j->easy, CURLOPT_WRITEDATA, j);
	SETOPT(j->easy, CURLOPT_PRIVATE, j);
	j->resp_len = 0;
	j->resp_too_big = 0;
	if (curl_multi_add_handle(rn->multi, j->easy) != CURLM_OK)
		goto fail;
	j->attempts++;
	j->state = J_RUNNING;
	ig_sigv4_result_free(&sig);
	return 0;
fail:
	ig_sigv4_result_free(&sig);
	job_detach(rn, j);
	return r;
}

static int is_throttle(const char *code)
{
	return strcmp(code, "Throttling") == 0 || strcmp(code, "ThrottlingException") == 0 ||
	       strcmp(code, "RequestLimitExceeded") == 0;
}

static void parse_success(struct run *rn, struct job *j)
{
	int64_t now = wall_now(rn->cfg);

	if (j->kind == JOB_IDENTITY) {
		if (ig_sts_parse_caller_identity(j->resp, j->resp_len, j->ident) != 0)
			set_reason(j->reason, &j->err, IG_ERR_PARSE, "malformed_response");
		else
			set_reason(j->reason, &j->err, 0, "ok");
		return;
	}
	if (ig_sts_parse_assume_role(j->resp, j->resp_len, now, j->role) != 0) {
		set_reason(j->reason, &j->err, IG_ERR_PARSE, "malformed_response");
		return;
	}
	if (j->want_source_identity != NULL && j->role->source_identity[0] != '\0' &&
	    strcmp(j->role->source_identity, j->want_source_identity) != 0) {
		char rid[sizeof(j->role->request_id)];
		memcpy(rid, j->role->request_id, sizeof(rid));
		ig_sts_role_result_clear(j->role);
		memcpy(j->role->request_id, rid, sizeof(rid));
		set_reason(j->reason, &j->err, IG_ERR_AWS, "source_identity_mismatch");
		return;
	}
	set_reason(j->reason, &j->err, 0, "ok");
}

/* Outcome of one finished attempt: j->err/reason/retryable. */
static void job_classify(struct run *rn, struct job *j, CURLcode cc)
{
	char code[IG_STS_REASON_MAX];
	char *rid = j->kind == JOB_ASSUME ? j->role->request_id : NULL;
	char scratch[65];
	long st = 0;

	j->retryable = 0;
	if (cc == CURLE_OK)
		(void)curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &st);
	j->http_status = st;
	switch (cc) {
	case CURLE_OK: break;
	case CURLE_OPERATION_TIMEDOUT:
		set_reason(j->reason, &j->err, IG_ERR_TIMEOUT, "timeout");
		j->retryable = 1;
		return;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		set_reason(j->reason, &j->err, IG_ERR_NET, "tls_verify_failed");
		return;
	case CURLE_SSL_CONNECT_ERROR:
		set_reason(j->reason, &j->err, IG_ERR_NET, "tls_error");
		return;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		set_reason(j->reason, &j->err, IG_ERR_NET, "connect_failed");
		j->retryable = 1;
		return;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		set_reason(j->reason, &j->err, IG_ERR_NET, "transport_error");
		j->retryable = 1;
		return;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (j->resp_too_big || cc == CURLE_FILESIZE_EXCEEDED) {
			set_reason(j->reason, &j->err, IG_ERR_PARSE, "response_too_large");
			return;
		}
		set_reason(j->reason, &j->err, IG_ERR_NET, "transport_error");
		return;
	default: set_reason(j->reason, &j->err, IG_ERR_NET, "transport_error"); return;
	}
	if (st == 200) {
		parse_success(rn, j);
		return;
	}
	if (rid == NULL)
		rid = scratch;
	if (st >= 300 && st < 400) {
		set_reason(j->reason, &j->err, IG_ERR_NET, "http_redirect");
		return;
	}
	if (st >= 500 && st < 600) {
		/* Keep the request id for the audit line when there is one. */
		if (ig_sts_parse_error(j->resp, j->resp_len, code, sizeof(code), rid, 65) != 0)
			rid[0] = '\0';
		set_reason(j->reason, &j->err, IG_ERR_AWS, "http_5xx");
		j->retryable = 1;
		return;
	}
	if (ig_sts_parse_error(j->resp, j->resp_len, code, sizeof(code), rid, 65) == 0) {
		set_reason(j->reason, &j->err, IG_ERR_AWS, code);
		j->retryable = is_throttle(code) || st == 429;
		return;
	}
	set_reason(j->reason, &j->err, IG_ERR_AWS, "http_error");
	j->retryable = st == 429;
}

/* Equal-jitter exponential backoff: half fixed, half random. */
static int64_t backoff_ms(unsigned attempt)
{
	uint32_t rnd = 0;
	int64_t cap = BACKOFF_BASE_MS;

	for (unsigned i = 1; i < attempt && cap < BACKOFF_CAP_MS; i++)
		cap *= 2;
	if (cap > BACKOFF_CAP_MS)
		cap = BACKOFF_CAP_MS;
	if (ig_random_bytes(&rnd, sizeof(rnd)) != 0)
		rnd = 0;
	return cap / 2 + (int64_t)(rnd % (uint32_t)(cap / 2 + 1));
}

static void job_finish(struct job *j)
{
	j->state = J_DONE;
	if (j->kind == JOB_ASSUME) {
		if (j->err != 0) {
			char rid[sizeof(j->role->request_id)];
			memcpy(rid, j->role->request_id, sizeof(rid));
			ig_sts_role_result_clear(j->role);
			memcpy(j->role->request_id, rid, sizeof(rid));
		}
		j->role->err = j->err;
		memcpy(j->role->reason, j->reason, sizeof(j->reason));
		j->role->http_status = j->http_status;
		j->role->attempts = j->attempts;
	} else {
		j->ident->err = j->err;
		memcpy(j->ident->reason, j->reason, sizeof(j->reason));
		j->ident->http_status = j->http_status;
		j->ident->attempts = j->attempts;
	}
}

static void job_done_attempt(struct run *rn, struct job *j, CURLcode cc)
{
	int64_t now, delay;

	job_classify(rn, j, cc);
	job_detach(rn, j);
	explicit_bzero(j->resp, j->resp_len);
	j->resp_len = 0;
	now = mono_ms();
	if (j->err != 0 && j->retryable && j->attempts < rn->max_attempts) {
		delay = backoff_ms(j->attempts);
		/* Retry only if the attempt still gets a useful slice of time. */
		if (now + delay + 50 < rn->deadline) {
			j->state = J_WAIT;
			j->start_at = now + delay;
			return;
		}
	}
	job_finish(j);
}

/* Start the attempts that are due; returns how many jobs are not done. */
static size_t start_due(struct run *rn, struct job *jobs, size_t n)
{
	int64_t now = mono_ms();
	size_t active = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		if (j->state == J_WAIT && j->start_at <= now && (r = job_start(rn, j, now)) != 0) {
			set_reason(j->reason, &j->err, r,
			           r == IG_ERR_TIMEOUT ? "timeout" : "internal");
			job_finish(j);
		}
		if (j->state != J_DONE)
			active++;
	}
	return active;
}

/* How long to sleep: until the next backoff ends or curl has news, at most
 * POLL_MAX_MS; 0 when nothing is left to wait for. */
static int poll_wait(const struct job *jobs, size_t n)
{
	int64_t now = mono_ms(), wait = 0;
	int running = 0;

	for (size_t i = 0; i < n; i++) {
		if (jobs[i].state == J_RUNNING)
			running = 1;
		else if (jobs[i].state == J_WAIT && (wait == 0 || jobs[i].start_at - now < wait))
			wait = jobs[i].start_at - now > 0 ? jobs[i].start_at - now : 1;
	}
	if (running && (wait == 0 || wait > POLL_MAX_MS))
		wait = POLL_MAX_MS;
	return wait > POLL_MAX_MS ? POLL_MAX_MS : (int)wait;
}

/* Drive every job to J_DONE; bounded by the deadline. */
static void run_jobs(struct run *rn, struct job *jobs, size_t n)
{
	while (start_due(rn, jobs, n) > 0) {
		int running = 0, left;
		CURLMsg *m;

		(void)curl_multi_perform(rn->multi, &running);
		while ((m = curl_multi_info_read(rn->multi, &left)) != NULL) {
			struct job *j = NULL;
			if (m->msg != CURLMSG_DONE)
				continue;
			(void)curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			if (j != NULL && j->state == J_RUNNING)
				job_done_attempt(rn, j, m->data.result);
		}
		/* Safety net: curl enforces per-attempt timeouts; this bounds the
		 * loop even if something does not. */
		if (mono_ms() > rn->deadline + 1000) {
			for (size_t i = 0; i < n; i++) {
				if (jobs[i].state == J_DONE)
					continue;
				job_detach(rn, &jobs[i]);
				set_reason(jobs[i].reason, &jobs[i].err, IG_ERR_TIMEOUT, "timeout");
				job_finish(&jobs[i]);
			}
			break;
		}
		(void)curl_multi_poll(rn->multi, NULL, 0, poll_wait(jobs, n), NULL);
	}
}

/* Common set-up; on failure every job is finished with the reason. */
static int run_init(struct run *rn, const struct ig_sts_config *cfg,
                    const struct ig_aws_creds *creds, const char **why)
{
	unsigned total;

	memset(rn, 0, sizeof(*rn));
	rn->cfg = cfg;
	rn->creds = creds;
	*why = "invalid_config";
	if (cfg == NULL || !chars_ok(cfg->region, 1, 32, "-") ||
	    endpoint_parse(cfg->endpoint, &rn->ep) != 0)
		return IG_ERR_INVAL;
	*why = "base_credentials_missing";
	if (creds == NULL || !ig_sts_access_key_id_ok(creds->access_key_id) ||
	    !ig_sts_secret_chars_ok(creds->secret_access_key, 128) ||
	    (creds->session_token != NULL &&
	     !ig_sts_secret_chars_ok(creds->session_token, MAX_TOKEN)))
		return IG_ERR_INVAL;
	*why = "base_credentials_expired";
	if (creds->expiration != 0 &&
	    creds->expiration <= wall_now(cfg) + IG_STS_BASE_EXPIRY_MARGIN)
		return IG_ERR_INVAL;
	total = cfg->timeout_ms ? cfg->timeout_ms : IG_STS_DEFAULT_TIMEOUT_MS;
	rn->attempt_ms = cfg->attempt_timeout_ms;
	if (rn->attempt_ms == 0)
		rn->attempt_ms = total / 2 < 1000 ? 1000 : total / 2;
	rn->max_attempts = cfg->max_attempts ? cfg->max_attempts : IG_STS_DEFAULT_ATTEMPTS;
	*why = "internal";
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (rn->multi = curl_multi_init()) == NULL)
		return IG_ERR_INTERNAL;
	rn->deadline = mono_ms() + total;
	*why = "ok";
	return 0;
}

static void run_free(struct run *rn, struct job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		job_detach(rn, &jobs[i]);
		free(jobs[i].body);
		ig_freezero(jobs[i].resp, IG_STS_MAX_RESPONSE + 1);
	}
	if (rn->multi != NULL)
		curl_multi_cleanup(rn->multi);
}

static int job_alloc_resp(struct job *j)
{
	j->resp = malloc(IG_STS_MAX_RESPONSE + 1);
	return j->resp ? 0 : IG_ERR_NOMEM;
}

int ig_sts_assume_roles(const struct ig_sts_config *cfg, const struct ig_aws_creds *base,
                        const struct ig_sts_assume_req *reqs, size_t n,
                        struct ig_sts_role_result *results)
{
	struct job jobs[IG_STS_MAX_ROLES];
	struct run rn;
	const char *why;
	int r, first = 0;

	if (results == NULL || n == 0 || n > IG_STS_MAX_ROLES)
		return IG_ERR_INVAL;
	memset(jobs, 0, sizeof(jobs));
	for (size_t i = 0; i < n; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		set_reason(results[i].reason, &results[i].err, IG_ERR_INTERNAL, "internal");
	}
	if (reqs == NULL) {
		for (size_t i = 0; i < n; i++)
			set_reason(results[i].reason, &results[i].err, IG_ERR_INVAL,
			           "invalid_request");
		return IG_ERR_INVAL;
	}
	if ((r = run_init(&rn, cfg, base, &why)) != 0) {
		for (size_t i = 0; i < n; i++)
			set_reason(results[i].reason, &results[i].err, r, why);
		run_free(&rn, jobs, 0);
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		j->kind = JOB_ASSUME;
		j->role = &results[i];
		j->want_source_identity = reqs[i].source_identity;
		j->state = J_WAIT;
		j->start_at = 0;
		if ((r = ig_sts_assume_role_body(&reqs[i], &j->body)) != 0) {
			set_reason(j->reason, &j->err, r,
			           r == IG_ERR_INVAL ? "invalid_request" : "internal");
			job_finish(j);
		} else if ((r = job_alloc_resp(j)) != 0) {
			set_reason(j->reason, &j->err, r, "internal");
			job_finish(j);
		}
	}
	run_jobs(&rn, jobs, n);
	run_free(&rn, jobs, n);
	for (size_t i = 0; i < n; i++)
		if (results[i].err != 0 && first == 0)
			first = results[i].err;
	return first;
}

int ig_sts_get_caller_identity(const struct ig_sts_config *cfg, const struct ig_aws_creds *creds,
                               struct ig_sts_identity *out)
{
	struct job j;
	struct run rn;
	const char *why;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&j, 0, sizeof(j));
	if ((r = run_init(&rn, cfg, creds, &why)) != 0) {
		set_reason(out->reason, &out->err, r, why);
		run_free(&rn, &j, 0);
		return r;
	}
	j.kind = JOB_IDENTITY;
	j.ident = out;
	j.state = J_WAIT;
	if ((j.body = strdup("Action=GetCallerIdentity&Version=" STS_VERSION)) == NULL ||
	    job_alloc_resp(&j) != 0) {
		set_reason(j.reason, &j.err, IG_ERR_NOMEM, "internal");
		job_finish(&j);
	}
	run_jobs(&rn, &j, 1);
	run_free(&rn, &j, 1);
	return out->err;
}
