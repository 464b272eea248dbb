/*
 * audit_verify.c - walk the audit log's chain over one or more files (or a
 * buffer) and name the first bad line and what is wrong with it; with a
 * verification key, check the seals along the same walk.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iamgate/audit_file.h"
#include "iamgate/audit_verify.h"
#include "iamgate/util.h"

enum { K_OTHER, K_START, K_TORN, K_MISMATCH };

struct item {
	int valid, terminated, too_long, kind;
	uint64_t seq, line;
	size_t file;
	uint8_t prev[IG_AUDIT_HASH_LEN], hash[IG_AUDIT_HASH_LEN];
	uint64_t found_seq, expected_seq; /* audit_head_mismatch */
	char why[128];
};

struct src {
	const char *mem; /* memory source, or NULL for fd */
	size_t memlen;
	int fd;
	uint64_t limit, off; /* bytes to read from fd; read so far */
	char *buf;
	size_t cap, pos, len;
	uint64_t line;
};

/* The next line of an in-memory source. */
static int mem_next(struct src *s, const char **p, size_t *n, int *term, int *too_long)
{
	const char *nl;

	if (s->off >= s->memlen)
		return 0;
	nl = memchr(s->mem + s->off, '\n', s->memlen - s->off);
	*p = s->mem + s->off;
	*n = nl ? (size_t)(nl - *p) : s->memlen - s->off;
	*term = nl != NULL;
	s->off += *n + (nl != NULL);
	s->line++;
	*too_long = *n > IG_AUDIT_MAX_LINE;
	return 1;
}

/* Drop the rest of an over-long line, up to and including its newline. */
static int skip_rest(struct src *s, const char **p)
{
	ssize_t k;
	size_t room;
	char *nl;

	for (;;) {
		s->pos = s->len = 0;
		room = s->cap;
		if (s->limit - s->off < room)
			room = (size_t)(s->limit - s->off);
		if (room == 0)
			return 1;
		do {
			k = pread(s->fd, s->buf, room, (off_t)s->off);
		} while (k < 0 && errno == EINTR);
		if (k < 0)
			return IG_ERR_IO;
		if (k == 0)
			return 1;
		s->off += (uint64_t)k;
		s->len = (size_t)k;
		if ((nl = memchr(s->buf, '\n', s->len)) != NULL) {
			s->pos = (size_t)(nl - s->buf) + 1;
			/* *p pointed into buf, now reused: keep n only */
			*p = "";
			return 1;
		}
	}
}

/*
 * Next line of a source: 1 and *p, *n (without newline), 0 at the end.  A
 * line longer than IG_AUDIT_MAX_LINE is returned cut, with *too_long set,
 * and the rest of it skipped.
 */
static int src_next(struct src *s, const char **p, size_t *n, int *term, int *too_long)
{
	*too_long = 0;
	*term = 1;
	if (s->mem)
		return mem_next(s, p, n, term, too_long);
	for (;;) {
		char *nl = memchr(s->buf + s->pos, '\n', s->len - s->pos);
		size_t room;
		ssize_t k;

		if (nl) {
			*p = s->buf + s->pos;
			*n = (size_t)(nl - *p);
			s->pos += *n + 1;
			s->line++;
			*too_long = *n > IG_AUDIT_MAX_LINE;
			return 1;
		}
		if (s->len - s->pos > IG_AUDIT_MAX_LINE) {
			/* Over-long: report it, then drop bytes up to its newline. */
			*p = s->buf + s->pos;
			*n = s->len - s->pos;
			*too_long = 1;
			s->line++;
			return skip_rest(s, p);
		}
		if (s->pos > 0) {
			memmove(s->buf, s->buf + s->pos, s->len - s->pos);
			s->len -= s->pos;
			s->pos = 0;
		}
		room = s->cap - s->len;
		if (s->limit - s->off < room)
			room = (size_t)(s->limit - s->off);
		k = 0;
		if (room > 0) {
			do {
				k = pread(s->fd, s->buf + s->len, room, (off_t)s->off);
			} while (k < 0 && errno == EINTR);
			if (k < 0)
				return IG_ERR_IO;
		}
		if (k == 0) {
			if (s->len == 0)
				return 0;
			*p = s->buf;
			*n = s->len;
			*term = 0;
			s->pos = s->len;
			s->line++;
			return 1;
		}
		s->off += (uint64_t)k;
		s->len += (size_t)k;
	}
}

