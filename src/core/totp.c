/*
 * totp.c - TOTP verification with liboath and the per-user state file.
 *
 * Codes are generated with liboath for every step in the window and
 * compared in constant time (liboath's own validate functions compare with
 * strcmp), all steps always computed, so timing reveals nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <liboath/oath.h>

#include "iamgate/totp.h"
#include "iamgate/util.h"

#define LOCK_WAIT_MS 5000

const char *ig_totp_result_name(enum ig_totp_result r)
{
	switch (r) {
	case IG_TOTP_OK: return "ok";
	case IG_TOTP_BAD_CODE: return "bad_code";
	case IG_TOTP_REPLAY: return "replayed_code";
	case IG_TOTP_LOCKED: return "locked_out";
	case IG_TOTP_NOT_ENROLLED: return "not_enrolled";
	case IG_TOTP_PREDATES_BOOT: return "code_predates_boot";
	default: return "unknown";
	}
}

static int oath_ready(void)
{
	static int done;

	if (!done) {
		if (oath_init() != OATH_OK)
			return IG_ERR_CRYPTO;
		done = 1;
	}
	return 0;
}

static int file_names(const char *user, char *state, size_t scap, char *lock, size_t lcap)
{
	if (!ig_name_is_safe(user))
		return IG_ERR_INVAL;
	if (ig_bfmt(state, scap, "%s.json", user) != 0 ||
	    ig_bfmt(lock, lcap, ".%s.lock", user) != 0)
		return IG_ERR_RANGE;
	return 0;
}

/* Take the user's lock: a root-owned regular file, never a link. */
static int lock_user(int dirfd, const char *lockname, int *fd_out)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	struct stat st;
	int fd, waited = 0;

	*fd_out = -1;
	fd = openat(dirfd, lockname, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return errno == ELOOP ? IG_ERR_UNSAFE : IG_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		close(fd);
		return IG_ERR_UNSAFE;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return IG_ERR_LOCK;
		}
		if (waited >= LOCK_WAIT_MS) {
			close(fd);
			return IG_ERR_LOCK;
		}
		nanosleep(&ts, NULL);
		waited += 10;
	}
	*fd_out = fd;
	return 0;
}

static void unlock_user(int fd)
{
	if (fd >= 0) {
		(void)flock(fd, LOCK_UN);
		close(fd);
	}
}

struct full_state {
	struct ig_totp_state st;
	uint8_t secret[IG_TOTP_SECRET_MAX];
	size_t secret_len;
};

static int64_t get_i64(json_t *o, const char *k, int64_t dflt)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

int ig_totp_parse_state(const char *text, size_t len, struct ig_totp_state *st, uint8_t *secret,
                        size_t cap, size_t *secret_len)
{
	json_t *root, *v;
	int r = IG_ERR_PARSE;

	memset(st, 0, sizeof(*st));
	st->last_step = -1;
	*secret_len = 0;
	if (len > IG_TOTP_STATE_MAX)
		return IG_ERR_RANGE;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root))
		goto out;
	v = json_object_get(root, "secret");
	if (!json_is_string(v) ||
	    ig_totp_from_base32(json_string_value(v), secret, cap, secret_len) != 0 ||
	    *secret_len < 10)
		goto out;
	st->enrolled = 1;
	st->created = get_i64(root, "created", 0);
	st->last_step = get_i64(root, "last_step", -1);
	v = json_object_get(root, "failures");
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
		goto out;
	st->failures = (unsigned)json_integer_value(v);
	st->locked_until = get_i64(root, "locked_until", 0);
	st->last_login = get_i64(root, "last_login", 0);
	v = json_object_get(root, "last_rhost");
	if (json_is_string(v) &&
	    ig_bfmt(st->last_rhost, sizeof(st->last_rhost), "%s", json_string_value(v)) != 0)
		st->last_rhost[0] = '\0';
	r = 0;
out:
	if (r != 0) {
		explicit_bzero(secret, cap);
		*secret_len = 0;
		st->enrolled = 0;
	}
	json_decref(root);
	return r;
}

/* Load STATE; IG_ERR_NOTFOUND when absent, IG_ERR_PARSE when malformed. */
static int load_state(int dirfd, const char *name, struct full_state *fs)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	memset(fs, 0, sizeof(*fs));
	fs->st.last_step = -1;
	if ((r = ig_read_file_at(dirfd, name, IG_TOTP_STATE_MAX, 1, &text, &len)) != 0)
		return r;
	r = ig_totp_parse_state(text, len, &fs->st, fs->secret, sizeof(fs->secret),
	                        &fs->secret_len);
	ig_freezero(text, len + 1);
	return r;
}

