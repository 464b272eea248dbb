/*
 * test_sigv4.c - the SigV4 signer against the AWS signing test suite (every
 * case, header and query signing, byte for byte), AWS's documented IAM
 * ListUsers example, botocore-computed vectors for the STS request the STS
 * client sends and for double path encoding, and the refusals.
 *
 * The suite lives in tests/unit/sigv4-test-suite/ (Apache-2.0, with its
 * LICENSE and NOTICE); set IG_SIGV4_SUITE to point elsewhere.  A missing or
 * short suite fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "iamgate/sigv4.h"
#include "iamgate/util.h"

#define SUITE_MIN_CASES 38
#define SUITE_MAX_CASES 256
#define FILE_MAX (1 << 20)
#define MAX_REQ_HEADERS 32

#define EX_AKID "AKIDEXAMPLE"
#define EX_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* 2015-08-30T12:36:00Z, the suite's and the AWS docs' clock. */
#define EX_TIME ((time_t)1440938160)

/* ------------------------------------------------------------------ */
/* helpers                                                              */
/* ------------------------------------------------------------------ */

static int read_text(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	size_t n;

	*buf = NULL;
	*len = 0;
	if (f == NULL)
		return -1;
	b = malloc(FILE_MAX + 1);
	if (b == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(b, 1, FILE_MAX + 1, f);
	if (ferror(f) || n > FILE_MAX) {
		fclose(f);
		free(b);
		return -1;
	}
	fclose(f);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

static void set_creds(struct ig_aws_creds *c, const char *akid, const char *secret,
                      const char *token)
{
	memset(c, 0, sizeof(*c));
	assert_true(strlen(akid) < sizeof(c->access_key_id));
	assert_true(strlen(secret) < sizeof(c->secret_access_key));
	memcpy(c->access_key_id, akid, strlen(akid) + 1);
	memcpy(c->secret_access_key, secret, strlen(secret) + 1);
	if (token != NULL) {
		c->session_token = strdup(token);
		assert_non_null(c->session_token);
	}
}

/* The second line of the canonical request: the canonical URI. */
static void canonical_line(const char *creq, int line, char *dst, size_t cap)
{
	const char *s = creq, *e;

	for (int i = 0; i < line; i++) {
		s = strchr(s, '\n');
		assert_non_null(s);
		s++;
	}
	e = strchr(s, '\n');
	assert_non_null(e);
	assert_true((size_t)(e - s) < cap);
	memcpy(dst, s, (size_t)(e - s));
	dst[e - s] = '\0';
}

static const struct ig_http_header host_only[] = {{"Host", "example.amazonaws.com"}};

/* A plain GET / of the suite's vanilla case, for the tests to bend. */
static void base_request(struct ig_sigv4_request *req, struct ig_sigv4_params *p,
                         struct ig_aws_creds *c)
{
	memset(req, 0, sizeof(*req));
	memset(p, 0, sizeof(*p));
	set_creds(c, EX_AKID, EX_SECRET, NULL);
	req->method = "GET";
	req->path = "/";
	req->headers = host_only;
	req->n_headers = 1;
	p->region = "us-east-1";
	p->service = "service";
	p->now = EX_TIME;
	p->creds = c;
	p->normalize_path = 1;
	p->expires_seconds = 3600;
}

/* Sign and expect error `want`; the result must come back zeroed. */
static void expect_err(const struct ig_sigv4_request *req, const struct ig_sigv4_params *p,
                       int want)
{
	struct ig_sigv4_result res;
	static const struct ig_sigv4_result zero;

	memset(&res, 0xa5, sizeof(res));
	assert_int_equal(ig_sigv4_sign(req, p, &res), want);
	assert_memory_equal(&res, &zero, sizeof(res));
	ig_sigv4_result_free(&res);
}

static void sign_ok(const struct ig_sigv4_request *req, const struct ig_sigv4_params *p,
                    struct ig_sigv4_result *res)
{
	int r = ig_sigv4_sign(req, p, res);

	if (r != 0)
		fail_msg("ig_sigv4_sign: %d (%s)", r, ig_strerror(r));
}

/* ------------------------------------------------------------------ */
/* the AWS signing test suite                                           */
/* ------------------------------------------------------------------ */

struct parsed_req {
	char *raw;
	size_t raw_len;
	char method[17];
	char *path;
	char *query;
	char *target; /* as on the request line */
	char *names[MAX_REQ_HEADERS];
	char *values[MAX_REQ_HEADERS];
	struct ig_http_header hdr[MAX_REQ_HEADERS];
	size_t nh;
	const char *header_block; /* raw header lines, each ending in '\n' */
	size_t header_block_len;
	const uint8_t *body;
	size_t body_len;
};

struct suite_case {
	char name[300]; /* "header/<case>" or "query/<case>" */
	char dir[PATH_MAX];
	int presign;
	struct parsed_req req;
	json_t *ctx;
	struct ig_aws_creds creds;
	struct ig_sigv4_result res;
	char *signed_text;
	size_t signed_len;
};

static char suite_dir[PATH_MAX];
static int suite_opened;
static size_t suite_ncases;

static void free_parsed(struct parsed_req *p)
{
	for (size_t i = 0; i < p->nh; i++) {
		free(p->names[i]);
		free(p->values[i]);
	}
	free(p->path);
	free(p->query);
	free(p->target);
	free(p->raw);
	memset(p, 0, sizeof(*p));
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	assert_non_null(d);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/*
 * request.txt: "METHOD TARGET HTTP/1.1", "Name:value" lines (a line that
 * starts with whitespace continues the previous value; the fold is kept
 * as "\n" + line so the signer sees a real obs-fold), an optional blank
 * line, then the body.
 */
static void parse_request(const char *dir, struct parsed_req *pr)
{
	char path[PATH_MAX];
	const char *s, *end, *eol, *sp1, *sp2, *t, *q;
	size_t tlen;

	memset(pr, 0, sizeof(*pr));
	assert_int_equal(ig_bfmt(path, sizeof(path), "%s/request.txt", dir), 0);
	assert_int_equal(read_text(path, &pr->raw, &pr->raw_len), 0);
	s = pr->raw;
	end = pr->raw + pr->raw_len;
	eol = memchr(s, '\n', (size_t)(end - s));
	if (eol == NULL)
		eol = end;
	sp1 = memchr(s, ' ', (size_t)(eol - s));
	assert_non_null(sp1);
	for (sp2 = eol - 1; sp2 > sp1 && *sp2 != ' '; sp2--)
		;
	assert_true(sp2 > sp1);
	assert_true((size_t)(sp1 - s) < sizeof(pr->method));
	memcpy(pr->method, s, (size_t)(sp1 - s));
	t = sp1 + 1;
	tlen = (size_t)(sp2 - t);
	pr->target = dup_n(t, tlen);
	q = memchr(t, '?', tlen);
	if (q != NULL) {
		pr->path = dup_n(t, (size_t)(q - t));
		pr->query = dup_n(q + 1, tlen - (size_t)(q - t) - 1);
	} else {
		pr->path = dup_n(t, tlen);
	}

	s = eol < end ? eol + 1 : end;
	pr->header_block = s;
	while (s < end) {
		const char *colon;

		eol = memchr(s, '\n', (size_t)(end - s));
		if (eol == NULL)
			eol = end;
		if (eol == s) { /* blank line: the body follows */
			pr->header_block_len = (size_t)(s - pr->header_block);
			pr->body = (const uint8_t *)(eol + 1);
			pr->body_len = (size_t)(end - eol - 1);
			break;
		}
		if (*s == ' ' || *s == '\t') {
			char *old, *nv;
			size_t ol, ll = (size_t)(eol - s);

			assert_true(pr->nh > 0);
			old = pr->values[pr->nh - 1];
			ol = strlen(old);
			nv = malloc(ol + 1 + ll + 1);
			assert_non_null(nv);
			memcpy(nv, old, ol);
			nv[ol] = '\n';
			memcpy(nv + ol + 1, s, ll);
			nv[ol + 1 + ll] = '\0';
			free(old);
			pr->values[pr->nh - 1] = nv;
		} else {
			colon = memchr(s, ':', (size_t)(eol - s));
			assert_non_null(colon);
			assert_true(pr->nh < MAX_REQ_HEADERS);
			pr->names[pr->nh] = dup_n(s, (size_t)(colon - s));
			pr->values[pr->nh] = dup_n(colon + 1, (size_t)(eol - colon - 1));
			pr->nh++;
		}
		s = eol < end ? eol + 1 : end;
		pr->header_block_len = (size_t)(s - pr->header_block);
	}
	for (size_t i = 0; i < pr->nh; i++) {
		pr->hdr[i].name = pr->names[i];
		pr->hdr[i].value = pr->values[i];
	}
}

static const char *ctx_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("context.json: \"%s\" is not a string", key);
	return json_string_value(v);
}

static int ctx_bool(json_t *o, const char *key, int required)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL && !required)
		return 0;
	if (!json_is_boolean(v))
		fail_msg("context.json: \"%s\" is not a boolean", key);
	return json_is_true(v);
}

