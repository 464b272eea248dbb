/*
 * test_totp.c - the TOTP rules without a file system: RFC 6238 vectors,
 * window edges, replay, the boot floor, malformed codes, the step length
 * changed under a user's record, escalating lockouts and their reset, and
 * ig_totp_verify over a store (an in-memory backend defined here) that
 * reports another writer: the rules run again on what it holds then.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iamgate/store.h"
#include "iamgate/totp.h"
#include "iamgate/util.h"

static const uint8_t rfc_secret[] = "12345678901234567890";

static const struct ig_totp_params p8 = {8, 30, 1, 5, 900, 86400, 0};
static const struct ig_totp_params p6 = {6, 30, 1, 3, 900, 86400, 0};

static struct ig_user_record fresh(void)
{
	struct ig_user_record r;

	memset(&r, 0, sizeof(r));
	r.enrolled = 1;
	memcpy(r.secret, rfc_secret, 20);
	r.secret_len = 20;
	return r;
}

/* Judge code at now for rec; the verdict. */
static enum ig_totp_result try(struct ig_user_record *rec, const char *code, int64_t now,
                               const struct ig_totp_params *p)
{
	struct ig_totp_outcome oc;

	assert_int_equal(ig_totp_decide(rec, code, now, "192.0.2.1", p, &oc), 0);
	return oc.result;
}

static void code_at(int64_t t, const struct ig_totp_params *p, char code[9])
{
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, (time_t)t, p, code), 0);
}

static void test_rfc6238_vectors(void **state)
{
	static const struct {
		time_t t;
		const char *code;
	} v[] = {{59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
	         {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}};
	char out[9];
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(ig_totp_code_at(rfc_secret, 20, v[i].t, &p8, out), 0);
		assert_string_equal(out, v[i].code);
	}
}

static void test_accept_then_replay(void **state)
{
	struct ig_user_record r = fresh();

	(void)state;
	assert_int_equal(try(&r, "14050471", 1111111111, &p8), IG_TOTP_OK);
	assert_int_equal(r.used_until, (1111111111 / 30 + 1) * 30);
	assert_int_equal(r.last_login, 1111111111);
	assert_string_equal(r.last_rhost, "192.0.2.1");
	/* Same code again, same step: replay, counted. */
	assert_int_equal(try(&r, "14050471", 1111111112, &p8), IG_TOTP_REPLAY);
	assert_int_equal(r.failures, 1);
}

static void test_window_edges(void **state)
{
	struct ig_user_record r = fresh();
	const int64_t now = 1111111111;
	char code[9];

	(void)state;
	code_at(now - 30, &p8, code); /* one step behind: inside window 1 */
	assert_int_equal(try(&r, code, now, &p8), IG_TOTP_OK);
	code_at(now + 60, &p8, code); /* two ahead: outside */
	assert_int_equal(try(&r, code, now, &p8), IG_TOTP_BAD_CODE);
	code_at(now + 30, &p8, code); /* one ahead: inside */
	assert_int_equal(try(&r, code, now, &p8), IG_TOTP_OK);
	/* An older step than the last accepted one is a replay, even in window. */
	code_at(now, &p8, code);
	assert_int_equal(try(&r, code, now, &p8), IG_TOTP_REPLAY);
}

/* The boot floor (p.boot_time): a right code whose step could have been
 * accepted before the boot is refused, not counted, not recorded. */
static void test_boot_floor(void **state)
{
	const int64_t now = 1111111111; /* step 37037037 (+ 1 s) */
	struct ig_totp_params p = p8;
	struct ig_user_record r = fresh();
	char code[9], next[9];

	(void)state;
	code_at(now, &p, code);
	code_at(now + 30, &p, next);
	/* Booted 20 s ago: floor = (now - 20) / 30 + 1 = this step.  Max
	 * failures is 5: six refusals lock nothing. */
	p.boot_time = now - 20;
	for (int i = 0; i < 6; i++)
		assert_int_equal(try(&r, code, now, &p), IG_TOTP_PREDATES_BOOT);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.locked_until, 0);
	assert_int_equal(r.used_until, 0);
	assert_int_equal(ig_totp_result_reason(IG_TOTP_PREDATES_BOOT), IG_R_CODE_PREDATES_BOOT);
	/* A wrong code is still a counted failure. */
	assert_int_equal(try(&r, "00000000", now, &p), IG_TOTP_BAD_CODE);
	assert_int_equal(r.failures, 1);
	/* The next step is above the floor: accepted; used again: a replay. */
	assert_int_equal(try(&r, next, now, &p), IG_TOTP_OK);
	assert_int_equal(r.used_until, (37037038 + 1) * 30);
	assert_int_equal(try(&r, next, now, &p), IG_TOTP_REPLAY);
	/* Booted 60 s before: floor below the step of now + 60. */
	p.boot_time = now - 60;
	code_at(now + 60, &p, code);
	assert_int_equal(try(&r, code, now + 60, &p), IG_TOTP_OK);
}

