/*
 * test_totp.c - TOTP against the RFC 6238 vectors with an injected clock,
 * window edges, replay, lockout, state file safety.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "iamgate/totp.h"
#include "iamgate/util.h"

static const uint8_t rfc_secret[] = "12345678901234567890";

/* Directory fsyncs, counted by this wrapper of fsync (the executable's own
 * symbol comes before libc's), which then does the real one. */
static int dir_fsyncs;
int fsync(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		dir_fsyncs++;
	return (int)syscall(SYS_fsync, fd);
}
static char tdir[4096];
static int dfd = -1;

static int setup(void **state)
{
	(void)state;
	if (ig_bfmt(tdir, sizeof(tdir), "%s/build/t-totp.XXXXXX", IG_SOURCE_DIR) != 0 ||
	    mkdtemp(tdir) == NULL)
		return -1;
	dfd = open(tdir, O_RDONLY | O_DIRECTORY);
	return dfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[4200];
	(void)state;
	close(dfd);
	/* Remove the test directory (files only, one level). */
	if (ig_bfmt(cmd, sizeof(cmd), "%s", tdir) == 0) {
		int d = open(tdir, O_RDONLY | O_DIRECTORY);
		if (d >= 0) {
			const char *names[] = {"alice.json", ".alice.lock", "bob.json",
			                       ".bob.lock",  "carol.json",  ".carol.lock",
			                       "dave.json",  ".dave.lock",  "erin.json",
			                       ".erin.lock", NULL};
			for (int i = 0; names[i]; i++)
				(void)unlinkat(d, names[i], 0);
			close(d);
		}
		(void)rmdir(tdir);
	}
	return 0;
}

static const struct ig_totp_params p8 = {8, 30, 1, 5, 900, 0};
static const struct ig_totp_params p6 = {6, 30, 1, 3, 900, 0};

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

static void enroll(const char *user)
{
	assert_int_equal(ig_totp_enroll(dfd, user, rfc_secret, 20, 1000, 1), 0);
}

static void test_accept_then_replay(void **state)
{
	struct ig_totp_outcome oc;
	(void)state;
	enroll("alice");
	assert_int_equal(
	        ig_totp_verify(dfd, "alice", "14050471", 1111111111, "192.0.2.1", &p8, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_OK);
	assert_int_equal(oc.step, 1111111111 / 30);
	/* Same code again, same step: replay. */
	assert_int_equal(
	        ig_totp_verify(dfd, "alice", "14050471", 1111111112, "192.0.2.1", &p8, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_REPLAY);
	assert_int_equal(oc.failures, 1);
}

static void test_window_edges(void **state)
{
	struct ig_totp_outcome oc;
	char code[9];
	time_t now = 1111111111; /* step 37037037 */
	(void)state;
	enroll("bob");
	/* One step behind: accepted with window 1. */
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now - 30, &p8, code), 0);
	assert_int_equal(ig_totp_verify(dfd, "bob", code, now, NULL, &p8, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_OK);
	/* Two steps ahead: outside the window. */
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now + 60, &p8, code), 0);
	assert_int_equal(ig_totp_verify(dfd, "bob", code, now, NULL, &p8, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_BAD_CODE);
	/* One step ahead: inside. */
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now + 30, &p8, code), 0);
	assert_int_equal(ig_totp_verify(dfd, "bob", code, now, NULL, &p8, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_OK);
	/* An older step than the last accepted one is a replay even if in window. */
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now, &p8, code), 0);
	assert_int_equal(ig_totp_verify(dfd, "bob", code, now, NULL, &p8, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_REPLAY);
}

/* The boot floor (p.boot_time): a right code whose step could have been
 * accepted before the boot is refused, not counted, not recorded. */
