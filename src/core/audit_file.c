/*
 * audit_file.c - the audit log's files for the writers: path, bounded lock,
 * head file, tail, predecessor.  Design: include/iamgate/audit.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iamgate/audit_file.h"
#include "iamgate/util.h"

#define HEAD_MAGIC "iamgate-audit-head v1 "
#define HEAD_LEN (sizeof(HEAD_MAGIC) - 1 + 20 + 1 + IG_AUDIT_HEX_LEN + 1)
#define AUDIT_GROUP "iamgate-audit"

/* ---- files ------------------------------------------------------------ */

int ig_audit_file_split(const char *path, char *dir, size_t dcap, char *base, size_t bcap)
{
	const char *slash;

	if (path == NULL || path[0] != '/')
		return IG_ERR_INVAL;
	slash = strrchr(path, '/');
	if (!ig_name_is_safe(slash + 1) || strlen(slash + 1) > 64 - 5)
		return IG_ERR_INVAL;
	if (slash == path) {
		if (ig_bfmt(dir, dcap, "/") != 0)
			return IG_ERR_RANGE;
	} else if ((size_t)(slash - path) >= dcap) {
		return IG_ERR_RANGE;
	} else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	return ig_bfmt(base, bcap, "%s", slash + 1);
}

int ig_audit_file_lock(int fd, int op, int timeout_ms)
{
	struct timespec t0, now, nap;
	long wait_us = 100;
	unsigned jitter = (unsigned)getpid() * 2654435761u;

	if (clock_gettime(CLOCK_MONOTONIC, &t0) != 0)
		return IG_ERR_LOCK;
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return IG_ERR_LOCK;
		if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
			return IG_ERR_LOCK;
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >=
		    timeout_ms)
			return IG_ERR_LOCK;
		/* Short randomized naps (0.1..1 ms): many waiters poll without
		 * convoying.  Polling is not FIFO; the bound keeps a starved
		 * writer from hanging a login. */
		jitter = jitter * 1103515245u + 12345u;
		nap.tv_sec = 0;
		nap.tv_nsec = (wait_us + (long)(jitter % (unsigned)wait_us)) * 1000;
		(void)nanosleep(&nap, NULL);
		if (wait_us < 500)
			wait_us *= 2;
	}
}

int ig_audit_file_pread(int fd, void *buf, size_t n, uint64_t off, size_t *got)
{
	size_t done = 0;
	ssize_t k;

	while (done < n) {
		k = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return IG_ERR_IO;
		if (k == 0)
			break;
		done += (size_t)k;
	}
	*got = done;
	return 0;
}

int ig_audit_file_head_parse(const char *buf, size_t n, struct ig_audit_head *h)
{
	const char *p = buf + sizeof(HEAD_MAGIC) - 1;
	uint64_t seq = 0;

	memset(h, 0, sizeof(*h));
	if (n != HEAD_LEN || memcmp(buf, HEAD_MAGIC, sizeof(HEAD_MAGIC) - 1) != 0 ||
	    buf[HEAD_LEN - 1] != '\n' || p[20] != ' ')
		return IG_ERR_PARSE;
	for (int i = 0; i < 20; i++) {
		if (p[i] < '0' || p[i] > '9' || seq > (UINT64_MAX - 9) / 10)
			return IG_ERR_PARSE;
		seq = seq * 10 + (uint64_t)(p[i] - '0');
	}
	if (ig_audit_line_unhex(p + 21, IG_AUDIT_HASH_LEN, h->hash) != 0)
		return IG_ERR_PARSE;
	h->seq = seq;
	h->have = 1;
	return 0;
}

void ig_audit_file_head_read(int fd, struct ig_audit_head *h)
{
	char buf[HEAD_LEN + 8];
	size_t got = 0;

	memset(h, 0, sizeof(*h));
	if (ig_audit_file_pread(fd, buf, sizeof(buf), 0, &got) != 0 ||
	    ig_audit_file_head_parse(buf, got, h) != 0)
		memset(h, 0, sizeof(*h));
}

void ig_audit_file_head_write(int fd, uint64_t seq, const uint8_t hash[IG_AUDIT_HASH_LEN])
{
	char buf[HEAD_LEN + 1], hex[IG_AUDIT_HEX_LEN + 1];
	ssize_t k;

	ig_hex(hash, IG_AUDIT_HASH_LEN, hex);
	if (ig_bfmt(buf, sizeof(buf), "%s%020llu %s\n", HEAD_MAGIC, (unsigned long long)seq, hex) !=
	    0)
		return;
	do {
		k = pwrite(fd, buf, HEAD_LEN, 0);
	} while (k < 0 && errno == EINTR);
	if (k == (ssize_t)HEAD_LEN)
		(void)!ftruncate(fd, (off_t)HEAD_LEN);
}

/* The last valid record's seq, hash and seal. */
static int note_valid(const char *p, size_t n, const struct ig_audit_record *rec,
                      struct ig_audit_tail *t)
{
	t->have_valid = 1;
	t->vseq = rec->seq;
	t->vsealed = rec->sealed;
	t->vepoch = rec->seal_epoch;
	t->vseal_closed = rec->sealed && strcmp(rec->event, "audit_seal") == 0;
	if (t->vseal_closed) {
		json_t *v = json_object_get(rec->obj, "next_epoch");
		t->vnext_epoch = json_is_integer(v) && json_integer_value(v) > 0
		                         ? (uint64_t)json_integer_value(v)
		                         : 0;
	}
	return ig_audit_line_hash(p, n, t->vhash);
}

