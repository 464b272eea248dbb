/*
 * test_audit_cli.c - `iamgate audit verify|show` run in-process: exit codes, messages, the table, a reader that is not root.
 * Figures are printed as TAP comments, never asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "audit_fixture.h"

static void t_cli_verify(void **state)
{
	char out[8192], err[8192], cfg[PATH_MAX], body[PATH_MAX + 64];
	struct lines L;
	char *x;
	int rc, fd;

	(void)state;
	append_n(g_log, 10, T0);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             (char *)NULL);
	printf("#   %s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, ": 11 lines, chain intact (seq 1..11)"));
	/* --config reads audit.path only. */
	assert_int_equal(ig_bfmt(cfg, sizeof(cfg), "%s/iamgate.json", g_dir), 0);
	assert_int_equal(ig_bfmt(body, sizeof(body),
	                         "{\"other\": {\"x\": 1}, \"audit\": {\"path\": \"%s\"}}", g_log),
	                 0);
	fd = open(cfg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--config", cfg,
	             (char *)NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "chain intact"));
	/* Broken: exit 1 naming the line. */
	split(g_log, &L);
	x = subst(L.l[4], "\"decision\":\"allow\"", "\"decision\":\"deny\"");
	L.l[4] = x;
	join(g_log, &L, -1);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             (char *)NULL);
	printf("#   %s", out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "NOT intact"));
	assert_non_null(strstr(out, "line 5: edited: line 5 was changed after it was written"));
	free(x);
	free(L.buf);
	/* Cannot read: exit 2 with the reason. */
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log",
	             "/nonexistent/audit.jsonl", (char *)NULL);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "cannot read /nonexistent/audit.jsonl"));
	/* Config without audit.path: the loader's default, as the writers use it. */
	fd = open(cfg, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "{}", 2), 2);
	close(fd);
	(void)run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--config", cfg,
	              (char *)NULL);
	assert_true(strstr(out, "/var/log/iamgate/audit.jsonl") != NULL ||
	            strstr(err, "/var/log/iamgate/audit.jsonl") != NULL);
	/* A configuration that is not a trusted file is not read. */
	assert_int_equal(chmod(cfg, 0666), 0);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--config", cfg,
	             (char *)NULL);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "cannot read audit.path from"));
	assert_int_equal(chmod(cfg, 0600), 0);
	/* Usage errors. */
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", (char *)NULL), 2);
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", "frob", (char *)NULL),
	                 2);
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--bogus",
	                         (char *)NULL),
	                 2);
	assert_non_null(strstr(err, "unknown option"));
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log",
	                         (char *)NULL),
	                 2);
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log",
	                         g_log, "--config", cfg, (char *)NULL),
	                 2);
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log",
	                         (char *)NULL),
	                 2);
	/* No path at all and no default. */
	assert_int_equal(
	        run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", (char *)NULL), 2);
	assert_int_equal(run_cli(out, sizeof(out), err, sizeof(err), "audit", "help", (char *)NULL),
	                 0);
	assert_non_null(strstr(out, "usage: iamgate audit verify"));
}

/* Column where needle starts in line, or -1. */
static int col_of(const char *line, const char *needle)
{
	const char *p = strstr(line, needle);

	return p ? (int)(p - line) : -1;
}

static void t_cli_show(void **state)
{
	char out[16384], err[8192];
	json_t *x;
	int rc;
	char *l2, *nl;

	(void)state;
	x = json_pack("{ss}", "role", "readonly");
	assert_int_equal(append_ev(g_log, T0 + 3600000, "alice", "allow", x), 0);
	json_decref(x);
	assert_int_equal(append_ev(g_log, T0 + 7200000, "bob", "deny", NULL), 0);
	assert_int_equal(append_ev(g_log, T0 + 86400000, "evil\x1b[2J", "deny", NULL), 0);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log, "--utc",
	             (char *)NULL);
	printf("%s", out);
	assert_int_equal(rc, 0);
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "evil\\x1b[2J"));
	assert_non_null(strstr(out, "TIME (UTC)"));
	assert_non_null(strstr(out, "2026-11-29 01:00:00Z"));
	assert_non_null(strstr(out, "(4 of 4 events)"));
	/* Aligned: the DECISION header and the values start in the same column. */
	l2 = strchr(out, '\n') + 1;
	nl = strchr(l2, '\n');
	*nl = '\0';
	assert_int_equal(col_of(out, "DECISION"), col_of(l2, "info"));
	*nl = '\n';
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log, "--utc",
	             "--user", "bob", (char *)NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "bob"));
	assert_null(strstr(out, "alice"));
	assert_non_null(strstr(out, "(1 of 4 events)"));
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log,
	             "--decision", "deny", "--since", "2026-11-29T01:30:00Z", "--until",
	             "2026-11-29", "--utc", (char *)NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "bob"));
	assert_null(strstr(out, "evil"));
	assert_non_null(strstr(out, "(1 of 4 events)"));
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log, "--role",
	             "readonly", "--json", (char *)NULL);
	assert_int_equal(rc, 0);
	{
		json_error_t je;
		json_t *o = json_loads(out, 0, &je);
		assert_non_null(o);
		assert_string_equal(json_string_value(json_object_get(o, "user")), "alice");
		json_decref(o);
		assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out)); /* one line */
	}
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log, "--since",
	             "yesterday-ish", (char *)NULL);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "cannot read the time"));
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log,
	             "--decision", "perhaps", (char *)NULL);
	assert_int_equal(rc, 2);
	/* Local time is the default. */
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log,
	             (char *)NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "TIME (local)"));
}

