/*
 * cidr.c - literal IP addresses and CIDR prefix sets.
 *
 * Text goes through inet_pton only, after a character whitelist, so a host
 * name can never reach a resolver and odd forms (zone ids, brackets, spaces)
 * are refused before libc sees them.  Addresses are compared as 128-bit keys
 * (two host-order words, IPv4 in the top 32 bits), which makes prefix tests
 * a mask and an xor.
 *
 * A set is one path-compressed binary trie per family, stored in a growable
 * node array addressed by 32-bit indexes.  It answers membership only, so a
 * terminal node never needs children: anything below it is already covered.
 *
 * A large trie is split by BUCKET_BITS of its key bits: once a family holds
 * BUCKET_AT nodes, its prefixes are rebuilt into a table of 2^BUCKET_BITS
 * subtrie roots (prefixes too short to cover those bits stay in the one
 * root trie).  A lookup or an insert then starts about 16 levels down, which
 * is where a 100,000-prefix load spent its time: one cache miss per level.
 * IPv4 uses bits 0..15; IPv6 bits 3..18, since unicast in use is all
 * 2000::/3 and its first three bits tell prefixes apart no more than a
 * bucket would.  The subtrie in a bucket is an ordinary trie (keys in it
 * agree on the bucket's bits, whatever they hold elsewhere), so which bits
 * index the table only decides how well it spreads, not what matches.
 * Small sets never get the table, so their lookups are unchanged.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iamgate/cidr.h"
#include "iamgate/util.h"

#define ADDR_MAXLEN (IG_ADDRSTRLEN - 1)
#define CIDR_MAXLEN (IG_CIDRSTRLEN - 1)

/* Node 0 of every array is never used, so zeroed memory reads as all NIL. */
#define NIL 0u
/* Each add uses at most two nodes; see trie_insert. */
#define NODES_PER_ADD 2u
#define NODE_MAX ((uint32_t)IG_CIDR_SET_MAX * NODES_PER_ADD + 1u)
/* Bucket table: BUCKET_BITS key bits from bit BUCKET_SKIP4/6, built at BUCKET_AT nodes. */
#define BUCKET_BITS 16u
#define BUCKET_SKIP4 0u
#define BUCKET_SKIP6 3u
#define BUCKET_N (1u << BUCKET_BITS)
#define BUCKET_AT 4096u
/*
 * Node arrays from MAP_AT bytes on get a mapping of their own: mremap grows
 * it without copying, and the new part is prefaulted in one madvise call
 * rather than a page fault per page.  A 100,000-prefix load touches about
 * 7 MB, and a fault costs ~10 us in this kind of VM: that, and copying on
 * every doubling, were a third of the load.  The madvise is best effort.
 */
#define MAP_AT (256u * 1024u)

/* The ::ffff:0:0/96 prefix (RFC 4291 2.5.5.2). */
static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

struct key {
	uint64_t hi, lo;
};

struct node {
	uint64_t hi, lo;   /* prefix bits, host bits zero */
	uint32_t child[2]; /* NIL or index; both NIL when term */
	uint8_t len;       /* prefix length in bits */
	uint8_t term;      /* 1: a prefix of the set ends here */
};

struct trie {
	struct node *n;
	uint32_t used, cap;
	uint32_t root;    /* every prefix; with bucket, only those < bucket_len */
	uint32_t *bucket; /* NULL or BUCKET_N subtrie roots (NIL when empty) */
	unsigned maxbits;
	unsigned bucket_shift; /* key.hi >> bucket_shift, low BUCKET_BITS: the bucket */
	unsigned bucket_len;   /* shortest prefix that fixes all the bucket's bits */
	int nobucket;          /* building the table failed once: stay a plain trie */
	int mapped;            /* n is an mmap of cap nodes, else malloc'd (or NULL) */
};

struct ig_cidr_set {
	struct trie t4, t6;
	size_t count;
};