/* Write the expected "*-signed-request.txt" from the request and the result. */
static void render_signed(struct suite_case *c)
{
	const struct parsed_req *pr = &c->req;
	const struct ig_sigv4_result *res = &c->res;
	FILE *f = open_memstream(&c->signed_text, &c->signed_len);

	assert_non_null(f);
	if (c->presign)
		fprintf(f, "%s %s?%s HTTP/1.1\n", pr->method, pr->path, res->signed_query);
	else
		fprintf(f, "%s %s HTTP/1.1\n", pr->method, pr->target);
	if (pr->header_block_len > 0)
		fwrite(pr->header_block, 1, pr->header_block_len, f);
	if (!c->presign) {
		if (c->creds.session_token != NULL)
			fprintf(f, "X-Amz-Security-Token:%s\n", c->creds.session_token);
		fprintf(f, "X-Amz-Date:%s\n", res->amz_date);
		if (ctx_bool(c->ctx, "sign_body", 1))
			fprintf(f, "x-amz-content-sha256:%s\n", res->content_sha256);
		fprintf(f, "Authorization:%s\n", res->authorization);
	}
	fputc('\n', f);
	if (pr->body_len > 0)
		fwrite(pr->body, 1, pr->body_len, f);
	assert_int_equal(fclose(f), 0);
}

static void expect_file(const struct suite_case *c, const char *file, const char *actual,
                        size_t alen)
{
	char path[PATH_MAX];
	char *want = NULL;
	size_t wlen = 0;

	assert_int_equal(ig_bfmt(path, sizeof(path), "%s/%s", c->dir, file), 0);
	if (read_text(path, &want, &wlen) != 0)
		fail_msg("%s: cannot read %s", c->name, path);
	if (wlen != alen || memcmp(want, actual, alen) != 0) {
		print_error("%s: %s differs\n--- expected (%zu bytes)\n%s\n--- actual (%zu "
		            "bytes)\n%.*s\n",
		            c->name, file, wlen, want, alen, (int)alen, actual);
		free(want);
		fail();
	}
	free(want);
}

/* The Authorization line alone, named so a mismatch reads plainly. */
static void expect_authorization_line(const struct suite_case *c)
{
	char path[PATH_MAX];
	char *want = NULL, *line, *eol;
	size_t wlen = 0;
	int same;

	assert_int_equal(ig_bfmt(path, sizeof(path), "%s/header-signed-request.txt", c->dir), 0);
	assert_int_equal(read_text(path, &want, &wlen), 0);
	line = strstr(want, "\nAuthorization:");
	if (line == NULL) {
		free(want);
		fail_msg("%s: no Authorization line in %s", c->name, path);
	}
	line += strlen("\nAuthorization:");
	eol = strchr(line, '\n');
	if (eol != NULL)
		*eol = '\0';
	same = strcmp(line, c->res.authorization) == 0;
	if (!same)
		print_error("%s: Authorization\n  want %s\n  got  %s\n", c->name, line,
		            c->res.authorization);
	free(want);
	assert_true(same);
}

