/*
 * sts.h - the AWS STS client: AssumeRole (several roles concurrently) and
 * GetCallerIdentity, query protocol, sent through the HTTP unit (http.h),
 * whose transport rules hold here: https with verification always on, no
 * proxy, no redirect, one total time limit for the whole call (all roles,
 * all retries), retries only for throttling, 5xx, timeouts and connection
 * errors.  Responses are capped at IG_STS_MAX_RESPONSE bytes.
 *
 * Responses are read with the xml unit (xml.h): no DTD (a document carrying
 * one is refused before any entity is declared), no entity substitution, no
 * network access; elements are found by local name in the STS namespace (or
 * no namespace) on the documented path, and a duplicated element is
 * malformed.  Every value taken from a response is checked against its
 * character set and length before it is used.
 *
 * Reasons: every per-role outcome carries a short machine reason for the
 * audit log: "ok", the STS error Code (AccessDenied, ExpiredToken,
 * InvalidClientTokenId, SignatureDoesNotMatch, Throttling, ...), or one of
 * the transport reasons "timeout", "tls_verify_failed", "tls_error",
 * "connect_failed", "transport_error", "http_5xx", "http_redirect",
 * "http_error" (non-200 without a parsable STS error), "malformed_response",
 * "response_too_large", "source_identity_mismatch", or the local reasons
 * "invalid_config", "invalid_request", "base_credentials_expired",
 * "base_credentials_missing", "internal".  A reason never contains a
 * secret, a token or request text.  The STS error Message is deliberately
 * not kept: for SignatureDoesNotMatch AWS echoes the canonical request,
 * which holds the caller's session token.
 */
#ifndef IAMGATE_STS_H
#define IAMGATE_STS_H

#include <stddef.h>
#include <stdint.h>

#include "iamgate/error.h"
#include "iamgate/sigv4.h"
#include "iamgate/timefmt.h"

#define IG_STS_MAX_RESPONSE (64 * 1024) /* bytes of one HTTP response body */
#define IG_STS_MAX_ROLES 32             /* roles in one ig_sts_assume_roles call */
#define IG_STS_MAX_TAGS 50              /* session tags per request (STS limit) */
#define IG_STS_REASON_MAX 64            /* reason buffer, including NUL */
#define IG_STS_DURATION_DEFAULT 900
#define IG_STS_DURATION_MIN 900
#define IG_STS_DURATION_MAX 3600
#define IG_STS_DEFAULT_TIMEOUT_MS 5000
#define IG_STS_DEFAULT_ATTEMPTS 4

struct ig_sts_config {
	const char *endpoint; /* "https://host[:port]" with an optional "/" path */
	const char *region;   /* signing region, e.g. "ap-northeast-1" */
	const char *ca_file;  /* PEM CA bundle; NULL: the system trust store */
	unsigned timeout_ms;  /* total budget of one call; 0: IG_STS_DEFAULT_TIMEOUT_MS */
	/* Limit of one attempt; 0: half the total, at least 1000 ms.  Never more
	 * than what remains of the total. */
	unsigned attempt_timeout_ms;
	unsigned max_attempts; /* per role, first try included; 0: IG_STS_DEFAULT_ATTEMPTS */
	ig_clock_fn now;       /* signing time and expiry checks; NULL: time(NULL) */
	void *now_arg;
};

struct ig_sts_tag {
	const char *key;   /* 1..128 of [A-Za-z0-9 _.:/=+@-] */
	const char *value; /* 0..256 of the same set */
};

struct ig_sts_assume_req {
	const char *role_arn;        /* "arn:..." printable ASCII, 20..2048 */
	const char *session_name;    /* RoleSessionName, see ig_sts_name_valid */
	const char *source_identity; /* SourceIdentity or NULL, see ig_sts_name_valid */
	unsigned duration_seconds;   /* 0: 900; clamped to 900..3600 */
	const struct ig_sts_tag *tags;
	size_t n_tags; /* at most IG_STS_MAX_TAGS; keys must be unique (case-insensitive) */
};

struct ig_sts_role_result {
	int err;                        /* 0 or IG_ERR_* (AWS, TIMEOUT, NET, PARSE, INVAL, ...) */
	char reason[IG_STS_REASON_MAX]; /* "ok" or a reason (see top of file) */
	struct ig_aws_creds creds; /* valid when err == 0; wipe with ig_sts_role_result_clear */
	char *assumed_role_arn;    /* malloc'd, when err == 0 */
	char *assumed_role_id;     /* malloc'd, when err == 0 */
	char source_identity[65];  /* as echoed by STS ("" if not echoed) */
	char request_id[65];       /* x-amzn-RequestId / RequestId if seen, else "" */
	long http_status;          /* of the last attempt; 0 if none completed */
	unsigned attempts;         /* attempts made (0 if refused before sending) */
};

