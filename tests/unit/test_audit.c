/*
 * test_audit.c - the writer: rotation (and logrotate itself), torn tails, concurrency, kill -9, the lock bound, unsafe files, secrets kept out.
 * Figures are printed as TAP comments, never asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "audit_fixture.h"

static void t_rotation(void **state)
{
	struct ig_audit_verify_result res;
	char rot[PATH_MAX], hex[65], want[80];
	const char *both[2], *wrong[2];
	struct lines L, R;
	int fd;

	(void)state;
	assert_int_equal(ig_bfmt(rot, sizeof(rot), "%s.1", g_log), 0);
	append_n(g_log, 5, T0);
	/* logrotate: rename, then "create 0640 root iamgate-audit". */
	assert_int_equal(rename(g_log, rot), 0);
	fd = open(g_log, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	close(fd);
	append_n(g_log, 5, T0 + 3600000);
	split(rot, &R);
	split(g_log, &L);
	assert_int_equal(R.n, 6);
	assert_int_equal(L.n, 6);
	sha_hex(R.l[5], strlen(R.l[5]), hex);
	assert_int_equal(ig_bfmt(want, sizeof(want), "\"prev\":\"%s\"}", hex), 0);
	assert_non_null(strstr(L.l[0], "\"event\":\"log_start\""));
	assert_non_null(strstr(L.l[0], "\"seq\":7,"));
	assert_non_null(strstr(L.l[0], "\"reason\":\"rotated\",\"follows_seq\":6,"));
	assert_non_null(strstr(L.l[0], want));
	both[0] = rot;
	both[1] = g_log;
	assert_int_equal(ig_audit_verify_files(both, 2, &res, NULL), 0);
	assert_int_equal(res.lines, 12);
	assert_int_equal(res.first_seq, 1);
	assert_int_equal(res.last_seq, 12);
	/* Alone, the new file is intact and says what it follows. */
	assert_int_equal(ig_audit_verify(g_log, &res), 0);
	assert_int_equal(res.first_seq, 7);
	assert_string_equal(res.start_prev, hex);
	/* Wrong order. */
	wrong[0] = g_log;
	wrong[1] = rot;
	assert_int_equal(ig_audit_verify_files(wrong, 2, &res, NULL), IG_ERR_PARSE);
	assert_int_equal(res.bad_file, 1);
	assert_int_equal(res.bad_line, 1);
	assert_string_equal(res.kind, "reordered");
	/* The rotated file loses its last line. */
	R.n--;
	join(rot, &R, -1);
	assert_int_equal(ig_audit_verify_files(both, 2, &res, NULL), IG_ERR_PARSE);
	printf("#   %s\n", res.what);
	assert_int_equal(res.bad_file, 1);
	assert_int_equal(res.bad_line, 1);
	assert_string_equal(res.kind, "missing");
	free(L.buf);
	free(R.buf);
}

static void t_rotation_writer_creates(void **state)
{
	struct ig_audit_verify_result res;
	char rot[PATH_MAX];
	const char *both[2];

	(void)state;
	assert_int_equal(ig_bfmt(rot, sizeof(rot), "%s.1", g_log), 0);
	append_n(g_log, 3, T0);
	/* Rename only (or the create lost a race): the writer creates the log. */
	assert_int_equal(rename(g_log, rot), 0);
	append_n(g_log, 3, T0 + 10000);
	both[0] = rot;
	both[1] = g_log;
	assert_int_equal(ig_audit_verify_files(both, 2, &res, NULL), 0);
	assert_int_equal(res.last_seq, 8);
	/* The CLI's --rotated finds NAME.1. */
	{
		char out[4096], err[4096];
		int rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log",
		                 g_log, "--rotated", (char *)NULL);
		printf("#   %s", out);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "(2 files): 8 lines, chain intact (seq 1..8)"));
	}
}

