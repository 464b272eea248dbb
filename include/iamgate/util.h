/*
 * util.h - small shared helpers: constant-time compare, secret wiping,
 * bounded string building, safe file access under root-owned directories.
 */
#ifndef IAMGATE_UTIL_H
#define IAMGATE_UTIL_H

#include <stddef.h>
#include <sys/stat.h>
#include <stdint.h>
#include <sys/types.h>

#include "iamgate/error.h"

/* Constant-time equality of two buffers of length n: 1 if equal, 0 if not. */
int ig_ct_equal(const void *a, const void *b, size_t n);

/* Constant-time equality of two NUL-terminated strings (length leaks only). */
int ig_ct_streq(const char *a, const char *b);

/* explicit_bzero(p, n) then free(p); NULL is fine. */
void ig_freezero(void *p, size_t n);

/* explicit_bzero the string then free it; NULL is fine. */
void ig_free_secret_str(char *s);

/*
 * Bounded formatted copy: like snprintf but returns 0 or IG_ERR_RANGE when
 * the result would not fit (dst is then an empty string).
 */
int ig_bfmt(char *dst, size_t cap, const char *fmt, ...)
        __attribute__((format(printf, 3, 4))) IG_MUST_CHECK;

/* Format a human sentence into why (NULL or cap 0: nothing); never fails. */
void ig_why(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Check that path and each of its parent directories is owned by root and
 * not writable by group or others (OpenSSH safe_path).  Symlinks anywhere in
 * the chain are refused.  On failure, writes a human sentence naming the
 * offending component and the fix into why (if why != NULL).
 */
int ig_safe_path(const char *path, char *why, size_t whycap) IG_MUST_CHECK;

/*
 * path made absolute against the working directory (a path that is absolute
 * already is copied), without resolving anything: "." and ".." and symlinks
 * stay for ig_safe_path to walk and judge.  For people's command lines
 * ("--config iamgate.json"); the PAM module and the helper take absolute
 * paths only.  IG_ERR_IO when the working directory cannot be read,
 * IG_ERR_RANGE when the result does not fit in cap.
 */
int ig_abs_path(const char *path, char *out, size_t cap) IG_MUST_CHECK;

/*
 * Open a directory that must be root-owned, a real directory (no symlink)
 * and not writable by group/others; path must pass ig_safe_path.
 * *dirfd receives an O_DIRECTORY|O_CLOEXEC descriptor.
 */
int ig_open_trusted_dir(const char *path, int *dirfd, char *why, size_t whycap) IG_MUST_CHECK;

/*
 * The second half of ig_open_trusted_dir, for a caller that has already
 * walked path (or a path below it) with ig_safe_path: open it as a
 * directory with O_NOFOLLOW and check the opened object the same way.
 */
int ig_open_checked_dir(const char *path, int *dirfd, char *why, size_t whycap) IG_MUST_CHECK;

/*
 * Whether st describes a file the helper may trust: a regular file, owned
 * by root, one link, not group/world-writable (with must_be_private: no
 * group/other bits at all), at most max bytes.  0, IG_ERR_UNSAFE or
 * IG_ERR_RANGE.
 */
int ig_file_trusted(const struct stat *st, size_t max, int must_be_private) IG_MUST_CHECK;

/*
 * Read a whole regular file at dirfd/name (O_NOFOLLOW, no symlink) into a
 * NUL-terminated malloc'd buffer of at most max bytes; the file must pass
 * ig_file_trusted.  ig_read_file_at_stat also returns in *st_out (not NULL)
 * the fstat of the descriptor the text was read through.
 */
int ig_read_file_at(int dirfd, const char *name, size_t max, int must_be_private, char **buf,
                    size_t *len) IG_MUST_CHECK;
int ig_read_file_at_stat(int dirfd, const char *name, size_t max, int must_be_private, char **buf,
                         size_t *len, struct stat *st_out) IG_MUST_CHECK;

/*
 * Read what remains of fd (at most max bytes) into a NUL-terminated malloc'd
 * buffer.  IG_ERR_RANGE when there is more than max (nothing returned).
 */
int ig_read_fd(int fd, size_t max, char **buf, size_t *len) IG_MUST_CHECK;

/*
 * Atomically replace dirfd/name with data: write to a temporary file in the
 * same directory (O_EXCL|O_NOFOLLOW, mode), fchown(uid,gid), fsync, rename,
 * fsync the directory.  Durable: once it returns 0 the new content survives
 * a crash.  ig_write_file_at_flags(..., 0).
 */
int ig_write_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                     uid_t uid, gid_t gid) IG_MUST_CHECK;