static void test_suite_case(void **state)
{
	struct suite_case *c = *state;
	const char *pre = c->presign ? "query" : "header";
	json_t *cr;
	json_error_t jerr;
	struct ig_sigv4_request req = {0};
	struct ig_sigv4_params p = {0};
	char path[PATH_MAX], file[64];
	struct tm tm = {0};
	const char *ts, *end;
	json_int_t exp;

	parse_request(c->dir, &c->req);
	assert_int_equal(ig_bfmt(path, sizeof(path), "%s/context.json", c->dir), 0);
	c->ctx = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (c->ctx == NULL)
		fail_msg("%s: %s: %s", c->name, path, jerr.text);
	cr = json_object_get(c->ctx, "credentials");
	assert_true(json_is_object(cr));
	set_creds(&c->creds, ctx_str(cr, "access_key_id"), ctx_str(cr, "secret_access_key"),
	          json_object_get(cr, "token") != NULL ? ctx_str(cr, "token") : NULL);

	ts = ctx_str(c->ctx, "timestamp");
	end = strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_non_null(end);
	assert_int_equal(*end, '\0');
	exp = json_integer_value(json_object_get(c->ctx, "expiration_in_seconds"));
	assert_true(exp > 0 && exp <= IG_SIGV4_MAX_EXPIRES);

	req.method = c->req.method;
	req.path = c->req.path;
	req.query = c->req.query;
	req.headers = c->req.hdr;
	req.n_headers = c->req.nh;
	req.body = c->req.body;
	req.body_len = c->req.body_len;
	p.region = ctx_str(c->ctx, "region");
	p.service = ctx_str(c->ctx, "service");
	p.now = timegm(&tm);
	p.creds = &c->creds;
	p.normalize_path = ctx_bool(c->ctx, "normalize", 1);
	p.sign_body = ctx_bool(c->ctx, "sign_body", 1);
	p.omit_session_token = ctx_bool(c->ctx, "omit_session_token", 0);
	p.presign = c->presign;
	p.expires_seconds = (unsigned)exp;

	sign_ok(&req, &p, &c->res);

	assert_int_equal(ig_bfmt(file, sizeof(file), "%s-canonical-request.txt", pre), 0);
	expect_file(c, file, c->res.canonical_request, strlen(c->res.canonical_request));
	assert_int_equal(ig_bfmt(file, sizeof(file), "%s-string-to-sign.txt", pre), 0);
	expect_file(c, file, c->res.string_to_sign, strlen(c->res.string_to_sign));
	assert_int_equal(ig_bfmt(file, sizeof(file), "%s-signature.txt", pre), 0);
	expect_file(c, file, c->res.signature, strlen(c->res.signature));
	if (c->presign) {
		assert_null(c->res.authorization);
		assert_non_null(c->res.signed_query);
	} else {
		assert_null(c->res.signed_query);
		expect_authorization_line(c);
	}
	render_signed(c);
	assert_int_equal(ig_bfmt(file, sizeof(file), "%s-signed-request.txt", pre), 0);
	expect_file(c, file, c->signed_text, c->signed_len);
}

static int teardown_case(void **state)
{
	struct suite_case *c = *state;

	free_parsed(&c->req);
	json_decref(c->ctx);
	c->ctx = NULL;
	ig_aws_creds_clear(&c->creds);
	ig_sigv4_result_free(&c->res);
	free(c->signed_text);
	c->signed_text = NULL;
	c->signed_len = 0;
	return 0;
}

static void test_suite_present(void **state)
{
	(void)state;
	if (!suite_opened)
		fail_msg("signing test suite not found at %s (set IG_SIGV4_SUITE)", suite_dir);
	if (suite_ncases < SUITE_MIN_CASES)
		fail_msg("signing test suite at %s has %zu cases, want at least %d", suite_dir,
		         suite_ncases, SUITE_MIN_CASES);
}

/* ------------------------------------------------------------------ */
/* known answers                                                        */
/* ------------------------------------------------------------------ */

