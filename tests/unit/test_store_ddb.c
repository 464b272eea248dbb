/*
 * test_store_ddb.c - the shared store, driven through the store seam and
 * the TOTP rules (store.h, totp.h) as the gate drives them, against
 * dynalite behind the SigV4-checking proxy and the KMS test endpoint
 * (tests/sts/stsctl.sh --store).  Two store handles stand for two bastions
 * on one table: a code used on A is refused on B; eight processes with one
 * code, split over A and B, give exactly one success; failures on A and B
 * add up to one lockout, and an unlock on A lets the user in on B.  The
 * item holds no secret in clear; an item edited to garbage, a secret with a
 * flipped bit and an item copied to another user are refused, not crashed
 * on, and a forced enrolment replaces them.  The fault matrix: DynamoDB and
 * KMS throttled, refusing, garbled, slow, each a failure with its reason,
 * and a failed write leaves the item as it was.  Offline: the item parser's
 * refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "iamgate/store_ddb.h"
#include "iamgate/totp.h"
#include "iamgate/util.h"

#include "sts_endpoint_fixture.h"

#define NOW 1700000010 /* mid-step */
#define SECRET "12345678901234567890"

static const struct ig_totp_params TP = {
        .digits = 6,
        .step_seconds = 30,
        .window = 1,
        .max_failures = 4,
        .lockout_seconds = 60,
        .lockout_max_seconds = 600,
        .boot_time = 0,
};

/* ------------------------------------------------------------------ */
/* Offline: the item parser                                            */

static json_t *good_item(void)
{
	return json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s},"
	                 " s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}",
	                 "user", "S", "alice", "fmt", "N", "1", "ver", "N", "3", "created", "N",
	                 "1700000000", "used_until", "N", "0", "failures", "N", "2", "locked_until",
	                 "N", "0", "lockouts", "N", "0", "last_login", "N", "0", "kms_key", "S",
	                 "arn:aws:kms:us-east-1:123456789012:key/k", "edk", "B", "SUdLTVMx",
	                 "nonce", "B", "AAAAAAAAAAAAAAAA", "secret", "B",
	                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
}

static void test_parse_item(void **state)
{
	static const char *const bad[][2] = {
	        {"user", "{\"S\":\"bob\"}"},    {"fmt", "{\"N\":\"2\"}"},
	        {"ver", "{\"N\":\"0\"}"},       {"ver", "{\"S\":\"3\"}"},
	        {"failures", "{\"N\":\"-1\"}"}, {"created", "{\"N\":\"1e9\"}"},
	        {"edk", "{\"B\":\"!!\"}"},      {"nonce", "{\"B\":\"AAAA\"}"},
	        {"secret", "{\"B\":\"AAAA\"}"}, {"last_rhost", "{\"N\":\"1\"}"},
	        {"kms_key", "{\"N\":\"1\"}"},
	};
	struct ig_user_record rec;
	struct ig_store_ddb_envelope env;
	json_t *it = good_item();

	(void)state;
	assert_int_equal(ig_store_ddb_parse_item(it, "alice", &rec, &env), 0);
	assert_true(rec.enrolled);
	assert_int_equal(rec.failures, 2);
	assert_int_equal(env.ver, 3);
	assert_int_equal(env.secret_len, 42);
	/* Someone else's item under this key is not this user's record. */
	assert_int_equal(ig_store_ddb_parse_item(it, "bob", &rec, &env), IG_ERR_PARSE);
	json_decref(it);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		it = good_item();
		assert_int_equal(json_object_set_new(it, bad[i][0], json_loads(bad[i][1], 0, NULL)),
		                 0);
		if (ig_store_ddb_parse_item(it, "alice", &rec, &env) != IG_ERR_PARSE)
			fail_msg("bad %s accepted", bad[i][0]);
		assert_false(rec.enrolled);
		json_decref(it);
	}
	it = good_item();
	json_object_del(it, "failures");
	assert_int_equal(ig_store_ddb_parse_item(it, "alice", &rec, &env), IG_ERR_PARSE);
	assert_int_equal(env.ver, 3); /* kept: a forced enrolment may replace it */
	json_decref(it);
}

/* ------------------------------------------------------------------ */
/* Two bastions, one table                                             */

static struct ep E;
static struct ig_aws_creds BASE;
static char scratch[512];
static const char *const TABLE = "iamgate-test-store";

static int int_setup(void **state)
{
	static const char *const opts[] = {"--store", "--no-imds", NULL};
	char *argv[] = {(char *)"/bin/bash", (char *)EP_SCRIPT,
	                (char *)"table",     E.dir,
	                (char *)TABLE,       NULL};

	(void)state;
	if (ep_start_scratch(&E, scratch, sizeof(scratch), "store", opts) != 0 ||
	    E.ddb_url[0] == '\0' || ep_run(argv, NULL) != 0)
		return -1;
	return ep_profile(&E, "bastion", &BASE);
}

