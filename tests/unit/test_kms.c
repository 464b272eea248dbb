/*
 * test_kms.c - the KMS client: the response checks (data key length,
 * strict base64, the KeyId ARN, the plaintext field wiped inside the
 * parsed response), the key id and context checks; then, against the KMS
 * test endpoint (tests/sts/kms_endpoint.py: SigV4 verified with botocore,
 * encryption context enforced), the envelope's round trip, a blob refused
 * under another user's context or when tampered with, the alias, and the
 * faults (throttling retried, garbage, a refused caller, a slow answer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iamgate/creds.h"
#include "iamgate/kms.h"
#include "iamgate/util.h"

#include "sts_endpoint_fixture.h"

#define ARN "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
#define KEY32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static void test_parse(void **state)
{
	static const char *const bad[] = {
	        "{\"Plaintext\":\"" KEY32 "\"}",                          /* no KeyId */
	        "{\"Plaintext\":\"" KEY32 "\",\"KeyId\":\"not-an-arn\"}", /* KeyId */
	        "{\"Plaintext\":\"AAEC\",\"KeyId\":\"" ARN "\"}",         /* 3 bytes */
	        "{\"Plaintext\":\"" KEY32 "\\n\",\"KeyId\":\"" ARN "\"}", /* not strict */
	        "{\"Plaintext\":7,\"KeyId\":\"" ARN "\"}",                /* not a string */
	        "{\"Plaintext\":\"\",\"KeyId\":\"" ARN "\"}",             /* empty */
	        "{\"KeyId\":\"" ARN "\"}",                                /* missing */
	};
	uint8_t key[IG_KMS_DATA_KEY];
	char arn[IG_KMS_KEY_ARN_MAX + 1];
	size_t n;
	json_t *v;

	(void)state;
	v = json_loads("{\"Plaintext\":\"" KEY32 "\",\"KeyId\":\"" ARN "\"}", 0, NULL);
	assert_int_equal(ig_kms_parse(v, "Plaintext", key, sizeof(key), 32, &n, arn), 0);
	assert_int_equal(n, 32);
	assert_int_equal(key[31], 31);
	assert_string_equal(arn, ARN);
	/* The secret's text inside the parsed response is wiped. */
	assert_int_equal(json_string_value(json_object_get(v, "Plaintext"))[0], '\0');
	json_decref(v);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		memset(key, 0x5a, sizeof(key));
		if (ig_kms_parse(v, "Plaintext", key, sizeof(key), 32, &n, arn) != IG_ERR_PARSE)
			fail_msg("bad response %zu accepted", i);
		assert_int_equal(n, 0);
		assert_string_equal(arn, "");
		json_decref(v);
	}
	assert_true(ig_kms_key_id_ok(ARN));
	assert_true(ig_kms_key_id_ok("alias/iamgate"));
	assert_false(ig_kms_key_id_ok("alias/a b"));
	assert_false(ig_kms_key_id_ok(""));
}

/* ------------------------------------------------------------------ */
/* Against the KMS test endpoint                                       */

static struct ep E;
static struct ig_aws_creds BASE, OUTSIDER;
static char scratch[512];

static int int_setup(void **state)
{
	static const char *const opts[] = {"--store", "--no-imds", NULL};

	(void)state;
	if (ep_start_scratch(&E, scratch, sizeof(scratch), "kms", opts) != 0 ||
	    E.kms_url[0] == '\0')
		return -1;
	return ep_profile(&E, "bastion", &BASE) == 0 && ep_profile(&E, "outsider", &OUTSIDER) == 0
	               ? 0
	               : -1;
}

static int int_teardown(void **state)
{
	(void)state;
	ig_aws_creds_clear(&BASE);
	ig_aws_creds_clear(&OUTSIDER);
	return ep_stop_scratch(&E, scratch);
}

static void kcfg(struct ig_kms *k, const struct ig_aws_creds *c)
{
	memset(k, 0, sizeof(*k));
	k->http.endpoint = E.kms_url;
	k->http.region = E.region;
	k->http.ca_file = E.sts_ca;
	k->http.timeout_ms = 20000;
	k->http.max_attempts = 3;
	k->creds = c;
	k->key_id = E.kms_key_arn;
	k->ctx_key = "iamgate-user";
}

static void faults(const char *json)
{
	assert_int_equal(ep_ctl(&E, "kms", json), 0);
}

/* GenerateDataKey, then Decrypt of its blob: the same key, only under the
 * same user's context and only untampered. */
