/*
 * confcheck.c - a parsed configuration against this host (confcheck.h).
 */
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "iamgate/confcheck.h"
#include "iamgate/roles.h"
#include "iamgate/util.h"

static const char *const local_ranges[] = {
        "127.0.0.0/8",          "0.0.0.0/8",         "::1/128", "::/128",
        "::ffff:127.0.0.0/104", "::ffff:0.0.0.0/104"};

int ig_confcheck_local_prefix(const struct ig_cidr *cidr)
{
	for (size_t i = 0; i < sizeof(local_ranges) / sizeof(local_ranges[0]); i++) {
		struct ig_cidr r;

		if (ig_cidr_parse(local_ranges[i], &r) != 0)
			continue;
		if (ig_cidr_contains(&r, &cidr->addr) || ig_cidr_contains(cidr, &r.addr))
			return 1;
	}
	return 0;
}

static int addr_of(const struct sockaddr *sa, struct ig_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		a->family = 4;
		memcpy(a->b, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		a->family = 6;
		memcpy(a->b, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

int ig_confcheck_own_addrs(struct ig_addr **out, size_t *n)
{
	struct ifaddrs *ifa = NULL, *p;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (getifaddrs(&ifa) != 0)
		return IG_ERR_IO;
	for (p = ifa; p != NULL; p = p->ifa_next)
		cap++;
	if ((*out = calloc(cap + 1, sizeof(**out))) == NULL) {
		freeifaddrs(ifa);
		return IG_ERR_NOMEM;
	}
	for (p = ifa; p != NULL; p = p->ifa_next)
		if (p->ifa_addr != NULL && addr_of(p->ifa_addr, &(*out)[*n]) == 0)
			(*n)++;
	freeifaddrs(ifa);
	return 0;
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

/* The first of own inside al, or NULL. */
static const struct ig_addr *own_inside(const struct ig_allowlist *al, const struct ig_addr *own,
                                        size_t n_own)
{
	for (size_t i = 0; i < n_own; i++)
		if (ig_cidr_set_match(al->set, &own[i]))
			return &own[i];
	return NULL;
}

static int check_ca_file(const struct ig_config *cfg, char *err, size_t errcap)
{
	char why[512];
	struct stat st;

	if (cfg->aws.ca_file == NULL)
		return 0;
	if (ig_safe_path(cfg->aws.ca_file, why, sizeof(why)) == 0 &&
	    lstat(cfg->aws.ca_file, &st) == 0 && ig_file_trusted(&st, 16u << 20, 0) == 0)
		return 0;
	add_err(err, errcap,
	        "%s: aws.ca_file %s is not a trusted file (%s); fix: a regular file owned by "
	        "root, not writable by group or others, in root-owned directories that are "
	        "not writable by others\n",
	        cfg->path, cfg->aws.ca_file, why[0] ? why : "not a root-owned regular file");
	return IG_ERR_CONFIG;
}

static int check_pii_local(const struct ig_config *cfg, const struct ig_addr *own, size_t n_own,
                           char *err, size_t errcap)
{
	const struct ig_group *pg;
	int bad = 0;

	if (cfg->pii_group == NULL || cfg->pii_allow_local ||
	    (pg = ig_config_group(cfg, cfg->pii_group)) == NULL)
		return 0;
	for (size_t i = 0; i < pg->n_allow; i++) {
		const struct ig_allowlist *al = &cfg->allowlists[pg->allow[i]];
		const struct ig_addr *a = own_inside(al, own, n_own);
		char txt[IG_ADDRSTRLEN];

		if (al->local) {
			add_err(err, errcap,
			        "%s: allowlist \"%s\" of the PII group holds a loopback address: "
			        "anyone with a shell here could ssh back in from it; fix: list "
			        "only "
			        "the fixed office or VPN addresses\n",
			        cfg->path, al->name);
			bad = 1;
		}
		if (a != NULL && ig_addr_format(a, txt, sizeof(txt)) == 0) {
			add_err(err, errcap,
			        "%s: allowlist \"%s\" of the PII group holds %s, an address of "
			        "this "
			        "host: anyone with a shell here could ssh back in from it; fix: "
			        "list "
			        "only the fixed office or VPN addresses\n",
			        cfg->path, al->name, txt);
			bad = 1;
		}
	}
	return bad ? IG_ERR_CONFIG : 0;
}

int ig_confcheck_run(struct ig_config *cfg, ig_group_lookup_fn lookup, void *lookup_arg,
                     const struct ig_addr *own, size_t n_own, char *err, size_t errcap)
{
	char gerr[4096];
	int bad = 0;

	if (ig_roles_resolve_gids(cfg, lookup, lookup_arg, gerr, sizeof(gerr)) != 0) {
		add_err(err, errcap, "%s", gerr);
		bad = 1;
	}
	bad |= check_ca_file(cfg, err, errcap) != 0;
	bad |= check_pii_local(cfg, own, n_own, err, errcap) != 0;
	return bad ? IG_ERR_CONFIG : 0;
}

int ig_confcheck_host(struct ig_config *cfg, char *err, size_t errcap)
{
	struct ig_addr *own = NULL;
	size_t n = 0;
	int r;

	if (ig_confcheck_own_addrs(&own, &n) != 0) {
		add_err(err, errcap, "%s: cannot list this host's addresses (getifaddrs)\n",
		        cfg->path);
		return IG_ERR_CONFIG;
	}
	r = ig_confcheck_run(cfg, ig_roles_lookup_system, NULL, own, n, err, errcap);
	free(own);
	return r;
}

void ig_confcheck_warnings(const struct ig_config *cfg, const struct ig_addr *own, size_t n_own,
                           void (*warn)(void *arg, const char *msg), void *arg)
{
	for (size_t i = 0; i < cfg->n_allowlists; i++) {
		const struct ig_allowlist *al = &cfg->allowlists[i];
		const struct ig_addr *a = own_inside(al, own, n_own);
		char msg[512], txt[IG_ADDRSTRLEN] = "";

		if (!al->local && a == NULL)
			continue;
		if (a != NULL && ig_addr_format(a, txt, sizeof(txt)) != 0)
			txt[0] = '\0';
		if (ig_bfmt(msg, sizeof(msg),
		            "allowlist \"%s\" holds %s%s: a user with a shell on this host can ssh "
		            "back in from it and present an allowed address; list only the "
		            "addresses people come from",
		            al->name, al->local ? "a loopback address" : "this host's address ",
		            al->local ? "" : txt) == 0)
			warn(arg, msg);
	}
}