/* AWS's documented example: IAM ListUsers, GET with a query, 2015-08-30. */
static void test_kat_iam_listusers(void **state)
{
	static const struct ig_http_header h[] = {
	        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
	        {"Host", "iam.amazonaws.com"},
	};
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;
	struct ig_sigv4_result res = {0};

	(void)state;
	base_request(&req, &p, &c);
	req.query = "Action=ListUsers&Version=2010-05-08";
	req.headers = h;
	req.n_headers = 2;
	p.service = "iam";
	sign_ok(&req, &p, &res);
	assert_string_equal(res.canonical_request,
	                    "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
	                    "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
	                    "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	                    "content-type;host;x-amz-date\n" EMPTY_SHA256);
	assert_string_equal(
	        res.string_to_sign,
	        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
	        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
	assert_string_equal(res.signature,
	                    "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
	assert_string_equal(res.authorization,
	                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/"
	                    "aws4_request, SignedHeaders=content-type;host;x-amz-date, "
	                    "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6"
	                    "f2b5d7");
	assert_string_equal(res.amz_date, "20150830T123600Z");
	assert_string_equal(res.content_sha256, EMPTY_SHA256);
	ig_sigv4_result_free(&res);
	ig_aws_creds_clear(&c);
}

#define STS_BODY                                                                                   \
	"Action=AssumeRole&DurationSeconds=900&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole"   \
	"%2Fdb-readonly&RoleSessionName=alice&SourceIdentity=alice&Version=2011-06-15"
#define STS_TOKEN "IQoJb3JpZ2luX2VjEXAMPLE//token+with/base64=="

static void sts_request(struct ig_sigv4_request *req, struct ig_sigv4_params *p,
                        struct ig_aws_creds *c)
{
	static const struct ig_http_header h[] = {
	        {"Host", "sts.eu-west-1.amazonaws.com"},
	        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
	};

	base_request(req, p, c);
	ig_aws_creds_clear(c);
	set_creds(c, "ASIAEXAMPLEKEYID0001", EX_SECRET, STS_TOKEN);
	req->method = "POST";
	req->headers = h;
	req->n_headers = 2;
	req->body = (const uint8_t *)STS_BODY;
	req->body_len = strlen(STS_BODY);
	p->region = "eu-west-1";
	p->service = "sts";
	p->now = 1714979289; /* 2024-05-06T07:08:09Z */
}

/*
 * The request the STS client sends: POST / with a form body, signed with
 * temporary credentials.  Expected values computed independently with
 * botocore's SigV4Auth (python3-botocore) for the same inputs.
 */
static void test_kat_sts_post_session_token(void **state)
{
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;
	struct ig_sigv4_result res = {0};
	char body_hex[65];
	unsigned char md[32];
	unsigned int mdlen = 0;

	(void)state;
	sts_request(&req, &p, &c);
	sign_ok(&req, &p, &res);
	assert_string_equal(res.canonical_request,
	                    "POST\n/\n\n"
	                    "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
	                    "host:sts.eu-west-1.amazonaws.com\n"
	                    "x-amz-date:20240506T070809Z\n"
	                    "x-amz-security-token:" STS_TOKEN "\n\n"
	                    "content-type;host;x-amz-date;x-amz-security-token\n"
	                    "2b01c9f6ca0c95fb77026a7af8795eb74390e24cc1e6332c61718558fca3b253");
	assert_string_equal(
	        res.string_to_sign,
	        "AWS4-HMAC-SHA256\n20240506T070809Z\n20240506/eu-west-1/sts/aws4_request\n"
	        "e84afd41888b376555dbb99e00971c5d12ad9a5393b35730184427fcd70bb515");
	assert_string_equal(res.authorization,
	                    "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEYID0001/20240506/eu-west-1/"
	                    "sts/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-"
	                    "security-token, Signature=60ac1244243acd4f7d1de2a4b7b0ba9dd1b5b3d7b64"
	                    "f5933f23c0bbe3e35d031");
	/* content_sha256 is the body's SHA-256, whatever sign_body says. */
	assert_int_equal(EVP_Digest(STS_BODY, strlen(STS_BODY), md, &mdlen, EVP_sha256(), NULL), 1);
	ig_hex(md, sizeof(md), body_hex);
	assert_string_equal(res.content_sha256, body_hex);
	assert_string_equal(res.content_sha256,
	                    "2b01c9f6ca0c95fb77026a7af8795eb74390e24cc1e6332c61718558fca3b253");
	ig_sigv4_result_free(&res);
	ig_aws_creds_clear(&c);
}

/* The same STS request with sign_body and with the token left unsigned. */
static void test_sts_sign_body_and_omit_token(void **state)
{
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;
	struct ig_sigv4_result a = {0}, b = {0};
	char line[512];

	(void)state;
	sts_request(&req, &p, &c);
	p.sign_body = 1;
	sign_ok(&req, &p, &a);
	assert_non_null(strstr(a.canonical_request,
	                       "\nx-amz-content-sha256:2b01c9f6ca0c95fb77026a"
	                       "7af8795eb74390e24cc1e6332c61718558fca3b253\n"));
	canonical_line(a.canonical_request, 9, line, sizeof(line));
	assert_string_equal(line, "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-"
	                          "security-token");
	assert_non_null(strstr(a.authorization, "SignedHeaders=content-type;host;x-amz-content-"
	                                        "sha256;x-amz-date;x-amz-security-token,"));

	p.sign_body = 0;
	p.omit_session_token = 1;
	sign_ok(&req, &p, &b);
	assert_null(strstr(b.canonical_request, "security-token"));
	assert_null(strstr(b.canonical_request, STS_TOKEN));
	assert_non_null(strstr(b.authorization, "SignedHeaders=content-type;host;x-amz-date,"));
	assert_string_not_equal(a.signature, b.signature);
	ig_sigv4_result_free(&a);
	ig_sigv4_result_free(&b);

	/* Presigned, the token goes in the query, encoded, and is signed. */
	p.omit_session_token = 0;
	p.presign = 1;
	p.expires_seconds = 900;
	sign_ok(&req, &p, &a);
	assert_null(a.authorization);
	assert_non_null(strstr(a.signed_query, "&X-Amz-Expires=900&X-Amz-Security-Token="
	                                       "IQoJb3JpZ2luX2VjEXAMPLE%2F%2Ftoken%2Bwith%2Fbase64%"
	                                       "3D%3D&X-Amz-Signature="));
	assert_non_null(strstr(a.canonical_request, "&X-Amz-Security-Token=IQoJ"));
	ig_sigv4_result_free(&a);
	ig_aws_creds_clear(&c);
}

/*
 * Double encoding: a path already percent-encoded on the wire is encoded
 * once more.  Expected values computed with botocore for the URL
 * https://example.amazonaws.com/a%20b/c~d/%E1%88%B4?x=1 .
 */
static void test_kat_double_encoded_path(void **state)
{
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;
	struct ig_sigv4_result res = {0};

	(void)state;
	base_request(&req, &p, &c);
	req.path = "/a%20b/c~d/%E1%88%B4";
	req.query = "x=1";
	sign_ok(&req, &p, &res);
	assert_string_equal(res.canonical_request,
	                    "GET\n/a%2520b/c~d/%25E1%2588%25B4\nx=1\nhost:example.amazonaws.com\n"
	                    "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" EMPTY_SHA256);
	assert_string_equal(res.signature,
	                    "2eed602035f9814bf9bd53ec1e803ea1bec1a3108274813b7aa9422ddd2bb9e2");
	ig_sigv4_result_free(&res);
	ig_aws_creds_clear(&c);
}

/* ------------------------------------------------------------------ */
/* canonicalization details                                             */
/* ------------------------------------------------------------------ */

static void test_path_normalization(void **state)
{
	static const struct {
		const char *in;
		int normalize;
		const char *want;
	} t[] = {
	        {"/", 1, "/"},
	        {"/a/b/../c/./d", 1, "/a/c/d"},
	        {"/a/b/..", 1, "/a/"},
	        {"/a/b/.", 1, "/a/b/"},
	        {"/..", 1, "/"},
	        {"/../../a", 1, "/a"},
	        {"///", 1, "/"},
	        {"/a//b///c/", 1, "/a/b/c/"},
	        {"/.a/..b/...", 1, "/.a/..b/..."},
	        {"/a/b/../c/./d", 0, "/a/b/../c/./d"},
	        {"/a b/ü", 1, "/a%20b/%C3%BC"},
	        {"/a:b@c!$&'()*+,;=", 1, "/a%3Ab%40c%21%24%26%27%28%29%2A%2B%2C%3B%3D"},
	};
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;
	char line[256];

	(void)state;
	base_request(&req, &p, &c);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ig_sigv4_result res = {0};

		req.path = t[i].in;
		p.normalize_path = t[i].normalize;
		sign_ok(&req, &p, &res);
		canonical_line(res.canonical_request, 1, line, sizeof(line));
		if (strcmp(line, t[i].want) != 0)
			print_error("path %s (normalize=%d): want %s got %s\n", t[i].in,
			            t[i].normalize, t[i].want, line);
		assert_string_equal(line, t[i].want);
		ig_sigv4_result_free(&res);
	}
	ig_aws_creds_clear(&c);
}

static void test_query_canonicalization(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} t[] = {
	        {"b=2&a=1", "a=1&b=2"},
	        {"a=2&a=1&a=10", "a=1&a=10&a=2"},
	        {"a", "a="},
	        {"a=", "a="},
	        {"=v", "=v"},
	        {"k=%7e%7E", "k=~~"},
	        {"k=%2f/", "k=%2F%2F"},
	        {"k=a%20b", "k=a%20b"},
	        {"k=v=w", "k=v%3Dw"},
	        {"%00=x", "%00=x"},
	        {"B=1&a=1&_=1&~=1", "B=1&_=1&a=1&~=1"},
	        {"x-amz-custom=1", "x-amz-custom=1"},
	};
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;
	char line[256];

	(void)state;
	base_request(&req, &p, &c);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ig_sigv4_result res = {0};

		req.query = t[i].in;
		sign_ok(&req, &p, &res);
		canonical_line(res.canonical_request, 2, line, sizeof(line));
		if (strcmp(line, t[i].want) != 0)
			print_error("query %s: want %s got %s\n", t[i].in, t[i].want, line);
		assert_string_equal(line, t[i].want);
		ig_sigv4_result_free(&res);
	}
	ig_aws_creds_clear(&c);
}

