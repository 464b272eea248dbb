/*
 * test_audit_line.c - one line: syslog text, odd and long values, the strict parser, the show time parser.
 * Figures are printed as TAP comments, never asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "audit_fixture.h"

static void t_syslog_text(void **state)
{
	struct ig_audit_opts o = opts_at(g_log, T0);
	struct ig_audit_event ev = {
	        "auth", "evil\n\x1b[31mroot decision=allow", "10.0.0.9", "sshd", "deny", "bad_code",
	        NULL};
	char text[2048], hex[65];
	struct lines L;

	(void)state;
	o.use_syslog = 1; /* the call itself must be harmless */
	assert_int_equal(ig_audit_append(&o, &ev), 0);
	split(g_log, &L);
	assert_int_equal(ig_audit_line_syslog(L.l[1], strlen(L.l[1]), text, sizeof(text)), 0);
	printf("#   syslog: %s\n", text);
	for (const char *p = text; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	assert_non_null(strstr(text, "event=auth user=\"evil\\x0a\\x1b[31mroot decision=allow\" "
	                             "rhost=10.0.0.9 service=sshd decision=deny reason=bad_code "
	                             "seq=2 hash="));
	sha_hex(L.l[1], strlen(L.l[1]), hex);
	assert_non_null(strstr(text, hex));
	/* Small buffers are cut, never overrun. */
	assert_int_equal(ig_audit_line_syslog(L.l[1], strlen(L.l[1]), text, 10), 0);
	assert_int_equal(strlen(text), 9);
	assert_int_not_equal(ig_audit_line_syslog("{}", 2, text, sizeof(text)), 0);
	free(L.buf);
}

static void t_long_and_odd_values(void **state)
{
	struct stat a, b;
	json_t *x;
	char *big, *user;
	struct lines L;
	struct ig_audit_record rec;

	(void)state;
	append_n(g_log, 1, T0);
	assert_int_equal(stat(g_log, &a), 0);
	big = malloc(20001);
	assert_non_null(big);
	memset(big, 'a', 20000);
	big[20000] = '\0';
	x = json_pack("{ss}", "blob", big);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", x), IG_ERR_RANGE);
	json_decref(x);
	assert_int_equal(stat(g_log, &b), 0);
	assert_int_equal(a.st_size, b.st_size); /* nothing written */
	/* An attacker-sized user name is cut, not refused; bad UTF-8 is escaped. */
	user = malloc(1001);
	assert_non_null(user);
	memset(user, 'm', 1000);
	user[0] = '\xff';
	user[1000] = '\0';
	assert_int_equal(append_ev(g_log, T0, user, "deny", NULL), 0);
	split(g_log, &L);
	assert_int_equal(ig_audit_line_parse(L.l[2], strlen(L.l[2]), &rec, NULL, 0), 0);
	assert_int_equal(strlen(rec.user), 256);
	assert_int_equal(strncmp(rec.user, "\\xffmmm", 7), 0);
	assert_string_equal(rec.user + 253, "...");
	ig_audit_line_clear(&rec);
	free(L.buf);
	free(user);
	free(big);
}

