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

/* AWS credentials.  Wipe with ig_aws_creds_clear() when done. */
struct ig_aws_creds {
	char access_key_id[129];
	char secret_access_key[129];
	char *session_token; /* malloc'd or NULL; at most 8192 bytes */
	int64_t expiration;  /* unix seconds, 0 if not temporary */
};

/* explicit_bzero the keys, free the session token. */
void ig_aws_creds_clear(struct ig_aws_creds *c);

struct ig_http_header {
	const char *name;
	const char *value;
};

struct ig_sigv4_request {
	const char *method;                   /* "GET", "POST", ... */
	const char *path;                     /* raw path, not percent-encoded */
	const char *query;                    /* raw query without '?', or NULL */
	const struct ig_http_header *headers; /* as sent, including Host */
	size_t n_headers;
	const uint8_t *body;
	size_t body_len;
};

struct ig_sigv4_params {
	const char *region;
	const char *service;
	time_t now; /* signing time, UTC seconds */
	const struct ig_aws_creds *creds;
	int normalize_path;       /* 1 for every service but S3 */
	int sign_body;            /* add x-amz-content-sha256 header */
	int omit_session_token;   /* sign without X-Amz-Security-Token, add after */
	int presign;              /* query signing instead of header */
	unsigned expires_seconds; /* presign: X-Amz-Expires */
};

struct ig_sigv4_result {
	char amz_date[17];       /* YYYYMMDDTHHMMSSZ */
	char signature[65];      /* hex */
	char *authorization;     /* header value (header signing), malloc'd */
	char *canonical_request; /* malloc'd, for tests and debugging */
	char *string_to_sign;    /* malloc'd */
	char *signed_query;      /* presign: the full signed query string, malloc'd */
	char *content_sha256;    /* hex of body hash, malloc'd (x-amz-content-sha256) */
};

int ig_sigv4_sign(const struct ig_sigv4_request *req, const struct ig_sigv4_params *p,
                  struct ig_sigv4_result *out) IG_MUST_CHECK;
void ig_sigv4_result_free(struct ig_sigv4_result *r);

/* URI-encode per SigV4 (unreserved A-Za-z0-9-._~ kept, everything else %XX upper-case).
 * encode_slash=0 keeps '/'.  Returns malloc'd string or NULL. */
char *ig_sigv4_uri_encode(const char *s, size_t len, int encode_slash);

#endif
