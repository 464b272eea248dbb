/*
 * cidr.h - literal IP addresses and CIDR prefix sets (IPv4 and IPv6).
 *
 * Parsing is apart from matching (OpenSSH addrmatch.c); nothing here ever
 * resolves a name.  IPv4-mapped IPv6 (::ffff:a.b.c.d) is normalised to IPv4
 * both in addresses and in prefixes (::ffff:0:0/96 and longer), so it matches
 * as the IPv4 address.
 *
 * Only ::ffff:0:0/96 is normalised.  IPv4-compatible (::a.b.c.d, deprecated
 * by RFC 4291), NAT64 (64:ff9b::/96) and SIIT (::ffff:0:a.b.c.d) addresses
 * stay IPv6: they are not the IPv4 host itself, so an IPv4 allowlist entry
 * must not admit them.
 *
 * Families never mix.  An IPv6 prefix shorter than /96 (::/0, ::/80, ...)
 * is kept as IPv6 and never matches an IPv4 address, even one that arrived
 * as ::ffff:a.b.c.d; to allow everything, list both 0.0.0.0/0 and ::/0.
 * A mapped prefix shorter than /96 (::ffff:0:0/95) always has host bits set
 * (the ffff) and is refused as IG_ERR_INVAL.  Note ::ffff:0:0/96 itself
 * becomes 0.0.0.0/0.
 */
#ifndef IAMGATE_CIDR_H
#define IAMGATE_CIDR_H

#include <stddef.h>
#include <stdint.h>

#include "iamgate/error.h"

/* Longest address text plus NUL ("ffff:...:ffff:255.255.255.255" is 45). */
#define IG_ADDRSTRLEN 46
/* Longest prefix text plus NUL: an address, '/', three digits. */
#define IG_CIDRSTRLEN (IG_ADDRSTRLEN + 4)
/* Most prefixes one set accepts (bounds its memory to about 128 MiB). */
#define IG_CIDR_SET_MAX 1000000u

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
 * s == NULL is IG_ERR_PARSE (an absent rhost is a deny); out == NULL is
 * IG_ERR_INVAL.  On failure *out is zeroed (family 0 matches nothing).
 */
int ig_addr_parse(const char *s, struct ig_addr *out) IG_MUST_CHECK;

/*
 * Same as ig_addr_parse for exactly len bytes at s, which need not be
 * NUL-terminated; any NUL inside the len bytes is IG_ERR_PARSE.  For strings
 * that carry their length (a JSON string may hold "\u0000").
 */
int ig_addr_parse_len(const char *s, size_t len, struct ig_addr *out) IG_MUST_CHECK;

/*
 * Canonical text of addr into buf (cap >= IG_ADDRSTRLEN).  An IPv4-mapped
 * IPv6 addr is written as IPv4.  Returns 0, IG_ERR_INVAL (NULL, bad family)
 * or IG_ERR_RANGE (cap too small; buf is then "" if cap > 0).
 */
int ig_addr_format(const struct ig_addr *addr, char *buf, size_t cap) IG_MUST_CHECK;

/*
 * Parse "ADDR/LEN" or a bare ADDR (a host prefix: /32 or /128).  Host bits
 * beyond the prefix must be zero ("10.0.0.1/8" is refused as IG_ERR_INVAL so
 * a typo is not silently widened).  Returns 0, IG_ERR_PARSE or IG_ERR_INVAL.
 * LEN is plain decimal: no sign, no spaces, no leading zero except "0" itself,
 * at most 32 (IPv4) or 128 (IPv6).  ::ffff:a.b.c.d/N with N >= 96 becomes
 * a.b.c.d/(N-96).  NULL s or out is IG_ERR_INVAL; on failure *out is zeroed.
 */
int ig_cidr_parse(const char *s, struct ig_cidr *out) IG_MUST_CHECK;

/* ig_cidr_parse for exactly len bytes at s (see ig_addr_parse_len). */
int ig_cidr_parse_len(const char *s, size_t len, struct ig_cidr *out) IG_MUST_CHECK;

/*
 * "ADDR/LEN" text of cidr into buf (cap >= IG_CIDRSTRLEN), normalised like
 * ig_addr_format.  Returns 0, IG_ERR_INVAL (NULL, bad family or prefix, host
 * bits set) or IG_ERR_RANGE (cap too small; buf is then "" if cap > 0).
 */
int ig_cidr_format(const struct ig_cidr *cidr, char *buf, size_t cap) IG_MUST_CHECK;

/*
 * 1 if addr lies inside cidr (same family after normalisation), else 0.
 * NULL arguments, an unknown family or an out-of-range prefix give 0.
 */
int ig_cidr_contains(const struct ig_cidr *cidr, const struct ig_addr *addr);

/*
 * A set of prefixes with fast longest-prefix lookup (a binary trie per
 * family), so a match costs at most 32/128 steps whatever the set size.
 *
 * The tries are path-compressed (a node per branching point, not per bit),
 * so a lookup visits about log2(n) nodes.  The set only answers "is addr in
 * any prefix": a prefix inside one already present adds no node, and a
 * prefix that covers others replaces them.  Each add uses at most two nodes
 * of 32 bytes from a per-family array, so memory is O(count).  Once a family
 * holds a few thousand nodes it also gets a 256 KiB table of subtries keyed
 * by 16 address bits (IPv4 bits 0..15, IPv6 bits 3..18), so a lookup in a
 * big set starts below them.
 */
struct ig_cidr_set;

/* A new empty set (matches nothing).  Returns 0 or IG_ERR_NOMEM. */
int ig_cidr_set_new(struct ig_cidr_set **out) IG_MUST_CHECK;
/*
 * Add a prefix (normalised like ig_cidr_parse).  Returns 0, IG_ERR_INVAL
 * (NULL, bad family, prefix out of range, host bits set), IG_ERR_RANGE
 * (already IG_CIDR_SET_MAX prefixes) or IG_ERR_NOMEM; on error the set is
 * unchanged.
 */
int ig_cidr_set_add(struct ig_cidr_set *set, const struct ig_cidr *cidr) IG_MUST_CHECK;
/* 1 if any prefix in set contains addr, else 0.  set may be NULL (no match). */
int ig_cidr_set_match(const struct ig_cidr_set *set, const struct ig_addr *addr);
/* Number of successful ig_cidr_set_add calls (duplicates included); NULL is 0. */
size_t ig_cidr_set_count(const struct ig_cidr_set *set);
void ig_cidr_set_free(struct ig_cidr_set *set);

#endif