static void test_header_canonicalization(void **state)
{
	static const struct ig_http_header h[] = {
	        {"hOsT", "example.amazonaws.com"},
	        {"X-Fold", "a\r\n  b\n\tc"},
	        {"X-Tabs", "\t x \t y\t"},
	        {"X-Empty", ""},
	        {"X-Spaces", "   "},
	        {"X-Rep", "2"},
	        {"x-rep", " 1 "},
	        {"X-Case", "MiXeD"},
	};
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;
	struct ig_sigv4_result res = {0};

	(void)state;
	base_request(&req, &p, &c);
	req.headers = h;
	req.n_headers = sizeof(h) / sizeof(h[0]);
	sign_ok(&req, &p, &res);
	assert_string_equal(
	        res.canonical_request,
	        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
	        "x-case:MiXeD\nx-empty:\nx-fold:a b c\nx-rep:2,1\nx-spaces:\n"
	        "x-tabs:x y\n\n"
	        "host;x-amz-date;x-case;x-empty;x-fold;x-rep;x-spaces;x-tabs\n" EMPTY_SHA256);
	ig_sigv4_result_free(&res);
	ig_aws_creds_clear(&c);
}

/* ------------------------------------------------------------------ */
/* refusals                                                             */
/* ------------------------------------------------------------------ */

