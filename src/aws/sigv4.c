/*
 * sigv4.c - AWS Signature Version 4 (HMAC-SHA256) request signer.
 *
 * Builds the canonical request, the string to sign and the signature from
 * an explicit request, clock and credentials.  SHA-256 and HMAC come from
 * OpenSSL's libcrypto.  Every string is built in an ig_buf capped at
 * OUT_MAX; the secret key, every derived key and every buffer that held
 * the session token are wiped before they are freed.
 *
 * Input that could be read two ways (a '+' in the query, a bare CR or LF in
 * a header value, a second Host header, a caller-supplied X-Amz-Date) is
 * refused rather than guessed at: a signature over something other than
 * what the server parses is either useless or a smuggling vector.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "iamgate/buf.h"
#include "iamgate/sigv4.h"
#include "iamgate/util.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define SHA256_LEN 32
#define SHA256_HEX_LEN 64
#define METHOD_MAX 16
/* No built string (canonical request, query, ...) may exceed this. */
#define OUT_MAX (4u << 20)

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static void add_encoded(struct ig_buf *b, const char *s, size_t n, int encode_slash)
{
	static const char hexu[] = "0123456789ABCDEF";
	char esc[3];

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (c == '/' && !encode_slash)) {
			ig_buf_putc(b, (char)c);
			continue;
		}
		esc[0] = '%';
		esc[1] = hexu[c >> 4];
		esc[2] = hexu[c & 0x0f];
		ig_buf_add(b, esc, 3);
	}
}

char *ig_sigv4_uri_encode(const char *s, size_t len, int encode_slash)
{
	struct ig_buf b = IG_BUF_INIT(OUT_MAX);
	char *out = NULL;

	if (s == NULL || len > IG_SIGV4_MAX_ENCODE_IN)
		return NULL;
	add_encoded(&b, s, len, encode_slash);
	if (ig_buf_take(&b, &out) != 0)
		out = NULL;
	ig_buf_free(&b);
	return out;
}

void ig_aws_creds_clear(struct ig_aws_creds *c)
{
	if (c == NULL)
		return;
	explicit_bzero(c->access_key_id, sizeof(c->access_key_id));
	explicit_bzero(c->secret_access_key, sizeof(c->secret_access_key));
	ig_free_secret_str(c->session_token);
	c->session_token = NULL;
	c->expiration = 0;
}

int ig_aws_creds_key_id_ok(const char *s)
{
	return ig_chars_ok(s, 16, 128, "");
}

int ig_aws_creds_secret_ok(const char *s, size_t max)
{
	return ig_chars_ok(s, 1, max, "/+=");
}

void ig_sigv4_result_free(struct ig_sigv4_result *r)
{
	if (r == NULL)
		return;
	ig_free_secret_str(r->authorization);
	ig_free_secret_str(r->canonical_request);
	ig_free_secret_str(r->string_to_sign);
	ig_free_secret_str(r->signed_query);
	ig_free_secret_str(r->content_sha256);
	explicit_bzero(r, sizeof(*r));
}

/* ---- input validation ---- */

static int is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int check_method(const char *m)
{
	size_t n;

	if (m == NULL)
		return IG_ERR_INVAL;
	n = strnlen(m, METHOD_MAX + 1);
	if (n == 0 || n > METHOD_MAX)
		return IG_ERR_INVAL;
	for (size_t i = 0; i < n; i++)
		if (m[i] < 'A' || m[i] > 'Z')
			return IG_ERR_INVAL;
	return 0;
}

/* Region and service: they go into the credential scope unescaped. */
static int check_scope_name(const char *s)
{
	size_t n;

	if (s == NULL)
		return IG_ERR_INVAL;
	n = strnlen(s, IG_SIGV4_MAX_NAME + 1);
	if (n == 0 || n > IG_SIGV4_MAX_NAME)
		return IG_ERR_INVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return IG_ERR_INVAL;
	}
	return 0;
}

