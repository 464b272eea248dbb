/*
 * store.h - each user's TOTP secret and state, behind one interface.
 *
 * The record (struct ig_user_record) is what the TOTP rules (totp.h) read
 * and change; a backend only keeps it.  Every change is a transaction:
 *
 *	ig_store_begin   take the user's record, with whatever makes the
 *	                 later commit exclusive (the file backend: the user's
 *	                 lock; a shared backend: the version it read)
 *	ig_store_commit  write the changed record; IG_ERR_CONFLICT when a
 *	                 shared backend saw another writer since begin (the
 *	                 caller begins again and decides again)
 *	ig_store_end     release, wipe
 *
 * so "check the code and record its use" is one step for one login, and
 * two logins with the same code cannot both pass, on one host or across
 * many.  A backend is a file of its own behind struct ig_store_ops; the
 * rules never see which.
 *
 * Time, not step index: used_until is the end (unix seconds, exclusive) of
 * the time step of the last accepted code, so the step length may change
 * without refusing good codes or reopening used ones.
 */
#ifndef IAMGATE_STORE_H
#define IAMGATE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "iamgate/error.h"

struct ig_config;

#define IG_STORE_SECRET_MAX 64 /* bytes of a TOTP secret */

struct ig_user_record {
	int enrolled;         /* 0: no secret (and nothing else) for this user */
	int64_t created;      /* unix seconds of enrolment */
	int64_t used_until;   /* end of the last accepted code's step; 0: none */
	unsigned failures;    /* consecutive failed attempts */
	int64_t locked_until; /* unix seconds; 0: not locked */
	unsigned lockouts;    /* lockouts since the last success or unlock */
	int64_t last_login;   /* unix seconds of the last accepted code; 0: none */
	char last_rhost[64];  /* its source address */
	uint8_t secret[IG_STORE_SECRET_MAX];
	size_t secret_len;
};

/* Commit flags. */
/* The record must survive a crash once commit returns (enrolment, unlock,
 * a lockout's start).  Without it a backend may skip flushing whatever its
 * own crash story covers (the file backend: the directory's fsync; see
 * ig_store_attempts_durable). */
#define IG_STORE_DURABLE 1u

struct ig_store;
struct ig_store_txn;

struct ig_store_ops {
	const char *name; /* "file", ... */
	int (*begin)(struct ig_store *s, const char *user, struct ig_store_txn **t,
	             struct ig_user_record *rec);
	int (*commit)(struct ig_store *s, struct ig_store_txn *t, const struct ig_user_record *rec,
	              unsigned flags);
	void (*end)(struct ig_store *s, struct ig_store_txn *t);
	/* Call fn for every user name held (admin listing, migration). */
	int (*list)(struct ig_store *s, int (*fn)(const char *user, void *arg), void *arg);
	void (*close)(struct ig_store *s);
	/* 1 when every commit is durable: no crash can roll a record back, so
	 * the TOTP rules need no boot floor (totp.h). */
	int attempts_durable;
};

struct ig_store {
	const struct ig_store_ops *ops;
	void *impl;
};

/*
 * Open the store the configuration names (the file backend under
 * cfg->totp.state_dir, created root 0700 when absent and its parent is
 * trusted).  On failure why says what and how to fix it, with no secret.
 */
int ig_store_open(const struct ig_config *cfg, struct ig_store **out, char *why,
                  size_t whycap) IG_MUST_CHECK;
void ig_store_close(struct ig_store *s);

/* The transaction (see the top of this file).  user must pass
 * ig_name_is_safe.  A user with no record gets rec->enrolled == 0 and a
 * transaction all the same (enrolment commits into it).  A record that is
 * there but does not parse gives IG_ERR_PARSE with the transaction open
 * and rec empty, so that a forced enrolment can replace it; any other error
 * leaves *t NULL.  Always end what begin returned (ig_store_end(s, NULL) is
 * a no-op).  rec holds the secret: wipe it (ig_store_record_wipe). */
int ig_store_begin(struct ig_store *s, const char *user, struct ig_store_txn **t,
                   struct ig_user_record *rec) IG_MUST_CHECK;
int ig_store_commit(struct ig_store *s, struct ig_store_txn *t, const struct ig_user_record *rec,
                    unsigned flags) IG_MUST_CHECK;
void ig_store_end(struct ig_store *s, struct ig_store_txn *t);

int ig_store_list(struct ig_store *s, int (*fn)(const char *user, void *arg),
                  void *arg) IG_MUST_CHECK;

/* 1 when a crash can never roll a record back (see ig_store_ops). */
int ig_store_attempts_durable(const struct ig_store *s);

/* explicit_bzero the whole record (it holds the secret). */
void ig_store_record_wipe(struct ig_user_record *rec);

/*
 * The administrators' operations, each one transaction:
 * enroll: a new secret (10..IG_STORE_SECRET_MAX bytes) with fresh state;
 *         IG_ERR_EXISTS when one exists and !force.
 * unlock: failures, lockout and the lockout count cleared; IG_ERR_NOTFOUND
 *         when the user is not enrolled.
 * status: the record without its secret (rec->secret wiped, secret_len 0);
 *         rec->enrolled == 0 for an unknown user.
 */
int ig_store_enroll(struct ig_store *s, const char *user, const uint8_t *secret, size_t len,
                    int64_t now, int force) IG_MUST_CHECK;
int ig_store_unlock(struct ig_store *s, const char *user) IG_MUST_CHECK;
int ig_store_status(struct ig_store *s, const char *user, struct ig_user_record *rec) IG_MUST_CHECK;

/* The file backend (store_file.c), exposed for the store's own use, its
 * tests and its fuzz target. */
extern const struct ig_store_ops ig_store_file_ops;
int ig_store_file_open(const char *dir, unsigned step_seconds, struct ig_store **out, char *why,
                       size_t whycap) IG_MUST_CHECK;

/*
 * A state file's text into rec (enrolled = 1).  Format 2 holds used_until;
 * format 1 (a step index, "last_step") is read with the step length given
 * (used_until = (last_step + 1) * step_seconds) so existing files keep their
 * replay protection.  IG_ERR_PARSE for anything malformed; rec then holds
 * no secret.  The backend reads format 1 with the step length it was
 * opened with (the configuration's).
 */
#define IG_STORE_FILE_MAX 8192
int ig_store_file_parse(const char *text, size_t len, unsigned step_seconds,
                        struct ig_user_record *rec) IG_MUST_CHECK;

#endif
