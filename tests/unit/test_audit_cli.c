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

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(t_cli_verify, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_cli_show, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_nonroot_reader, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
