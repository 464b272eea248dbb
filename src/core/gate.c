/*
 * gate.c - the helper's decisions for each PAM phase (DESIGN.md "What it
 * does"), each one audited before it is returned.
 *
 * auth:    source address -> mapped group allows it -> not locked -> TOTP
 *          (replay-safe); on success a single-use grant for open_session.
 * account: the user is in a mapped group that allows the source address.
 * open_session: consumes the grant (once), then issues credentials.
 * close_session: removes what open_session created.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "iamgate/audit.h"
#include "iamgate/cidr.h"
#include "iamgate/gate.h"
#include "iamgate/protocol.h"
#include "iamgate/reason.h"
#include "iamgate/roles.h"
#include "iamgate/session.h"
#include "iamgate/store.h"
#include "iamgate/totp.h"
#include "iamgate/util.h"

struct call {
	struct ig_proto_request rq;
	const struct ig_gate_env *env;
	struct ig_config *cfg;
	struct ig_audit_opts aopts;
	json_t *reply;
};

static const char *deny_result(enum ig_phase phase)
{
	switch (phase) {
	case IG_PHASE_AUTH: return IG_RESULT_AUTH_ERR;
	case IG_PHASE_ACCOUNT: return IG_RESULT_PERM_DENIED;
	default: return IG_RESULT_SESSION_ERR;
	}
}

static json_t *make_reply(const char *result, enum ig_reason reason)
{
	return json_pack("{s:s, s:s, s:[], s:{}}", "result", result, "reason",
	                 ig_reason_name(reason), "messages", "env");
}

static void add_message(struct call *c, const char *msg)
{
	json_t *m = json_object_get(c->reply, "messages");

	if (m)
		(void)json_array_append_new(m, json_string(msg));
}

static void set_result(struct call *c, const char *result, enum ig_reason reason)
{
	(void)json_object_set_new(c->reply, "result", json_string(result));
	(void)json_object_set_new(c->reply, "reason", json_string(ig_reason_name(reason)));
}

/* Audit one event; an audit failure turns an allow into a deny. */
static int audit(struct call *c, const char *event, const char *decision, enum ig_reason reason,
                 json_t *extra)
{
	struct ig_audit_event ev = {
	        .event = event,
	        .user = c->rq.user,
	        .rhost = c->rq.rhost,
	        .service = c->rq.service,
	        .decision = decision,
	        .reason = ig_reason_name(reason),
	        .extra = extra,
	};
	int r;

	r = ig_audit_append(&c->aopts, &ev);
	if (r != 0)
		syslog(LOG_AUTHPRIV | LOG_ERR,
		       "iamgate: cannot write audit log %s (%s): failing closed: event=%s "
		       "decision=%s reason=%s",
		       c->aopts.path ? c->aopts.path : "(none)", ig_strerror(r), event, decision,
		       ig_reason_name(reason));
	return r;
}

/* Final word for a phase: audit it, and deny when the audit fails. */
static void decide(struct call *c, int allow, enum ig_reason reason, json_t *extra)
{
	enum ig_phase phase = c->rq.phase_id;

	if (audit(c, c->rq.phase, allow ? "allow" : "deny", reason, extra) != 0) {
		set_result(c,
		           phase == IG_PHASE_CLOSE_SESSION ? IG_RESULT_SUCCESS : deny_result(phase),
		           IG_R_AUDIT_UNAVAILABLE);
		return;
	}
	set_result(c, allow ? IG_RESULT_SUCCESS : deny_result(phase), reason);
}

static int new_id(char out[IG_ID_HEX_LEN + 1])
{
	uint8_t rnd[IG_ID_HEX_LEN / 2];
	int r;

	if ((r = ig_random_bytes(rnd, sizeof(rnd))) != 0)
		return r;
	ig_hex(rnd, sizeof(rnd), out);
	return 0;
}

/* The PAM user's uid now: a grant is bound to it. */
static int user_uid(const char *user, uid_t *uid)
{
	struct passwd pw, *pwp = NULL;
	char buf[16384];

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL)
		return IG_ERR_NOTFOUND;
	*uid = pw.pw_uid;
	return 0;
}