/* Wipe the credentials and free the strings; the struct can be reused. */
void ig_sts_role_result_clear(struct ig_sts_role_result *r);

/*
 * Assume n roles (1..IG_STS_MAX_ROLES) with the same base credentials, all
 * requests in flight at once (curl multi), each retried on its own.
 * results[0..n-1] are always filled (reason "ok" or why not), also when the
 * function fails as a whole.  Inputs are validated first: a request with a
 * bad name, ARN or tag is not sent (reason "invalid_request"); base
 * credentials that are missing or expire within IG_AWS_CREDS_EXPIRY_MARGIN
 * seconds of the injected clock are not used ("base_credentials_expired").
 * A successful result's credentials are checked: key id, secret and token
 * character sets, expiration in the future, and SourceIdentity as requested.
 * Returns 0 when every role succeeded, else the err of the first failed
 * role (IG_ERR_INVAL for a bad config or arguments, nothing sent).
 */
int ig_sts_assume_roles(const struct ig_sts_config *cfg, const struct ig_aws_creds *base,
                        const struct ig_sts_assume_req *reqs, size_t n,
                        struct ig_sts_role_result *results) IG_MUST_CHECK;

struct ig_sts_identity {
	int err;                        /* as in ig_sts_role_result */
	char reason[IG_STS_REASON_MAX]; /* "ok" or a reason */
	char arn[2049];
	char user_id[194];
	char account[13];
	long http_status;
	unsigned attempts;
};

/* GetCallerIdentity for creds; out is always filled.  Returns out->err. */
int ig_sts_get_caller_identity(const struct ig_sts_config *cfg, const struct ig_aws_creds *creds,
                               struct ig_sts_identity *out) IG_MUST_CHECK;

/*
 * 1 if s is a valid RoleSessionName / SourceIdentity: 2..64 characters of
 * [A-Za-z0-9_+=,.@-] (STS's [\w+=,.@-], ASCII only).  A user name that fails
 * this cannot be represented and must be denied, never rewritten.
 */
int ig_sts_name_valid(const char *s);

/* 1 if key (1..128) and value (0..256) are a valid session tag, ASCII subset of
 * STS's [\p{L}\p{Z}\p{N}_.:/=+\-@]: letters, digits, space and _.:/=+-@. */
int ig_sts_tag_valid(const char *key, const char *value);

/*
 * Fill tags[3] with the gate's session tags bastion-user, bastion-source-ip
 * and bastion-host (pointers borrowed from the arguments) and validate
 * them.  Returns 0 or IG_ERR_INVAL.
 */
int ig_sts_bastion_tags(const char *user, const char *source_ip, const char *host,
                        struct ig_sts_tag tags[3]) IG_MUST_CHECK;

/* 900 for 0, else d clamped to 900..3600. */
unsigned ig_sts_duration(unsigned d);

/* "https://sts.REGION.amazonaws.com" into buf; region is [a-z0-9-]{1,32}. */
int ig_sts_default_endpoint(const char *region, char *buf, size_t cap) IG_MUST_CHECK;

/*
 * The form body of one AssumeRole request (application/x-www-form-urlencoded
 * with AWS percent-encoding: A-Za-z0-9-_.~ kept, all else %XX), after
 * validating req as ig_sts_assume_roles does.  *body is malloc'd.
 */
int ig_sts_assume_role_body(const struct ig_sts_assume_req *req, char **body) IG_MUST_CHECK;

/*
 * Response parsers (exposed for tests and fuzzing).  xml is len bytes, not
 * necessarily NUL-terminated, at most IG_STS_MAX_RESPONSE.
 *
 * ig_sts_parse_assume_role: an AssumeRoleResponse into out->creds,
 * assumed_role_arn/id, source_identity, request_id; out must be zeroed (or
 * cleared with ig_sts_role_result_clear) before.  now is the clock for the
 * expiration check (the credentials must not be expired).  Returns 0 or
 * IG_ERR_PARSE (out then holds nothing to free), IG_ERR_NOMEM.
 *
 * ig_sts_parse_error: an ErrorResponse, read as the HTTP unit reads every
 * query-protocol error (ig_http_parse_error); code receives the Error/Code
 * (checked: 1..63 of [A-Za-z0-9._]), request_id the RequestId or "".
 * Returns 0 or IG_ERR_PARSE.
 *
 * ig_sts_parse_caller_identity: a GetCallerIdentityResponse into out.
 */
int ig_sts_parse_assume_role(const char *xml, size_t len, int64_t now,
                             struct ig_sts_role_result *out) IG_MUST_CHECK;
int ig_sts_parse_error(const char *xml, size_t len, char *code, size_t code_cap, char *request_id,
                       size_t rid_cap) IG_MUST_CHECK;
int ig_sts_parse_caller_identity(const char *xml, size_t len,
                                 struct ig_sts_identity *out) IG_MUST_CHECK;

#endif
