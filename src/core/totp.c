/*
 * totp.c - TOTP verification with liboath and its rules (totp.h).
 *
 * Codes are generated with liboath for every step in the window and
 * compared in constant time (liboath's own validate functions compare with
 * strcmp), all steps always computed, so timing reveals nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <liboath/oath.h>

#include "iamgate/totp.h"
#include "iamgate/util.h"

/* Attempts at one login's transaction when a shared store keeps
 * answering IG_ERR_CONFLICT (another bastion wrote the record meanwhile). */
#define CONFLICT_TRIES 5

enum ig_reason ig_totp_result_reason(enum ig_totp_result r)
{
	switch (r) {
	case IG_TOTP_OK: return IG_R_OK;
	case IG_TOTP_BAD_CODE: return IG_R_BAD_CODE;
	case IG_TOTP_REPLAY: return IG_R_REPLAYED_CODE;
	case IG_TOTP_LOCKED: return IG_R_LOCKED_OUT;
	case IG_TOTP_NOT_ENROLLED: return IG_R_NOT_ENROLLED;
	case IG_TOTP_PREDATES_BOOT: return IG_R_CODE_PREDATES_BOOT;
	default: return IG_R_INTERNAL_ERROR;
	}
}

static int oath_ready(void)
{
	static int done;

	if (!done) {
		if (oath_init() != OATH_OK)
			return IG_ERR_CRYPTO;
		done = 1;
	}
	return 0;
}

static int code_well_formed(const char *code, unsigned digits)
{
	size_t n;

	if (code == NULL)
		return 0;
	n = strnlen(code, 16);
	if (n != digits)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	return 1;
}

int ig_totp_code_at(const uint8_t *secret, size_t len, time_t t, const struct ig_totp_params *p,
                    char out[9])
{
	int r;

	if ((r = oath_ready()) != 0)
		return r;
	if (p->digits < 6 || p->digits > 8 || p->step_seconds == 0 || t < 0)
		return IG_ERR_INVAL;
	if (oath_totp_generate2((const char *)secret, len, t, p->step_seconds, 0, p->digits, 0,
	                        out) != OATH_OK)
		return IG_ERR_CRYPTO;
	return 0;
}

int64_t ig_totp_lockout_length(const struct ig_totp_params *p, unsigned n)
{
	int64_t len = p->lockout_seconds;

	for (unsigned i = 1; i < n && len < p->lockout_max_seconds; i++)
		len *= 2;
	return len < p->lockout_max_seconds ? len : p->lockout_max_seconds;
}

static int params_ok(const struct ig_totp_params *p)
{
	return p->digits >= 6 && p->digits <= 8 && p->step_seconds != 0 &&
	       p->lockout_max_seconds >= p->lockout_seconds;
}

/*
 * The latest step in now's window whose code is code, or -1.  Every step
 * is computed and compared in constant time, whatever matches.
 */
static int match_step(const struct ig_user_record *rec, const char *code, int64_t now,
                      const struct ig_totp_params *p, int64_t *matched)
{
	int64_t counter = now / p->step_seconds;
	int well_formed = code_well_formed(code, p->digits);
	char cand[9];
	int r;

	*matched = -1;
	for (int64_t off = -(int64_t)p->window; off <= (int64_t)p->window; off++) {
		int64_t s = counter + off;
		int eq;

		if (s < 0)
			continue;
		r = ig_totp_code_at(rec->secret, rec->secret_len, (time_t)(s * p->step_seconds), p,
		                    cand);
		if (r != 0)
			return r;
		eq = well_formed && ig_ct_equal(cand, code, p->digits);
		explicit_bzero(cand, sizeof(cand));
		if (eq && s > *matched)
			*matched = s;
	}
	return 0;
}

static void accept_code(struct ig_user_record *rec, int64_t step, int64_t now, const char *rhost,
                        const struct ig_totp_params *p)
{
	rec->failures = 0;
	rec->lockouts = 0;
	rec->used_until = (step + 1) * (int64_t)p->step_seconds;
	rec->last_login = now;
	if (ig_bfmt(rec->last_rhost, sizeof(rec->last_rhost), "%s", rhost ? rhost : "") != 0)
		rec->last_rhost[0] = '\0';
}

/* A counted failure; the max_failures-th starts the next, longer lockout. */
static void count_failure(struct ig_user_record *rec, int64_t now, const struct ig_totp_params *p,
                          struct ig_totp_outcome *out)
{
	rec->failures++;
	if (rec->failures < p->max_failures)
		return;
	rec->lockouts++;
	rec->locked_until = now + ig_totp_lockout_length(p, rec->lockouts);
	out->lockout_started = 1;
}

