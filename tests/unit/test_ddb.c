/*
 * test_ddb.c - the DynamoDB client: what an item may look like (every
 * refusal of ig_ddb_item_ok), the typed getters' one spelling per value,
 * the attribute builders, the response parsers; then, against dynalite
 * behind the SigV4-checking proxy (tests/sts/stsctl.sh --store), the item
 * operations with their conditions (a failed one is IG_ERR_CONFLICT), Scan,
 * and the faults: throttling (both DynamoDB codes) retried then final,
 * 5xx, garbage, a refused caller, a wrong secret, and a slow answer past
 * the time limit.
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
#include "iamgate/ddb.h"
#include "iamgate/util.h"

#include "sts_endpoint_fixture.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);

	if (v == NULL)
		fail_msg("bad test JSON: %s", e.text);
	return v;
}

/* ------------------------------------------------------------------ */
/* Offline                                                             */

static void test_item_ok(void **state)
{
	static const char *const good[] = {
	        "{\"user\":{\"S\":\"alice\"}}",
	        "{\"a\":{\"N\":\"1\"},\"b\":{\"B\":\"AAE=\"},\"c\":{\"BOOL\":false},"
	        "\"d\":{\"NULL\":true},\"e\":{\"SS\":[\"x\"]},\"f\":{\"NS\":[\"1\"]},"
	        "\"g\":{\"BS\":[\"AA==\"]},\"h\":{\"M\":{\"i\":{\"L\":[{\"S\":\"j\"}]}}}}",
	};
	static const char *const bad[] = {
	        "[]",
	        "{}",
	        "{\"a\":\"x\"}",
	        "{\"a\":{}}",
	        "{\"a\":{\"S\":\"x\",\"N\":\"1\"}}",
	        "{\"a\":{\"Q\":\"x\"}}",
	        "{\"a\":{\"S\":1}}",
	        "{\"a\":{\"N\":1}}",
	        "{\"a\":{\"NULL\":false}}",
	        "{\"a\":{\"BOOL\":\"true\"}}",
	        "{\"a\":{\"SS\":[]}}",
	        "{\"a\":{\"SS\":[1]}}",
	        "{\"a\":{\"L\":[{\"S\":1}]}}",
	        "{\"a\":{\"M\":{\"\":{\"S\":\"x\"}}}}",
	        "{\"\":{\"S\":\"x\"}}",
	        "{\"a\":{\"M\":{\"a\":{\"M\":{\"a\":{\"M\":{\"a\":{\"M\":{\"a\":{\"M\":{\"a\":"
	        "{\"M\":{\"a\":{\"M\":{\"a\":{\"M\":{\"a\":{\"S\":\"deep\"}}}}}}}}}}}}}}}}}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		json_t *v = J(good[i]);
		if (!ig_ddb_item_ok(v))
			fail_msg("good item %zu refused", i);
		json_decref(v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *v = J(bad[i]);
		if (ig_ddb_item_ok(v))
			fail_msg("bad item %zu accepted", i);
		json_decref(v);
	}
	assert_false(ig_ddb_item_ok(NULL));
}

static void test_getters(void **state)
{
	json_t *it = J("{\"s\":{\"S\":\"alice\"},\"n\":{\"N\":\"-42\"},\"z\":{\"N\":\"0\"},"
	               "\"b\":{\"B\":\"AAEC\"},\"x\":{\"N\":\"x\"},\"nul\":{\"S\":\"a\\u0000b\"}}");
	static const char *const bad_n[] = {"01",
	                                    "-0",
	                                    "1e3",
	                                    "1.5",
	                                    "+1",
	                                    " 1",
	                                    "",
	                                    "-",
	                                    "123456789012345678901",
	                                    "9223372036854775808"};
	char buf[6];
	uint8_t b[4];
	int64_t n;
	size_t len;

	(void)state;
	assert_int_equal(ig_ddb_get_s(it, "s", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "alice");
	assert_int_equal(ig_ddb_get_s(it, "s", buf, 5), IG_ERR_PARSE);
	assert_int_equal(ig_ddb_get_s(it, "n", buf, sizeof(buf)), IG_ERR_PARSE);
	assert_int_equal(ig_ddb_get_s(it, "absent", buf, sizeof(buf)), IG_ERR_NOTFOUND);
	assert_int_equal(ig_ddb_get_s(it, "nul", buf, sizeof(buf)), IG_ERR_PARSE);
	assert_int_equal(ig_ddb_get_n(it, "n", INT64_MIN, INT64_MAX, &n), 0);
	assert_int_equal(n, -42);
	assert_int_equal(ig_ddb_get_n(it, "z", 0, 0, &n), 0);
	assert_int_equal(ig_ddb_get_n(it, "n", 0, 100, &n), IG_ERR_PARSE);
	assert_int_equal(n, 0);
	assert_int_equal(ig_ddb_get_n(it, "x", INT64_MIN, INT64_MAX, &n), IG_ERR_PARSE);
	assert_int_equal(ig_ddb_get_n(it, "s", INT64_MIN, INT64_MAX, &n), IG_ERR_PARSE);
	for (size_t i = 0; i < sizeof(bad_n) / sizeof(bad_n[0]); i++) {
		json_t *v = json_pack("{s:{s:s}}", "n", "N", bad_n[i]);
		if (ig_ddb_get_n(v, "n", INT64_MIN, INT64_MAX, &n) != IG_ERR_PARSE)
			fail_msg("number \"%s\" accepted", bad_n[i]);
		json_decref(v);
	}
	assert_int_equal(ig_ddb_get_b(it, "b", b, sizeof(b), &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(b, "\x00\x01\x02", 3);
	assert_int_equal(ig_ddb_get_b(it, "b", b, 2, &len), IG_ERR_PARSE);
	assert_int_equal(ig_ddb_get_b(it, "s", b, sizeof(b), &len), IG_ERR_PARSE);
	json_decref(it);
}

static void test_builders_and_parsers(void **state)
{
	json_t *v, *item, *items, *last;
	char *text;

	(void)state;
	v = json_pack("{s:o, s:o, s:o}", "s", ig_ddb_s("a\"b"), "n", ig_ddb_n(-7), "b",
	              ig_ddb_b((const uint8_t *)"\xff\x00", 2));
	text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(
	        text, "{\"b\":{\"B\":\"/wA=\"},\"n\":{\"N\":\"-7\"},\"s\":{\"S\":\"a\\\"b\"}}");
	assert_true(ig_ddb_item_ok(v));
	free(text);
	json_decref(v);
	assert_null(ig_ddb_s("\xff\xfe"));
	assert_null(ig_ddb_s(NULL));

	v = J("{}");
	assert_int_equal(ig_ddb_parse_get(v, &item), 0);
	assert_null(item);
	json_decref(v);
	v = J("{\"Item\":{\"user\":{\"S\":\"a\"}}}");
	assert_int_equal(ig_ddb_parse_get(v, &item), 0);
	assert_non_null(item);
	json_decref(item);
	json_decref(v);
	v = J("{\"Item\":{\"user\":{\"S\":1}}}");
	assert_int_equal(ig_ddb_parse_get(v, &item), IG_ERR_PARSE);
	assert_null(item);
	json_decref(v);
	v = J("{\"Items\":[{\"u\":{\"S\":\"a\"}}],\"Count\":1,\"LastEvaluatedKey\":{\"u\":{\"S\":"
	      "\"a\"}}}");
	assert_int_equal(ig_ddb_parse_scan(v, &items, &last), 0);
	assert_int_equal(json_array_size(items), 1);
	assert_non_null(last);
	json_decref(items);
	json_decref(last);
	json_decref(v);
	v = J("{\"Items\":[{\"u\":{\"S\":\"a\"}}, 7]}");
	assert_int_equal(ig_ddb_parse_scan(v, &items, &last), IG_ERR_PARSE);
	assert_null(items);
	json_decref(v);
	v = J("{\"Count\":0}");
	assert_int_equal(ig_ddb_parse_scan(v, &items, &last), IG_ERR_PARSE);
	json_decref(v);
	assert_true(ig_ddb_table_ok("iamgate-users"));
	assert_false(ig_ddb_table_ok("ab"));
	assert_false(ig_ddb_table_ok("a b c"));
}

/* ------------------------------------------------------------------ */
/* Against dynalite                                                    */

static struct ep E;
static struct ig_aws_creds BASE, OUTSIDER;
static char scratch[512];
static const char *const TABLE = "iamgate-test-ddb";

static int int_setup(void **state)
{
	static const char *const opts[] = {"--store", "--no-imds", NULL};
	char *argv[] = {(char *)"/bin/bash", (char *)EP_SCRIPT,
	                (char *)"table",     E.dir,
	                (char *)TABLE,       NULL};

	(void)state;
	if (ep_start_scratch(&E, scratch, sizeof(scratch), "ddb", opts) != 0 ||
	    E.ddb_url[0] == '\0' || ep_run(argv, NULL) != 0)
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

static void dcfg(struct ig_ddb *d, const struct ig_aws_creds *c)
{
	memset(d, 0, sizeof(*d));
	d->http.endpoint = E.ddb_url;
	d->http.region = E.region;
	d->http.ca_file = E.sts_ca;
	d->http.timeout_ms = 20000; /* generous: valgrind, a busy machine */
	d->http.max_attempts = 3;
	d->creds = c;
	d->table = TABLE;
}

static void faults(const char *json)
{
	assert_int_equal(ep_ctl(&E, "ddb", json), 0);
}

static json_t *key(const char *user)
{
	return json_pack("{s:o}", "user", ig_ddb_s(user));
}

static void it_item_ops(void **state)
{
	struct ig_ddb d;
	struct ig_aws_status st;
	json_t *k = key("alice"), *item, *vals, *items, *last;
	json_t *nm = json_pack("{s:s}", "#u", "user");
	int64_t v;

	(void)state;
	ep_require(&E);
	faults("{\"reset\":true}");
	dcfg(&d, &BASE);
	item = json_pack("{s:o, s:o}", "user", ig_ddb_s("alice"), "ver", ig_ddb_n(1));
	vals = json_pack("{s:o}", ":u", ig_ddb_s("alice"));
	assert_int_equal(ig_ddb_put(&d, item, "attribute_not_exists(#u)", nm, NULL, &st), 0);
	assert_int_equal(st.reason, IG_R_OK);
	assert_true(st.request_id[0] != '\0');
	/* The same conditional put again: the condition no longer holds. */
	assert_int_equal(ig_ddb_put(&d, item, "attribute_not_exists(#u)", nm, NULL, &st),
	                 IG_ERR_CONFLICT);
	assert_string_equal(st.aws_error, "ConditionalCheckFailedException");
	assert_int_equal(st.attempts, 1);
	json_decref(item);
	json_decref(vals);

	/* Update conditioned on the version: once, then stale. */
	vals = json_pack("{s:o, s:o}", ":old", ig_ddb_n(1), ":new", ig_ddb_n(2));
	assert_int_equal(ig_ddb_update(&d, k, "SET ver = :new", "ver = :old", NULL, vals, &st), 0);
	assert_int_equal(ig_ddb_update(&d, k, "SET ver = :new", "ver = :old", NULL, vals, &st),
	                 IG_ERR_CONFLICT);
	json_decref(vals);
	assert_int_equal(ig_ddb_get(&d, k, &item, &st), 0);
	assert_non_null(item);
	assert_int_equal(ig_ddb_get_n(item, "ver", 0, 100, &v), 0);
	assert_int_equal(v, 2);
	json_decref(item);

	/* Scan sees it and a second one; delete leaves nothing. */
	item = json_pack("{s:o}", "user", ig_ddb_s("bob"));
	assert_int_equal(ig_ddb_put(&d, item, NULL, NULL, NULL, &st), 0);
	json_decref(item);
	assert_int_equal(ig_ddb_scan(&d, "#u", nm, NULL, &items, &last, &st), 0);
	assert_int_equal(json_array_size(items), 2);
	assert_null(last);
	json_decref(items);
	assert_int_equal(ig_ddb_delete(&d, k, NULL, NULL, NULL, &st), 0);
	assert_int_equal(ig_ddb_get(&d, k, &item, &st), 0);
	assert_null(item);
	json_decref(k);
	json_decref(nm);
}

static void it_faults(void **state)
{
	static const struct {
		const char *fault;
		int err;
		enum ig_reason reason;
		const char *code;
		unsigned attempts;
	} cases[] = {
	        {"{\"throttle\":{\"count\":2,\"code\":\"ProvisionedThroughputExceededException\"}}",
	         0, IG_R_OK, "", 3},
	        {"{\"throttle\":{\"code\":\"ProvisionedThroughputExceededException\"}}", IG_ERR_AWS,
	         IG_R_AWS_ERROR, "ProvisionedThroughputExceededException", 3},
	        {"{\"throttle\":{}}", IG_ERR_AWS, IG_R_AWS_ERROR, "ThrottlingException", 3},
	        {"{\"fail5xx\":{}}", IG_ERR_AWS, IG_R_HTTP_5XX, "InternalServerError", 3},
	        {"{\"malformed\":{\"count\":1}}", IG_ERR_PARSE, IG_R_MALFORMED_RESPONSE, "", 1},
	        {"{\"malformed\":{\"count\":1,\"mode\":\"truncated\"}}", IG_ERR_PARSE,
	         IG_R_MALFORMED_RESPONSE, "", 1},
	        {"{\"deny\":{\"count\":1}}", IG_ERR_AWS, IG_R_AWS_ERROR, "AccessDeniedException",
	         1},
	        {"{\"drop\":{}}", IG_ERR_NET, IG_R_TRANSPORT_ERROR, "", 3},
	};
	struct ig_ddb d;
	struct ig_aws_status st;
	json_t *k = key("carol"), *item = NULL;

	(void)state;
	ep_require(&E);
	dcfg(&d, &BASE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char f[256];
		long before;
		assert_int_equal(ig_bfmt(f, sizeof(f), "{\"reset\":true,%s", cases[i].fault + 1),
		                 0);
		faults(f);
		before = ep_requests(&E, "ddb");
		if (ig_ddb_get(&d, k, &item, &st) != cases[i].err || st.reason != cases[i].reason ||
		    strcmp(st.aws_error, cases[i].code) != 0 || st.attempts != cases[i].attempts)
			fail_msg("fault %s: err %d reason %s code %s attempts %u", cases[i].fault,
			         st.err, ig_reason_name(st.reason), st.aws_error, st.attempts);
		/* What the client counts is what reached the server. */
		assert_int_equal(ep_requests(&E, "ddb") - before, cases[i].attempts);
		assert_null(item);
	}
	faults("{\"reset\":true}");
	/* A caller the table's policy refuses, and a wrong secret: final. */
	dcfg(&d, &OUTSIDER);
	assert_int_equal(ig_ddb_get(&d, k, &item, &st), IG_ERR_AWS);
	assert_string_equal(st.aws_error, "AccessDeniedException");
	OUTSIDER.secret_access_key[0] = OUTSIDER.secret_access_key[0] == 'A' ? 'B' : 'A';
	assert_int_equal(ig_ddb_get(&d, k, &item, &st), IG_ERR_AWS);
	assert_string_equal(st.aws_error, "InvalidSignatureException");
	assert_int_equal(st.attempts, 1);
	/* Slower than the time limit: timeout, within it. */
	dcfg(&d, &BASE);
	d.http.timeout_ms = 1500;
	d.http.max_attempts = 1;
	faults("{\"reset\":true,\"slow\":{\"ms\":4000,\"count\":1}}");
	assert_int_equal(ig_ddb_get(&d, k, &item, &st), IG_ERR_TIMEOUT);
	assert_int_equal(st.reason, IG_R_TIMEOUT);
	faults("{\"reset\":true}");
	json_decref(k);
}

int main(void)
{
	const struct CMUnitTest unit[] = {
	        cmocka_unit_test(test_item_ok),
	        cmocka_unit_test(test_getters),
	        cmocka_unit_test(test_builders_and_parsers),
	};
	const struct CMUnitTest integration[] = {
	        cmocka_unit_test(it_item_ops),
	        cmocka_unit_test(it_faults),
	};
	int r = cmocka_run_group_tests(unit, NULL, NULL);

	return r | cmocka_run_group_tests(integration, int_setup, int_teardown);
}
