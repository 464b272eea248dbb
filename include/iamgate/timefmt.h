/*
 * timefmt.h - the one reader and writer of ISO 8601 times, and the clock
 * type the units take so that tests can set the time.
 *
 * One grammar, read by one function (ig_timefmt_scan):
 *
 *	YYYY-MM-DD [ SEP hh:mm [ :ss [ .fraction ] ] ] [ ZONE ]
 *
 *	YYYY-MM-DD  a real calendar day of the years 1970..9999
 *	SEP         'T' or ' '
 *	fraction    1..9 digits (the first three are kept, as milliseconds)
 *	ZONE        'Z', or '+'/'-' hh[:]mm (00..23, 00..59)
 *
 * Callers narrow it by looking at what was present (an AWS expiration
 * needs 'T', seconds and 'Z'; an audit line also exactly three fraction
 * digits), so there is one place where digits, ranges and calendar days
 * are checked.  Times are unix seconds or milliseconds (int64_t).
 */
#ifndef IAMGATE_TIMEFMT_H
#define IAMGATE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "iamgate/error.h"

/* A wall clock returning unix seconds; tests inject one. */
typedef int64_t (*ig_clock_fn)(void *arg);

#define IG_TIMEFMT_MAX_TEXT 40 /* longer text is never a time */

enum ig_timefmt_zone {
	IG_TIMEFMT_ZONE_NONE = 0, /* no zone: the reader decides (local or UTC) */
	IG_TIMEFMT_ZONE_Z,        /* 'Z' */
	IG_TIMEFMT_ZONE_OFFSET    /* +hh:mm / -hhmm: offset_s */
};

struct ig_timefmt {
	int year, month, day;      /* always present */
	int hour, minute, second;  /* 0 when absent */
	int ms;                    /* the fraction's first three digits, as ms */
	char sep;                  /* 'T', ' ', or '\0' for a date alone */
	int has_seconds;           /* ":ss" present */
	int frac_digits;           /* 0: no fraction */
	enum ig_timefmt_zone zone; /* see above */
	int offset_s;              /* ZONE_OFFSET: seconds east of UTC */
};

/*
 * Read s (NUL-terminated, at most IG_TIMEFMT_MAX_TEXT bytes) by the grammar
 * above into *out.  0, or IG_ERR_PARSE for anything else (trailing bytes,
 * a 31st of April, 29 February of a common year, hour 24, a leap second).
 */
int ig_timefmt_scan(const char *s, struct ig_timefmt *out) IG_MUST_CHECK;

/*
 * The instant t names, in unix milliseconds.  With a zone, it decides;
 * without one, local = 1 reads t as the local time of this host (a time
 * that does not exist there, inside a DST gap, is IG_ERR_PARSE) and
 * local = 0 as UTC.
 */
int ig_timefmt_to_ms(const struct ig_timefmt *t, int local, int64_t *out_ms) IG_MUST_CHECK;

/*
 * The AWS form of a UTC time, "YYYY-MM-DDThh:mm:ss[.fraction]Z" (STS and
 * IMDS Expiration, KMS and DynamoDB dates), into unix seconds (the fraction
 * dropped).  0 or IG_ERR_PARSE (*out is then 0).
 */
int ig_timefmt_parse_utc(const char *s, int64_t *out) IG_MUST_CHECK;

/*
 * Write ms (unix milliseconds, years 1970..9999) as "YYYY-MM-DDThh:mm:ssZ",
 * or with with_ms as "YYYY-MM-DDThh:mm:ss.mmmZ".  0, or IG_ERR_RANGE (a time
 * outside those years, or cap too small: buf is then "").
 */
int ig_timefmt_format(int64_t ms, int with_ms, char *buf, size_t cap) IG_MUST_CHECK;

#endif
