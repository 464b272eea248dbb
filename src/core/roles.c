/*
 * roles.c - a user's groups by gid, the configured groups' gids, the login
 * decision by source address, and the group -> role mapping with the PII
 * rule.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iamgate/roles.h"
#include "iamgate/util.h"

/* getgrouplist into a growing array, up to IG_MAX_GROUPS. */
static int group_list(const char *user, gid_t primary, gid_t **out, int *n)
{
	gid_t *gids = NULL;
	int ng = 64;

	for (;;) {
		gid_t *g2 = realloc(gids, (size_t)ng * sizeof(gid_t));
		int want = ng;

		if (g2 == NULL) {
			free(gids);
			return IG_ERR_NOMEM;
		}
		gids = g2;
		if (getgrouplist(user, primary, gids, &want) >= 0) {
			*out = gids;
			*n = want;
			return 0;
		}
		if (want <= ng || want > IG_MAX_GROUPS) {
			free(gids);
			return IG_ERR_RANGE;
		}
		ng = want;
	}
}

int ig_roles_user_groups(const char *user, struct ig_user_groups *out)
{
	struct passwd pw, *pwp = NULL;
	long bs = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t bufsz = bs > 16384 ? (size_t)bs : 16384;
	char *buf;
	int n = 0, r;

	out->gids = NULL;
	out->n = 0;
	if ((buf = malloc(bufsz)) == NULL)
		return IG_ERR_NOMEM;
	if (getpwnam_r(user, &pw, buf, bufsz, &pwp) != 0 || pwp == NULL) {
		free(buf);
		return IG_ERR_NOTFOUND;
	}
	r = group_list(user, pw.pw_gid, &out->gids, &n);
	free(buf);
	if (r == 0)
		out->n = (size_t)n;
	return r;
}

void ig_roles_user_groups_free(struct ig_user_groups *g)
{
	free(g->gids);
	g->gids = NULL;
	g->n = 0;
}

int ig_roles_in_group(const struct ig_user_groups *g, gid_t gid)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->gids[i] == gid)
			return 1;
	return 0;
}

int ig_roles_lookup_system(const char *name, gid_t *gid, void *arg)
{
	struct group gr, *grp = NULL;
	size_t sz = 16384;
	char *buf;
	int e;

	(void)arg;
	/* Large directory groups need a big buffer: grow until it fits. */
	for (;;) {
		if ((buf = malloc(sz)) == NULL)
			return IG_ERR_NOMEM;
		e = getgrnam_r(name, &gr, buf, sz, &grp);
		if (e != ERANGE || sz >= (1u << 24))
			break;
		free(buf);
		sz *= 4;
	}
	if (e == 0 && grp != NULL)
		*gid = gr.gr_gid;
	free(buf);
	if (e != 0)
		return IG_ERR_IO;
	return grp != NULL ? 0 : IG_ERR_NOTFOUND;
}

static void add_err(char *err, size_t cap, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void add_err(char *err, size_t cap, const char *fmt, ...)
{
	size_t used = strnlen(err, cap);
	va_list ap;

	if (used + 1 >= cap)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err + used, cap - used, fmt, ap);
	va_end(ap);
}