static int int_teardown(void **state)
{
	(void)state;
	ig_aws_creds_clear(&BASE);
	return ep_stop_scratch(&E, scratch);
}

static void params(struct ig_store_ddb_params *p, unsigned timeout_ms)
{
	memset(p, 0, sizeof(*p));
	p->ddb.http.endpoint = E.ddb_url;
	p->ddb.http.region = E.region;
	p->ddb.http.ca_file = E.sts_ca;
	p->ddb.creds = &BASE;
	p->ddb.table = TABLE;
	p->kms.http.endpoint = E.kms_url;
	p->kms.http.region = E.region;
	p->kms.http.ca_file = E.sts_ca;
	p->kms.creds = &BASE;
	p->kms.key_id = E.kms_key_arn;
	p->timeout_ms = timeout_ms;
	p->max_attempts = 3;
}

/* A bastion's store for one login (a fresh time limit, as the gate has). */
static struct ig_store *bastion(unsigned timeout_ms)
{
	struct ig_store_ddb_params p;
	struct ig_store *s = NULL;
	char why[256];

	params(&p, timeout_ms);
	assert_int_equal(ig_store_ddb_open(&p, &s, why, sizeof(why)), 0);
	return s;
}

static void code_at(int64_t t, char code[9])
{
	assert_int_equal(ig_totp_code_at((const uint8_t *)SECRET, 20, (time_t)t, &TP, code), 0);
}

/* A login's time limit: generous, as valgrind (IG_VALGRIND) runs eight
 * of them at once on two cores. */
static unsigned login_ms(void)
{
	return getenv("IG_VALGRIND") != NULL ? 180000 : 20000;
}

/* One login on a fresh handle: the result, or -1 for an error. */
static int login(const char *user, const char *code, int64_t now, enum ig_reason *why)
{
	struct ig_store *s = bastion(login_ms());
	struct ig_totp_outcome oc;
	int r = ig_totp_verify(s, user, code, now, "192.0.2.7", &TP, &oc);

	if (why != NULL)
		*why = ig_store_ddb_failure(s, NULL);
	ig_store_close(s);
	return r == 0 ? (int)oc.result : -1;
}

static void faults(const char *which, const char *json)
{
	assert_int_equal(ep_ctl(&E, which, json), 0);
}

static void enroll(const char *user, int force)
{
	struct ig_store *s = bastion(20000);

	int r = ig_store_enroll(s, user, (const uint8_t *)SECRET, 20, NOW - 100, force);
	if (r != 0) {
		struct ig_aws_status st;
		enum ig_reason why = ig_store_ddb_failure(s, &st);
		fail_msg("enroll %s: %s (%s %s)", user, ig_strerror(r), ig_reason_name(why),
		         st.aws_error);
	}
	ig_store_close(s);
}

static json_t *raw_item(const char *user)
{
	struct ig_ddb d;
	struct ig_aws_status st;
	json_t *key = json_pack("{s:{s:s}}", "user", "S", user), *item = NULL;

	d = (struct ig_ddb){.creds = &BASE, .table = TABLE};
	d.http = (struct ig_http_config){.endpoint = E.ddb_url,
	                                 .region = E.region,
	                                 .ca_file = E.sts_ca,
	                                 .timeout_ms = 20000};
	assert_int_equal(ig_ddb_get(&d, key, &item, &st), 0);
	json_decref(key);
	return item;
}

static void put_raw(json_t *item)
{
	struct ig_ddb d = {.creds = &BASE, .table = TABLE};
	struct ig_aws_status st;

	d.http = (struct ig_http_config){.endpoint = E.ddb_url,
	                                 .region = E.region,
	                                 .ca_file = E.sts_ca,
	                                 .timeout_ms = 20000};
	assert_int_equal(ig_ddb_put(&d, item, NULL, NULL, NULL, &st), 0);
}

