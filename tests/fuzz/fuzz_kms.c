/*
 * fuzz_kms.c - libFuzzer target for the KMS response check (ig_kms_parse,
 * src/aws/kms.c): the input is parsed as JSON and read as a
 * GenerateDataKey answer (exactly 32 key bytes) and as a Decrypt answer.
 * Built and run by tests/fuzz/run.sh.
 *
 * Contracts checked (a broken one aborts): only IG_ERR_PARSE, and then no
 * bytes and no ARN; an accepted key is exactly 32 bytes; an accepted ARN is
 * a KMS key ARN; the plaintext field is wiped in the parsed response either
 * way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/kms.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void wiped(json_t *resp, const char *field)
{
	json_t *v = json_object_get(resp, field);

	if (json_is_string(v))
		for (size_t i = 0; i < json_string_length(v); i++)
			check(json_string_value(v)[i] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[IG_KMS_PLAIN_MAX];
	char arn[IG_KMS_KEY_ARN_MAX + 1];
	json_t *resp = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	size_t n = 5;
	int r;

	if (resp == NULL)
		return 0;
	r = ig_kms_parse(resp, "CiphertextBlob", out, IG_KMS_BLOB_MAX, 0, &n, arn);
	check(r == 0 || r == IG_ERR_PARSE);
	if (r == 0)
		check(n > 0 && n <= IG_KMS_BLOB_MAX && strncmp(arn, "arn:", 4) == 0 &&
		      strstr(arn, ":kms:") != NULL);
	else
		check(n == 0 && arn[0] == '\0');
	r = ig_kms_parse(resp, "Plaintext", out, IG_KMS_DATA_KEY, IG_KMS_DATA_KEY, &n, NULL);
	check((r == 0 && n == IG_KMS_DATA_KEY) || (r == IG_ERR_PARSE && n == 0));
	wiped(resp, "Plaintext");
	json_decref(resp);
	return 0;
}
