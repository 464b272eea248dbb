/*
 * fuzz_base64.c - libFuzzer target for the strict base64 decoder
 * (src/base/base64.c).  Built and run by tests/fuzz/run.sh.
 *
 * Contracts checked (a broken one aborts): only IG_ERR_PARSE or
 * IG_ERR_RANGE, and then *n is 0; what decodes re-encodes to exactly the
 * input (one spelling per byte string); a too small output is refused,
 * never overrun.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/base64.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[4096];
	static char again[IG_BASE64_LEN(4096) + 1];
	size_t n = 7;
	int r;

	if (size > 5400)
		return 0;
	r = ig_base64_decode((const char *)data, size, out, sizeof(out), &n);
	check(r == 0 || r == IG_ERR_PARSE || r == IG_ERR_RANGE);
	if (r != 0) {
		check(n == 0);
		return 0;
	}
	check(ig_base64_encode(out, n, again, sizeof(again)) == 0);
	check(strlen(again) == size && memcmp(again, data, size) == 0);
	if (n > 0) {
		size_t m = 9;
		check(ig_base64_decode((const char *)data, size, out, n - 1, &m) == IG_ERR_RANGE &&
		      m == 0);
	}
	return 0;
}