static int check_creds(const struct ig_aws_creds *c, int *have_token)
{
	size_t n;

	*have_token = 0;
	if (c == NULL)
		return IG_ERR_INVAL;
	/* Both keys must be NUL-terminated inside their arrays. */
	n = strnlen(c->access_key_id, sizeof(c->access_key_id));
	if (n == 0 || n == sizeof(c->access_key_id))
		return IG_ERR_INVAL;
	for (size_t i = 0; i < n; i++) {
		char ch = c->access_key_id[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9')))
			return IG_ERR_INVAL;
	}
	n = strnlen(c->secret_access_key, sizeof(c->secret_access_key));
	if (n == 0 || n == sizeof(c->secret_access_key))
		return IG_ERR_INVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c->secret_access_key[i];

		if (ch < 0x21 || ch > 0x7e)
			return IG_ERR_INVAL;
	}
	if (c->session_token == NULL)
		return 0;
	n = strnlen(c->session_token, IG_SIGV4_MAX_TOKEN + 1);
	if (n > IG_SIGV4_MAX_TOKEN)
		return IG_ERR_RANGE;
	/* "" is not "no token": refuse it rather than guess which was meant. */
	if (n == 0)
		return IG_ERR_INVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c->session_token[i];

		if (ch < 0x21 || ch > 0x7e)
			return IG_ERR_INVAL;
	}
	*have_token = 1;
	return 0;
}

static int format_date(time_t now, char amz_date[17])
{
	struct tm tm;

	if (now < 0)
		return IG_ERR_RANGE;
	if (gmtime_r(&now, &tm) == NULL)
		return IG_ERR_RANGE;
	if (tm.tm_year + 1900 > 9999)
		return IG_ERR_RANGE;
	if (strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		return IG_ERR_RANGE;
	return 0;
}

/* ---- canonical URI ---- */

static int build_canonical_uri(const char *path, int normalize, struct ig_buf *out)
{
	size_t n, *seg_off = NULL, *seg_len = NULL, nseg = 0, i, start;
	int trailing = 0, r = 0;

	if (path == NULL)
		return IG_ERR_INVAL;
	n = strnlen(path, IG_SIGV4_MAX_PATH + 1);
	if (n > IG_SIGV4_MAX_PATH)
		return IG_ERR_RANGE;
	if (n == 0 || path[0] != '/')
		return IG_ERR_INVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c < 0x20 || c == 0x7f || c == '?' || c == '#')
			return IG_ERR_INVAL;
	}
	if (!normalize) {
		add_encoded(out, path, n, 0);
		return ig_buf_err(out);
	}

	/*
	 * RFC 3986 dot-segment removal plus collapsing of empty segments
	 * (duplicate slashes).  A path ending in "/", "/." or "/.." keeps a
	 * trailing slash, as RFC 3986 section 5.2.4 does.  At most n/2+1
	 * segments exist, so the stacks are bounded by the path length.
	 */
	seg_off = calloc(n / 2 + 2, sizeof(*seg_off));
	seg_len = calloc(n / 2 + 2, sizeof(*seg_len));
	if (seg_off == NULL || seg_len == NULL) {
		r = IG_ERR_NOMEM;
		goto out;
	}
	start = 1;
	for (i = 1; i <= n; i++) {
		size_t len;

		if (i < n && path[i] != '/')
			continue;
		len = i - start;
		trailing = 0;
		if (len == 0 || (len == 1 && path[start] == '.')) {
			trailing = 1;
		} else if (len == 2 && path[start] == '.' && path[start + 1] == '.') {
			trailing = 1;
			if (nseg > 0)
				nseg--;
		} else {
			seg_off[nseg] = start;
			seg_len[nseg] = len;
			nseg++;
		}
		start = i + 1;
	}
	ig_buf_putc(out, '/');
	for (i = 0; i < nseg; i++) {
		if (i > 0)
			ig_buf_putc(out, '/');
		add_encoded(out, path + seg_off[i], seg_len[i], 0);
	}
	if (trailing && nseg > 0)
		ig_buf_putc(out, '/');
	r = ig_buf_err(out);
