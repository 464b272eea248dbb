/*
 * test_util.c - ig_write_file_at / ig_write_file_at_flags: atomic replace
 * with the asked mode and owner, durable by default, IG_WRITE_NO_SYNC
 * skipping exactly the two fsyncs and IG_WRITE_NO_DIR_SYNC the directory's
 * (counted by a wrapper of fsync, which this executable defines and so
 * takes before libc's).
 */
#include <dirent.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "iamgate/util.h"

static int fsyncs, dir_fsyncs, early_file_fsyncs;
static const char *target; /* the name being replaced, when set */
static int dfd = -1;

/* Counts (directories apart, and regular files fsynced while target does
 * not yet name them: before the rename), then does the real fsync (the
 * syscall, not libc's symbol). */
int fsync(int fd)
{
	struct stat a, t;

	fsyncs++;
	if (fstat(fd, &a) == 0 && S_ISDIR(a.st_mode))
		dir_fsyncs++;
	else if (target != NULL &&
	         (fstatat(dfd, target, &t, AT_SYMLINK_NOFOLLOW) != 0 || t.st_ino != a.st_ino))
		early_file_fsyncs++;
	return (int)syscall(SYS_fsync, fd);
}

static char dir[4096];

static int setup(void **st)
{
	(void)st;
	if (ig_bfmt(dir, sizeof(dir), "%s/build/t-util.XXXXXX", IG_SOURCE_DIR) != 0 ||
	    mkdtemp(dir) == NULL || chmod(dir, 0700) != 0)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd >= 0 ? 0 : -1;
}

