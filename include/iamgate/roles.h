/*
 * roles.h - a user's groups, the login decision by source address, and the
 * group -> role resolution with the PII rule.
 *
 * Group membership comes from the system's group database (getgrouplist),
 * so LDAP/SSSD groups work.  Functions here are pure given the groups list,
 * so tests drive them without real users.
 */
#ifndef IAMGATE_ROLES_H
#define IAMGATE_ROLES_H

#include <stddef.h>

#include "iamgate/cidr.h"
#include "iamgate/config.h"
#include "iamgate/error.h"

#define IG_MAX_GROUPS 1024

struct ig_user_groups {
	char **names;
	size_t n;
};

/*
 * The names of every group user belongs to (primary and supplementary).
 * IG_ERR_NOTFOUND when the user does not exist.
 */
int ig_roles_user_groups(const char *user, struct ig_user_groups *out) IG_MUST_CHECK;
void ig_roles_user_groups_free(struct ig_user_groups *g);
int ig_roles_in_group(const struct ig_user_groups *g, const char *name);

enum ig_login_verdict {
	IG_LOGIN_OK = 0,
	IG_LOGIN_NO_GROUP,          /* user is in no mapped group */
	IG_LOGIN_RHOST_NOT_ALLOWED, /* in mapped groups, none allows this address */
};

/* Static reason name for audit lines: "ok", "no_mapped_group", "rhost_not_allowed". */
const char *ig_login_verdict_name(enum ig_login_verdict v);

/* May the user log in from src?  A user may log in only from an address in
 * the allow_from lists of at least one mapped group they belong to. */
enum ig_login_verdict ig_roles_login_allowed(const struct ig_config *cfg,
                                             const struct ig_user_groups *g,
                                             const struct ig_addr *src);

struct ig_role_decision {
	const struct ig_role *role;
	int issue;          /* 1: issue it; 0: left out, see reason */
	const char *reason; /* "ok", "source_not_allowed", "pii_not_member",
			       "pii_source_not_fixed", "pii_no_mfa" */
};

/*
 * Roles the user's groups map to, once each, with the verdict for each:
 * a non-pii role is issued when a group mapping it allows src; a pii role
 * only when the user is in pii_group now, src is inside pii_group's
 * allow_from, and mfa_passed.  *out is malloc'd (free it); *n may be 0.
 */
int ig_roles_resolve(const struct ig_config *cfg, const struct ig_user_groups *g,
                     const struct ig_addr *src, int mfa_passed, struct ig_role_decision **out,
                     size_t *n) IG_MUST_CHECK;

#endif
