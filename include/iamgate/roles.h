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
#include <sys/types.h>

#include "iamgate/cidr.h"
#include "iamgate/config.h"
#include "iamgate/error.h"
#include "iamgate/reason.h"

#define IG_MAX_GROUPS 1024

/* A user's groups, by gid: compared by number, never by name, so no group
 * named like a mapped one (a gid collision, a directory where users create
 * groups) makes anyone a member. */
struct ig_user_groups {
	gid_t *gids;
	size_t n;
};

/*
 * The gids of every group user belongs to (primary and supplementary,
 * getgrouplist: LDAP/SSSD groups count).  IG_ERR_NOTFOUND when the user
 * does not exist.
 */
int ig_roles_user_groups(const char *user, struct ig_user_groups *out) IG_MUST_CHECK;
void ig_roles_user_groups_free(struct ig_user_groups *g);
int ig_roles_in_group(const struct ig_user_groups *g, gid_t gid);

/* Look a group name up: 0 and *gid, IG_ERR_NOTFOUND, or another IG_ERR_*
 * when the lookup itself failed. */
typedef int (*ig_group_lookup_fn)(const char *name, gid_t *gid, void *arg);

/* The system's group database (getgrnam_r), for ig_roles_resolve_gids. */
int ig_roles_lookup_system(const char *name, gid_t *gid, void *arg);

/*
 * Give every configured group its gid.  A name that does not resolve, or
 * two configured names with the same gid, refuse the configuration: err
 * receives "NAME: group \"G\" ...; fix: ..." lines (truncated to errcap).
 * Returns 0 or IG_ERR_CONFIG.
 */
int ig_roles_resolve_gids(struct ig_config *cfg, ig_group_lookup_fn lookup, void *arg, char *err,
                          size_t errcap) IG_MUST_CHECK;

/* May the user log in from src?  A user may log in only from an address in
 * the allow_from lists of at least one mapped group they belong to.
 * IG_R_OK, IG_R_NO_MAPPED_GROUP (in no mapped group) or
 * IG_R_RHOST_NOT_ALLOWED (in mapped groups, none allows src). */
enum ig_reason ig_roles_login_allowed(const struct ig_config *cfg, const struct ig_user_groups *g,
                                      const struct ig_addr *src);

struct ig_role_decision {
	const struct ig_role *role;
	int issue;             /* 1: issue it; 0: left out, see reason */
	enum ig_reason reason; /* IG_R_OK, SOURCE_NOT_ALLOWED, PII_NOT_MEMBER,
	                          PII_SOURCE_NOT_FIXED, PII_NO_MFA */
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
