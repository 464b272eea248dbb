/*
 * fuzz_cidr.c - libFuzzer target for src/core/cidr.c.
 *
 * Build (from the repo root):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude tests/fuzz/fuzz_cidr.c src/core/cidr.c src/base/util.c src/base/error.c -o build/h-cidr/fuzz_cidr
 * Run (grow a scratch copy, not the seed corpus in the repo):
 *   mkdir -p build/h-cidr/corpus && cp -r tests/fuzz/corpus/cidr/. build/h-cidr/corpus/
 *   build/h-cidr/fuzz_cidr -max_total_time=60 -dict=tests/fuzz/fuzz_cidr.dict build/h-cidr/corpus
 * Replay the seeds and regression cases only:
 *   build/h-cidr/fuzz_cidr -runs=0 tests/fuzz/corpus/cidr
 *
 * Each input is used twice:
 *  - as text (NUL-terminated copy) for ig_addr_parse, ig_cidr_parse and their
 *    _len forms, checking the contracts: only the documented errors, zeroed
 *    output on failure, format/parse round trips, and a one-prefix set that
 *    contains its own network and last address but not its neighbour;
 *  - as binary records building a set of up to 64 prefixes, whose answers
 *    must agree with a bit-by-bit reference for every probe address.
 * A broken invariant aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/cidr.h"
#include "../unit/cidr_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #x);  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static unsigned maxbits(const struct ig_addr *a)
{
	return a->family == 4 ? 32u : 128u;
}

static void flip_bit(uint8_t *b, unsigned i)
{
	b[i / 8] ^= (uint8_t)(0x80u >> (i % 8));
}

/* ---- text ---- */

static void check_addr_text(const char *s, size_t len, const uint8_t *raw, size_t rawlen)
{
	struct ig_addr a, b;
	struct ig_cidr c;
	char buf[IG_ADDRSTRLEN];
	int r;

	r = ig_addr_parse(s, &a);
	CHECK(r == 0 || r == IG_ERR_PARSE);
	/* The length form agrees, and refuses any NUL inside. */
	{
		int r2 = ig_addr_parse_len((const char *)raw, rawlen, &b);

		if (memchr(raw, '\0', rawlen) != NULL)
			CHECK(r2 == IG_ERR_PARSE);
		else
			CHECK(r2 == r && memcmp(&a, &b, sizeof(a)) == 0);
	}
	if (r != 0) {
		CHECK(all_zero(&a, sizeof(a)));
		return;
	}
	CHECK(len > 0 && len < IG_ADDRSTRLEN);
	CHECK(a.family == 4 || a.family == 6);
	CHECK(!(a.family == 6 && memcmp(a.b, ref_mapped, 12) == 0));
	if (a.family == 4)
		CHECK(all_zero(a.b + 4, 12));
	for (size_t i = 0; i < len; i++)
		CHECK(strchr("0123456789abcdefABCDEF:.", s[i]) != NULL);
	/* Canonical text parses back to the same address. */
	CHECK(ig_addr_format(&a, buf, sizeof(buf)) == 0);
	CHECK(ig_addr_parse(buf, &b) == 0);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	/* A bare address is a host prefix of the same address. */
	CHECK(ig_cidr_parse(s, &c) == 0);
	CHECK(memcmp(&c.addr, &a, sizeof(a)) == 0);
	CHECK(c.prefix == maxbits(&a));
	CHECK(ig_cidr_contains(&c, &a) == 1);
}