struct ver {
	struct src *srcs;
	size_t nsrc, cur;
	struct item pk;
	int has_pk;
	struct ig_audit_verify_result *res;
	int broken;
	struct item a, a0; /* the last good record and the one before it */
	int have_a, have_a0;
	struct ig_audit_seal_check *seal; /* NULL: no seal check */
};

static void item_kind(const struct ig_audit_record *rec, struct item *it)
{
	if (strcmp(rec->event, "log_start") == 0) {
		it->kind = K_START;
	} else if (strcmp(rec->event, "audit_torn_tail") == 0) {
		it->kind = K_TORN;
	} else if (strcmp(rec->event, "audit_head_mismatch") == 0) {
		json_t *fs = json_object_get(rec->obj, "found_seq");
		json_t *es = json_object_get(rec->obj, "expected_seq");
		it->kind = K_MISMATCH;
		it->found_seq = json_is_integer(fs) ? (uint64_t)json_integer_value(fs) : 0;
		it->expected_seq = json_is_integer(es) ? (uint64_t)json_integer_value(es) : 0;
	}
}

/* Each line passes here once, in file order: the seal check sees it too. */
static int make_item(struct ver *v, const char *p, size_t n, int term, int too_long, uint64_t line,
                     struct item *it)
{
	struct ig_audit_record rec;
	size_t file = v->cur;
	int r;

	memset(it, 0, sizeof(*it));
	it->terminated = term;
	it->too_long = too_long;
	it->file = file;
	it->line = line;
	if (too_long)
		return 0;
	if ((r = ig_audit_line_hash(p, n, it->hash)) != 0)
		return r;
	if (ig_audit_line_parse(p, n, &rec, it->why, sizeof(it->why)) != 0) {
		if (v->seal)
			ig_audit_seal_check_line(v->seal, p, NULL, line, file);
		return 0;
	}
	it->valid = 1;
	it->seq = rec.seq;
	v->res->last_time_ms = rec.time_ms;
	if (ig_audit_line_unhex(rec.prev, IG_AUDIT_HASH_LEN, it->prev) != 0)
		memset(it->prev, 0, sizeof(it->prev)); /* parse checked the digits */
	item_kind(&rec, it);
	if (v->seal)
		ig_audit_seal_check_line(v->seal, p, &rec, line, file);
	ig_audit_line_clear(&rec);
	return 0;
}

/* 1 and *it, 0 at the end of the last source, or an error. */
static int v_take(struct ver *v, struct item *it)
{
	const char *p;
	size_t n;
	int term, too_long, r;

	if (v->has_pk) {
		*it = v->pk;
		v->has_pk = 0;
		return 1;
	}
	while (v->cur < v->nsrc) {
		struct src *s = &v->srcs[v->cur];
		r = src_next(s, &p, &n, &term, &too_long);
		if (r < 0)
			return r;
		if (r == 0) {
			v->cur++;
			continue;
		}
		v->res->lines++;
		if ((r = make_item(v, p, n, term, too_long, s->line, it)) != 0)
			return r;
		return 1;
	}
	return 0;
}

static int v_peek(struct ver *v, struct item **it)
{
	int r;

	*it = NULL;
	if (!v->has_pk) {
		r = v_take(v, &v->pk);
		if (r <= 0)
			return r;
		v->has_pk = 1;
	}
	*it = &v->pk;
	return 1;
}