out:
	free(seg_off);
	free(seg_len);
	return r;
}

/* ---- canonical headers ---- */

struct chdr {
	char *name;  /* lowercased */
	char *value; /* trimmed, inner whitespace runs collapsed to one space */
	size_t order;
};

static const char *const reserved_headers[] = {"authorization", "x-amz-date",
                                               "x-amz-security-token", "x-amz-content-sha256"};

static int lower_name(const char *name, char **dst)
{
	size_t n;
	char *s;

	if (name == NULL)
		return IG_ERR_INVAL;
	n = strnlen(name, IG_SIGV4_MAX_HEADER_NAME + 1);
	if (n > IG_SIGV4_MAX_HEADER_NAME)
		return IG_ERR_RANGE;
	if (n == 0)
		return IG_ERR_INVAL;
	s = malloc(n + 1);
	if (s == NULL)
		return IG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!is_tchar(c)) {
			free(s);
			return IG_ERR_INVAL;
		}
		s[i] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
	}
	s[n] = '\0';
	*dst = s;
	return 0;
}

/*
 * Trim and collapse whitespace (SP, HTAB, and obs-fold line breaks, i.e. a
 * CRLF or LF followed by SP/HTAB).  Any other control byte, and a line
 * break that does not continue the value, is refused: it would let a value
 * inject a header of its own.
 */
static int normalize_value(const char *v, char **dst)
{
	size_t n, o = 0;
	int pending = 0;
	char *s;

	if (v == NULL)
		return IG_ERR_INVAL;
	n = strnlen(v, IG_SIGV4_MAX_HEADER_VALUE + 1);
	if (n > IG_SIGV4_MAX_HEADER_VALUE)
		return IG_ERR_RANGE;
	s = malloc(n + 1);
	if (s == NULL)
		return IG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\r') {
			if (v[i + 1] != '\n')
				goto bad;
			i++;
			c = '\n';
		}
		if (c == '\n') {
			if (v[i + 1] != ' ' && v[i + 1] != '\t')
				goto bad;
			pending = 1;
			continue;
		}
		if (c == ' ' || c == '\t') {
			pending = 1;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			goto bad;
		if (pending && o > 0)
			s[o++] = ' ';
		pending = 0;
		s[o++] = (char)c;
	}
	s[o] = '\0';
	*dst = s;
	return 0;
bad:
	ig_freezero(s, n + 1);
	return IG_ERR_INVAL;
}

static int cmp_chdr(const void *a, const void *b)
{
	const struct chdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	/* Keep the given order of repeated headers: qsort is not stable. */
	return (x->order > y->order) - (x->order < y->order);
}

static int add_chdr(struct chdr *h, size_t order, const char *lname, const char *value)
{
	h->order = order;
	h->name = strdup(lname);
	if (h->name == NULL)
		return IG_ERR_NOMEM;
	return normalize_value(value, &h->value);
}

/* The caller's headers into h[*n..]: lowercased, none of the signer's
 * own, exactly one Host.  *n counts every slot that may hold memory. */
static int take_headers(const struct ig_sigv4_request *req, struct chdr *h, size_t *n)
{
	size_t hosts = 0;
	int r;

	for (size_t i = 0; i < req->n_headers; i++) {
		struct chdr *c = &h[*n];
		c->order = (*n)++;
		if ((r = lower_name(req->headers[i].name, &c->name)) != 0)
			return r;
		for (size_t k = 0; k < sizeof(reserved_headers) / sizeof(reserved_headers[0]); k++)
			if (strcmp(c->name, reserved_headers[k]) == 0)
				return IG_ERR_INVAL;
		if (strcmp(c->name, "host") == 0)
			hosts++;
		if ((r = normalize_value(req->headers[i].value, &c->value)) != 0)
			return r;
	}
	/* SigV4 requires Host; two of them would sign one and route by the other. */
	return hosts == 1 ? 0 : IG_ERR_INVAL;
}

