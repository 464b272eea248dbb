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

#endif
