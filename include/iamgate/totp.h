/*
 * totp.h - TOTP (RFC 6238, HMAC-SHA1, liboath) and the rules around it:
 * replay protection, lockout after consecutive failures, escalating.
 *
 * The rules (ig_totp_decide) are a pure function of a user's record
 * (store.h), the typed code and the clock; ig_totp_verify runs them inside
 * one store transaction, so the check and the record of the code's use are
 * one step for any backend (a shared one may answer IG_ERR_CONFLICT, and
 * the rules run again on what it holds now).
 *
 * Replay protection is kept in time: a code is accepted only when its time
 * step ends after the end of the step of the last accepted code
 * (record.used_until).  With an unchanged step length that is "a later
 * step"; across a change of step_seconds no used code comes back and no
 * fresh one is refused, except one whose step lies inside the last used
 * one (at most one step of the old length).
 *
 * Lockout: max_failures consecutive failures lock the user out for
 * lockout_seconds; each lockout after it, until a success or an unlock,
 * lasts twice the one before, up to lockout_max_seconds.
 */
#ifndef IAMGATE_TOTP_H
#define IAMGATE_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "iamgate/error.h"
#include "iamgate/reason.h"
#include "iamgate/store.h"

#define IG_TOTP_SECRET_MAX IG_STORE_SECRET_MAX /* bytes */

struct ig_totp_params {
	unsigned digits;              /* 6..8 */
	unsigned step_seconds;        /* e.g. 30 */
	unsigned window;              /* accepted steps either side of now */
	unsigned max_failures;        /* consecutive failures before a lockout */
	unsigned lockout_seconds;     /* the first lockout's length */
	unsigned lockout_max_seconds; /* cap of the doubling (>= lockout_seconds) */
	/*
	 * When this host booted (unix seconds, ig_boot_time(); 0: no floor:
	 * tests, and a store whose every commit is durable).  The file store
	 * does not fsync its directory after an attempt, so after a crash a
	 * record may come back older; instead a code is refused
	 * (IG_TOTP_PREDATES_BOOT) when its step could have been accepted
	 * before this boot: step <= boot_time / step_seconds + window.  That
	 * shuts the first (window + 1) steps after a boot.
	 */
	int64_t boot_time;
};

enum ig_totp_result {
	IG_TOTP_OK = 0,
	IG_TOTP_BAD_CODE,      /* wrong or malformed code (counted) */
	IG_TOTP_REPLAY,        /* right code, step not after the last used one (counted) */
	IG_TOTP_LOCKED,        /* locked out: code not even checked */
	IG_TOTP_NOT_ENROLLED,  /* no secret for this user */
	IG_TOTP_PREDATES_BOOT, /* right code, but its step may have been used
	                          before this boot (not counted) */
};

struct ig_totp_outcome {
	enum ig_totp_result result;
	unsigned failures;    /* after this attempt */
	int64_t locked_until; /* after this attempt */
	int lockout_started;  /* this attempt started a lockout */
	unsigned lockouts;    /* lockouts since the last success, this one included */
	int changed;          /* the record changed (the caller commits it) */
};

/* The reason for audit lines and replies: ok, bad_code, replayed_code, ... */
enum ig_reason ig_totp_result_reason(enum ig_totp_result r);

/* The length of the n-th lockout (n >= 1) under p: lockout_seconds doubled
 * n - 1 times, at most lockout_max_seconds. */
int64_t ig_totp_lockout_length(const struct ig_totp_params *p, unsigned n);

/*
 * The rules: judge code for rec at time now and update rec (failures,
 * lockout, used_until, last login).  Pure but for liboath: no clock, no
 * file, no lock.  Returns 0 with *out filled (whatever the verdict), or an
 * IG_ERR_* when the parameters are invalid or the code cannot be computed.
 */
int ig_totp_decide(struct ig_user_record *rec, const char *code, int64_t now, const char *rhost,
                   const struct ig_totp_params *p, struct ig_totp_outcome *out) IG_MUST_CHECK;

/*
 * ig_totp_decide inside one store transaction for user, committed (durably
 * when a lockout starts), retried on IG_ERR_CONFLICT a bounded number of
 * times.  Returns 0 with *out filled, or an IG_ERR_* when the record cannot
 * be read or written safely (the caller denies).
 */
int ig_totp_verify(struct ig_store *s, const char *user, const char *code, int64_t now,
                   const char *rhost, const struct ig_totp_params *p,
                   struct ig_totp_outcome *out) IG_MUST_CHECK;

/* The code for secret at time t (for enrollment confirmation and tests). */
int ig_totp_code_at(const uint8_t *secret, size_t len, time_t t, const struct ig_totp_params *p,
                    char out[9]) IG_MUST_CHECK;

/* New random secret (20 bytes) from the kernel CSPRNG. */
int ig_totp_new_secret(uint8_t *secret, size_t len) IG_MUST_CHECK;

/* Base32 (RFC 4648, no padding) of secret into a malloc'd string (wipe it). */
int ig_totp_base32(const uint8_t *secret, size_t len, char **out) IG_MUST_CHECK;

/* Decode base32 text (spaces ignored, case-insensitive) into secret. */
int ig_totp_from_base32(const char *text, uint8_t *secret, size_t cap, size_t *len) IG_MUST_CHECK;

#endif