/* Header signing signs x-amz-date, the session token unless omitted, and
 * x-amz-content-sha256 if sign_body. */
static int signer_headers(const struct ig_sigv4_params *p, const char *amz_date, const char *token,
                          const char *payload_hex, struct chdr *h, size_t *n)
{
	const char *names[3], *values[3];
	size_t k = 0;
	int r = 0;

	if (p->presign)
		return 0;
	names[k] = "x-amz-date";
	values[k++] = amz_date;
	if (token != NULL && !p->omit_session_token) {
		names[k] = "x-amz-security-token";
		values[k++] = token;
	}
	if (p->sign_body) {
		names[k] = "x-amz-content-sha256";
		values[k++] = payload_hex;
	}
	for (size_t i = 0; i < k && r == 0; i++) {
		size_t slot = (*n)++; /* counted first: add_chdr may fill it partly */
		r = add_chdr(&h[slot], slot, names[i], values[i]);
	}
	return r;
}

/* Sorted h[0..n) as "name:value\n" lines (repeats joined with ',') and
 * the signed list "a;b;c". */
static int emit_headers(const struct chdr *h, size_t n, struct ig_buf *canon,
                        struct ig_buf *signed_list)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(h[i].name, h[i - 1].name) == 0) {
			ig_buf_putc(canon, ',');
			ig_buf_puts(canon, h[i].value);
			continue;
		}
		if (i > 0) {
			ig_buf_putc(canon, '\n');
			ig_buf_putc(signed_list, ';');
		}
		ig_buf_printf(canon, "%s:%s", h[i].name, h[i].value);
		ig_buf_puts(signed_list, h[i].name);
	}
	if (n > 0)
		ig_buf_putc(canon, '\n');
	return ig_buf_err(canon) != 0 ? ig_buf_err(canon) : ig_buf_err(signed_list);
}

/* Canonical headers and the signed header list. */
static int build_headers(const struct ig_sigv4_request *req, const struct ig_sigv4_params *p,
                         const char *amz_date, const char *token, const char *payload_hex,
                         struct ig_buf *canon, struct ig_buf *signed_list)
{
	struct chdr *h = NULL;
	size_t n = 0;
	int r;

	if (req->n_headers > IG_SIGV4_MAX_HEADERS)
		return IG_ERR_RANGE;
	if (req->n_headers > 0 && req->headers == NULL)
		return IG_ERR_INVAL;
	if ((h = calloc(req->n_headers + 3, sizeof(*h))) == NULL)
		return IG_ERR_NOMEM;
	if ((r = take_headers(req, h, &n)) == 0 &&
	    (r = signer_headers(p, amz_date, token, payload_hex, h, &n)) == 0) {
		qsort(h, n, sizeof(*h), cmp_chdr);
		r = emit_headers(h, n, canon, signed_list);
	}
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		ig_free_secret_str(h[i].value);
	}
	free(h);
	return r;
}

/* ---- canonical query ---- */

struct qparam {
	char *k; /* encoded */
	char *v; /* encoded */
};

static const char *const reserved_params[] = {
        "X-Amz-Algorithm",     "X-Amz-Credential",     "X-Amz-Date",     "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature"};

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..n) into dst (room for n bytes); *dlen gets the length. */
static int pct_decode(const char *s, size_t n, char *dst, size_t *dlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] != '%') {
			dst[o++] = s[i];
			continue;
		}
		if (n - i < 3)
			return IG_ERR_PARSE;
		hi = hexval((unsigned char)s[i + 1]);
		lo = hexval((unsigned char)s[i + 2]);
		if (hi < 0 || lo < 0)
			return IG_ERR_PARSE;
		dst[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	*dlen = o;
	return 0;
}