static int save_state(int dirfd, const char *name, const struct full_state *fs, unsigned flags)
{
	char *b32 = NULL, *text = NULL;
	json_t *root = NULL;
	int r;

	if ((r = ig_totp_base32(fs->secret, fs->secret_len, &b32)) != 0)
		return r;
	root = json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "version", 1, "secret", b32,
	                 "created", (json_int_t)fs->st.created, "last_step",
	                 (json_int_t)fs->st.last_step, "failures", (json_int_t)fs->st.failures,
	                 "locked_until", (json_int_t)fs->st.locked_until, "last_login",
	                 (json_int_t)fs->st.last_login, "last_rhost", fs->st.last_rhost);
	ig_free_secret_str(b32);
	if (root == NULL)
		return IG_ERR_NOMEM;
	text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(1));
	json_decref(root);
	if (text == NULL)
		return IG_ERR_NOMEM;
	r = ig_write_file_at_flags(dirfd, name, text, strlen(text), 0600, 0, 0, flags);
	ig_free_secret_str(text);
	return r;
}

static int code_well_formed(const char *code, unsigned digits)
{
	size_t n;

	if (code == NULL)
		return 0;
	n = strnlen(code, 16);
	if (n != digits)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	return 1;
}

int ig_totp_code_at(const uint8_t *secret, size_t len, time_t t, const struct ig_totp_params *p,
                    char out[9])
{
	int r;

	if ((r = oath_ready()) != 0)
		return r;
	if (p->digits < 6 || p->digits > 8 || p->step_seconds == 0 || t < 0)
		return IG_ERR_INVAL;
	if (oath_totp_generate2((const char *)secret, len, t, p->step_seconds, 0, p->digits, 0,
	                        out) != OATH_OK)
		return IG_ERR_CRYPTO;
	return 0;
}

