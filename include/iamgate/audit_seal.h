/*
 * audit_seal.h - forward-secure sealing of the audit log (the idea of
 * systemd-journald's FSS, on SHA-256 and HMAC).
 *
 * `iamgate audit seal-init` draws a random 32-byte seed k0 and a start time;
 * time from the start is cut into epochs of epoch_s seconds (default 900).
 * The key of epoch i+1 is SHA-256("iamgate-audit-seal-evolve-v1" || k_i):
 * one way, so the key of an epoch reveals no earlier key.  The host keeps
 * only the current epoch's key (the key file, root 0600, text
 * "iamgate-audit-seal v1 START EPOCH_S EPOCH KEYHEX\n"); the auditors keep
 * the verification key (k0, start, epoch_s) off the host and derive any
 * epoch's key from it.
 *
 * Every line written while sealing is on ends in "seal":"EPOCH:MAC", the
 * HMAC-SHA-256 of the line's bytes before it under that epoch's key (see
 * audit_line.h).  When a writer (or `iamgate audit seal`, run by a timer)
 * finds that the epoch of the key file has passed, it closes it: an
 * "audit_seal" line (reason epoch_sealed, extra epoch and next_epoch)
 * sealed with the old key, fsynced, and only then the key evolves to the
 * current epoch (new file, fsync, rename, fsync the directory, then the old
 * file's bytes are overwritten and fsynced).  A crash between the two leaves
 * the closing line and the old key: the next writer sees the closing line
 * at the tail and only evolves.
 *
 * So whoever takes root in epoch E holds k_E and no earlier key: a line of
 * an epoch before E cannot be changed (its MAC breaks), removed (the next
 * line's MAC covers its hash through prev, and the closing line of its
 * epoch names the next epoch), nor can an epoch be cut short (its closing
 * line is missing before the first line of a later epoch) without verify
 * naming the line.  Lines of the current epoch are not protected: that is
 * what the copy off the host is for.
 */
#ifndef IAMGATE_AUDIT_SEAL_H
#define IAMGATE_AUDIT_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "iamgate/audit_line.h"
#include "iamgate/error.h"

#define IG_AUDIT_SEAL_KEY_LEN 32
#define IG_AUDIT_SEAL_EPOCH_DEFAULT 900
#define IG_AUDIT_SEAL_EPOCH_MIN 10
#define IG_AUDIT_SEAL_EPOCH_MAX 86400
/* The text of a verification key: "igseal1-" 64 hex "-" START "-" EPOCH_S. */
#define IG_AUDIT_SEAL_VKEY_MAX 112
/* A key id: 16 hex digits naming a verification key in the log. */
#define IG_AUDIT_SEAL_ID_LEN 16

/* The on-host key: the key of one epoch. */
struct ig_audit_seal_key {
	uint64_t start_s; /* epoch 0 starts here (UTC seconds) */
	uint32_t epoch_s; /* epoch length in seconds */
	uint64_t epoch;   /* the epoch this key seals */
	uint8_t key[IG_AUDIT_SEAL_KEY_LEN];
};

/* What the auditors keep: the seed (epoch 0's key) and the clock. */
struct ig_audit_seal_vkey {
	uint64_t start_s;
	uint32_t epoch_s;
	uint8_t seed[IG_AUDIT_SEAL_KEY_LEN];
};

/* A new key at epoch 0: a random seed, starting at now_s.  0 or an error. */
int ig_audit_seal_new(uint64_t now_s, uint32_t epoch_s, struct ig_audit_seal_key *k) IG_MUST_CHECK;

/* The epoch now_ms falls in (0 before the start). */
uint64_t ig_audit_seal_epoch_at(uint64_t start_s, uint32_t epoch_s, int64_t now_ms);

/* Evolve k forward to epoch to (no-op when to <= k->epoch); intermediate
 * keys are wiped.  IG_ERR_RANGE for a jump of more than 2^24 epochs. */
int ig_audit_seal_evolve(struct ig_audit_seal_key *k, uint64_t to) IG_MUST_CHECK;

/*
 * Seal one built line in place: *line holds *len bytes ending in '}' and a
 * newline (ig_audit_line_build); it is reallocated to end in
 * ,"seal":"EPOCH:MAC"} and the newline.  0, IG_ERR_NOMEM, IG_ERR_CRYPTO.
 */
int ig_audit_seal_line(const struct ig_audit_seal_key *k, char **line, size_t *len) IG_MUST_CHECK;

/* The key file: parse/format its text; load it (trusted: root, 0600, nlink
 * 1, no symlink) keeping *fd open for ig_audit_seal_store to wipe; store
 * the evolved key (see above).  Load: IG_ERR_NOTFOUND when there is none. */
int ig_audit_seal_key_parse(const char *buf, size_t n, struct ig_audit_seal_key *k) IG_MUST_CHECK;
int ig_audit_seal_load(int dfd, const char *name, struct ig_audit_seal_key *k,
                       int *fd) IG_MUST_CHECK;
int ig_audit_seal_store(int dfd, const char *name, const struct ig_audit_seal_key *k,
                        int old_fd) IG_MUST_CHECK;

/* The verification key of a key at epoch 0, as text; parse it back. */
int ig_audit_seal_vkey_format(const struct ig_audit_seal_key *k0, char *out,
                              size_t cap) IG_MUST_CHECK;
int ig_audit_seal_vkey_parse(const char *s, struct ig_audit_seal_vkey *vk) IG_MUST_CHECK;
/* The key id of a seed (16 lowercase hex digits and a NUL). */
void ig_audit_seal_key_id(const uint8_t seed[IG_AUDIT_SEAL_KEY_LEN],
                          char out[IG_AUDIT_SEAL_ID_LEN + 1]);

/* What verify found about sealing.  Line numbers count within *_file. */
struct ig_audit_seal_result {
	int found;           /* the log names this verification key */
	uint64_t first_line; /* its audit_seal_init line */
	size_t first_file;
	uint64_t proven_line; /* last line proven: sealed, MAC valid, in order */
	size_t proven_file;
	uint64_t first_epoch, last_epoch, epochs_closed;
	int64_t proven_until_ms; /* the end of the last epoch closed by a seal */
	uint64_t bad_line;       /* first line that fails its seal (0: none) */
	size_t bad_file;
	char what[256];
	uint64_t stop_line; /* where sealing stops short of now (0: it does not) */
	size_t stop_file;
	char stop_what[256];
};

/* The verifier's walk: one call per line in chain order, then end. */
struct ig_audit_seal_check {
	struct ig_audit_seal_vkey vk;
	char id[IG_AUDIT_SEAL_ID_LEN + 1];
	struct ig_audit_seal_key cur; /* derived key of the epoch being checked */
	int state;                    /* before, sealed, stopped, bad */
	int closed;                   /* the last line closed cur.epoch ... */
	uint64_t next_epoch;          /* ... into this epoch */
	struct ig_audit_seal_result *res;
};

void ig_audit_seal_check_init(struct ig_audit_seal_check *c, const struct ig_audit_seal_vkey *vk,
                              struct ig_audit_seal_result *res);
/* rec is the parsed line (NULL when the line is not a record). */
void ig_audit_seal_check_line(struct ig_audit_seal_check *c, const char *line,
                              const struct ig_audit_record *rec, uint64_t lineno, size_t file);
/* The end of the log at now_ms: say where sealing stops if it is stale. */
void ig_audit_seal_check_end(struct ig_audit_seal_check *c, int64_t now_ms);
/* Wipe the derived key. */
void ig_audit_seal_check_clear(struct ig_audit_seal_check *c);

#endif