static void test_malformed_codes(void **state)
{
	static const char *bad[] = {"",         "1234567",    "123456789", "1234567a",
	                            " 1234567", "12345678\n", "-1234567",  "+1234567"};
	struct ig_totp_params p = p8;
	struct ig_user_record r = fresh();

	(void)state;
	p.max_failures = 100;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(try(&r, bad[i], 1111111111, &p), IG_TOTP_BAD_CODE);
		assert_int_equal(r.failures, i + 1);
	}
}

/* 30 s -> 60 s: the first 60 s code is accepted at once (a step index
 * would have called it a replay); the code used at 30 s stays used.
 * 60 s -> 30 s: no code whose step ends inside the last used 60 s step
 * is accepted, the next one is. */
static void test_step_length_change(void **state)
{
	struct ig_totp_params p30 = p6, p60 = p6;
	struct ig_user_record r = fresh();
	const int64_t t = 1800000000; /* a multiple of 60 */
	char code[9];

	(void)state;
	p60.step_seconds = 60;
	code_at(t, &p30, code);
	assert_int_equal(try(&r, code, t, &p30), IG_TOTP_OK);
	assert_int_equal(r.used_until, t + 30);
	code_at(t + 10, &p60, code);
	assert_int_equal(try(&r, code, t + 10, &p60), IG_TOTP_OK);
	assert_int_equal(r.used_until, t + 60);
	assert_int_equal(try(&r, code, t + 20, &p60), IG_TOTP_REPLAY);
	code_at(t + 70, &p60, code);
	assert_int_equal(try(&r, code, t + 70, &p60), IG_TOTP_OK);
	assert_int_equal(r.used_until, t + 120);
	/* Back to 30 s at t + 80: the step [t + 90, t + 120) lies inside the
	 * last used one: refused; [t + 120, t + 150) is new. */
	code_at(t + 90, &p30, code);
	assert_int_equal(try(&r, code, t + 95, &p30), IG_TOTP_REPLAY);
	code_at(t + 120, &p30, code);
	assert_int_equal(try(&r, code, t + 121, &p30), IG_TOTP_OK);
	assert_int_equal(r.failures, 0);
}

/* Each lockout after the first lasts twice as long, up to the cap; a
 * success resets the count. */
static void test_escalating_lockout(void **state)
{
	struct ig_totp_params p = p6;
	struct ig_user_record r = fresh();
	int64_t now = 2000000000;
	struct ig_totp_outcome oc;
	const int64_t expect[] = {900, 1800, 3600, 7200, 7200};
	char code[9];

	(void)state;
	p.lockout_max_seconds = 7200;
	assert_int_equal(ig_totp_lockout_length(&p, 1), 900);
	assert_int_equal(ig_totp_lockout_length(&p, 3), 3600);
	assert_int_equal(ig_totp_lockout_length(&p, 40), 7200);
	for (size_t k = 0; k < sizeof(expect) / sizeof(expect[0]); k++) {
		for (unsigned i = 0; i < p.max_failures; i++)
			assert_int_equal(ig_totp_decide(&r, "000000", now, NULL, &p, &oc), 0);
		assert_true(oc.lockout_started);
		assert_int_equal(oc.lockouts, k + 1);
		assert_int_equal(oc.locked_until, now + expect[k]);
		/* Locked: even the right code is refused, and nothing changes. */
		code_at(now + 1, &p, code);
		assert_int_equal(ig_totp_decide(&r, code, now + 1, NULL, &p, &oc), 0);
		assert_int_equal(oc.result, IG_TOTP_LOCKED);
		assert_false(oc.changed);
		now = oc.locked_until;
	}
	/* A success after the last lockout resets both counts. */
	code_at(now, &p, code);
	assert_int_equal(try(&r, code, now, &p), IG_TOTP_OK);
	assert_int_equal(r.lockouts, 0);
	assert_int_equal(r.failures, 0);
	for (unsigned i = 0; i < p.max_failures; i++)
		assert_int_equal(ig_totp_decide(&r, "000000", now + 30, NULL, &p, &oc), 0);
	assert_int_equal(oc.locked_until, now + 30 + 900);
}