static void test_null_args(void **state)
{
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;
	struct ig_sigv4_result res;
	static const struct ig_http_header null_name[] = {{NULL, "x"}, {"Host", "h"}};
	static const struct ig_http_header null_value[] = {{"Host", NULL}};

	(void)state;
	base_request(&req, &p, &c);
	assert_int_equal(ig_sigv4_sign(&req, &p, NULL), IG_ERR_INVAL);
	expect_err(NULL, &p, IG_ERR_INVAL);
	expect_err(&req, NULL, IG_ERR_INVAL);
	memset(&res, 0, sizeof(res));

	p.creds = NULL;
	expect_err(&req, &p, IG_ERR_INVAL);
	p.creds = &c;
	req.method = NULL;
	expect_err(&req, &p, IG_ERR_INVAL);
	req.method = "GET";
	req.path = NULL;
	expect_err(&req, &p, IG_ERR_INVAL);
	req.path = "/";
	p.region = NULL;
	expect_err(&req, &p, IG_ERR_INVAL);
	p.region = "us-east-1";
	p.service = NULL;
	expect_err(&req, &p, IG_ERR_INVAL);
	p.service = "service";
	req.headers = NULL;
	expect_err(&req, &p, IG_ERR_INVAL);
	req.headers = null_name;
	req.n_headers = 2;
	expect_err(&req, &p, IG_ERR_INVAL);
	req.headers = null_value;
	req.n_headers = 1;
	expect_err(&req, &p, IG_ERR_INVAL);
	req.headers = host_only;
	req.body = NULL;
	req.body_len = 1;
	expect_err(&req, &p, IG_ERR_INVAL);
	req.body_len = 0;

	/* NULL body with length 0 and NULL query are fine. */
	sign_ok(&req, &p, &res);
	assert_string_equal(res.signature,
	                    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	ig_sigv4_result_free(&res);
	ig_sigv4_result_free(&res); /* idempotent */
	ig_sigv4_result_free(NULL);
	ig_aws_creds_clear(&c);
	ig_aws_creds_clear(NULL);
}

static char *filled(size_t n, char ch)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

static void test_absurd_sizes(void **state)
{
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;
	struct ig_http_header *many;
	static const uint8_t one = 'x';
	char *big;
	struct ig_http_header hv[2] = {{"Host", "example.amazonaws.com"}, {"X-Big", NULL}};

	(void)state;
	base_request(&req, &p, &c);

	req.n_headers = SIZE_MAX;
	expect_err(&req, &p, IG_ERR_RANGE);
	req.n_headers = IG_SIGV4_MAX_HEADERS + 1;
	expect_err(&req, &p, IG_ERR_RANGE);
	req.n_headers = 1;

	req.body = &one;
	req.body_len = SIZE_MAX;
	expect_err(&req, &p, IG_ERR_RANGE);
	req.body_len = (size_t)IG_SIGV4_MAX_BODY + 1;
	expect_err(&req, &p, IG_ERR_RANGE);
	req.body = NULL;
	req.body_len = 0;

	/* The most headers allowed still sign. */
	many = calloc(IG_SIGV4_MAX_HEADERS, sizeof(*many));
	assert_non_null(many);
	many[0] = host_only[0];
	for (size_t i = 1; i < IG_SIGV4_MAX_HEADERS; i++) {
		many[i].name = "X-Many";
		many[i].value = "v";
	}
	req.headers = many;
	req.n_headers = IG_SIGV4_MAX_HEADERS;
	{
		struct ig_sigv4_result res = {0};

		sign_ok(&req, &p, &res);
		ig_sigv4_result_free(&res);
	}
	free(many);
	req.headers = host_only;
	req.n_headers = 1;

	big = filled(IG_SIGV4_MAX_PATH + 1, 'a');
	big[0] = '/';
	req.path = big;
	expect_err(&req, &p, IG_ERR_RANGE);
	big[IG_SIGV4_MAX_PATH] = '\0'; /* exactly the limit: fine */
	{
		struct ig_sigv4_result res = {0};

		sign_ok(&req, &p, &res);
		ig_sigv4_result_free(&res);
	}
	free(big);
	req.path = "/";

	big = filled(IG_SIGV4_MAX_QUERY + 1, 'q');
	req.query = big;
	expect_err(&req, &p, IG_ERR_RANGE);
	free(big);
	/* Too many parameters: "a&a&a..." */
	big = filled(2 * (IG_SIGV4_MAX_QUERY_PARAMS + 1) - 1, '&');
	for (size_t i = 0; i < 2 * (IG_SIGV4_MAX_QUERY_PARAMS + 1); i += 2)
		big[i] = 'a';
	req.query = big;
	expect_err(&req, &p, IG_ERR_RANGE);
	big[2 * IG_SIGV4_MAX_QUERY_PARAMS - 1] = '\0'; /* exactly the limit: fine */
	{
		struct ig_sigv4_result res = {0};

		sign_ok(&req, &p, &res);
		ig_sigv4_result_free(&res);
	}
	free(big);
	req.query = NULL;

	big = filled(IG_SIGV4_MAX_HEADER_VALUE + 1, 'v');
	hv[1].value = big;
	req.headers = hv;
	req.n_headers = 2;
	expect_err(&req, &p, IG_ERR_RANGE);
	free(big);
	big = filled(IG_SIGV4_MAX_HEADER_NAME + 1, 'n');
	hv[1].name = big;
	hv[1].value = "v";
	expect_err(&req, &p, IG_ERR_RANGE);
	free(big);
	req.headers = host_only;
	req.n_headers = 1;

	c.session_token = filled(IG_SIGV4_MAX_TOKEN + 1, 'T');
	expect_err(&req, &p, IG_ERR_RANGE);
	c.session_token[IG_SIGV4_MAX_TOKEN] = '\0'; /* exactly the limit: fine */
	{
		struct ig_sigv4_result res = {0};

		sign_ok(&req, &p, &res);
		ig_sigv4_result_free(&res);
	}

	p.presign = 1;
	p.expires_seconds = 0;
	expect_err(&req, &p, IG_ERR_RANGE);
	p.expires_seconds = IG_SIGV4_MAX_EXPIRES + 1;
	expect_err(&req, &p, IG_ERR_RANGE);
	p.expires_seconds = (unsigned)-1;
	expect_err(&req, &p, IG_ERR_RANGE);
	p.presign = 0;

	p.now = -1;
	expect_err(&req, &p, IG_ERR_RANGE);
	p.now = (time_t)253402300800LL; /* 10000-01-01 */
	expect_err(&req, &p, IG_ERR_RANGE);
	p.now = (time_t)253402300799LL; /* 9999-12-31T23:59:59Z: fine */
	{
		struct ig_sigv4_result res = {0};

		sign_ok(&req, &p, &res);
		assert_string_equal(res.amz_date, "99991231T235959Z");
		ig_sigv4_result_free(&res);
	}
	ig_aws_creds_clear(&c);
}

static void test_bad_path(void **state)
{
	static const char *const bad[] = {"",      "a/b",  "/a\r\nX: y", "/a\nb",
	                                  "/a\tb", "/a?b", "/a#b",       "/\x7f"};
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;

	(void)state;
	base_request(&req, &p, &c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req.path = bad[i];
		expect_err(&req, &p, IG_ERR_INVAL);
		p.normalize_path = 0;
		expect_err(&req, &p, IG_ERR_INVAL);
		p.normalize_path = 1;
	}
	ig_aws_creds_clear(&c);
}

static void test_bad_query(void **state)
{
	static const struct {
		const char *q;
		int err;
	} t[] = {
	        {"a=%G1", IG_ERR_PARSE},
	        {"a=%4", IG_ERR_PARSE},
	        {"a=%", IG_ERR_PARSE},
	        {"%zz=1", IG_ERR_PARSE},
	        {"a=1&&b=2", IG_ERR_INVAL},
	        {"&a=1", IG_ERR_INVAL},
	        {"a=1&", IG_ERR_INVAL},
	        {"&", IG_ERR_INVAL},
	        {"a=b+c", IG_ERR_INVAL},
	        {"a=b c", IG_ERR_INVAL},
	        {"a=b#c", IG_ERR_INVAL},
	        {"a=b\r\nc", IG_ERR_INVAL},
	        {"X-Amz-Signature=abc", IG_ERR_INVAL},
	        {"x-amz-date=1", IG_ERR_INVAL},
	        {"X-Amz-Security-Token=t", IG_ERR_INVAL},
	        {"X%2DAmz%2DCredential=x", IG_ERR_INVAL},
	};
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;

	(void)state;
	base_request(&req, &p, &c);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		req.query = t[i].q;
		expect_err(&req, &p, t[i].err);
		p.presign = 1;
		expect_err(&req, &p, t[i].err);
		p.presign = 0;
	}
	ig_aws_creds_clear(&c);
}

static void test_bad_headers(void **state)
{
	static const struct {
		const char *name;
		const char *value;
	} t[] = {
	        {"", "v"},
	        {"Bad Name", "v"},
	        {"Bad:Name", "v"},
	        {"Bad\r\nName", "v"},
	        {"X-Inject", "v\r\nX-Evil: 1"},
	        {"X-Inject", "v\nX-Evil: 1"},
	        {"X-Inject", "v\r"},
	        {"X-Inject", "v\rX"},
	        {"X-Ctl", "a\x01"},
	        {"X-Del", "a\x7f"},
	        {"Authorization", "AWS4-HMAC-SHA256 forged"},
	        {"X-Amz-Date", "20150830T123600Z"},
	        {"x-amz-security-token", "t"},
	        {"X-Amz-Content-SHA256", EMPTY_SHA256},
	        {"Host", "second.example.com"},
	};
	struct ig_http_header h[2] = {{"Host", "example.amazonaws.com"}, {NULL, NULL}};
	static const struct ig_http_header nohost[] = {{"X-A", "1"}};
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;

	(void)state;
	base_request(&req, &p, &c);
	req.headers = h;
	req.n_headers = 2;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		h[1].name = t[i].name;
		h[1].value = t[i].value;
		expect_err(&req, &p, IG_ERR_INVAL);
		p.presign = 1;
		expect_err(&req, &p, IG_ERR_INVAL);
		p.presign = 0;
	}
	req.headers = nohost;
	req.n_headers = 1;
	expect_err(&req, &p, IG_ERR_INVAL);
	req.n_headers = 0;
	expect_err(&req, &p, IG_ERR_INVAL);
	ig_aws_creds_clear(&c);
}