static int teardown(void **st)
{
	DIR *d;
	struct dirent *e;
	(void)st;
	if ((d = fdopendir(dfd)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	return rmdir(dir);
}

/* Names in the directory other than . and .. (leftover temporaries show). */
static int entries(void)
{
	DIR *d;
	struct dirent *e;
	int n = 0, fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	d = fdopendir(fd);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void read_back(const char *name, const char *want)
{
	char buf[256];
	ssize_t n;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

/* Write name twice with flags; check mode, owner, content, the replace
 * (a new inode; an fd on the old file still reads the old text) and that
 * no temporary is left.  Returns the fsyncs counted. */
static int write_twice(const char *name, unsigned flags)
{
	struct stat a, b;
	char buf[64];
	int oldfd, n0 = entries(), count;
	ssize_t n;

	fsyncs = 0;
	assert_int_equal(ig_write_file_at_flags(dfd, name, "first", 5, 0640, 1, 2, flags), 0);
	assert_int_equal(fstatat(dfd, name, &a, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(a.st_mode));
	assert_int_equal(a.st_mode & 07777, 0640);
	assert_int_equal(a.st_uid, 1);
	assert_int_equal(a.st_gid, 2);
	read_back(name, "first");
	oldfd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	assert_true(oldfd >= 0);
	assert_int_equal(ig_write_file_at_flags(dfd, name, "second!", 7, 0600, 0, 0, flags), 0);
	count = fsyncs;
	assert_int_equal(fstatat(dfd, name, &b, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(b.st_mode & 07777, 0600);
	assert_int_equal(b.st_uid, 0);
	assert_int_equal(b.st_gid, 0);
	assert_int_not_equal(a.st_ino, b.st_ino);
	read_back(name, "second!");
	/* Replaced by rename, never rewritten in place: the old file is intact. */
	n = read(oldfd, buf, sizeof(buf));
	close(oldfd);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "first", 5);
	assert_int_equal(entries(), n0 + 1);
	return count;
}

/* The one check every trusted read makes (ig_read_file_at, the config
 * loader and its reuse check). */
static void test_file_trusted(void **st)
{
	struct stat good = {0}, b;

	(void)st;
	good.st_mode = S_IFREG | 0644;
	good.st_uid = 0;
	good.st_nlink = 1;
	good.st_size = 100;
	assert_int_equal(ig_file_trusted(&good, 100, 0), 0);
	assert_int_equal(ig_file_trusted(&good, 99, 0), IG_ERR_RANGE);
	assert_int_equal(ig_file_trusted(&good, 100, 1), IG_ERR_UNSAFE); /* 0644 not private */
	b = good;
	b.st_mode = S_IFREG | 0600;
	assert_int_equal(ig_file_trusted(&b, 100, 1), 0);
	b = good;
	b.st_mode = S_IFREG | 0664;
	assert_int_equal(ig_file_trusted(&b, 100, 0), IG_ERR_UNSAFE);
	b = good;
	b.st_mode = S_IFREG | 0646;
	assert_int_equal(ig_file_trusted(&b, 100, 0), IG_ERR_UNSAFE);
	b = good;
	b.st_uid = 1000;
	assert_int_equal(ig_file_trusted(&b, 100, 0), IG_ERR_UNSAFE);
	b = good;
	b.st_nlink = 2; /* a hard link someone else may hold */
	assert_int_equal(ig_file_trusted(&b, 100, 0), IG_ERR_UNSAFE);
	b = good;
	b.st_mode = S_IFIFO | 0600;
	assert_int_equal(ig_file_trusted(&b, 100, 0), IG_ERR_UNSAFE);
	b = good;
	b.st_size = -1;
	assert_int_equal(ig_file_trusted(&b, 100, 0), IG_ERR_RANGE);
}

static void test_durable_default_syncs(void **st)
{
	(void)st;
	/* Two writes, each fsyncing the file and the directory. */
	assert_int_equal(write_twice("durable.json", 0), 4);
	fsyncs = 0;
	assert_int_equal(ig_write_file_at(dfd, "durable.json", "x", 1, 0600, 0, 0), 0);
	assert_int_equal(fsyncs, 2);
	read_back("durable.json", "x");
}

/* IG_WRITE_NO_DIR_SYNC (the TOTP state after an attempt): the new file is
 * fsynced before the rename, the directory is not. */
static void test_no_dir_sync_syncs_the_file_first(void **st)
{
	(void)st;
	assert_int_equal(write_twice("state.json", IG_WRITE_NO_DIR_SYNC), 2);
	target = "state.json";
	fsyncs = dir_fsyncs = early_file_fsyncs = 0;
	assert_int_equal(
	        ig_write_file_at_flags(dfd, "state.json", "y", 1, 0600, 0, 0, IG_WRITE_NO_DIR_SYNC),
	        0);
	assert_int_equal(fsyncs, 1);
	assert_int_equal(dir_fsyncs, 0);
	assert_int_equal(early_file_fsyncs, 1);
	read_back("state.json", "y");
	/* The default: the same file fsync first, then the directory. */
	fsyncs = dir_fsyncs = early_file_fsyncs = 0;
	assert_int_equal(ig_write_file_at(dfd, "state.json", "z", 1, 0600, 0, 0), 0);
	assert_int_equal(fsyncs, 2);
	assert_int_equal(dir_fsyncs, 1);
	assert_int_equal(early_file_fsyncs, 1);
	target = NULL;
	read_back("state.json", "z");
}

/* ig_own_dir: creates a missing directory with the mode, opens an existing
 * one, refuses extra mode bits, a symlink and a missing parent. */
static void test_own_dir(void **st)
{
	char p[4300], q[4300], why[512];
	struct stat sb;
	int fd = -1;
	(void)st;
	assert_int_equal(ig_bfmt(p, sizeof(p), "%s/own", dir), 0);
	assert_int_equal(ig_own_dir(p, 0700, &fd, why, sizeof(why)), 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0700);
	close(fd);
	assert_int_equal(ig_own_dir(p, 0700, &fd, why, sizeof(why)), 0); /* exists */
	close(fd);
	assert_int_equal(chmod(p, 0750), 0);
	assert_int_equal(ig_own_dir(p, 0700, &fd, why, sizeof(why)), IG_ERR_UNSAFE);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(why, "expected 0700"));
	assert_int_equal(ig_bfmt(q, sizeof(q), "%s/own-link", dir), 0);
	assert_int_equal(symlink(p, q), 0);
	assert_int_equal(ig_own_dir(q, 0750, &fd, why, sizeof(why)), IG_ERR_UNSAFE);
	assert_non_null(strstr(why, "symbolic link"));
	assert_int_equal(ig_bfmt(q, sizeof(q), "%s/no-such/own", dir), 0);
	assert_int_equal(ig_own_dir(q, 0700, &fd, why, sizeof(why)), IG_ERR_NOTFOUND);
	assert_int_equal(fd, -1);
	assert_int_equal(rmdir(p), 0);
}

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* ig_defer_close keeps descriptors open until ig_close_deferred; past
 * IG_DEFER_MAX it closes at once; a negative fd is ignored. */
static void test_defer_close(void **st)
{
	int fds[IG_DEFER_MAX + 1];
	(void)st;
	ig_defer_close(-1);
	for (int i = 0; i <= IG_DEFER_MAX; i++) {
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		assert_true(fds[i] >= 0);
		ig_defer_close(fds[i]);
	}
	for (int i = 0; i < IG_DEFER_MAX; i++)
		assert_true(fd_open(fds[i]));
	assert_false(fd_open(fds[IG_DEFER_MAX])); /* no room: closed at once */
	ig_close_deferred();
	for (int i = 0; i < IG_DEFER_MAX; i++)
		assert_false(fd_open(fds[i]));
	ig_close_deferred(); /* nothing left: nothing closed twice */
}

static void test_no_sync_is_atomic_without_fsync(void **st)
{
	(void)st;
	assert_int_equal(write_twice("grant.json", IG_WRITE_NO_SYNC), 0);
}

static void test_unknown_flag_refused(void **st)
{
	int n0 = entries();
	(void)st;
	fsyncs = 0;
	assert_int_equal(ig_write_file_at_flags(dfd, "bad.json", "x", 1, 0600, 0, 0, 4u),
	                 IG_ERR_INVAL);
	/* Both "no fsync" and "no directory fsync": contradictory. */
	assert_int_equal(ig_write_file_at_flags(dfd, "bad.json", "x", 1, 0600, 0, 0,
	                                        IG_WRITE_NO_SYNC | IG_WRITE_NO_DIR_SYNC),
	                 IG_ERR_INVAL);
	assert_int_equal(ig_write_file_at_flags(dfd, "bad.json", "x", 1, 0600, 0, 0,
	                                        IG_WRITE_NO_SYNC | 0x100u),
	                 IG_ERR_INVAL);
	assert_int_equal(entries(), n0);
	assert_int_equal(fsyncs, 0);
}

static void test_no_sync_failure_leaves_nothing(void **st)
{
	int n0;
	(void)st;
	/* The target is a directory: rename fails, the temporary is removed,
	 * the directory is untouched. */
	assert_int_equal(mkdirat(dfd, "adir", 0700), 0);
	n0 = entries();
	assert_int_equal(ig_write_file_at_flags(dfd, "adir", "x", 1, 0600, 0, 0, IG_WRITE_NO_SYNC),
	                 IG_ERR_IO);
	assert_int_equal(entries(), n0);
	assert_int_equal(unlinkat(dfd, "adir", AT_REMOVEDIR), 0);
	/* A symlink in the target's place is replaced, never followed. */
	assert_int_equal(symlinkat("/etc/passwd", dfd, "link.json"), 0);
	assert_int_equal(
	        ig_write_file_at_flags(dfd, "link.json", "ok", 2, 0600, 0, 0, IG_WRITE_NO_SYNC), 0);
	read_back("link.json", "ok");
	{
		struct stat sb;
		assert_int_equal(fstatat(dfd, "link.json", &sb, AT_SYMLINK_NOFOLLOW), 0);
		assert_true(S_ISREG(sb.st_mode));
	}
}

/* ig_chars_ok: lengths at both bounds, the extra set, NUL and high bytes. */
static void test_chars_ok(void **state)
{
	(void)state;
	assert_true(ig_chars_ok("Ab09", 4, 4, ""));
	assert_false(ig_chars_ok("Ab09", 5, 8, ""));
	assert_false(ig_chars_ok("Ab09x", 1, 4, ""));
	assert_true(ig_chars_ok("", 0, 4, ""));
	assert_false(ig_chars_ok("", 1, 4, ""));
	assert_false(ig_chars_ok(NULL, 0, 4, ""));
	assert_true(ig_chars_ok("a-b.c", 1, 8, "-."));
	assert_false(ig_chars_ok("a-b.c", 1, 8, "-"));
	assert_false(ig_chars_ok("a b", 1, 8, "-"));
	assert_true(ig_chars_ok("a b", 1, 8, " "));
	assert_false(ig_chars_ok("caf\xc3\xa9", 1, 8, "-"));
	assert_false(ig_chars_ok("a\nb", 1, 8, "-"));
	/* Only max + 1 bytes are looked at: no terminator needed past that. */
	assert_false(ig_chars_ok("abcdefgh", 1, 3, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_file_trusted),
	        cmocka_unit_test(test_durable_default_syncs),
	        cmocka_unit_test(test_no_dir_sync_syncs_the_file_first),
	        cmocka_unit_test(test_own_dir),
	        cmocka_unit_test(test_defer_close),
	        cmocka_unit_test(test_no_sync_is_atomic_without_fsync),
	        cmocka_unit_test(test_unknown_flag_refused),
	        cmocka_unit_test(test_no_sync_failure_leaves_nothing),
	        cmocka_unit_test(test_chars_ok),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