static void t_rotation_head_fallback(void **state)
{
	struct ig_audit_verify_result res;
	struct lines L;
	char hex[65];

	(void)state;
	append_n(g_log, 3, T0);
	split(g_log, &L);
	sha_hex(L.l[3], strlen(L.l[3]), hex);
	/* The log vanishes (deleted, or rotated with dateext): the head continues it. */
	assert_int_equal(unlink(g_log), 0);
	append_n(g_log, 2, T0 + 10000);
	free(L.buf);
	split(g_log, &L);
	assert_non_null(strstr(L.l[0], "\"seq\":5,"));
	assert_non_null(strstr(L.l[0], "\"reason\":\"continued\""));
	assert_int_equal(ig_audit_verify(g_log, &res), 0);
	assert_string_equal(res.start_prev, hex);
	free(L.buf);
}

static void t_rotation_torn_predecessor(void **state)
{
	struct ig_audit_verify_result res;
	char rot[PATH_MAX];
	const char *both[2];
	const char frag[] = "{\"time\":\"2026-11-29T00:00:09.000Z\",\"seq\":5,\"ho";
	int fd;

	(void)state;
	assert_int_equal(ig_bfmt(rot, sizeof(rot), "%s.1", g_log), 0);
	append_n(g_log, 3, T0);
	fd = open(g_log, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, frag, sizeof(frag) - 1), (ssize_t)sizeof(frag) - 1);
	close(fd);
	assert_int_equal(rename(g_log, rot), 0);
	append_n(g_log, 2, T0 + 10000);
	both[0] = rot;
	both[1] = g_log;
	assert_int_equal(ig_audit_verify_files(both, 2, &res, NULL), IG_ERR_PARSE);
	printf("#   %s\n", res.what);
	assert_string_equal(res.kind, "torn");
	assert_int_equal(res.bad_file, 0);
	assert_int_equal(res.bad_line, 5);
	assert_int_equal(res.broken_line, 0);
	assert_int_equal(res.last_seq, 7);
}

/* ---- torn tails ------------------------------------------------------- */

static void t_torn_tail(void **state)
{
	struct ig_audit_verify_result res;
	const char frag[] = "{\"time\":\"2026-11-29T00:00:09.000Z\",\"seq\":7,\"host\":\"bas";
	char hex[65], want[80], out[4096], err[4096];
	struct lines L;
	int fd, rc;

	(void)state;
	append_n(g_log, 5, T0);
	/* A writer killed mid-write leaves a prefix of its line. */
	fd = open(g_log, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, frag, sizeof(frag) - 1), (ssize_t)sizeof(frag) - 1);
	close(fd);
	expect_bad(g_log, 7, "torn");
	assert_int_equal(append_ev(g_log, T0 + 20000, "next", "allow", NULL), 0);
	split(g_log, &L);
	assert_int_equal(L.n, 9);
	assert_string_equal(L.l[6], frag); /* terminated, never merged */
	sha_hex(frag, sizeof(frag) - 1, hex);
	assert_int_equal(ig_bfmt(want, sizeof(want), "\"prev\":\"%s\"}", hex), 0);
	assert_non_null(strstr(L.l[7], "\"seq\":7,"));
	assert_non_null(strstr(L.l[7], "\"event\":\"audit_torn_tail\""));
	assert_non_null(strstr(L.l[7], "\"decision\":\"info\",\"reason\":\"torn_tail_detected\""));
	assert_non_null(strstr(L.l[7], want));
	assert_non_null(strstr(L.l[8], "\"seq\":8,"));
	assert_non_null(strstr(L.l[8], "\"user\":\"next\""));
	assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_PARSE);
	printf("#   %s\n", res.what);
	assert_string_equal(res.kind, "torn");
	assert_int_equal(res.bad_line, 7);
	assert_int_equal(res.broken_line, 0);
	assert_int_equal(res.torn, 1);
	assert_int_equal(res.last_seq, 8);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             (char *)NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "line 7: torn:"));
	/* A later edit is still found past the recorded torn line. */
	{
		char *x = subst(L.l[4], "\"decision\":\"allow\"", "\"decision\":\"deny\"");
		L.l[4] = x;
		join(g_log, &L, -1);
		assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_PARSE);
		assert_int_equal(res.bad_line, 5);
		assert_string_equal(res.kind, "edited");
		free(x);
	}
	free(L.buf);
}

