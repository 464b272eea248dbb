/*
 * cidr_ref.h - the reference model the CIDR tests check cidr.c against
 * (test_cidr.c, tests/fuzz/fuzz_cidr.c): bit by bit, written apart from
 * cidr.c's word masks and its tree, so the two cannot share a mistake.
 */
#ifndef IAMGATE_TEST_CIDR_REF_H
#define IAMGATE_TEST_CIDR_REF_H

#include <stdint.h>
#include <string.h>

#include "iamgate/cidr.h"

/* The first 12 bytes of an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
static const uint8_t ref_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Bit i of b, most significant first. */
static inline int ref_bit(const uint8_t *b, unsigned i)
{
	return (b[i / 8] >> (7 - i % 8)) & 1;
}

/* ::ffff:a.b.c.d becomes a.b.c.d; every other address is left alone. */
static inline struct ig_addr ref_canon_addr(struct ig_addr a)
{
	if (a.family == 6 && memcmp(a.b, ref_mapped, 12) == 0) {
		uint8_t v4[4];

		memcpy(v4, a.b + 12, 4);
		memset(a.b, 0, 16);
		memcpy(a.b, v4, 4);
		a.family = 4;
	}
	return a;
}

/* A prefix of /96 or longer under ::ffff:0:0/96 becomes the IPv4 prefix it
 * is (the form the set stores); every other prefix is left alone. */
static inline struct ig_cidr ref_canon(struct ig_cidr c)
{
	if (c.addr.family == 6 && c.prefix >= 96 && memcmp(c.addr.b, ref_mapped, 12) == 0) {
		c.addr = ref_canon_addr(c.addr);
		c.prefix -= 96;
	}
	return c;
}

/* c (as the set stores it: canonical) contains addr, in either form. */
static inline int ref_contains(const struct ig_cidr *c, const struct ig_addr *addr)
{
	struct ig_addr a = ref_canon_addr(*addr);

	if (c->addr.family != a.family)
		return 0;
	for (unsigned i = 0; i < c->prefix; i++)
		if (ref_bit(c->addr.b, i) != ref_bit(a.b, i))
			return 0;
	return 1;
}

#endif