static void check_cidr_text(const char *s, const uint8_t *raw, size_t rawlen)
{
	struct ig_cidr c, d;
	struct ig_cidr_set *set = NULL;
	struct ig_addr a;
	char buf[IG_CIDRSTRLEN];
	unsigned mb;
	int r;

	r = ig_cidr_parse(s, &c);
	CHECK(r == 0 || r == IG_ERR_PARSE || r == IG_ERR_INVAL);
	{
		int r2 = ig_cidr_parse_len((const char *)raw, rawlen, &d);

		if (memchr(raw, '\0', rawlen) != NULL)
			CHECK(r2 == IG_ERR_PARSE);
		else
			CHECK(r2 == r && memcmp(&c, &d, sizeof(c)) == 0);
	}
	if (r != 0) {
		CHECK(all_zero(&c, sizeof(c)));
		return;
	}
	CHECK(c.addr.family == 4 || c.addr.family == 6);
	mb = maxbits(&c.addr);
	CHECK(c.prefix <= mb);
	CHECK(!(c.addr.family == 6 && c.prefix >= 96 && memcmp(c.addr.b, ref_mapped, 12) == 0));
	/* Host bits are zero. */
	for (unsigned i = c.prefix; i < 128; i++)
		CHECK(((c.addr.b[i / 8] >> (7 - i % 8)) & 1) == 0);
	/* Canonical text round trip. */
	CHECK(ig_cidr_format(&c, buf, sizeof(buf)) == 0);
	CHECK(ig_cidr_parse(buf, &d) == 0);
	CHECK(memcmp(&c, &d, sizeof(c)) == 0);

	/* A set of this one prefix: its network address is inside. */
	CHECK(ig_cidr_set_new(&set) == 0);
	CHECK(ig_cidr_set_match(set, &c.addr) == 0);
	CHECK(ig_cidr_set_add(set, &c) == 0);
	CHECK(ig_cidr_set_count(set) == 1);
	CHECK(ig_cidr_set_match(set, &c.addr) == 1);
	CHECK(ig_cidr_contains(&c, &c.addr) == 1);
	/*
	 * So is its last address, unless that is IPv4-mapped (::/80 ends at
	 * ::ffff:255.255.255.255): mapped addresses are IPv4, and an IPv6
	 * prefix never matches IPv4.
	 */
	a = c.addr;
	for (unsigned i = c.prefix; i < mb; i++)
		flip_bit(a.b, i);
	{
		int want = !(a.family == 6 && memcmp(a.b, ref_mapped, 12) == 0);

		CHECK(ig_cidr_set_match(set, &a) == want);
		CHECK(ig_cidr_contains(&c, &a) == want);
	}
	/* The neighbour across the last prefix bit is not. */
	if (c.prefix > 0) {
		a = c.addr;
		flip_bit(a.b, c.prefix - 1);
		CHECK(ig_cidr_set_match(set, &a) == 0);
		CHECK(ig_cidr_contains(&c, &a) == 0);
	}
	/* IPv4 also matches in mapped form; the same bytes in the other family never do. */
	memset(&a, 0, sizeof(a));
	if (c.addr.family == 4) {
		a.family = 6;
		memcpy(a.b, ref_mapped, 12);
		memcpy(a.b + 12, c.addr.b, 4);
		CHECK(ig_cidr_set_match(set, &a) == 1);
		a.b[11] = 0; /* ::a.b.c.d, IPv4-compatible: IPv6 */
		CHECK(ig_cidr_set_match(set, &a) == 0);
		CHECK(ig_cidr_contains(&c, &a) == 0);
	} else {
		a.family = 4;
		memcpy(a.b, c.addr.b, 4);
		CHECK(ig_cidr_set_match(set, &a) == 0);
		CHECK(ig_cidr_contains(&c, &a) == 0);
	}
	ig_cidr_set_free(set);
}

/* ---- binary records: set vs reference ---- */

enum { REC = 18, MAXPFX = 64, NFILL = 2100 };

/*
 * Filler: NFILL host prefixes per family (240.0.x.y and fc00::x:y, x:y below
 * NFILL), enough for the set to switch to its bucket table, so the fuzzed
 * prefixes and probes also meet that form and the rebuild.
 */