/* Append s to dst (capacity cap), cutting it if needed. */
static void str_cat(char *dst, size_t cap, const char *s)
{
	size_t l = strnlen(dst, cap), n = strlen(s);

	if (l + 1 >= cap)
		return;
	if (n > cap - l - 1)
		n = cap - l - 1;
	memcpy(dst + l, s, n);
	dst[l + n] = '\0';
}

static void v_report(struct ver *v, int is_break, uint64_t line, size_t file, const char *kind,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * Record a finding.  The first one becomes bad_line/what; a chain break
 * after an earlier torn fragment is appended to what, so neither hides the
 * other.
 */
static void v_report(struct ver *v, int is_break, uint64_t line, size_t file, const char *kind,
                     const char *fmt, ...)
{
	struct ig_audit_verify_result *res = v->res;
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	if (is_break && res->broken_line == 0) {
		res->broken_line = line;
		res->broken_file = file;
		v->broken = 1;
	}
	if (!is_break)
		res->torn++;
	if (res->bad_line == 0) {
		res->bad_line = line;
		res->bad_file = file;
		res->what[0] = res->kind[0] = '\0';
		str_cat(res->kind, sizeof(res->kind), kind);
		str_cat(res->what, sizeof(res->what), kind);
		str_cat(res->what, sizeof(res->what), ": ");
		str_cat(res->what, sizeof(res->what), msg);
	} else if (is_break) {
		char at[48];
		(void)snprintf(at, sizeof(at), "; then line %llu: ", (unsigned long long)line);
		str_cat(res->what, sizeof(res->what), at);
		str_cat(res->what, sizeof(res->what), kind);
		str_cat(res->what, sizeof(res->what), ": ");
		str_cat(res->what, sizeof(res->what), msg);
	}
}

static int eqh(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, IG_AUDIT_HASH_LEN) == 0;
}

#define ULL(x) ((unsigned long long)(x))

/* A record that made it whole but without its newline: the last thing a
 * writer wrote before it stopped.  Torn, not a break. */
static void v_check_newline(struct ver *v, const struct item *it)
{
	if (!it->terminated)
		v_report(v, 0, it->line, it->file, "torn",
		         "line %llu ends without a newline: its writer stopped before finishing "
		         "(or the file was cut there), so the decision it records may not have "
		         "been returned; the next append records it",
		         ULL(it->line));
}

/* Outcome of one step of the walk. */
enum { W_STOP = 0, W_GO = 1 };

static void accept(struct ver *v, const struct item *y)
{
	v->a0 = v->a;
	v->have_a0 = v->have_a;
	v->a = *y;
	v->have_a = 1;
	v_check_newline(v, &v->a);
}

/* A run of lines that are not records: recorded torn fragments, or a break. */
static int walk_fragment(struct ver *v, const struct item *y)
{
	struct item last = *y, *z;
	int nfrag = 1, r;

	for (; nfrag < IG_AUDIT_MAX_FRAG_RUN; nfrag++) {
		if ((r = v_peek(v, &z)) < 0)
			return r;
		if (r == 0 || z->file != y->file || z->valid || z->too_long)
			break;
		(void)v_take(v, &last);
	}
	if ((r = v_peek(v, &z)) < 0)
		return r;
	if (z && z->valid &&
	    (z->kind == K_TORN || (z->kind == K_START && z->file != last.file && z->line == 1)) &&
	    eqh(z->prev, last.hash) && (!v->have_a || z->seq == v->a.seq + 1)) {
		if (z->kind == K_TORN)
			v_report(v, 0, y->line, y->file, "torn",
			         "line %llu%s is an unfinished write (a writer stopped mid-line); "
			         "the next writer terminated it and recorded audit_torn_tail at "
			         "line %llu",
			         ULL(y->line), nfrag > 1 ? " (and the lines after it)" : "",
			         ULL(z->line));
		else
			v_report(v, 0, y->line, y->file, "torn",
			         "line %llu, the end of this file, is an unfinished write (a "
			         "writer stopped mid-line); the next file's log_start follows it",
			         ULL(y->line));
		(void)v_take(v, &v->a);
		v_check_newline(v, &v->a);
		v->have_a = 1;
		v->have_a0 = 0;
		if (v->res->first_seq == 0)
			v->res->first_seq = v->a.seq;
		return W_GO;
	}
	if (z == NULL && nfrag == 1 && !y->terminated)
		v_report(v, 0, y->line, y->file, "torn",
		         "line %llu ends without a newline: a writer stopped mid-line (or the "
		         "file was cut there); the next append records it",
		         ULL(y->line));
	else if (strncmp(y->why, "not valid JSON", 14) == 0)
		v_report(v, 1, y->line, y->file, "not JSON", "line %llu is %s", ULL(y->line),
		         y->why);
	else
		v_report(v, 1, y->line, y->file, "malformed",
		         "line %llu is JSON but not an audit record: %s", ULL(y->line), y->why);
	return W_STOP;
}

