/*
 * audit_seal.c - forward-secure sealing: the key and its one-way evolution,
 * the key file, the verification key, the seal of a line, and the
 * verifier's walk.  Design: include/iamgate/audit_seal.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "iamgate/audit_seal.h"
#include "iamgate/util.h"

#define EVOLVE_LABEL "iamgate-audit-seal-evolve-v1"
#define ID_LABEL "iamgate-audit-seal-id-v1"
#define KEY_MAGIC "iamgate-audit-seal v1 "
#define KEY_FILE_MAX 256
#define VKEY_PREFIX "igseal1-"
#define MAX_JUMP (1u << 24)
/* A timer closes each epoch within a minute or so; allow this much more. */
#define STALE_GRACE_MS (5 * 60 * 1000)

enum { S_BEFORE, S_SEALED, S_STOPPED, S_BAD };

int ig_audit_seal_new(uint64_t now_s, uint32_t epoch_s, struct ig_audit_seal_key *k)
{
	memset(k, 0, sizeof(*k));
	if (epoch_s < IG_AUDIT_SEAL_EPOCH_MIN || epoch_s > IG_AUDIT_SEAL_EPOCH_MAX)
		return IG_ERR_RANGE;
	k->start_s = now_s;
	k->epoch_s = epoch_s;
	return ig_random_bytes(k->key, sizeof(k->key));
}

uint64_t ig_audit_seal_epoch_at(uint64_t start_s, uint32_t epoch_s, int64_t now_ms)
{
	if (epoch_s == 0 || now_ms < 0 || (uint64_t)now_ms / 1000 < start_s)
		return 0;
	return ((uint64_t)now_ms / 1000 - start_s) / epoch_s;
}

static int evolve_once(uint8_t key[IG_AUDIT_SEAL_KEY_LEN])
{
	uint8_t in[sizeof(EVOLVE_LABEL) - 1 + IG_AUDIT_SEAL_KEY_LEN];
	int r;

	memcpy(in, EVOLVE_LABEL, sizeof(EVOLVE_LABEL) - 1);
	memcpy(in + sizeof(EVOLVE_LABEL) - 1, key, IG_AUDIT_SEAL_KEY_LEN);
	r = ig_audit_line_hash(in, sizeof(in), key);
	explicit_bzero(in, sizeof(in));
	return r;
}

int ig_audit_seal_evolve(struct ig_audit_seal_key *k, uint64_t to)
{
	int r;

	if (to <= k->epoch)
		return 0;
	if (to - k->epoch > MAX_JUMP)
		return IG_ERR_RANGE;
	while (k->epoch < to) {
		if ((r = evolve_once(k->key)) != 0)
			return r;
		k->epoch++;
	}
	return 0;
}

static int mac(const uint8_t key[IG_AUDIT_SEAL_KEY_LEN], const char *data, size_t n,
               uint8_t out[IG_AUDIT_HASH_LEN])
{
	unsigned int len = 0;

	if (HMAC(EVP_sha256(), key, IG_AUDIT_SEAL_KEY_LEN, (const unsigned char *)data, n, out,
	         &len) == NULL ||
	    len != IG_AUDIT_HASH_LEN)
		return IG_ERR_CRYPTO;
	return 0;
}

int ig_audit_seal_line(const struct ig_audit_seal_key *k, char **line, size_t *len)
{
	uint8_t m[IG_AUDIT_HASH_LEN];
	char hex[IG_AUDIT_HEX_LEN + 1], suffix[IG_AUDIT_SEAL_SUFFIX_MAX + 1];
	size_t body = *len - 1, sl; /* without the closing '}' */
	char *p;
	int r;

	if (*len < 2 || (*line)[body] != '}')
		return IG_ERR_INVAL;
	if ((r = mac(k->key, *line, body, m)) != 0)
		return r;
	ig_hex(m, sizeof(m), hex);
	if (ig_bfmt(suffix, sizeof(suffix), ",\"seal\":\"%" PRIu64 ":%s\"}\n", k->epoch, hex) != 0)
		return IG_ERR_RANGE;
	sl = strlen(suffix);
	if ((p = realloc(*line, body + sl)) == NULL)
		return IG_ERR_NOMEM;
	memcpy(p + body, suffix, sl);
	*line = p;
	*len = body + sl - 1;
	return 0;
}

/* ---- the key file ----------------------------------------------------- */

static int parse_u64(const char **p, char stop, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9' || (*s == '0' && s[1] >= '0' && s[1] <= '9'))
		return IG_ERR_PARSE;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return IG_ERR_PARSE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s != stop)
		return IG_ERR_PARSE;
	*p = s + 1;
	*out = v;
	return 0;
}

