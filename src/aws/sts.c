/*
 * sts.c - STS AssumeRole / GetCallerIdentity client (see sts.h).
 *
 * What is STS's own: checking the requests, the form bodies, the XML
 * responses (through the xml unit: no DTD, no entity, text wiped), and the
 * per-role reasons.  The transport is the HTTP unit's: every role's request
 * in flight at once, so k roles cost about one round trip, each signed
 * afresh per attempt and retried on its own within one time limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iamgate/http.h"
#include "iamgate/sts.h"
#include "iamgate/timefmt.h"
#include "iamgate/util.h"
#include "iamgate/xml.h"

#define STS_NS "https://sts.amazonaws.com/doc/2011-06-15/"
#define STS_VERSION "2011-06-15"
#define MAX_ARN 2048
#define MAX_TOKEN 8192

/* ------------------------------------------------------------------ */
/* Validation                                                          */

int ig_sts_name_valid(const char *s)
{
	return ig_chars_ok(s, 2, 64, "_+=,.@-");
}

int ig_sts_tag_valid(const char *key, const char *value)
{
	/* "aws:" keys are reserved by AWS and refused by STS. */
	if (key != NULL && strncasecmp(key, "aws:", 4) == 0)
		return 0;
	return ig_chars_ok(key, 1, 128, " _.:/=+@-") && ig_chars_ok(value, 0, 256, " _.:/=+@-");
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
	if (!ig_chars_ok(region, 1, 32, "-"))
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
static void request_id(xmlNodePtr root, char *buf, size_t cap)
{
	xmlNodePtr m, e;

	buf[0] = '\0';
	if (child(root, "ResponseMetadata", 1, &m) != 0 || child(m, "RequestId", 1, &e) != 0 ||
	    ig_xml_text(e, buf, cap) != 0 || !ig_chars_ok(buf, 1, cap - 1, "-"))
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
	if (!ig_aws_creds_key_id_ok(out->creds.access_key_id) ||
	    !ig_aws_creds_secret_ok(out->creds.secret_access_key, 128) ||
	    !ig_aws_creds_secret_ok(token, MAX_TOKEN) || ig_timefmt_parse_utc(when, &exp) != 0 ||
	    exp <= now || !arn_ok(arn, 20) || !ig_chars_ok(rid, 2, 193, "_+=,.@:-") ||
	    (si != NULL && !ig_sts_name_valid(out->source_identity)))
		goto out;
	request_id(root, out->request_id, sizeof(out->request_id));
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
	if (code_cap == 0 || rid_cap == 0)
		return IG_ERR_RANGE;
	code[0] = rid[0] = '\0';
	if (code_cap < 2)
		return IG_ERR_PARSE;
	return ig_http_parse_error(IG_HTTP_QUERY, xml, len, NULL, code, code_cap, rid, rid_cap);
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
	if (!arn_ok(out->arn, 20) || !ig_chars_ok(out->user_id, 1, 193, "_+=,.@:-") ||
	    !ig_chars_ok(out->account, 12, 12, ""))
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

/* "&name=" (or "&Tags.member.TAG.name=" for tag > 0) and the AWS
 * percent-encoded value. */
static int add_param(struct ig_buf *b, size_t tag, const char *name, const char *value)
{
	char *enc = ig_sigv4_uri_encode(value, strlen(value), 1);

	if (enc == NULL)
		return IG_ERR_NOMEM;
	if (tag > 0)
		ig_buf_printf(b, "&Tags.member.%zu.%s=%s", tag, name, enc);
	else
		ig_buf_printf(b, "&%s=%s", name, enc);
	free(enc);
	return ig_buf_err(b);
}

int ig_sts_assume_role_body(const struct ig_sts_assume_req *req, char **body)
{
	struct ig_buf b = IG_BUF_INIT(0);
	int r;

	*body = NULL;
	if (!assume_req_valid(req))
		return IG_ERR_INVAL;
	ig_buf_puts(&b, "Action=AssumeRole&Version=" STS_VERSION);
	r = add_param(&b, 0, "RoleArn", req->role_arn);
	if (r == 0)
		r = add_param(&b, 0, "RoleSessionName", req->session_name);
	ig_buf_printf(&b, "&DurationSeconds=%u", ig_sts_duration(req->duration_seconds));
	if (r == 0 && req->source_identity != NULL)
		r = add_param(&b, 0, "SourceIdentity", req->source_identity);
	for (size_t i = 0; i < req->n_tags && r == 0; i++) {
		r = add_param(&b, i + 1, "Key", req->tags[i].key);
		if (r == 0)
			r = add_param(&b, i + 1, "Value", req->tags[i].value);
	}
	if (r == 0)
		r = ig_buf_take(&b, body);
	ig_buf_free(&b);
	return r;
}

/* ------------------------------------------------------------------ */
/* Transport: the HTTP unit                                            */

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

/* The reason string of a request that did not get HTTP 200: the STS error
 * code when STS named one, "internal" for our own failures, else the
 * transport reason's name. */
static void http_reason(const struct ig_http_response *h, char *dst, int *err)
{
	switch (h->reason) {
	case IG_R_AWS_ERROR: set_reason(dst, err, h->err, h->aws_error); break;
	case IG_R_INTERNAL_ERROR: set_reason(dst, err, h->err, "internal"); break;
	default: set_reason(dst, err, h->err, ig_reason_name(h->reason)); break;
	}
}

static void http_config(const struct ig_sts_config *cfg, struct ig_http_config *hc)
{
	memset(hc, 0, sizeof(*hc));
	hc->endpoint = cfg->endpoint;
	hc->region = cfg->region;
	hc->service = "sts";
	hc->proto = IG_HTTP_QUERY;
	hc->ca_file = cfg->ca_file;
	hc->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : IG_STS_DEFAULT_TIMEOUT_MS;
	hc->attempt_timeout_ms = cfg->attempt_timeout_ms;
	hc->max_attempts = cfg->max_attempts ? cfg->max_attempts : IG_STS_DEFAULT_ATTEMPTS;
	hc->max_response = IG_STS_MAX_RESPONSE;
	hc->now = cfg->now;
	hc->now_arg = cfg->now_arg;
}

/* A form POST to "/". */
static void form_request(const char *body, struct ig_http_header *ctype, struct ig_http_request *q)
{
	*ctype = (struct ig_http_header){"Content-Type",
	                                 "application/x-www-form-urlencoded; charset=utf-8"};
	memset(q, 0, sizeof(*q));
	q->method = "POST";
	q->path = "/";
	q->headers = ctype;
	q->n_headers = 1;
	q->body = body;
	q->body_len = strlen(body);
}

/* One role's result from its HTTP response. */
static void assume_result(const struct ig_sts_config *cfg, const struct ig_http_response *h,
                          const char *want_si, struct ig_sts_role_result *res)
{
	char rid[sizeof(res->request_id)];

	res->http_status = h->status;
	res->attempts = h->attempts;
	if (h->reason != IG_R_OK) {
		http_reason(h, res->reason, &res->err);
		memcpy(res->request_id, h->request_id, sizeof(res->request_id));
		return;
	}
	if (ig_sts_parse_assume_role(h->body.p, h->body.len, wall_now(cfg), res) != 0) {
		set_reason(res->reason, &res->err, IG_ERR_PARSE, "malformed_response");
		memcpy(res->request_id, h->request_id, sizeof(res->request_id));
		return;
	}
	if (res->request_id[0] == '\0')
		memcpy(res->request_id, h->request_id, sizeof(res->request_id));
	if (want_si != NULL && res->source_identity[0] != '\0' &&
	    strcmp(res->source_identity, want_si) != 0) {
		memcpy(rid, res->request_id, sizeof(rid));
		ig_sts_role_result_clear(res);
		memcpy(res->request_id, rid, sizeof(rid));
		res->http_status = h->status;
		res->attempts = h->attempts;
		set_reason(res->reason, &res->err, IG_ERR_AWS, "source_identity_mismatch");
		return;
	}
	set_reason(res->reason, &res->err, 0, "ok");
}

/* Fill every result with one reason (nothing was sent). */
static int fail_all(struct ig_sts_role_result *results, size_t n, int err, const char *why)
{
	for (size_t i = 0; i < n; i++)
		set_reason(results[i].reason, &results[i].err, err, why);
	return err;
}

/* Check the call as a whole before any request is built. */
static int call_check(const struct ig_sts_config *cfg, const struct ig_aws_creds *creds,
                      struct ig_http_config *hc, const char **why)
{
	enum ig_reason r;

	*why = "invalid_config";
	if (cfg == NULL)
		return IG_ERR_INVAL;
	http_config(cfg, hc);
	if (ig_http_check(hc, creds, &r) != 0) {
		*why = ig_reason_name(r);
		return IG_ERR_INVAL;
	}
	*why = "ok";
	return 0;
}

/* Bodies of the valid requests into body[]; the invalid ones are done. */
static size_t build_bodies(const struct ig_sts_assume_req *reqs, size_t n,
                           struct ig_sts_role_result *results, char **body, size_t *idx)
{
	size_t m = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		if ((r = ig_sts_assume_role_body(&reqs[i], &body[m])) != 0) {
			set_reason(results[i].reason, &results[i].err, r,
			           r == IG_ERR_INVAL ? "invalid_request" : "internal");
			continue;
		}
		idx[m++] = i;
	}
	return m;
}

int ig_sts_assume_roles(const struct ig_sts_config *cfg, const struct ig_aws_creds *base,
                        const struct ig_sts_assume_req *reqs, size_t n,
                        struct ig_sts_role_result *results)
{
	struct ig_http_config hc;
	struct ig_http_header ctype[IG_STS_MAX_ROLES];
	struct ig_http_request hreq[IG_STS_MAX_ROLES];
	struct ig_http_response hresp[IG_STS_MAX_ROLES];
	char *body[IG_STS_MAX_ROLES] = {0};
	size_t idx[IG_STS_MAX_ROLES], m;
	const char *why;
	int r, first = 0;

	if (results == NULL || n == 0 || n > IG_STS_MAX_ROLES)
		return IG_ERR_INVAL;
	memset(results, 0, n * sizeof(*results));
	if (reqs == NULL)
		return fail_all(results, n, IG_ERR_INVAL, "invalid_request");
	if ((r = call_check(cfg, base, &hc, &why)) != 0)
		return fail_all(results, n, r, why);
	fail_all(results, n, IG_ERR_INTERNAL, "internal");
	m = build_bodies(reqs, n, results, body, idx);
	for (size_t k = 0; k < m; k++)
		form_request(body[k], &ctype[k], &hreq[k]);
	if (m > 0) {
		/* Each response carries its own outcome. */
		r = ig_http_send_all(&hc, base, hreq, m, hresp);
		for (size_t k = 0; k < m; k++) {
			assume_result(cfg, &hresp[k], reqs[idx[k]].source_identity,
			              &results[idx[k]]);
			ig_http_response_clear(&hresp[k]);
		}
	}
	for (size_t k = 0; k < m; k++)
		free(body[k]);
	for (size_t i = 0; i < n; i++)
		if (results[i].err != 0 && first == 0)
			first = results[i].err;
	return first;
}

int ig_sts_get_caller_identity(const struct ig_sts_config *cfg, const struct ig_aws_creds *creds,
                               struct ig_sts_identity *out)
{
	struct ig_http_config hc;
	struct ig_http_header ctype;
	struct ig_http_request q;
	struct ig_http_response h;
	const char *why;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = call_check(cfg, creds, &hc, &why)) != 0) {
		set_reason(out->reason, &out->err, r, why);
		return r;
	}
	form_request("Action=GetCallerIdentity&Version=" STS_VERSION, &ctype, &q);
	r = ig_http_send(&hc, creds, &q, &h); /* h carries the outcome */
	out->http_status = h.status;
	out->attempts = h.attempts;
	if (h.reason != IG_R_OK)
		http_reason(&h, out->reason, &out->err);
	else if (ig_sts_parse_caller_identity(h.body.p, h.body.len, out) != 0)
		set_reason(out->reason, &out->err, IG_ERR_PARSE, "malformed_response");
	else
		set_reason(out->reason, &out->err, 0, "ok");
	ig_http_response_clear(&h);
	return out->err;
}