static void t_torn_before_newline(void **state)
{
	struct ig_audit_verify_result res;
	struct stat st;

	(void)state;
	append_n(g_log, 5, T0);
	/* The whole line made it, its newline did not. */
	assert_int_equal(stat(g_log, &st), 0);
	assert_int_equal(truncate(g_log, st.st_size - 1), 0);
	expect_bad(g_log, 6, "torn");
	assert_int_equal(append_ev(g_log, T0 + 20000, "next", "allow", NULL), 0);
	assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_PARSE);
	printf("#   %s\n", res.what);
	assert_string_equal(res.kind, "torn");
	assert_int_equal(res.bad_line, 6);
	assert_int_equal(res.broken_line, 0);
	assert_int_equal(res.last_seq, 8);
}

/* ---- concurrency ------------------------------------------------------ */

static void writer(int w, int n, int big)
{
	char u[32];
	static char blob[12001];

	if (big) {
		memset(blob, 'x', sizeof(blob) - 1);
		blob[sizeof(blob) - 1] = '\0';
	}
	for (int i = 0; i < n; i++) {
		json_t *x = json_pack("{sisi}", "writer", w, "i", i);
		int r;
		if (big)
			json_object_set_new(x, "blob", json_string(blob));
		if (ig_bfmt(u, sizeof(u), "w%02d", w) != 0)
			_exit(2);
		r = append_ev(g_log, T0 + i, u, "allow", x);
		json_decref(x);
		if (r != 0)
			_exit(10 + (-r));
	}
	_exit(0);
}

static double run_writers(int nw, int per)
{
	pid_t pids[64];
	double t0 = now_s();
	int st;

	fflush(stdout); /* children must not inherit (and repeat) buffered output */
	for (int w = 0; w < nw; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0)
			writer(w, per, 0);
	}
	for (int w = 0; w < nw; w++) {
		assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			printf("#   writer %d: status %d\n", w, st);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	return now_s() - t0;
}

/* Under valgrind (run-all sets IG_VALGRIND) the same checks run on fewer
 * events: valgrind serialises the writers and makes each append ~50x slower. */
static int under_valgrind(void)
{
	return getenv("IG_VALGRIND") != NULL;
}

static void t_concurrency(void **state)
{
	enum { MAXW = 50, MAXPER = 100 };
	const int NW = under_valgrind() ? 10 : MAXW, PER = under_valgrind() ? 20 : MAXPER;
	static unsigned char seen[MAXW][MAXPER];
	struct ig_audit_verify_result res;
	struct lines L;
	double dt;

	(void)state;
	memset(seen, 0, sizeof(seen));
	g_lock_timeout_ms = 60000;
	dt = run_writers(NW, PER);
	g_lock_timeout_ms = 0;
	printf("# concurrency: %d writers x %d events = %d appends in %.2f s (%.0f appends/s, "
	       "fsync each)\n",
	       NW, PER, NW * PER, dt, NW * PER / dt);
	split(g_log, &L);
	assert_int_equal(L.n, NW * PER + 1);
	for (size_t i = 0; i < L.n; i++) {
		struct ig_audit_record rec;
		json_t *w, *k;
		assert_int_equal(ig_audit_line_parse(L.l[i], strlen(L.l[i]), &rec, NULL, 0), 0);
		assert_int_equal(rec.seq, i + 1);
		if (i == 0) {
			assert_string_equal(rec.event, "log_start");
		} else {
			w = json_object_get(rec.obj, "writer");
			k = json_object_get(rec.obj, "i");
			assert_true(json_is_integer(w) && json_is_integer(k));
			assert_true(json_integer_value(w) >= 0 && json_integer_value(w) < NW);
			assert_true(json_integer_value(k) >= 0 && json_integer_value(k) < PER);
			seen[json_integer_value(w)][json_integer_value(k)]++;
		}
		ig_audit_line_clear(&rec);
	}
	for (int w = 0; w < NW; w++)
		for (int i = 0; i < PER; i++)
			assert_int_equal(seen[w][i], 1);
	assert_int_equal(ig_audit_verify(g_log, &res), 0);
	assert_int_equal(res.last_seq, NW * PER + 1);
	free(L.buf);
}

