/*
 * gate.h - the helper's decision point: one request in, one reply out.
 *
 * ig_gate_handle() takes the parsed request (see protocol.h), makes the
 * decision for its phase, writes the audit record(s) and returns the reply
 * object.  It never fails open: any internal error becomes a deny for
 * auth/account and a session error for open_session.  The clock is a
 * parameter so tests can drive it.
 */
#ifndef IAMGATE_GATE_H
#define IAMGATE_GATE_H

#include <time.h>

#include <jansson.h>

#include "iamgate/config.h"
#include "iamgate/error.h"
#include "iamgate/session.h"

struct ig_gate_env {
	time_t now;
	/* ig_boot_time(): TOTP codes from before it are refused (see
	 * ig_totp_params.boot_time); negative (unknown): every auth is denied
	 * "boot_time_unknown".  0 only in tests. */
	int64_t boot_time;
	const char *host; /* NULL: gethostname() */
	/*
	 * How open_session issues credentials; gate.c names no STS code, so
	 * the lean iamgate-helper links without libcurl and libxml2.
	 * handoff (when set) runs first, before the grant is touched: it hands
	 * the whole request to another program (iamgate-issuer, which runs the
	 * gate again) and returns only when it could not (negative IG_ERR_*);
	 * the gate then audits open_session deny "issuer_unavailable" and
	 * replies session_err.  Otherwise issue (ig_session_open) runs in
	 * process once the grant is consumed.  Neither set: issuer_unavailable.
	 */
	int (*handoff)(void *arg);
	void *handoff_arg;
	void (*issue)(const struct ig_session_ctx *sc, json_t *reply);
	/*
	 * Optional (NULL: every call loads the request's config and frees it,
	 * as the exec'd helper does).  For a long-lived process: when
	 * *config_cache is the request's config file unchanged
	 * (ig_config_unchanged), it is used without loading; otherwise the
	 * request's config is loaded and, when it loads, replaces
	 * *config_cache (the old one is freed) instead of being freed at the
	 * end.  When it is refused, *config_cache is freed and set to NULL:
	 * a refused or changed file is never served from the cache.  The
	 * cache is the caller's (free it with ig_config_free); the gate never
	 * modifies a config it holds.
	 */
	struct ig_config **config_cache;
};

/* Handle request (borrowed); returns a new reply object (never NULL unless
 * out of memory, which the caller treats as a failure). */
json_t *ig_gate_handle(json_t *request, const struct ig_gate_env *env);

#endif
