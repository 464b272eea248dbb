/*
 * http.h - the one HTTP client of the tree: AWS API requests over libcurl,
 * SigV4-signed, sent alone or several at once, retried within one time
 * limit.  Every AWS client (STS, DynamoDB, KMS, IAM, CloudWatch Logs) and
 * the IMDS reader send through here, so these rules hold everywhere and
 * cannot be configured away:
 *
 *  - https only, certificate and host name verified (cfg->ca_file, or the
 *    system store), TLS 1.2 or later.  Plain http exists for one case: the
 *    instance metadata service, unsigned (cfg->plain_http, creds NULL);
 *  - no proxy (the environment's proxy variables are ignored), no redirect
 *    followed, no "Expect: 100-continue";
 *  - the response body lands in an ig_buf capped at cfg->max_response; the
 *    body of an error response is wiped and dropped (AWS may echo the
 *    canonical request, session token included, in SignatureDoesNotMatch);
 *  - one time limit for the whole call (every request, every retry), and
 *    one per attempt within it; an attempt is signed anew (X-Amz-Date);
 *  - retries, with equal-jitter exponential backoff and only while time
 *    remains, for throttling (the AWS codes of ig_http_is_throttle, HTTP
 *    429), HTTP 5xx, timeouts and connection or transport errors.
 *
 * Protocols (cfg->proto) differ only in how an error names itself:
 *   IG_HTTP_QUERY  query/XML APIs (STS, IAM): <ErrorResponse><Error><Code>
 *                  (any namespace) and <RequestId>;
 *   IG_HTTP_JSON   JSON 1.0/1.1 APIs with X-Amz-Target (DynamoDB, KMS,
 *                  Logs): "__type" ("prefix#Code"), else the
 *                  x-amzn-ErrorType header ("Code:uri");
 *   IG_HTTP_PLAIN  no error document (IMDS): the status alone.
 * The caller builds the body and its headers (Content-Type, X-Amz-Target);
 * ig_http_json_target fills the JSON pair.
 *
 * Outcome of one request: err (0 or IG_ERR_*), reason (enum ig_reason) and,
 * for an error AWS named, its code in aws_error (AWS codes are not
 * reasons).  Success is HTTP 200, the status every API here answers with.
 *
 *   reason                 err              when
 *   ok                     0                HTTP 200
 *   aws_error              IG_ERR_AWS       non-200 with an AWS error code
 *   http_5xx               IG_ERR_AWS       5xx (aws_error set if named)
 *   http_error             IG_ERR_AWS       other non-200 without a code
 *   http_redirect          IG_ERR_NET       3xx (never followed)
 *   timeout                IG_ERR_TIMEOUT   an attempt or the total ran out
 *   tls_verify_failed      IG_ERR_NET       certificate or host name refused
 *   tls_error              IG_ERR_NET       handshake failed otherwise
 *   connect_failed         IG_ERR_NET       refused, unreachable, no name
 *   transport_error        IG_ERR_NET       reset, short, empty reply
 *   response_too_large     IG_ERR_PARSE     body over max_response
 *   invalid_config         IG_ERR_INVAL     endpoint, region, service, options
 *   invalid_request        IG_ERR_INVAL     method, path, headers, body
 *   base_credentials_missing IG_ERR_INVAL   creds absent or malformed
 *   base_credentials_expired IG_ERR_INVAL   expiring within the margin
 *   internal_error         IG_ERR_NOMEM/INTERNAL
 *
 * libcurl: programs call curl_global_init(CURL_GLOBAL_DEFAULT) at start;
 * the functions here call it too (it is reference-counted).
 */
#ifndef IAMGATE_HTTP_H
#define IAMGATE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "iamgate/buf.h"
#include "iamgate/error.h"
#include "iamgate/reason.h"
#include "iamgate/sigv4.h"
#include "iamgate/timefmt.h"

