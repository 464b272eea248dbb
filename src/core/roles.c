/*
 * roles.c - group lookup and the group -> role mapping with the PII rule.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iamgate/roles.h"

int ig_roles_user_groups(const char *user, struct ig_user_groups *out)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp;
	gid_t *gids = NULL;
	char *buf = NULL;
	long bs = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t bufsz = bs > 0 ? (size_t)bs : 16384;
	int ng = 64, r = 0;

	out->names = NULL;
	out->n = 0;
	if (bufsz < 16384)
		bufsz = 16384;
	if ((buf = malloc(bufsz)) == NULL)
		return IG_ERR_NOMEM;
	if (getpwnam_r(user, &pw, buf, bufsz, &pwp) != 0 || pwp == NULL) {
		r = IG_ERR_NOTFOUND;
		goto out;
	}
	for (;;) {
		gid_t *g2 = realloc(gids, (size_t)ng * sizeof(gid_t));
		int want = ng;

		if (g2 == NULL) {
			r = IG_ERR_NOMEM;
			goto out;
		}
		gids = g2;
		if (getgrouplist(user, pw.pw_gid, gids, &want) >= 0) {
			ng = want;
			break;
		}
		if (want <= ng || want > IG_MAX_GROUPS) {
			r = IG_ERR_RANGE;
			goto out;
		}
		ng = want;
	}
	if ((out->names = calloc((size_t)ng + 1, sizeof(char *))) == NULL) {
		r = IG_ERR_NOMEM;
		goto out;
	}
	for (int i = 0; i < ng; i++) {
		char *gbuf = NULL;
		size_t gsz = 16384;

		/* Large directory groups need a big buffer: grow until it fits. */
		for (;;) {
			int e;
			if ((gbuf = malloc(gsz)) == NULL) {
				r = IG_ERR_NOMEM;
				goto out;
			}
			e = getgrgid_r(gids[i], &gr, gbuf, gsz, &grp);
			if (e == ERANGE && gsz < (1u << 24)) {
				free(gbuf);
				gsz *= 4;
				continue;
			}
			break;
		}
		if (grp != NULL) {
			out->names[out->n] = strdup(gr.gr_name);
			if (out->names[out->n] == NULL) {
				free(gbuf);
				r = IG_ERR_NOMEM;
				goto out;
			}
			out->n++;
		}
		free(gbuf);
	}
out:
	free(gids);
	free(buf);
	if (r != 0)
		ig_roles_user_groups_free(out);
	return r;
}

void ig_roles_user_groups_free(struct ig_user_groups *g)
{
	for (size_t i = 0; g->names && i < g->n; i++)
		free(g->names[i]);
	free(g->names);
	g->names = NULL;
	g->n = 0;
}

int ig_roles_in_group(const struct ig_user_groups *g, const char *name)
{
	for (size_t i = 0; name && i < g->n; i++)
		if (strcmp(g->names[i], name) == 0)
			return 1;
	return 0;
}

const char *ig_login_verdict_name(enum ig_login_verdict v)
{
	switch (v) {
	case IG_LOGIN_OK: return "ok";
	case IG_LOGIN_NO_GROUP: return "no_mapped_group";
	case IG_LOGIN_RHOST_NOT_ALLOWED: return "rhost_not_allowed";
	default: return "unknown";
	}
}

static int group_allows(const struct ig_config *cfg, const struct ig_group *grp,
                        const struct ig_addr *src)
{
	for (size_t i = 0; i < grp->n_allow; i++)
		if (ig_cidr_set_match(cfg->allowlists[grp->allow[i]].set, src))
			return 1;
	return 0;
}

enum ig_login_verdict ig_roles_login_allowed(const struct ig_config *cfg,
                                             const struct ig_user_groups *g,
                                             const struct ig_addr *src)
{
	int mapped = 0;

	for (size_t i = 0; i < cfg->n_groups; i++) {
		if (!ig_roles_in_group(g, cfg->groups[i].name))
			continue;
		mapped = 1;
		if (group_allows(cfg, &cfg->groups[i], src))
			return IG_LOGIN_OK;
	}
	return mapped ? IG_LOGIN_RHOST_NOT_ALLOWED : IG_LOGIN_NO_GROUP;
}

int ig_roles_resolve(const struct ig_config *cfg, const struct ig_user_groups *g,
                     const struct ig_addr *src, int mfa_passed, struct ig_role_decision **out,
                     size_t *n)
{
	struct ig_role_decision *d;
	const struct ig_group *pg;

	*out = NULL;
	*n = 0;
	if ((d = calloc(cfg->n_roles + 1, sizeof(*d))) == NULL)
		return IG_ERR_NOMEM;
	pg = cfg->pii_group ? ig_config_group(cfg, cfg->pii_group) : NULL;
	for (size_t ri = 0; ri < cfg->n_roles; ri++) {
		const struct ig_role *role = &cfg->roles[ri];
		int mapped = 0, allowed = 0;

		for (size_t gi = 0; gi < cfg->n_groups; gi++) {
			const struct ig_group *grp = &cfg->groups[gi];

			if (!ig_roles_in_group(g, grp->name))
				continue;
			for (size_t k = 0; k < grp->n_roles; k++)
				if (grp->roles[k] == ri) {
					mapped = 1;
					allowed |= group_allows(cfg, grp, src);
				}
		}
		if (!mapped)
			continue;
		d[*n].role = role;
		d[*n].issue = 0;
		/* The PII rule, checked here whatever the caller says. */
		if (role->pii && (pg == NULL || !ig_roles_in_group(g, pg->name)))
			d[*n].reason = "pii_not_member";
		else if (role->pii && !group_allows(cfg, pg, src))
			d[*n].reason = "pii_source_not_fixed";
		else if (role->pii && !mfa_passed)
			d[*n].reason = "pii_no_mfa";
		else if (!allowed)
			d[*n].reason = "source_not_allowed";
		else {
			d[*n].issue = 1;
			d[*n].reason = "ok";
		}
		(*n)++;
	}
	*out = d;
	return 0;
}
