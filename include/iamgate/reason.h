/*
 * reason.h - the reasons of decisions: the auditors' vocabulary.
 *
 * Every audit line names one reason, and every reply to the PAM module
 * carries one.  They are one enum with one name table, IG_REASONS below;
 * each name is documented in iamgate(8), AUDIT REASONS (`make check`
 * fails when one is missing there or when the page names one that is not
 * here).  Names are lowercase words joined by '_', and never change once
 * released: auditors' queries depend on them.  A value from elsewhere that
 * is not ours (an AWS error code) is never a reason; it goes into its own
 * audit field (e.g. "aws_error") beside a reason such as aws_error.
 *
 * To add one: a line in IG_REASONS (grouped by where it arises), and its
 * entry in packaging/man/iamgate.8.
 */
#ifndef IAMGATE_REASON_H
#define IAMGATE_REASON_H

#include "iamgate/error.h"

/* clang-format off */
#define IG_REASONS(X)                                                         \
	X(OK, "ok")                                                           \
	/* requests and the gate itself */                                    \
	X(BAD_REQUEST, "bad_request")                                         \
	X(INTERNAL_ERROR, "internal_error")                                   \
	X(CONFIG_REFUSED, "config_refused")                                   \
	X(AUDIT_UNAVAILABLE, "audit_unavailable")                             \
	X(USER_NAME_UNSAFE, "user_name_unsafe")                               \
	/* source address and groups (auth, account) */                       \
	X(RHOST_MISSING, "rhost_missing")                                     \
	X(RHOST_NOT_AN_ADDRESS, "rhost_not_an_address")                       \
	X(USER_UNKNOWN, "user_unknown")                                       \
	X(GROUP_LOOKUP_FAILED, "group_lookup_failed")                         \
	X(NO_MAPPED_GROUP, "no_mapped_group")                                 \
	X(RHOST_NOT_ALLOWED, "rhost_not_allowed")                             \
	/* TOTP (auth) */                                                     \
	X(BAD_CODE, "bad_code")                                               \
	X(REPLAYED_CODE, "replayed_code")                                     \
	X(LOCKED_OUT, "locked_out")                                           \
	X(NOT_ENROLLED, "not_enrolled")                                       \
	X(CODE_PREDATES_BOOT, "code_predates_boot")                           \
	X(BOOT_TIME_UNKNOWN, "boot_time_unknown")                             \
	X(TOO_MANY_FAILURES, "too_many_failures")                             \
	X(STATE_DIR_UNSAFE, "state_dir_unsafe")                               \
	X(STATE_FILE_UNSAFE, "state_file_unsafe")                             \
	X(STATE_UNAVAILABLE, "state_unavailable")                             \
	/* the shared store (DynamoDB, its secrets under KMS) */              \
	X(STORE_UNAVAILABLE, "store_unavailable")                             \
	X(STORE_RECORD_MALFORMED, "store_record_malformed")                   \
	X(KMS_UNAVAILABLE, "kms_unavailable")                                 \
	X(KMS_REFUSED, "kms_refused")                                         \
	/* the grant from auth to open_session */                             \
	X(GRANT_UNAVAILABLE, "grant_unavailable")                             \
	X(NO_GRANT, "no_grant")                                               \
	X(GRANT_MALFORMED, "grant_malformed")                                 \
	X(GRANT_DIR_UNSAFE, "grant_dir_unsafe")                               \
	X(GRANT_UNKNOWN_OR_USED, "grant_unknown_or_used")                     \
	X(GRANT_UNREADABLE, "grant_unreadable")                               \
	X(GRANT_USER_MISMATCH, "grant_user_mismatch")                         \
	X(GRANT_UID_MISMATCH, "grant_uid_mismatch")                           \
	X(GRANT_RHOST_MISMATCH, "grant_rhost_mismatch")                       \
	X(GRANT_EXPIRED, "grant_expired")                                     \
	/* roles and the PII rule */                                          \
	X(SOURCE_NOT_ALLOWED, "source_not_allowed")                           \
	X(PII_NOT_MEMBER, "pii_not_member")                                   \
	X(PII_SOURCE_NOT_FIXED, "pii_source_not_fixed")                       \
	X(PII_NO_MFA, "pii_no_mfa")                                           \
	/* sessions and issuing */                                            \
	X(ISSUER_UNAVAILABLE, "issuer_unavailable")                           \
	X(AWS_NOT_CONFIGURED, "aws_not_configured")                           \
	X(USER_NAME_NOT_REPRESENTABLE, "user_name_not_representable")         \
	X(SESSION_TAGS_INVALID, "session_tags_invalid")                       \
	X(ISSUE_FAILED, "issue_failed")                                       \
	X(PARTIAL_ISSUE, "partial_issue")                                     \
	X(NONE_ISSUED, "none_issued")                                         \
	X(NO_ROLES_TO_ISSUE, "no_roles_to_issue")                             \
	X(SESSION_DIR_UNSAFE, "session_dir_unsafe")                           \
	X(CREDENTIAL_FILES_UNWRITABLE, "credential_files_unwritable")         \
	X(NO_SESSION_CREDENTIALS, "no_session_credentials")                   \
	X(CREDENTIALS_REMOVED, "credentials_removed")                         \
	X(CREDENTIALS_NOT_REMOVED, "credentials_not_removed")                 \
	X(SESSION_ALREADY_GONE, "session_already_gone")                       \
	X(SESSION_ID_MALFORMED, "session_id_malformed")                       \
	/* base credentials (file, IMDS) */                                   \
	X(BASE_CREDENTIALS_MISSING, "base_credentials_missing")               \
	X(BASE_CREDENTIALS_MALFORMED, "base_credentials_malformed")           \
	X(BASE_CREDENTIALS_EXPIRED, "base_credentials_expired")               \
	X(CREDENTIALS_FILE_MISSING, "credentials_file_missing")               \
	X(CREDENTIALS_FILE_UNSAFE, "credentials_file_unsafe")                 \
	X(CREDENTIALS_FILE_UNREADABLE, "credentials_file_unreadable")         \
	X(CREDENTIALS_FILE_MALFORMED, "credentials_file_malformed")           \
	X(IMDS_UNAVAILABLE, "imds_unavailable")                               \
	X(IMDS_MALFORMED, "imds_malformed")                                   \
	X(IMDS_NO_ROLE, "imds_no_role")                                       \
	X(IMDS_ERROR, "imds_error")                                           \
	X(IMDS_CACHE_UNUSABLE, "imds_cache_unusable")                         \
	X(IMDS_REACHABLE_BY_USERS, "imds_reachable_by_users")                 \
	X(IMDS_LOCKDOWN_UNVERIFIED, "imds_lockdown_unverified")               \
	/* talking to AWS (STS and the other clients) */                      \
	X(AWS_ERROR, "aws_error")                                             \
	X(TIMEOUT, "timeout")                                                 \
	X(TLS_VERIFY_FAILED, "tls_verify_failed")                             \
	X(TLS_ERROR, "tls_error")                                             \
	X(CONNECT_FAILED, "connect_failed")                                   \
	X(TRANSPORT_ERROR, "transport_error")                                 \
	X(HTTP_5XX, "http_5xx")                                               \
	X(HTTP_REDIRECT, "http_redirect")                                     \
	X(HTTP_ERROR, "http_error")                                           \
	X(MALFORMED_RESPONSE, "malformed_response")                           \
	X(RESPONSE_TOO_LARGE, "response_too_large")                           \
	X(SOURCE_IDENTITY_MISMATCH, "source_identity_mismatch")               \
	X(INVALID_CONFIG, "invalid_config")                                   \
	X(INVALID_REQUEST, "invalid_request")                                 \
	/* the administrators' commands */                                    \
	X(SECRET_CREATED, "secret_created")                                   \
	X(SECRET_REPLACED, "secret_replaced")                                 \
	X(ENROLL_FAILED, "enroll_failed")                                     \
	X(UNLOCKED_BY_ADMIN, "unlocked_by_admin")                             \
	X(UNLOCK_FAILED, "unlock_failed")                                     \
	/* the audit log's own events */                                      \
	X(NEW_CHAIN, "new_chain")                                             \
	X(ROTATED, "rotated")                                                 \
	X(CONTINUED, "continued")                                             \
	X(TORN_TAIL_DETECTED, "torn_tail_detected")                           \
	X(LOG_SHORTER_THAN_HEAD, "log_shorter_than_head")                     \
	X(LAST_LINE_CHANGED, "last_line_changed")                             \
	X(SEAL_INITIALIZED, "seal_initialized")                               \
	X(EPOCH_SEALED, "epoch_sealed")                                       \
	X(SEAL_KEY_MISSING, "seal_key_missing")
/* clang-format on */

enum ig_reason {
#define IG_REASON_ENUM(id, name) IG_R_##id,
	IG_REASONS(IG_REASON_ENUM)
#undef IG_REASON_ENUM
	        IG_R__COUNT
};

/* The reason's name ("bad_code"); "internal_error" for a value out of range. */
const char *ig_reason_name(enum ig_reason r);

/* The reason named name: 0, or IG_ERR_NOTFOUND (*out untouched). */
int ig_reason_parse(const char *name, enum ig_reason *out) IG_MUST_CHECK;

/* The phases of a PAM transaction, as the module names them in requests. */
enum ig_phase {
	IG_PHASE_AUTH = 0,
	IG_PHASE_ACCOUNT,
	IG_PHASE_OPEN_SESSION,
	IG_PHASE_CLOSE_SESSION,
	IG_PHASE__COUNT
};

/* "auth", "account", "open_session", "close_session". */
const char *ig_phase_name(enum ig_phase p);

/* 0 and *out, or IG_ERR_NOTFOUND for any other text. */
int ig_phase_parse(const char *name, enum ig_phase *out) IG_MUST_CHECK;

#endif