#define IG_HTTP_MAX_RESPONSE (64 * 1024) /* default body cap */
#define IG_HTTP_MAX_REQUESTS 32          /* requests in one ig_http_send_all */
#define IG_HTTP_MAX_HEADERS 8            /* caller's headers per request */
#define IG_HTTP_MAX_BODY (1u << 20)      /* request body bytes */
#define IG_HTTP_MAX_URL 512
#define IG_HTTP_DEFAULT_TIMEOUT_MS 5000
#define IG_HTTP_DEFAULT_ATTEMPTS 4
#define IG_HTTP_CODE_MAX 64       /* aws_error buffer, NUL included */
#define IG_HTTP_REQUEST_ID_MAX 65 /* request_id buffer, NUL included */

enum ig_http_proto { IG_HTTP_QUERY = 0, IG_HTTP_JSON, IG_HTTP_PLAIN };

struct ig_http_config {
	/* "https://host[:port]" with an optional "/" path, nothing else; with
	 * plain_http, "http://..." instead. */
	const char *endpoint;
	const char *region;  /* signing region: 1..32 of [A-Za-z0-9-] */
	const char *service; /* signing name: "sts", "dynamodb", "kms", "iam", "logs" */
	enum ig_http_proto proto;
	const char *ca_file; /* PEM bundle; NULL: the system trust store */
	unsigned timeout_ms; /* the whole call; 0: IG_HTTP_DEFAULT_TIMEOUT_MS */
	/* One attempt; 0: half the total, at least 1000 ms.  Never more than
	 * what remains of the total. */
	unsigned attempt_timeout_ms;
	unsigned max_attempts; /* per request, first included; 0: IG_HTTP_DEFAULT_ATTEMPTS */
	size_t max_response;   /* body cap; 0: IG_HTTP_MAX_RESPONSE */
	int plain_http;        /* IMDS: http:// endpoint, unsigned (creds must be NULL) */
	ig_clock_fn now;       /* signing time and expiry checks; NULL: time(NULL) */
	void *now_arg;
};

struct ig_http_request {
	const char *method; /* "GET", "POST", "PUT" */
	const char *path;   /* as sent, starting with '/'; NULL: "/" */
	const char *query;  /* without '?', or NULL */
	/* Sent and signed beside Host (the unit's); at most IG_HTTP_MAX_HEADERS.
	 * Host, Authorization, X-Amz-Date, X-Amz-Security-Token, Content-Length,
	 * Transfer-Encoding and Expect are refused (invalid_request). */
	const struct ig_http_header *headers;
	size_t n_headers;
	const void *body; /* NULL when body_len is 0 */
	size_t body_len;  /* at most IG_HTTP_MAX_BODY */
};

struct ig_http_response {
	int err;                                 /* 0 or IG_ERR_* (table above) */
	enum ig_reason reason;                   /* IG_R_OK or why not */
	char aws_error[IG_HTTP_CODE_MAX];        /* AWS error code, or "" */
	char request_id[IG_HTTP_REQUEST_ID_MAX]; /* x-amzn-RequestId, x-amz-request-id,
	                                          * or an XML error's RequestId; "" */
	long status;        /* HTTP status of the last attempt; 0 if none completed */
	unsigned attempts;  /* attempts made; 0 if refused before sending */
	struct ig_buf body; /* reason ok: the body (NUL-terminated); else empty */
};

/*
 * Check cfg (and creds, unless plain_http) without sending: 0, or
 * IG_ERR_INVAL with *why invalid_config, base_credentials_missing or
 * base_credentials_expired (creds carrying an expiration that falls within
 * IG_AWS_CREDS_EXPIRY_MARGIN seconds of cfg's clock).
 */
int ig_http_check(const struct ig_http_config *cfg, const struct ig_aws_creds *creds,
                  enum ig_reason *why) IG_MUST_CHECK;

/*
 * Send n requests (1..IG_HTTP_MAX_REQUESTS) to cfg's endpoint, all in
 * flight at once, each retried on its own.  resps[0..n-1] are always
 * filled (zeroed first), also when the call fails as a whole (a bad cfg or
 * creds: every response gets ig_http_check's reason).  Returns 0 when
 * every request got HTTP 200, else the err of the first that did not.
 * Free each response with ig_http_response_clear.
 */