/* Line 1 of a file: log_start, continuing the previous file if any. */
static int walk_file_start(struct ver *v, const struct item *y)
{
	const struct item *a = &v->a;

	if (y->kind != K_START) {
		v_report(v, 1, y->line, y->file, "missing",
		         "line 1 is a record with seq %llu, not log_start: the beginning of this "
		         "log was removed",
		         ULL(y->seq));
		return W_STOP;
	}
	if (!v->have_a) {
		ig_hex(y->prev, IG_AUDIT_HASH_LEN, v->res->start_prev);
		v->res->first_seq = y->seq;
		accept(v, y);
		v->have_a0 = 0;
		return W_GO;
	}
	if (y->seq == a->seq + 1 && eqh(y->prev, a->hash)) {
		accept(v, y);
		return W_GO;
	}
	if (y->seq <= a->seq)
		v_report(v, 1, y->line, y->file, "reordered",
		         "this file starts at seq %llu but the previous file already reached seq "
		         "%llu: the files are out of order or overlap",
		         ULL(y->seq), ULL(a->seq));
	else if (y->seq == a->seq + 1)
		v_report(v, 1, y->line, y->file, "edited",
		         "the previous file's last line (line %llu) was changed after this file "
		         "was started: its hash is not the prev recorded here",
		         ULL(a->line));
	else
		v_report(v, 1, y->line, y->file, "missing",
		         "this file continues from seq %llu but the previous file ends at seq "
		         "%llu: %llu line(s) were removed from its end, or a file is missing",
		         ULL(y->seq - 1), ULL(a->seq), ULL(y->seq - 1 - a->seq));
	return W_STOP;
}

/* The next record in order: note a torn newline or a head mismatch. */
static int walk_in_order(struct ver *v, const struct item *y)
{
	const struct item *a = &v->a;

	if (y->kind == K_TORN)
		v_report(v, 0, a->line, a->file, "torn",
		         "line %llu was written completely but its writer stopped before the "
		         "newline, so the decision it records may not have been returned "
		         "(audit_torn_tail at line %llu)",
		         ULL(a->line), ULL(y->line));
	if (y->kind != K_MISMATCH) {
		accept(v, y);
		return W_GO;
	}
	if (y->expected_seq > y->found_seq)
		v_report(v, 1, y->line, y->file, "missing",
		         "a writer found the log ending at seq %llu although seq %llu had been "
		         "written: %llu line(s) were removed from the end before line %llu "
		         "(audit_head_mismatch)",
		         ULL(y->found_seq), ULL(y->expected_seq),
		         ULL(y->expected_seq - y->found_seq), ULL(y->line));
	else
		v_report(v, 1, a->line, a->file, "edited",
		         "line %llu was changed after it was written: a writer found its hash "
		         "differs from the one recorded when it was written (audit_head_mismatch "
		         "at line %llu)",
		         ULL(a->line), ULL(y->line));
	return W_STOP;
}