static void test_bad_creds_scope_method(void **state)
{
	static const char *const bad_scope[] = {"",
	                                        "US-EAST-1",
	                                        "us east 1",
	                                        "us/east/1",
	                                        "us_east_1",
	                                        "us-east-1\n",
	                                        "0123456789012345678901234567890123456789012345678"
	                                        "901234567890123"};
	static const char *const bad_method[] = {"", "get", "G ET", "GET\r\n", "ABCDEFGHIJKLMNOPQ"};
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;

	(void)state;
	base_request(&req, &p, &c);
	for (size_t i = 0; i < sizeof(bad_scope) / sizeof(bad_scope[0]); i++) {
		p.region = bad_scope[i];
		expect_err(&req, &p, IG_ERR_INVAL);
		p.region = "us-east-1";
		p.service = bad_scope[i];
		expect_err(&req, &p, IG_ERR_INVAL);
		p.service = "service";
	}
	for (size_t i = 0; i < sizeof(bad_method) / sizeof(bad_method[0]); i++) {
		req.method = bad_method[i];
		expect_err(&req, &p, IG_ERR_INVAL);
	}
	req.method = "GET";

	c.access_key_id[0] = '\0';
	expect_err(&req, &p, IG_ERR_INVAL);
	memset(c.access_key_id, 'A', sizeof(c.access_key_id)); /* not terminated */
	expect_err(&req, &p, IG_ERR_INVAL);
	memcpy(c.access_key_id, "AKID/EX", 8);
	expect_err(&req, &p, IG_ERR_INVAL);
	memcpy(c.access_key_id, "AKIDEXAMPLE", 12);

	c.secret_access_key[0] = '\0';
	expect_err(&req, &p, IG_ERR_INVAL);
	memset(c.secret_access_key, 's', sizeof(c.secret_access_key)); /* not terminated */
	expect_err(&req, &p, IG_ERR_INVAL);
	memcpy(c.secret_access_key, "sec ret", 8);
	expect_err(&req, &p, IG_ERR_INVAL);
	memcpy(c.secret_access_key, "sec\nret", 8);
	expect_err(&req, &p, IG_ERR_INVAL);
	memcpy(c.secret_access_key, EX_SECRET, sizeof(EX_SECRET));

	c.session_token = strdup("");
	assert_non_null(c.session_token);
	expect_err(&req, &p, IG_ERR_INVAL);
	free(c.session_token);
	c.session_token = strdup("tok\r\nX-Evil: 1");
	assert_non_null(c.session_token);
	expect_err(&req, &p, IG_ERR_INVAL);
	free(c.session_token);
	c.session_token = strdup("tok en");
	assert_non_null(c.session_token);
	expect_err(&req, &p, IG_ERR_INVAL);
	ig_aws_creds_clear(&c);
}

/* ------------------------------------------------------------------ */
/* other properties                                                     */
/* ------------------------------------------------------------------ */

static void test_uri_encode(void **state)
{
	char all[256], *e, *big;

	(void)state;
	assert_null(ig_sigv4_uri_encode(NULL, 0, 1));
	big = filled(IG_SIGV4_MAX_ENCODE_IN + 1, 'a');
	assert_null(ig_sigv4_uri_encode(big, IG_SIGV4_MAX_ENCODE_IN + 1, 1));
	e = ig_sigv4_uri_encode(big, IG_SIGV4_MAX_ENCODE_IN, 1);
	assert_non_null(e);
	assert_int_equal(strlen(e), IG_SIGV4_MAX_ENCODE_IN);
	free(e);
	free(big);

	e = ig_sigv4_uri_encode("", 0, 1);
	assert_non_null(e);
	assert_string_equal(e, "");
	free(e);
	e = ig_sigv4_uri_encode("a b/c~d+e=", 10, 0);
	assert_string_equal(e, "a%20b/c~d%2Be%3D");
	free(e);
	e = ig_sigv4_uri_encode("a b/c~d+e=", 10, 1);
	assert_string_equal(e, "a%20b%2Fc~d%2Be%3D");
	free(e);
	/* Length, not NUL, ends the input. */
	e = ig_sigv4_uri_encode("a\0b", 3, 1);
	assert_string_equal(e, "a%00b");
	free(e);

	/* Every byte: unreserved kept, the rest %XX with upper-case hex. */
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	e = ig_sigv4_uri_encode(all, sizeof(all), 1);
	assert_non_null(e);
	{
		size_t o = 0;

		for (int i = 0; i < 256; i++) {
			int keep = (i >= 'A' && i <= 'Z') || (i >= 'a' && i <= 'z') ||
			           (i >= '0' && i <= '9') || i == '-' || i == '.' || i == '_' ||
			           i == '~';
			char want[4];

			if (keep) {
				assert_int_equal((unsigned char)e[o], i);
				o++;
				continue;
			}
			assert_int_equal(ig_bfmt(want, sizeof(want), "%%%02X", i), 0);
			assert_memory_equal(e + o, want, 3);
			o += 3;
		}
		assert_int_equal(e[o], '\0');
	}
	free(e);
}

static void test_creds_clear(void **state)
{
	struct ig_aws_creds c;
	static const struct ig_aws_creds zero;

	(void)state;
	set_creds(&c, EX_AKID, EX_SECRET, "token");
	c.expiration = 42;
	ig_aws_creds_clear(&c);
	assert_memory_equal(&c, &zero, sizeof(c));
	ig_aws_creds_clear(&c); /* twice is fine */
}

/* The secret key never appears in anything the signer returns. */
static void test_no_secret_in_output(void **state)
{
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;
	struct ig_sigv4_result res = {0};

	(void)state;
	base_request(&req, &p, &c);
	for (int presign = 0; presign <= 1; presign++) {
		p.presign = presign;
		sign_ok(&req, &p, &res);
		assert_null(strstr(res.canonical_request, EX_SECRET));
		assert_null(strstr(res.string_to_sign, EX_SECRET));
		if (res.authorization != NULL)
			assert_null(strstr(res.authorization, EX_SECRET));
		if (res.signed_query != NULL) {
			assert_null(strstr(res.signed_query, EX_SECRET));
			assert_null(strstr(res.signed_query, "wJalrXUtnFEMI%2FK7MDENG"));
		}
		ig_sigv4_result_free(&res);
	}
	ig_aws_creds_clear(&c);
}