/* ---- keys ---- */

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static struct key addr_key(const struct ig_addr *a)
{
	struct key k = {0, 0};

	if (a->family == 4) {
		k.hi = (uint64_t)a->b[0] << 56 | (uint64_t)a->b[1] << 48 | (uint64_t)a->b[2] << 40 |
		       (uint64_t)a->b[3] << 32;
	} else {
		k.hi = load_be64(a->b);
		k.lo = load_be64(a->b + 8);
	}
	return k;
}

/* Mask of the first len bits (0..128) of a key. */
static struct key mask_of(unsigned len)
{
	struct key m;

	m.hi = len == 0 ? 0 : len >= 64 ? UINT64_MAX : UINT64_MAX << (64 - len);
	m.lo = len <= 64 ? 0 : len >= 128 ? UINT64_MAX : UINT64_MAX << (128 - len);
	return m;
}

static struct key key_masked(struct key k, unsigned len)
{
	struct key m = mask_of(len);

	k.hi &= m.hi;
	k.lo &= m.lo;
	return k;
}

/* 1 if a and b agree on their first len bits. */
static int key_prefix_eq(struct key a, struct key b, unsigned len)
{
	struct key m = mask_of(len);

	return ((a.hi ^ b.hi) & m.hi) == 0 && ((a.lo ^ b.lo) & m.lo) == 0;
}

/* Bit i (0 = most significant) of k; bits past 127 read as 0. */
static unsigned key_bit(struct key k, unsigned i)
{
	if (i < 64)
		return (unsigned)(k.hi >> (63 - i)) & 1u;
	if (i < 128)
		return (unsigned)(k.lo >> (127 - i)) & 1u;
	return 0;
}

/* Number of leading bits a and b share (0..128). */
static unsigned key_common(struct key a, struct key b)
{
	uint64_t x = a.hi ^ b.hi;

	if (x != 0)
		return (unsigned)__builtin_clzll(x);
	x = a.lo ^ b.lo;
	if (x != 0)
		return 64u + (unsigned)__builtin_clzll(x);
	return 128;
}

/* ---- addresses ---- */

static unsigned family_bits(uint8_t family)
{
	return family == 4 ? 32u : 128u;
}

static int is_v4mapped(const struct ig_addr *a)
{
	return a->family == 6 && memcmp(a->b, v4mapped, sizeof(v4mapped)) == 0;
}

/* ::ffff:a.b.c.d becomes a.b.c.d; anything else is left alone. */
static void addr_normalise(struct ig_addr *a)
{
	if (!is_v4mapped(a))
		return;
	memmove(a->b, a->b + 12, 4);
	memset(a->b + 4, 0, 12);
	a->family = 4;
}

/*
 * Hex digits, ':' and '.' are all a literal can hold.  Everything else (a
 * name's letters g-z, '%' of a zone id, brackets, spaces, signs, NUL) is
 * refused here, before inet_pton.
 */
#define CH_LIT 1u   /* may appear in a literal */
#define CH_COLON 2u /* ':' (so the text is IPv6) */

static const uint8_t char_class[256] = {
        ['0'] = CH_LIT, ['1'] = CH_LIT, ['2'] = CH_LIT, ['3'] = CH_LIT,
        ['4'] = CH_LIT, ['5'] = CH_LIT, ['6'] = CH_LIT, ['7'] = CH_LIT,
        ['8'] = CH_LIT, ['9'] = CH_LIT, ['a'] = CH_LIT, ['b'] = CH_LIT,
        ['c'] = CH_LIT, ['d'] = CH_LIT, ['e'] = CH_LIT, ['f'] = CH_LIT,
        ['A'] = CH_LIT, ['B'] = CH_LIT, ['C'] = CH_LIT, ['D'] = CH_LIT,
        ['E'] = CH_LIT, ['F'] = CH_LIT, ['.'] = CH_LIT, [':'] = CH_LIT | CH_COLON,
};

