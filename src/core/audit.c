/*
 * audit.c - the writer of the tamper-evident audit log: take the writers'
 * lock, find the chain head, repair a torn tail, seal and evolve the
 * sealing key when its epoch has passed, write each line with one
 * write(2), and flush.  The design is in include/iamgate/audit.h; lines in
 * audit_line.c, files in audit_file.c, sealing in audit_seal.c.
 *
 * Group commit: the lines are written under the lock, the flush that makes
 * them durable runs after it is released.  fsync flushes every byte written
 * to the file before it was called, so writers that arrive while one
 * flushes write their lines and are carried by the next flush together;
 * each writer still returns only after a flush that began after its own
 * write.  The chain is decided under the lock, so its order is the file's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iamgate/audit.h"
#include "iamgate/audit_file.h"
#include "iamgate/audit_seal.h"
#include "iamgate/helper_io.h"
#include "iamgate/util.h"

/* log_start or torn tail, head mismatch, seal stopped, closing seal, event */
#define MAX_LINES 6

struct chain {
	uint64_t seq;
	uint8_t hash[IG_AUDIT_HASH_LEN];
	char *lines[MAX_LINES];
	size_t lens[MAX_LINES];
	int nl_before[MAX_LINES]; /* terminate a torn fragment first */
	size_t n, written;
};

struct writer {
	const struct ig_audit_opts *opts;
	char dir[PATH_MAX], base[NAME_MAX + 1];
	int dfd, hfd, lfd, created;
	struct ig_audit_head head;
	struct ig_audit_tail tail;
	int tail_valid, tail_sealed;
	/* sealing: the key file's directory, name and open file */
	int kdfd, kfd, sealing;
	char kname[NAME_MAX + 1];
	struct ig_audit_seal_key key;
	struct ig_audit_fields f;
	struct chain c;
};

static void chain_clear(struct chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->lines[i]);
	c->n = 0;
}

static int chain_add(struct writer *w, const struct ig_audit_fields *f, int nl_before)
{
	struct chain *c = &w->c;
	char prev[IG_AUDIT_HEX_LEN + 1];
	char *line = NULL;
	size_t len;
	int r;

	if (c->n >= MAX_LINES)
		return IG_ERR_INTERNAL;
	ig_hex(c->hash, IG_AUDIT_HASH_LEN, prev);
	if ((r = ig_audit_line_build(f, c->seq + 1, prev, &line, &len)) != 0)
		return r;
	if ((w->sealing && (r = ig_audit_seal_line(&w->key, &line, &len)) != 0) ||
	    (r = ig_audit_line_hash(line, len, c->hash)) != 0) {
		free(line);
		return r;
	}
	c->seq++;
	c->lines[c->n] = line;
	c->lens[c->n] = len;
	c->nl_before[c->n] = nl_before;
	c->n++;
	return 0;
}

/* A writer-made record (log_start, audit_torn_tail, audit_seal, ...). */
static int chain_add_internal(struct writer *w, const char *event, const char *reason,
                              json_t *extra, int nl_before)
{
	struct ig_audit_fields f;
	int r;

	if (extra == NULL)
		return IG_ERR_NOMEM;
	memset(&f, 0, sizeof(f));
	memcpy(f.time, w->f.time, sizeof(f.time));
	f.host = w->f.host;
	f.event = (char *)event;
	f.reason = (char *)reason;
	f.decision = "info";
	f.extra = extra;
	r = chain_add(w, &f, nl_before);
	json_decref(extra);
	return r;
}

/* ---- opening and locking ---------------------------------------------- */

