/*
 * http.c - AWS requests over libcurl (see http.h).
 *
 * One call runs every request in one curl multi handle, so k requests cost
 * about one round trip.  A request is a job that moves WAIT -> RUNNING ->
 * (WAIT after a retryable failure, once its backoff ends) -> DONE; the loop
 * starts what is due, lets curl work, classifies what finished, and sleeps
 * until curl has news or the next backoff ends.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "iamgate/http.h"
#include "iamgate/util.h"
#include "iamgate/xml.h"

#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 2000
#define POLL_MAX_MS 200
#define MIN_ATTEMPT_MS 1000
#define RETRY_SLICE_MS 50  /* a retry must still get this much time */
#define SAFETY_NET_MS 1000 /* past the deadline, the loop gives up on curl */
#define MAX_URL_LEN 8192   /* path and query included */
#define ERROR_TYPE_MAX 256 /* x-amzn-ErrorType value kept */
#define METHOD_MAX 16

enum job_state { J_WAIT, J_RUNNING, J_DONE };

struct job {
	const struct ig_http_request *req;
	struct ig_http_response *resp;
	enum job_state state;
	int64_t start_at; /* monotonic ms of the next attempt */
	char *url;
	CURL *easy;
	struct curl_slist *hdrs;
	int retryable; /* of the last attempt */
	char error_type[ERROR_TYPE_MAX];
};

struct run {
	const struct ig_http_config *cfg;
	const struct ig_aws_creds *creds;
	char base[IG_HTTP_MAX_URL]; /* scheme://host[:port] */
	char host[300];             /* Host header value, as signed */
	CURLM *multi;
	int64_t deadline; /* monotonic ms */
	unsigned attempt_ms, max_attempts;
	size_t max_response;
};

static int64_t wall_now(const struct ig_http_config *cfg)
{
	return cfg->now ? cfg->now(cfg->now_arg) : (int64_t)time(NULL);
}