/* Parse exactly len bytes into *out, not normalised; *out zeroed first. */
static int parse_raw(const char *s, size_t len, struct ig_addr *out)
{
	char buf[IG_ADDRSTRLEN];
	unsigned all = CH_LIT, any = 0;
	int v6;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > ADDR_MAXLEN)
		return IG_ERR_PARSE;
	/* Copy and classify in one pass, without a branch per byte. */
	for (size_t i = 0; i < len; i++) {
		unsigned c = char_class[(unsigned char)s[i]];

		all &= c;
		any |= c;
		buf[i] = s[i];
	}
	if ((all & CH_LIT) == 0)
		return IG_ERR_PARSE;
	buf[len] = '\0';
	v6 = (any & CH_COLON) != 0;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, out->b) != 1) {
		memset(out, 0, sizeof(*out));
		return IG_ERR_PARSE;
	}
	out->family = v6 ? 6 : 4;
	return 0;
}

int ig_addr_parse_len(const char *s, size_t len, struct ig_addr *out)
{
	int r;

	if (out == NULL)
		return IG_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return IG_ERR_PARSE;
	/* parse_raw bounds len and refuses NUL through its whitelist. */
	if ((r = parse_raw(s, len, out)) != 0)
		return r;
	addr_normalise(out);
	return 0;
}

int ig_addr_parse(const char *s, struct ig_addr *out)
{
	size_t len;

	if (out == NULL)
		return IG_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return IG_ERR_PARSE;
	/* Bound the scan first: never walk an unterminated or huge string. */
	len = strnlen(s, ADDR_MAXLEN + 1);
	if (len > ADDR_MAXLEN)
		return IG_ERR_PARSE;
	return ig_addr_parse_len(s, len, out);
}

int ig_addr_format(const struct ig_addr *addr, char *buf, size_t cap)
{
	struct ig_addr a;

	if (addr == NULL || buf == NULL)
		return IG_ERR_INVAL;
	if (cap == 0)
		return IG_ERR_RANGE;
	buf[0] = '\0';
	if (addr->family != 4 && addr->family != 6)
		return IG_ERR_INVAL;
	a = *addr;
	addr_normalise(&a);
	if (cap > (size_t)INT32_MAX)
		cap = INT32_MAX; /* inet_ntop takes a socklen_t */
	if (inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.b, buf, (socklen_t)cap) == NULL) {
		buf[0] = '\0';
		return IG_ERR_RANGE;
	}
	return 0;
}

/* ---- prefixes ---- */

/*
 * Validate and normalise a prefix in place: known family, length in range,
 * host bits zero, ::ffff:0:0/96-and-longer turned into IPv4.  Checking host
 * bits on the IPv6 form first is what refuses ::ffff:0:0/95 (its ffff lies
 * past the prefix).
 */
static int cidr_normalise(struct ig_cidr *c)
{
	struct key k;

	if (c->addr.family != 4 && c->addr.family != 6)
		return IG_ERR_INVAL;
	if (c->prefix > family_bits(c->addr.family))
		return IG_ERR_INVAL;
	k = addr_key(&c->addr);
	if (!key_prefix_eq(k, key_masked(k, c->prefix), 128))
		return IG_ERR_INVAL;
	if (c->addr.family == 4) {
		/* Bytes past b[3] are not part of an IPv4 address: keep them zero. */
		memset(c->addr.b + 4, 0, 12);
	} else if (is_v4mapped(&c->addr) && c->prefix >= 96) {
		addr_normalise(&c->addr);
		c->prefix -= 96;
	}
	return 0;
}

/* Decimal 0..max: digits only, 1..3 of them, no leading zero but "0". */
static int parse_prefix_len(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (len == 0 || len > 3)
		return IG_ERR_PARSE;
	if (len > 1 && s[0] == '0')
		return IG_ERR_PARSE;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return IG_ERR_PARSE;
		v = v * 10u + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return IG_ERR_PARSE;
	*out = v;
	return 0;
}

int ig_cidr_parse_len(const char *s, size_t len, struct ig_cidr *out)
{
	struct ig_cidr c;
	const char *slash;
	size_t alen;
	int r;

	if (out == NULL)
		return IG_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return IG_ERR_INVAL;
	if (len == 0 || len > CIDR_MAXLEN)
		return IG_ERR_PARSE;
	memset(&c, 0, sizeof(c));
	slash = memchr(s, '/', len);
	alen = slash != NULL ? (size_t)(slash - s) : len;
	if ((r = parse_raw(s, alen, &c.addr)) != 0)
		return r;
	if (slash == NULL) {
		c.prefix = family_bits(c.addr.family);
	} else {
		r = parse_prefix_len(slash + 1, len - alen - 1, family_bits(c.addr.family),
		                     &c.prefix);
		if (r != 0)
			return r;
	}
	if ((r = cidr_normalise(&c)) != 0)
		return r;
	*out = c;
	return 0;
}

