/*
 * session.h - per-session AWS credentials (open_session / close_session).
 *
 * open_session resolves the user's roles (roles.h, with the PII rule),
 * assumes each one through STS, and writes SESSION_DIR/<id>/credentials and
 * config (user-owned 0600 in a user-owned 0700 directory, below a root 0711
 * SESSION_DIR), then puts AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE,
 * AWS_REGION (and AWS_PROFILE with exactly one role) and IAMGATE_SESSION=<id>
 * into the reply's "env".  close_session removes the directory.  Every
 * issued or refused role is audited.
 */
#ifndef IAMGATE_SESSION_H
#define IAMGATE_SESSION_H

#include <time.h>

#include <jansson.h>

#include "iamgate/audit.h"
#include "iamgate/config.h"

struct ig_session_ctx {
	const struct ig_config *cfg;
	const char *user;
	const char *rhost;
	const char *service;
	time_t now;
	const char *host; /* NULL: gethostname() */
	int mfa_passed;   /* this transaction's auth passed TOTP (from the grant) */
	const struct ig_audit_opts *aopts;
};

/* Fill reply (result, reason, messages, env, session) for open_session. */
void ig_session_open(const struct ig_session_ctx *sc, json_t *reply);

/* Remove the session's directory; fill reply. */
void ig_session_close(const struct ig_session_ctx *sc, const char *session_id, json_t *reply);

#endif