static void set_outcome(struct ig_http_response *resp, int err, enum ig_reason reason)
{
	resp->err = err;
	resp->reason = reason;
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */

static int service_ok(const char *s)
{
	if (!ig_chars_ok(s, 1, 63, "-"))
		return 0;
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return 0;
	return 1;
}

int ig_http_base_url(const char *url, const char *scheme, char *base, size_t base_cap, char *host,
                     size_t host_cap)
{
	CURLU *u = NULL;
	char *sch = NULL, *h = NULL, *port = NULL, *path = NULL, *x = NULL;
	int r = IG_ERR_INVAL;

	if (url == NULL || scheme == NULL || strnlen(url, IG_HTTP_MAX_URL) >= IG_HTTP_MAX_URL ||
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

static int creds_check(const struct ig_http_config *cfg, const struct ig_aws_creds *creds,
                       enum ig_reason *why)
{
	*why = IG_R_BASE_CREDENTIALS_MISSING;
	if (creds == NULL || !ig_aws_creds_key_id_ok(creds->access_key_id) ||
	    !ig_aws_creds_secret_ok(creds->secret_access_key, 128) ||
	    (creds->session_token != NULL &&
	     !ig_aws_creds_secret_ok(creds->session_token, IG_SIGV4_MAX_TOKEN)))
		return IG_ERR_INVAL;
	*why = IG_R_BASE_CREDENTIALS_EXPIRED;
	if (creds->expiration != 0 &&
	    creds->expiration <= wall_now(cfg) + IG_AWS_CREDS_EXPIRY_MARGIN)
		return IG_ERR_INVAL;
	*why = IG_R_OK;
	return 0;
}

int ig_http_check(const struct ig_http_config *cfg, const struct ig_aws_creds *creds,
                  enum ig_reason *why)
{
	char base[IG_HTTP_MAX_URL], host[300];

	*why = IG_R_INVALID_CONFIG;
	if (cfg == NULL || (unsigned)cfg->proto > IG_HTTP_PLAIN ||
	    ig_http_base_url(cfg->endpoint, cfg->plain_http ? "http" : "https", base, sizeof(base),
	                     host, sizeof(host)) != 0)
		return IG_ERR_INVAL;
	if (cfg->plain_http) {
		/* Unsigned and in clear: never with credentials. */
		if (creds != NULL)
			return IG_ERR_INVAL;
		*why = IG_R_OK;
		return 0;
	}
	if (!ig_chars_ok(cfg->region, 1, 32, "-") || !service_ok(cfg->service))
		return IG_ERR_INVAL;
	return creds_check(cfg, creds, why);
}

static const char *const reserved_headers[] = {
        "host",           "authorization",     "x-amz-date", "x-amz-security-token",
        "content-length", "transfer-encoding", "expect",     "x-amz-content-sha256",
};

/* A header the caller may send: a token name, not one we set, and a value
 * of visible ASCII, space and tab (no CR or LF: no header injection). */
static int header_ok(const struct ig_http_header *h)
{
	if (h->name == NULL || h->value == NULL || !ig_chars_ok(h->name, 1, 64, "-_.") ||
	    strnlen(h->value, 4097) > 4096)
		return 0;
	for (size_t i = 0; i < sizeof(reserved_headers) / sizeof(reserved_headers[0]); i++)
		if (strcasecmp(h->name, reserved_headers[i]) == 0)
			return 0;
	for (const char *p = h->value; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

/* Path and query go into the URL as given: visible ASCII only. */
static int url_part_ok(const char *s, const char *forbidden)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr(forbidden, *s) != NULL)
			return 0;
	return 1;
}

static int request_ok(const struct ig_http_request *req)
{
	if (req == NULL || !ig_chars_ok(req->method, 1, METHOD_MAX, "") ||
	    strspn(req->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(req->method))
		return 0;
	if (req->path != NULL && (req->path[0] != '/' || !url_part_ok(req->path, "?#")))
		return 0;
	if (req->query != NULL && !url_part_ok(req->query, "#"))
		return 0;
	if (req->n_headers > IG_HTTP_MAX_HEADERS || (req->n_headers > 0 && req->headers == NULL))
		return 0;
	for (size_t i = 0; i < req->n_headers; i++)
		if (!header_ok(&req->headers[i]))
			return 0;
	return req->body_len <= IG_HTTP_MAX_BODY && (req->body != NULL || req->body_len == 0);
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */

int ig_http_is_throttle(const char *code)
{
	static const char *const codes[] = {
	        "Throttling",
	        "ThrottlingException",
	        "ThrottledException",
	        "RequestThrottledException",
	        "TooManyRequestsException",
	        "ProvisionedThroughputExceededException",
	        "RequestLimitExceeded",
	        "RequestThrottled",
	        "SlowDown",
	};

	for (size_t i = 0; code != NULL && i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

/* Copy [s, s+n) into code when it is an error code: 1..63 of [A-Za-z0-9._]. */
static int take_code(const char *s, size_t n, char *code, size_t cap)
{
	if (n == 0 || n > 63 || n >= cap)
		return IG_ERR_PARSE;
	memcpy(code, s, n);
	code[n] = '\0';
	if (ig_chars_ok(code, 1, 63, "._"))
		return 0;
	code[0] = '\0';
	return IG_ERR_PARSE;
}

/* "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" (or
 * the bare code); else x-amzn-ErrorType "Code:http://...". */
static int json_error(const char *body, size_t len, const char *etype, char *code, size_t cap)
{
	json_t *root = body != NULL && len > 0 ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *t = json_object_get(root, "__type");
	const char *s, *hash;
	int r = IG_ERR_PARSE;

	if (json_is_string(t) && strlen(json_string_value(t)) == json_string_length(t)) {
		s = json_string_value(t);
		hash = strrchr(s, '#');
		s = hash != NULL ? hash + 1 : s;
		r = take_code(s, strlen(s), code, cap);
	}
	json_decref(root);
	if (r != 0 && etype != NULL)
		r = take_code(etype, strcspn(etype, ":"), code, cap);
	return r;
}

/* <ErrorResponse><Error><Code>, and the RequestId beside Error, in the
 * namespace of ErrorResponse (STS, IAM) or none. */
static int xml_error(const char *body, size_t len, char *code, size_t cap, char *rid,
                     size_t rid_cap)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, err, e;
	const char *ns;
	char text[64];
	int r;

	if ((r = ig_xml_parse(body, len, IG_HTTP_MAX_RESPONSE, &doc)) != 0 ||
	    (r = ig_xml_root(doc, NULL, "ErrorResponse", &root)) != 0)
		goto out;
	ns = ig_xml_ns(root);
	if ((r = ig_xml_child(root, ns, "Error", 1, &err)) != 0 ||
	    (r = ig_xml_child_text(err, ns, "Code", text, sizeof(text))) != 0 ||
	    (r = take_code(text, strlen(text), code, cap)) != 0)
		goto out;
	if (rid_cap > 0 && ig_xml_child(root, ns, "RequestId", 1, &e) == 0 &&
	    ig_xml_text(e, rid, rid_cap) == 0 && !ig_chars_ok(rid, 1, 64, "-"))
		rid[0] = '\0';
out:
	ig_xml_free(doc);
	return r;
}

int ig_http_parse_error(enum ig_http_proto proto, const char *body, size_t len,
                        const char *error_type, char *code, size_t cap, char *rid, size_t rid_cap)
{
	int r = IG_ERR_PARSE;

	if (code == NULL || cap < 2)
		return IG_ERR_RANGE;
	code[0] = '\0';
	if (rid != NULL && rid_cap > 0)
		rid[0] = '\0';
	else
		rid_cap = 0;
	switch (proto) {
	case IG_HTTP_JSON: r = json_error(body, len, error_type, code, cap); break;
	case IG_HTTP_QUERY: r = xml_error(body, len, code, cap, rid, rid_cap); break;
	case IG_HTTP_PLAIN:
	default: break;
	}
	if (r != 0) {
		code[0] = '\0';
		if (rid_cap > 0)
			rid[0] = '\0';
	}
	return r;
}

int ig_http_json_target(const char *version, const char *target, char *buf, size_t cap,
                        struct ig_http_header h[2])
{
	size_t half = cap / 2;

	if (version == NULL || target == NULL ||
	    ig_bfmt(buf, half, "application/x-amz-json-%s", version) != 0 ||
	    ig_bfmt(buf + half, cap - half, "%s", target) != 0)
		return IG_ERR_RANGE;
	h[0] = (struct ig_http_header){"Content-Type", buf};
	h[1] = (struct ig_http_header){"X-Amz-Target", buf + half};
	return 0;
}

/* ------------------------------------------------------------------ */
/* curl callbacks                                                      */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	size_t n = size * nmemb;

	ig_buf_add(&j->resp->body, data, n);
	return ig_buf_err(&j->resp->body) == 0 ? n : 0; /* 0: curl aborts (write error) */
}

/* The value of header line [line, line+n) when it is `name`, trimmed. */
static int header_value(const char *line, size_t n, const char *name, const char **v, size_t *vn)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return 0;
	line += k + 1;
	n -= k + 1;
	while (n > 0 && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	*v = line;
	*vn = n;
	return 1;
}

static void keep(const char *v, size_t n, char *dst, size_t cap, const char *extra)
{
	char tmp[ERROR_TYPE_MAX];

	if (n == 0 || n >= cap || n >= sizeof(tmp))
		return;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	if (ig_chars_ok(tmp, 1, cap - 1, extra))
		memcpy(dst, tmp, n + 1);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	size_t n = size * nmemb, vn;
	const char *v;

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* A new response (the status line): forget an earlier one's. */
		j->resp->request_id[0] = '\0';
		j->error_type[0] = '\0';
	} else if (header_value(data, n, "x-amzn-RequestId", &v, &vn) ||
	           header_value(data, n, "x-amz-request-id", &v, &vn)) {
		keep(v, vn, j->resp->request_id, sizeof(j->resp->request_id), "-");
	} else if (header_value(data, n, "x-amzn-ErrorType", &v, &vn)) {
		keep(v, vn, j->error_type, sizeof(j->error_type), "-._:/#");
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* One attempt                                                         */

/* On failure the list stays as it was, for job_detach to wipe. */
static int append(struct curl_slist **l, const char *line)
{
	struct curl_slist *n = curl_slist_append(*l, line);

	if (n == NULL)
		return IG_ERR_NOMEM;
	*l = n;
	return 0;
}

static int add_header(struct curl_slist **l, const char *name, const char *value)
{
	struct ig_buf line = IG_BUF_INIT(0);
	int r;

	ig_buf_printf(&line, "%s: %s", name, value);
	if ((r = ig_buf_err(&line)) == 0)
		r = append(l, line.p);
	ig_buf_free(&line);
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
	/* The list holds the session token and the signature: wipe our copies
	 * (libcurl's own request buffers are beyond our reach). */
	for (struct curl_slist *l = j->hdrs; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
}

/* X-Amz-Date, X-Amz-Security-Token and Authorization for headers h[0..nh). */
static int sign_headers(struct run *rn, struct job *j, const struct ig_http_header *h, size_t nh)
{
	const struct ig_http_request *q = j->req;
	struct ig_sigv4_request sreq = {0};
	struct ig_sigv4_params p = {0};
	struct ig_sigv4_result sig = {0};
	const char *token = rn->creds->session_token;
	int r;

	sreq.method = q->method;
	sreq.path = q->path != NULL ? q->path : "/";
	sreq.query = q->query;
	sreq.headers = h;
	sreq.n_headers = nh;
	sreq.body = q->body;
	sreq.body_len = q->body_len;
	p.region = rn->cfg->region;
	p.service = rn->cfg->service;
	p.now = (time_t)wall_now(rn->cfg);
	p.creds = rn->creds;
	p.normalize_path = 1;
	if ((r = ig_sigv4_sign(&sreq, &p, &sig)) != 0)
		goto out;
	if ((r = add_header(&j->hdrs, "X-Amz-Date", sig.amz_date)) != 0 ||
	    (token != NULL && (r = add_header(&j->hdrs, "X-Amz-Security-Token", token)) != 0) ||
	    (r = add_header(&j->hdrs, "Authorization", sig.authorization)) != 0)
		goto out;
out:
	ig_sigv4_result_free(&sig);
	return r;
}

/* The header list: Host, the caller's, what signing adds, and the two
 * that keep curl from adding its own. */
static int job_headers(struct run *rn, struct job *j)
{
	const struct ig_http_request *q = j->req;
	struct ig_http_header h[IG_HTTP_MAX_HEADERS + 1];
	size_t nh = 0;
	int r = 0, ctype = 0;

	h[nh++] = (struct ig_http_header){"Host", rn->host};
	for (size_t i = 0; i < q->n_headers; i++) {
		h[nh++] = q->headers[i];
		ctype |= strcasecmp(q->headers[i].name, "Content-Type") == 0;
	}
	for (size_t i = 0; i < nh && r == 0; i++)
		r = add_header(&j->hdrs, h[i].name, h[i].value);
	if (r == 0 && !rn->cfg->plain_http)
		r = sign_headers(rn, j, h, nh);
	if (r != 0)
		return r;
	/* A body without a type would get curl's form type; Expect would
	 * cost a round trip. */
	if (!ctype && strcmp(q->method, "GET") != 0 && (r = append(&j->hdrs, "Content-Type:")) != 0)
		return r;
	return append(&j->hdrs, "Expect:");
}

#define SETOPT(h, o, v)                                                                            \
	do {                                                                                       \
		if (curl_easy_setopt((h), (o), (v)) != CURLE_OK)                                   \
			return IG_ERR_INTERNAL;                                                    \
	} while (0)

/* The transport rules of http.h, for one easy handle. */
static int easy_setup(struct run *rn, struct job *j, long to)
{
	const struct ig_http_request *q = j->req;
	const char *proto = rn->cfg->plain_http ? "http" : "https";
	CURL *e = j->easy;

	SETOPT(e, CURLOPT_URL, j->url);
	SETOPT(e, CURLOPT_PROTOCOLS_STR, proto);
	SETOPT(e, CURLOPT_REDIR_PROTOCOLS_STR, proto);
	SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(e, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(e, CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (rn->cfg->ca_file != NULL)
		SETOPT(e, CURLOPT_CAINFO, rn->cfg->ca_file);
	SETOPT(e, CURLOPT_PROXY, "");
	SETOPT(e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(e, CURLOPT_TIMEOUT_MS, to);
	SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, to);
	if (strcmp(q->method, "GET") != 0) {
		/* POSTFIELDS never copies: the body outlives the attempt. */
		SETOPT(e, CURLOPT_POSTFIELDS, q->body != NULL ? (const char *)q->body : "");
		SETOPT(e, CURLOPT_POSTFIELDSIZE, (long)q->body_len);
		if (strcmp(q->method, "POST") != 0)
			SETOPT(e, CURLOPT_CUSTOMREQUEST, q->method);
	}
	SETOPT(e, CURLOPT_HTTPHEADER, j->hdrs);
	SETOPT(e, CURLOPT_USERAGENT, "iamgate");
	SETOPT(e, CURLOPT_MAXFILESIZE, (long)rn->max_response);
	SETOPT(e, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(e, CURLOPT_WRITEDATA, j);
	SETOPT(e, CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(e, CURLOPT_HEADERDATA, j);
	SETOPT(e, CURLOPT_PRIVATE, j);
	return 0;
}

/* Sign and hand one attempt to the multi handle. */
static int job_start(struct run *rn, struct job *j, int64_t now_ms)
{
	long left = (long)(rn->deadline - now_ms);
	long to = left < (long)rn->attempt_ms ? left : (long)rn->attempt_ms;
	int r;

	if (to <= 0)
		return IG_ERR_TIMEOUT;
	ig_buf_free(&j->resp->body);
	j->resp->body.max = rn->max_response;
	j->resp->aws_error[0] = '\0';
	j->resp->request_id[0] = '\0';
	j->error_type[0] = '\0';
	if ((r = job_headers(rn, j)) != 0)
		goto fail;
	r = IG_ERR_NOMEM;
	if ((j->easy = curl_easy_init()) == NULL)
		goto fail;
	if ((r = easy_setup(rn, j, to)) != 0)
		goto fail;
	r = IG_ERR_INTERNAL;
	if (curl_multi_add_handle(rn->multi, j->easy) != CURLM_OK)
		goto fail;
	j->resp->attempts++;
	j->state = J_RUNNING;
	return 0;
fail:
	job_detach(rn, j);
	return r;
}

/* ------------------------------------------------------------------ */
/* Outcomes                                                            */

/* A transport failure: reason and whether it is worth another attempt. */
static void classify_curl(struct job *j, CURLcode cc)
{
	struct ig_http_response *resp = j->resp;

	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		set_outcome(resp, IG_ERR_TIMEOUT, IG_R_TIMEOUT);
		j->retryable = 1;
		return;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		set_outcome(resp, IG_ERR_NET, IG_R_TLS_VERIFY_FAILED);
		return;
	case CURLE_SSL_CONNECT_ERROR: set_outcome(resp, IG_ERR_NET, IG_R_TLS_ERROR); return;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		set_outcome(resp, IG_ERR_NET, IG_R_CONNECT_FAILED);
		j->retryable = 1;
		return;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		set_outcome(resp, IG_ERR_NET, IG_R_TRANSPORT_ERROR);
		j->retryable = 1;
		return;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (ig_buf_err(&resp->body) == IG_ERR_NOMEM)
			set_outcome(resp, IG_ERR_NOMEM, IG_R_INTERNAL_ERROR);
		else if (ig_buf_err(&resp->body) == IG_ERR_RANGE || cc == CURLE_FILESIZE_EXCEEDED)
			set_outcome(resp, IG_ERR_PARSE, IG_R_RESPONSE_TOO_LARGE);
		else
			set_outcome(resp, IG_ERR_NET, IG_R_TRANSPORT_ERROR);
		return;
	default: set_outcome(resp, IG_ERR_NET, IG_R_TRANSPORT_ERROR); return;
	}
}

/* A non-200 answer: name it, keep the ids, drop the body. */
static void classify_status(struct run *rn, struct job *j)
{
	struct ig_http_response *resp = j->resp;
	long st = resp->status;
	char rid[IG_HTTP_REQUEST_ID_MAX];
	int named;

	named = ig_http_parse_error(rn->cfg->proto, resp->body.p, resp->body.len,
	                            j->error_type[0] ? j->error_type : NULL, resp->aws_error,
	                            sizeof(resp->aws_error), rid, sizeof(rid)) == 0;
	if (named && resp->request_id[0] == '\0')
		memcpy(resp->request_id, rid, sizeof(rid));
	ig_buf_free(&resp->body);
	if (st >= 300 && st < 400) {
		set_outcome(resp, IG_ERR_NET, IG_R_HTTP_REDIRECT);
	} else if (st >= 500 && st < 600) {
		set_outcome(resp, IG_ERR_AWS, IG_R_HTTP_5XX);
		j->retryable = 1;
	} else if (named) {
		set_outcome(resp, IG_ERR_AWS, IG_R_AWS_ERROR);
		j->retryable = ig_http_is_throttle(resp->aws_error) || st == 429;
	} else {
		set_outcome(resp, IG_ERR_AWS, IG_R_HTTP_ERROR);
		j->retryable = st == 429;
	}
}

static void job_classify(struct run *rn, struct job *j, CURLcode cc)
{
	long st = 0;

	j->retryable = 0;
	if (cc != CURLE_OK) {
		classify_curl(j, cc); /* reads the body's error first */
		ig_buf_free(&j->resp->body);
		return;
	}
	(void)curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &st);
	j->resp->status = st;
	if (st == 200) {
		/* An empty 200 still has a (terminated) body to hand over. */
		ig_buf_add(&j->resp->body, "", 0);
		if (ig_buf_err(&j->resp->body) == 0)
			set_outcome(j->resp, 0, IG_R_OK);
		else
			set_outcome(j->resp, IG_ERR_NOMEM, IG_R_INTERNAL_ERROR);
		return;
	}
	classify_status(rn, j);
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

static void job_done_attempt(struct run *rn, struct job *j, CURLcode cc)
{
	int64_t now, delay;

	job_classify(rn, j, cc);
	job_detach(rn, j);
	now = ig_mono_ms();
	if (j->resp->err != 0 && j->retryable && j->resp->attempts < rn->max_attempts) {
		delay = backoff_ms(j->resp->attempts);
		/* Retry only if the attempt still gets a useful slice of time. */
		if (now + delay + RETRY_SLICE_MS < rn->deadline) {
			j->state = J_WAIT;
			j->start_at = now + delay;
			return;
		}
	}
	j->state = J_DONE;
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */

/* Start the attempts that are due; returns how many jobs are not done. */
static size_t start_due(struct run *rn, struct job *jobs, size_t n)
{
	int64_t now = ig_mono_ms();
	size_t active = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		if (j->state == J_WAIT && j->start_at <= now && (r = job_start(rn, j, now)) != 0) {
			if (r == IG_ERR_TIMEOUT)
				set_outcome(j->resp, r, IG_R_TIMEOUT);
			else
				set_outcome(j->resp, r, IG_R_INTERNAL_ERROR);
			j->state = J_DONE;
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
	int64_t now = ig_mono_ms(), wait = 0;
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

static void collect_done(struct run *rn)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(rn->multi, &left)) != NULL) {
		struct job *j = NULL;
		if (m->msg != CURLMSG_DONE)
			continue;
		(void)curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		if (j != NULL && j->state == J_RUNNING)
			job_done_attempt(rn, j, m->data.result);
	}
}

/* Drive every job to J_DONE; bounded by the deadline. */
static void run_jobs(struct run *rn, struct job *jobs, size_t n)
{
	while (start_due(rn, jobs, n) > 0) {
		int running = 0;

		(void)curl_multi_perform(rn->multi, &running);
		collect_done(rn);
		/* Safety net: curl enforces per-attempt timeouts; this bounds the
		 * loop even if something does not. */
		if (ig_mono_ms() > rn->deadline + SAFETY_NET_MS) {
			for (size_t i = 0; i < n; i++) {
				if (jobs[i].state == J_DONE)
					continue;
				job_detach(rn, &jobs[i]);
				ig_buf_free(&jobs[i].resp->body);
				set_outcome(jobs[i].resp, IG_ERR_TIMEOUT, IG_R_TIMEOUT);
				jobs[i].state = J_DONE;
			}
			break;
		}
		(void)curl_multi_poll(rn->multi, NULL, 0, poll_wait(jobs, n), NULL);
	}
}

static int run_init(struct run *rn, const struct ig_http_config *cfg,
                    const struct ig_aws_creds *creds, enum ig_reason *why)
{
	unsigned total;
	int r;

	memset(rn, 0, sizeof(*rn));
	rn->cfg = cfg;
	rn->creds = creds;
	if ((r = ig_http_check(cfg, creds, why)) != 0)
		return r;
	if (ig_http_base_url(cfg->endpoint, cfg->plain_http ? "http" : "https", rn->base,
	                     sizeof(rn->base), rn->host, sizeof(rn->host)) != 0) {
		*why = IG_R_INVALID_CONFIG;
		return IG_ERR_INVAL;
	}
	total = cfg->timeout_ms ? cfg->timeout_ms : IG_HTTP_DEFAULT_TIMEOUT_MS;
	rn->attempt_ms = cfg->attempt_timeout_ms;
	if (rn->attempt_ms == 0)
		rn->attempt_ms = total / 2 < MIN_ATTEMPT_MS ? MIN_ATTEMPT_MS : total / 2;
	rn->max_attempts = cfg->max_attempts ? cfg->max_attempts : IG_HTTP_DEFAULT_ATTEMPTS;
	rn->max_response = cfg->max_response ? cfg->max_response : IG_HTTP_MAX_RESPONSE;
	*why = IG_R_INTERNAL_ERROR;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (rn->multi = curl_multi_init()) == NULL)
		return IG_ERR_INTERNAL;
	rn->deadline = ig_mono_ms() + total;
	*why = IG_R_OK;
	return 0;
}

/* The URL of one request: base, path, "?" query. */
static int job_url(const struct run *rn, struct job *j)
{
	struct ig_buf u = IG_BUF_INIT(MAX_URL_LEN);
	const struct ig_http_request *q = j->req;
	int r;

	ig_buf_puts(&u, rn->base);
	ig_buf_puts(&u, q->path != NULL ? q->path : "/");
	if (q->query != NULL && q->query[0] != '\0') {
		ig_buf_putc(&u, '?');
		ig_buf_puts(&u, q->query);
	}
	if ((r = ig_buf_take(&u, &j->url)) != 0)
		ig_buf_free(&u);
	return r;
}

int ig_http_send_all(const struct ig_http_config *cfg, const struct ig_aws_creds *creds,
                     const struct ig_http_request *reqs, size_t n, struct ig_http_response *resps)
{
	struct job jobs[IG_HTTP_MAX_REQUESTS];
	struct run rn;
	enum ig_reason why;
	int r, first = 0;

	if (resps == NULL || n == 0 || n > IG_HTTP_MAX_REQUESTS)
		return IG_ERR_INVAL;
	memset(jobs, 0, sizeof(jobs));
	memset(resps, 0, n * sizeof(*resps));
	if ((r = run_init(&rn, cfg, creds, &why)) != 0) {
		for (size_t i = 0; i < n; i++)
			set_outcome(&resps[i], r, why);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		j->req = reqs != NULL ? &reqs[i] : NULL;
		j->resp = &resps[i];
		j->state = J_DONE;
		if (!request_ok(j->req))
			set_outcome(j->resp, IG_ERR_INVAL, IG_R_INVALID_REQUEST);
		else if ((r = job_url(&rn, j)) != 0)
			set_outcome(j->resp, r == IG_ERR_RANGE ? IG_ERR_INVAL : r,
			            r == IG_ERR_RANGE ? IG_R_INVALID_REQUEST : IG_R_INTERNAL_ERROR);
		else
			j->state = J_WAIT;
	}
	run_jobs(&rn, jobs, n);
out:
	for (size_t i = 0; i < n; i++) {
		job_detach(&rn, &jobs[i]);
		free(jobs[i].url);
		if (resps[i].err != 0 && first == 0)
			first = resps[i].err;
	}
	if (rn.multi != NULL)
		curl_multi_cleanup(rn.multi);
	return first;
}

int ig_http_send(const struct ig_http_config *cfg, const struct ig_aws_creds *creds,
                 const struct ig_http_request *req, struct ig_http_response *resp)
{
	return ig_http_send_all(cfg, creds, req, 1, resp);
}

void ig_http_response_clear(struct ig_http_response *resp)
{
	if (resp == NULL)
		return;
	ig_buf_free(&resp->body);
	explicit_bzero(resp, sizeof(*resp));
}

static void status_from(const struct ig_http_response *h, struct ig_aws_status *st)
{
	st->err = h->err;
	st->reason = h->reason;
	memcpy(st->aws_error, h->aws_error, sizeof(st->aws_error));
	memcpy(st->request_id, h->request_id, sizeof(st->request_id));
	st->status = h->status;
	st->attempts = h->attempts;
}

int ig_http_json_call(const struct ig_http_config *cfg, const struct ig_aws_creds *creds,
                      const char *version, const char *target, const json_t *body, json_t **out,
                      struct ig_aws_status *st)
{
	struct ig_http_header h[2];
	struct ig_http_request q = {"POST", "/", NULL, h, 2, NULL, 0};
	struct ig_http_response resp = {0};
	char hbuf[256], *text = NULL;
	int r;

	memset(st, 0, sizeof(*st));
	*out = NULL;
	st->err = IG_ERR_INVAL;
	st->reason = IG_R_INVALID_REQUEST;
	if (!json_is_object(body) ||
	    ig_http_json_target(version, target, hbuf, sizeof(hbuf), h) != 0)
		return st->err;
	st->err = IG_ERR_NOMEM;
	st->reason = IG_R_INTERNAL_ERROR;
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
		return st->err;
	q.body = text;
	q.body_len = strlen(text);
	r = ig_http_send(cfg, creds, &q, &resp); /* resp carries the outcome */
	ig_free_secret_str(text);
	status_from(&resp, st);
	if (r == 0 && ((*out = json_loadb(resp.body.p, resp.body.len, JSON_REJECT_DUPLICATES,
	                                  NULL)) == NULL ||
	               !json_is_object(*out))) {
		json_decref(*out);
		*out = NULL;
		st->err = IG_ERR_PARSE;
		st->reason = IG_R_MALFORMED_RESPONSE;
	}
	ig_http_response_clear(&resp);
	return st->err;
}