/*
 * Skip both fsyncs (file and directory).  The replace stays atomic (a
 * reader sees the old file or the whole new one, never a partial one) but
 * after a crash the file may be old, absent or empty.  Only for state whose
 * loss fails closed and costs nothing but a retry: the auth -> open_session
 * grant (single-use, minutes long, on tmpfs on systemd hosts; a lost grant
 * makes open_session issue nothing).  Never for TOTP state (a lost counter
 * re-opens a used code to replay and forgets lockouts), credentials, or
 * anything an audit or a security decision relies on after a reboot.
 */
#define IG_WRITE_NO_SYNC 1u

/*
 * Fsync the new file before the rename (so the name never points at an
 * empty or partial file, whatever survives a crash), but not the directory
 * after it: after a crash the name may still hold the old content.  For the
 * TOTP state after an auth attempt, whose loss the caller covers another
 * way (ig_totp_verify's boot floor refuses every code that could have been
 * used before this boot); the file always holds a whole secret.
 */
#define IG_WRITE_NO_DIR_SYNC 2u

/*
 * ig_write_file_at with flags (0, IG_WRITE_NO_SYNC or IG_WRITE_NO_DIR_SYNC;
 * any other bit or both: IG_ERR_INVAL, nothing written).
 */
int ig_write_file_at_flags(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                           uid_t uid, gid_t gid, unsigned flags) IG_MUST_CHECK;

/*
 * Open a directory the helper owns, creating it (root-owned, mode) when it
 * is absent and its parent passes ig_safe_path.  The directory must be
 * root-owned, no symlink, with no permission bits beyond mode.
 */
int ig_own_dir(const char *path, mode_t mode, int *dirfd, char *why, size_t whycap) IG_MUST_CHECK;

/*
 * When this host booted, in unix seconds, rounded up (never earlier than
 * the real boot): CLOCK_REALTIME minus CLOCK_BOOTTIME, so it follows the
 * wall clock as the TOTP check does.  -1 when a clock cannot be read.
 */
int64_t ig_boot_time(void);

/* CLOCK_MONOTONIC in milliseconds: for deadlines, never for dates. */
int64_t ig_mono_ms(void);

/*
 * Keep fd open until ig_close_deferred().  Closing the last descriptor of a
 * file a rename has replaced frees its blocks, which can be slow (ext4
 * mounted with discard and no journal waits for a discard): work that need
 * not delay a reply.  At most IG_DEFER_MAX descriptors wait; beyond that,
 * and for a negative fd, nothing is kept (fd is closed at once).
 */
#define IG_DEFER_MAX 8
void ig_defer_close(int fd);

/* Close every descriptor ig_defer_close kept. */
void ig_close_deferred(void);

/* Fill buf with n bytes from the kernel CSPRNG (getrandom). */
int ig_random_bytes(void *buf, size_t n) IG_MUST_CHECK;

/*
 * A name safe to use as one path component and in logs: 1..64 bytes of
 * [A-Za-z0-9_.@-], not starting with '.' or '-'.  Returns 1 if safe.
 */
int ig_name_is_safe(const char *name);

/*
 * 1 if s is min..max bytes, each an ASCII letter or digit or one of the
 * characters in extra; 0 otherwise (NULL included).  For values taken from
 * the network or a file before they are used: ids, names, tokens.
 */
int ig_chars_ok(const char *s, size_t min, size_t max, const char *extra);

/* Lowercase hex of n bytes into out (cap >= 2n+1). */
void ig_hex(const uint8_t *in, size_t n, char *out);

#endif
