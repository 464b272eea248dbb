/*
 * error.h - iamgate error codes.
 *
 * Every fallible core function returns int: 0 on success or one of the
 * negative IG_ERR_* constants below.  ig_strerror() gives a short English
 * text for an error; it never contains user data, so it is safe for logs.
 */
#ifndef IAMGATE_ERROR_H
#define IAMGATE_ERROR_H

#define IG_MUST_CHECK __attribute__((warn_unused_result))

enum ig_err {
	IG_OK = 0,
	IG_ERR_NOMEM = -1,     /* allocation failed */
	IG_ERR_INVAL = -2,     /* invalid argument or value */
	IG_ERR_IO = -3,        /* read/write/open failed */
	IG_ERR_CONFIG = -4,    /* configuration refused */
	IG_ERR_UNSAFE = -5,    /* file owner/mode/type not trusted */
	IG_ERR_NOTFOUND = -6,  /* no such user, file, entry */
	IG_ERR_RANGE = -7,     /* value or size out of range */
	IG_ERR_PARSE = -8,     /* malformed input */
	IG_ERR_DENIED = -9,    /* policy says no */
	IG_ERR_LOCKED = -10,   /* user locked out */
	IG_ERR_REPLAY = -11,   /* TOTP step already used */
	IG_ERR_BADCODE = -12,  /* TOTP code wrong */
	IG_ERR_TIMEOUT = -13,  /* operation timed out */
	IG_ERR_NET = -14,      /* network/transport failure */
	IG_ERR_CRYPTO = -15,   /* crypto library failure */
	IG_ERR_LOCK = -16,     /* could not take a lock */
	IG_ERR_EXISTS = -17,   /* already exists */
	IG_ERR_AWS = -18,      /* AWS returned an error */
	IG_ERR_INTERNAL = -19, /* bug: should not happen */
	IG_ERR_CONFLICT = -20  /* another writer changed it first: read again, decide again */
};

/* Short, static, secret-free description of err (0 or IG_ERR_*). */
const char *ig_strerror(int err);

#endif
