/*
 * test_gate.c - the helper's decision point in process (so ASan and
 * valgrind see every path): requests in, replies and audit lines out, with
 * an injected clock.  Uses the root user and group, which exist everywhere.
 */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "iamgate/gate.h"
#include "iamgate/store.h"
#include "iamgate/totp.h"

#include "settle_fixture.h"
#include "iamgate/util.h"

static char dir[4096], cfgpath[4200], state[4200], auditp[4200], grants[4200];
static const uint8_t secret[] = "12345678901234567890";
static const struct ig_totp_params tp = {6, 30, 1, 5, 900, 86400, 0};
static time_t now = 2000000000;

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void write_config(const char *extra)
{
	char text[8192];
	assert_int_equal(
	        ig_bfmt(text, sizeof(text),
	                "{ \"allowlists\": { \"lo\": [\"127.0.0.0/8\"] },"
	                "  \"groups\": { \"root\": { \"allow_from\": [\"lo\"], \"roles\": [\"ro\"] "
	                "} },"
	                "  \"roles\": { \"ro\": { \"arn\": \"arn:aws:iam::111122223333:role/ro\" } "
	                "},"
	                "  \"totp\": { \"state_dir\": \"%s\", \"max_failures\": 5 },"
	                "  \"audit\": { \"path\": \"%s\", \"syslog\": false },"
	                "  \"session\": { \"dir\": \"%s/sessions\", \"grant_dir\": \"%s\" } %s }",
	                state, auditp, dir, grants, extra ? extra : ""),
	        0);
	write_text(cfgpath, text, 0600);
}

static int setup(void **st)
{
	struct ig_store *store = NULL;
	char why[512];
	(void)st;
	if (ig_bfmt(dir, sizeof(dir), "%s/build/t-gate.XXXXXX", IG_SOURCE_DIR) != 0 ||
	    mkdtemp(dir) == NULL || chmod(dir, 0755) != 0)
		return -1;
	if (ig_bfmt(cfgpath, sizeof(cfgpath), "%s/iamgate.json", dir) ||
	    ig_bfmt(state, sizeof(state), "%s/state", dir) ||
	    ig_bfmt(auditp, sizeof(auditp), "%s/audit.jsonl", dir) ||
	    ig_bfmt(grants, sizeof(grants), "%s/grants", dir))
		return -1;
	if (mkdir(state, 0700) != 0)
		return -1;
	write_config(NULL);
	if (ig_store_file_open(state, 30, &store, why, sizeof(why)) != 0 ||
	    ig_store_enroll(store, "root", secret, 20, now, 1) != 0)
		return -1;
	ig_store_close(store);
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **st)
{
	(void)st;
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static json_t *req(const char *phase, const char *user, const char *rhost, const char *code,
                   const char *grant)
{
	json_t *r = json_pack("{s:i, s:s, s:s, s:s, s:s}", "v", 1, "phase", phase, "config",
	                      cfgpath, "user", user, "service", "sshd");
	assert_non_null(r);
	if (rhost)
		json_object_set_new(r, "rhost", json_string(rhost));
	if (code)
		json_object_set_new(r, "code", json_string(code));
	if (grant)
		json_object_set_new(r, "grant", json_string(grant));
	return r;
}

/* Run a request (consumed) in env; return the reply (caller decrefs). */
static json_t *run_env(json_t *rq, const struct ig_gate_env *env)
{
	json_t *rep = ig_gate_handle(rq, env);
	json_decref(rq);
	assert_non_null(rep);
	return rep;
}

/* Run a request at now; return the reply (caller decrefs). */
static json_t *run(json_t *rq)
{
	struct ig_gate_env env = {.now = now, .host = "bastion-test", .issue = ig_session_open};
	return run_env(rq, &env);
}

static void expect(json_t *rep, const char *result, const char *reason)
{
	const char *res = json_string_value(json_object_get(rep, "result"));
	const char *rea = json_string_value(json_object_get(rep, "reason"));
	if (strcmp(res, result) != 0 || strcmp(rea, reason) != 0)
		fail_msg("expected %s/%s, got %s/%s", result, reason, res, rea);
}

/* The last audit line has event, decision, reason. */
static void audited(const char *event, const char *decision, const char *reason)
{
	char line[16384] = "", buf[16384];
	json_t *j;
	FILE *f = fopen(auditp, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f))
		memcpy(line, buf, sizeof(line));
	fclose(f);
	j = json_loads(line, 0, NULL);
	assert_non_null(j);
	if (strcmp(json_string_value(json_object_get(j, "event")), event) != 0 ||
	    strcmp(json_string_value(json_object_get(j, "decision")), decision) != 0 ||
	    strcmp(json_string_value(json_object_get(j, "reason")), reason) != 0)
		fail_msg("audit line %s does not say %s/%s/%s", line, event, decision, reason);
	json_decref(j);
}