static void test_boot_floor(void **state)
{
	const time_t now = 1111111111; /* step 37037037 (+ 1 s) */
	struct ig_totp_params p = p8;
	struct ig_totp_outcome oc;
	struct ig_totp_state st;
	char code[9], next[9];
	(void)state;
	assert_int_equal(ig_totp_enroll(dfd, "dave", rfc_secret, 20, 1000, 1), 0);
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now, &p, code), 0);
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now + 30, &p, next), 0);
	/* Booted 20 s ago: floor = (now - 20) / 30 + 1 = 37037037 = this step.
	 * Max failures is 5: six refusals lock nothing. */
	p.boot_time = now - 20;
	for (int i = 0; i < 6; i++) {
		assert_int_equal(ig_totp_verify(dfd, "dave", code, now, NULL, &p, &oc), 0);
		assert_int_equal(oc.result, IG_TOTP_PREDATES_BOOT);
		assert_int_equal(oc.failures, 0);
		assert_int_equal(oc.locked_until, 0);
	}
	assert_string_equal(ig_totp_result_name(IG_TOTP_PREDATES_BOOT), "code_predates_boot");
	assert_int_equal(ig_totp_status(dfd, "dave", &st), 0);
	assert_int_equal(st.last_step, -1);
	/* A wrong code is still a counted failure. */
	assert_int_equal(ig_totp_verify(dfd, "dave", "00000000", now, NULL, &p, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_BAD_CODE);
	assert_int_equal(oc.failures, 1);
	/* The next step (inside the window) is above the floor: accepted. */
	assert_int_equal(ig_totp_verify(dfd, "dave", next, now, NULL, &p, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_OK);
	assert_int_equal(oc.step, 37037038);
	/* Used before: a replay (counted), whatever the floor says. */
	assert_int_equal(ig_totp_verify(dfd, "dave", next, now, NULL, &p, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_REPLAY);
	assert_int_equal(oc.failures, 1);
	/* Booted 60 s before: floor 37037036, below the step of now + 60. */
	p.boot_time = now - 60;
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now + 60, &p, code), 0);
	assert_int_equal(ig_totp_verify(dfd, "dave", code, now + 60, NULL, &p, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_OK);
}

/* Descriptors this process holds on files no name links any more. */
static int unlinked_fds(void)
{
	struct stat st;
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (st.st_nlink == 0)
			n++;
	}
	return n;
}

/* The state file an attempt replaces is last closed by ig_close_deferred
 * (after the reply), not inside ig_totp_verify. */
static void test_replaced_state_closed_later(void **state)
{
	struct ig_totp_outcome oc;
	(void)state;
	ig_close_deferred();
	assert_int_equal(ig_totp_enroll(dfd, "erin", rfc_secret, 20, 1000, 1), 0);
	assert_int_equal(unlinked_fds(), 0);
	assert_int_equal(ig_totp_verify(dfd, "erin", "00000000", 1111111111, NULL, &p8, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_BAD_CODE);
	assert_int_equal(unlinked_fds(), 1); /* the old erin.json, replaced */
	ig_close_deferred();
	assert_int_equal(unlinked_fds(), 0);
}

static void test_malformed_codes(void **state)
{
	static const char *bad[] = {"",         "1234567",    "123456789", "1234567a",
	                            " 1234567", "12345678\n", "-1234567",  "+1234567"};
	struct ig_totp_outcome oc;
	struct ig_totp_params p = p8;
	(void)state;
	p.max_failures = 100;
	enroll("carol");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ig_totp_verify(dfd, "carol", bad[i], 1111111111, NULL, &p, &oc),
		                 0);
		assert_int_equal(oc.result, IG_TOTP_BAD_CODE);
		assert_int_equal(oc.failures, i + 1);
	}
}