/* A line that does not follow: swapped, inserted? */
static int diagnose_moved(struct ver *v, const struct item *y, const struct item *z)
{
	const struct item *a = &v->a, *a0 = &v->a0;

	if (z && z->seq == a->seq + 1 && eqh(z->prev, a->hash) && y->seq == z->seq + 1 &&
	    eqh(y->prev, z->hash)) {
		v_report(v, 1, y->line, y->file, "reordered",
		         "lines %llu and %llu were swapped: line %llu (seq %llu) belongs after "
		         "line %llu (seq %llu)",
		         ULL(y->line), ULL(z->line), ULL(y->line), ULL(y->seq), ULL(z->line),
		         ULL(z->seq));
		return 1;
	}
	if (z && z->seq == a->seq + 1 && eqh(z->prev, a->hash)) {
		v_report(v, 1, y->line, y->file, "inserted",
		         "line %llu does not belong to the chain: line %llu follows line %llu "
		         "directly (its prev is line %llu's hash); line %llu was added",
		         ULL(y->line), ULL(z->line), ULL(a->line), ULL(a->line), ULL(y->line));
		return 1;
	}
	if (v->have_a0 && a0->file == y->file && y->seq == a0->seq + 1 && eqh(y->prev, a0->hash)) {
		v_report(v, 1, a->line, a->file, "inserted",
		         "line %llu does not belong to the chain: line %llu follows line %llu "
		         "directly (its prev is line %llu's hash); line %llu was added",
		         ULL(a->line), ULL(y->line), ULL(a0->line), ULL(a0->line), ULL(a->line));
		return 1;
	}
	return 0;
}

/* A line that does not follow: edited, missing lines, reordered. */
static void diagnose_break(struct ver *v, const struct item *y, const struct item *z)
{
	const struct item *a = &v->a;

	if (diagnose_moved(v, y, z))
		return;
	if (y->seq == a->seq + 1) {
		if (z == NULL || eqh(z->prev, y->hash))
			v_report(
			        v, 1, a->line, a->file, "edited",
			        "line %llu was changed after it was written: its SHA-256 no longer "
			        "matches the prev recorded in line %llu",
			        ULL(a->line), ULL(y->line));
		else
			v_report(v, 1, y->line, y->file, "edited",
			         "line %llu was changed after it was written: its prev does not "
			         "match line %llu, and line %llu's prev does not match it",
			         ULL(y->line), ULL(a->line), ULL(z->line));
	} else if (y->seq > a->seq + 1 && z && z->seq > a->seq && z->seq < y->seq) {
		v_report(v, 1, y->line, y->file, "reordered",
		         "line %llu has seq %llu but the line after it has seq %llu: lines were "
		         "moved or swapped",
		         ULL(y->line), ULL(y->seq), ULL(z->seq));
	} else if (y->seq > a->seq + 1 && eqh(y->prev, a->hash)) {
		v_report(v, 1, y->line, y->file, "edited",
		         "line %llu's seq was changed (it is %llu, expected %llu) although its "
		         "prev links to line %llu",
		         ULL(y->line), ULL(y->seq), ULL(a->seq + 1), ULL(a->line));
	} else if (y->seq > a->seq + 1) {
		v_report(v, 1, y->line, y->file, "missing",
		         "seq jumps from %llu (line %llu) to %llu: %llu line(s) were removed "
		         "before line %llu",
		         ULL(a->seq), ULL(a->line), ULL(y->seq), ULL(y->seq - a->seq - 1),
		         ULL(y->line));
	} else {
		v_report(v, 1, y->line, y->file, "reordered",
		         "line %llu has seq %llu, which does not follow seq %llu of line %llu: "
		         "lines were moved, swapped or copied",
		         ULL(y->line), ULL(y->seq), ULL(v->a.seq), ULL(v->a.line));
	}
}