int ig_totp_verify(int dirfd, const char *user, const char *code, time_t now, const char *rhost,
                   const struct ig_totp_params *p, struct ig_totp_outcome *out)
{
	char sname[NAME_MAX + 1], lname[NAME_MAX + 1], cand[9];
	struct full_state fs;
	int64_t counter, matched = -1;
	int lfd = -1, r, dirty = 0;

	memset(out, 0, sizeof(*out));
	out->step = -1;
	if (p->digits < 6 || p->digits > 8 || p->step_seconds == 0 || now < 0)
		return IG_ERR_INVAL;
	if ((r = file_names(user, sname, sizeof(sname), lname, sizeof(lname))) != 0)
		return r;
	if ((r = lock_user(dirfd, lname, &lfd)) != 0)
		return r;
	r = load_state(dirfd, sname, &fs);
	if (r == IG_ERR_NOTFOUND) {
		out->result = IG_TOTP_NOT_ENROLLED;
		r = 0;
		goto out;
	}
	if (r != 0)
		goto out;
	if (fs.st.locked_until > now) {
		out->result = IG_TOTP_LOCKED;
		goto done;
	}
	if (fs.st.locked_until != 0) {
		/* The lockout has run out: start counting afresh. */
		fs.st.locked_until = 0;
		fs.st.failures = 0;
		dirty = 1;
	}
	counter = (int64_t)now / p->step_seconds;
	for (int64_t off = -(int64_t)p->window; off <= (int64_t)p->window; off++) {
		int64_t s = counter + off;
		int eq;

		if (s < 0)
			continue;
		if ((r = ig_totp_code_at(fs.secret, fs.secret_len, (time_t)(s * p->step_seconds), p,
		                         cand)) != 0)
			goto out;
		eq = code_well_formed(code, p->digits) && ig_ct_equal(cand, code, p->digits);
		explicit_bzero(cand, sizeof(cand));
		if (eq && s > matched)
			matched = s;
	}
	dirty = 1;
	if (matched < 0) {
		out->result = IG_TOTP_BAD_CODE;
		fs.st.failures++;
	} else if (matched <= fs.st.last_step) {
		out->result = IG_TOTP_REPLAY;
		fs.st.failures++;
	} else if (p->boot_time > 0 &&
	           matched <= p->boot_time / p->step_seconds + (int64_t)p->window) {
		/* The right code, but it may have been accepted before a crash
		 * whose state update did not reach the disk.  Not a guess: not
		 * counted, and the step is not recorded (the floor keeps it shut). */
		out->result = IG_TOTP_PREDATES_BOOT;
	} else {
		out->result = IG_TOTP_OK;
		out->step = matched;
		fs.st.failures = 0;
		fs.st.last_step = matched;
		fs.st.last_login = now;
		if (ig_bfmt(fs.st.last_rhost, sizeof(fs.st.last_rhost), "%s", rhost ? rhost : "") !=
		    0)
			fs.st.last_rhost[0] = '\0';
	}
	if (out->result != IG_TOTP_OK && out->result != IG_TOTP_PREDATES_BOOT &&
	    fs.st.failures >= p->max_failures) {
		fs.st.locked_until = (int64_t)now + p->lockout_seconds;
		out->lockout_started = 1;
	}
done:
	out->failures = fs.st.failures;
	out->locked_until = fs.st.locked_until;
	/* The attempt's state needs no directory fsync (the boot floor covers
	 * a rename lost in a crash), except a lockout's start: a crash must not
	 * hand the guesser a fresh count. */
	if (dirty) {
		/* The replaced file is closed for the last time after the reply
		 * (ig_close_deferred), where freeing its blocks delays nobody. */
		int old = openat(dirfd, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

		r = save_state(dirfd, sname, &fs, out->lockout_started ? 0 : IG_WRITE_NO_DIR_SYNC);
		ig_defer_close(old);
		if (r != 0)
			goto out;
	}
	r = 0;
out:
	explicit_bzero(&fs, sizeof(fs));
	unlock_user(lfd);
	return r;
}

int ig_totp_enroll(int dirfd, const char *user, const uint8_t *secret, size_t len, time_t now,
                   int force)
{
	char sname[NAME_MAX + 1], lname[NAME_MAX + 1];
	struct full_state fs;
	int lfd = -1, r;

	if (len < 10 || len > IG_TOTP_SECRET_MAX)
		return IG_ERR_RANGE;
	if ((r = file_names(user, sname, sizeof(sname), lname, sizeof(lname))) != 0)
		return r;
	if ((r = lock_user(dirfd, lname, &lfd)) != 0)
		return r;
	r = load_state(dirfd, sname, &fs);
	if (r == 0 && !force) {
		r = IG_ERR_EXISTS;
		goto out;
	}
	if (r != 0 && r != IG_ERR_NOTFOUND && !(force && r == IG_ERR_PARSE))
		goto out;
	memset(&fs, 0, sizeof(fs));
	memcpy(fs.secret, secret, len);
	fs.secret_len = len;
	fs.st.enrolled = 1;
	fs.st.created = now;
	fs.st.last_step = -1;
	r = save_state(dirfd, sname, &fs, 0);
out:
	explicit_bzero(&fs, sizeof(fs));
	unlock_user(lfd);
	return r;
}

int ig_totp_unlock(int dirfd, const char *user)
{
	char sname[NAME_MAX + 1], lname[NAME_MAX + 1];
	struct full_state fs;
	int lfd = -1, r;

	if ((r = file_names(user, sname, sizeof(sname), lname, sizeof(lname))) != 0)
		return r;
	if ((r = lock_user(dirfd, lname, &lfd)) != 0)
		return r;
	if ((r = load_state(dirfd, sname, &fs)) != 0)
		goto out;
	fs.st.failures = 0;
	fs.st.locked_until = 0;
	r = save_state(dirfd, sname, &fs, 0);
out:
	explicit_bzero(&fs, sizeof(fs));
	unlock_user(lfd);
	return r;
}

int ig_totp_status(int dirfd, const char *user, struct ig_totp_state *st)
{
	char sname[NAME_MAX + 1], lname[NAME_MAX + 1];
	struct full_state fs;
	int r;

	memset(st, 0, sizeof(*st));
	st->last_step = -1;
	if ((r = file_names(user, sname, sizeof(sname), lname, sizeof(lname))) != 0)
		return r;
	r = load_state(dirfd, sname, &fs);
	if (r == 0)
		*st = fs.st;
	explicit_bzero(&fs, sizeof(fs));
	return r == IG_ERR_NOTFOUND ? 0 : r;
}

int ig_totp_new_secret(uint8_t *secret, size_t len)
{
	return ig_random_bytes(secret, len);
}

int ig_totp_base32(const uint8_t *secret, size_t len, char **out)
{
	char *b = NULL;
	size_t blen = 0;
	int r;

	*out = NULL;
	if ((r = oath_ready()) != 0)
		return r;
	if (oath_base32_encode((const char *)secret, len, &b, &blen) != OATH_OK)
		return IG_ERR_CRYPTO;
	/* Drop '=' padding: authenticator apps expect the bare alphabet. */
	while (blen > 0 && b[blen - 1] == '=')
		b[--blen] = '\0';
	*out = b;
	return 0;
}

int ig_totp_from_base32(const char *text, uint8_t *secret, size_t cap, size_t *len)
{
	char *b = NULL;
	size_t blen = 0, tlen;
	int r;

	*len = 0;
	if ((r = oath_ready()) != 0)
		return r;
	tlen = strnlen(text, 1024);
	if (tlen == 0 || tlen >= 1024)
		return IG_ERR_PARSE;
	if (oath_base32_decode(text, tlen, &b, &blen) != OATH_OK)
		return IG_ERR_PARSE;
	if (blen > cap) {
		ig_freezero(b, blen);
		return IG_ERR_RANGE;
	}
	memcpy(secret, b, blen);
	*len = blen;
	ig_freezero(b, blen);
	return 0;
}