static int write_grant(struct call *c, char id[IG_ID_HEX_LEN + 1])
{
	char name[IG_ID_HEX_LEN + 8], why[512];
	json_t *g = NULL;
	char *text = NULL;
	uid_t uid;
	int dfd = -1, r;

	if ((r = user_uid(c->rq.user, &uid)) != 0)
		return r;
	if ((r = ig_own_dir(c->cfg->session.grant_dir, 0700, &dfd, why, sizeof(why))) != 0) {
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: grant directory refused: %s", why);
		return r;
	}
	if ((r = new_id(id)) != 0 || (r = ig_bfmt(name, sizeof(name), "%s.json", id)) != 0)
		goto out;
	g = json_pack("{s:i, s:s, s:I, s:s, s:s, s:I, s:I, s:b}", "v", 2, "user", c->rq.user, "uid",
	              (json_int_t)uid, "rhost", c->rq.rhost, "service",
	              c->rq.service ? c->rq.service : "", "mfa_time", (json_int_t)c->env->now,
	              "expires", (json_int_t)(c->env->now + c->cfg->session.grant_ttl_seconds),
	              "mfa", 1);
	if (g == NULL || (text = json_dumps(g, JSON_COMPACT)) == NULL) {
		r = IG_ERR_NOMEM;
		goto out;
	}
	/* No fsync: a grant lives minutes, is used once and a crash losing it
	 * only makes open_session issue nothing (fail closed); atomic all the
	 * same, so open_session never reads half a grant. */
	r = ig_write_file_at_flags(dfd, name, text, strlen(text), 0600, 0, 0, IG_WRITE_NO_SYNC);
out:
	free(text);
	json_decref(g);
	if (dfd >= 0)
		close(dfd);
	return r;
}

/* A grant whose allow could not be audited must not outlive the denial. */
static void drop_grant(struct call *c, const char *id)
{
	char name[IG_ID_HEX_LEN + 8], why[512];
	int dfd = -1;

	if (ig_bfmt(name, sizeof(name), "%s.json", id) != 0 ||
	    ig_own_dir(c->cfg->session.grant_dir, 0700, &dfd, why, sizeof(why)) != 0)
		return;
	(void)unlinkat(dfd, name, 0);
	close(dfd);
}

/*
 * Claim the grant named id: rename it to a name of this call's own, which
 * only one caller can do (rename is atomic; the loser finds no file), then
 * read and delete the claimed copy.  Exactly once, however many ask.
 */
static enum ig_reason claim_grant(int dfd, const char *id, char **text)
{
	char name[IG_ID_HEX_LEN + 8], claimed[IG_ID_HEX_LEN + 32];
	uint8_t rnd[8];
	char tag[17];
	int r;

	*text = NULL;
	if (ig_bfmt(name, sizeof(name), "%s.json", id) != 0 ||
	    ig_random_bytes(rnd, sizeof(rnd)) != 0)
		return IG_R_INTERNAL_ERROR;
	ig_hex(rnd, sizeof(rnd), tag);
	if (ig_bfmt(claimed, sizeof(claimed), ".claimed-%s-%s", id, tag) != 0)
		return IG_R_INTERNAL_ERROR;
	if (renameat(dfd, name, dfd, claimed) != 0)
		return errno == ENOENT ? IG_R_GRANT_UNKNOWN_OR_USED : IG_R_GRANT_UNREADABLE;
	r = ig_read_file_at(dfd, claimed, 4096, 1, text, NULL);
	(void)unlinkat(dfd, claimed, 0);
	return r == 0 ? IG_R_OK : IG_R_GRANT_UNREADABLE;
}

/* Does the claimed grant belong to this transaction's user, uid and source? */
static enum ig_reason grant_matches(struct call *c, json_t *g)
{
	json_t *v;
	uid_t uid;

