/*
 * kms.h - the KMS client for envelope encryption: GenerateDataKey, Decrypt
 * and Encrypt, each with an encryption context, JSON 1.1 through the HTTP
 * unit (http.h: its transport rules, retries and time limit hold here).
 *
 * The encryption context is one pair (e.g. "iamgate-user" = the user
 * name): KMS binds a ciphertext to it, refuses to decrypt under any other,
 * and logs it in CloudTrail, and a key policy can require it
 * (kms:EncryptionContext:iamgate-user).  Every value taken from a response
 * is checked: the data key is exactly IG_KMS_DATA_KEY bytes, blobs are
 * strict base64 within IG_KMS_BLOB_MAX, KeyId is a KMS key ARN.  Plaintext
 * (keys, secrets) is wiped everywhere it passed: the request text, the
 * response buffer, jansson's strings, our scratch.
 */
#ifndef IAMGATE_KMS_H
#define IAMGATE_KMS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "iamgate/error.h"
#include "iamgate/http.h"

#define IG_KMS_DATA_KEY 32    /* bytes of an AES-256 data key */
#define IG_KMS_BLOB_MAX 6144  /* bytes of a ciphertext blob (KMS's limit) */
#define IG_KMS_PLAIN_MAX 4096 /* bytes Encrypt takes and Decrypt returns */
#define IG_KMS_KEY_ARN_MAX 2048

struct ig_kms {
	/* endpoint ("https://kms.REGION.amazonaws.com"), region, ca_file,
	 * timeouts; service and proto are set by each call. */
	struct ig_http_config http;
	const struct ig_aws_creds *creds;
	/* Key id, key ARN, alias name ("alias/x") or alias ARN: 1..2048 of
	 * [A-Za-z0-9:/_.-]. */
	const char *key_id;
	const char *ctx_key; /* the encryption context's key, e.g. "iamgate-user" */
};

/* 1 if s is acceptable as a configured key id (see struct ig_kms). */
int ig_kms_key_id_ok(const char *s);

/*
 * GenerateDataKey (KeySpec AES_256) under ctx_key = ctx_value: key receives
 * the plaintext data key (wipe it), blob the encrypted one (*blob_len
 * bytes), key_arn (IG_KMS_KEY_ARN_MAX + 1 bytes, or NULL) the key's ARN.
 * Returns st->err; on failure key and blob are wiped.
 */
int ig_kms_generate_data_key(const struct ig_kms *k, const char *ctx_value,
                             uint8_t key[IG_KMS_DATA_KEY], uint8_t *blob, size_t cap,
                             size_t *blob_len, char *key_arn,
                             struct ig_aws_status *st) IG_MUST_CHECK;

/*
 * Decrypt blob (with the configured KeyId, so a blob of another key is
 * refused by KMS) under ctx_key = ctx_value into plain (cap bytes);
 * *len receives its length.  A blob made under another context or key:
 * IG_ERR_AWS with aws_error InvalidCiphertextException (or
 * IncorrectKeyException).  Returns st->err; plain wiped on failure.
 */
int ig_kms_decrypt(const struct ig_kms *k, const char *ctx_value, const uint8_t *blob,
                   size_t blob_len, uint8_t *plain, size_t cap, size_t *len,
                   struct ig_aws_status *st) IG_MUST_CHECK;

/* Encrypt plain (1..IG_KMS_PLAIN_MAX bytes) under ctx_key = ctx_value. */
int ig_kms_encrypt(const struct ig_kms *k, const char *ctx_value, const uint8_t *plain, size_t len,
                   uint8_t *blob, size_t cap, size_t *blob_len,
                   struct ig_aws_status *st) IG_MUST_CHECK;

/*
 * A response's named base64 field decoded into out (at most cap bytes;
 * exactly want bytes when want > 0), and its KeyId (a KMS key ARN) into
 * key_arn (may be NULL).  The field's string is wiped inside resp.  0 or
 * IG_ERR_PARSE (out wiped).  Exposed for tests and fuzzing.
 */
int ig_kms_parse(json_t *resp, const char *field, uint8_t *out, size_t cap, size_t want,
                 size_t *len, char *key_arn) IG_MUST_CHECK;

#endif
