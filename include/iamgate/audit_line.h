/*
 * audit_line.h - one line of the audit log: build it, parse it, render it
 * for syslog.  The log as a whole (append, rotation, head file) is
 * include/iamgate/audit.h; the chain check is audit_verify.h; sealing is
 * audit_seal.h.
 *
 * A line is one compact JSON object whose keys come in this order:
 *   time (UTC, "YYYY-MM-DDTHH:MM:SS.mmmZ"), seq, host, event, user, rhost,
 *   service, decision, reason, then the event's extra fields, then prev,
 *   then, on a sealed log, seal.
 * prev is the lowercase hex SHA-256 of the previous line's bytes (without
 * its newline).  seal is "EPOCH:MAC": MAC is the lowercase hex
 * HMAC-SHA-256, under the sealing key of epoch EPOCH, of the line's bytes
 * up to (not including) the text ,"seal": - so it covers prev and through
 * it every line before (see audit_seal.h).
 */
#ifndef IAMGATE_AUDIT_LINE_H
#define IAMGATE_AUDIT_LINE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "iamgate/audit.h"
#include "iamgate/error.h"

#define IG_AUDIT_HASH_LEN 32
#define IG_AUDIT_HEX_LEN 64
/* The longest ,"seal":"EPOCH:MAC"} a sealed line ends with; every line is
 * built at most this much shorter than IG_AUDIT_MAX_LINE, sealed or not. */
#define IG_AUDIT_SEAL_SUFFIX_MAX 96

/* One parsed audit line.  String pointers borrow from obj. */
struct ig_audit_record {
	json_t *obj;     /* owned; ig_audit_line_clear releases it */
	int64_t time_ms; /* UTC milliseconds since the epoch */
	uint64_t seq;
	const char *host, *event, *decision, *reason;
	const char *user, *rhost, *service; /* NULL when the line has null */
	char prev[IG_AUDIT_HEX_LEN + 1];
	int sealed;          /* the line carries a seal */
	uint64_t seal_epoch; /* when sealed */
	uint8_t seal_mac[IG_AUDIT_HASH_LEN];
	size_t sealed_len; /* bytes the MAC covers: the line up to ,"seal": */
};

/*
 * Parse one line (len bytes, no newline, need not be NUL-terminated) as an
 * audit record: a JSON object, no duplicate keys, keys in the order above,
 * time in the exact format with a real date, seq >= 1, decision one of
 * allow/deny/info, prev 64 lowercase hex digits, seal (optional, last) as
 * the writer renders it.  0 and rec filled, or IG_ERR_PARSE with a short
 * reason in why (if why != NULL; never echoes the line's bytes).  On error
 * rec->obj is NULL.
 */
int ig_audit_line_parse(const char *line, size_t len, struct ig_audit_record *rec, char *why,
                        size_t whycap) IG_MUST_CHECK;

/* Release rec->obj and clear rec.  NULL-safe, idempotent. */
void ig_audit_line_clear(struct ig_audit_record *rec);

/* SHA-256 of len bytes.  0 or IG_ERR_CRYPTO. */
int ig_audit_line_hash(const void *data, size_t len, uint8_t out[IG_AUDIT_HASH_LEN]) IG_MUST_CHECK;

/* 2n lowercase hex digits into n bytes.  0 or IG_ERR_PARSE. */
int ig_audit_line_unhex(const char *s, size_t n, uint8_t *out) IG_MUST_CHECK;

/* The fields of one line, cleaned (valid UTF-8, capped) and filtered. */
struct ig_audit_fields {
	char time[32];
	char *host, *event, *user, *rhost, *service, *reason;
	const char *decision;
	json_t *extra; /* filtered copy, or NULL */
};

/*
 * Clean an event into fields (see ig_audit_append for what is cut, escaped
 * or dropped): the time from opts->now_ms or the clock, the host from
 * opts->host or gethostname().  0, IG_ERR_NOMEM, IG_ERR_RANGE (a time past
 * 9999), IG_ERR_INTERNAL (no clock or host name).
 */
int ig_audit_line_fields(const struct ig_audit_opts *opts, const struct ig_audit_event *ev,
                         struct ig_audit_fields *f) IG_MUST_CHECK;
void ig_audit_line_fields_clear(struct ig_audit_fields *f);

/*
 * Render f as one line chained after prev_hex with sequence number seq:
 * *out holds *len bytes plus a newline (malloc'd).  IG_ERR_RANGE when the
 * line would be longer than IG_AUDIT_MAX_LINE - IG_AUDIT_SEAL_SUFFIX_MAX.
 */
int ig_audit_line_build(const struct ig_audit_fields *f, uint64_t seq, const char *prev_hex,
                        char **out, size_t *len) IG_MUST_CHECK;

/*
 * The syslog text for one audit line: "event=E user=U rhost=R service=S
 * decision=D reason=R [extra=V ...] seq=N hash=H" where H is the SHA-256 of
 * the line.  Values made of [A-Za-z0-9._@:/+,=-] appear bare, others in
 * double quotes with '"', '\\', control and non-ASCII bytes escaped (\xNN),
 * so nothing a user typed can forge a second field or reach syslog as a
 * control character; each value is cut at 256 bytes, the text at cap - 1.
 * 0, or IG_ERR_PARSE when line is not an audit record.
 */
int ig_audit_line_syslog(const char *line, size_t len, char *out, size_t cap) IG_MUST_CHECK;

/* Send the syslog text of a line to LOG_AUTHPRIV (notice for a deny). */
void ig_audit_line_send_syslog(const char *line, size_t len, const char *decision);

/*
 * Parse a time for `audit show --since/--until`: ISO-8601 "YYYY-MM-DD",
 * "YYYY-MM-DDTHH:MM[:SS[.mmm]]" (or a space for T) with an optional "Z" or
 * "+HH:MM"/"-HH:MM" offset, or relative "-N" + s/m/h/d/w (before now_ms),
 * or "now".  A time without zone is local time, or UTC when utc is set.
 * A date alone means its first millisecond, or its last when end_of_day is
 * set (so --until 2026-11-29 includes that whole day).  0 or IG_ERR_PARSE.
 */
int ig_audit_line_parse_time(const char *s, int utc, int64_t now_ms, int end_of_day,
                             int64_t *out_ms) IG_MUST_CHECK;

#endif
