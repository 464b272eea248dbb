/*
 * fuzz_http.c - libFuzzer target for the HTTP unit's error-document reader
 * (ig_http_parse_error, src/aws/http.c).  Built and run by tests/fuzz/run.sh
 * (seeds: tests/fuzz/corpus/http/).
 *
 * Input: one byte choosing the protocol ('J' JSON, 'Q' query/XML, else
 * plain); for JSON, a first line starting with '\n' is the x-amzn-ErrorType
 * header (up to the next '\n'); the rest is the body.  Contracts checked (a
 * broken one aborts): only IG_ERR_PARSE as an error, leaving code and rid
 * ""; an accepted code is 1..63 of [A-Za-z0-9._] and is never bigger than
 * its buffer; a request id is "" or 1..64 of [A-Za-z0-9-]; the plain
 * protocol never names a code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/http.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static int all_in(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')) &&
		    strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char code[IG_HTTP_CODE_MAX], rid[IG_HTTP_REQUEST_ID_MAX], etype[256];
	const char *body, *et = NULL, *nl;
	enum ig_http_proto proto;
	size_t len;
	int r;

	if (size < 1)
		return 0;
	proto = data[0] == 'J' ? IG_HTTP_JSON : data[0] == 'Q' ? IG_HTTP_QUERY : IG_HTTP_PLAIN;
	body = (const char *)data + 1;
	len = size - 1;
	if (proto == IG_HTTP_JSON && len > 0 && body[0] == '\n' &&
	    (nl = memchr(body + 1, '\n', len - 1)) != NULL &&
	    (size_t)(nl - body - 1) < sizeof(etype)) {
		memcpy(etype, body + 1, (size_t)(nl - body - 1));
		etype[nl - body - 1] = '\0';
		et = etype;
		len -= (size_t)(nl - body + 1);
		body = nl + 1;
	}
	memset(code, 'X', sizeof(code));
	memset(rid, 'X', sizeof(rid));
	r = ig_http_parse_error(proto, body, len, et, code, sizeof(code), rid, sizeof(rid));
	check(r == 0 || r == IG_ERR_PARSE);
	check(memchr(code, '\0', sizeof(code)) != NULL && memchr(rid, '\0', sizeof(rid)) != NULL);
	if (r != 0) {
		check(code[0] == '\0' && rid[0] == '\0');
		return 0;
	}
	check(proto != IG_HTTP_PLAIN);
	check(strlen(code) >= 1 && strlen(code) <= 63 && all_in(code, "._"));
	check(strlen(rid) <= 64 && all_in(rid, "-"));
	check(proto == IG_HTTP_QUERY || rid[0] == '\0');
	/* A smaller buffer never overflows: it refuses or fits. */
	r = ig_http_parse_error(proto, body, len, et, code, 8, NULL, 0);
	check(r == 0 ? strlen(code) < 8 : code[0] == '\0');
	return 0;
}
