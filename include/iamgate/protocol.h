/*
 * protocol.h - the contract between pam_iamgate.so and iamgate-helper.
 *
 * The module execs the helper by absolute path with an empty environment,
 * the request on stdin and the reply on stdout, and kills it when it
 * overruns its time limit.  Secrets (the typed code) travel only on the
 * pipe, never in argv or the environment.
 *
 * Request: one JSON object, at most IG_PROTO_MAX_REQUEST bytes:
 *   { "v": 1, "phase": "auth"|"account"|"open_session"|"close_session",
 *     "config": "/etc/iamgate/iamgate.json", "user": "...", "rhost": "...",
 *     "service": "...", "tty": "...",
 *     "code": "123456"         (auth only)
 *     "grant": "<64 hex>"      (open_session, from auth via the PAM env)
 *     "session": "<64 hex>"    (close_session, from open_session via the PAM env) }
 *
 * Reply: one JSON object, at most IG_PROTO_MAX_REPLY bytes:
 *   { "result": "success"|"auth_err"|"perm_denied"|"session_err"|"system_err",
 *     "reason": "machine_reason",
 *     "messages": ["text shown to the user", ...],
 *     "env": { "NAME": "value", ... },       (open_session)
 *     "grant": "<64 hex>", "session": "<64 hex>" }
 *
 * Anything else - no reply, a reply that is not such an object, a crash, a
 * non-zero exit, a timeout - is a failure and the module fails closed.
 */
#ifndef IAMGATE_PROTOCOL_H
#define IAMGATE_PROTOCOL_H

#define IG_PROTO_VERSION 1
#define IG_PROTO_MAX_REQUEST 16384
#define IG_PROTO_MAX_REPLY 65536
#define IG_PROTO_MAX_FIELD 1024

/* PAM environment variables that carry ids from phase to phase. */
#define IG_ENV_GRANT "IAMGATE_GRANT"
#define IG_ENV_SESSION "IAMGATE_SESSION"
#define IG_ID_HEX_LEN 64

#define IG_RESULT_SUCCESS "success"
#define IG_RESULT_AUTH_ERR "auth_err"
#define IG_RESULT_PERM_DENIED "perm_denied"
#define IG_RESULT_SESSION_ERR "session_err"
#define IG_RESULT_SYSTEM_ERR "system_err"

/* The prompt every user sees, enrolled or not: the client cannot tell
 * which check failed. */
#define IG_PROMPT "Verification code: "

#include <jansson.h>

#include "iamgate/reason.h"

/* A parsed request; strings are borrowed from the JSON object. */
struct ig_proto_request {
	const char *phase;
	enum ig_phase phase_id; /* phase, parsed */
	const char *config;
	const char *user;
	const char *rhost;
	const char *service;
	const char *tty;
	const char *code;
	const char *grant;
	const char *session;
};

/*
 * Check and take apart a request: an object with exactly the known keys,
 * "v" == IG_PROTO_VERSION, string values without NUL bytes and at most
 * IG_PROTO_MAX_FIELD bytes, phase one of the four, config and user present.
 * Returns 0 or -1.
 */
int ig_proto_parse_request(json_t *rq, struct ig_proto_request *out);

/*
 * Check a reply as the module accepts it: an object whose "result" and
 * "reason" are strings, "messages" (if any) an array of strings, "env" (if
 * any) an object of strings, "grant"/"session" (if any) 64 lowercase hex.
 * Returns 1 if acceptable, 0 if not (the module then fails closed).
 */
int ig_proto_reply_ok(const json_t *reply);

/* 1 if id is exactly IG_ID_HEX_LEN lowercase hex digits. */
int ig_proto_id_ok(const char *id);

#endif