/* Same input, same signature; any change to a signed input changes it. */
static void test_signature_binds_inputs(void **state)
{
	static const uint8_t body_a[] = "Action=A", body_b[] = "Action=B";
	static const struct ig_http_header h2[] = {{"Host", "example.amazonaws.com"}, {"X-A", "1"}};
	static const struct ig_http_header h3[] = {{"Host", "example.amazonaws.com"}, {"X-A", "2"}};
	struct ig_sigv4_request req;
	struct ig_sigv4_params p;
	struct ig_aws_creds c;
	struct ig_sigv4_result base = {0}, res = {0};

	(void)state;
	base_request(&req, &p, &c);
	req.method = "POST";
	req.body = body_a;
	req.body_len = sizeof(body_a) - 1;
	req.headers = h2;
	req.n_headers = 2;
	sign_ok(&req, &p, &base);
	sign_ok(&req, &p, &res);
	assert_string_equal(base.signature, res.signature);
	ig_sigv4_result_free(&res);

#define CHANGED(stmt, undo)                                                                        \
	do {                                                                                       \
		stmt;                                                                              \
		sign_ok(&req, &p, &res);                                                           \
		assert_string_not_equal(base.signature, res.signature);                            \
		ig_sigv4_result_free(&res);                                                        \
		undo;                                                                              \
	} while (0)

	CHANGED(req.body = body_b, req.body = body_a);
	CHANGED(req.headers = h3, req.headers = h2);
	CHANGED(req.method = "PUT", req.method = "POST");
	CHANGED(req.path = "/x", req.path = "/");
	CHANGED(req.query = "a=1", req.query = NULL);
	CHANGED(p.now += 1, p.now -= 1);
	CHANGED(p.region = "eu-west-1", p.region = "us-east-1");
	CHANGED(p.service = "sts", p.service = "service");
	CHANGED(c.secret_access_key[0] = 'X', c.secret_access_key[0] = 'w');
#undef CHANGED
	/* The access key id is not in the string to sign, only in the scope
	 * the Authorization header names. */
	c.access_key_id[0] = 'B';
	sign_ok(&req, &p, &res);
	assert_string_equal(base.signature, res.signature);
	assert_string_not_equal(base.authorization, res.authorization);
	assert_non_null(strstr(res.authorization, "Credential=BKIDEXAMPLE/"));
	ig_sigv4_result_free(&res);
	ig_sigv4_result_free(&base);
	ig_aws_creds_clear(&c);
}

/* ------------------------------------------------------------------ */
/* main: the fixed tests, then one test per suite case and signing mode  */
/* ------------------------------------------------------------------ */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List the suite's case folders (those holding request.txt), sorted. */
static size_t discover(char **names, size_t cap)
{
	DIR *d = opendir(suite_dir);
	struct dirent *de;
	size_t n = 0;

	if (d == NULL)
		return 0;
	suite_opened = 1;
	while ((de = readdir(d)) != NULL && n < cap) {
		char path[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (ig_bfmt(path, sizeof(path), "%s/%s/request.txt", suite_dir, de->d_name) != 0)
			continue;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		names[n] = strdup(de->d_name);
		if (names[n] == NULL)
			break;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	return n;
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
	        cmocka_unit_test(test_suite_present),
	        cmocka_unit_test(test_kat_iam_listusers),
	        cmocka_unit_test(test_kat_sts_post_session_token),
	        cmocka_unit_test(test_sts_sign_body_and_omit_token),
	        cmocka_unit_test(test_kat_double_encoded_path),
	        cmocka_unit_test(test_path_normalization),
	        cmocka_unit_test(test_query_canonicalization),
	        cmocka_unit_test(test_header_canonicalization),
	        cmocka_unit_test(test_null_args),
	        cmocka_unit_test(test_absurd_sizes),
	        cmocka_unit_test(test_bad_path),
	        cmocka_unit_test(test_bad_query),
	        cmocka_unit_test(test_bad_headers),
	        cmocka_unit_test(test_bad_creds_scope_method),
	        cmocka_unit_test(test_uri_encode),
	        cmocka_unit_test(test_creds_clear),
	        cmocka_unit_test(test_no_secret_in_output),
	        cmocka_unit_test(test_signature_binds_inputs),
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	const char *env = getenv("IG_SIGV4_SUITE");
	char *names[SUITE_MAX_CASES];
	struct suite_case *cases = NULL;
	struct CMUnitTest *tests = NULL;
	size_t n, nt = 0;
	int rc = 1;

	if (ig_bfmt(suite_dir, sizeof(suite_dir), "%s",
	            env != NULL && env[0] != '\0' ? env
	                                          : IG_SOURCE_DIR
	                    "/tests/unit/sigv4-test-suite") != 0) {
		fprintf(stderr, "suite path too long\n");
		return 1;
	}
	n = discover(names, SUITE_MAX_CASES);
	suite_ncases = n;
	cases = calloc(2 * n + 1, sizeof(*cases));
	tests = calloc(nfixed + 2 * n, sizeof(*tests));
	if (cases == NULL || tests == NULL) {
		fprintf(stderr, "out of memory\n");
		goto out;
	}
	memcpy(tests, fixed, sizeof(fixed));
	nt = nfixed;
	for (size_t i = 0; i < n; i++) {
		for (int presign = 0; presign <= 1; presign++) {
			struct suite_case *c = &cases[2 * i + (size_t)presign];

			c->presign = presign;
			if (ig_bfmt(c->name, sizeof(c->name), "%s/%s", presign ? "query" : "header",
			            names[i]) != 0 ||
			    ig_bfmt(c->dir, sizeof(c->dir), "%s/%s", suite_dir, names[i]) != 0) {
				fprintf(stderr, "case name too long: %s\n", names[i]);
				goto out;
			}
			tests[nt].name = c->name;
			tests[nt].test_func = test_suite_case;
			tests[nt].setup_func = NULL;
			tests[nt].teardown_func = teardown_case;
			tests[nt].initial_state = c;
			nt++;
		}
	}
	rc = _cmocka_run_group_tests("sigv4", tests, nt, NULL, NULL);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(cases);
	free(tests);
	return rc;
}