	v = json_object_get(g, "user");
	if (!json_is_string(v) || strcmp(json_string_value(v), c->rq.user) != 0)
		return IG_R_GRANT_USER_MISMATCH;
	v = json_object_get(g, "uid");
	if (!json_is_integer(v) || user_uid(c->rq.user, &uid) != 0 ||
	    json_integer_value(v) != (json_int_t)uid)
		return IG_R_GRANT_UID_MISMATCH;
	v = json_object_get(g, "rhost");
	if (!json_is_string(v) || c->rq.rhost == NULL ||
	    strcmp(json_string_value(v), c->rq.rhost) != 0)
		return IG_R_GRANT_RHOST_MISMATCH;
	v = json_object_get(g, "expires");
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)c->env->now)
		return IG_R_GRANT_EXPIRED;
	return IG_R_OK;
}

/* Take the grant the PAM environment names (once), check it is ours. */
static enum ig_reason consume_grant(struct call *c, int *mfa)
{
	enum ig_reason reason;
	char why[512], *text = NULL;
	json_t *g = NULL;
	int dfd = -1;

	*mfa = 0;
	if (c->rq.grant == NULL || c->rq.grant[0] == '\0')
		return IG_R_NO_GRANT;
	if (!ig_proto_id_ok(c->rq.grant))
		return IG_R_GRANT_MALFORMED;
	if (ig_own_dir(c->cfg->session.grant_dir, 0700, &dfd, why, sizeof(why)) != 0) {
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: grant directory refused: %s", why);
		return IG_R_GRANT_DIR_UNSAFE;
	}
	reason = claim_grant(dfd, c->rq.grant, &text);
	close(dfd);
	if (reason != IG_R_OK)
		goto out;
	g = json_loads(text, 0, NULL);
	reason = json_is_object(g) ? grant_matches(c, g) : IG_R_GRANT_MALFORMED;
	if (reason == IG_R_OK)
		*mfa = json_is_true(json_object_get(g, "mfa"));
out:
	free(text);
	json_decref(g);
	return reason;
}

/*
 * The address and group checks shared by auth and account: a literal source
 * address inside the allow_from of a mapped group the user is in.  Returns
 * IG_R_OK when the user may log in from there, else the deny reason;
 * *groups is filled when the user exists (free it).
 */
static enum ig_reason may_log_in(struct call *c, struct ig_user_groups *groups)
{
	struct ig_addr src;
	int r;

	if (c->rq.rhost == NULL || c->rq.rhost[0] == '\0')
		return IG_R_RHOST_MISSING;
	if (ig_addr_parse(c->rq.rhost, &src) != 0)
		return IG_R_RHOST_NOT_AN_ADDRESS;
	if ((r = ig_roles_user_groups(c->rq.user, groups)) != 0)
		return r == IG_ERR_NOTFOUND ? IG_R_USER_UNKNOWN : IG_R_GROUP_LOOKUP_FAILED;
	return ig_roles_login_allowed(c->cfg, groups, &src);
}

static void totp_params(const struct call *c, const struct ig_store *store,
                        struct ig_totp_params *tp)
{
	tp->digits = c->cfg->totp.digits;
	tp->step_seconds = c->cfg->totp.step_seconds;
	tp->window = c->cfg->totp.window;
	tp->max_failures = c->cfg->totp.max_failures;
	tp->lockout_seconds = c->cfg->totp.lockout_seconds;
	tp->lockout_max_seconds = c->cfg->totp.lockout_max_seconds;
	tp->boot_time = ig_store_attempts_durable(store) ? 0 : c->env->boot_time;
}

/* The code against the user's record; audits a lockout's start.  IG_R_OK
 * when it passed, else the deny reason (already audited when it is a
 * failure the caller reports). */
static enum ig_reason check_code(struct call *c, struct ig_store *store, json_t **extra)
{
	struct ig_totp_params tp;
	struct ig_totp_outcome oc;
	int r;

