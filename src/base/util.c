/*
 * util.c - constant-time compare, secret wiping, bounded formatting, and the
 * file access discipline: owner/mode checks on every parent (OpenSSH
 * safe_path), O_NOFOLLOW opens relative to a trusted directory fd, atomic
 * replace via temporary file + rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iamgate/util.h"

int ig_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

int ig_ct_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return 0;
	return ig_ct_equal(a, b, la);
}

void ig_freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

void ig_free_secret_str(char *s)
{
	if (s == NULL)
		return;
	ig_freezero(s, strlen(s));
}

int ig_bfmt(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (cap == 0)
		return IG_ERR_RANGE;
	va_start(ap, fmt);
	n = vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap) {
		dst[0] = '\0';
		return IG_ERR_RANGE;
	}
	return 0;
}

void ig_why(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || cap == 0)
		return;
	va_start(ap, fmt);
	if (vsnprintf(why, cap, fmt, ap) < 0)
		why[0] = '\0';
	va_end(ap);
}

static int check_component(const char *p, const struct stat *st, char *why, size_t whycap)
{
	if (S_ISLNK(st->st_mode)) {
		ig_why(why, whycap, "%s is a symbolic link; use the real path", p);
		return IG_ERR_UNSAFE;
	}
	if (st->st_uid != 0) {
		ig_why(why, whycap, "%s is owned by uid %u, not root; fix: chown root %s", p,
		       (unsigned)st->st_uid, p);
		return IG_ERR_UNSAFE;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		ig_why(why, whycap,
		       "%s is writable by group or others (mode %04o); fix: chmod go-w %s", p,
		       (unsigned)(st->st_mode & 07777), p);
		return IG_ERR_UNSAFE;
	}
	return 0;
}

int ig_abs_path(const char *path, char *out, size_t cap)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return ig_bfmt(out, cap, "%s", path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return IG_ERR_IO;
	return ig_bfmt(out, cap, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", path);
}

int ig_safe_path(const char *path, char *why, size_t whycap)
{
	char buf[PATH_MAX];
	struct stat st;
	char *slash;
	int r;

	if (path == NULL || path[0] != '/') {
		ig_why(why, whycap, "%s is not an absolute path", path ? path : "(null)");
		return IG_ERR_INVAL;
	}
	if (ig_bfmt(buf, sizeof(buf), "%s", path) != 0) {
		ig_why(why, whycap, "path too long");
		return IG_ERR_RANGE;
	}
	/* Walk from the full path up to "/", lstat each component. */
	for (;;) {
		if (lstat(buf, &st) != 0) {
			ig_why(why, whycap, "%s: %s", buf, strerror(errno));
			return errno == ENOENT ? IG_ERR_NOTFOUND : IG_ERR_IO;
		}
		if ((r = check_component(buf, &st, why, whycap)) != 0)
			return r;
		if (strcmp(buf, "/") == 0)
			break;
		slash = strrchr(buf, '/');
		if (slash == buf)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	return 0;
}

/* Open path as a directory (O_NOFOLLOW) and check the opened object, whose
 * stat lands in *st; the caller has walked the path with ig_safe_path. */
static int open_checked_dir(const char *path, int *dirfd, struct stat *st, char *why, size_t whycap)
{
	int fd;

	*dirfd = -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ig_why(why, whycap, "%s: %s", path, strerror(errno));
		return IG_ERR_IO;
	}
	/* Re-check the opened object: the path may have changed since lstat. */
	if (fstat(fd, st) != 0 || !S_ISDIR(st->st_mode) ||
	    check_component(path, st, why, whycap) != 0) {
		close(fd);
		return IG_ERR_UNSAFE;
	}
	*dirfd = fd;
	return 0;
}

int ig_open_checked_dir(const char *path, int *dirfd, char *why, size_t whycap)
{
	struct stat st;

	return open_checked_dir(path, dirfd, &st, why, whycap);
}

int ig_open_trusted_dir(const char *path, int *dirfd, char *why, size_t whycap)
{
	int r;

	*dirfd = -1;
	if ((r = ig_safe_path(path, why, whycap)) != 0)
		return r;
	return ig_open_checked_dir(path, dirfd, why, whycap);
}

int ig_own_dir(const char *path, mode_t mode, int *dirfd, char *why, size_t whycap)
{
	struct stat st;
	int r;

	*dirfd = -1;
	r = ig_safe_path(path, why, whycap);
	if (r == IG_ERR_NOTFOUND) {
		/* Absent (or a parent is): create it under a trusted parent; the
		 * new directory itself is checked when opened, below. */
		char parent[PATH_MAX];
		char *slash;

		if (ig_bfmt(parent, sizeof(parent), "%s", path) != 0)
			return IG_ERR_RANGE;
		slash = strrchr(parent, '/');
		if (slash == NULL)
			return IG_ERR_INVAL;
		*(slash == parent ? slash + 1 : slash) = '\0';
		if ((r = ig_safe_path(parent, why, whycap)) != 0)
			return r;
		if (mkdir(path, mode) != 0 && errno != EEXIST) {
			ig_why(why, whycap, "cannot create %s: %s", path, strerror(errno));
			return IG_ERR_IO;
		}
		if (chmod(path, mode) != 0)
			return IG_ERR_IO;
		r = 0;
	}
	if (r != 0 || (r = open_checked_dir(path, dirfd, &st, why, whycap)) != 0)
		return r;
	if ((st.st_mode & 07777 & ~mode) != 0) {
		ig_why(why, whycap, "%s has mode %04o, expected %04o; fix: chmod %04o %s", path,
		       (unsigned)(st.st_mode & 07777), (unsigned)mode, (unsigned)mode, path);
		close(*dirfd);
		*dirfd = -1;
		return IG_ERR_UNSAFE;
	}
	return 0;
}

