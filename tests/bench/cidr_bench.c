/*
 * cidr_bench - allowlist scale for `make bench` (tests/bench/run.sh).
 *
 *   cidr_bench N [MATCHES] [CONFIG_DIR]
 *
 * Builds N distinct CIDR prefixes (half IPv4 /16../32, half IPv6 /32../128,
 * from a fixed-seed generator so every run sees the same set), formats them
 * as text, then times
 *   load:  ig_cidr_parse + ig_cidr_set_add of all N texts (what the config
 *          loader does for an allowlist), best of three;
 *   match: ig_cidr_set_match of MATCHES addresses (default 1000000), half
 *          inside a random prefix of the set, half random (mostly misses),
 *          v4 and v6 alternating, after a warm-up pass;
 *   config: with CONFIG_DIR, ig_config_load of a configuration whose one
 *          allowlist holds the N prefixes (the helper loads its
 *          configuration on every PAM call, so this is a per-call cost;
 *          -1 when the loader refuses the file, e.g. over its size cap).
 * Prints "RESULT what=cidr n=N load_ms=... match_ns=... hits=... config_ms=...".
 * hits is printed so the compiler cannot drop the lookups, and as a check
 * (at least the half that was built to match).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iamgate/cidr.h"
#include "iamgate/config.h"
#include "iamgate/util.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	/* xorshift64*: fixed seed, reproducible sets. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "cidr_bench: %s\n", what);
	exit(2);
}

/* Zero the host bits of a beyond prefix bits. */
static void mask(struct ig_addr *a, unsigned bits)
{
	unsigned nbytes = a->family == 4 ? 4 : 16;

	for (unsigned i = 0; i < nbytes; i++) {
		unsigned keep = bits > i * 8 ? bits - i * 8 : 0;

		if (keep >= 8)
			continue;
		a->b[i] &= (uint8_t)(0xff00u >> keep);
	}
}

static void random_addr(struct ig_addr *a, int v4)
{
	uint64_t x = next(), y = next();

	memset(a, 0, sizeof(*a));
	a->family = v4 ? 4 : 6;
	memcpy(a->b, &x, 8);
	memcpy(a->b + 8, &y, 8);
	if (v4) {
		memset(a->b + 4, 0, 12);
		if (a->b[0] == 0)
			a->b[0] = 1;
	} else {
		/* Global unicast, never ::ffff:0:0/96 (that would be IPv4). */
		a->b[0] = (uint8_t)(0x20 | (a->b[0] & 0x0f));
	}
}

static int write_config(const char *dir, char **texts, size_t n, char *path, size_t cap)
{
	FILE *f;

	if (ig_bfmt(path, cap, "%s/iamgate.json", dir) != 0)
		return -1;
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "{\"allowlists\": {\"big\": [");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", texts[i]);
	fprintf(f,
	        "]},\n\"groups\": {\"bench\": {\"allow_from\": [\"big\"], \"roles\": [\"r\"]}},\n"
	        "\"roles\": {\"r\": {\"arn\": \"arn:aws:iam::111122223333:role/r\"}},\n"
	        "\"totp\": {\"state_dir\": \"%s/state\"},\n"
	        "\"audit\": {\"path\": \"%s/audit.jsonl\", \"syslog\": false},\n"
	        "\"session\": {\"dir\": \"%s/sessions\", \"grant_dir\": \"%s/grants\"}}\n",
	        dir, dir, dir, dir);
	if (fclose(f) != 0)
		return -1;
	return chmod(path, 0600);
}