/* An in-memory store: one record; commit can be told to fail with a
 * conflict after applying another writer's change first. */
struct mem {
	struct ig_user_record rec;
	int conflicts;     /* commits still to refuse */
	const char *other; /* the code another host accepts meanwhile */
	int64_t now;
};

static struct mem mem;

static int mem_begin(struct ig_store *s, const char *user, struct ig_store_txn **t,
                     struct ig_user_record *rec)
{
	(void)s;
	(void)user;
	*t = (struct ig_store_txn *)&mem;
	*rec = mem.rec;
	return 0;
}

static int mem_commit(struct ig_store *s, struct ig_store_txn *t, const struct ig_user_record *rec,
                      unsigned flags)
{
	struct ig_totp_outcome oc;

	(void)s;
	(void)t;
	(void)flags;
	if (mem.conflicts > 0) {
		mem.conflicts--;
		if (mem.other != NULL)
			assert_int_equal(
			        ig_totp_decide(&mem.rec, mem.other, mem.now, NULL, &p6, &oc), 0);
		return IG_ERR_CONFLICT;
	}
	mem.rec = *rec;
	return 0;
}

static void mem_end(struct ig_store *s, struct ig_store_txn *t)
{
	(void)s;
	(void)t;
}

static const struct ig_store_ops mem_ops = {
        .name = "memory", .begin = mem_begin, .commit = mem_commit, .end = mem_end};

static void test_verify_retries_on_conflict(void **state)
{
	struct ig_store s = {&mem_ops, NULL};
	struct ig_totp_outcome oc;
	char code[9];

	(void)state;
	memset(&mem, 0, sizeof(mem));
	mem.rec = fresh();
	mem.now = 2000000000;
	code_at(mem.now, &p6, code);
	/* Another bastion accepts the same code first: this one sees a replay. */
	mem.conflicts = 1;
	mem.other = code;
	assert_int_equal(ig_totp_verify(&s, "alice", code, mem.now, NULL, &p6, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_REPLAY);
	assert_int_equal(mem.rec.failures, 1);
	/* A store that never settles: bounded, and an error (the login is denied). */
	mem.conflicts = 1000;
	mem.other = NULL;
	assert_int_equal(ig_totp_verify(&s, "alice", "000000", mem.now, NULL, &p6, &oc),
	                 IG_ERR_CONFLICT);
	assert_true(mem.conflicts > 990);
	/* Names that cannot be a record's key never reach the backend. */
	assert_int_equal(ig_totp_verify(&s, "../etc", "000000", mem.now, NULL, &p6, &oc),
	                 IG_ERR_INVAL);
	assert_int_equal(ig_totp_verify(&s, "", "000000", mem.now, NULL, &p6, &oc), IG_ERR_INVAL);
}

static void test_not_enrolled(void **state)
{
	struct ig_user_record r;
	struct ig_totp_outcome oc;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(ig_totp_decide(&r, "123456", 1000, NULL, &p6, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_NOT_ENROLLED);
	assert_false(oc.changed);
}

static void test_base32_roundtrip(void **state)
{
	uint8_t s[IG_TOTP_SECRET_MAX];
	size_t n;
	char *b = NULL;
	(void)state;
	assert_int_equal(ig_totp_base32(rfc_secret, 20, &b), 0);
	assert_string_equal(b, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	assert_int_equal(ig_totp_from_base32(b, s, sizeof(s), &n), 0);
	assert_int_equal(n, 20);
	assert_memory_equal(s, rfc_secret, 20);
	ig_free_secret_str(b);
	assert_int_equal(ig_totp_from_base32("not base32!", s, sizeof(s), &n), IG_ERR_PARSE);
	assert_int_equal(ig_totp_from_base32("", s, sizeof(s), &n), IG_ERR_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rfc6238_vectors),
	        cmocka_unit_test(test_accept_then_replay),
	        cmocka_unit_test(test_window_edges),
	        cmocka_unit_test(test_boot_floor),
	        cmocka_unit_test(test_malformed_codes),
	        cmocka_unit_test(test_step_length_change),
	        cmocka_unit_test(test_escalating_lockout),
	        cmocka_unit_test(test_verify_retries_on_conflict),
	        cmocka_unit_test(test_not_enrolled),
	        cmocka_unit_test(test_base32_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