/* Decode then re-encode one name or value into a fresh string. */
static int reencode(const char *s, size_t n, char *scratch, char **dst, size_t *dlen_out)
{
	struct ig_buf b = IG_BUF_INIT(OUT_MAX);
	size_t dlen = 0;
	int r;

	if ((r = pct_decode(s, n, scratch, &dlen)) != 0)
		return r;
	add_encoded(&b, scratch, dlen, 1);
	if (dlen_out != NULL)
		*dlen_out = dlen;
	if ((r = ig_buf_take(&b, dst)) != 0)
		ig_buf_free(&b);
	return r;
}

static int is_reserved_param(const char *decoded, size_t dlen)
{
	for (size_t k = 0; k < sizeof(reserved_params) / sizeof(reserved_params[0]); k++) {
		size_t rl = strlen(reserved_params[k]);

		if (dlen == rl && strncasecmp(decoded, reserved_params[k], rl) == 0)
			return 1;
	}
	return 0;
}

static int cmp_qparam(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c != 0 ? c : strcmp(x->v, y->v);
}

static int check_query(const char *q, size_t *qlen, size_t *nparams)
{
	size_t n;

	*qlen = 0;
	*nparams = 0;
	if (q == NULL)
		return 0;
	n = strnlen(q, IG_SIGV4_MAX_QUERY + 1);
	if (n > IG_SIGV4_MAX_QUERY)
		return IG_ERR_RANGE;
	if (n == 0)
		return 0;
	*nparams = 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)q[i];

		if (c <= 0x20 || c == 0x7f || c == '+' || c == '#')
			return IG_ERR_INVAL;
		if (c == '&') {
			/* "a&&b", "&a", "a&": an empty parameter is malformed. */
			if (i == 0 || i + 1 == n || q[i + 1] == '&')
				return IG_ERR_INVAL;
			(*nparams)++;
		}
	}
	if (*nparams > IG_SIGV4_MAX_QUERY_PARAMS)
		return IG_ERR_RANGE;
	*qlen = n;
	return 0;
}

/* Add an already-encoded parameter (the presign ones) to the list. */
static int add_param(struct qparam *qp, size_t *n, const char *k, const char *v)
{
	qp[*n].k = strdup(k);
	qp[*n].v = strdup(v);
	(*n)++;
	if (qp[*n - 1].k == NULL || qp[*n - 1].v == NULL)
		return IG_ERR_NOMEM;
	return 0;
}

/*
 * The canonical query: every parameter decoded and re-encoded, plus (when
 * presigning) the X-Amz-* signing parameters in `extra`, sorted by encoded
 * name then value, joined with '&'.
 */
static int build_query(const char *q, size_t qlen, size_t nparams, const char *const *extra,
                       size_t nextra, struct ig_buf *out)
{
	struct qparam *qp = NULL;
	char *scratch = NULL;
	size_t n = 0, i, start = 0;
	int r = 0;

	qp = calloc(nparams + nextra + 1, sizeof(*qp));
	scratch = malloc(qlen + 1);
	if (qp == NULL || scratch == NULL) {
		r = IG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i <= qlen && nparams > 0; i++) {
		const char *part, *eq;
		size_t plen, klen, dlen = 0;

		if (i < qlen && q[i] != '&')
			continue;
		part = q + start;
		plen = i - start;
		start = i + 1;
		eq = memchr(part, '=', plen);
		klen = eq != NULL ? (size_t)(eq - part) : plen;
		n++;
		if ((r = reencode(part, klen, scratch, &qp[n - 1].k, &dlen)) != 0)
			goto out;
		/* reencode left the decoded name in scratch. */
		if (is_reserved_param(scratch, dlen)) {
			r = IG_ERR_INVAL;
			goto out;
		}
		if (eq != NULL)
			r = reencode(eq + 1, plen - klen - 1, scratch, &qp[n - 1].v, NULL);
		else
			r = (qp[n - 1].v = strdup("")) != NULL ? 0 : IG_ERR_NOMEM;
		if (r != 0)
			goto out;
	}
	for (i = 0; i + 1 < nextra; i += 2)
		if ((r = add_param(qp, &n, extra[i], extra[i + 1])) != 0)
			goto out;
	qsort(qp, n, sizeof(*qp), cmp_qparam);
	for (i = 0; i < n; i++) {
		if (i > 0)
			ig_buf_putc(out, '&');
		ig_buf_puts(out, qp[i].k);
		ig_buf_putc(out, '=');
		ig_buf_puts(out, qp[i].v);
	}
	r = ig_buf_err(out);
out:
	for (i = 0; i < n; i++) {
		ig_free_secret_str(qp[i].k);
		ig_free_secret_str(qp[i].v);
	}
	free(qp);
	ig_freezero(scratch, qlen + 1);
	return r;
}