static void it_enroll_envelope(void **state)
{
	struct ig_store *a = bastion(20000), *b = bastion(20000);
	struct ig_user_record rec;
	uint8_t ct[IG_STORE_SECRET_MAX + 16];
	char arn[300], *text;
	size_t n;
	json_t *item;

	(void)state;
	ep_require(&E);
	assert_int_equal(ig_store_enroll(a, "alice", (const uint8_t *)SECRET, 20, NOW - 100, 0), 0);
	assert_int_equal(ig_store_enroll(a, "alice", (const uint8_t *)SECRET, 20, NOW - 100, 0),
	                 IG_ERR_EXISTS);
	assert_int_equal(ig_store_status(b, "alice", &rec), 0);
	assert_true(rec.enrolled);
	assert_int_equal(rec.secret_len, 0);
	assert_int_equal(ig_store_status(b, "nobody", &rec), 0);
	assert_false(rec.enrolled);
	ig_store_close(a);
	ig_store_close(b);
	/* What the table holds: the envelope, never the secret. */
	item = raw_item("alice");
	assert_non_null(item);
	assert_int_equal(ig_ddb_get_s(item, "kms_key", arn, sizeof(arn)), 0);
	assert_string_equal(arn, E.kms_key_arn);
	assert_int_equal(ig_ddb_get_b(item, "secret", ct, sizeof(ct), &n), 0);
	assert_int_equal(n, 20 + 16);
	assert_null(memmem(ct, n, SECRET, 8));
	text = json_dumps(item, 0);
	assert_null(strstr(text, "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA")); /* base64 */
	free(text);
	json_decref(item);
}

/* A code used on A is refused on B.  A login is three round trips:
 * GetItem and UpdateItem to DynamoDB, Decrypt to KMS. */
static void it_replay_across(void **state)
{
	long ddb0, kms0;
	char code[9];

	(void)state;
	ep_require(&E);
	code_at(NOW, code);
	ddb0 = ep_requests(&E, "ddb");
	kms0 = ep_requests(&E, "kms");
	assert_int_equal(login("alice", code, NOW, NULL), IG_TOTP_OK);
	assert_int_equal(ep_requests(&E, "ddb") - ddb0, 2);
	assert_int_equal(ep_requests(&E, "kms") - kms0, 1);
	assert_int_equal(login("alice", code, NOW + 5, NULL), IG_TOTP_REPLAY); /* "B" */
}

/* Eight logins with one code at once, four per bastion: exactly one in. */
static void it_parallel_one_code(void **state)
{
	pid_t kids[8];
	int ok = 0, replay = 0, other = 0;
	char code[9];

	(void)state;
	ep_require(&E);
	code_at(NOW + 300, code);
	for (int i = 0; i < 8; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			int r = login("alice", code, NOW + 300, NULL);
			_exit(r == IG_TOTP_OK ? 0 : r == IG_TOTP_REPLAY ? 1 : 2);
		}
	}
	for (int i = 0; i < 8; i++) {
		int st = 0;
		assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
		assert_true(WIFEXITED(st));
		ok += WEXITSTATUS(st) == 0;
		replay += WEXITSTATUS(st) == 1;
		other += WEXITSTATUS(st) == 2;
	}
	print_message("# 8 parallel logins, one code: %d in, %d replayed, %d failed closed\n", ok,
	              replay, other);
	assert_int_equal(ok, 1);
	assert_int_equal(replay + other, 7);
}

/* Failures on A and B add up; an unlock on A lets the user in on B. */
static void it_lockout_shared(void **state)
{
	struct ig_store *a;
	struct ig_user_record rec;
	char code[9];

	(void)state;
	ep_require(&E);
	enroll("bob", 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(login("bob", "000000", NOW + i, NULL), IG_TOTP_BAD_CODE);
	code_at(NOW + 10, code);
	assert_int_equal(login("bob", code, NOW + 10, NULL), IG_TOTP_LOCKED);
	a = bastion(20000);
	assert_int_equal(ig_store_status(a, "bob", &rec), 0);
	assert_int_equal(rec.failures, 4);
	assert_int_equal(rec.lockouts, 1);
	assert_int_equal(ig_store_unlock(a, "bob"), 0);
	ig_store_close(a);
	assert_int_equal(login("bob", code, NOW + 10, NULL), IG_TOTP_OK);
}

/* Hand-edited items: refused with their reason, then forced away. */
static void it_bad_items(void **state)
{
	json_t *item = raw_item("alice"), *copy;
	enum ig_reason why;
	uint8_t ct[IG_STORE_SECRET_MAX + 16];
	size_t n;
	char code[9];

	(void)state;
	ep_require(&E);
	code_at(NOW + 600, code);
	/* alice's item under eve's key: KMS refuses eve's context. */
	copy = json_deep_copy(item);
	json_object_set_new(copy, "user", json_pack("{s:s}", "S", "eve"));
	put_raw(copy);
	json_decref(copy);
	assert_int_equal(login("eve", code, NOW + 600, &why), -1);
	assert_int_equal(why, IG_R_STORE_RECORD_MALFORMED);
	/* One bit of the secret's ciphertext flipped: GCM refuses it. */
	copy = json_deep_copy(item);
	json_object_set_new(copy, "user", json_pack("{s:s}", "S", "trent"));
	assert_int_equal(ig_ddb_get_b(copy, "secret", ct, sizeof(ct), &n), 0);
	ct[0] ^= 1;
	json_object_set_new(copy, "secret", ig_ddb_b(ct, n));
	put_raw(copy);
	json_decref(copy);
	assert_int_equal(login("trent", code, NOW + 600, &why), -1);
	assert_int_equal(why, IG_R_STORE_RECORD_MALFORMED);
	/* Garbage fields. */
	copy = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}}", "user", "S", "mallory", "fmt", "N", "1",
	                 "ver", "S", "x");
	put_raw(copy);
	json_decref(copy);
	assert_int_equal(login("mallory", code, NOW + 600, &why), -1);
	assert_int_equal(why, IG_R_STORE_RECORD_MALFORMED);
	json_decref(item);
	/* A forced enrolment replaces each; the user logs in again. */
	enroll("mallory", 1);
	enroll("eve", 1);
	assert_int_equal(login("mallory", code, NOW + 600, NULL), IG_TOTP_OK);
	assert_int_equal(login("eve", code, NOW + 600, NULL), IG_TOTP_OK);
}

