/*
 * test_store_file.c - the file backend of the store: enrolment, status and
 * unlock, the state file's mode and no link followed, the directory fsync
 * only where a crash must not roll the record back, the replaced file closed
 * after the reply, one winner among processes racing with one code, format-1
 * files read with their replay protection, listing.
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

#include "iamgate/store.h"
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
static struct ig_store *st_;

static int setup(void **state)
{
	char why[512];
	(void)state;
	if (ig_bfmt(tdir, sizeof(tdir), "%s/build/t-store.XXXXXX", IG_SOURCE_DIR) != 0 ||
	    mkdtemp(tdir) == NULL)
		return -1;
	if (ig_store_file_open(tdir, 30, &st_, why, sizeof(why)) != 0)
		return -1;
	dfd = open(tdir, O_RDONLY | O_DIRECTORY);
	return dfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	ig_store_close(st_);
	close(dfd);
	/* Remove the test directory (files only, one level). */
	{
		int d = open(tdir, O_RDONLY | O_DIRECTORY);
		if (d >= 0) {
			const char *names[] = {"alice.json", ".alice.lock", "bob.json",
			                       ".bob.lock",  "erin.json",   ".erin.lock",
			                       "frank.json", ".frank.lock", ".nobody.lock",
			                       NULL};
			for (int i = 0; names[i]; i++)
				(void)unlinkat(d, names[i], 0);
			close(d);
		}
		(void)rmdir(tdir);
	}
	return 0;
}

static const struct ig_totp_params p8 = {8, 30, 1, 5, 900, 86400, 0};
static const struct ig_totp_params p6 = {6, 30, 1, 3, 900, 86400, 0};

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

static void test_replaced_state_closed_later(void **state)
{
	struct ig_totp_outcome oc;
	(void)state;
	ig_close_deferred();
	assert_int_equal(ig_store_enroll(st_, "erin", rfc_secret, 20, 1000, 1), 0);
	assert_int_equal(unlinked_fds(), 0);
	assert_int_equal(ig_totp_verify(st_, "erin", "00000000", 1111111111, NULL, &p8, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_BAD_CODE);
	assert_int_equal(unlinked_fds(), 1); /* the old erin.json, replaced */
	ig_close_deferred();
	assert_int_equal(unlinked_fds(), 0);
}

static void test_lockout_and_unlock(void **state)
{
	struct ig_totp_outcome oc;
	struct ig_user_record st;
	char code[9];
	time_t now = 2000000000;
	(void)state;
	dir_fsyncs = 0;
	assert_int_equal(ig_store_enroll(st_, "alice", rfc_secret, 20, now, 1), 0);
	assert_int_equal(dir_fsyncs, 1); /* an enrolment survives a crash */
	for (int i = 1; i <= 3; i++) {
		dir_fsyncs = 0;
		assert_int_equal(ig_totp_verify(st_, "alice", "000000", now, NULL, &p6, &oc), 0);
		assert_int_equal(oc.result, IG_TOTP_BAD_CODE);
		assert_int_equal(oc.lockout_started, i == 3);
		/* Only the lockout's start is made durable by a directory fsync;
		 * an attempt's state is not (the boot floor covers its loss). */
		assert_int_equal(dir_fsyncs, i == 3);
	}
	assert_int_equal(oc.locked_until, now + 900);
	/* Locked: even the right code is refused. */
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now + 30, &p6, code), 0);
	assert_int_equal(ig_totp_verify(st_, "alice", code, now + 30, NULL, &p6, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_LOCKED);
	assert_int_equal(ig_store_status(st_, "alice", &st), 0);
	assert_true(st.locked_until > now);
	/* Unlock clears it (durably). */
	dir_fsyncs = 0;
	assert_int_equal(ig_store_unlock(st_, "alice"), 0);
	assert_int_equal(dir_fsyncs, 1);
	dir_fsyncs = 0;
	assert_int_equal(ig_totp_verify(st_, "alice", code, now + 30, "10.0.0.1", &p6, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_OK);
	assert_int_equal(dir_fsyncs, 0);
	assert_int_equal(ig_store_status(st_, "alice", &st), 0);
	assert_int_equal(st.failures, 0);
	assert_string_equal(st.last_rhost, "10.0.0.1");
	/* After lockout_seconds it lifts by itself. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ig_totp_verify(st_, "alice", "000000", now + 60, NULL, &p6, &oc),
		                 0);
	assert_int_equal(oc.result, IG_TOTP_BAD_CODE);
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now + 60 + 900, &p6, code), 0);
	assert_int_equal(ig_totp_verify(st_, "alice", code, now + 60 + 900, NULL, &p6, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_OK);
}

static void test_enroll_refuses_overwrite(void **state)
{
	(void)state;
	assert_int_equal(ig_store_enroll(st_, "bob", rfc_secret, 20, 1, 1), 0);
	assert_int_equal(ig_store_enroll(st_, "bob", rfc_secret, 20, 1, 0), IG_ERR_EXISTS);
	assert_int_equal(ig_store_enroll(st_, "bob", rfc_secret, 5, 1, 1), IG_ERR_RANGE);
}

static void test_state_file_mode_and_symlink(void **state)
{
	struct ig_totp_outcome oc;
	struct stat st;
	(void)state;
	assert_int_equal(ig_store_enroll(st_, "alice", rfc_secret, 20, 1000, 1), 0);
	assert_int_equal(fstatat(dfd, "alice.json", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, 0);
	/* A group-readable state file is refused, never used. */
	assert_int_equal(fchmodat(dfd, "alice.json", 0640, 0), 0);
	assert_int_equal(ig_totp_verify(st_, "alice", "123456", 1000, NULL, &p6, &oc),
	                 IG_ERR_UNSAFE);
	/* A symlink in place of the state file is never followed. */
	assert_int_equal(unlinkat(dfd, "alice.json", 0), 0);
	assert_int_equal(symlinkat("/etc/shadow", dfd, "alice.json"), 0);
	assert_int_equal(ig_totp_verify(st_, "alice", "123456", 1000, NULL, &p6, &oc),
	                 IG_ERR_UNSAFE);
	assert_int_equal(unlinkat(dfd, "alice.json", 0), 0);
	/* A symlinked lock file too. */
	assert_int_equal(unlinkat(dfd, ".alice.lock", 0), 0);
	assert_int_equal(symlinkat("/etc/passwd", dfd, ".alice.lock"), 0);
	assert_int_equal(ig_totp_verify(st_, "alice", "123456", 1000, NULL, &p6, &oc),
	                 IG_ERR_UNSAFE);
	assert_int_equal(unlinkat(dfd, ".alice.lock", 0), 0);
}

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
	assert_int_equal(ig_store_enroll(st_, "bob", rfc_secret, 20, now, 1), 0);
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, now, &p8, code), 0);
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct ig_totp_outcome oc;
			if (ig_totp_verify(st_, "bob", code, now, NULL, &p, &oc) != 0)
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