static void t_parse_line(void **state)
{
	static const char *const bad[] = {
	        "",
	        "[]",
	        "{}",
	        "not json",
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1}",
	        /* seq 0 */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":0,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\"}",
	        /* order: host before seq */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"host\":\"h\",\"seq\":1,\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\"}",
	        /* bad date */
	        "{\"time\":\"2026-02-30T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\"}",
	        /* decision */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"maybe\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\"}",
	        /* prev not last */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\",\"x\":1}",
	        /* duplicate key */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"x\":1,\"x\":2,\"prev\":\"PREV\"}",
	        /* fixed key among extras */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"seq\":2,\"prev\":\"PREV\"}",
	        /* user a number */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":5,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\"}",
	        /* trailing garbage */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"PREV\"}x",
	        /* uppercase hex */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":"
	        "\"ABCDEF0000000000000000000000000000000000000000000000000000000000\"}",
	        /* short prev */
	        "{\"time\":\"2026-11-29T00:00:00.000Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":null,\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"prev\":\"00\"}",
	};
	const char *good =
	        "{\"time\":\"2026-11-29T00:00:00.250Z\",\"seq\":1,\"host\":\"h\",\"event\":\"e\","
	        "\"user\":null,\"rhost\":\"::1\",\"service\":null,\"decision\":\"info\",\"reason\":"
	        "\"r\",\"role\":\"x\",\"prev\":\"PREV\"}";
	const char *zeros = "0000000000000000000000000000000000000000000000000000000000000000";
	struct ig_audit_record rec;
	char why[128];
	char *line;

	(void)state;
	line = subst(good, "PREV", zeros);
	assert_int_equal(ig_audit_line_parse(line, strlen(line), &rec, why, sizeof(why)), 0);
	assert_int_equal(rec.time_ms, T0 + 250);
	assert_null(rec.user);
	assert_string_equal(rec.rhost, "::1");
	assert_string_equal(rec.prev, zeros);
	ig_audit_line_clear(&rec);
	ig_audit_line_clear(&rec); /* idempotent */
	free(line);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		line = strstr(bad[i], "PREV") ? subst(bad[i], "PREV", zeros) : strdup(bad[i]);
		why[0] = '\0';
		assert_int_equal(ig_audit_line_parse(line, strlen(line), &rec, why, sizeof(why)),
		                 IG_ERR_PARSE);
		assert_null(rec.obj);
		assert_true(why[0] != '\0');
		free(line);
	}
}

static void t_parse_time(void **state)
{
	int64_t t;
	const int64_t now = T0 + 12 * 3600000;

	(void)state;
	assert_int_equal(ig_audit_line_parse_time("2026-11-29", 1, now, 0, &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(ig_audit_line_parse_time("2026-11-29", 1, now, 1, &t), 0);
	assert_int_equal(t, T0 + 86400000 - 1);
	assert_int_equal(ig_audit_line_parse_time("2026-11-29T10:00:00Z", 0, now, 0, &t), 0);
	assert_int_equal(t, T0 + 10 * 3600000);
	assert_int_equal(ig_audit_line_parse_time("2026-11-29T10:00", 1, now, 0, &t), 0);
	assert_int_equal(t, T0 + 10 * 3600000);
	assert_int_equal(ig_audit_line_parse_time("2026-11-29 10:00:00.250Z", 0, now, 0, &t), 0);
	assert_int_equal(t, T0 + 10 * 3600000 + 250);
	assert_int_equal(ig_audit_line_parse_time("2026-11-29T10:00:00+01:00", 0, now, 0, &t), 0);
	assert_int_equal(t, T0 + 9 * 3600000);
	assert_int_equal(ig_audit_line_parse_time("2026-11-29T10:00:00-0130", 0, now, 0, &t), 0);
	assert_int_equal(t, T0 + 11 * 3600000 + 1800000);
	assert_int_equal(ig_audit_line_parse_time("-1h", 0, now, 0, &t), 0);
	assert_int_equal(t, now - 3600000);
	assert_int_equal(ig_audit_line_parse_time("-30m", 0, now, 0, &t), 0);
	assert_int_equal(t, now - 1800000);
	assert_int_equal(ig_audit_line_parse_time("-7d", 0, now, 0, &t), 0);
	assert_int_equal(t, now - 7 * 86400000LL);
	assert_int_equal(ig_audit_line_parse_time("now", 0, now, 0, &t), 0);
	assert_int_equal(t, now);
	{
		static const char *const bad[] = {"",
		                                  "-h",
		                                  "-5x",
		                                  "1h",
		                                  "2026-02-30",
		                                  "2026-11-29T25:00",
		                                  "2026-11-29T",
		                                  "2026-11-29Z",
		                                  "2026-11-29T10:00:00+",
		                                  "2026-11-29T10:00:00+01:0",
		                                  "yesterday",
		                                  "-99999999999w"};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			assert_int_equal(ig_audit_line_parse_time(bad[i], 1, now, 0, &t),
			                 IG_ERR_PARSE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(t_syslog_text, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_long_and_odd_values, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_parse_line, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_parse_time, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