static void test_lockout_and_unlock(void **state)
{
	struct ig_totp_outcome oc;
	struct ig_totp_state st;
	char code[9];
	time_t now = 2000000000;
	(void)state;
	dir_fsyncs = 0;
	assert_int_equal(ig_totp_enroll(dfd, "alice", rfc_secret, 20, now, 1), 0);
	assert_int_equal(dir_fsyncs, 1); /* an enrolment survives a crash */
	for (int i = 1; i <= 3; i++) {
		dir_fsyncs = 0;
		assert_int_equal(ig_totp_verify(dfd, "alice", "000000", now, NULL, &p6, &oc), 0);
		assert_int_equal(oc.result, IG_TOTP_BAD_CODE);
		assert_int_equal(oc.lockout_started, i == 3);
		/* Only the lockout's start is made durable by a directory fsync;
		 * an attempt's state is not (the boot floor covers its loss). */
		assert_int_equal(dir_fsyncs, i == 3);
	}
	assert_int_equal(oc.locked_until, now + 900);
	/* Locked: even the right code is refused. */
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now + 30, &p6, code), 0);
	assert_int_equal(ig_totp_verify(dfd, "alice", code, now + 30, NULL, &p6, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_LOCKED);
	assert_int_equal(ig_totp_status(dfd, "alice", &st), 0);
	assert_true(st.locked_until > now);
	/* Unlock clears it (durably). */
	dir_fsyncs = 0;
	assert_int_equal(ig_totp_unlock(dfd, "alice"), 0);
	assert_int_equal(dir_fsyncs, 1);
	dir_fsyncs = 0;
	assert_int_equal(ig_totp_verify(dfd, "alice", code, now + 30, "10.0.0.1", &p6, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_OK);
	assert_int_equal(dir_fsyncs, 0);
	assert_int_equal(ig_totp_status(dfd, "alice", &st), 0);
	assert_int_equal(st.failures, 0);
	assert_string_equal(st.last_rhost, "10.0.0.1");
	/* After lockout_seconds it lifts by itself. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ig_totp_verify(dfd, "alice", "000000", now + 60, NULL, &p6, &oc),
		                 0);
	assert_int_equal(oc.result, IG_TOTP_BAD_CODE);
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now + 60 + 900, &p6, code), 0);
	assert_int_equal(ig_totp_verify(dfd, "alice", code, now + 60 + 900, NULL, &p6, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_OK);
}

static void test_not_enrolled_and_bad_names(void **state)
{
	struct ig_totp_outcome oc;
	(void)state;
	assert_int_equal(ig_totp_verify(dfd, "nobody", "123456", 1000, NULL, &p6, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_NOT_ENROLLED);
	assert_int_equal(ig_totp_verify(dfd, "../etc", "123456", 1000, NULL, &p6, &oc),
	                 IG_ERR_INVAL);
	assert_int_equal(ig_totp_verify(dfd, ".hidden", "123456", 1000, NULL, &p6, &oc),
	                 IG_ERR_INVAL);
	assert_int_equal(ig_totp_verify(dfd, "", "123456", 1000, NULL, &p6, &oc), IG_ERR_INVAL);
	(void)unlinkat(dfd, ".nobody.lock", 0);
}

static void test_enroll_refuses_overwrite(void **state)
{
	(void)state;
	assert_int_equal(ig_totp_enroll(dfd, "bob", rfc_secret, 20, 1, 1), 0);
	assert_int_equal(ig_totp_enroll(dfd, "bob", rfc_secret, 20, 1, 0), IG_ERR_EXISTS);
	assert_int_equal(ig_totp_enroll(dfd, "bob", rfc_secret, 5, 1, 1), IG_ERR_RANGE);
}

static void test_state_file_mode_and_symlink(void **state)
{
	struct ig_totp_outcome oc;
	struct stat st;
	(void)state;
	enroll("alice");
	assert_int_equal(fstatat(dfd, "alice.json", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, 0);
	/* A group-readable state file is refused, never used. */
	assert_int_equal(fchmodat(dfd, "alice.json", 0640, 0), 0);
	assert_int_equal(ig_totp_verify(dfd, "alice", "123456", 1000, NULL, &p6, &oc),
	                 IG_ERR_UNSAFE);
	/* A symlink in place of the state file is never followed. */
	assert_int_equal(unlinkat(dfd, "alice.json", 0), 0);
	assert_int_equal(symlinkat("/etc/shadow", dfd, "alice.json"), 0);
	assert_int_equal(ig_totp_verify(dfd, "alice", "123456", 1000, NULL, &p6, &oc),
	                 IG_ERR_UNSAFE);
	assert_int_equal(unlinkat(dfd, "alice.json", 0), 0);
	/* A symlinked lock file too. */
	assert_int_equal(unlinkat(dfd, ".alice.lock", 0), 0);
	assert_int_equal(symlinkat("/etc/passwd", dfd, ".alice.lock"), 0);
	assert_int_equal(ig_totp_verify(dfd, "alice", "123456", 1000, NULL, &p6, &oc),
	                 IG_ERR_UNSAFE);
	assert_int_equal(unlinkat(dfd, ".alice.lock", 0), 0);
}

/* N processes race with the same valid code: exactly one wins. */
static void test_parallel_same_code_one_success(void **state)
{
	enum { N = 8 };
	char code[9];
	pid_t pids[N];
	int wins = 0, replays = 0;
	time_t now = 1234567890;
	struct ig_totp_params p = p8;
	(void)state;
	/* Enough failures allowed that the losers see "replay", not "locked". */
	p.max_failures = 100;
	assert_int_equal(ig_totp_enroll(dfd, "bob", rfc_secret, 20, now, 1), 0);
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now, &p8, code), 0);
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct ig_totp_outcome oc;
			if (ig_totp_verify(dfd, "bob", code, now, NULL, &p, &oc) != 0)
				_exit(3);
			_exit(oc.result == IG_TOTP_OK ? 0 : oc.result == IG_TOTP_REPLAY ? 1 : 2);
		}
	}
	for (int i = 0; i < N; i++) {
		int st;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		wins += WEXITSTATUS(st) == 0;
		replays += WEXITSTATUS(st) == 1;
	}
	assert_int_equal(wins, 1);
	assert_int_equal(replays, N - 1);
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
	        cmocka_unit_test(test_replaced_state_closed_later),
	        cmocka_unit_test(test_malformed_codes),
	        cmocka_unit_test(test_lockout_and_unlock),
	        cmocka_unit_test(test_not_enrolled_and_bad_names),
	        cmocka_unit_test(test_enroll_refuses_overwrite),
	        cmocka_unit_test(test_state_file_mode_and_symlink),
	        cmocka_unit_test(test_parallel_same_code_one_success),
	        cmocka_unit_test(test_base32_roundtrip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