	totp_params(c, store, &tp);
	if (c->env->boot_time < 0 && !ig_store_attempts_durable(store)) {
		syslog(LOG_AUTHPRIV | LOG_ERR,
		       "iamgate: cannot tell when this host booted (CLOCK_BOOTTIME); TOTP refused");
		return IG_R_BOOT_TIME_UNKNOWN;
	}
	r = ig_totp_verify(store, c->rq.user, c->rq.code ? c->rq.code : "", c->env->now,
	                   c->rq.rhost, &tp, &oc);
	if (r != 0) {
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: TOTP state for user %s unusable: %s",
		       c->rq.user, ig_strerror(r));
		return r == IG_ERR_UNSAFE ? IG_R_STATE_FILE_UNSAFE : IG_R_STATE_UNAVAILABLE;
	}
	if (oc.lockout_started) {
		json_t *x = json_pack("{s:I, s:I, s:I, s:I}", "failures", (json_int_t)oc.failures,
		                      "locked_until", (json_int_t)oc.locked_until, "lockouts",
		                      (json_int_t)oc.lockouts, "lockout_seconds",
		                      (json_int_t)(oc.locked_until - c->env->now));
		(void)audit(c, "lockout", "deny", IG_R_TOO_MANY_FAILURES, x);
		json_decref(x);
	}
	if (oc.result != IG_TOTP_OK)
		*extra = json_pack("{s:I}", "failures", (json_int_t)oc.failures);
	return ig_totp_result_reason(oc.result);
}

static void do_auth(struct call *c)
{
	struct ig_user_groups groups = {0};
	struct ig_store *store = NULL;
	char id[IG_ID_HEX_LEN + 1], why[512];
	enum ig_reason reason;
	json_t *extra = NULL;

	if ((reason = may_log_in(c, &groups)) != IG_R_OK)
		goto deny;
	if (ig_store_open(c->cfg, &store, why, sizeof(why)) != 0) {
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: TOTP state store refused: %s", why);
		reason = IG_R_STATE_DIR_UNSAFE;
		goto deny;
	}
	if ((reason = check_code(c, store, &extra)) != IG_R_OK)
		goto deny;
	if (write_grant(c, id) != 0) {
		reason = IG_R_GRANT_UNAVAILABLE;
		goto deny;
	}
	decide(c, 1, IG_R_OK, NULL);
	if (strcmp(json_string_value(json_object_get(c->reply, "result")), IG_RESULT_SUCCESS) == 0)
		(void)json_object_set_new(c->reply, "grant", json_string(id));
	else
		drop_grant(c, id);
	goto out;
deny:
	decide(c, 0, reason, extra);
out:
	json_decref(extra);
	ig_store_close(store);
	ig_roles_user_groups_free(&groups);
}

static void do_account(struct call *c)
{
	struct ig_user_groups groups = {0};
	enum ig_reason why = may_log_in(c, &groups);

	decide(c, why == IG_R_OK, why, NULL);
	ig_roles_user_groups_free(&groups);
}

static struct ig_session_ctx session_ctx(const struct call *c)
{
	struct ig_session_ctx sc = {
	        .cfg = c->cfg,
	        .user = c->rq.user,
	        .rhost = c->rq.rhost,
	        .service = c->rq.service,
	        .now = c->env->now,
	        .host = c->env->host,
	        .aopts = &c->aopts,
	};

	return sc;
}

static void do_open_session(struct call *c)
{
	struct ig_session_ctx sc = session_ctx(c);
	enum ig_reason reason;
	int mfa = 0;

	if (c->env->handoff != NULL || c->env->issue == NULL) {
		int r = c->env->handoff ? c->env->handoff(c->env->handoff_arg) : IG_ERR_NOTFOUND;

		/* Back here: the issuer could not be run.  Nothing was issued;
		 * the grant is used up all the same (single use); fail closed. */
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: credential issuer unavailable (%s)",
		       ig_strerror(r));
		(void)consume_grant(c, &mfa);
		decide(c, 0, IG_R_ISSUER_UNAVAILABLE, NULL);
		return;
	}
	reason = consume_grant(c, &mfa);
	if (reason != IG_R_OK) {
		/* No grant from this transaction's auth: issue nothing, say so. */
		if (audit(c, "open_session", "deny", reason, NULL) != 0) {
			set_result(c, IG_RESULT_SESSION_ERR, IG_R_AUDIT_UNAVAILABLE);
			return;
		}
		add_message(c, "iamgate: no AWS credentials were issued for this session.");
		set_result(c, IG_RESULT_SUCCESS, reason);
		return;
	}
	sc.mfa_passed = mfa;
	c->env->issue(&sc, c->reply);
}

