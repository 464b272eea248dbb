/*
 * audit.h - the tamper-evident audit log (JSON Lines with a SHA-256 chain).
 *
 * Each line is one compact JSON object whose keys come in this order:
 *   time (UTC, "YYYY-MM-DDTHH:MM:SS.mmmZ"), seq, host, event, user, rhost,
 *   service, decision, reason, then the event's extra fields, then prev.
 * prev is the lowercase hex SHA-256 of the previous line's bytes (without
 * its newline).  A new log starts with a "log_start" line whose prev is the
 * hash it follows (64 zeros for a brand-new chain, or the last hash of the
 * rotated file).  seq increases by one per line across rotation.
 *
 * The lines themselves are described in audit_line.h, the chain check in
 * audit_verify.h, forward-secure sealing in audit_seal.h.
 *
 * Appends take an exclusive flock (on the head file NAME.head, see Files;
 * polled, bounded by lock_timeout_ms), open the log O_RDWR|O_APPEND|
 * O_NOFOLLOW (read access is for the tail), find the chain head by reading
 * at most 64 KiB from the end, write each line with a single write(2),
 * release the lock and fsync before returning (group commit: one flush
 * carries the lines of every writer that wrote before it began).  A torn final line (no trailing newline, e.g. a
 * writer killed mid-write, or a last line that is not a record) is
 * terminated and followed by an "audit_torn_tail" line (decision info,
 * reason torn_tail_detected, prev = hash of the fragment, seq = last
 * record's + 1) in the same write(2), so it is never merged into the next
 * record; verify reports it as "torn" and walks on.
 *
 * Lines never contain secrets, session tokens or typed codes: callers pass
 * only what may be logged.  Each event is also sent to syslog (LOG_AUTHPRIV)
 * as one line with the same fields when use_syslog is set.
 *
 * Files.  For a log PATH = DIR/NAME (DIR must pass ig_safe_path):
 *   DIR/NAME       the log: root-owned regular file, nlink 1, not group- or
 *                  world-writable; created 0640 root:iamgate-audit (group
 *                  root when the iamgate-audit group does not exist).
 *   DIR/NAME.head  root-only (0600) lock and head file.  Writers flock it
 *                  (not the log: auditors can open the log, and a reader's
 *                  lock must never be able to stall logins).  After each
 *                  append it holds the seq and hash of the last line written
 *                  ("iamgate-audit-head v1 SEQ HASH\n", not fsynced: after a
 *                  crash it can lag behind the log, never run ahead of it).
 *   DIR/NAME.1     the file logrotate rotated away (predecessor).
 *   DIR/NAME.seal  the sealing key (root 0600), when opts->seal_key is NULL
 *                  and `iamgate audit seal-init` made one; absent: no seal.
 *
 * Rotation design (packaging/logrotate/iamgate: rename + create, no
 * copytruncate, no dateext, nocompress, notifempty).  logrotate only renames
 * NAME to NAME.1; it takes no lock.  Everything else happens in the writer,
 * under the head lock: a writer that finds the log empty (or missing: it
 * creates it) starts it with a log_start line that continues the chain from
 * the predecessor: the last line of NAME.1 (its hash, even when that line is
 * a torn fragment, and its last seq), or the head file when it records a
 * later seq (NAME.1 missing, renamed with dateext, or truncated).  A writer
 * that opened the log just before the rename appends to NAME.1 under the
 * lock, so the next writer sees that line when it reads NAME.1's tail.
 * `iamgate audit verify --rotated` (or --log NAME.1 --log NAME) then checks
 * the chain across the files: each later file's log_start must carry the hash
 * of the earlier file's last line and the next seq.
 *
 * The head file also catches a shortened or replaced live log: when the log's
 * last record is older than the head (or has another hash at the same seq),
 * the writer appends an "audit_head_mismatch" line before its event, and
 * verify reports it ("missing" or "edited"), so removing the last lines of
 * the log is not silent even though no later line hashes them.
 */
#ifndef IAMGATE_AUDIT_H
#define IAMGATE_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "iamgate/error.h"

/* Longest line (without its newline) a writer produces or verify accepts. */
#define IG_AUDIT_MAX_LINE 16384

/* Default bound on the wait for the writers' lock. */
#define IG_AUDIT_LOCK_TIMEOUT_MS 5000

struct ig_audit_opts {
	const char *path;     /* log file, absolute; parent must be a trusted dir */
	int use_syslog;       /* also send to syslog(LOG_AUTHPRIV) */
	const char *host;     /* NULL: gethostname() */
	int64_t now_ms;       /* 0: real clock (CLOCK_REALTIME); tests inject */
	int lock_timeout_ms;  /* 0: IG_AUDIT_LOCK_TIMEOUT_MS; bounded wait for the lock */
	const char *seal_key; /* the sealing key file; NULL: PATH.seal beside the log */
};

struct ig_audit_event {
	const char *event;    /* "auth", "account", "open_session", "close_session",
	                         "issue", "lockout", "unlock", "enroll", "config", ... */
	const char *user;     /* may be NULL -> JSON null */
	const char *rhost;    /* may be NULL */
	const char *service;  /* may be NULL */
	const char *decision; /* "allow", "deny" or "info" */
	const char *reason;   /* machine reason, e.g. "ok", "bad_code", "rhost_not_allowed" */
	json_t *extra;        /* optional object of further fields (borrowed), e.g.
	                         role, arn, source_identity, access_key_id, expiration */
};

/*
 * Append one event.  Returns 0 only when the line is on disk (fsync done);
 * any failure (cannot open/lock/write/fsync, unsafe file) returns an error
 * and the caller must treat its decision as a deny.
 *
 * event, decision ("allow", "deny" or "info") and reason are required;
 * user, rhost, service and host are stored as given, except that bytes that
 * are not valid UTF-8 become the text \xNN and each is cut at 256 bytes
 * (marked with "..."), so an attacker-chosen user name is still logged.
 * extra must be a JSON object or NULL.  Defence in depth against a caller
 * bug: extra keys (at any depth) whose lowercased name contains "secret",
 * "token", "password", "passwd", "passphrase", "code", "otp", "seed",
 * "cookie" or "private", and top-level keys that repeat a fixed field
 * (time, seq, host, ..., prev), are not written; their names are listed in
 * a "dropped_keys" array.  A line longer than IG_AUDIT_MAX_LINE less room
 * for a seal (IG_AUDIT_SEAL_SUFFIX_MAX) is refused
 * (IG_ERR_RANGE) and nothing is written.  IG_ERR_LOCK when the writers' lock
 * is not obtained within opts->lock_timeout_ms; IG_ERR_UNSAFE for a symlink,
 * hard link, non-root-owned or group/world-writable log or head file;
 * IG_ERR_PARSE when the log's tail is not something a writer produced (last
 * line longer than a writer writes), so it cannot be chained safely.
 */
int ig_audit_append(const struct ig_audit_opts *opts,
                    const struct ig_audit_event *ev) IG_MUST_CHECK;

/*
 * Close the sealing key's epoch when it has passed (an audit_seal line, then
 * the key evolves), with no event: `iamgate audit seal`, run by a timer, so
 * the key on the host never outlives its epoch on a quiet bastion.  Nothing
 * happens when no sealing key exists or its epoch is current.
 */
int ig_audit_tick(const struct ig_audit_opts *opts) IG_MUST_CHECK;

#endif