int ig_cidr_parse(const char *s, struct ig_cidr *out)
{
	size_t len;

	if (out == NULL)
		return IG_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return IG_ERR_INVAL;
	len = strnlen(s, CIDR_MAXLEN + 1);
	if (len > CIDR_MAXLEN)
		return IG_ERR_PARSE;
	return ig_cidr_parse_len(s, len, out);
}

int ig_cidr_format(const struct ig_cidr *cidr, char *buf, size_t cap)
{
	struct ig_cidr c;
	char a[IG_ADDRSTRLEN];
	int r;

	if (cidr == NULL || buf == NULL)
		return IG_ERR_INVAL;
	if (cap == 0)
		return IG_ERR_RANGE;
	buf[0] = '\0';
	c = *cidr;
	if ((r = cidr_normalise(&c)) != 0)
		return r;
	if ((r = ig_addr_format(&c.addr, a, sizeof(a))) != 0)
		return r;
	return ig_bfmt(buf, cap, "%s/%u", a, c.prefix);
}

int ig_cidr_contains(const struct ig_cidr *cidr, const struct ig_addr *addr)
{
	struct ig_cidr c;
	struct ig_addr a;

	if (cidr == NULL || addr == NULL)
		return 0;
	if (addr->family != 4 && addr->family != 6)
		return 0;
	if (cidr->addr.family != 4 && cidr->addr.family != 6)
		return 0;
	if (cidr->prefix > family_bits(cidr->addr.family))
		return 0;
	/*
	 * Not cidr_normalise: a hand-built prefix with host bits set is still
	 * answered by its first prefix bits, as a mask would.
	 */
	c = *cidr;
	if (is_v4mapped(&c.addr) && c.prefix >= 96) {
		addr_normalise(&c.addr);
		c.prefix -= 96;
	}
	a = *addr;
	addr_normalise(&a);
	if (a.family != c.addr.family)
		return 0;
	return key_prefix_eq(addr_key(&a), addr_key(&c.addr), c.prefix);
}

/* ---- sets ---- */

static void trie_init(struct trie *t, unsigned maxbits)
{
	unsigned skip;

	t->n = NULL;
	t->used = 0;
	t->cap = 0;
	t->root = NIL;
	t->bucket = NULL;
	t->maxbits = maxbits;
	skip = maxbits == 32 ? BUCKET_SKIP4 : BUCKET_SKIP6;
	t->bucket_len = skip + BUCKET_BITS;
	t->bucket_shift = 64u - t->bucket_len;
	t->nobucket = 0;
	t->mapped = 0;
}

static void trie_free(struct trie *t)
{
	if (t->mapped)
		munmap(t->n, (size_t)t->cap * sizeof(*t->n));
	else
		free(t->n);
	free(t->bucket);
	t->n = NULL;
	t->bucket = NULL;
}

/*
 * Prefault [p + from, p + to) for writing, page-aligned inward; best effort
 * (before Linux 5.14 madvise refuses it and pages fault in one by one).
 */
static void prefault(void *p, size_t from, size_t to)
{
#ifdef MADV_POPULATE_WRITE
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096u;

	from = (from + page - 1) / page * page;
	to = to / page * page;
	if (to > from)
		(void)madvise((char *)p + from, to - from, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)from;
	(void)to;
#endif
}

/* t->n grown to cap nodes (cap > t->cap), or NULL with t->n untouched. */
static struct node *nodes_grow(struct trie *t, uint32_t cap)
{
	size_t oldsz = (size_t)t->cap * sizeof(*t->n), sz = (size_t)cap * sizeof(*t->n);
	void *p;