static void add_filler(struct ig_cidr_set *set)
{
	for (unsigned i = 0; i < NFILL; i++) {
		struct ig_cidr c;

		memset(&c, 0, sizeof(c));
		c.addr.family = 4;
		c.addr.b[0] = 240;
		c.addr.b[2] = (uint8_t)(i >> 8);
		c.addr.b[3] = (uint8_t)i;
		c.prefix = 32;
		CHECK(ig_cidr_set_add(set, &c) == 0);
		memset(&c, 0, sizeof(c));
		c.addr.family = 6;
		c.addr.b[0] = 0xfc;
		c.addr.b[14] = (uint8_t)(i >> 8);
		c.addr.b[15] = (uint8_t)i;
		c.prefix = 128;
		CHECK(ig_cidr_set_add(set, &c) == 0);
	}
}

static int in_filler(const struct ig_addr *addr)
{
	struct ig_addr a = ref_canon_addr(*addr);

	if (a.family == 4)
		return a.b[0] == 240 && a.b[1] == 0 && (a.b[2] << 8 | a.b[3]) < NFILL;
	return a.b[0] == 0xfc && all_zero(a.b + 1, 13) && (a.b[14] << 8 | a.b[15]) < NFILL;
}

/*
 * Record: kind, len, 16 address bytes.  kind bit 0: prefix (1) or probe (0);
 * bit 1: IPv6; bit 2: write an IPv6 record in mapped form.  Bits 3 and 7 of the
 * first record: add the filler before record (its len byte) % (count + 1).
 */
static void check_set_binary(const uint8_t *data, size_t size)
{
	struct ig_cidr list[MAXPFX];
	struct ig_cidr_set *set = NULL;
	size_t n = 0, nrec = size / REC, fill_at = SIZE_MAX, filled = 0;

	if (nrec > 0 && (data[0] & 0x88) == 0x88)
		fill_at = data[1] % (nrec + 1);
	CHECK(ig_cidr_set_new(&set) == 0);
	for (size_t off = 0; off + REC <= size + REC; off += REC) {
		const uint8_t *r = data + off;
		struct ig_addr a;

		if (off / REC == fill_at) {
			add_filler(set);
			filled = 2 * NFILL;
		}
		if (off + REC > size)
			break;

		memset(&a, 0, sizeof(a));
		a.family = (r[0] & 2) ? 6 : 4;
		memcpy(a.b, r + 2, a.family == 6 ? 16 : 4);
		if (a.family == 6 && (r[0] & 4))
			memcpy(a.b, ref_mapped, 12);
		if ((r[0] & 1) && n < MAXPFX) {
			struct ig_cidr c;
			unsigned mb = maxbits(&a);

			c.addr = a;
			c.prefix = r[1] % (mb + 1);
			if (a.family == 6 && (r[0] & 4))
				c.prefix = 96 + r[1] % 33;
			for (unsigned i = c.prefix; i < mb; i++)
				c.addr.b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
			CHECK(ig_cidr_set_add(set, &c) == 0);
			/* Keep the reference's copy in the normalised form. */
			list[n++] = ref_canon(c);
			continue;
		}
		{
			int want = filled > 0 && in_filler(&a);

			for (size_t i = 0; i < n && !want; i++)
				want = ref_contains(&list[i], &a);
			CHECK(ig_cidr_set_match(set, &a) == want);
		}
	}
	for (size_t i = 0; i < n; i++)
		CHECK(ig_cidr_set_match(set, &list[i].addr) == 1);
	if (filled > 0) {
		struct ig_addr a;

		memset(&a, 0, sizeof(a));
		a.family = 4;
		a.b[0] = 240;
		a.b[2] = (NFILL - 1) >> 8;
		a.b[3] = (NFILL - 1) & 0xff;
		CHECK(ig_cidr_set_match(set, &a) == 1);
	}
	CHECK(ig_cidr_set_count(set) == n + filled);
	ig_cidr_set_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_addr_text(s, strlen(s), data, size);
	check_cidr_text(s, data, size);
	free(s);
	check_set_binary(data, size);
	return 0;
}