static int open_head(struct writer *w, char *hname)
{
	struct stat st;
	int timeout =
	        w->opts->lock_timeout_ms > 0 ? w->opts->lock_timeout_ms : IG_AUDIT_LOCK_TIMEOUT_MS;

	/* The head file is the writers' lock; auditors cannot open it. */
	w->hfd = openat(w->dfd, hname,
	                O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	if (w->hfd < 0)
		return errno == ELOOP ? IG_ERR_UNSAFE : IG_ERR_IO;
	if (fstat(w->hfd, &st) != 0 || ig_file_trusted(&st, SIZE_MAX, 1) != 0)
		return IG_ERR_UNSAFE;
	return ig_audit_file_lock(w->hfd, LOCK_EX, timeout);
}

static int open_locked(struct writer *w)
{
	char hname[NAME_MAX + 1];
	int r;

	if ((r = ig_audit_file_split(w->opts->path, w->dir, sizeof(w->dir), w->base,
	                             sizeof(w->base))) != 0 ||
	    (r = ig_bfmt(hname, sizeof(hname), "%s.head", w->base)) != 0)
		return r == IG_ERR_RANGE ? IG_ERR_INVAL : r;
	if ((r = ig_open_trusted_dir(w->dir, &w->dfd, NULL, 0)) != 0 ||
	    (r = open_head(w, hname)) != 0 ||
	    (r = ig_audit_file_open_log(w->dfd, w->base, &w->lfd, &w->created)) != 0)
		return r;
	ig_audit_file_head_read(w->hfd, &w->head);
	return 0;
}

/* The sealing key: opts->seal_key, or NAME.seal beside the log.  No key
 * file means no sealing; an unsafe or unreadable one fails the append. */
static int load_key(struct writer *w)
{
	char kdir[PATH_MAX];
	int r;

	if (w->opts->seal_key == NULL) {
		w->kdfd = w->dfd;
		if ((r = ig_bfmt(w->kname, sizeof(w->kname), "%s.seal", w->base)) != 0)
			return IG_ERR_INVAL;
	} else {
		if ((r = ig_audit_file_split(w->opts->seal_key, kdir, sizeof(kdir), w->kname,
		                             sizeof(w->kname))) != 0)
			return IG_ERR_INVAL;
		if ((r = ig_open_trusted_dir(kdir, &w->kdfd, NULL, 0)) != 0)
			return r;
	}
	r = ig_audit_seal_load(w->kdfd, w->kname, &w->key, &w->kfd);
	if (r == IG_ERR_NOTFOUND)
		return 0;
	w->sealing = r == 0;
	return r;
}

/* ---- the lines before the event --------------------------------------- */

/* An empty (new or rotated) log starts with log_start. */
static int start_log(struct writer *w)
{
	struct ig_audit_pred p;

	ig_audit_file_pred(w->dfd, w->base, &w->head, &p);
	w->c.seq = p.seq;
	memcpy(w->c.hash, p.hash, IG_AUDIT_HASH_LEN);
	return chain_add_internal(w, "log_start", p.reason,
	                          json_pack("{sI}", "follows_seq", (json_int_t)p.seq), 0);
}

static int note_head_mismatch(struct writer *w)
{
	const struct ig_audit_tail *t = &w->tail;
	const struct ig_audit_head *h = &w->head;
	char hex[IG_AUDIT_HEX_LEN + 1];

	if (!t->have_valid || !h->have ||
	    !(h->seq > t->vseq ||
	      (h->seq == t->vseq && memcmp(h->hash, t->vhash, IG_AUDIT_HASH_LEN) != 0)))
		return 0;
	ig_hex(h->hash, IG_AUDIT_HASH_LEN, hex);
	return chain_add_internal(w, "audit_head_mismatch",
	                          h->seq > t->vseq ? "log_shorter_than_head" : "last_line_changed",
	                          json_pack("{sIsIss}", "found_seq", (json_int_t)t->vseq,
	                                    "expected_seq", (json_int_t)h->seq, "expected_hash",
	                                    hex),
	                          0);
}

/* Continue a log that has lines (its tail is read): torn or not. */
static int continue_log(struct writer *w)
{
	struct ig_audit_tail *t = &w->tail;
	int r;

	if (t->have_valid) {
		w->c.seq = t->vseq;
	} else {
		/* Only fragments in the whole file: its log_start was torn. */
		struct ig_audit_pred p;
		ig_audit_file_pred(w->dfd, w->base, &w->head, &p);
		w->c.seq = p.seq;
	}
	memcpy(w->c.hash, t->last_hash, IG_AUDIT_HASH_LEN);
	if (t->frag &&
	    (r = chain_add_internal(w, "audit_torn_tail", "torn_tail_detected",
	                            json_pack("{sI}", "torn_bytes", (json_int_t)t->last_len),
	                            t->unterminated)) != 0)
		return r;
	return note_head_mismatch(w);
}

/* ---- writing ---------------------------------------------------------- */

/*
 * Write the lines not yet written, one write(2) each.  Should a write fail
 * (disk full), cut the file back to where it was: under the writers' lock
 * nobody else appended, so no half line is left to be reported as torn.
 */
static int write_pending(struct writer *w)
{
	struct chain *c = &w->c;
	struct stat st;
	off_t end_before = fstat(w->lfd, &st) == 0 ? st.st_size : -1;
	int r = 0;

	for (; c->written < c->n && r == 0; c->written++) {
		size_t i = c->written, n = c->lens[i] + 1;
		/* A torn fragment is terminated in the same write as the line
		 * that explains it. */
		char *q = malloc(n + 1);
		if (q == NULL) {
			r = IG_ERR_NOMEM;
			break;
		}
		q[0] = '\n';
		memcpy(q + 1, c->lines[i], n);
		r = c->nl_before[i] ? ig_write_all(w->lfd, q, n + 1)
		                    : ig_write_all(w->lfd, q + 1, n);
		free(q);
	}
	if (r != 0 && end_before >= 0 && ftruncate(w->lfd, end_before) == 0)
		(void)fsync(w->lfd);
	return r == 0 ? 0 : (r == IG_ERR_NOMEM ? r : IG_ERR_IO);
}

/* ---- sealing ---------------------------------------------------------- */

static int64_t clock_ms(const struct ig_audit_opts *opts)
{
	struct timespec ts;

	if (opts->now_ms != 0)
		return opts->now_ms;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int evolve_key(struct writer *w, uint64_t to)
{
	int r;

	if ((r = ig_audit_seal_evolve(&w->key, to)) != 0 ||
	    (r = ig_audit_seal_store(w->kdfd, w->kname, &w->key, w->kfd)) != 0)
		return r;
	return 0;
}

/*
 * When the key's epoch has passed: the lines so far and an audit_seal line
 * closing the epoch are sealed with the old key and flushed, and only then
 * does the key evolve.  A closing line already at the tail (a crash came
 * between the two) is not written again.
 */
static uint64_t epoch_now(const struct writer *w)
{
	return ig_audit_seal_epoch_at(w->key.start_s, w->key.epoch_s, clock_ms(w->opts));
}

static int close_epoch(struct writer *w)
{
	uint64_t now_epoch = epoch_now(w);
	int r;

	if (!w->sealing || now_epoch <= w->key.epoch)
		return 0;
	if ((r = chain_add_internal(w, "audit_seal", "epoch_sealed",
	                            json_pack("{sIsI}", "epoch", (json_int_t)w->key.epoch,
	                                      "next_epoch", (json_int_t)now_epoch),
	                            0)) != 0 ||
	    (r = write_pending(w)) != 0)
		return r;
	if (fsync(w->lfd) != 0)
		return IG_ERR_IO;
	return evolve_key(w, now_epoch);
}

/* The closing line is the last record: a crash came after it, before the
 * key evolved.  Evolve to the epoch that line names (close_epoch then
 * closes that one too if it has passed) before sealing anything else. */
static int finish_closed_epoch(struct writer *w)
{
	const struct ig_audit_tail *t = &w->tail;

	if (!w->sealing || !w->tail_valid || !t->have_valid || !t->vseal_closed ||
	    t->vepoch != w->key.epoch || t->vnext_epoch <= w->key.epoch)
		return 0;
	return evolve_key(w, t->vnext_epoch);
}
/* Sealing was on (the last record is sealed) but the key file is gone. */
static int note_seal_stopped(struct writer *w)
{
	if (w->sealing || !w->tail_valid || !w->tail.have_valid || !w->tail.vsealed)
		return 0;
	return chain_add_internal(w, "audit_seal_stopped", "seal_key_missing",
	                          json_pack("{sI}", "last_epoch", (json_int_t)w->tail.vepoch), 0);
}

/* ---- append ----------------------------------------------------------- */

static int check_event(const struct ig_audit_event *ev)
{
	if (ev->event == NULL || ev->decision == NULL || ev->reason == NULL ||
	    ev->event[0] == '\0' ||
	    (strcmp(ev->decision, "allow") != 0 && strcmp(ev->decision, "deny") != 0 &&
	     strcmp(ev->decision, "info") != 0) ||
	    (ev->extra != NULL && !json_is_object(ev->extra)))
		return IG_ERR_INVAL;
	return 0;
}

/* Under the lock: every line of this append, each written once. */
static int append_locked(struct writer *w, const struct ig_audit_event *ev)
{
	struct stat st;
	int r;

	if ((r = load_key(w)) != 0)
		return r;
	if (ev == NULL && !w->sealing)
		return 0; /* a tick without a key has nothing to close */
	if (fstat(w->lfd, &st) != 0)
		return IG_ERR_IO;
	if (st.st_size > 0) {
		if ((r = ig_audit_file_tail(w->lfd, (uint64_t)st.st_size, &w->tail)) != 0)
			return r;
		w->tail_valid = 1;
	}
	if ((r = finish_closed_epoch(w)) != 0 ||
	    (r = st.st_size == 0 ? start_log(w) : continue_log(w)) != 0 ||
	    (r = note_seal_stopped(w)) != 0 || (r = close_epoch(w)) != 0)
		return r;
	if (ev != NULL && (r = chain_add(w, &w->f, 0)) != 0)
		return r;
	if ((r = write_pending(w)) != 0)
		return r;
	if (w->c.n > 0)
		ig_audit_file_head_write(w->hfd, w->c.seq, w->c.hash);
	return 0;
}

static void writer_close(struct writer *w)
{
	if (w->kdfd >= 0 && w->kdfd != w->dfd)
		close(w->kdfd);
	if (w->kfd >= 0)
		close(w->kfd);
	if (w->lfd >= 0)
		close(w->lfd);
	if (w->hfd >= 0)
		close(w->hfd);
	if (w->dfd >= 0)
		close(w->dfd);
	chain_clear(&w->c);
	ig_audit_line_fields_clear(&w->f);
	explicit_bzero(&w->key, sizeof(w->key));
}

static int run(const struct ig_audit_opts *opts, const struct ig_audit_event *ev)
{
	static const struct ig_audit_event tick = {"audit_seal", NULL,           NULL, NULL,
	                                           "info",       "epoch_sealed", NULL};
	struct writer w;
	int r;

	memset(&w, 0, sizeof(w));
	w.opts = opts;
	w.dfd = w.hfd = w.lfd = w.kdfd = w.kfd = -1;
	if ((r = ig_audit_line_fields(opts, ev ? ev : &tick, &w.f)) != 0 ||
	    (r = open_locked(&w)) != 0 || (r = append_locked(&w, ev)) != 0)
		goto out;
	/* Release the lock, then flush: see group commit above. */
	close(w.hfd);
	w.hfd = -1;
	if (fsync(w.lfd) != 0 || (w.created && fsync(w.dfd) != 0)) {
		r = IG_ERR_IO;
		goto out;
	}
	if (opts->use_syslog) {
		for (size_t i = 0; i < w.c.n; i++)
			ig_audit_line_send_syslog(w.c.lines[i], w.c.lens[i],
			                          ev && i + 1 == w.c.n ? w.f.decision : "info");
	}
out:
	writer_close(&w);
	return r;
}

int ig_audit_append(const struct ig_audit_opts *opts, const struct ig_audit_event *ev)
{
	if (opts == NULL || ev == NULL || check_event(ev) != 0)
		return IG_ERR_INVAL;
	return run(opts, ev);
}

int ig_audit_tick(const struct ig_audit_opts *opts)
{
	if (opts == NULL)
		return IG_ERR_INVAL;
	return run(opts, NULL);
}
