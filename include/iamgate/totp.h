/*
 * totp.h - TOTP (RFC 6238, HMAC-SHA1, liboath) with per-user state:
 * replay protection, consecutive-failure lockout, last login.
 *
 * State lives in STATE_DIR/USER.json (root, 0600; STATE_DIR root, 0700).
 * Files are reached only through a trusted directory fd with O_NOFOLLOW and
 * replaced atomically; a per-user lock file (STATE_DIR/.USER.lock) makes the
 * code check and the state update one step, so two logins with the same
 * code cannot both pass.  The clock is a parameter.
 */
#ifndef IAMGATE_TOTP_H
#define IAMGATE_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "iamgate/error.h"

#define IG_TOTP_SECRET_MAX 64 /* bytes */
#define IG_TOTP_STATE_MAX 8192

struct ig_totp_params {
	unsigned digits;          /* 6..8 */
	unsigned step_seconds;    /* e.g. 30 */
	unsigned window;          /* accepted steps either side of now */
	unsigned max_failures;    /* consecutive failures before lockout */
	unsigned lockout_seconds; /* lockout length */
	/*
	 * When this host booted (unix seconds, ig_boot_time(); 0: no floor,
	 * for tests only).  The state is not made durable by a directory fsync
	 * on every attempt, so after a crash it may hold an older last step;
	 * instead a code is refused (IG_TOTP_PREDATES_BOOT) when its step
	 * could have been accepted before this boot: step <= boot_time /
	 * step_seconds + window.  That shuts the first (window + 1) steps
	 * after a boot.
	 */
	int64_t boot_time;
};

struct ig_totp_state {
	int enrolled;
	int64_t created;
	int64_t last_step;    /* last accepted time step, -1 if none */
	unsigned failures;    /* consecutive failures */
	int64_t locked_until; /* unix seconds, 0 if not locked */
	int64_t last_login;   /* unix seconds of last accepted code, 0 if none */
	char last_rhost[64];
};

enum ig_totp_result {
	IG_TOTP_OK = 0,
	IG_TOTP_BAD_CODE,      /* wrong or malformed code (counted) */
	IG_TOTP_REPLAY,        /* right code for a step already used (counted) */
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
	int64_t step;         /* accepted step (OK only) */
};

/* Static name of a result for audit reasons: "ok", "bad_code", ... */
const char *ig_totp_result_name(enum ig_totp_result r);

/*
 * Check code for user at time now and update the state under the user's
 * lock.  dirfd is the trusted state directory.  Returns 0 with *out filled
 * (whatever the verdict), or an IG_ERR_* when the state cannot be read or
 * written safely (the caller denies).
 */
int ig_totp_verify(int dirfd, const char *user, const char *code, time_t now, const char *rhost,
                   const struct ig_totp_params *p, struct ig_totp_outcome *out) IG_MUST_CHECK;

/*
 * Store a new secret for user.  Fails with IG_ERR_EXISTS when one exists
 * unless force.  Resets failures, lockout and last step.
 */
int ig_totp_enroll(int dirfd, const char *user, const uint8_t *secret, size_t len, time_t now,
                   int force) IG_MUST_CHECK;

/* Clear failures and lockout.  IG_ERR_NOTFOUND when not enrolled. */
int ig_totp_unlock(int dirfd, const char *user) IG_MUST_CHECK;

/* Read the state (not the secret).  st->enrolled = 0 when no file. */
int ig_totp_status(int dirfd, const char *user, struct ig_totp_state *st) IG_MUST_CHECK;

/*
 * Parse a state file's text (exposed for fuzzing): fills st and the secret
 * (at most cap bytes).  IG_ERR_PARSE for anything malformed, then nothing
 * is left in secret.
 */
int ig_totp_parse_state(const char *text, size_t len, struct ig_totp_state *st, uint8_t *secret,
                        size_t cap, size_t *secret_len) IG_MUST_CHECK;

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