/* Look back from start for the last valid record, within the window. */
static int find_valid_before(const char *buf, size_t start, int whole, struct ig_audit_tail *t)
{
	struct ig_audit_record rec;
	int r;

	for (int tries = 0; tries < IG_AUDIT_MAX_FRAG_RUN && start > 0; tries++) {
		size_t e = start - 1, s = e;
		while (s > 0 && buf[s - 1] != '\n')
			s--;
		if (s == 0 && !whole)
			break;
		if (ig_audit_line_parse(buf + s, e - s, &rec, NULL, 0) == 0) {
			r = note_valid(buf + s, e - s, &rec, t);
			ig_audit_line_clear(&rec);
			return r;
		}
		start = s;
	}
	return 0;
}

int ig_audit_file_tail_parse(const char *buf, size_t len, int whole, struct ig_audit_tail *t)
{
	struct ig_audit_record rec;
	size_t end = len, start;
	int r;

	memset(t, 0, sizeof(*t));
	if (len == 0)
		return whole ? 0 : IG_ERR_PARSE;
	if (buf[end - 1] == '\n')
		end--;
	else
		t->unterminated = 1;
	start = end;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (start == 0 && !whole)
		return IG_ERR_PARSE;
	t->last_len = end - start;
	if ((r = ig_audit_line_hash(buf + start, end - start, t->last_hash)) != 0)
		return r;
	if (ig_audit_line_parse(buf + start, end - start, &rec, NULL, 0) == 0) {
		r = note_valid(buf + start, end - start, &rec, t);
		t->frag = t->unterminated;
		ig_audit_line_clear(&rec);
		return r;
	}
	t->frag = 1;
	if ((r = find_valid_before(buf, start, whole, t)) != 0)
		return r;
	return !t->have_valid && !whole ? IG_ERR_PARSE : 0;
}

int ig_audit_file_tail(int fd, uint64_t size, struct ig_audit_tail *t)
{
	size_t win = size < IG_AUDIT_TAIL_WIN ? (size_t)size : IG_AUDIT_TAIL_WIN, got = 0;
	char *buf;
	int r;

	memset(t, 0, sizeof(*t));
	if ((buf = malloc(win ? win : 1)) == NULL)
		return IG_ERR_NOMEM;
	if ((r = ig_audit_file_pread(fd, buf, win, size - win, &got)) == 0)
		r = got != win ? IG_ERR_IO : ig_audit_file_tail_parse(buf, win, win == size, t);
	free(buf);
	return r;
}

int ig_audit_file_open(int dfd, const char *name, int flags, int private_only, int *fd)
{
	struct stat st;

	*fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (*fd < 0)
		return errno == ENOENT ? IG_ERR_NOTFOUND
		                       : (errno == ELOOP ? IG_ERR_UNSAFE : IG_ERR_IO);
	if (fstat(*fd, &st) != 0 || ig_file_trusted(&st, SIZE_MAX, private_only) != 0) {
		close(*fd);
		*fd = -1;
		return IG_ERR_UNSAFE;
	}
	return 0;
}

static gid_t audit_gid(void)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrnam_r(AUDIT_GROUP, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
		return 0;
	return res->gr_gid;
}

int ig_audit_file_open_log(int dfd, const char *base, int *fd, int *created)
{
	int r;

	*created = 0;
	r = ig_audit_file_open(dfd, base, O_RDWR | O_APPEND, 0, fd);
	if (r != IG_ERR_NOTFOUND)
		return r;
	*fd = openat(dfd, base,
	             O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
	             0640);
	if (*fd < 0)
		return errno == EEXIST ? ig_audit_file_open(dfd, base, O_RDWR | O_APPEND, 0, fd)
		                       : IG_ERR_IO;
	*created = 1;
	if (fchown(*fd, 0, audit_gid()) != 0 || fchmod(*fd, 0640) != 0) {
		close(*fd);
		*fd = -1;
		(void)unlinkat(dfd, base, 0);
		return IG_ERR_IO;
	}
	return 0;
}

void ig_audit_file_pred(int dfd, const char *base, const struct ig_audit_head *h,
                        struct ig_audit_pred *p)
{
	char name[NAME_MAX + 1];
	struct stat st;
	struct ig_audit_tail t;
	int fd = -1, have = 0;

	memset(p, 0, sizeof(*p));
	p->reason = "new_chain";
	if (ig_bfmt(name, sizeof(name), "%s.1", base) == 0 &&
	    ig_audit_file_open(dfd, name, O_RDONLY, 0, &fd) == 0) {
		if (fstat(fd, &st) == 0 && st.st_size > 0 &&
		    ig_audit_file_tail(fd, (uint64_t)st.st_size, &t) == 0 && t.have_valid) {
			have = 1;
			p->seq = t.vseq;
			memcpy(p->hash, t.last_hash, IG_AUDIT_HASH_LEN);
			p->reason = "rotated";
		}
		close(fd);
	}
	if (h->have && (!have || h->seq > p->seq)) {
		p->seq = h->seq;
		memcpy(p->hash, h->hash, IG_AUDIT_HASH_LEN);
		p->reason = "continued";
	}
}
