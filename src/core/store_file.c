/*
 * store_file.c - the file backend of the store (store.h): one bastion.
 *
 * DIR/USER.json (root, 0600; DIR root, 0700) holds the record; DIR/.USER.lock
 * (root, 0600) is the user's lock, held from begin to end, so a code's check
 * and the record of its use are one step.  Files are reached only through
 * the trusted directory's descriptor with O_NOFOLLOW, and replaced whole
 * (temporary file, fsync, rename).  An attempt's commit skips the
 * directory's fsync: after a crash the old record may come back, which the
 * TOTP rules' boot floor covers (totp.h); a durable commit (enrolment,
 * unlock, a lockout's start) does not.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "iamgate/store.h"
#include "iamgate/totp.h"
#include "iamgate/util.h"

#define LOCK_WAIT_MS 5000

struct file_store {
	int dirfd;
	unsigned step_seconds; /* for format-1 files */
};

struct ig_store_txn {
	struct file_store *fs;
	int lockfd;
	char name[NAME_MAX + 1];
};

static int file_names(const char *user, char *state, size_t scap, char *lock, size_t lcap)
{
	if (!ig_name_is_safe(user))
		return IG_ERR_INVAL;
	if (ig_bfmt(state, scap, "%s.json", user) != 0 ||
	    ig_bfmt(lock, lcap, ".%s.lock", user) != 0)
		return IG_ERR_RANGE;
	return 0;
}

/* Take the user's lock: a root-owned private regular file, never a link. */
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
		if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= LOCK_WAIT_MS) {
			close(fd);
			return IG_ERR_LOCK;
		}
		nanosleep(&ts, NULL);
		waited += 10;
	}
	*fd_out = fd;
	return 0;
}

static int64_t get_i64(json_t *o, const char *k, int64_t dflt)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static int get_count(json_t *o, const char *k, int required, unsigned *out)
{
	json_t *v = json_object_get(o, k);

	if (v == NULL && !required) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
		return IG_ERR_PARSE;
	*out = (unsigned)json_integer_value(v);
	return 0;
}

/* used_until from format 2, or from format 1's step index. */
static int parse_used(json_t *root, unsigned step_seconds, int64_t *out)
{
	json_int_t ver = json_integer_value(json_object_get(root, "version"));
	int64_t last_step;

	if (ver == 2) {
		*out = get_i64(root, "used_until", 0);
		return *out >= 0 ? 0 : IG_ERR_PARSE;
	}
	if (ver != 1 || step_seconds == 0)
		return IG_ERR_PARSE;
	last_step = get_i64(root, "last_step", -1);
	if (last_step < -1 || last_step > INT64_MAX / step_seconds - 1)
		return IG_ERR_PARSE;
	*out = last_step < 0 ? 0 : (last_step + 1) * (int64_t)step_seconds;
	return 0;
}

int ig_store_file_parse(const char *text, size_t len, unsigned step_seconds,
                        struct ig_user_record *rec)
{
	json_t *root, *v;
	int r = IG_ERR_PARSE;

	memset(rec, 0, sizeof(*rec));
	if (len > IG_STORE_FILE_MAX)
		return IG_ERR_RANGE;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root))
		goto out;
	v = json_object_get(root, "secret");
	if (!json_is_string(v) ||
	    ig_totp_from_base32(json_string_value(v), rec->secret, sizeof(rec->secret),
	                        &rec->secret_len) != 0 ||
	    rec->secret_len < 10)
		goto out;
	if (parse_used(root, step_seconds, &rec->used_until) != 0 ||
	    get_count(root, "failures", 1, &rec->failures) != 0 ||
	    get_count(root, "lockouts", 0, &rec->lockouts) != 0)
		goto out;
	rec->enrolled = 1;
	rec->created = get_i64(root, "created", 0);
	rec->locked_until = get_i64(root, "locked_until", 0);
	rec->last_login = get_i64(root, "last_login", 0);
	v = json_object_get(root, "last_rhost");
	if (json_is_string(v) &&
	    ig_bfmt(rec->last_rhost, sizeof(rec->last_rhost), "%s", json_string_value(v)) != 0)
		rec->last_rhost[0] = '\0';
	r = 0;
out:
	if (r != 0)
		ig_store_record_wipe(rec);
	json_decref(root);
	return r;
}

static int load(struct file_store *fs, const char *name, struct ig_user_record *rec)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	memset(rec, 0, sizeof(*rec));
	r = ig_read_file_at(fs->dirfd, name, IG_STORE_FILE_MAX, 1, &text, &len);
	if (r == IG_ERR_NOTFOUND)
		return 0; /* not enrolled */
	if (r != 0)
		return r;
	r = ig_store_file_parse(text, len, fs->step_seconds, rec);
	ig_freezero(text, len + 1);
	return r;
}