static int walk_one(struct ver *v, const struct item *y)
{
	struct item *z;
	int r;

	if (y->too_long) {
		v_report(v, 1, y->line, y->file, "too long",
		         "line %llu is longer than %d bytes; iamgate never writes such a line",
		         ULL(y->line), IG_AUDIT_MAX_LINE);
		return W_STOP;
	}
	if (!y->valid)
		return walk_fragment(v, y);
	if (y->line == 1)
		return walk_file_start(v, y);
	if (!v->have_a) {
		/* Unreachable: line 1 of the first file sets a or stops. */
		v_report(v, 1, y->line, y->file, "malformed", "no chain start before this line");
		return W_STOP;
	}
	if (y->seq == v->a.seq + 1 && eqh(y->prev, v->a.hash))
		return walk_in_order(v, y);
	if ((r = v_peek(v, &z)) < 0)
		return r;
	if (z && (!z->valid || z->file != y->file))
		z = NULL;
	diagnose_break(v, y, z);
	return W_STOP;
}

/* Walk the chain.  On return, v->a is the last good record (if v->have_a). */
static int v_run(struct ver *v)
{
	struct item y;
	int r;

	for (;;) {
		if ((r = v_take(v, &y)) <= 0)
			return r;
		if ((r = walk_one(v, &y)) != W_GO)
			return r;
	}
}

static int64_t clock_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void res_init(struct ig_audit_verify_result *res)
{
	memset(res, 0, sizeof(*res));
}

static int v_finish(struct ver *v, const struct ig_audit_head *h, struct ig_audit_verify_seal *vs)
{
	struct ig_audit_verify_result *res = v->res;
	const struct item *a = &v->a;

	if (v->seal) {
		ig_audit_seal_check_end(v->seal, vs->now_ms ? vs->now_ms : clock_ms());
		ig_audit_seal_check_clear(v->seal);
	}
	if (v->have_a)
		res->last_seq = a->seq;
	if (h && h->have && v->have_a && !v->broken) {
		res->head_checked = 1;
		if (a->seq < h->seq)
			v_report(v, 1, a->line + 1, a->file, "missing",
			         "the log ends at seq %llu but the writers recorded seq %llu as "
			         "written: %llu line(s) were removed from its end",
			         ULL(a->seq), ULL(h->seq), ULL(h->seq - a->seq));
		else if (a->seq == h->seq && !eqh(a->hash, h->hash))
			v_report(v, 1, a->line, a->file, "edited",
			         "line %llu, the last, was changed after it was written: its hash "
			         "differs from the one the writer recorded",
			         ULL(a->line));
	}
	return res->bad_line ? IG_ERR_PARSE : 0;
}

static void seal_start(struct ver *v, struct ig_audit_seal_check *c,
                       struct ig_audit_verify_seal *vs)
{
	if (vs == NULL || vs->vk == NULL)
		return;
	ig_audit_seal_check_init(c, vs->vk, &vs->seal);
	v->seal = c;
}

int ig_audit_verify_buf(const char *buf, size_t len, struct ig_audit_verify_result *res,
                        struct ig_audit_verify_seal *seal)
{
	struct ig_audit_seal_check sc;
	struct src s;
	struct ver v;
	int r;

	res_init(res);
	memset(&s, 0, sizeof(s));
	memset(&v, 0, sizeof(v));
	s.mem = buf ? buf : "";
	s.memlen = buf ? len : 0;
	s.fd = -1;
	v.srcs = &s;
	v.nsrc = 1;
	v.res = res;
	seal_start(&v, &sc, seal);
	if ((r = v_run(&v)) != 0) {
		ig_audit_seal_check_clear(&sc);
		return r;
	}
	return v_finish(&v, NULL, seal);
}

/*
 * How much of a log to read.  A writer may be mid-write: when the file
 * does not end in '\n', give it a moment to finish before calling the end
 * torn (the writers' lock is not open to readers).
 */
static uint64_t settle_size(int fd)
{
	struct stat st;
	char c;
	size_t got;
	struct timespec nap = {0, 50 * 1000 * 1000};

	for (int i = 0; i < 20; i++) {
		if (fstat(fd, &st) != 0 || st.st_size <= 0)
			return 0;
		if (ig_audit_file_pread(fd, &c, 1, (uint64_t)st.st_size - 1, &got) != 0 ||
		    got != 1 || c == '\n')
			break;
		(void)nanosleep(&nap, NULL);
	}
	return (uint64_t)st.st_size;
}

