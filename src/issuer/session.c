/*
 * session.c - open_session issues the user's roles through STS and writes
 * them where only the user can read them; close_session removes them.
 *
 * Layout: SESSION_DIR (root, 0711: traverse, no listing) / <id> (built as
 * root 0700, handed to the user when complete) / credentials, config (user,
 * 0600).  Files are created with O_EXCL|O_NOFOLLOW under a directory fd, so
 * nothing the user places there is ever followed.  close_session and the
 * directory removal live in session_files.c: the lean iamgate-helper links
 * them without STS, libcurl and libxml2.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "iamgate/creds.h"
#include "iamgate/imds_guard.h"
#include "iamgate/protocol.h"
#include "iamgate/roles.h"
#include "iamgate/session.h"
#include "iamgate/session_files.h"
#include "iamgate/sts.h"
#include "iamgate/util.h"

/* A growing text buffer that is wiped when freed: it holds secrets. */
struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = (b->len + n + 1) * 2;
		char *np = malloc(nc);

		if (np == NULL) {
			b->err = 1;
			return;
		}
		if (b->p) {
			memcpy(np, b->p, b->len);
			ig_freezero(b->p, b->cap);
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_free(struct sbuf *b)
{
	ig_freezero(b->p, b->cap);
	memset(b, 0, sizeof(*b));
}

static void message(json_t *reply, const char *msg)
{
	json_t *m = json_object_get(reply, "messages");

	if (m)
		(void)json_array_append_new(m, json_string(msg));
}

static void set_env(json_t *reply, const char *k, const char *v)
{
	json_t *e = json_object_get(reply, "env");

	if (e)
		(void)json_object_set_new(e, k, json_string(v));
}

static int64_t clock_fixed(void *arg)
{
	return (int64_t) * (const time_t *)arg;
}

static void host_name(const struct ig_session_ctx *sc, char *buf, size_t cap)
{
	if (sc->host) {
		if (ig_bfmt(buf, cap, "%s", sc->host) != 0)
			buf[0] = '\0';
		return;
	}
	if (gethostname(buf, cap) != 0)
		buf[0] = '\0';
	buf[cap - 1] = '\0';
}

/* Write the two AWS files into the new session dir and hand it to the user. */
static int write_files(const struct ig_session_ctx *sc, int sfd, const char *id, uid_t uid,
                       gid_t gid, const struct ig_role_decision *const *issued,
                       struct ig_sts_role_result *res, size_t n)
{
	struct sbuf cr = {0}, cf = {0};
	int dfd = -1, r;

	if (mkdirat(sfd, id, 0700) != 0)
		return IG_ERR_IO;
	dfd = openat(sfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return IG_ERR_IO;
	for (size_t i = 0; i < n; i++) {
		if (res[i].err != 0)
			continue;
		sb_add(&cr, "[");
		sb_add(&cr, issued[i]->role->name);
		sb_add(&cr, "]\naws_access_key_id = ");
		sb_add(&cr, res[i].creds.access_key_id);
		sb_add(&cr, "\naws_secret_access_key = ");
		sb_add(&cr, res[i].creds.secret_access_key);
		sb_add(&cr, "\naws_session_token = ");
		sb_add(&cr, res[i].creds.session_token ? res[i].creds.session_token : "");
		sb_add(&cr, "\n\n");
		sb_add(&cf, "[profile ");
		sb_add(&cf, issued[i]->role->name);
		sb_add(&cf, "]\nregion = ");
		sb_add(&cf, sc->cfg->aws.region);
		sb_add(&cf, "\n\n");
	}
	if (cr.err || cf.err) {
		r = IG_ERR_NOMEM;
		goto out;
	}
	if ((r = ig_write_file_at(dfd, "credentials", cr.p, cr.len, 0600, uid, gid)) != 0 ||
	    (r = ig_write_file_at(dfd, "config", cf.p, cf.len, 0600, uid, gid)) != 0)
		goto out;
	/* Complete: now, and only now, the user may enter. */
	if (fchown(dfd, uid, gid) != 0 || fsync(dfd) != 0)
		r = IG_ERR_IO;
out:
	sb_free(&cr);
	sb_free(&cf);
	close(dfd);
	return r;
}

/*
 * Base credentials from IMDS: nothing is issued while a user of this host
 * could take them too (imds_guard.h; the verdict is recorded in cfd, the
 * IMDS cache directory, for a minute).
 */
static int imds_lockdown(const struct ig_session_ctx *sc, int cfd, json_t *reply,
                         const char **reason)
{
	struct ig_imds_guard_cfg g = {.endpoint = sc->cfg->aws.imds_endpoint,
	                              .uid = sc->cfg->aws.imds_probe_uid,
	                              .state_dirfd = cfd,
	                              .now = sc->now};
	struct ig_imds_guard_result res;
	int r = ig_imds_guard_check(&g, &res);

	if (r == 0)
		return 0;
	syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: %s", res.detail);
	*reason = ig_reason_name(res.reason);
	message(reply, r == IG_ERR_DENIED
	                       ? "iamgate: no AWS credentials are issued on this host while its "
	                         "users can reach the instance metadata service; `iamgate check` "
	                         "tells an administrator how to fix it."
	                       : "iamgate: no AWS credentials are issued on this host: the "
	                         "instance metadata lockdown cannot be checked; `iamgate check` "
	                         "tells an administrator why.");
	return r;
}

static int load_base(const struct ig_session_ctx *sc, json_t *reply, struct ig_aws_creds *base,
                     const char **reason)
{
	const struct ig_config *cfg = sc->cfg;
	struct ig_creds_config cc = {0};
	struct ig_creds_info info = {0};
	char why[512];
	int cfd = -1, r;
	time_t now = sc->now;

	cc.source = cfg->aws.source == IG_CREDS_FILE ? IG_CREDS_SRC_FILE : IG_CREDS_SRC_IMDS;
	cc.file = cfg->aws.creds_file;
	cc.profile = cfg->aws.profile;
	cc.imds_endpoint = cfg->aws.imds_endpoint;
	cc.now = clock_fixed;
	cc.now_arg = &now;
	if (cc.source == IG_CREDS_SRC_IMDS) {
		if (ig_own_dir(cfg->aws.cache_dir, 0700, &cfd, why, sizeof(why)) != 0) {
			syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: IMDS cache dir refused: %s", why);
			*reason = "imds_cache_unusable";
			return IG_ERR_UNSAFE;
		}
		r = imds_lockdown(sc, cfd, reply, reason);
		close(cfd);
		if (r != 0)
			return r;
		cc.cache_dir = cfg->aws.cache_dir;
	}
	r = ig_creds_load(&cc, base, &info);
	*reason = info.reason ? info.reason : (r ? "base_credentials_missing" : "ok");
	return r;
}

void ig_session_open(const struct ig_session_ctx *sc, json_t *reply)
{
	const struct ig_config *cfg = sc->cfg;
	struct ig_user_groups groups = {0};
	struct ig_role_decision *dec = NULL;
	const struct ig_role_decision *issued[IG_STS_MAX_ROLES];
	struct ig_sts_assume_req reqs[IG_STS_MAX_ROLES];
	struct ig_sts_role_result res[IG_STS_MAX_ROLES];
	struct ig_sts_tag tags[3];
	struct ig_aws_creds base;
	struct ig_addr src;
	struct passwd *pw;
	char host[256], id[IG_ID_HEX_LEN + 1], why[512], path[4096];
	const char *reason = "ok", *outcome;
	size_t nd = 0, ni = 0, nok = 0;
	int sfd = -1, have_base = 0, r;

	memset(res, 0, sizeof(res));
	memset(&base, 0, sizeof(base));
	host_name(sc, host, sizeof(host));
	if (sc->rhost == NULL || ig_addr_parse(sc->rhost, &src) != 0) {
		reason = "rhost_not_an_address";
		goto deny;
	}
	if ((pw = getpwnam(sc->user)) == NULL) {
		reason = "user_unknown";
		goto deny;
	}
	if ((r = ig_roles_user_groups(sc->user, &groups)) != 0) {
		reason = "group_lookup_failed";
		goto deny;
	}
	if ((r = ig_roles_resolve(cfg, &groups, &src, sc->mfa_passed, &dec, &nd)) != 0) {
		reason = "internal_error";
		goto deny;
	}
	/* Roles left out by the rules: each one audited with why. */
	for (size_t i = 0; i < nd; i++) {
		json_t *x;

		if (dec[i].issue) {
			if (ni < IG_STS_MAX_ROLES)
				issued[ni++] = &dec[i];
			continue;
		}
		x = json_pack("{s:s, s:s, s:b}", "role", dec[i].role->name, "arn", dec[i].role->arn,
		              "pii", dec[i].role->pii);
		r = ig_session_audit(sc, "issue", "deny", ig_reason_name(dec[i].reason), x);
		json_decref(x);
		if (r != 0) {
			reason = "audit_unavailable";
			goto deny;
		}
	}
	if (ni == 0) {
		if (ig_session_audit(sc, "open_session", "allow", "no_roles_to_issue", NULL) != 0) {
			reason = "audit_unavailable";
			goto deny;
		}
		message(reply, "iamgate: no AWS roles are issued for this login.");
		ig_session_result(reply, IG_RESULT_SUCCESS, "no_roles_to_issue");
		goto out;
	}
	if (cfg->aws.region == NULL) {
		reason = "aws_not_configured";
		goto issue_failed;
	}
	if (!ig_sts_name_valid(sc->user)) {
		/* SourceIdentity must be the user, exactly; never a mangled name. */
		reason = "user_name_not_representable";
		goto issue_failed;
	}
	if (ig_sts_bastion_tags(sc->user, sc->rhost, host, tags) != 0) {
		reason = "session_tags_invalid";
		goto issue_failed;
	}
	if ((r = load_base(sc, reply, &base, &reason)) != 0)
		goto issue_failed;
	have_base = 1;
	for (size_t i = 0; i < ni; i++) {
		reqs[i].role_arn = issued[i]->role->arn;
		reqs[i].session_name = sc->user;
		reqs[i].source_identity = sc->user;
		reqs[i].duration_seconds = issued[i]->role->duration_seconds;
		reqs[i].tags = tags;
		reqs[i].n_tags = 3;
	}
	{
		struct ig_sts_config stc = {
		        .endpoint = cfg->aws.sts_endpoint,
		        .region = cfg->aws.region,
		        .ca_file = cfg->aws.ca_file,
		        .timeout_ms = cfg->aws.timeout_seconds * 1000,
		};
		time_t now = sc->now;

		stc.now = clock_fixed;
		stc.now_arg = &now;
		/* Per-role outcomes are in res[]; the total adds nothing. */
		if (ig_sts_assume_roles(&stc, &base, reqs, ni, res) != 0)
			reason = "issue_failed";
	}
	for (size_t i = 0; i < ni; i++) {
		json_t *x;

		if (res[i].err == 0) {
			x = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:I}", "role",
			              issued[i]->role->name, "arn", issued[i]->role->arn, "pii",
			              issued[i]->role->pii, "assumed_role_arn",
			              res[i].assumed_role_arn ? res[i].assumed_role_arn : "",
			              "source_identity", res[i].source_identity, "access_key_id",
			              res[i].creds.access_key_id, "expiration",
			              (json_int_t)res[i].creds.expiration);
			nok++;
		} else {
			x = json_pack("{s:s, s:s, s:b, s:i}", "role", issued[i]->role->name, "arn",
			              issued[i]->role->arn, "pii", issued[i]->role->pii, "attempts",
			              (int)res[i].attempts);
		}
		r = ig_session_audit(sc, "issue", res[i].err == 0 ? "allow" : "deny",
		                     res[i].err == 0 ? "ok" : res[i].reason, x);
		json_decref(x);
		if (r != 0) {
			reason = "audit_unavailable";
			goto deny;
		}
		if (res[i].err != 0)
			reason = res[i].reason;
	}
	if (nok < ni && cfg->session.deny_on_issue_failure)
		goto issue_failed;
	if (nok > 0) {
		if ((r = ig_own_dir(cfg->session.dir, 0711, &sfd, why, sizeof(why))) != 0) {
			syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: session directory refused: %s",
			       why);
			reason = "session_dir_unsafe";
			goto issue_failed;
		}
		{
			uint8_t rnd[32];
			if (ig_random_bytes(rnd, sizeof(rnd)) != 0) {
				reason = "internal_error";
				goto issue_failed;
			}
			ig_hex(rnd, sizeof(rnd), id);
		}
		if ((r = write_files(sc, sfd, id, pw->pw_uid, pw->pw_gid, issued, res, ni)) != 0) {
			(void)ig_session_remove_dir(sfd, id, pw->pw_uid);
			reason = "credential_files_unwritable";
			goto issue_failed;
		}
		if (ig_bfmt(path, sizeof(path), "%s/%s/credentials", cfg->session.dir, id) == 0)
			set_env(reply, "AWS_SHARED_CREDENTIALS_FILE", path);
		if (ig_bfmt(path, sizeof(path), "%s/%s/config", cfg->session.dir, id) == 0)
			set_env(reply, "AWS_CONFIG_FILE", path);
		set_env(reply, "AWS_REGION", cfg->aws.region);
		if (nok == 1)
			for (size_t i = 0; i < ni; i++)
				if (res[i].err == 0)
					set_env(reply, "AWS_PROFILE", issued[i]->role->name);
		set_env(reply, IG_ENV_SESSION, id);
		(void)json_object_set_new(reply, "session", json_string(id));
	}
	outcome = nok == ni ? "ok" : nok == 0 ? "none_issued" : "partial_issue";
	{
		json_t *x = json_pack("{s:i, s:i, s:s}", "roles_issued", (int)nok, "roles_failed",
		                      (int)(ni - nok), "session", nok ? id : "");
		r = ig_session_audit(sc, "open_session", "allow", outcome, x);
		json_decref(x);
		if (r != 0) {
			if (nok > 0)
				(void)ig_session_remove_dir(sfd, id, pw->pw_uid);
			reason = "audit_unavailable";
			goto deny;
		}
	}
	for (size_t i = 0; i < ni; i++) {
		char m[512];
		if (res[i].err == 0 &&
		    ig_bfmt(m, sizeof(m), "iamgate: AWS profile %s issued (role %s)",
		            issued[i]->role->name, issued[i]->role->arn) == 0)
			message(reply, m);
	}
	if (nok == 0)
		message(reply, "iamgate: AWS credentials could not be issued; the audit log says "
		               "why. You are logged in without them.");
	else if (nok < ni)
		message(reply, "iamgate: some AWS roles could not be issued; the audit log says "
		               "why. You are logged in without them.");
	ig_session_result(reply, IG_RESULT_SUCCESS, outcome);
	goto out;

issue_failed:
	if (cfg->session.deny_on_issue_failure) {
		json_t *x = json_pack("{s:s}", "on_issue_failure", "deny");
		(void)ig_session_audit(sc, "open_session", "deny", reason, x);
		json_decref(x);
		message(reply, "iamgate: AWS credentials could not be issued; login refused.");
		ig_session_result(reply, IG_RESULT_SESSION_ERR, reason);
		goto out;
	}
	if (ig_session_audit(sc, "open_session", "allow", reason, NULL) != 0) {
		reason = "audit_unavailable";
		goto deny;
	}
	message(reply, "iamgate: AWS credentials could not be issued; you are logged in "
	               "without them.");
	ig_session_result(reply, IG_RESULT_SUCCESS, reason);
	goto out;
deny:
	(void)ig_session_audit(sc, "open_session", "deny", reason, NULL);
	ig_session_result(reply, IG_RESULT_SESSION_ERR, reason);
out:
	for (size_t i = 0; i < ni; i++)
		ig_sts_role_result_clear(&res[i]);
	if (have_base)
		ig_aws_creds_clear(&base);
	explicit_bzero(&base, sizeof(base));
	if (sfd >= 0)
		close(sfd);
	free(dec);
	ig_roles_user_groups_free(&groups);
}