static void t_kill9(void **state)
{
	enum { NW = 6 };
	const int ROUNDS = under_valgrind() ? 4 : 25;
	struct ig_audit_verify_result res;
	unsigned seed = 20261129;
	pid_t pids[NW];
	int r, st;

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		struct timespec nap;
		fflush(stdout);
		for (int w = 0; w < NW; w++) {
			pids[w] = fork();
			assert_true(pids[w] >= 0);
			if (pids[w] == 0)
				writer(round * NW + w, 1000, 1);
		}
		nap.tv_sec = 0;
		nap.tv_nsec = (long)(rand_r(&seed) % 40 + 1) * 1000000L;
		nanosleep(&nap, NULL);
		for (int w = 0; w < NW; w++) {
			/* stagger the kills so some land mid-write */
			nap.tv_nsec = (long)(rand_r(&seed) % 3000) * 1000L;
			nanosleep(&nap, NULL);
			kill(pids[w], SIGKILL);
		}
		for (int w = 0; w < NW; w++)
			assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
	}
	/* One more append terminates and records any torn tail. */
	assert_int_equal(append_ev(g_log, T0, "final", "allow", NULL), 0);
	r = ig_audit_verify(g_log, &res);
	printf("# kill -9: %d rounds x %d writers: %llu lines, %llu torn, result %s%s\n", ROUNDS,
	       NW, (unsigned long long)res.lines, (unsigned long long)res.torn,
	       r == 0 ? "intact" : "reported: ", r == 0 ? "" : res.what);
	assert_true(r == 0 || (r == IG_ERR_PARSE && strcmp(res.kind, "torn") == 0));
	assert_int_equal(res.broken_line, 0);
	assert_true(res.lines > 1);
}

static void t_perf(void **state)
{
	static const int ws[] = {1, 8, 32};

	(void)state;
	if (under_valgrind())
		return; /* figures only; meaningless under valgrind */
	g_lock_timeout_ms = 60000;
	for (size_t k = 0; k < sizeof(ws) / sizeof(ws[0]); k++) {
		int per = 256 / ws[k];
		double dt;
		unlink(g_log);
		dt = run_writers(ws[k], per);
		printf("# perf: %2d writer(s) x %3d appends: %.0f appends/s (fsync each)\n", ws[k],
		       per, ws[k] * per / dt);
	}
	g_lock_timeout_ms = 0;
}

/* ---- locking ---------------------------------------------------------- */

static void t_lock_timeout(void **state)
{
	struct ig_audit_opts o = opts_at(g_log, T0);
	struct ig_audit_event ev = {"auth", "u", NULL, NULL, "deny", "x", NULL};
	char hp[PATH_MAX];
	int p[2], hfd, lfd, st;
	pid_t pid;
	char c;
	double t0;

	(void)state;
	append_n(g_log, 1, T0);
	/* A reader holding a lock on the log itself cannot stall writers. */
	lfd = open(g_log, O_RDONLY);
	assert_true(lfd >= 0);
	assert_int_equal(flock(lfd, LOCK_EX), 0);
	assert_int_equal(append_ev(g_log, T0, "u", "allow", NULL), 0);
	close(lfd);
	/* A writer stuck holding the writers' lock: bounded wait, then an error. */
	assert_int_equal(ig_bfmt(hp, sizeof(hp), "%s.head", g_log), 0);
	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		hfd = open(hp, O_RDWR);
		if (hfd < 0 || flock(hfd, LOCK_EX) != 0)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		sleep(10);
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	o.lock_timeout_ms = 300;
	t0 = now_s();
	assert_int_equal(ig_audit_append(&o, &ev), IG_ERR_LOCK);
	assert_true(now_s() - t0 < 3.0);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(ig_audit_append(&o, &ev), 0);
}

/* ---- unsafe files ----------------------------------------------------- */