static void do_close_session(struct call *c)
{
	struct ig_session_ctx sc = session_ctx(c);

	ig_session_close(&sc, c->rq.session, c->reply);
}

/* The config could not be loaded: every login is denied; say why in syslog
 * and, when the file at least names its audit log, there too. */
static void config_refused(struct call *c, const char *err)
{
	char line[1024], apath[4096];
	const char *p = err;

	while (*p) {
		size_t n = strcspn(p, "\n");
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		syslog(LOG_AUTHPRIV | LOG_ERR, "iamgate: configuration refused, denying: %s", line);
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	set_result(c, deny_result(c->rq.phase_id), IG_R_CONFIG_REFUSED);
	/* Best effort: the refusal also goes to the audit log the (trusted)
	 * file names; the login is denied whatever happens here. */
	if (ig_config_audit_path(c->rq.config, apath, sizeof(apath)) == 0) {
		size_t n = strcspn(err, "\n");
		json_t *x;

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, err, n);
		line[n] = '\0';
		x = json_pack("{s:s, s:s}", "config", c->rq.config, "problem", line);
		c->aopts.path = apath;
		c->aopts.use_syslog = 0; /* already in syslog above */
		c->aopts.host = c->env->host;
		if (!ig_name_is_safe(c->rq.user))
			c->rq.user = NULL;
		(void)audit(c, c->rq.phase, "deny", IG_R_CONFIG_REFUSED, x);
		json_decref(x);
	}
}

/*
 * The request's config into c->cfg: the cached one when its file is
 * unchanged, else a fresh load, which then replaces the cached one (loaded
 * before the old is freed, so a reload is never the same pointer).  A
 * refusal empties the cache.  Sets *owned when c->cfg is the caller's to
 * free.
 */
static int get_config(struct call *c, char *err, size_t errcap, int *owned)
{
	struct ig_config **cache = c->env->config_cache;
	int r;

	*owned = 0;
	if (cache != NULL && ig_config_unchanged(*cache, c->rq.config)) {
		c->cfg = *cache;
		return 0;
	}
	r = ig_config_load(c->rq.config, &c->cfg, err, errcap);
	if (cache != NULL) {
		ig_config_free(*cache);
		*cache = r == 0 ? c->cfg : NULL;
	}
	*owned = r == 0 && cache == NULL;
	return r;
}

json_t *ig_gate_handle(json_t *request, const struct ig_gate_env *env)
{
	struct call c = {.env = env};
	char err[4096];
	int r, owned = 0;

	c.reply = make_reply(IG_RESULT_SYSTEM_ERR, IG_R_INTERNAL_ERROR);
	if (c.reply == NULL)
		return NULL;
	if (ig_proto_parse_request(request, &c.rq) != 0 || c.rq.config[0] != '/') {
		set_result(&c, IG_RESULT_SYSTEM_ERR, IG_R_BAD_REQUEST);
		return c.reply;
	}
	r = get_config(&c, err, sizeof(err), &owned);
	if (r != 0) {
		config_refused(&c, err);
		return c.reply;
	}
	c.aopts.path = c.cfg->audit.path;
	c.aopts.use_syslog = c.cfg->audit.syslog;
	c.aopts.seal_key = c.cfg->audit.seal_key;
	c.aopts.host = env->host;
	c.aopts.now_ms = 0;
	if (!ig_name_is_safe(c.rq.user)) {
		/* Cannot be a file name, an STS name or a log token: refuse, never
		 * mangle; the raw bytes stay out of the log. */
		c.rq.user = NULL;
		decide(&c, 0, IG_R_USER_NAME_UNSAFE, NULL);
		if (c.rq.phase_id == IG_PHASE_CLOSE_SESSION)
			set_result(&c, IG_RESULT_SESSION_ERR, IG_R_USER_NAME_UNSAFE);
		goto out;
	}
	switch (c.rq.phase_id) {
	case IG_PHASE_AUTH: do_auth(&c); break;
	case IG_PHASE_ACCOUNT: do_account(&c); break;
	case IG_PHASE_OPEN_SESSION: do_open_session(&c); break;
	default: do_close_session(&c); break;
	}
out:
	if (owned)
		ig_config_free(c.cfg);
	return c.reply;
}
