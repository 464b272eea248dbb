/*
 * cidr.h - literal IP addresses and CIDR prefix sets (IPv4 and IPv6).
 *
 * Parsing is apart from matching (OpenSSH addrmatch.c); nothing here ever
 * resolves a name.  IPv4-mapped IPv6 (::ffff:a.b.c.d) is normalised to IPv4
 * both in addresses and in prefixes (::ffff:0:0/96 and longer), so it matches
 * as the IPv4 address.
 */
#ifndef IAMGATE_CIDR_H
#define IAMGATE_CIDR_H

#include <stddef.h>
#include <stdint.h>

#include "iamgate/error.h"

#define IG_ADDRSTRLEN 46

struct ig_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t b[16];  /* network order; IPv4 uses b[0..3] */
};

struct ig_cidr {
	struct ig_addr addr;
	unsigned prefix; /* 0..32 for v4, 0..128 for v6 */
};

/*
 * Parse a literal address.  Accepts dotted-quad IPv4 and RFC 4291 IPv6
 * text; refuses host names, empty strings, zone ids ("fe80::1%eth0"),
 * brackets, surrounding spaces, leading zeros that inet_pton refuses, and
 * strings over IG_ADDRSTRLEN.  Returns 0 or IG_ERR_PARSE.
 */
int ig_addr_parse(const char *s, struct ig_addr *out) IG_MUST_CHECK;

/* Canonical text of addr into buf (cap >= IG_ADDRSTRLEN). */
int ig_addr_format(const struct ig_addr *addr, char *buf, size_t cap) IG_MUST_CHECK;

/*
 * Parse "ADDR/LEN" or a bare ADDR (a host prefix: /32 or /128).  Host bits
 * beyond the prefix must be zero ("10.0.0.1/8" is refused as IG_ERR_INVAL so
 * a typo is not silently widened).  Returns 0, IG_ERR_PARSE or IG_ERR_INVAL.
 */
int ig_cidr_parse(const char *s, struct ig_cidr *out) IG_MUST_CHECK;

/* 1 if addr lies inside cidr (same family after normalisation), else 0. */
int ig_cidr_contains(const struct ig_cidr *cidr, const struct ig_addr *addr);

/*
 * A set of prefixes with fast longest-prefix lookup (a binary trie per
 * family), so a match costs at most 32/128 steps whatever the set size.
 */
struct ig_cidr_set;

int ig_cidr_set_new(struct ig_cidr_set **out) IG_MUST_CHECK;
int ig_cidr_set_add(struct ig_cidr_set *set, const struct ig_cidr *cidr) IG_MUST_CHECK;
/* 1 if any prefix in set contains addr, else 0.  set may be NULL (no match). */
int ig_cidr_set_match(const struct ig_cidr_set *set, const struct ig_addr *addr);
size_t ig_cidr_set_count(const struct ig_cidr_set *set);
void ig_cidr_set_free(struct ig_cidr_set *set);

#endif
