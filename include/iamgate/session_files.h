/*
 * session_files.h - removing a session's credential directory.
 *
 * ig_session_close() (declared in session.h) is defined in session_files.c
 * with this, apart from the STS-dependent open path, so that iamgate-helper
 * can handle close_session without linking libcurl or libxml2.
 */
#ifndef IAMGATE_SESSION_FILES_H
#define IAMGATE_SESSION_FILES_H

#include <sys/types.h>

#include <jansson.h>

#include "iamgate/error.h"
#include "iamgate/session.h"

/*
 * Remove every entry of SESSION_DIR/id (sfd is SESSION_DIR; nothing is ever
 * followed) and the directory itself, which must be owned by uid or root.
 * Cleanup callers may ignore the result.  Returns 0, IG_ERR_NOTFOUND (none), IG_ERR_UNSAFE (symlink,
 * not a directory, foreign owner) or IG_ERR_IO (something stayed).
 */
int ig_session_remove_dir(int sfd, const char *id, uid_t uid);

/* Audit one session event for sc's user (syslog when it cannot be written).
 * Returns ig_audit_append's result: non-zero means the caller must fail. */
int ig_session_audit(const struct ig_session_ctx *sc, const char *event, const char *decision,
                     const char *reason, json_t *extra);

/* Set the reply's result and reason. */
void ig_session_result(json_t *reply, const char *result, const char *reason);

#endif