	if (sz < MAP_AT) {
		/* reallocarray checks cap * sizeof for overflow. */
		return reallocarray(t->n, cap, sizeof(*t->n));
	}
	if (t->mapped) {
		p = mremap(t->n, oldsz, sz, MREMAP_MAYMOVE);
		if (p == MAP_FAILED)
			return NULL;
	} else {
		p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		if (oldsz > 0)
			memcpy(p, t->n, oldsz);
		free(t->n);
		t->mapped = 1;
	}
	prefault(p, oldsz, sz);
	return p;
}

/* Make room for NODES_PER_ADD more nodes, so pointers stay valid in an add. */
static int trie_reserve(struct trie *t)
{
	struct node *n;
	uint32_t cap;

	if (t->cap - t->used >= NODES_PER_ADD)
		return 0;
	if (t->used > NODE_MAX - NODES_PER_ADD)
		return IG_ERR_RANGE;
	cap = t->cap == 0 ? 64u : t->cap > NODE_MAX / 2u ? NODE_MAX : t->cap * 2u;
	n = nodes_grow(t, cap);
	if (n == NULL)
		return IG_ERR_NOMEM;
	if (t->cap == 0) {
		memset(&n[0], 0, sizeof(n[0])); /* the NIL sentinel, never a node */
		t->used = 1;
	}
	t->n = n;
	t->cap = cap;
	return 0;
}

static uint32_t node_new(struct trie *t, struct key k, unsigned len, int term)
{
	uint32_t i = t->used++;
	struct node *n = &t->n[i];

	k = key_masked(k, len);
	n->hi = k.hi;
	n->lo = k.lo;
	n->child[0] = NIL;
	n->child[1] = NIL;
	n->len = (uint8_t)len;
	n->term = (uint8_t)(term != 0);
	return i;
}

static uint32_t bucket_of(const struct trie *t, struct key k)
{
	return (uint32_t)(k.hi >> t->bucket_shift) & (BUCKET_N - 1u);
}

/* Where k/len's subtrie hangs: a bucket, or the root for short prefixes. */
static uint32_t *trie_slot(struct trie *t, struct key k, unsigned len)
{
	if (t->bucket != NULL && len >= t->bucket_len)
		return &t->bucket[bucket_of(t, k)];
	return &t->root;
}

/*
 * Insert prefix k/len (host bits zero).  The caller reserved room, so slot
 * (a pointer into t->n, t->bucket or to t->root) stays valid throughout.
 * Nodes cut off by a covering prefix are not reused; that is what bounds the
 * array to two nodes per add rather than something smaller.  Every prefix
 * ever added is covered by some terminal node of the array (reachable or
 * cut off), which is what lets trie_bucketize rebuild from the array alone.
 * A prefix goes to a bucket only if it fixes all the bucket's bits, so every
 * address it contains looks in that same bucket.
 */
static void trie_insert(struct trie *t, struct key k, unsigned len)
{
	uint32_t *slot = trie_slot(t, k, len);

	for (;;) {
		uint32_t idx = *slot;
		struct node *n;
		struct key nk;
		unsigned c, m;

		if (idx == NIL) {
			*slot = node_new(t, k, len, 1);
			return;
		}
		n = &t->n[idx];
		nk.hi = n->hi;
		nk.lo = n->lo;
		m = len < n->len ? len : n->len;
		c = key_common(k, nk);
		if (c > m)
			c = m;
		if (c == n->len) {
			/* n's prefix contains the new one. */
			if (n->term)
				return; /* already covered */
			if (n->len == len) {
				n->term = 1;
				n->child[0] = NIL;
				n->child[1] = NIL;
				return;
			}
			slot = &n->child[key_bit(k, n->len)];
			continue;
		}
		if (c == len) {
			/* The new prefix contains n and all below it: take n's place. */
			k = key_masked(k, len);
			n->hi = k.hi;
			n->lo = k.lo;
			n->len = (uint8_t)len;
			n->term = 1;
			n->child[0] = NIL;
			n->child[1] = NIL;
			return;
		}
		/* They part at bit c, which lies inside both: branch there. */
		{
			uint32_t leaf = node_new(t, k, len, 1);
			uint32_t fork = node_new(t, k, c, 0);

			t->n[fork].child[key_bit(nk, c)] = idx;
			t->n[fork].child[key_bit(k, c)] = leaf;
			*slot = fork;
		}
		return;
	}
}