int main(int argc, char **argv)
{
	struct ig_cidr_set *set = NULL;
	struct ig_cidr *cidrs;
	struct ig_addr *probe;
	char **texts;
	size_t n, m = 1000000, hits = 0;
	double t0, load_ms, match_ns, config_ms = -1;

	if (argc < 2 || argc > 4)
		die("usage: cidr_bench N [MATCHES] [CONFIG_DIR]");
	n = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		m = strtoul(argv[2], NULL, 10);
	if (n < 1 || n > IG_CIDR_SET_MAX || m < 1)
		die("bad N or MATCHES");
	cidrs = calloc(n, sizeof(*cidrs));
	texts = calloc(n, sizeof(*texts));
	probe = calloc(m, sizeof(*probe));
	if (cidrs == NULL || texts == NULL || probe == NULL)
		die("oom");
	for (size_t i = 0; i < n; i++) {
		int v4 = (i & 1) == 0;
		char buf[IG_CIDRSTRLEN];

		random_addr(&cidrs[i].addr, v4);
		cidrs[i].prefix = v4 ? 16 + (unsigned)(next() % 17) : 32 + (unsigned)(next() % 97);
		mask(&cidrs[i].addr, cidrs[i].prefix);
		if (ig_cidr_format(&cidrs[i], buf, sizeof(buf)) != 0 ||
		    (texts[i] = strdup(buf)) == NULL)
			die("format");
	}
	for (size_t i = 0; i < m; i++) {
		int v4 = (i & 2) == 0;

		if (i & 1) {
			random_addr(&probe[i], v4);
			continue;
		}
		/* Inside a prefix of the set: its bits, random host bits. */
		{
			const struct ig_cidr *c = &cidrs[next() % n];
			struct ig_addr r;
			unsigned nb = c->addr.family == 4 ? 4 : 16;

			random_addr(&r, c->addr.family == 4);
			probe[i] = c->addr;
			for (unsigned b = 0; b < nb; b++) {
				unsigned keep = c->prefix > b * 8 ? c->prefix - b * 8 : 0;
				uint8_t mk = keep >= 8 ? 0xff : (uint8_t)(0xff00u >> keep);

				probe[i].b[b] = (uint8_t)((c->addr.b[b] & mk) | (r.b[b] & ~mk));
			}
		}
	}

	/* Best of three loads (a fresh set each time; the last one is kept). */
	load_ms = -1;
	for (int k = 0; k < 3; k++) {
		double t;

		ig_cidr_set_free(set);
		set = NULL;
		t0 = now_ms();
		if (ig_cidr_set_new(&set) != 0)
			die("set_new");
		for (size_t i = 0; i < n; i++) {
			struct ig_cidr c;

			if (ig_cidr_parse(texts[i], &c) != 0 || ig_cidr_set_add(set, &c) != 0)
				die("parse/add");
		}
		t = now_ms() - t0;
		if (load_ms < 0 || t < load_ms)
			load_ms = t;
	}

	for (size_t i = 0; i < m; i++) /* warm-up */
		hits += (size_t)ig_cidr_set_match(set, &probe[i]);
	hits = 0;
	t0 = now_ms();
	for (size_t i = 0; i < m; i++)
		hits += (size_t)ig_cidr_set_match(set, &probe[i]);
	match_ns = (now_ms() - t0) * 1e6 / (double)m;
	if (hits < m / 2)
		die("fewer hits than the addresses built to match: the set is wrong");

	if (argc > 3) {
		char path[4096], err[4096];
		struct ig_config *cfg = NULL;

		if (write_config(argv[3], texts, n, path, sizeof(path)) != 0)
			die("cannot write the config");
		/* Best of three: the helper reads a file the page cache holds. */
		for (int k = 0; k < 3; k++) {
			double t;

			t0 = now_ms();
			if (ig_config_load(path, &cfg, err, sizeof(err)) != 0) {
				/* e.g. over IG_CONFIG_MAX_BYTES: reported as -1 */
				fprintf(stderr, "cidr_bench: config: %s\n", err);
				config_ms = -1;
				break;
			}
			t = now_ms() - t0;
			ig_config_free(cfg);
			if (config_ms < 0 || t < config_ms)
				config_ms = t;
		}
	}
	printf("RESULT what=cidr n=%zu load_ms=%.2f match_ns=%.1f matches=%zu hits=%zu "
	       "config_ms=%.2f\n",
	       n, load_ms, match_ns, m, hits, config_ms);
	ig_cidr_set_free(set);
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(cidrs);
	free(probe);
	return 0;
}