/* ---- crypto ---- */

static int sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != SHA256_LEN)
		return IG_ERR_CRYPTO;
	ig_hex(md, SHA256_LEN, hex);
	return 0;
}

static int hmac256(const void *key, size_t keylen, const void *msg, size_t msglen,
                   unsigned char out[SHA256_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int r = 0;

	if (keylen > (size_t)0x7fffffff ||
	    HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, md, &mdlen) == NULL ||
	    mdlen != SHA256_LEN)
		r = IG_ERR_CRYPTO;
	else
		memcpy(out, md, SHA256_LEN);
	explicit_bzero(md, sizeof(md));
	return r;
}

/*
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request"); signature = hex(HMAC(kSigning, string_to_sign)).
 */
static int compute_signature(const char *secret, const char *date8, const char *region,
                             const char *service, const char *sts, char sig[SHA256_HEX_LEN + 1])
{
	unsigned char kbuf[4 + sizeof(((struct ig_aws_creds *)0)->secret_access_key)];
	unsigned char k1[SHA256_LEN], k2[SHA256_LEN], k3[SHA256_LEN], k4[SHA256_LEN];
	unsigned char mac[SHA256_LEN];
	size_t slen = strlen(secret);
	int r;

	memcpy(kbuf, "AWS4", 4);
	memcpy(kbuf + 4, secret, slen);
	if ((r = hmac256(kbuf, 4 + slen, date8, 8, k1)) != 0 ||
	    (r = hmac256(k1, SHA256_LEN, region, strlen(region), k2)) != 0 ||
	    (r = hmac256(k2, SHA256_LEN, service, strlen(service), k3)) != 0 ||
	    (r = hmac256(k3, SHA256_LEN, "aws4_request", 12, k4)) != 0 ||
	    (r = hmac256(k4, SHA256_LEN, sts, strlen(sts), mac)) != 0)
		goto out;
	ig_hex(mac, SHA256_LEN, sig);
out:
	explicit_bzero(kbuf, sizeof(kbuf));
	explicit_bzero(k1, sizeof(k1));
	explicit_bzero(k2, sizeof(k2));
	explicit_bzero(k3, sizeof(k3));
	explicit_bzero(k4, sizeof(k4));
	explicit_bzero(mac, sizeof(mac));
	return r;
}

/* ---- the signer ---- */

/* What one signing computes on the way, wiped at the end. */
struct signing {
	const char *token; /* the session token, or NULL */
	size_t qlen, nparams, nextra;
	char payload_hex[SHA256_HEX_LEN + 1], creq_hex[SHA256_HEX_LEN + 1];
	char date8[9], scope[8 + 1 + IG_SIGV4_MAX_NAME + 1 + IG_SIGV4_MAX_NAME + 14];
	char expires[16];
	const char *extra[12]; /* presign: the X-Amz-* parameters, name and value */
	char *cred_enc, *signed_enc, *token_enc;
	struct ig_buf uri, canon_h, signed_h, cq;
};