int ig_read_fd(int fd, size_t max, char **buf, size_t *len)
{
	char *b;
	size_t got = 0;
	ssize_t n;

	*buf = NULL;
	if (len)
		*len = 0;
	if (max == SIZE_MAX || (b = malloc(max + 1)) == NULL)
		return IG_ERR_NOMEM;
	for (;;) {
		n = read(fd, b + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ig_freezero(b, max + 1);
			return IG_ERR_IO;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			ig_freezero(b, max + 1);
			return IG_ERR_RANGE;
		}
	}
	b[got] = '\0';
	*buf = b;
	if (len)
		*len = got;
	return 0;
}

int ig_file_trusted(const struct stat *st, size_t max, int must_be_private)
{
	if (!S_ISREG(st->st_mode) || st->st_uid != 0 || st->st_nlink != 1 ||
	    (st->st_mode & (S_IWGRP | S_IWOTH)) || (must_be_private && (st->st_mode & 077)))
		return IG_ERR_UNSAFE;
	if (st->st_size < 0 || (size_t)st->st_size > max)
		return IG_ERR_RANGE;
	return 0;
}

int ig_read_file_at(int dirfd, const char *name, size_t max, int must_be_private, char **buf,
                    size_t *len)
{
	struct stat st;

	return ig_read_file_at_stat(dirfd, name, max, must_be_private, buf, len, &st);
}

int ig_read_file_at_stat(int dirfd, const char *name, size_t max, int must_be_private, char **buf,
                         size_t *len, struct stat *st_out)
{
	int fd, r;

	*buf = NULL;
	if (len)
		*len = 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? IG_ERR_NOTFOUND
		                       : (errno == ELOOP ? IG_ERR_UNSAFE : IG_ERR_IO);
	if (fstat(fd, st_out) != 0)
		r = IG_ERR_IO;
	else if ((r = ig_file_trusted(st_out, max, must_be_private)) == 0)
		r = ig_read_fd(fd, max, buf, len);
	close(fd);
	return r;
}

int ig_write_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                     uid_t uid, gid_t gid)
{
	return ig_write_file_at_flags(dirfd, name, data, len, mode, uid, gid, 0);
}

int ig_write_file_at_flags(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                           uid_t uid, gid_t gid, unsigned flags)
{
	const int sync = !(flags & IG_WRITE_NO_SYNC);
	const int dir_sync = sync && !(flags & IG_WRITE_NO_DIR_SYNC);

	char tmp[NAME_MAX + 1];
	unsigned char rnd[8];
	char hex[17];
	const char *p = data;
	size_t off = 0;
	ssize_t n;
	int fd = -1, r = 0;

	if ((flags & ~(unsigned)(IG_WRITE_NO_SYNC | IG_WRITE_NO_DIR_SYNC)) ||
	    (flags & IG_WRITE_NO_SYNC && flags & IG_WRITE_NO_DIR_SYNC))
		return IG_ERR_INVAL;
	if ((r = ig_random_bytes(rnd, sizeof(rnd))) != 0)
		return r;
	ig_hex(rnd, sizeof(rnd), hex);
	if (ig_bfmt(tmp, sizeof(tmp), ".%s.%s.tmp", name, hex) != 0)
		return IG_ERR_RANGE;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
	if (fd < 0)
		return IG_ERR_IO;
	if (fchown(fd, uid, gid) != 0 || fchmod(fd, mode & 0777) != 0) {
		r = IG_ERR_IO;
		goto fail;
	}
	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = IG_ERR_IO;
			goto fail;
		}
		off += (size_t)n;
	}
	if (sync && fsync(fd) != 0) {
		r = IG_ERR_IO;
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = IG_ERR_IO;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		r = IG_ERR_IO;
		goto fail;
	}
	if (dir_sync && fsync(dirfd) != 0)
		return IG_ERR_IO;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	(void)unlinkat(dirfd, tmp, 0);
	return r;
}

static int deferred[IG_DEFER_MAX];
static int n_deferred;

void ig_defer_close(int fd)
{
	if (fd < 0)
		return;
	if (n_deferred < IG_DEFER_MAX)
		deferred[n_deferred++] = fd;
	else
		close(fd);
}

void ig_close_deferred(void)
{
	while (n_deferred > 0)
		close(deferred[--n_deferred]);
}

int64_t ig_boot_time(void)
{
	struct timespec real, up;
	int64_t t;

	if (clock_gettime(CLOCK_REALTIME, &real) != 0 || clock_gettime(CLOCK_BOOTTIME, &up) != 0 ||
	    real.tv_sec < 0 || up.tv_sec < 0)
		return -1;
	t = (int64_t)real.tv_sec - (int64_t)up.tv_sec;
	if (real.tv_nsec >= up.tv_nsec)
		t++; /* a fraction of a second remains: round up */
	return t;
}

int64_t ig_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ig_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = getrandom(p + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return IG_ERR_CRYPTO;
		got += (size_t)r;
	}
	return 0;
}

int ig_chars_ok(const char *s, size_t min, size_t max, const char *extra)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strnlen(s, max + 1);
	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) &&
		    strchr(extra, c) == NULL)
			return 0;
	}
	return 1;
}

int ig_name_is_safe(const char *name)
{
	size_t n;

	if (name == NULL)
		return 0;
	n = strlen(name);
	if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '@' || c == '-'))
			return 0;
	}
	return 1;
}

void ig_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}