int ig_roles_resolve_gids(struct ig_config *cfg, ig_group_lookup_fn lookup, void *arg, char *err,
                          size_t errcap)
{
	const char *name = cfg->path ? cfg->path : "configuration";
	unsigned char *ok;
	int bad = 0;

	if (errcap > 0)
		err[0] = '\0';
	if ((ok = calloc(cfg->n_groups + 1, 1)) == NULL)
		return IG_ERR_NOMEM;
	for (size_t i = 0; i < cfg->n_groups; i++) {
		struct ig_group *g = &cfg->groups[i];
		int r = lookup(g->name, &g->gid, arg);

		ok[i] = r == 0;
		if (r != 0) {
			add_err(err, errcap,
			        "%s: group \"%s\" %s; fix: create the group, or remove it from "
			        "\"groups\"\n",
			        name, g->name,
			        r == IG_ERR_NOTFOUND ? "does not exist on this host"
			                             : "could not be looked up");
			bad = 1;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (ok[j] && cfg->groups[j].gid == g->gid) {
				add_err(err, errcap,
				        "%s: groups \"%s\" and \"%s\" are the same group (gid "
				        "%lu): "
				        "membership in one would count for the other; fix: give "
				        "each "
				        "mapped group a gid of its own\n",
				        name, cfg->groups[j].name, g->name, (unsigned long)g->gid);
				bad = 1;
			}
	}
	free(ok);
	return bad ? IG_ERR_CONFIG : 0;
}

static int group_allows(const struct ig_config *cfg, const struct ig_group *grp,
                        const struct ig_addr *src)
{
	for (size_t i = 0; i < grp->n_allow; i++)
		if (ig_cidr_set_match(cfg->allowlists[grp->allow[i]].set, src))
			return 1;
	return 0;
}

enum ig_reason ig_roles_login_allowed(const struct ig_config *cfg, const struct ig_user_groups *g,
                                      const struct ig_addr *src)
{
	int mapped = 0;

	for (size_t i = 0; i < cfg->n_groups; i++) {
		if (!ig_roles_in_group(g, cfg->groups[i].gid))
			continue;
		mapped = 1;
		if (group_allows(cfg, &cfg->groups[i], src))
			return IG_R_OK;
	}
	return mapped ? IG_R_RHOST_NOT_ALLOWED : IG_R_NO_MAPPED_GROUP;
}

/* Is role ri mapped to one of the user's groups, and does one of those
 * groups allow src? */
static void role_mapping(const struct ig_config *cfg, const struct ig_user_groups *g, size_t ri,
                         const struct ig_addr *src, int *mapped, int *allowed)
{
	*mapped = *allowed = 0;
	for (size_t gi = 0; gi < cfg->n_groups; gi++) {
		const struct ig_group *grp = &cfg->groups[gi];

		if (!ig_roles_in_group(g, grp->gid))
			continue;
		for (size_t k = 0; k < grp->n_roles; k++)
			if (grp->roles[k] == ri) {
				*mapped = 1;
				*allowed |= group_allows(cfg, grp, src);
			}
	}
}

/* The PII rule, checked here whatever the caller says. */
static enum ig_reason role_verdict(const struct ig_config *cfg, const struct ig_user_groups *g,
                                   const struct ig_role *role, const struct ig_addr *src,
                                   int mfa_passed, int allowed)
{
	const struct ig_group *pg = cfg->pii_group ? ig_config_group(cfg, cfg->pii_group) : NULL;

	if (role->pii && (pg == NULL || !ig_roles_in_group(g, pg->gid)))
		return IG_R_PII_NOT_MEMBER;
	if (role->pii && !group_allows(cfg, pg, src))
		return IG_R_PII_SOURCE_NOT_FIXED;
	if (role->pii && !mfa_passed)
		return IG_R_PII_NO_MFA;
	return allowed ? IG_R_OK : IG_R_SOURCE_NOT_ALLOWED;
}

int ig_roles_resolve(const struct ig_config *cfg, const struct ig_user_groups *g,
                     const struct ig_addr *src, int mfa_passed, struct ig_role_decision **out,
                     size_t *n)
{
	struct ig_role_decision *d;

	*out = NULL;
	*n = 0;
	if ((d = calloc(cfg->n_roles + 1, sizeof(*d))) == NULL)
		return IG_ERR_NOMEM;
	for (size_t ri = 0; ri < cfg->n_roles; ri++) {
		int mapped, allowed;

		role_mapping(cfg, g, ri, src, &mapped, &allowed);
		if (!mapped)
			continue;
		d[*n].role = &cfg->roles[ri];
		d[*n].reason = role_verdict(cfg, g, &cfg->roles[ri], src, mfa_passed, allowed);
		d[*n].issue = d[*n].reason == IG_R_OK;
		(*n)++;
	}
	*out = d;
	return 0;
}