static void signing_free(struct signing *st)
{
	ig_buf_free(&st->uri);
	ig_buf_free(&st->canon_h);
	ig_buf_free(&st->signed_h);
	ig_buf_free(&st->cq);
	ig_free_secret_str(st->cred_enc);
	ig_free_secret_str(st->signed_enc);
	ig_free_secret_str(st->token_enc);
	explicit_bzero(st, sizeof(*st));
}

/* Every input check, then the date and the credential scope. */
static int check_inputs(const struct ig_sigv4_request *req, const struct ig_sigv4_params *p,
                        struct ig_sigv4_result *out, struct signing *st)
{
	int have_token = 0, r;

	if ((r = check_method(req->method)) != 0 || (r = check_scope_name(p->region)) != 0 ||
	    (r = check_scope_name(p->service)) != 0 ||
	    (r = check_creds(p->creds, &have_token)) != 0)
		return r;
	st->token = have_token ? p->creds->session_token : NULL;
	if (p->presign && (p->expires_seconds == 0 || p->expires_seconds > IG_SIGV4_MAX_EXPIRES))
		return IG_ERR_RANGE;
	if (req->body_len > IG_SIGV4_MAX_BODY)
		return IG_ERR_RANGE;
	if (req->body == NULL && req->body_len != 0)
		return IG_ERR_INVAL;
	if ((r = check_query(req->query, &st->qlen, &st->nparams)) != 0 ||
	    (r = format_date(p->now, out->amz_date)) != 0)
		return r;
	memcpy(st->date8, out->amz_date, 8);
	st->date8[8] = '\0';
	return ig_bfmt(st->scope, sizeof(st->scope), "%s/%s/%s/aws4_request", st->date8, p->region,
	               p->service);
}

/* Presigning: the X-Amz-* query parameters that are signed themselves. */
static int presign_params(const struct ig_sigv4_params *p, const struct ig_sigv4_result *out,
                          struct signing *st)
{
	struct ig_buf cred = IG_BUF_INIT(OUT_MAX);
	size_t n = 0;
	int r;

	if ((r = ig_bfmt(st->expires, sizeof(st->expires), "%u", p->expires_seconds)) != 0)
		return r;
	ig_buf_printf(&cred, "%s/%s", p->creds->access_key_id, st->scope);
	if ((r = ig_buf_err(&cred)) == 0) {
		st->cred_enc = ig_sigv4_uri_encode(cred.p, cred.len, 1);
		st->signed_enc = ig_sigv4_uri_encode(st->signed_h.p, st->signed_h.len, 1);
		if (st->token != NULL)
			st->token_enc = ig_sigv4_uri_encode(st->token, strlen(st->token), 1);
		if (st->cred_enc == NULL || st->signed_enc == NULL ||
		    (st->token != NULL && st->token_enc == NULL))
			r = IG_ERR_NOMEM;
	}
	ig_buf_free(&cred);
	if (r != 0)
		return r;
	st->extra[n++] = "X-Amz-Algorithm";
	st->extra[n++] = ALGORITHM;
	st->extra[n++] = "X-Amz-Credential";
	st->extra[n++] = st->cred_enc;
	st->extra[n++] = "X-Amz-Date";
	st->extra[n++] = out->amz_date;
	st->extra[n++] = "X-Amz-Expires";
	st->extra[n++] = st->expires;
	st->extra[n++] = "X-Amz-SignedHeaders";
	st->extra[n++] = st->signed_enc;
	if (st->token_enc != NULL && !p->omit_session_token) {
		st->extra[n++] = "X-Amz-Security-Token";
		st->extra[n++] = st->token_enc;
	}
	st->nextra = n;
	return 0;
}

/* The canonical request, its hash, and the string to sign. */
static int canonical(const struct ig_sigv4_request *req, struct signing *st,
                     struct ig_sigv4_result *out)
{
	struct ig_buf b = IG_BUF_INIT(OUT_MAX);
	int r;

