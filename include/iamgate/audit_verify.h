/*
 * audit_verify.h - check the audit log's chain (and, given the auditors'
 * verification key, its seals): name the first bad line and what is wrong
 * with it.  The log's design is in include/iamgate/audit.h.
 */
#ifndef IAMGATE_AUDIT_VERIFY_H
#define IAMGATE_AUDIT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "iamgate/audit_seal.h"
#include "iamgate/error.h"

struct ig_audit_verify_result {
	uint64_t lines;       /* lines read */
	uint64_t bad_line;    /* 1-based number of the first bad line, 0 if intact */
	char what[256];       /* what is wrong at bad_line: edited, missing, ... */
	char kind[16];        /* first word of what: "edited", "missing", "reordered",
	                         "inserted", "torn", "not JSON", "malformed", "too long";
	                         "" when intact */
	size_t bad_file;      /* index (into the paths given) of bad_line's file */
	uint64_t broken_line; /* first line where the chain itself is broken (any kind
	                         but a torn fragment the writers recorded), 0 if none */
	size_t broken_file;
	uint64_t torn;      /* torn fragments seen (verify walks on past recorded ones) */
	uint64_t first_seq; /* seq of the first and last valid records (0 if none) */
	uint64_t last_seq;
	char start_prev[65];  /* prev of the first line: 64 zeros for a new chain,
	                        else the hash of a log that is not part of this check */
	int head_checked;     /* 1 when the end was compared with the writers' head
	                        file (readable by root only) */
	int64_t last_time_ms; /* time of the last valid record */
};

/* With a verification key: the seals are checked too, as of now_ms (0: the
 * clock), and reported in seal. */
struct ig_audit_verify_seal {
	const struct ig_audit_seal_vkey *vk;
	int64_t now_ms;
	struct ig_audit_seal_result seal;
};

/*
 * Verify the chain of the log at path.  0 if intact, IG_ERR_PARSE if not
 * (res says where and why), other errors if it cannot be read.
 *
 * A recorded torn fragment (an unfinished line the next writer terminated
 * and followed with audit_torn_tail) makes the result IG_ERR_PARSE with kind
 * "torn"; verify still walks on past it, and broken_line reports a real
 * break found later.  The reader needs only read access: the log is opened
 * O_RDONLY|O_NOFOLLOW (a symlink is refused, IG_ERR_UNSAFE) and not checked
 * for root ownership, so an auditor in the log's group can run it.  When
 * the head file beside the log is readable (root), the log's end is also
 * compared with it (res->head_checked).
 */
int ig_audit_verify(const char *path, struct ig_audit_verify_result *res) IG_MUST_CHECK;

/*
 * Verify a chain spread over several files, oldest first (e.g. NAME.2,
 * NAME.1, NAME).  Each file after the first must start with a log_start line
 * whose prev is the hash of the previous file's last line and whose seq
 * follows on.  Line numbers in res count within res->bad_file.  The head
 * file check applies to the last path only.  seal may be NULL; otherwise
 * the seals are checked along the same walk (the return value speaks of
 * the chain only: the caller reads seal->seal).
 */
int ig_audit_verify_files(const char *const *paths, size_t npaths,
                          struct ig_audit_verify_result *res,
                          struct ig_audit_verify_seal *seal) IG_MUST_CHECK;

/* The same checks on an in-memory log (one file, no head file); the fuzz
 * target drives this.  buf need not be NUL-terminated.  seal may be NULL. */
int ig_audit_verify_buf(const char *buf, size_t len, struct ig_audit_verify_result *res,
                        struct ig_audit_verify_seal *seal) IG_MUST_CHECK;

#endif
