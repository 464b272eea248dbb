/*
 * confcheck.h - a parsed configuration checked against this host: what
 * ig_config_parse cannot know from the text alone.
 *
 * - every configured group exists, and no two share a gid (roles.h);
 * - aws.ca_file, when set, is a trusted file (root-owned, not writable by
 *   group or others, no link, in trusted directories), like the
 *   configuration itself: whoever can replace it can impersonate AWS;
 * - the PII group's allowlists hold no loopback address and none of this
 *   host's own addresses: from a shell on the bastion anyone could `ssh`
 *   back in and present such an address (unless "pii_allow_local", for
 *   test rigs where every address is loopback).
 * Other allowlists with such addresses are only warned about (by `iamgate
 * check`): a login from them still needs the user's key and code.
 */
#ifndef IAMGATE_CONFCHECK_H
#define IAMGATE_CONFCHECK_H

#include <stddef.h>

#include "iamgate/cidr.h"
#include "iamgate/config.h"
#include "iamgate/error.h"
#include "iamgate/roles.h"

/* 1 when cidr overlaps a loopback or unspecified range (127.0.0.0/8,
 * 0.0.0.0/8, ::1/128, ::/128, and their IPv4-mapped forms). */
int ig_confcheck_local_prefix(const struct ig_cidr *cidr);

/* This host's own addresses (getifaddrs): *out malloc'd, *n of them. */
int ig_confcheck_own_addrs(struct ig_addr **out, size_t *n) IG_MUST_CHECK;

/*
 * The checks above, with own (n_own addresses) as this host's addresses and
 * lookup for the groups.  Problems are lines "NAME: ...; fix: ...\n"
 * appended to err; returns 0 or IG_ERR_CONFIG.
 */
int ig_confcheck_run(struct ig_config *cfg, ig_group_lookup_fn lookup, void *lookup_arg,
                     const struct ig_addr *own, size_t n_own, char *err,
                     size_t errcap) IG_MUST_CHECK;

/* ig_confcheck_run with the system's group database and addresses. */
int ig_confcheck_host(struct ig_config *cfg, char *err, size_t errcap) IG_MUST_CHECK;

/* The warnings (for `iamgate check`): one call of warn per allowlist that
 * holds a loopback address or one of own. */
void ig_confcheck_warnings(const struct ig_config *cfg, const struct ig_addr *own, size_t n_own,
                           void (*warn)(void *arg, const char *msg), void *arg);

#endif