/* Root only: read the head under the writers' lock, with the log size. */
static void head_snapshot(const char *path, int lfd, struct ig_audit_head *h, uint64_t *size)
{
	char hpath[PATH_MAX];
	struct stat hs, ls, ps;
	int hfd;

	memset(h, 0, sizeof(*h));
	if (ig_bfmt(hpath, sizeof(hpath), "%s.head", path) != 0)
		return;
	hfd = open(hpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (hfd < 0)
		return;
	if (fstat(hfd, &hs) == 0 && ig_file_trusted(&hs, SIZE_MAX, 1) == 0 &&
	    ig_audit_file_lock(hfd, LOCK_SH, 1000) == 0) {
		/* The head describes the file now at path: skip it after a rotation. */
		if (fstat(lfd, &ls) == 0 && stat(path, &ps) == 0 && ls.st_ino == ps.st_ino &&
		    ls.st_dev == ps.st_dev) {
			ig_audit_file_head_read(hfd, h);
			*size = (uint64_t)ls.st_size;
		}
	}
	close(hfd); /* drops the shared lock at once: a reader never stalls writers long */
}

int ig_audit_verify_files(const char *const *paths, size_t npaths,
                          struct ig_audit_verify_result *res, struct ig_audit_verify_seal *seal)
{
	struct ig_audit_seal_check sc;
	struct src *srcs = NULL;
	struct ig_audit_head h;
	struct stat st;
	struct ver v;
	int r = 0;
	size_t i;

	res_init(res);
	memset(&h, 0, sizeof(h));
	if (paths == NULL || npaths == 0)
		return IG_ERR_INVAL;
	if ((srcs = calloc(npaths, sizeof(*srcs))) == NULL)
		return IG_ERR_NOMEM;
	for (i = 0; i < npaths; i++)
		srcs[i].fd = -1;
	for (i = 0; i < npaths; i++) {
		struct src *s = &srcs[i];
		res->bad_file = i;
		s->fd = open(paths[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (s->fd < 0) {
			r = errno == ENOENT ? IG_ERR_NOTFOUND
			                    : (errno == ELOOP ? IG_ERR_UNSAFE : IG_ERR_IO);
			(void)snprintf(res->what, sizeof(res->what), "%s",
			               errno == ELOOP ? "is a symbolic link; give the real path"
			                              : strerror(errno));
			goto out;
		}
		if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			r = IG_ERR_UNSAFE;
			(void)snprintf(res->what, sizeof(res->what), "is not a regular file");
			goto out;
		}
		s->limit = (uint64_t)st.st_size;
		if (i + 1 == npaths) {
			s->limit = settle_size(s->fd);
			head_snapshot(paths[i], s->fd, &h, &s->limit);
		}
		s->cap = 2 * (IG_AUDIT_MAX_LINE + 1);
		if ((s->buf = malloc(s->cap)) == NULL) {
			r = IG_ERR_NOMEM;
			goto out;
		}
	}
	res->bad_file = 0;
	res->what[0] = '\0';
	memset(&v, 0, sizeof(v));
	v.srcs = srcs;
	v.nsrc = npaths;
	v.res = res;
	seal_start(&v, &sc, seal);
	if ((r = v_run(&v)) != 0) {
		ig_audit_seal_check_clear(&sc);
		(void)snprintf(res->what, sizeof(res->what), "read error: %s", strerror(errno));
		goto out;
	}
	r = v_finish(&v, &h, seal);
out:
	for (i = 0; i < npaths; i++) {
		if (srcs[i].fd >= 0)
			close(srcs[i].fd);
		free(srcs[i].buf);
	}
	free(srcs);
	return r;
}

int ig_audit_verify(const char *path, struct ig_audit_verify_result *res)
{
	const char *paths[1] = {path};

	return ig_audit_verify_files(paths, 1, res, NULL);
}