/* "START-EPOCH_S" style numbers and the 64 hex digits of a key. */
static int parse_clock(const char **p, char sep, char end, uint64_t *start, uint32_t *epoch_s)
{
	uint64_t e = 0;

	if (parse_u64(p, sep, UINT64_MAX / 2000, start) != 0 ||
	    parse_u64(p, end, IG_AUDIT_SEAL_EPOCH_MAX, &e) != 0 || e < IG_AUDIT_SEAL_EPOCH_MIN)
		return IG_ERR_PARSE;
	*epoch_s = (uint32_t)e;
	return 0;
}

static int parse_key_hex(const char *s, uint8_t out[IG_AUDIT_SEAL_KEY_LEN])
{
	for (size_t i = 0; i < 2 * IG_AUDIT_SEAL_KEY_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return IG_ERR_PARSE;
	return ig_audit_line_unhex(s, IG_AUDIT_SEAL_KEY_LEN, out);
}

int ig_audit_seal_key_parse(const char *buf, size_t n, struct ig_audit_seal_key *k)
{
	char text[KEY_FILE_MAX + 1];
	const char *p = text;
	int r = IG_ERR_PARSE;

	memset(k, 0, sizeof(*k));
	if (n > KEY_FILE_MAX || n < sizeof(KEY_MAGIC) || memchr(buf, '\0', n) != NULL)
		return IG_ERR_PARSE;
	memcpy(text, buf, n);
	text[n] = '\0';
	if (strncmp(p, KEY_MAGIC, sizeof(KEY_MAGIC) - 1) != 0)
		goto out;
	p += sizeof(KEY_MAGIC) - 1;
	if (parse_clock(&p, ' ', ' ', &k->start_s, &k->epoch_s) != 0 ||
	    parse_u64(&p, ' ', UINT64_MAX / 2, &k->epoch) != 0 ||
	    strlen(p) != 2 * IG_AUDIT_SEAL_KEY_LEN + 1 || p[2 * IG_AUDIT_SEAL_KEY_LEN] != '\n' ||
	    parse_key_hex(p, k->key) != 0)
		goto out;
	r = 0;
out:
	explicit_bzero(text, sizeof(text));
	if (r != 0)
		explicit_bzero(k, sizeof(*k));
	return r;
}

int ig_audit_seal_load(int dfd, const char *name, struct ig_audit_seal_key *k, int *fd)
{
	char buf[KEY_FILE_MAX + 1];
	struct stat st;
	ssize_t got;
	int r;

	memset(k, 0, sizeof(*k));
	*fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (*fd < 0)
		return errno == ENOENT ? IG_ERR_NOTFOUND
		                       : (errno == ELOOP ? IG_ERR_UNSAFE : IG_ERR_IO);
	if (fstat(*fd, &st) != 0) {
		r = IG_ERR_IO;
		goto out;
	}
	if ((r = ig_file_trusted(&st, KEY_FILE_MAX, 1)) != 0)
		goto out;
	do {
		got = pread(*fd, buf, sizeof(buf), 0);
	} while (got < 0 && errno == EINTR);
	r = got < 0 ? IG_ERR_IO : ig_audit_seal_key_parse(buf, (size_t)got, k);
out:
	explicit_bzero(buf, sizeof(buf));
	if (r != 0) {
		close(*fd);
		*fd = -1;
	}
	return r;
}

static int format_key(const struct ig_audit_seal_key *k, char *out, size_t cap)
{
	char hex[2 * IG_AUDIT_SEAL_KEY_LEN + 1];
	int r;

	ig_hex(k->key, sizeof(k->key), hex);
	r = ig_bfmt(out, cap, "%s%" PRIu64 " %" PRIu32 " %" PRIu64 " %s\n", KEY_MAGIC, k->start_s,
	            k->epoch_s, k->epoch, hex);
	explicit_bzero(hex, sizeof(hex));
	return r;
}

/* Overwrite what the old key file held, so its blocks keep no old key. */
static int wipe_old(int fd)
{
	static const char zeros[KEY_FILE_MAX];
	struct stat st;
	ssize_t k;

	if (fstat(fd, &st) != 0 || st.st_size < 0 || st.st_size > KEY_FILE_MAX)
		return IG_ERR_IO;
	do {
		k = pwrite(fd, zeros, (size_t)st.st_size, 0);
	} while (k < 0 && errno == EINTR);
	return k == st.st_size && fsync(fd) == 0 ? 0 : IG_ERR_IO;
}

int ig_audit_seal_store(int dfd, const char *name, const struct ig_audit_seal_key *k, int old_fd)
{
	char text[KEY_FILE_MAX];
	int r;

	if ((r = format_key(k, text, sizeof(text))) != 0)
		return r;
	r = ig_write_file_at(dfd, name, text, strlen(text), 0600, 0, 0);
	explicit_bzero(text, sizeof(text));
	if (r == 0 && old_fd >= 0)
		r = wipe_old(old_fd);
	return r;
}

/* ---- the verification key --------------------------------------------- */

void ig_audit_seal_key_id(const uint8_t seed[IG_AUDIT_SEAL_KEY_LEN],
                          char out[IG_AUDIT_SEAL_ID_LEN + 1])
{
	uint8_t in[sizeof(ID_LABEL) - 1 + IG_AUDIT_SEAL_KEY_LEN], h[IG_AUDIT_HASH_LEN];

	memcpy(in, ID_LABEL, sizeof(ID_LABEL) - 1);
	memcpy(in + sizeof(ID_LABEL) - 1, seed, IG_AUDIT_SEAL_KEY_LEN);
	if (ig_audit_line_hash(in, sizeof(in), h) != 0)
		memset(h, 0, sizeof(h));
	explicit_bzero(in, sizeof(in));
	ig_hex(h, IG_AUDIT_SEAL_ID_LEN / 2, out);
}

int ig_audit_seal_vkey_format(const struct ig_audit_seal_key *k0, char *out, size_t cap)
{
	char hex[2 * IG_AUDIT_SEAL_KEY_LEN + 1];
	int r;

	if (k0->epoch != 0)
		return IG_ERR_INVAL;
	ig_hex(k0->key, sizeof(k0->key), hex);
	r = ig_bfmt(out, cap, VKEY_PREFIX "%s-%" PRIu64 "-%" PRIu32, hex, k0->start_s, k0->epoch_s);
	explicit_bzero(hex, sizeof(hex));
	return r;
}

int ig_audit_seal_vkey_parse(const char *s, struct ig_audit_seal_vkey *vk)
{
	const char *p;

	memset(vk, 0, sizeof(*vk));
	if (s == NULL || strnlen(s, IG_AUDIT_SEAL_VKEY_MAX + 1) > IG_AUDIT_SEAL_VKEY_MAX ||
	    strncmp(s, VKEY_PREFIX, sizeof(VKEY_PREFIX) - 1) != 0)
		return IG_ERR_PARSE;
	p = s + sizeof(VKEY_PREFIX) - 1;
	if (strlen(p) < 2 * IG_AUDIT_SEAL_KEY_LEN + 1 || p[2 * IG_AUDIT_SEAL_KEY_LEN] != '-' ||
	    parse_key_hex(p, vk->seed) != 0)
		goto bad;
	p += 2 * IG_AUDIT_SEAL_KEY_LEN + 1;
	if (parse_clock(&p, '-', '\0', &vk->start_s, &vk->epoch_s) != 0)
		goto bad;
	return 0;
bad:
	explicit_bzero(vk, sizeof(*vk));
	return IG_ERR_PARSE;
}

/* ---- the verifier's walk ---------------------------------------------- */

#define ULL(x) ((unsigned long long)(x))

void ig_audit_seal_check_init(struct ig_audit_seal_check *c, const struct ig_audit_seal_vkey *vk,
                              struct ig_audit_seal_result *res)
{
	memset(c, 0, sizeof(*c));
	memset(res, 0, sizeof(*res));
	c->vk = *vk;
	c->res = res;
	ig_audit_seal_key_id(vk->seed, c->id);
	c->cur.start_s = vk->start_s;
	c->cur.epoch_s = vk->epoch_s;
	memcpy(c->cur.key, vk->seed, sizeof(c->cur.key));
	c->state = S_BEFORE;
}

void ig_audit_seal_check_clear(struct ig_audit_seal_check *c)
{
	explicit_bzero(c, sizeof(*c));
}

static void fail(struct ig_audit_seal_check *c, uint64_t line, size_t file, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void fail(struct ig_audit_seal_check *c, uint64_t line, size_t file, const char *fmt, ...)
{
	va_list ap;

	c->state = S_BAD;
	c->res->bad_line = line;
	c->res->bad_file = file;
	va_start(ap, fmt);
	if (vsnprintf(c->res->what, sizeof(c->res->what), fmt, ap) < 0)
		c->res->what[0] = '\0';
	va_end(ap);
}

static void stop(struct ig_audit_seal_check *c, uint64_t line, size_t file, const char *why)
{
	c->state = S_STOPPED;
	c->res->stop_line = line;
	c->res->stop_file = file;
	ig_why(c->res->stop_what, sizeof(c->res->stop_what), "%s", why);
}

/* The line's MAC under its epoch's key, derived forward from the seed. */
static int mac_ok(struct ig_audit_seal_check *c, const char *line,
                  const struct ig_audit_record *rec)
{
	uint8_t m[IG_AUDIT_HASH_LEN];

	if (ig_audit_seal_evolve(&c->cur, rec->seal_epoch) != 0 ||
	    mac(c->cur.key, line, rec->sealed_len, m) != 0)
		return 0;
	return ig_ct_equal(m, rec->seal_mac, sizeof(m));
}

static int64_t epoch_end_ms(const struct ig_audit_seal_check *c, uint64_t epoch)
{
	return (int64_t)((c->vk.start_s + (epoch + 1) * c->vk.epoch_s) * 1000);
}

static uint64_t int_field(const struct ig_audit_record *rec, const char *key)
{
	json_t *v = json_object_get(rec->obj, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v)
	                                                        : UINT64_MAX;
}

/* Is this the audit_seal_init line of our key? */
static int is_our_init(const struct ig_audit_seal_check *c, const struct ig_audit_record *rec)
{
	const char *id = json_string_value(json_object_get(rec->obj, "key_id"));

	return strcmp(rec->event, "audit_seal_init") == 0 && id != NULL && strcmp(id, c->id) == 0;
}

static void check_sealed(struct ig_audit_seal_check *c, const char *line,
                         const struct ig_audit_record *rec, uint64_t n, size_t file)
{
	struct ig_audit_seal_result *res = c->res;
	uint64_t e = rec->seal_epoch;

	if (e < c->cur.epoch) {
		fail(c, n, file,
		     "line %llu is sealed in epoch %llu after a line of epoch %llu: "
		     "lines were moved, or written with an old key",
		     ULL(n), ULL(e), ULL(c->cur.epoch));
		return;
	}
	if (e > c->cur.epoch && !(c->closed && c->next_epoch == e)) {
		fail(c, n, file,
		     "epoch %llu was not closed before line %llu (of epoch %llu): "
		     "lines were removed before it, and it and the lines after it carry a key "
		     "an intruder present in epoch %llu could hold",
		     ULL(c->cur.epoch), ULL(n), ULL(e), ULL(e));
		return;
	}
	if (!mac_ok(c, line, rec)) {
		fail(c, n, file,
		     "line %llu was changed after it was sealed (epoch %llu): its "
		     "seal does not match its bytes",
		     ULL(n), ULL(e));
		return;
	}
	res->proven_line = n;
	res->proven_file = file;
	res->last_epoch = e;
	c->closed = strcmp(rec->event, "audit_seal") == 0;
	if (!c->closed)
		return;
	c->next_epoch = int_field(rec, "next_epoch");
	if (int_field(rec, "epoch") != e || c->next_epoch <= e || c->next_epoch == UINT64_MAX) {
		fail(c, n, file, "line %llu closes epoch %llu with a wrong epoch or next_epoch",
		     ULL(n), ULL(e));
		return;
	}
	res->epochs_closed++;
	res->proven_until_ms = epoch_end_ms(c, e);
}

void ig_audit_seal_check_line(struct ig_audit_seal_check *c, const char *line,
                              const struct ig_audit_record *rec, uint64_t lineno, size_t file)
{
	if (c->state == S_BAD)
		return;
	if (c->state == S_BEFORE) {
		if (rec == NULL || !rec->sealed || !is_our_init(c, rec))
			return;
		c->state = S_SEALED;
		c->res->found = 1;
		c->res->first_line = lineno;
		c->res->first_file = file;
		c->res->first_epoch = rec->seal_epoch;
		c->cur.epoch = 0;
		memcpy(c->cur.key, c->vk.seed, sizeof(c->cur.key));
		c->closed = 1; /* the init line may carry any epoch: nothing came before */
		c->next_epoch = rec->seal_epoch;
	}
	if (c->state == S_STOPPED) {
		if (rec != NULL && rec->sealed && is_our_init(c, rec))
			fail(c, lineno, file,
			     "line %llu starts sealing with this key a second time", ULL(lineno));
		return;
	}
	/* A line that is no record (a torn fragment) is covered by the next
	 * sealed line, whose prev is its hash; the chain check reports it. */
	if (rec == NULL)
		return;
	if (!rec->sealed && strcmp(rec->event, "audit_seal_stopped") == 0)
		stop(c, lineno, file, "the writer found no sealing key file (audit_seal_stopped)");
	else if (!rec->sealed)
		stop(c, lineno, file, "the line is not sealed");
	else
		check_sealed(c, line, rec, lineno, file);
}

void ig_audit_seal_check_end(struct ig_audit_seal_check *c, int64_t now_ms)
{
	struct ig_audit_seal_result *res = c->res;
	uint64_t open_epoch;
	char why[256];

	if (c->state != S_SEALED)
		return;
	open_epoch = c->closed ? c->next_epoch : c->cur.epoch;
	if (now_ms <= epoch_end_ms(c, open_epoch) + STALE_GRACE_MS)
		return;
	ig_why(why, sizeof(why),
	       "epoch %llu ended without a seal: the log was cut after line %llu, or sealing "
	       "stopped there (the key file was lost, or the seal timer did not run)",
	       ULL(open_epoch), ULL(res->proven_line));
	stop(c, res->proven_line + 1, res->proven_file, why);
}
