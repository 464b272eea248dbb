/*
 * store_ddb.h - the shared store: each user's record (store.h) as one
 * DynamoDB item, the TOTP secret under envelope encryption with KMS, so
 * that several bastions share replay protection, lockouts and enrolment.
 *
 * The item (attribute names are written through #placeholders: "user" is a
 * DynamoDB reserved word):
 *
 *	user        S  the key: the user name
 *	fmt         N  1
 *	ver         N  the record's version, 1 on creation, +1 on every write
 *	created, used_until, failures, locked_until, lockouts, last_login  N
 *	last_rhost  S  absent when empty
 *	kms_key     S  the ARN of the KMS key that made edk
 *	edk         B  the data key, encrypted by KMS under the encryption
 *	               context iamgate-user = the user name
 *	nonce       B  12 bytes
 *	secret      B  AES-256-GCM of the TOTP secret under the data key, the
 *	               user name as AAD, the 16-byte tag appended
 *
 * A copy of the table alone reveals no secret, and an item copied to
 * another user's key does not decrypt (KMS refuses the context, GCM the
 * AAD).  The data key lives only in the transaction (wiped at its end).
 *
 * The transaction: begin reads the item with a consistent GetItem and
 * decrypts the secret (one KMS Decrypt); commit writes it conditioned on
 * the version read (UpdateItem of the state alone when the secret is
 * unchanged, else PutItem with a fresh data key), so a writer that lost a
 * race gets IG_ERR_CONFLICT and the TOTP rules run again on what is there
 * now (ig_totp_verify); every write is one atomic item write, so nothing is
 * ever half-written.  A login costs three round trips: GetItem, Decrypt,
 * UpdateItem.  Everything one store handle does shares one time limit
 * (timeout_ms from open), retries bounded and jittered inside it by the
 * HTTP unit.  Every write is durable when DynamoDB acknowledges it, so the
 * TOTP rules need no boot floor (attempts_durable).
 */
#ifndef IAMGATE_STORE_DDB_H
#define IAMGATE_STORE_DDB_H

#include <jansson.h>

#include "iamgate/ddb.h"
#include "iamgate/kms.h"
#include "iamgate/reason.h"
#include "iamgate/store.h"

#define IG_STORE_DDB_CONTEXT_KEY "iamgate-user"
#define IG_STORE_DDB_DEFAULT_TIMEOUT_MS 3000

struct ig_store_ddb_params {
	/* endpoint, region, ca_file, creds, table (all borrowed: they must
	 * outlive the store); the timeouts are the store's, set per call. */
	struct ig_ddb ddb;
	/* endpoint, region, ca_file, creds, key_id (borrowed); ctx_key is
	 * IG_STORE_DDB_CONTEXT_KEY whatever it says. */
	struct ig_kms kms;
	unsigned timeout_ms;   /* all the handle's calls; 0: IG_STORE_DDB_DEFAULT_TIMEOUT_MS */
	unsigned max_attempts; /* per call; 0: the HTTP unit's default */
};

extern const struct ig_store_ops ig_store_ddb_ops;

/* Open the shared store (no network yet).  why: what is wrong and the fix. */
int ig_store_ddb_open(const struct ig_store_ddb_params *p, struct ig_store **out, char *why,
                      size_t whycap) IG_MUST_CHECK;

/*
 * Why the last call on s failed: store_unavailable, store_record_malformed,
 * kms_unavailable or kms_refused (IG_R_OK when none did), and, when st is
 * not NULL, the AWS call's outcome (its code, request id, attempts).
 */
enum ig_reason ig_store_ddb_failure(const struct ig_store *s, struct ig_aws_status *st);

/*
 * An item's fields into rec (all but the secret) and its envelope: 0, or
 * IG_ERR_PARSE when a field is missing, of the wrong type or out of range.
 * Exposed for tests and fuzzing.
 */
struct ig_store_ddb_envelope {
	int64_t ver;
	uint8_t edk[IG_KMS_BLOB_MAX];
	size_t edk_len;
	uint8_t nonce[12];
	uint8_t secret[IG_STORE_SECRET_MAX + 16]; /* ciphertext and tag */
	size_t secret_len;
};
int ig_store_ddb_parse_item(const json_t *item, const char *user, struct ig_user_record *rec,
                            struct ig_store_ddb_envelope *env) IG_MUST_CHECK;

#endif