static void it_faults(void **state)
{
	static const struct {
		const char *which, *fault;
		enum ig_reason why;
		const char *code;
	} cases[] = {
	        {"ddb", "{\"throttle\":{\"code\":\"ProvisionedThroughputExceededException\"}}",
	         IG_R_STORE_UNAVAILABLE, "ProvisionedThroughputExceededException"},
	        {"ddb", "{\"throttle\":{}}", IG_R_STORE_UNAVAILABLE, "ThrottlingException"},
	        {"ddb", "{\"malformed\":{}}", IG_R_STORE_UNAVAILABLE, ""},
	        {"ddb", "{\"fail5xx\":{}}", IG_R_STORE_UNAVAILABLE, "InternalServerError"},
	        {"ddb", "{\"drop\":{}}", IG_R_STORE_UNAVAILABLE, ""},
	        {"kms", "{\"deny\":{}}", IG_R_KMS_REFUSED, "AccessDeniedException"},
	        {"kms", "{\"throttle\":{}}", IG_R_KMS_UNAVAILABLE, "ThrottlingException"},
	        {"kms", "{\"malformed\":{\"mode\":\"html\"}}", IG_R_KMS_UNAVAILABLE, ""},
	};
	struct ig_store *s;
	struct ig_totp_outcome oc;
	struct ig_aws_status st;
	enum ig_reason why;
	json_t *before, *after;
	char code[9], f[256];

	(void)state;
	ep_require(&E);
	code_at(NOW + 900, code);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ig_bfmt(f, sizeof(f), "{\"reset\":true,%s", cases[i].fault + 1),
		                 0);
		faults(cases[i].which, f);
		s = bastion(20000);
		assert_true(ig_totp_verify(s, "alice", code, NOW + 900, "192.0.2.7", &TP, &oc) !=
		            0);
		why = ig_store_ddb_failure(s, &st);
		if (why != cases[i].why || strcmp(st.aws_error, cases[i].code) != 0)
			fail_msg("%s %s: %s %s", cases[i].which, cases[i].fault,
			         ig_reason_name(why), st.aws_error);
		ig_store_close(s);
		faults(cases[i].which, "{\"reset\":true}");
	}
	/* Slower than the login's limit: refused within it. */
	faults("ddb", "{\"reset\":true,\"slow\":{\"ms\":3000}}");
	s = bastion(1500);
	assert_true(ig_totp_verify(s, "alice", code, NOW + 900, "192.0.2.7", &TP, &oc) != 0);
	assert_int_equal(ig_store_ddb_failure(s, &st), IG_R_STORE_UNAVAILABLE);
	assert_int_equal(st.reason, IG_R_TIMEOUT);
	ig_store_close(s);
	/* The write fails: the item is as it was (nothing half-written). */
	before = raw_item("alice");
	faults("ddb", "{\"reset\":true,\"fail5xx\":{\"actions\":[\"UpdateItem\"]}}");
	assert_int_equal(login("alice", "000000", NOW + 900, &why), -1);
	assert_int_equal(why, IG_R_STORE_UNAVAILABLE);
	faults("ddb", "{\"reset\":true}");
	after = raw_item("alice");
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
	assert_int_equal(login("alice", code, NOW + 900, NULL), IG_TOTP_OK);
}

int main(void)
{
	const struct CMUnitTest unit[] = {
	        cmocka_unit_test(test_parse_item),
	};
	const struct CMUnitTest integration[] = {
	        cmocka_unit_test(it_enroll_envelope),   cmocka_unit_test(it_replay_across),
	        cmocka_unit_test(it_parallel_one_code), cmocka_unit_test(it_lockout_shared),
	        cmocka_unit_test(it_bad_items),         cmocka_unit_test(it_faults),
	};
	int r = cmocka_run_group_tests(unit, NULL, NULL);

	return r | cmocka_run_group_tests(integration, int_setup, int_teardown);
}
