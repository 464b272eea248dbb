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
 * Appends take an exclusive flock (on the head file NAME.head, see Files;
 * polled, bounded by lock_timeout_ms), open the log O_RDWR|O_APPEND|
 * O_NOFOLLOW (read access is for the tail), find the chain head by reading
 * at most 64 KiB from the end, write each line with a single write(2) and
 * fsync before returning.  A torn final line (no trailing newline, e.g. a
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
	const char *path;    /* log file, absolute; parent must be a trusted dir */
	int use_syslog;      /* also send to syslog(LOG_AUTHPRIV) */
	const char *host;    /* NULL: gethostname() */
	int64_t now_ms;      /* 0: real clock (CLOCK_REALTIME); tests inject */
	int lock_timeout_ms; /* 0: IG_AUDIT_LOCK_TIMEOUT_MS; bounded wait for the lock */
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
 * a "dropped_keys" array.  A line longer than IG_AUDIT_MAX_LINE is refused
 * (IG_ERR_RANGE) and nothing is written.  IG_ERR_LOCK when the writers' lock
 * is not obtained within opts->lock_timeout_ms; IG_ERR_UNSAFE for a symlink,
 * hard link, non-root-owned or group/world-writable log or head file;
 * IG_ERR_PARSE when the log's tail is not something a writer produced (last
 * line longer than a writer writes), so it cannot be chained safely.
 */
int ig_audit_append(const struct ig_audit_opts *opts,
                    const struct ig_audit_event *ev) IG_MUST_CHECK;

struct ig_audit_verify_result {
	uint64_t lines;    /* lines read */
	uint64_t bad_line; /* 1-based number of the first bad line, 0 if intact */
	char what[256];    /* what is wrong at bad_line: edited, missing, reordered, torn, ... */
	/* Added fields (the original three keep their meaning): */
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
	char start_prev[65]; /* prev of the first line: 64 zeros for a new chain,
	                        else the hash of a log that is not part of this check */
	int head_checked;    /* 1 when the end was compared with the writers' head
	                        file (readable by root only) */
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
 * file check applies to the last path only.
 */
int ig_audit_verify_files(const char *const *paths, size_t npaths,
                          struct ig_audit_verify_result *res) IG_MUST_CHECK;

/* The same checks on an in-memory log (one file, no head file); the fuzz
 * target drives this.  buf need not be NUL-terminated. */
int ig_audit_verify_buf(const char *buf, size_t len,
                        struct ig_audit_verify_result *res) IG_MUST_CHECK;

/* One parsed audit line.  String pointers borrow from obj. */
struct ig_audit_record {
	json_t *obj;     /* owned; ig_audit_record_clear releases it */
	int64_t time_ms; /* UTC milliseconds since the epoch */
	uint64_t seq;
	const char *host, *event, *decision, *reason;
	const char *user, *rhost, *service; /* NULL when the line has null */
	char prev[65];
};

/*
 * Parse one line (len bytes, no newline, need not be NUL-terminated) as an
 * audit record: a JSON object, no duplicate keys, keys in the order above,
 * time in the exact format with a real date, seq >= 1, decision one of
 * allow/deny/info, prev 64 lowercase hex digits.  0 and rec filled, or
 * IG_ERR_PARSE with a short reason in why (if why != NULL; never echoes
 * the line's bytes).  On error rec->obj is NULL.
 */
int ig_audit_parse_line(const char *line, size_t len, struct ig_audit_record *rec, char *why,
                        size_t whycap) IG_MUST_CHECK;

/* Release rec->obj and clear rec.  NULL-safe, idempotent. */
void ig_audit_record_clear(struct ig_audit_record *rec);

/*
 * The syslog text for one audit line: "event=E user=U rhost=R service=S
 * decision=D reason=R [extra=V ...] seq=N hash=H" where H is the SHA-256 of
 * the line.  Values made of [A-Za-z0-9._@:/+,=-] appear bare, others in
 * double quotes with '"', '\\', control and non-ASCII bytes escaped (\xNN),
 * so nothing a user typed can forge a second field or reach syslog as a
 * control character; each value is cut at 256 bytes, the text at cap - 1.
 * 0, or IG_ERR_PARSE when line is not an audit record.
 */
int ig_audit_syslog_text(const char *line, size_t len, char *out, size_t cap) IG_MUST_CHECK;

/*
 * Parse a time for `audit show --since/--until`: ISO-8601 "YYYY-MM-DD",
 * "YYYY-MM-DDTHH:MM[:SS[.mmm]]" (or a space for T) with an optional "Z" or
 * "+HH:MM"/"-HH:MM" offset, or relative "-N" + s/m/h/d/w (before now_ms),
 * or "now".  A time without zone is local time, or UTC when utc is set.
 * A date alone means its first millisecond, or its last when end_of_day is
 * set (so --until 2026-11-29 includes that whole day).  0 or IG_ERR_PARSE.
 */
int ig_audit_parse_time(const char *s, int utc, int64_t now_ms, int end_of_day,
                        int64_t *out_ms) IG_MUST_CHECK;

/*
 * `iamgate audit verify|show ...`: argv[0] is "audit".  Returns exit status:
 * 0 ok/intact, 1 chain broken or torn (verify), 2 usage error or a log or
 * configuration that cannot be read.  default_log_path is used when neither
 * --log nor --config is given (may be NULL).  Usage: ig_audit_cli with
 * "audit", "help".
 */
int ig_audit_cli(int argc, char **argv, const char *default_log_path);

#endif
