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

#include "iamgate/error.h"

/*
 * Remove every entry of SESSION_DIR/id (sfd is SESSION_DIR; nothing is ever
 * followed) and the directory itself, which must be owned by uid or root.
 * Cleanup callers may ignore the result.  Returns 0, IG_ERR_NOTFOUND (none), IG_ERR_UNSAFE (symlink,
 * not a directory, foreign owner) or IG_ERR_IO (something stayed).
 */
int ig_session_remove_dir(int sfd, const char *id, uid_t uid);

#endif