static void t_unsafe(void **state)
{
	struct ig_audit_verify_result res;
	char real[PATH_MAX], other[PATH_MAX], sub[PATH_MAX], sublog[PATH_MAX], hp[PATH_MAX];
	int fd;

	(void)state;
	assert_int_equal(ig_bfmt(real, sizeof(real), "%s/real.jsonl", g_dir), 0);
	assert_int_equal(ig_bfmt(other, sizeof(other), "%s/other", g_dir), 0);
	assert_int_equal(ig_bfmt(hp, sizeof(hp), "%s.head", g_log), 0);
	/* Symlinked log. */
	fd = open(real, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(symlink(real, g_log), 0);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), IG_ERR_UNSAFE);
	assert_int_equal(ig_audit_verify(g_log, &res), IG_ERR_UNSAFE);
	unlink(g_log);
	/* Group-writable log. */
	append_n(g_log, 1, T0);
	assert_int_equal(chmod(g_log, 0660), 0);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), IG_ERR_UNSAFE);
	assert_int_equal(chmod(g_log, 0640), 0);
	/* Not root-owned. */
	assert_int_equal(chown(g_log, 65534, 0), 0);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), IG_ERR_UNSAFE);
	assert_int_equal(chown(g_log, 0, 0), 0);
	/* Hard link. */
	assert_int_equal(link(g_log, other), 0);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), IG_ERR_UNSAFE);
	unlink(other);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), 0);
	/* Head file: symlink, then readable by others. */
	unlink(hp);
	assert_int_equal(symlink(real, hp), 0);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), IG_ERR_UNSAFE);
	unlink(hp);
	fd = open(hp, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
	assert_int_equal(append_ev(g_log, T0, "u", "deny", NULL), IG_ERR_UNSAFE);
	unlink(hp);
	/* Parent directory not root-owned, then group-writable. */
	assert_int_equal(ig_bfmt(sub, sizeof(sub), "%s/sub", g_dir), 0);
	assert_int_equal(ig_bfmt(sublog, sizeof(sublog), "%s/audit.jsonl", sub), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(chown(sub, 65534, 0), 0);
	assert_int_not_equal(append_ev(sublog, T0, "u", "deny", NULL), 0);
	assert_int_equal(chown(sub, 0, 0), 0);
	assert_int_equal(chmod(sub, 0775), 0);
	assert_int_not_equal(append_ev(sublog, T0, "u", "deny", NULL), 0);
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(append_ev(sublog, T0, "u", "deny", NULL), 0);
	rm_rf(sub);
	/* Bad paths and events. */
	assert_int_equal(append_ev("relative/audit.jsonl", T0, "u", "deny", NULL), IG_ERR_INVAL);
	assert_int_equal(append_ev("/x/.hidden", T0, "u", "deny", NULL), IG_ERR_INVAL);
	assert_int_equal(append_ev(g_log, T0, "u", "maybe", NULL), IG_ERR_INVAL);
	{
		json_t *arr = json_array();
		assert_int_equal(append_ev(g_log, T0, "u", "deny", arr), IG_ERR_INVAL);
		json_decref(arr);
	}
	unlink(real);
}

/* ---- content ---------------------------------------------------------- */

static const char *const secrets[] = {"TOKSECRET123", "SAKSECRET456", "654321",
                                      "PWSECRET789",  "ARRSECRET000", "forged-allow"};

static void t_secrets(void **state)
{
	json_t *x;
	char *b;
	struct lines L;
	struct ig_audit_record rec;
	json_t *dk;
	char text[4096];

	(void)state;
	x = json_pack("{ss ss ss ss s{ss ss} s[{ss ss}] ss ss}", "role", "ro", "session_token",
	              "TOKSECRET123", "SecretAccessKey", "SAKSECRET456", "code", "654321", "nested",
	              "password", "PWSECRET789", "ok", "fine", "roles", "role", "r1",
	              "aws_session_token", "ARRSECRET000", "decision", "forged-allow",
	              "access_key_id", "ASIAEXAMPLE");
	assert_non_null(x);
	assert_int_equal(append_ev(g_log, T0, "alice", "deny", x), 0);
	json_decref(x);
	b = slurp(g_log, NULL);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		assert_null(strstr(b, secrets[i]));
	assert_non_null(strstr(b, "ASIAEXAMPLE")); /* the key id is not a secret */
	assert_non_null(strstr(b, "\"ok\":\"fine\""));
	free(b);
	split(g_log, &L);
	assert_int_equal(ig_audit_line_parse(L.l[1], strlen(L.l[1]), &rec, NULL, 0), 0);
	assert_string_equal(rec.decision, "deny");
	dk = json_object_get(rec.obj, "dropped_keys");
	assert_true(json_is_array(dk));
	{
		const char *want[] = {"session_token", "SecretAccessKey",   "code",
		                      "password",      "aws_session_token", "decision"};
		for (size_t i = 0; i < 6; i++) {
			size_t k;
			json_t *v;
			int found = 0;
			json_array_foreach(dk, k, v) found |=
			        strcmp(json_string_value(v), want[i]) == 0;
			assert_true(found);
		}
	}
	assert_int_equal(ig_audit_line_syslog(L.l[1], strlen(L.l[1]), text, sizeof(text)), 0);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		assert_null(strstr(text, secrets[i]));
	ig_audit_line_clear(&rec);
	free(L.buf);
}

static int run_logrotate(const char *conf, const char *statef)
{
	char outp[PATH_MAX];
	pid_t pid;
	int st, fd;

	assert_int_equal(ig_bfmt(outp, sizeof(outp), "%s/logrotate.out", g_dir), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *const argv[] = {"logrotate", "-f", "-s", (char *)statef, (char *)conf, NULL};
		char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
		fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execve("/usr/sbin/logrotate", argv, envp);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *o = slurp(outp, NULL);
		printf("#   logrotate: %s\n", o);
		free(o);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void t_logrotate(void **state)
{
	char src[PATH_MAX], conf[PATH_MAX], statef[PATH_MAX], out[8192], err[4096];
	char *text, *a, *b;
	struct stat st;
	int fd, rc;

	(void)state;
	if (access("/usr/sbin/logrotate", X_OK) != 0) {
		printf("# skip: logrotate is not installed (Debian package logrotate)\n");
		skip();
	}
	assert_int_equal(ig_bfmt(src, sizeof(src), "%s/packaging/logrotate/iamgate", IG_SOURCE_DIR),
	                 0);
	assert_int_equal(ig_bfmt(conf, sizeof(conf), "%s/logrotate.conf", g_dir), 0);
	assert_int_equal(ig_bfmt(statef, sizeof(statef), "%s/logrotate.state", g_dir), 0);
	text = slurp(src, NULL);
	/* Point it at the test log; use group root unless iamgate-audit exists. */
	a = subst(text, "/var/log/iamgate/audit.jsonl", g_log);
	b = getgrnam("iamgate-audit") ? strdup(a) : subst(a, "root iamgate-audit", "root root");
	fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, strlen(b)), (ssize_t)strlen(b));
	close(fd);
	free(text);
	free(a);
	free(b);

	append_n(g_log, 3, T0);
	assert_int_equal(run_logrotate(conf, statef), 0);
	assert_int_equal(stat(g_log, &st), 0); /* "create": a new, empty log */
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	append_n(g_log, 2, T0 + 10000);
	assert_int_equal(run_logrotate(conf, statef), 0);
	append_n(g_log, 2, T0 + 20000);
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             "--rotated", (char *)NULL);
	printf("#   %s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "(3 files): 10 lines, chain intact (seq 1..10)"));
	/* Without the older files, the newest still verifies and says it continues. */
	rc = run_cli(out, sizeof(out), err, sizeof(err), "audit", "verify", "--log", g_log,
	             (char *)NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "continues an earlier log"));
}

/* An auditor is not root: reading works, the head file is not needed. */

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(t_rotation, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_rotation_writer_creates, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_rotation_head_fallback, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_rotation_torn_predecessor, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_torn_tail, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_torn_before_newline, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_concurrency, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_kill9, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_perf, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_lock_timeout, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_unsafe, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_secrets, setup, teardown),
	        cmocka_unit_test_setup_teardown(t_logrotate, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