/*
 * Rebuild t with a bucket table from the terminal nodes of its array (which
 * cover exactly the prefixes added so far; cut-off ones are covered twice).
 * On any failure t is left as it was, a plain trie that still answers
 * correctly, and the table is not tried again.
 */
static void trie_bucketize(struct trie *t)
{
	struct trie nt;

	trie_init(&nt, t->maxbits);
	/* Zeroed is all NIL; calloc leaves the pages of unused buckets alone. */
	nt.bucket = calloc(BUCKET_N, sizeof(*nt.bucket));
	if (nt.bucket == NULL)
		goto fail;
	for (uint32_t i = 1; i < t->used; i++) {
		const struct node *n = &t->n[i];
		struct key k = {n->hi, n->lo};

		if (!n->term)
			continue;
		if (trie_reserve(&nt) != 0)
			goto fail;
		trie_insert(&nt, k, n->len);
	}
	trie_free(t);
	*t = nt;
	return;
fail:
	trie_free(&nt);
	t->nobucket = 1;
}

static int trie_walk(const struct trie *t, uint32_t idx, struct key k)
{
	/* Lengths strictly grow downwards, so maxbits + 1 steps is the most. */
	for (unsigned step = 0; idx != NIL && step <= t->maxbits; step++) {
		const struct node *n = &t->n[idx];
		struct key nk = {n->hi, n->lo};

		if (!key_prefix_eq(k, nk, n->len))
			return 0;
		if (n->term)
			return 1;
		idx = n->child[key_bit(k, n->len)];
	}
	return 0;
}

static int trie_match(const struct trie *t, struct key k)
{
	if (t->bucket == NULL)
		return trie_walk(t, t->root, k);
	if (t->root != NIL && trie_walk(t, t->root, k))
		return 1;
	return trie_walk(t, t->bucket[bucket_of(t, k)], k);
}

int ig_cidr_set_new(struct ig_cidr_set **out)
{
	struct ig_cidr_set *set;

	if (out == NULL)
		return IG_ERR_INVAL;
	*out = NULL;
	set = calloc(1, sizeof(*set));
	if (set == NULL)
		return IG_ERR_NOMEM;
	trie_init(&set->t4, 32);
	trie_init(&set->t6, 128);
	*out = set;
	return 0;
}

int ig_cidr_set_add(struct ig_cidr_set *set, const struct ig_cidr *cidr)
{
	struct ig_cidr c;
	struct trie *t;
	int r;

	if (set == NULL || cidr == NULL)
		return IG_ERR_INVAL;
	c = *cidr;
	if ((r = cidr_normalise(&c)) != 0)
		return r;
	if (set->count >= IG_CIDR_SET_MAX)
		return IG_ERR_RANGE;
	t = c.addr.family == 4 ? &set->t4 : &set->t6;
	if (t->bucket == NULL && !t->nobucket && t->used >= BUCKET_AT)
		trie_bucketize(t);
	if ((r = trie_reserve(t)) != 0)
		return r;
	trie_insert(t, addr_key(&c.addr), c.prefix);
	set->count++;
	return 0;
}

int ig_cidr_set_match(const struct ig_cidr_set *set, const struct ig_addr *addr)
{
	struct ig_addr a;

	if (set == NULL || addr == NULL)
		return 0;
	if (addr->family != 4 && addr->family != 6)
		return 0;
	a = *addr;
	addr_normalise(&a);
	return trie_match(a.family == 4 ? &set->t4 : &set->t6, addr_key(&a));
}

size_t ig_cidr_set_count(const struct ig_cidr_set *set)
{
	return set == NULL ? 0 : set->count;
}

void ig_cidr_set_free(struct ig_cidr_set *set)
{
	if (set == NULL)
		return;
	trie_free(&set->t4);
	trie_free(&set->t6);
	free(set);
}