int ig_http_send_all(const struct ig_http_config *cfg, const struct ig_aws_creds *creds,
                     const struct ig_http_request *reqs, size_t n,
                     struct ig_http_response *resps) IG_MUST_CHECK;

/* One request: ig_http_send_all with n = 1.  Returns resp->err. */
int ig_http_send(const struct ig_http_config *cfg, const struct ig_aws_creds *creds,
                 const struct ig_http_request *req, struct ig_http_response *resp) IG_MUST_CHECK;

/* Wipe and free the body; the struct is zeroed and reusable.  NULL is fine. */
void ig_http_response_clear(struct ig_http_response *resp);

/* What an AWS call came to, without its body: for audit lines and messages. */
struct ig_aws_status {
	int err;                                 /* 0 or IG_ERR_* */
	enum ig_reason reason;                   /* as ig_http_response, or malformed_response */
	char aws_error[IG_HTTP_CODE_MAX];        /* AWS error code, or "" */
	char request_id[IG_HTTP_REQUEST_ID_MAX]; /* or "" */
	long status;
	unsigned attempts;
};

/*
 * One call of a JSON API (DynamoDB, KMS, CloudWatch Logs): body (an object)
 * serialised compactly and sent as a POST to "/" with Content-Type
 * application/x-amz-json-VERSION and X-Amz-Target TARGET; a 200's body
 * parsed into *out (an object, duplicate keys refused; the caller
 * json_decref's it).  The serialised request and the raw response are
 * wiped (KMS carries keys both ways).  st (required) gets the outcome; a
 * 200 whose body is not a JSON object is IG_ERR_PARSE, reason
 * malformed_response.  Returns st->err.
 */
int ig_http_json_call(const struct ig_http_config *cfg, const struct ig_aws_creds *creds,
                      const char *version, const char *target, const json_t *body, json_t **out,
                      struct ig_aws_status *st) IG_MUST_CHECK;

/*
 * The two headers of a JSON API call: h[0] "Content-Type:
 * application/x-amz-json-VERSION" and h[1] "X-Amz-Target: TARGET"
 * (e.g. "1.0", "DynamoDB_20120810.GetItem").  Pointers into buf (cap bytes).
 * 0 or IG_ERR_RANGE.
 */
int ig_http_json_target(const char *version, const char *target, char *buf, size_t cap,
                        struct ig_http_header h[2]) IG_MUST_CHECK;

/* 1 if an AWS error code means "slow down" (retried like HTTP 429):
 * Throttling, ThrottlingException, ThrottledException,
 * RequestThrottledException, TooManyRequestsException,
 * ProvisionedThroughputExceededException, RequestLimitExceeded,
 * RequestThrottled, SlowDown. */
int ig_http_is_throttle(const char *code);

/*
 * The AWS error code of an error body (len bytes, need not be
 * NUL-terminated) by proto, and, for the query protocol, its RequestId.
 * error_type is the x-amzn-ErrorType header or NULL.  code (cap >= 2)
 * receives 1..63 of [A-Za-z0-9._]; rid (rid_cap bytes, may be 0) 1..64 of
 * [A-Za-z0-9-] or "".  0, or IG_ERR_PARSE when no code could be read (code
 * is then "").  Exposed for tests and fuzzing.
 */
int ig_http_parse_error(enum ig_http_proto proto, const char *body, size_t len,
                        const char *error_type, char *code, size_t cap, char *rid,
                        size_t rid_cap) IG_MUST_CHECK;

/*
 * Check an endpoint URL: scheme exactly `scheme` ("https", or "http" for
 * IMDS), a host, an optional port, an empty or "/" path, and nothing else
 * (no user info, query, fragment or IPv6 zone).  base receives
 * "SCHEME://HOST[:PORT]" (default port dropped), host the Host header value
 * "HOST[:PORT]" (IPv6 in brackets).  0 or IG_ERR_INVAL.
 */
int ig_http_base_url(const char *url, const char *scheme, char *base, size_t base_cap, char *host,
                     size_t host_cap) IG_MUST_CHECK;

#endif
