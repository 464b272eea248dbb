/*
 * session_files.c - close_session: remove what open_session wrote.
 *
 * Kept apart from session.c (which issues through STS) so that the lean
 * iamgate-helper, which handles auth, account and close_session, links
 * without sts.c, creds.c, libcurl and libxml2 (tests/bench/RESULTS.md:
 * resolving those libraries was 85% of an auth call).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "iamgate/protocol.h"
#include "iamgate/session.h"
#include "iamgate/session_files.h"
#include "iamgate/util.h"

int ig_session_audit(const struct ig_session_ctx *sc, const char *event, const char *decision,
                     const char *reason, json_t *extra)
{
	struct ig_audit_event ev = {
	        .event = event,
	        .user = sc->user,
	        .rhost = sc->rhost,
	        .service = sc->service,
	        .decision = decision,
	        .reason = reason,
	        .extra = extra,
	};
	int r = ig_audit_append(sc->aopts, &ev);

	if (r != 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: cannot write audit log (%s): event=%s",
		       ig_strerror(r), event);
	return r;
}

void ig_session_result(json_t *reply, const char *result, const char *reason)
{
	(void)json_object_set_new(reply, "result", json_string(result));
	(void)json_object_set_new(reply, "reason", json_string(reason));
}

int ig_session_remove_dir(int sfd, const char *id, uid_t uid)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int dfd, r = 0;

	dfd = openat(sfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? IG_ERR_NOTFOUND : IG_ERR_UNSAFE;
	if (fstat(dfd, &st) != 0 || (st.st_uid != uid && st.st_uid != 0)) {
		close(dfd);
		return IG_ERR_UNSAFE;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return IG_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* unlinkat never follows; an (empty) subdirectory goes too. */
		if (unlinkat(dirfd(d), de->d_name, 0) != 0 &&
		    unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) != 0)
			r = IG_ERR_IO;
	}
	closedir(d);
	if (unlinkat(sfd, id, AT_REMOVEDIR) != 0)
		r = IG_ERR_IO;
	return r;
}

void ig_session_close(const struct ig_session_ctx *sc, const char *session_id, json_t *reply)
{
	struct passwd *pw;
	char why[512];
	const char *reason = "ok";
	int sfd = -1, r, failed = 0;

	if (session_id == NULL || session_id[0] == '\0') {
		reason = "no_session_credentials";
		goto done;
	}
	if (!ig_proto_id_ok(session_id)) {
		reason = "session_id_malformed";
		goto done;
	}
	if ((pw = getpwnam(sc->user)) == NULL) {
		reason = "user_unknown";
		goto done;
	}
	if ((r = ig_open_trusted_dir(sc->cfg->session.dir, &sfd, why, sizeof(why))) != 0) {
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: session directory refused: %s", why);
		reason = "session_dir_unsafe";
		goto done;
	}
	r = ig_session_remove_dir(sfd, session_id, pw->pw_uid);
	if (r == 0) {
		reason = "credentials_removed";
	} else if (r == IG_ERR_NOTFOUND) {
		reason = "session_already_gone";
	} else {
		reason = "credentials_not_removed";
		failed = 1;
	}
done:
	if (sfd >= 0)
		close(sfd);
	(void)ig_session_audit(sc, "close_session", failed ? "deny" : "allow", reason, NULL);
	ig_session_result(reply, failed ? IG_RESULT_SESSION_ERR : IG_RESULT_SUCCESS, reason);
}