/* A reader that is not root: reads the log, refuses a symlink, cannot write. */
static void t_nonroot_reader(void **state)
{
	char lnk[PATH_MAX];
	pid_t pid;
	int st;

	(void)state;
	append_n(g_log, 5, T0);
	assert_int_equal(chmod(g_log, 0644), 0); /* stands in for group iamgate-audit */
	assert_int_equal(ig_bfmt(lnk, sizeof(lnk), "%s/link.jsonl", g_dir), 0);
	assert_int_equal(symlink(g_log, lnk), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ig_audit_verify_result res;
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		if (ig_audit_verify(g_log, &res) != 0 || res.lines != 6 || res.head_checked)
			_exit(4);
		if (ig_audit_verify(lnk, &res) != IG_ERR_UNSAFE)
			_exit(5);
		/* A non-root process cannot write the log. */
		if (append_ev(g_log, T0, "x", "deny", NULL) == 0)
			_exit(6);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* A config naming the test log: groups (one every host has) and roles, as
 * the loader requires. */
static void write_config(const char *cfg)
{
	char text[2048];
	int fd;

	assert_int_equal(
	        ig_bfmt(text, sizeof(text),
	                "{\"allowlists\": {\"office\": [\"203.0.113.0/24\"]},\n"
	                " \"groups\": {\"root\": {\"allow_from\": [\"office\"], \"roles\": "
	                "[\"ro\"]}},\n"
	                " \"roles\": {\"ro\": {\"arn\": \"arn:aws:iam::111122223333:role/ro\"}},\n"
	                " \"audit\": {\"path\": \"%s\", \"syslog\": false, "
	                "\"seal_epoch_seconds\": 60}}\n",
	                g_log),
	        0);
	fd = open(cfg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* seal-init prints the verification key once; verify proves the seals
 * with it, read from a file (never argv); a second seal-init refuses. */
static void t_cli_seal(void **state)
{
	char out[16384], err[4096], cfg[PATH_MAX], vkf[PATH_MAX], vkey[128];
	const char *p;
	size_t n;
	int fd, rc;

	(void)state;
	assert_int_equal(ig_bfmt(cfg, sizeof(cfg), "%s/iamgate.json", g_dir), 0);
	assert_int_equal(ig_bfmt(vkf, sizeof(vkf), "%s/vkey", g_dir), 0);
	write_config(cfg);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "seal-init", "--config", cfg,
	             (char *)NULL);
	printf("#   %s", err);
	assert_int_equal(rc, 0);
	assert_non_null(p = strstr(out, "igseal1-"));
	n = strcspn(p, " \n");
	assert_true(n < sizeof(vkey));
	memcpy(vkey, p, n);
	vkey[n] = '\0';
	assert_non_null(strstr(out, "\u2580") ? out : strstr(out, "\u2584")); /* the QR code */
	append_n(g_log, 4, T0);
	fd = open(vkf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, vkey, n), (ssize_t)n);
	close(fd);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             "--verification-key", vkf, (char *)NULL);
	printf("#   %s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "sealed and intact"));
	/* Not the key: exit 1. */
	vkey[10] = vkey[10] == 'a' ? 'b' : 'a';
	fd = open(vkf, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, vkey, n), (ssize_t)n);
	close(fd);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             "--verification-key", vkf, (char *)NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "NOT proven"));
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "seal-init", "--config", cfg,
	             (char *)NULL);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "already exists"));
	/* The timer's command: nothing to close yet, and it says nothing. */
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "seal", "--config", cfg,
	             (char *)NULL);
	assert_int_equal(rc, 0);
}

/* verify --against: the shipped copy beside the log. */
static void t_cli_against(void **state)
{
	char out[8192], err[4096], copy[PATH_MAX];
	struct lines L;
	char *x;
	int fd, rc;

	(void)state;
	append_n(g_log, 6, T0);
	assert_int_equal(ig_bfmt(copy, sizeof(copy), "%s/copy.jsonl", g_dir), 0);
	fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	split(g_log, &L);
	L.n = 5; /* shipped up to line 5 */
	join(copy, &L, -1);
	free(L.buf);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             "--against", copy, (char *)NULL);
	printf("#   %s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "5 lines the same"));
	assert_non_null(strstr(out, "2 line(s) of the log are not in the copy (from seq 6)"));
	/* Root edits line 3 and removes the last line after shipping. */
	split(g_log, &L);
	x = subst(L.l[2], "\"decision\":\"allow\"", "\"decision\":\"deny\"");
	L.l[2] = x;
	L.n = 4;
	join(g_log, &L, -1);
	free(x);
	free(L.buf);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             "--against", copy, (char *)NULL);
	printf("#   %s", out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "1 line(s) differ from the copy, the first at seq 3"));
	assert_non_null(strstr(out, "1 line(s) of the copy are missing from the log"));
	/* The JSON of aws logs get-log-events works as well. */
	fd = open(copy, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "{\"events\": []}", 14), 14);
	close(fd);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             "--against", copy, (char *)NULL);
	assert_non_null(strstr(out, "0 lines the same"));
}

/* show --reason, with the other filters. */
static void t_cli_show_reason(void **state)
{
	char out[8192], err[4096];
	int rc;

	(void)state;
	append_n(g_log, 6, T0);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log,
	             "--reason", "bad_code", "--json", (char *)NULL);
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "\"reason\":\"ok\""));
	assert_non_null(strstr(out, "\"reason\":\"bad_code\""));
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "show", "--log", g_log,
	             "--reason", "bad_code", "--user", "u2", (char *)NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "(1 of 7 events)"));
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             "--reason", "x", (char *)NULL);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "does not go with this command"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(t_cli_verify, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_cli_show, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_nonroot_reader, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_cli_seal, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_cli_against, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_cli_show_reason, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
