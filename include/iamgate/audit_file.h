/*
 * audit_file.h - the audit log's files as the writers see them: the path
 * split into a trusted directory and a name, the writers' bounded lock, the
 * head file (NAME.head), the tail of the log, and the chain a new log
 * continues (NAME.1 or the head).  The design is in include/iamgate/audit.h.
 */
#ifndef IAMGATE_AUDIT_FILE_H
#define IAMGATE_AUDIT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "iamgate/audit_line.h"
#include "iamgate/error.h"

/* A writer's lines are at most IG_AUDIT_MAX_LINE bytes, so this window
 * holds the last record and a torn fragment after it. */
#define IG_AUDIT_TAIL_WIN (4 * (IG_AUDIT_MAX_LINE + 1))
/* Fragments verify and the tail reader accept before one torn record. */
#define IG_AUDIT_MAX_FRAG_RUN 8

/* "iamgate-audit-head v1 SEQ HASH\n": the seq and hash of the last line. */
struct ig_audit_head {
	int have;
	uint64_t seq;
	uint8_t hash[IG_AUDIT_HASH_LEN];
};

/* What the end of a log looks like to a writer. */
struct ig_audit_tail {
	uint8_t last_hash[IG_AUDIT_HASH_LEN]; /* the last line, complete or not */
	size_t last_len;
	int frag;         /* the last line is not a terminated, valid record */
	int unterminated; /* the file does not end in '\n' */
	int have_valid;   /* a valid record was found (the last one, or before a fragment) */
	uint64_t vseq;
	uint8_t vhash[IG_AUDIT_HASH_LEN];
	int vsealed;          /* that record carries a seal ... */
	uint64_t vepoch;      /* ... of this epoch */
	int vseal_closed;     /* it is the audit_seal line that closed vepoch ... */
	uint64_t vnext_epoch; /* ... into this epoch */
};

/* The chain a new (empty) log continues: the rotated file or the head file. */
struct ig_audit_pred {
	uint64_t seq;
	uint8_t hash[IG_AUDIT_HASH_LEN];
	const char *reason; /* new_chain, rotated, continued */
};

/* An absolute PATH into DIR and NAME (a safe name of at most 59 bytes, so
 * NAME.head and NAME.seal fit).  0, IG_ERR_INVAL, IG_ERR_RANGE. */
int ig_audit_file_split(const char *path, char *dir, size_t dcap, char *base,
                        size_t bcap) IG_MUST_CHECK;

/* flock(fd, op) polled with short randomized naps for at most timeout_ms.
 * 0 or IG_ERR_LOCK. */
int ig_audit_file_lock(int fd, int op, int timeout_ms) IG_MUST_CHECK;

/* pread until n bytes or the end; *got says how many.  0 or IG_ERR_IO. */
int ig_audit_file_pread(int fd, void *buf, size_t n, uint64_t off, size_t *got) IG_MUST_CHECK;

/* Parse a head file's bytes.  0 and h->have, or IG_ERR_PARSE (h cleared). */
int ig_audit_file_head_parse(const char *buf, size_t n, struct ig_audit_head *h) IG_MUST_CHECK;
/* Read the head from fd; an unreadable or malformed head leaves h->have 0. */
void ig_audit_file_head_read(int fd, struct ig_audit_head *h);
/* Rewrite the head, best effort (not fsynced: it may lag the log, never
 * lead it; a stale head only lags, and the lines are already written). */
void ig_audit_file_head_write(int fd, uint64_t seq, const uint8_t hash[IG_AUDIT_HASH_LEN]);

/*
 * The tail of a log from its last len bytes (whole: they are the whole
 * file).  IG_ERR_PARSE when the window holds no complete last line, or only
 * fragments, and is not the whole file: iamgate did not write that tail.
 */
int ig_audit_file_tail_parse(const char *buf, size_t len, int whole,
                             struct ig_audit_tail *t) IG_MUST_CHECK;
/* The same, reading at most IG_AUDIT_TAIL_WIN bytes from the end of fd. */
int ig_audit_file_tail(int fd, uint64_t size, struct ig_audit_tail *t) IG_MUST_CHECK;

/* openat O_NOFOLLOW, then the trusted-file checks (root, nlink 1, not
 * group/world-writable; private_only: no group/other bits).  IG_ERR_NOTFOUND,
 * IG_ERR_UNSAFE, IG_ERR_IO. */
int ig_audit_file_open(int dfd, const char *name, int flags, int private_only,
                       int *fd) IG_MUST_CHECK;

/* Open the log for appending, creating it 0640 root:iamgate-audit (group
 * root without that group) when missing; *created says so. */
int ig_audit_file_open_log(int dfd, const char *base, int *fd, int *created) IG_MUST_CHECK;

/* The chain an empty log continues: NAME.1's last line, or the head when it
 * records a later seq, else a new chain. */
void ig_audit_file_pred(int dfd, const char *base, const struct ig_audit_head *h,
                        struct ig_audit_pred *p);

#endif