static void it_envelope(void **state)
{
	struct ig_kms k;
	struct ig_aws_status st;
	uint8_t key[IG_KMS_DATA_KEY], again[IG_KMS_PLAIN_MAX], blob[IG_KMS_BLOB_MAX];
	char arn[IG_KMS_KEY_ARN_MAX + 1];
	size_t blen, n;

	(void)state;
	ep_require(&E);
	faults("{\"reset\":true}");
	kcfg(&k, &BASE);
	assert_int_equal(
	        ig_kms_generate_data_key(&k, "alice", key, blob, sizeof(blob), &blen, arn, &st), 0);
	assert_string_equal(arn, E.kms_key_arn);
	assert_true(blen > IG_KMS_DATA_KEY);
	assert_int_equal(ig_kms_decrypt(&k, "alice", blob, blen, again, sizeof(again), &n, &st), 0);
	assert_int_equal(n, IG_KMS_DATA_KEY);
	assert_memory_equal(again, key, IG_KMS_DATA_KEY);
	/* Another user's context: refused by KMS, nothing returned. */
	assert_int_equal(ig_kms_decrypt(&k, "mallory", blob, blen, again, sizeof(again), &n, &st),
	                 IG_ERR_AWS);
	assert_string_equal(st.aws_error, "InvalidCiphertextException");
	assert_int_equal(st.attempts, 1);
	assert_int_equal(n, 0);
	blob[blen - 1] ^= 1;
	assert_int_equal(ig_kms_decrypt(&k, "alice", blob, blen, again, sizeof(again), &n, &st),
	                 IG_ERR_AWS);
	assert_string_equal(st.aws_error, "InvalidCiphertextException");
	/* Encrypt/Decrypt through the alias. */
	k.key_id = "alias/iamgate-test";
	assert_int_equal(ig_kms_encrypt(&k, "bob", (const uint8_t *)"s3cret", 6, blob, sizeof(blob),
	                                &blen, &st),
	                 0);
	assert_int_equal(ig_kms_decrypt(&k, "bob", blob, blen, again, sizeof(again), &n, &st), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(again, "s3cret", 6);
	/* Refused before anything is sent: a context value that is no name. */
	assert_int_equal(ig_kms_decrypt(&k, "a\"b", blob, blen, again, sizeof(again), &n, &st),
	                 IG_ERR_INVAL);
	assert_int_equal(st.attempts, 0);
	explicit_bzero(key, sizeof(key));
}

static void it_faults(void **state)
{
	struct ig_kms k;
	struct ig_aws_status st;
	uint8_t key[IG_KMS_DATA_KEY], blob[IG_KMS_BLOB_MAX];
	size_t blen;
	long before;

	(void)state;
	ep_require(&E);
	kcfg(&k, &BASE);
	faults("{\"reset\":true,\"throttle\":{\"count\":2}}");
	before = ep_requests(&E, "kms");
	assert_int_equal(
	        ig_kms_generate_data_key(&k, "alice", key, blob, sizeof(blob), &blen, NULL, &st),
	        0);
	assert_int_equal(st.attempts, 3);
	assert_int_equal(ep_requests(&E, "kms") - before, 3);
	faults("{\"reset\":true,\"malformed\":{\"count\":1,\"mode\":\"truncated\"}}");
	assert_int_equal(
	        ig_kms_generate_data_key(&k, "alice", key, blob, sizeof(blob), &blen, NULL, &st),
	        IG_ERR_PARSE);
	assert_int_equal(st.reason, IG_R_MALFORMED_RESPONSE);
	assert_int_equal(blen, 0);
	assert_int_equal(key[0] | key[31], 0); /* wiped */
	faults("{\"reset\":true}");
	kcfg(&k, &OUTSIDER);
	assert_int_equal(
	        ig_kms_generate_data_key(&k, "alice", key, blob, sizeof(blob), &blen, NULL, &st),
	        IG_ERR_AWS);
	assert_string_equal(st.aws_error, "AccessDeniedException");
	kcfg(&k, &BASE);
	k.http.timeout_ms = 1500;
	k.http.max_attempts = 1;
	faults("{\"reset\":true,\"slow\":{\"ms\":4000,\"count\":1}}");
	assert_int_equal(
	        ig_kms_generate_data_key(&k, "alice", key, blob, sizeof(blob), &blen, NULL, &st),
	        IG_ERR_TIMEOUT);
	faults("{\"reset\":true}");
}

int main(void)
{
	const struct CMUnitTest unit[] = {
	        cmocka_unit_test(test_parse),
	};
	const struct CMUnitTest integration[] = {
	        cmocka_unit_test(it_envelope),
	        cmocka_unit_test(it_faults),
	};
	int r = cmocka_run_group_tests(unit, NULL, NULL);

	return r | cmocka_run_group_tests(integration, int_setup, int_teardown);
}