static int file_begin(struct ig_store *s, const char *user, struct ig_store_txn **out,
                      struct ig_user_record *rec)
{
	struct file_store *fs = s->impl;
	struct ig_store_txn *t;
	char lname[NAME_MAX + 1];
	int r;

	*out = NULL;
	memset(rec, 0, sizeof(*rec));
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return IG_ERR_NOMEM;
	t->fs = fs;
	t->lockfd = -1;
	if ((r = file_names(user, t->name, sizeof(t->name), lname, sizeof(lname))) != 0 ||
	    (r = lock_user(fs->dirfd, lname, &t->lockfd)) != 0) {
		s->ops->end(s, t);
		return r;
	}
	r = load(fs, t->name, rec);
	if (r != 0 && r != IG_ERR_PARSE) {
		s->ops->end(s, t);
		return r;
	}
	*out = t;
	return r;
}

static char *record_text(const struct ig_user_record *rec)
{
	char *b32 = NULL, *text = NULL;
	json_t *root;

	if (ig_totp_base32(rec->secret, rec->secret_len, &b32) != 0)
		return NULL;
	root = json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "version", 2, "secret",
	                 b32, "created", (json_int_t)rec->created, "used_until",
	                 (json_int_t)rec->used_until, "failures", (json_int_t)rec->failures,
	                 "locked_until", (json_int_t)rec->locked_until, "lockouts",
	                 (json_int_t)rec->lockouts, "last_login", (json_int_t)rec->last_login,
	                 "last_rhost", rec->last_rhost);
	ig_free_secret_str(b32);
	if (root != NULL)
		text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(1));
	json_decref(root);
	return text;
}

static int file_commit(struct ig_store *s, struct ig_store_txn *t, const struct ig_user_record *rec,
                       unsigned flags)
{
	(void)s;
	char *text;
	int old, r;

	if (!rec->enrolled)
		return IG_ERR_INVAL;
	if ((text = record_text(rec)) == NULL)
		return IG_ERR_NOMEM;
	/* The replaced file is closed for the last time after the reply
	 * (ig_close_deferred), where freeing its blocks delays nobody. */
	old = openat(t->fs->dirfd, t->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	r = ig_write_file_at_flags(t->fs->dirfd, t->name, text, strlen(text), 0600, 0, 0,
	                           (flags & IG_STORE_DURABLE) ? 0 : IG_WRITE_NO_DIR_SYNC);
	ig_defer_close(old);
	ig_free_secret_str(text);
	return r;
}

static void file_end(struct ig_store *s, struct ig_store_txn *t)
{
	(void)s;
	if (t == NULL)
		return;
	if (t->lockfd >= 0) {
		(void)flock(t->lockfd, LOCK_UN);
		close(t->lockfd);
	}
	free(t);
}

static int file_list(struct ig_store *s, int (*fn)(const char *user, void *arg), void *arg)
{
	struct file_store *fs = s->impl;
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	if ((fd = dup(fs->dirfd)) < 0)
		return IG_ERR_IO;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return IG_ERR_IO;
	}
	rewinddir(d);
	while (r == 0 && (de = readdir(d)) != NULL) {
		char user[NAME_MAX + 1];
		size_t n = strlen(de->d_name);

		if (n <= 5 || strcmp(de->d_name + n - 5, ".json") != 0 || n - 5 >= sizeof(user))
			continue;
		memcpy(user, de->d_name, n - 5);
		user[n - 5] = '\0';
		if (ig_name_is_safe(user))
			r = fn(user, arg);
	}
	closedir(d);
	return r;
}

static void file_close(struct ig_store *s)
{
	struct file_store *fs = s->impl;

	if (fs != NULL && fs->dirfd >= 0)
		close(fs->dirfd);
	free(fs);
	free(s);
}

const struct ig_store_ops ig_store_file_ops = {
        .name = "file",
        .begin = file_begin,
        .commit = file_commit,
        .end = file_end,
        .list = file_list,
        .close = file_close,
        .attempts_durable = 0,
};

int ig_store_file_open(const char *dir, unsigned step_seconds, struct ig_store **out, char *why,
                       size_t whycap)
{
	struct file_store *fs = NULL;
	struct ig_store *s = NULL;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL || (fs = calloc(1, sizeof(*fs))) == NULL) {
		free(s);
		ig_why(why, whycap, "out of memory");
		return IG_ERR_NOMEM;
	}
	fs->step_seconds = step_seconds;
	if ((r = ig_own_dir(dir, 0700, &fs->dirfd, why, whycap)) != 0) {
		free(fs);
		free(s);
		return r;
	}
	s->ops = &ig_store_file_ops;
	s->impl = fs;
	*out = s;
	return 0;
}
