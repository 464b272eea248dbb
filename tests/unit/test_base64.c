/*
 * test_base64.c - strict base64: the RFC 4648 vectors both ways, round trips
 * of every length 0..64 with every byte value, and the refusals (one
 * spelling only: no whitespace, URL alphabet, missing or misplaced padding,
 * non-zero pad bits), with out wiped and *n 0 on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "iamgate/base64.h"

static void test_vectors(void **state)
{
	static const char *const v[][2] = {
	        {"", ""},
	        {"f", "Zg=="},
	        {"fo", "Zm8="},
	        {"foo", "Zm9v"},
	        {"foob", "Zm9vYg=="},
	        {"fooba", "Zm9vYmE="},
	        {"foobar", "Zm9vYmFy"},
	};
	char enc[16];
	uint8_t dec[16];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(ig_base64_encode((const uint8_t *)v[i][0], strlen(v[i][0]), enc,
		                                  sizeof(enc)),
		                 0);
		assert_string_equal(enc, v[i][1]);
		assert_int_equal(ig_base64_decode(v[i][1], strlen(v[i][1]), dec, sizeof(dec), &n),
		                 0);
		assert_int_equal(n, strlen(v[i][0]));
		assert_memory_equal(dec, v[i][0], n);
	}
}

static void test_round_trips(void **state)
{
	uint8_t in[64], out[64];
	char enc[IG_BASE64_LEN(64) + 1];
	size_t n;

	(void)state;
	for (size_t len = 0; len <= sizeof(in); len++) {
		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)(i * 37 + len * 101);
		assert_int_equal(ig_base64_encode(in, len, enc, sizeof(enc)), 0);
		assert_int_equal(strlen(enc), IG_BASE64_LEN(len));
		assert_int_equal(ig_base64_decode(enc, strlen(enc), out, sizeof(out), &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(in, out, len);
	}
	for (int c = 0; c < 256; c++) {
		uint8_t b = (uint8_t)c;
		assert_int_equal(ig_base64_encode(&b, 1, enc, sizeof(enc)), 0);
		assert_int_equal(ig_base64_decode(enc, 4, out, 1, &n), 0);
		assert_int_equal(out[0], b);
	}
}

static void test_refusals(void **state)
{
	static const char *const bad[] = {
	        "Zg",   "Zg=",  "Zg===", "Z===",     "====", "Zm9v\n", " Zm9v",    "Zh==",
	        "Zm9=", "Zm-v", "Zm_v",  "Zg==Zg==", "Z=9v", "Zm=v",   "Zm9vYg=A", "=Zm9",
	};
	uint8_t out[16];
	size_t n = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 0x5a, sizeof(out));
		if (ig_base64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n) != IG_ERR_PARSE)
			fail_msg("accepted: \"%s\"", bad[i]);
		assert_int_equal(n, 0);
	}
	/* A NUL inside is not a character of the alphabet. */
	assert_int_equal(ig_base64_decode("Zm\0v", 4, out, sizeof(out), &n), IG_ERR_PARSE);
	assert_int_equal(ig_base64_decode(NULL, 0, out, sizeof(out), &n), IG_ERR_PARSE);
	/* Too small an output: refused, and what was written is wiped. */
	memset(out, 0x5a, sizeof(out));
	assert_int_equal(ig_base64_decode("Zm9vYmFy", 8, out, 4, &n), IG_ERR_RANGE);
	assert_int_equal(n, 0);
	assert_int_equal(out[0] | out[1] | out[2], 0);
	{
		char small[4];
		assert_int_equal(ig_base64_encode((const uint8_t *)"foo", 3, small, sizeof(small)),
		                 IG_ERR_RANGE);
		assert_string_equal(small, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vectors),
	        cmocka_unit_test(test_round_trips),
	        cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