/* A format-1 file (a step index) keeps its replay protection, read with the
 * configured step length; the first write turns it into format 2. */
static void test_format1_file(void **state)
{
	static const char v1[] = "{\"version\": 1, \"secret\": "
	                         "\"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\", \"created\": 5, "
	                         "\"last_step\": 37037037, \"failures\": 2, \"locked_until\": 0, "
	                         "\"last_login\": 0, \"last_rhost\": \"\"}";
	struct ig_totp_outcome oc;
	struct ig_user_record rec;
	char code[9], *text = NULL;
	int fd;

	(void)state;
	assert_int_equal(ig_store_file_parse(v1, strlen(v1), 30, &rec), 0);
	assert_int_equal(rec.used_until, (37037037 + 1) * 30);
	assert_int_equal(rec.failures, 2);
	assert_int_equal(rec.lockouts, 0);
	ig_store_record_wipe(&rec);
	fd = openat(dfd, "frank.json", O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, v1, strlen(v1)), (ssize_t)strlen(v1));
	close(fd);
	/* The step of the last use: a replay. */
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, 1111111111, &p8, code), 0);
	assert_int_equal(ig_totp_verify(st_, "frank", code, 1111111111, NULL, &p8, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_REPLAY);
	/* The next: accepted, and the file is format 2 now. */
	assert_int_equal(ig_totp_code_at(rfc_secret, 20, 1111111111 + 30, &p8, code), 0);
	assert_int_equal(ig_totp_verify(st_, "frank", code, 1111111111 + 30, NULL, &p8, &oc), 0);
	assert_int_equal(oc.result, IG_TOTP_OK);
	assert_int_equal(ig_read_file_at(dfd, "frank.json", 8192, 1, &text, NULL), 0);
	assert_non_null(strstr(text, "\"version\": 2"));
	assert_non_null(strstr(text, "\"used_until\": 1111111170"));
	ig_free_secret_str(text);
	/* Malformed: refused, no secret left behind. */
	assert_int_equal(ig_store_file_parse("{\"version\": 3}", 14, 30, &rec), IG_ERR_PARSE);
	assert_int_equal(rec.secret_len, 0);
}

static int add_name(const char *user, void *arg)
{
	int *seen = arg;

	*seen |= strcmp(user, "alice") == 0 ? 1 : strcmp(user, "bob") == 0 ? 2 : 4;
	return 0;
}

static void test_list(void **state)
{
	int seen = 0;

	(void)state;
	assert_int_equal(ig_store_enroll(st_, "alice", rfc_secret, 20, 1, 1), 0);
	assert_int_equal(ig_store_enroll(st_, "bob", rfc_secret, 20, 1, 1), 0);
	assert_int_equal(ig_store_list(st_, add_name, &seen), 0);
	assert_int_equal(seen & 3, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_replaced_state_closed_later),
	        cmocka_unit_test(test_lockout_and_unlock),
	        cmocka_unit_test(test_enroll_refuses_overwrite),
	        cmocka_unit_test(test_state_file_mode_and_symlink),
	        cmocka_unit_test(test_parallel_same_code_one_success),
	        cmocka_unit_test(test_format1_file),
	        cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
