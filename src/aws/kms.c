/* kms.c - the KMS envelope-encryption client (see kms.h). */
#include <stdlib.h>
#include <string.h>

#include "iamgate/base64.h"
#include "iamgate/kms.h"
#include "iamgate/util.h"

#define TARGET_PREFIX "TrentService."

int ig_kms_key_id_ok(const char *s)
{
	return ig_chars_ok(s, 1, IG_KMS_KEY_ARN_MAX, ":/_.-");
}

/* jansson frees without wiping: overwrite a secret string in place. */
static void wipe_str(json_t *v)
{
	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
}

/* A KMS key ARN: "arn:PARTITION:kms:REGION:ACCOUNT:key/ID". */
static int key_arn_ok(const char *s)
{
	return ig_chars_ok(s, 20, IG_KMS_KEY_ARN_MAX, ":/_.-") && strncmp(s, "arn:", 4) == 0 &&
	       strstr(s, ":kms:") != NULL && strstr(s, ":key/") != NULL;
}

int ig_kms_parse(json_t *resp, const char *field, uint8_t *out, size_t cap, size_t want,
                 size_t *len, char *key_arn)
{
	json_t *v = json_object_get(resp, field), *id = json_object_get(resp, "KeyId");
	int r = IG_ERR_PARSE;

	*len = 0;
	if (key_arn != NULL)
		key_arn[0] = '\0';
	if (!json_is_string(v) || !json_is_string(id) || !key_arn_ok(json_string_value(id)))
		goto out;
	if (ig_base64_decode(json_string_value(v), json_string_length(v), out, cap, len) != 0 ||
	    *len == 0 || (want > 0 && *len != want)) {
		explicit_bzero(out, *len);
		*len = 0;
		goto out;
	}
	if (key_arn != NULL)
		memcpy(key_arn, json_string_value(id), json_string_length(id) + 1);
	r = 0;
out:
	wipe_str(v);
	return r;
}

/* The request body: KeyId, the encryption context, and one more field. */
static json_t *request(const struct ig_kms *k, const char *ctx_value, const char *field,
                       const char *value)
{
	if (!ig_kms_key_id_ok(k->key_id) || !ig_chars_ok(k->ctx_key, 1, 64, ":_.-") ||
	    !ig_chars_ok(ctx_value, 1, 256, "_.@+=,:/-"))
		return NULL;
	return json_pack("{s:s, s:{s:s}, s:s}", "KeyId", k->key_id, "EncryptionContext", k->ctx_key,
	                 ctx_value, field, value);
}

/* Send body (consumed; its field `secret` wiped first when set) as op. */
static int call(const struct ig_kms *k, const char *op, json_t *body, const char *secret,
                json_t **out, struct ig_aws_status *st)
{
	struct ig_http_config hc = k->http;
	char target[64];
	int r;

	*out = NULL;
	memset(st, 0, sizeof(*st));
	st->err = IG_ERR_INVAL;
	st->reason = IG_R_INVALID_REQUEST;
	if (body == NULL || ig_bfmt(target, sizeof(target), TARGET_PREFIX "%s", op) != 0) {
		r = st->err;
		goto out;
	}
	hc.service = "kms";
	hc.proto = IG_HTTP_JSON;
	hc.max_response = IG_HTTP_MAX_RESPONSE;
	r = ig_http_json_call(&hc, k->creds, "1.1", target, body, out, st);
out:
	if (secret != NULL)
		wipe_str(json_object_get(body, secret));
	json_decref(body);
	return r;
}

static void malformed(struct ig_aws_status *st)
{
	st->err = IG_ERR_PARSE;
	st->reason = IG_R_MALFORMED_RESPONSE;
}

int ig_kms_generate_data_key(const struct ig_kms *k, const char *ctx_value,
                             uint8_t key[IG_KMS_DATA_KEY], uint8_t *blob, size_t cap,
                             size_t *blob_len, char *key_arn, struct ig_aws_status *st)
{
	json_t *resp = NULL;
	size_t n = 0;

	*blob_len = 0;
	if (call(k, "GenerateDataKey", request(k, ctx_value, "KeySpec", "AES_256"), NULL, &resp,
	         st) == 0 &&
	    (ig_kms_parse(resp, "Plaintext", key, IG_KMS_DATA_KEY, IG_KMS_DATA_KEY, &n, NULL) !=
	             0 ||
	     ig_kms_parse(resp, "CiphertextBlob", blob, cap, 0, blob_len, key_arn) != 0))
		malformed(st);
	if (st->err != 0) {
		explicit_bzero(key, IG_KMS_DATA_KEY);
		explicit_bzero(blob, cap);
		*blob_len = 0;
	}
	json_decref(resp);
	return st->err;
}

/* Encode bytes for a request field into a malloc'd string (wipe it). */
static char *b64(const uint8_t *data, size_t len)
{
	size_t cap = IG_BASE64_LEN(len) + 1;
	char *s = malloc(cap);

	if (s != NULL && ig_base64_encode(data, len, s, cap) != 0) {
		free(s);
		s = NULL;
	}
	return s;
}

int ig_kms_decrypt(const struct ig_kms *k, const char *ctx_value, const uint8_t *blob,
                   size_t blob_len, uint8_t *plain, size_t cap, size_t *len,
                   struct ig_aws_status *st)
{
	json_t *resp = NULL;
	char *enc = NULL;

	*len = 0;
	memset(st, 0, sizeof(*st));
	st->err = IG_ERR_INVAL;
	st->reason = IG_R_INVALID_REQUEST;
	if (blob_len == 0 || blob_len > IG_KMS_BLOB_MAX || (enc = b64(blob, blob_len)) == NULL)
		return st->err;
	if (call(k, "Decrypt", request(k, ctx_value, "CiphertextBlob", enc), NULL, &resp, st) ==
	            0 &&
	    ig_kms_parse(resp, "Plaintext", plain, cap, 0, len, NULL) != 0)
		malformed(st);
	if (st->err != 0) {
		explicit_bzero(plain, cap);
		*len = 0;
	}
	json_decref(resp);
	free(enc);
	return st->err;
}

int ig_kms_encrypt(const struct ig_kms *k, const char *ctx_value, const uint8_t *plain, size_t len,
                   uint8_t *blob, size_t cap, size_t *blob_len, struct ig_aws_status *st)
{
	json_t *resp = NULL;
	char *enc = NULL;

	*blob_len = 0;
	memset(st, 0, sizeof(*st));
	st->err = IG_ERR_INVAL;
	st->reason = IG_R_INVALID_REQUEST;
	if (len == 0 || len > IG_KMS_PLAIN_MAX || (enc = b64(plain, len)) == NULL)
		return st->err;
	if (call(k, "Encrypt", request(k, ctx_value, "Plaintext", enc), "Plaintext", &resp, st) ==
	            0 &&
	    ig_kms_parse(resp, "CiphertextBlob", blob, cap, 0, blob_len, NULL) != 0)
		malformed(st);
	if (st->err != 0) {
		explicit_bzero(blob, cap);
		*blob_len = 0;
	}
	json_decref(resp);
	ig_free_secret_str(enc);
	return st->err;
}
