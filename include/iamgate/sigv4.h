/*
 * sigv4.h - AWS Signature Version 4 (HMAC-SHA256), a pure signer.
 *
 * Clock, credentials, region and service are passed in; nothing is read
 * from the environment.  Passes the AWS signing test suite (header and
 * query signing) byte for byte.
 */
#ifndef IAMGATE_SIGV4_H
#define IAMGATE_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "iamgate/error.h"

/*
 * Input limits.  Anything larger is refused with IG_ERR_RANGE before any
 * allocation, so a hostile or buggy caller cannot make the signer allocate
 * without bound.  They are far above what STS or DynamoDB requests need.
 */
#define IG_SIGV4_MAX_HEADERS 64            /* request headers (before the signer's own) */
#define IG_SIGV4_MAX_HEADER_NAME 128       /* bytes in one header name */
#define IG_SIGV4_MAX_HEADER_VALUE 16384    /* bytes in one header value */
#define IG_SIGV4_MAX_PATH 4096             /* bytes in the path */
#define IG_SIGV4_MAX_QUERY 16384           /* bytes in the query string */
#define IG_SIGV4_MAX_QUERY_PARAMS 256      /* '&'-separated query parameters */
#define IG_SIGV4_MAX_BODY (16u << 20)      /* body bytes hashed */
#define IG_SIGV4_MAX_TOKEN 8192            /* session token bytes */
#define IG_SIGV4_MAX_EXPIRES 604800        /* presign: AWS allows at most 7 days */
#define IG_SIGV4_MAX_NAME 63               /* region and service names */
#define IG_SIGV4_MAX_ENCODE_IN (64u << 10) /* ig_sigv4_uri_encode input bytes */

/* AWS credentials.  Wipe with ig_aws_creds_clear() when done. */
struct ig_aws_creds {
	char access_key_id[129];     /* 1..128 of [A-Za-z0-9], NUL-terminated */
	char secret_access_key[129]; /* 1..128 printable ASCII, no space, NUL-terminated */
	char *session_token;         /* malloc'd or NULL; at most 8192 bytes */
	int64_t expiration;          /* unix seconds, 0 if not temporary */
};

/* explicit_bzero the keys, free the session token.  NULL is fine. */
void ig_aws_creds_clear(struct ig_aws_creds *c);

/* Credentials expiring within this many seconds count as expired. */
#define IG_AWS_CREDS_EXPIRY_MARGIN 30

/* 1 if s is a valid access key id: 16..128 of [A-Za-z0-9]. */
int ig_aws_creds_key_id_ok(const char *s);

/* 1 if s is 1..max of the credential character set [A-Za-z0-9/+=] (secret
 * keys, session tokens): what STS, IMDS and credentials files may hand us. */
int ig_aws_creds_secret_ok(const char *s, size_t max);

struct ig_http_header {
	const char *name;  /* RFC 9110 token */
	const char *value; /* may hold obs-fold continuations ("\n  more") */
};

/*
 * The request to sign, as it goes on the wire.
 *
 * path: the request-target path exactly as sent (starts with '/'; already
 *   percent-encoded by the caller where it needs to be, or raw as in the
 *   AWS test suite).  The signer URI-encodes it once more for the canonical
 *   URI, which is AWS's "double encoding" rule for every service but S3:
 *   "/a%20b" signs as "/a%2520b", "/a b" as "/a%20b".  Control bytes, '?'
 *   and '#' are refused.
 * query: the query as sent, without '?', or NULL/"".  For the canonical
 *   query each name and value is percent-decoded and re-encoded, so both
 *   encoded ("%E1%88%B4") and raw UTF-8 input sign the same.  Refused:
 *   bad %-escapes, empty parameters ("a&&b"), '+' (it means a space to
 *   some servers and a plus to others: write %20 or %2B), '#', space and
 *   control bytes, and any X-Amz-Algorithm / -Credential / -Date /
 *   -Expires / -SignedHeaders / -Security-Token / -Signature parameter.
 * headers: every header that will be sent and signed; exactly one Host.
 *   Authorization, X-Amz-Date, X-Amz-Security-Token and
 *   X-Amz-Content-Sha256 are refused: the signer adds those.  Repeated
 *   names are joined with ',' in their given order.
 */
struct ig_sigv4_request {
	const char *method;                   /* "GET", "POST", ...: 1..16 of [A-Z] */
	const char *path;                     /* see above */
	const char *query;                    /* see above */
	const struct ig_http_header *headers; /* as sent, including Host */
	size_t n_headers;
	const uint8_t *body; /* NULL only if body_len is 0 */
	size_t body_len;
};

struct ig_sigv4_params {
	const char *region;  /* 1..63 of [a-z0-9-] */
	const char *service; /* 1..63 of [a-z0-9-] */
	time_t now;          /* signing time, UTC seconds, years 1970..9999 */
	const struct ig_aws_creds *creds;
	int normalize_path;     /* 1 for every service but S3: drop "." / ".." and empty segments */
	int sign_body;          /* header signing: add and sign x-amz-content-sha256 */
	int omit_session_token; /* sign without X-Amz-Security-Token; caller sends it anyway */
	int presign;            /* query signing instead of header */
	unsigned expires_seconds; /* presign: X-Amz-Expires, 1..604800 */
};

/*
 * What to send.  Header signing: send X-Amz-Date: amz_date, the session
 * token (if any) as X-Amz-Security-Token, x-amz-content-sha256:
 * content_sha256 when sign_body, and Authorization: authorization.
 * Presign: send "path?signed_query"; authorization is NULL.
 *
 * canonical_request and signed_query hold the session token when there is
 * one: never log them.  ig_sigv4_result_free wipes them.
 */
struct ig_sigv4_result {
	char amz_date[17];       /* YYYYMMDDTHHMMSSZ */
	char signature[65];      /* hex */
	char *authorization;     /* header value (header signing), malloc'd; NULL when presign */
	char *canonical_request; /* malloc'd, for tests and debugging */
	char *string_to_sign;    /* malloc'd */
	char *signed_query;      /* presign: the full signed query string, malloc'd; else NULL */
	char *content_sha256;    /* hex of body hash, malloc'd (x-amz-content-sha256) */
};

/*
 * Sign req.  The payload hash is always the SHA-256 of the body (what AWS
 * checks); sign_body only decides whether it is also sent and signed as a
 * header.  out is zeroed first; on error it holds nothing to free (calling
 * ig_sigv4_result_free on it is still fine).  Errors: IG_ERR_INVAL (NULL or
 * malformed input), IG_ERR_PARSE (bad %-escape in the query), IG_ERR_RANGE
 * (a limit above, or a time outside 1970..9999), IG_ERR_NOMEM,
 * IG_ERR_CRYPTO.  Every copy of the secret key and every derived key is
 * wiped before return.
 */
int ig_sigv4_sign(const struct ig_sigv4_request *req, const struct ig_sigv4_params *p,
                  struct ig_sigv4_result *out) IG_MUST_CHECK;

/* Wipe and free what ig_sigv4_sign put in r, and zero r.  NULL is fine; idempotent. */
void ig_sigv4_result_free(struct ig_sigv4_result *r);

/* URI-encode per SigV4 (unreserved A-Za-z0-9-._~ kept, everything else %XX upper-case).
 * encode_slash=0 keeps '/'.  Returns malloc'd string, or NULL if s is NULL, len is
 * above IG_SIGV4_MAX_ENCODE_IN, or memory runs out. */
char *ig_sigv4_uri_encode(const char *s, size_t len, int encode_slash);

#endif
