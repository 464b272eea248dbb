/*
 * test_audit_verify.c - the chain check: intact, each kind of tampering named at its line, edges of the in-memory walk.
 * Figures are printed as TAP comments, never asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "audit_fixture.h"

/* ---- chain ------------------------------------------------------------ */

static void t_chain_intact(void **state)
{
	struct ig_audit_verify_result res;
	struct lines L;
	struct stat st;
	char hex[65], hp[PATH_MAX];

	(void)state;
	append_n(g_log, 10, T0);
	assert_int_equal(verify_one(g_log, &res), 0);
	assert_int_equal(res.lines, 11);
	assert_int_equal(res.bad_line, 0);
	assert_int_equal(res.first_seq, 1);
	assert_int_equal(res.last_seq, 11);
	assert_int_equal(res.head_checked, 1);
	assert_string_equal(res.start_prev,
	                    "0000000000000000000000000000000000000000000000000000000000000000");
	split(g_log, &L);
	assert_int_equal(L.n, 11);
	assert_false(L.last_unterminated);
	/* First line: log_start of a new chain; keys in the contract's order. */
	{
		const char *want = "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":"
		                   "\"bastion-1\",\"event\":\"log_start\",\"user\":null,\"rhost\":"
		                   "null,\"service\":null,\"decision\":\"info\",\"reason\":"
		                   "\"new_chain\",\"follows_seq\":0,\"prev\":";
		assert_int_equal(strncmp(L.l[0], want, strlen(want)), 0);
	}
	assert_non_null(strstr(L.l[0], "\"prev\":\"0000000000000000000000000000000000000000000000"
	                               "000000000000000000\"}"));
	assert_non_null(strstr(L.l[1], "\"event\":\"auth\",\"user\":\"u0\",\"rhost\":\"10.0.0.7\","
	                               "\"service\":\"sshd\",\"decision\":\"deny\",\"reason\":"
	                               "\"bad_code\",\"prev\":"));
	/* Each prev is the SHA-256 of the previous line, computed independently. */
	for (size_t i = 1; i < L.n; i++) {
		struct ig_audit_record rec;
		sha_hex(L.l[i - 1], strlen(L.l[i - 1]), hex);
		assert_int_equal(ig_audit_line_parse(L.l[i], strlen(L.l[i]), &rec, NULL, 0), 0);
		assert_string_equal(rec.prev, hex);
		assert_int_equal(rec.seq, i + 1);
		assert_int_equal(rec.time_ms, T0 + (int64_t)(i - 1) * 1000);
		ig_audit_line_clear(&rec);
	}
	free(L.buf);
	/* Files: log 0640 root, head file 0600 root. */
	assert_int_equal(stat(g_log, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(ig_bfmt(hp, sizeof(hp), "%s.head", g_log), 0);
	assert_int_equal(stat(hp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* ---- tampering -------------------------------------------------------- */

static void t_tamper_edit(void **state)
{
	struct lines L;
	char *x;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	/* Line 5 is u3's event: deny -> allow (even indexes deny). */
	x = subst(L.l[4], "\"decision\":\"allow\"", "\"decision\":\"deny\"");
	L.l[4] = x;
	join(g_log, &L, -1);
	expect_bad(g_log, 5, "edited");
	free(x);
	free(L.buf);
}

static void t_tamper_edit_prev_field(void **state)
{
	struct lines L;
	char *x;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	/* Line 6's prev field itself is altered: line 6 is the edited one. */
	x = subst(L.l[5], "\"prev\":\"", "\"prev\":\"0");
	x[strlen(x) - 3] = '"';
	x[strlen(x) - 2] = '}';
	x[strlen(x) - 1] = '\0';
	L.l[5] = x;
	join(g_log, &L, -1);
	expect_bad(g_log, 6, "edited");
	free(x);
	free(L.buf);
}

static void t_tamper_delete(void **state)
{
	struct lines L;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	join(g_log, &L, 5); /* delete line 6 */
	expect_bad(g_log, 6, "missing");
	free(L.buf);
}

static void t_tamper_delete_first(void **state)
{
	struct lines L;

	(void)state;
	append_n(g_log, 5, T0);
	split(g_log, &L);
	join(g_log, &L, 0);
	expect_bad(g_log, 1, "missing");
	free(L.buf);
}

static void t_tamper_swap(void **state)
{
	struct lines L;
	char *t;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	t = L.l[3];
	L.l[3] = L.l[4];
	L.l[4] = t;
	join(g_log, &L, -1);
	expect_bad(g_log, 4, "reordered");
	free(L.buf);
}

static void t_tamper_truncate_mid_line(void **state)
{
	struct ig_audit_verify_result res;
	size_t len;
	char *b;
	char *p;

	(void)state;
	append_n(g_log, 10, T0);
	b = slurp(g_log, &len);
	/* Cut in the middle of line 7 (after 6 newlines). */
	p = b;
	for (int i = 0; i < 6; i++)
		p = strchr(p, '\n') + 1;
	spit(g_log, b, (size_t)(p - b) + 30);
	expect_bad(g_log, 7, "torn");
	/* The next writer records the fragment, and - thanks to the head file -
	 * that four lines are gone from the end. */
	assert_int_equal(append_ev(g_log, T0 + 99000, "after", "allow", NULL), 0);
	assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_PARSE);
	printf("#   %s\n", res.what);
	assert_int_equal(res.bad_line, 7);
	assert_string_equal(res.kind, "torn");
	assert_int_equal(res.broken_line, 9);
	assert_non_null(strstr(res.what, "line 9: missing"));
	free(b);
}

static void t_tamper_insert(void **state)
{
	struct lines L, M;
	char hex[65], pv[80], *forged, *tmp;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	/* A forger who knows the scheme: correct prev and the next seq. */
	sha_hex(L.l[3], strlen(L.l[3]), hex);
	assert_int_equal(ig_bfmt(pv, sizeof(pv), "\"prev\":\"%s\"}", hex), 0);
	tmp = subst(L.l[4], "\"user\":\"u3\"", "\"user\":\"mallory\"");
	forged = subst(tmp, strstr(tmp, "\"prev\":"), pv);
	free(tmp);
	memset(&M, 0, sizeof(M));
	M.buf = NULL;
	for (size_t i = 0; i < L.n; i++) {
		M.l[M.n++] = L.l[i];
		if (i == 3)
			M.l[M.n++] = forged;
	}
	join(g_log, &M, -1);
	expect_bad(g_log, 5, "inserted");
	/* A naive forger: a copy of line 4 with another user, inserted after it. */
	join(g_log, &L, -1);
	free(forged);
	forged = subst(L.l[3], "\"user\":\"u2\"", "\"user\":\"mallory\"");
	M.n = 0;
	for (size_t i = 0; i < L.n; i++) {
		M.l[M.n++] = L.l[i];
		if (i == 3)
			M.l[M.n++] = forged;
	}
	join(g_log, &M, -1);
	expect_bad(g_log, 5, "inserted");
	free(forged);
	free(L.buf);
}

static void t_tamper_not_json(void **state)
{
	struct lines L;
	char garbage[] = "this is not json \x1b[31m";
	char obj[] = "{\"a\":1}";
	struct ig_audit_verify_result res;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	L.l[5] = garbage;
	join(g_log, &L, -1);
	expect_bad(g_log, 6, "not JSON");
	assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_PARSE);
	assert_null(strchr(res.what, '\x1b')); /* the line's bytes are not echoed */
	L.l[5] = obj;
	join(g_log, &L, -1);
	expect_bad(g_log, 6, "malformed");
	free(L.buf);
}

static void t_tamper_last_lines(void **state)
{
	struct ig_audit_verify_result res;
	struct lines L;
	char *x;

	(void)state;
	append_n(g_log, 10, T0);
	split(g_log, &L);
	/* Editing the last line: no later line hashes it, the head file does. */
	x = subst(L.l[10], "\"user\":\"u9\"", "\"user\":\"u8\"");
	L.l[10] = x;
	join(g_log, &L, -1);
	expect_bad(g_log, 11, "edited");
	free(x);
	free(L.buf);
	/* Removing the last two lines. */
	unlink(g_log);
	{
		char hp[PATH_MAX];
		assert_int_equal(ig_bfmt(hp, sizeof(hp), "%s.head", g_log), 0);
		unlink(hp);
	}
	append_n(g_log, 10, T0);
	split(g_log, &L);
	L.n -= 2;
	join(g_log, &L, -1);
	expect_bad(g_log, 10, "missing");
	/* The next writer records the gap, so it stays visible. */
	assert_int_equal(append_ev(g_log, T0 + 50000, "later", "allow", NULL), 0);
	assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_PARSE);
	printf("#   %s\n", res.what);
	assert_int_equal(res.bad_line, 10);
	assert_string_equal(res.kind, "missing");
	free(L.buf);
}

/* ---- rotation --------------------------------------------------------- */

static void t_verify_buf_edges(void **state)
{
	struct ig_audit_verify_result res;

	(void)state;
	assert_int_equal(ig_audit_verify_buf("", 0, &res, NULL), 0);
	assert_int_equal(res.lines, 0);
	assert_int_equal(ig_audit_verify_buf("\n", 1, &res, NULL), IG_ERR_PARSE);
	assert_string_equal(res.kind, "not JSON");
	assert_int_equal(ig_audit_verify_buf("{}\n", 3, &res, NULL), IG_ERR_PARSE);
	assert_string_equal(res.kind, "malformed");
	assert_int_equal(ig_audit_verify_buf("{\"a\"", 4, &res, NULL), IG_ERR_PARSE);
	assert_string_equal(res.kind, "torn");
	{
		char *big = malloc(IG_AUDIT_MAX_LINE + 10);
		assert_non_null(big);
		memset(big, '{', IG_AUDIT_MAX_LINE + 10);
		big[IG_AUDIT_MAX_LINE + 9] = '\n';
		assert_int_equal(ig_audit_verify_buf(big, IG_AUDIT_MAX_LINE + 10, &res, NULL),
		                 IG_ERR_PARSE);
		assert_string_equal(res.kind, "too long");
		free(big);
	}
}

/* ---- CLI -------------------------------------------------------------- */

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(t_chain_intact, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_edit, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_edit_prev_field, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_delete, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_delete_first, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_swap, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_truncate_mid_line, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_insert, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_not_json, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_tamper_last_lines, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_verify_buf_edges, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