	ig_buf_printf(&b, "%s\n%s\n%s\n%s\n%s\n%s", req->method, ig_buf_str(&st->uri),
	              ig_buf_str(&st->cq), ig_buf_str(&st->canon_h), ig_buf_str(&st->signed_h),
	              st->payload_hex);
	if ((r = ig_buf_take(&b, &out->canonical_request)) != 0 ||
	    (r = sha256_hex(out->canonical_request, strlen(out->canonical_request),
	                    st->creq_hex)) != 0)
		goto out;
	ig_buf_printf(&b, ALGORITHM "\n%s\n%s\n%s", out->amz_date, st->scope, st->creq_hex);
	r = ig_buf_take(&b, &out->string_to_sign);
out:
	ig_buf_free(&b);
	return r;
}

/* What is sent: the Authorization value, or the presigned query. */
static int finish(const struct ig_sigv4_request *req, const struct ig_sigv4_params *p,
                  const struct signing *st, struct ig_sigv4_result *out)
{
	struct ig_buf b = IG_BUF_INIT(OUT_MAX);
	int r;

	if (p->presign) {
		/* The query as given, then the signing parameters in the order
		 * AWS's own signers emit them; the token rides along even when
		 * it was left out of the signature. */
		if (st->qlen > 0) {
			ig_buf_add(&b, req->query, st->qlen);
			ig_buf_putc(&b, '&');
		}
		ig_buf_printf(&b,
		              "X-Amz-Algorithm=" ALGORITHM "&X-Amz-Credential=%s&X-Amz-Date=%s"
		              "&X-Amz-SignedHeaders=%s&X-Amz-Expires=%s",
		              st->cred_enc, out->amz_date, st->signed_enc, st->expires);
		if (st->token_enc != NULL)
			ig_buf_printf(&b, "&X-Amz-Security-Token=%s", st->token_enc);
		ig_buf_printf(&b, "&X-Amz-Signature=%s", out->signature);
		r = ig_buf_take(&b, &out->signed_query);
	} else {
		ig_buf_printf(&b, ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		              p->creds->access_key_id, st->scope, ig_buf_str(&st->signed_h),
		              out->signature);
		r = ig_buf_take(&b, &out->authorization);
	}
	ig_buf_free(&b);
	if (r == 0 && (out->content_sha256 = strdup(st->payload_hex)) == NULL)
		r = IG_ERR_NOMEM;
	return r;
}

int ig_sigv4_sign(const struct ig_sigv4_request *req, const struct ig_sigv4_params *p,
                  struct ig_sigv4_result *out)
{
	struct signing st;
	int r;

	if (out == NULL)
		return IG_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.uri.max = st.canon_h.max = st.signed_h.max = st.cq.max = OUT_MAX;
	r = IG_ERR_INVAL;
	if (req == NULL || p == NULL || (r = check_inputs(req, p, out, &st)) != 0)
		goto out;
	/* An empty body hashes "" whatever pointer came with it. */
	if ((r = sha256_hex(req->body_len != 0 ? (const void *)req->body : "", req->body_len,
	                    st.payload_hex)) != 0 ||
	    (r = build_canonical_uri(req->path, p->normalize_path, &st.uri)) != 0 ||
	    (r = build_headers(req, p, out->amz_date, st.token, st.payload_hex, &st.canon_h,
	                       &st.signed_h)) != 0)
		goto out;
	if (p->presign && (r = presign_params(p, out, &st)) != 0)
		goto out;
	if ((r = build_query(req->query, st.qlen, st.nparams, st.extra, st.nextra, &st.cq)) != 0 ||
	    (r = canonical(req, &st, out)) != 0 ||
	    (r = compute_signature(p->creds->secret_access_key, st.date8, p->region, p->service,
	                           out->string_to_sign, out->signature)) != 0)
		goto out;
	r = finish(req, p, &st, out);
out:
	signing_free(&st);
	if (r != 0)
		ig_sigv4_result_free(out);
	return r;
}