static void code_now(char out[9])
{
	assert_int_equal(ig_totp_code_at(secret, 20, now, &tp, out), 0);
}

static void test_auth_allow_grant_then_session(void **st)
{
	char code[9], gpath[4300];
	json_t *rep;
	const char *grant;
	struct stat sb;
	(void)st;
	now += 60;
	code_now(code);
	rep = run(req("auth", "root", "127.0.0.1", code, NULL));
	expect(rep, "success", "ok");
	audited("auth", "allow", "ok");
	grant = json_string_value(json_object_get(rep, "grant"));
	assert_non_null(grant);
	assert_int_equal(strlen(grant), 64);
	assert_int_equal(ig_bfmt(gpath, sizeof(gpath), "%s/%s.json", grants, grant), 0);
	assert_int_equal(stat(gpath, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* open_session consumes it: no aws section, so nothing is issued. */
	json_t *rep2 = run(req("open_session", "root", "127.0.0.1", NULL, grant));
	expect(rep2, "success", "aws_not_configured");
	assert_int_not_equal(stat(gpath, &sb), 0);
	/* The same grant again: gone. */
	json_t *rep3 = run(req("open_session", "root", "127.0.0.1", NULL, grant));
	expect(rep3, "success", "grant_unknown_or_used");
	audited("open_session", "deny", "grant_unknown_or_used");
	json_decref(rep);
	json_decref(rep2);
	json_decref(rep3);
}

/* A hand-off that cannot run the issuer (as iamgate-helper's when it is
 * missing); counts its calls. */
static int handoff_calls;
static int handoff_fails(void *arg)
{
	handoff_calls++;
	assert_ptr_equal(arg, &handoff_calls);
	return IG_ERR_NOTFOUND;
}

static void test_open_session_handoff(void **st)
{
	struct ig_gate_env env = {.now = 0, .host = "bastion-test"};
	char code[9], gpath[4300];
	struct stat sb;
	json_t *rep, *rep2;
	const char *grant;
	(void)st;
	now += 60;
	env.now = now;
	code_now(code);
	/* auth and account never reach the hand-off. */
	env.handoff = handoff_fails;
	env.handoff_arg = &handoff_calls;
	handoff_calls = 0;
	json_t *rq = req("auth", "root", "127.0.0.1", code, NULL);
	rep = ig_gate_handle(rq, &env);
	json_decref(rq);
	expect(rep, "success", "ok");
	assert_int_equal(handoff_calls, 0);
	grant = json_string_value(json_object_get(rep, "grant"));
	assert_non_null(grant);
	assert_int_equal(ig_bfmt(gpath, sizeof(gpath), "%s/%s.json", grants, grant), 0);
	/* open_session: the hand-off fails, the gate fails closed and audits
	 * it; the grant is used up all the same. */
	rq = req("open_session", "root", "127.0.0.1", NULL, grant);
	rep2 = ig_gate_handle(rq, &env);
	json_decref(rq);
	expect(rep2, "session_err", "issuer_unavailable");
	assert_int_equal(handoff_calls, 1);
	audited("open_session", "deny", "issuer_unavailable");
	assert_int_not_equal(stat(gpath, &sb), 0);
	json_decref(rep2);
	/* Neither a hand-off nor an in-process issuer: fail closed too. */
	env.handoff = NULL;
	rq = req("open_session", "root", "127.0.0.1", NULL, "00");
	rep2 = ig_gate_handle(rq, &env);
	json_decref(rq);
	expect(rep2, "session_err", "issuer_unavailable");
	audited("open_session", "deny", "issuer_unavailable");
	json_decref(rep2);
	json_decref(rep);
}

static void test_auth_denies(void **st)
{
	char code[9];
	json_t *rep;
	(void)st;
	now += 60;
	code_now(code);
	rep = run(req("auth", "root", "10.1.2.3", code, NULL));
	expect(rep, "auth_err", "rhost_not_allowed");
	audited("auth", "deny", "rhost_not_allowed");
	assert_null(json_object_get(rep, "grant"));
	json_decref(rep);
	rep = run(req("auth", "root", "127.0.0.1", "000000", NULL));
	expect(rep, "auth_err", "bad_code");
	json_decref(rep);
	rep = run(req("auth", "root", "127.0.0.1", code, NULL));
	expect(rep, "success", "ok");
	json_decref(rep);
	rep = run(req("auth", "root", "127.0.0.1", code, NULL));
	expect(rep, "auth_err", "replayed_code");
	audited("auth", "deny", "replayed_code");
	json_decref(rep);
	rep = run(req("auth", "root", NULL, code, NULL));
	expect(rep, "auth_err", "rhost_missing");
	json_decref(rep);
	rep = run(req("auth", "root", "bastion.example", code, NULL));
	expect(rep, "auth_err", "rhost_not_an_address");
	json_decref(rep);
	rep = run(req("auth", "a/b", "127.0.0.1", code, NULL));
	expect(rep, "auth_err", "user_name_unsafe");
	audited("auth", "deny", "user_name_unsafe");
	json_decref(rep);
}

/* A run of the gate as a host booted at boot (seconds) sees it. */
static json_t *run_booted(json_t *rq, int64_t boot)
{
	struct ig_gate_env env = {.now = now, .boot_time = boot, .host = "bastion-test"};
	return run_env(rq, &env);
}

/* The boot floor: a right code whose step may have been used before this
 * boot is denied and audited, uncounted; once the floor is passed the next
 * step's code is accepted.  An unreadable boot clock denies every auth. */
static void test_auth_boot_floor(void **st)
{
	char code[9], next[9];
	json_t *rep;
	(void)st;
	now += 600;
	code_now(code);
	assert_int_equal(ig_totp_code_at(secret, 20, now + 30, &tp, next), 0);
	/* Booted 10 s ago: this step and the next (window 1) may predate it. */
	for (int i = 0; i < 6; i++) { /* more than max_failures (5): none counted */
		rep = run_booted(req("auth", "root", "127.0.0.1", code, NULL), now - 10);
		expect(rep, "auth_err", "code_predates_boot");
		audited("auth", "deny", "code_predates_boot");
		assert_null(json_object_get(rep, "grant"));
		json_decref(rep);
	}
	/* Booted 100 s ago (floor below this step): accepted, not locked out. */
	rep = run_booted(req("auth", "root", "127.0.0.1", code, NULL), now - 100);
	expect(rep, "success", "ok");
	audited("auth", "allow", "ok");
	json_decref(rep);
	/* Clock unreadable (ig_boot_time() < 0): denied before the code is
	 * looked at, so this unused next-step code stays usable. */
	rep = run_booted(req("auth", "root", "127.0.0.1", next, NULL), -1);
	expect(rep, "auth_err", "boot_time_unknown");
	audited("auth", "deny", "boot_time_unknown");
	json_decref(rep);
	rep = run_booted(req("auth", "root", "127.0.0.1", next, NULL), now - 100);
	expect(rep, "success", "ok");
	json_decref(rep);
}

static void test_bad_requests(void **st)
{
	json_t *rep, *r;
	(void)st;
	r = req("auth", "root", "127.0.0.1", "1", NULL);
	json_object_set_new(r, "v", json_integer(2));
	rep = run(r);
	expect(rep, "system_err", "bad_request");
	json_decref(rep);
	r = req("auth", "root", "127.0.0.1", "1", NULL);
	json_object_set_new(r, "extra", json_string("x"));
	rep = run(r);
	expect(rep, "system_err", "bad_request");
	json_decref(rep);
	rep = run(req("sudo", "root", "127.0.0.1", NULL, NULL));
	expect(rep, "system_err", "bad_request");
	json_decref(rep);
	r = req("auth", "root", "127.0.0.1", "1", NULL);
	json_object_set_new(r, "rhost", json_integer(5));
	rep = run(r);
	expect(rep, "system_err", "bad_request");
	json_decref(rep);
	rep = run(json_array());
	expect(rep, "system_err", "bad_request");
	json_decref(rep);
}

static void test_account(void **st)
{
	json_t *rep;
	(void)st;
	rep = run(req("account", "root", "127.0.0.1", NULL, NULL));
	expect(rep, "success", "ok");
	audited("account", "allow", "ok");
	json_decref(rep);
	rep = run(req("account", "root", "192.0.2.1", NULL, NULL));
	expect(rep, "perm_denied", "rhost_not_allowed");
	audited("account", "deny", "rhost_not_allowed");
	json_decref(rep);
}

static void test_grant_checks(void **st)
{
	char code[9];
	json_t *rep, *rep2;
	char grant[65];
	(void)st;
	now += 60;
	code_now(code);
	rep = run(req("auth", "root", "127.0.0.1", code, NULL));
	expect(rep, "success", "ok");
	memcpy(grant, json_string_value(json_object_get(rep, "grant")), 65);
	json_decref(rep);
	/* From another address: refused, and the grant is spent. */
	rep2 = run(req("open_session", "root", "127.0.0.2", NULL, grant));
	expect(rep2, "success", "grant_rhost_mismatch");
	audited("open_session", "deny", "grant_rhost_mismatch");
	json_decref(rep2);
	rep2 = run(req("open_session", "root", "127.0.0.1", NULL, "../../etc/passwd"));
	expect(rep2, "success", "grant_malformed");
	json_decref(rep2);
	rep2 = run(req("open_session", "root", "127.0.0.1", NULL, NULL));
	expect(rep2, "success", "no_grant");
	json_decref(rep2);
	/* Expired. */
	now += 60;
	code_now(code);
	rep = run(req("auth", "root", "127.0.0.1", code, NULL));
	memcpy(grant, json_string_value(json_object_get(rep, "grant")), 65);
	json_decref(rep);
	now += 600;
	rep2 = run(req("open_session", "root", "127.0.0.1", NULL, grant));
	expect(rep2, "success", "grant_expired");
	json_decref(rep2);
	rep2 = run(req("close_session", "root", "127.0.0.1", NULL, NULL));
	expect(rep2, "success", "no_session_credentials");
	audited("close_session", "allow", "no_session_credentials");
	json_decref(rep2);
}

/* The grant's issue hook for the race: counts in a shared page. */
static volatile int *issued_count;

static void count_issue(const struct ig_session_ctx *sc, json_t *reply)
{
	(void)sc;
	__atomic_add_fetch(issued_count, 1, __ATOMIC_SEQ_CST);
	(void)json_object_set_new(reply, "result", json_string("success"));
	(void)json_object_set_new(reply, "reason", json_string("ok"));
}

/* One racer: wait at the gate, then ask for the session with grant. */
static void race_child(int gate[2], const char *grant)
{
	struct ig_gate_env env = {.now = now, .host = "bastion-test", .issue = count_issue};
	json_t *rq = req("open_session", "root", "127.0.0.1", NULL, grant);
	char b;

	close(gate[1]);
	if (read(gate[0], &b, 1) < 0)
		_exit(1);
	json_decref(ig_gate_handle(rq, &env));
	_exit(0);
}

/* Many open_sessions race for one grant: exactly one claims it, every
 * round (the claim is a rename only one caller can make). */
static void test_grant_claimed_exactly_once(void **st)
{
	enum { ROUNDS = 40, N = 6 };
	int extra = 0, missed = 0;

	(void)st;
	issued_count =
	        mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(issued_count != MAP_FAILED);
	for (int round = 0; round < ROUNDS; round++) {
		char code[9], grant[65];
		pid_t pids[N];
		int gate[2];
		json_t *rep;

		now += 30;
		code_now(code);
		rep = run(req("auth", "root", "127.0.0.1", code, NULL));
		expect(rep, "success", "ok");
		memcpy(grant, json_string_value(json_object_get(rep, "grant")), 65);
		json_decref(rep);
		*issued_count = 0;
		assert_int_equal(pipe(gate), 0);
		for (int i = 0; i < N; i++) {
			pids[i] = fork();
			assert_true(pids[i] >= 0);
			if (pids[i] == 0)
				race_child(gate, grant);
		}
		close(gate[0]);
		usleep(20000);
		close(gate[1]); /* everyone ready: go, all at once */
		for (int i = 0; i < N; i++)
			assert_int_equal(waitpid(pids[i], NULL, 0), pids[i]);
		extra += *issued_count - 1;
		missed += *issued_count == 0;
	}
	assert_int_equal(extra, 0);
	assert_int_equal(missed, 0);
	munmap((void *)issued_count, sizeof(int));
}

/* A grant names the uid the user had at auth: the same name with another
 * uid at open_session (the account re-created) is not the same user. */
static void test_grant_bound_to_uid(void **st)
{
	char code[9], gpath[4300], *text = NULL, *p;
	json_t *rep;
	size_t len = 0;
	int fd;

	(void)st;
	now += 30;
	code_now(code);
	rep = run(req("auth", "root", "127.0.0.1", code, NULL));
	expect(rep, "success", "ok");
	assert_int_equal(ig_bfmt(gpath, sizeof(gpath), "%s/%s.json", grants,
	                         json_string_value(json_object_get(rep, "grant"))),
	                 0);
	fd = open(gpath, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(ig_read_fd(fd, 4096, &text, &len), 0);
	close(fd);
	assert_non_null(p = strstr(text, "\"uid\":0,"));
	p[6] = '7'; /* uid 7 */
	write_text(gpath, text, 0600);
	free(text);
	{
		json_t *rep2 = run(req("open_session", "root", "127.0.0.1", NULL,
		                       json_string_value(json_object_get(rep, "grant"))));
		expect(rep2, "success", "grant_uid_mismatch");
		audited("open_session", "deny", "grant_uid_mismatch");
		json_decref(rep2);
	}
	json_decref(rep);
}

static void test_config_refused_denies(void **st)
{
	char code[9];
	json_t *rep;
	(void)st;
	now += 60;
	code_now(code);
	write_config(", \"bogus\": 1");
	rep = run(req("auth", "root", "127.0.0.1", code, NULL));
	expect(rep, "auth_err", "config_refused");
	audited("auth", "deny", "config_refused");
	json_decref(rep);
	write_config(NULL);
	assert_int_equal(chmod(cfgpath, 0666), 0);
	rep = run(req("account", "root", "127.0.0.1", NULL, NULL));
	expect(rep, "perm_denied", "config_refused");
	/* An unsafe file names no audit path: the last line is the one before. */
	audited("auth", "deny", "config_refused");
	json_decref(rep);
	assert_int_equal(chmod(cfgpath, 0600), 0);
}

static void test_audit_unwritable_denies(void **st)
{
	char code[9];
	json_t *rep;
	(void)st;
	now += 60;
	code_now(code);
	/* Replace the log with a symlink: never followed, so no record, so deny. */
	char moved[4300];
	assert_int_equal(ig_bfmt(moved, sizeof(moved), "%s.keep", auditp), 0);
	assert_int_equal(rename(auditp, moved), 0);
	assert_int_equal(symlink("/dev/null", auditp), 0);
	rep = run(req("auth", "root", "127.0.0.1", code, NULL));
	expect(rep, "auth_err", "audit_unavailable");
	assert_null(json_object_get(rep, "grant"));
	json_decref(rep);
	assert_int_equal(unlink(auditp), 0);
	assert_int_equal(rename(moved, auditp), 0);
}

/* Replace the config's text in place (same inode) keeping its mtime. */
static void rewrite_in_place(const char *from, const char *to)
{
	char text[8192], *at;
	struct timespec ts[2];
	struct stat before, after;
	ssize_t n;
	int fd;

	assert_int_equal(strlen(from), strlen(to));
	assert_int_equal(stat(cfgpath, &before), 0);
	fd = open(cfgpath, O_RDWR);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	assert_true(n > 0);
	text[n] = '\0';
	at = strstr(text, from);
	assert_non_null(at);
	memcpy(at, to, strlen(to));
	assert_int_equal(pwrite(fd, text, (size_t)n, 0), n);
	close(fd);
	ts[0] = before.st_atim;
	ts[1] = before.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, cfgpath, ts, 0), 0);
	assert_int_equal(stat(cfgpath, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

static void test_config_cache(void **st)
{
	struct ig_config *cache = NULL, *p1, *p2;
	struct ig_gate_env env = {.now = now,
	                          .host = "bastion-test",
	                          .issue = ig_session_open,
	                          .config_cache = &cache};
	char other[4300], code[9];
	json_t *rep, *rq;
	FILE *f;
	(void)st;
	now += 60;
	env.now = now;
	write_config(NULL);
	wait_settled(cfgpath);

	/* First call loads and keeps it; the next ones reuse the same one. */
	rep = run_env(req("account", "root", "127.0.0.1", NULL, NULL), &env);
	expect(rep, "success", "ok");
	json_decref(rep);
	assert_non_null(cache);
	assert_string_equal(cache->path, cfgpath);
	p1 = cache;
	rep = run_env(req("account", "root", "127.0.0.1", NULL, NULL), &env);
	expect(rep, "success", "ok");
	json_decref(rep);
	assert_ptr_equal(cache, p1);
	code_now(code);
	rep = run_env(req("auth", "root", "127.0.0.1", code, NULL), &env);
	expect(rep, "success", "ok");
	json_decref(rep);
	assert_ptr_equal(cache, p1);
	/* An early deny (unsafe user name) must not free the cached config. */
	rep = run_env(req("account", "a/b", "127.0.0.1", NULL, NULL), &env);
	expect(rep, "perm_denied", "user_name_unsafe");
	json_decref(rep);
	assert_ptr_equal(cache, p1);
	/* A bad request never touches the cache. */
	rq = req("account", "root", "127.0.0.1", NULL, NULL);
	json_object_set_new(rq, "v", json_integer(2));
	rep = run_env(rq, &env);
	expect(rep, "system_err", "bad_request");
	json_decref(rep);
	assert_ptr_equal(cache, p1);

	/* Another config path: loaded, and it replaces the cached one. */
	assert_int_equal(ig_bfmt(other, sizeof(other), "%s/other.json", dir), 0);
	/* The same text under another name (same state, audit and grants). */
	{
		char text[8192];
		size_t n;
		f = fopen(cfgpath, "r");
		assert_non_null(f);
		n = fread(text, 1, sizeof(text), f);
		fclose(f);
		assert_true(n > 0 && n < sizeof(text));
		f = fopen(other, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(text, 1, n, f), n);
		assert_int_equal(fclose(f), 0);
	}
	assert_int_equal(chmod(other, 0600), 0);
	rq = req("account", "root", "127.0.0.1", NULL, NULL);
	json_object_set_new(rq, "config", json_string(other));
	rep = run_env(rq, &env);
	expect(rep, "success", "ok");
	json_decref(rep);
	assert_non_null(cache);
	assert_ptr_not_equal(cache, p1);
	assert_string_equal(cache->path, other);
	/* Back to the first: loaded again (it is settled: reusable from now). */
	rep = run_env(req("account", "root", "127.0.0.1", NULL, NULL), &env);
	expect(rep, "success", "ok");
	json_decref(rep);
	assert_string_equal(cache->path, cfgpath);
	p2 = cache;
	rep = run_env(req("account", "root", "127.0.0.1", NULL, NULL), &env);
	json_decref(rep);
	assert_ptr_equal(cache, p2);

	/* Rewritten in place, same size, mtime kept: reloaded, and the new
	 * text decides (127.0.0.1 no longer allowed). */
	rewrite_in_place("\"127.0.0.0/8\"", "\"10.9.0.0/16\"");
	rep = run_env(req("account", "root", "127.0.0.1", NULL, NULL), &env);
	expect(rep, "perm_denied", "rhost_not_allowed");
	json_decref(rep);
	assert_non_null(cache);
	assert_ptr_not_equal(cache, p2);

	/* Made group-writable: refused, and the cache is emptied. */
	assert_int_equal(chmod(cfgpath, 0660), 0);
	rep = run_env(req("account", "root", "127.0.0.1", NULL, NULL), &env);
	expect(rep, "perm_denied", "config_refused");
	json_decref(rep);
	assert_null(cache);
	assert_int_equal(chmod(cfgpath, 0600), 0);

	/* A refused config is never cached. */
	write_config(", \"bogus\": 1");
	rep = run_env(req("account", "root", "127.0.0.1", NULL, NULL), &env);
	expect(rep, "perm_denied", "config_refused");
	json_decref(rep);
	assert_null(cache);
	/* Good again: cached again. */
	write_config(NULL);
	rep = run_env(req("account", "root", "127.0.0.1", NULL, NULL), &env);
	expect(rep, "success", "ok");
	json_decref(rep);
	assert_non_null(cache);
	ig_config_free(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_auth_allow_grant_then_session),
	        cmocka_unit_test(test_open_session_handoff),
	        cmocka_unit_test(test_auth_denies),
	        cmocka_unit_test(test_auth_boot_floor),
	        cmocka_unit_test(test_bad_requests),
	        cmocka_unit_test(test_account),
	        cmocka_unit_test(test_grant_checks),
	        cmocka_unit_test(test_grant_claimed_exactly_once),
	        cmocka_unit_test(test_grant_bound_to_uid),
	        cmocka_unit_test(test_config_refused_denies),
	        cmocka_unit_test(test_audit_unwritable_denies),
	        cmocka_unit_test(test_config_cache),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
