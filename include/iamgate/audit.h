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
 * Appends take an exclusive flock on the log, find the chain head (last
 * line), write one line with a single write(2) and fsync before returning.
 * A torn final line (no trailing newline, e.g. a writer killed mid-write) is
 * terminated and followed by an "audit_torn_tail" line, so it is never merged
 * into the next record; verify reports it.
 *
 * Lines never contain secrets, session tokens or typed codes: callers pass
 * only what may be logged.  Each event is also sent to syslog (LOG_AUTHPRIV)
 * as one line with the same fields when use_syslog is set.
 */
#ifndef IAMGATE_AUDIT_H
#define IAMGATE_AUDIT_H

#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "iamgate/error.h"

struct ig_audit_opts {
	const char *path; /* log file, absolute; parent must be a trusted dir */
	int use_syslog;   /* also send to syslog(LOG_AUTHPRIV) */
	const char *host; /* NULL: gethostname() */
	int64_t now_ms;   /* 0: real clock (CLOCK_REALTIME); tests inject */
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
 */
int ig_audit_append(const struct ig_audit_opts *opts,
                    const struct ig_audit_event *ev) IG_MUST_CHECK;

struct ig_audit_verify_result {
	uint64_t lines;    /* lines read */
	uint64_t bad_line; /* 1-based number of the first bad line, 0 if intact */
	char what[256];    /* what is wrong at bad_line: edited, missing, reordered, torn, ... */
};

/* Verify the chain of the log at path.  0 if intact, IG_ERR_PARSE if not
 * (res says where and why), other errors if it cannot be read. */
int ig_audit_verify(const char *path, struct ig_audit_verify_result *res) IG_MUST_CHECK;

/* `iamgate audit verify|show ...`: argv[0] is "audit".  Returns exit status. */
int ig_audit_cli(int argc, char **argv, const char *default_log_path);

#endif