static void judge(struct ig_user_record *rec, int64_t matched, int64_t now, const char *rhost,
                  const struct ig_totp_params *p, struct ig_totp_outcome *out)
{
	if (matched < 0) {
		out->result = IG_TOTP_BAD_CODE;
	} else if ((matched + 1) * (int64_t)p->step_seconds <= rec->used_until) {
		out->result = IG_TOTP_REPLAY;
	} else if (p->boot_time > 0 &&
	           matched <= p->boot_time / p->step_seconds + (int64_t)p->window) {
		/* The right code, but it may have been accepted before a crash
		 * whose record did not reach the disk.  Not a guess: not
		 * counted, and its use is not recorded (the floor keeps it shut). */
		out->result = IG_TOTP_PREDATES_BOOT;
		return;
	} else {
		out->result = IG_TOTP_OK;
		accept_code(rec, matched, now, rhost, p);
		return;
	}
	count_failure(rec, now, p, out);
}

int ig_totp_decide(struct ig_user_record *rec, const char *code, int64_t now, const char *rhost,
                   const struct ig_totp_params *p, struct ig_totp_outcome *out)
{
	int64_t matched;
	int r;

	memset(out, 0, sizeof(*out));
	if (!params_ok(p) || now < 0)
		return IG_ERR_INVAL;
	if (!rec->enrolled) {
		out->result = IG_TOTP_NOT_ENROLLED;
		return 0;
	}
	if (rec->locked_until > now) {
		out->result = IG_TOTP_LOCKED;
		goto done;
	}
	if (rec->locked_until != 0) {
		/* The lockout has run out: count afresh, but remember it. */
		rec->locked_until = 0;
		rec->failures = 0;
	}
	if ((r = match_step(rec, code, now, p, &matched)) != 0)
		return r;
	judge(rec, matched, now, rhost, p, out);
done:
	out->failures = rec->failures;
	out->locked_until = rec->locked_until;
	out->lockouts = rec->lockouts;
	out->changed = out->result != IG_TOTP_LOCKED;
	return 0;
}

int ig_totp_verify(struct ig_store *s, const char *user, const char *code, int64_t now,
                   const char *rhost, const struct ig_totp_params *p, struct ig_totp_outcome *out)
{
	struct ig_user_record rec;
	int r = IG_ERR_CONFLICT;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < CONFLICT_TRIES && r == IG_ERR_CONFLICT; i++) {
		struct ig_store_txn *t = NULL;

		r = ig_store_begin(s, user, &t, &rec);
		if (r == 0)
			r = ig_totp_decide(&rec, code, now, rhost, p, out);
		if (r == 0 && out->changed)
			r = ig_store_commit(s, t, &rec,
			                    out->lockout_started ? IG_STORE_DURABLE : 0);
		ig_store_record_wipe(&rec);
		ig_store_end(s, t);
	}
	return r;
}

int ig_totp_new_secret(uint8_t *secret, size_t len)
{
	return ig_random_bytes(secret, len);
}

int ig_totp_base32(const uint8_t *secret, size_t len, char **out)
{
	char *b = NULL;
	size_t blen = 0;
	int r;

	*out = NULL;
	if ((r = oath_ready()) != 0)
		return r;
	if (oath_base32_encode((const char *)secret, len, &b, &blen) != OATH_OK)
		return IG_ERR_CRYPTO;
	/* Drop '=' padding: authenticator apps expect the bare alphabet. */
	while (blen > 0 && b[blen - 1] == '=')
		b[--blen] = '\0';
	*out = b;
	return 0;
}

int ig_totp_from_base32(const char *text, uint8_t *secret, size_t cap, size_t *len)
{
	char *b = NULL;
	size_t blen = 0, tlen;
	int r;

	*len = 0;
	if ((r = oath_ready()) != 0)
		return r;
	tlen = strnlen(text, 1024);
	if (tlen == 0 || tlen >= 1024)
		return IG_ERR_PARSE;
	if (oath_base32_decode(text, tlen, &b, &blen) != OATH_OK)
		return IG_ERR_PARSE;
	if (blen > cap) {
		ig_freezero(b, blen);
		return IG_ERR_RANGE;
	}
	memcpy(secret, b, blen);
	*len = blen;
	ig_freezero(b, blen);
	return 0;
}
