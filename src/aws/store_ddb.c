/* store_ddb.c - the shared store on DynamoDB with KMS (see store_ddb.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "iamgate/store_ddb.h"
#include "iamgate/util.h"

#define FMT 1
#define NONCE_LEN 12
#define TAG_LEN 16
#define TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define COUNT_MAX 1000000

struct ddb_store {
	struct ig_store base;
	struct ig_store_ddb_params p;
	int64_t deadline; /* monotonic ms */
	enum ig_reason fail;
	struct ig_aws_status st;
};

struct ig_store_txn {
	char user[65];
	int exists;   /* an item was there at begin */
	int64_t ver;  /* its version; -1 when it did not parse */
	int have_key; /* key/secret below hold the decrypted record */
	uint8_t key[IG_KMS_DATA_KEY];
	struct ig_store_ddb_envelope env;
	uint8_t secret[IG_STORE_SECRET_MAX];
	size_t secret_len;
	int64_t created;
};

static struct ddb_store *impl(struct ig_store *s)
{
	return (struct ddb_store *)s;
}

/* ------------------------------------------------------------------ */
/* Failures and time                                                   */

/* Remember why (for the audit line) and hand back err. */
static int fail(struct ddb_store *d, enum ig_reason why, const struct ig_aws_status *st, int err)
{
	d->fail = why;
	if (st != NULL)
		d->st = *st;
	else
		memset(&d->st, 0, sizeof(d->st));
	return err;
}

static int kms_fail(struct ddb_store *d, const struct ig_aws_status *st)
{
	static const char *const refused[] = {
	        "AccessDeniedException", "DisabledException",     "KMSInvalidStateException",
	        "NotFoundException",     "IncorrectKeyException", "InvalidKeyUsageException"};

	if (st->reason == IG_R_AWS_ERROR) {
		if (strcmp(st->aws_error, "InvalidCiphertextException") == 0)
			return fail(d, IG_R_STORE_RECORD_MALFORMED, st, IG_ERR_PARSE);
		for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
			if (strcmp(st->aws_error, refused[i]) == 0)
				return fail(d, IG_R_KMS_REFUSED, st, st->err);
	}
	return fail(d, IG_R_KMS_UNAVAILABLE, st, st->err);
}

/* What remains of the handle's time for the next call; 0: none. */
static unsigned remaining(const struct ddb_store *d)
{
	int64_t left = d->deadline - ig_mono_ms();

	return left > 0 ? (unsigned)left : 0;
}

/* The clients, with the time that remains. */
static int clients(struct ddb_store *d, struct ig_ddb *db, struct ig_kms *k)
{
	unsigned left = remaining(d);

	if (left == 0) {
		struct ig_aws_status st = {.err = IG_ERR_TIMEOUT, .reason = IG_R_TIMEOUT};
		return fail(d, IG_R_STORE_UNAVAILABLE, &st, IG_ERR_TIMEOUT);
	}
	*db = d->p.ddb;
	*k = d->p.kms;
	db->http.timeout_ms = k->http.timeout_ms = left;
	db->http.attempt_timeout_ms = k->http.attempt_timeout_ms = 0;
	db->http.max_attempts = k->http.max_attempts = d->p.max_attempts;
	k->ctx_key = IG_STORE_DDB_CONTEXT_KEY;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The item                                                            */

/* The placeholders of the state update (DynamoDB refuses unused ones). */
static json_t *state_names(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "#ver", "ver", "#uu", "used_until",
	                 "#f", "failures", "#lu", "locked_until", "#lo", "lockouts", "#ll",
	                 "last_login", "#rh", "last_rhost");
}

/* One placeholder: {"#n": name}. */
static json_t *one_name(const char *ph, const char *name)
{
	return json_pack("{s:s}", ph, name);
}

static json_t *item_key(const char *user)
{
	return json_pack("{s:o}", "user", ig_ddb_s(user));
}

static int get_time(const json_t *item, const char *name, int64_t *out)
{
	return ig_ddb_get_n(item, name, 0, TIME_MAX, out);
}

static int state_fields(const json_t *item, struct ig_user_record *rec)
{
	int64_t f = 0, lo = 0;
	int r;

	if ((r = get_time(item, "created", &rec->created)) != 0 ||
	    (r = get_time(item, "used_until", &rec->used_until)) != 0 ||
	    (r = ig_ddb_get_n(item, "failures", 0, COUNT_MAX, &f)) != 0 ||
	    (r = get_time(item, "locked_until", &rec->locked_until)) != 0 ||
	    (r = ig_ddb_get_n(item, "lockouts", 0, COUNT_MAX, &lo)) != 0 ||
	    (r = get_time(item, "last_login", &rec->last_login)) != 0)
		return IG_ERR_PARSE;
	rec->failures = (unsigned)f;
	rec->lockouts = (unsigned)lo;
	r = ig_ddb_get_s(item, "last_rhost", rec->last_rhost, sizeof(rec->last_rhost));
	return r == 0 || r == IG_ERR_NOTFOUND ? 0 : IG_ERR_PARSE;
}

int ig_store_ddb_parse_item(const json_t *item, const char *user, struct ig_user_record *rec,
                            struct ig_store_ddb_envelope *env)
{
	char name[65], arn[IG_KMS_KEY_ARN_MAX + 1];
	int64_t fmt = 0, ver = -1, got = 0;
	size_t n = 0;
	int r = IG_ERR_PARSE;

	memset(rec, 0, sizeof(*rec));
	memset(env, 0, sizeof(*env));
	env->ver = -1;
	if (!ig_ddb_item_ok(item) || ig_ddb_get_s(item, "user", name, sizeof(name)) != 0 ||
	    strcmp(name, user) != 0 || ig_ddb_get_n(item, "fmt", FMT, FMT, &fmt) != 0 ||
	    ig_ddb_get_n(item, "ver", 1, INT64_MAX - 1, &got) != 0)
		goto out;
	env->ver = ver = got;
	if (state_fields(item, rec) != 0 || ig_ddb_get_s(item, "kms_key", arn, sizeof(arn)) != 0 ||
	    ig_ddb_get_b(item, "edk", env->edk, sizeof(env->edk), &env->edk_len) != 0 ||
	    env->edk_len == 0 || ig_ddb_get_b(item, "nonce", env->nonce, NONCE_LEN, &n) != 0 ||
	    n != NONCE_LEN ||
	    ig_ddb_get_b(item, "secret", env->secret, sizeof(env->secret), &env->secret_len) != 0 ||
	    env->secret_len < 10 + TAG_LEN)
		goto out;
	rec->enrolled = 1;
	r = 0;
out:
	if (r != 0) {
		memset(rec, 0, sizeof(*rec));
		memset(env, 0, sizeof(*env));
		env->ver = ver; /* so a forced enrolment can still replace it */
	}
	return r;
}

/* AES-256-GCM with the user name as AAD; enc 1 seals in into out (+tag),
 * 0 opens it (tag checked).  0 or IG_ERR_CRYPTO / IG_ERR_PARSE. */
static int gcm(int enc, const uint8_t key[IG_KMS_DATA_KEY], const uint8_t nonce[NONCE_LEN],
               const char *user, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0, r = IG_ERR_CRYPTO;

	if (x == NULL || len > IG_STORE_SECRET_MAX + TAG_LEN || (!enc && len < TAG_LEN))
		goto out;
	if (!enc)
		len -= TAG_LEN;
	if (EVP_CipherInit_ex(x, EVP_aes_256_gcm(), NULL, key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(x, NULL, &n, (const uint8_t *)user, (int)strlen(user)) != 1 ||
	    EVP_CipherUpdate(x, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *)(in + len)) != 1)
		goto out;
	if (EVP_CipherFinal_ex(x, out + n, &n) != 1) {
		r = enc ? IG_ERR_CRYPTO : IG_ERR_PARSE; /* open: the tag did not match */
		goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + len) != 1)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(x);
	return r;
}

/* ------------------------------------------------------------------ */
/* The transaction                                                     */

/* The item's secret: KMS gives the data key, GCM the secret. */
static int open_secret(struct ddb_store *d, struct ig_store_txn *t, struct ig_user_record *rec)
{
	struct ig_ddb db;
	struct ig_kms k;
	struct ig_aws_status st;
	size_t n = 0;
	int r;

	if ((r = clients(d, &db, &k)) != 0)
		return r;
	if (ig_kms_decrypt(&k, t->user, t->env.edk, t->env.edk_len, t->key, sizeof(t->key), &n,
	                   &st) != 0)
		return kms_fail(d, &st);
	if (n != IG_KMS_DATA_KEY)
		return fail(d, IG_R_STORE_RECORD_MALFORMED, &st, IG_ERR_PARSE);
	t->have_key = 1;
	if (gcm(0, t->key, t->env.nonce, t->user, t->env.secret, t->env.secret_len, rec->secret) !=
	    0)
		return fail(d, IG_R_STORE_RECORD_MALFORMED, NULL, IG_ERR_PARSE);
	rec->secret_len = t->env.secret_len - TAG_LEN;
	memcpy(t->secret, rec->secret, rec->secret_len);
	t->secret_len = rec->secret_len;
	t->created = rec->created;
	return 0;
}

static int ddb_begin(struct ig_store *s, const char *user, struct ig_store_txn **out,
                     struct ig_user_record *rec)
{
	struct ddb_store *d = impl(s);
	struct ig_store_txn *t;
	struct ig_aws_status st;
	struct ig_ddb db;
	struct ig_kms k;
	json_t *key, *item = NULL;
	int r;

	memset(rec, 0, sizeof(*rec));
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return IG_ERR_NOMEM;
	memcpy(t->user, user, strlen(user) + 1);
	if ((r = clients(d, &db, &k)) != 0 || (key = item_key(user)) == NULL) {
		r = r ? r : IG_ERR_NOMEM;
		goto out;
	}
	r = ig_ddb_get(&db, key, &item, &st);
	json_decref(key);
	if (r != 0) {
		r = fail(d, IG_R_STORE_UNAVAILABLE, &st, r);
		goto out;
	}
	t->exists = item != NULL;
	if (item != NULL) {
		if (ig_store_ddb_parse_item(item, user, rec, &t->env) != 0)
			r = fail(d, IG_R_STORE_RECORD_MALFORMED, &st, IG_ERR_PARSE);
		else
			r = open_secret(d, t, rec);
	}
	t->ver = t->env.ver;
out:
	json_decref(item);
	if (r != 0 && r != IG_ERR_PARSE) {
		explicit_bzero(t, sizeof(*t));
		free(t);
		t = NULL;
	}
	if (r != 0)
		ig_store_record_wipe(rec);
	*out = t;
	return r;
}

/* The state attributes' values (":ver" is the new version). */
static json_t *state_values(const struct ig_user_record *rec, int64_t ver)
{
	json_t *v = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", ":ver", ig_ddb_n(ver), ":uu",
	                      ig_ddb_n(rec->used_until), ":f", ig_ddb_n(rec->failures), ":lu",
	                      ig_ddb_n(rec->locked_until), ":lo", ig_ddb_n(rec->lockouts), ":ll",
	                      ig_ddb_n(rec->last_login));

	if (v != NULL && rec->last_rhost[0] != '\0' &&
	    json_object_set_new(v, ":rh", ig_ddb_s(rec->last_rhost)) != 0) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/* The secret unchanged: the state alone, conditioned on the version. */
static int update_state(struct ddb_store *d, struct ig_store_txn *t,
                        const struct ig_user_record *rec)
{
	char expr[256];
	struct ig_aws_status st;
	struct ig_ddb db;
	struct ig_kms k;
	json_t *key = item_key(t->user), *nm = state_names(), *vals = state_values(rec, t->ver + 1);
	int r;

	if ((r = clients(d, &db, &k)) != 0)
		goto out;
	r = IG_ERR_NOMEM;
	if (key == NULL || nm == NULL || vals == NULL ||
	    json_object_set_new(vals, ":old", ig_ddb_n(t->ver)) != 0 ||
	    ig_bfmt(expr, sizeof(expr),
	            "SET #ver = :ver, #uu = :uu, #f = :f, #lu = :lu, #lo = :lo, #ll = :ll%s",
	            rec->last_rhost[0] != '\0' ? ", #rh = :rh" : " REMOVE #rh") != 0)
		goto out;
	if ((r = ig_ddb_update(&db, key, expr, "#ver = :old", nm, vals, &st)) != 0 &&
	    r != IG_ERR_CONFLICT)
		r = fail(d, IG_R_STORE_UNAVAILABLE, &st, r);
out:
	json_decref(key);
	json_decref(nm);
	json_decref(vals);
	return r;
}

/* The whole item, with a new envelope for rec's secret. */
static json_t *full_item(const char *user, const struct ig_user_record *rec, int64_t ver,
                         const struct ig_store_ddb_envelope *env, const char *arn)
{
	json_t *it = json_pack(
	        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "user",
	        ig_ddb_s(user), "fmt", ig_ddb_n(FMT), "ver", ig_ddb_n(ver), "created",
	        ig_ddb_n(rec->created), "used_until", ig_ddb_n(rec->used_until), "failures",
	        ig_ddb_n(rec->failures), "locked_until", ig_ddb_n(rec->locked_until), "lockouts",
	        ig_ddb_n(rec->lockouts), "last_login", ig_ddb_n(rec->last_login), "kms_key",
	        ig_ddb_s(arn), "edk", ig_ddb_b(env->edk, env->edk_len), "nonce",
	        ig_ddb_b(env->nonce, NONCE_LEN), "secret", ig_ddb_b(env->secret, env->secret_len));

	if (it != NULL && rec->last_rhost[0] != '\0' &&
	    json_object_set_new(it, "last_rhost", ig_ddb_s(rec->last_rhost)) != 0) {
		json_decref(it);
		it = NULL;
	}
	return it;
}

/* A new or replaced secret: a fresh data key, the whole item written,
 * conditioned on the version read (or on there being no item). */
static int put_item(struct ddb_store *d, struct ig_store_txn *t, const struct ig_user_record *rec)
{
	struct ig_store_ddb_envelope env;
	char arn[IG_KMS_KEY_ARN_MAX + 1];
	uint8_t key[IG_KMS_DATA_KEY];
	struct ig_aws_status st;
	struct ig_ddb db;
	struct ig_kms k;
	json_t *item = NULL, *nm = NULL, *vals = NULL;
	const char *cond;
	int r;

	memset(&env, 0, sizeof(env));
	if ((r = clients(d, &db, &k)) != 0)
		goto out;
	if (ig_kms_generate_data_key(&k, t->user, key, env.edk, sizeof(env.edk), &env.edk_len, arn,
	                             &st) != 0) {
		r = kms_fail(d, &st);
		goto out;
	}
	if ((r = ig_random_bytes(env.nonce, NONCE_LEN)) != 0 ||
	    (r = gcm(1, key, env.nonce, t->user, rec->secret, rec->secret_len, env.secret)) != 0)
		goto out;
	env.secret_len = rec->secret_len + TAG_LEN;
	/* No item: none may appear meanwhile.  An item: the version read, or,
	 * for one that did not parse (a forced enrolment), that it is there. */
	if (!t->exists) {
		cond = "attribute_not_exists(#u)";
		nm = one_name("#u", "user");
	} else if (t->ver < 0) {
		cond = "attribute_exists(#u)";
		nm = one_name("#u", "user");
	} else {
		cond = "#ver = :old";
		nm = one_name("#ver", "ver");
		vals = json_pack("{s:o}", ":old", ig_ddb_n(t->ver));
	}
	r = IG_ERR_NOMEM;
	if ((item = full_item(t->user, rec, t->exists && t->ver > 0 ? t->ver + 1 : 1, &env, arn)) ==
	            NULL ||
	    nm == NULL || (t->exists && t->ver >= 0 && vals == NULL))
		goto out;
	if ((r = ig_ddb_put(&db, item, cond, nm, vals, &st)) != 0 && r != IG_ERR_CONFLICT)
		r = fail(d, IG_R_STORE_UNAVAILABLE, &st, r);
out:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(&env, sizeof(env));
	json_decref(item);
	json_decref(nm);
	json_decref(vals);
	return r;
}

static int ddb_commit(struct ig_store *s, struct ig_store_txn *t, const struct ig_user_record *rec,
                      unsigned flags)
{
	struct ddb_store *d = impl(s);
	int same, r;

	(void)flags; /* every acknowledged write is durable */
	if (!rec->enrolled || rec->secret_len < 10 || rec->secret_len > IG_STORE_SECRET_MAX)
		return IG_ERR_INVAL;
	same = t->have_key && rec->secret_len == t->secret_len &&
	       ig_ct_equal(rec->secret, t->secret, t->secret_len) && rec->created == t->created;
	r = same ? update_state(d, t, rec) : put_item(d, t, rec);
	if (r == 0) {
		t->ver = t->exists && t->ver > 0 ? t->ver + 1 : 1;
		t->exists = 1;
	}
	return r;
}

static void ddb_end(struct ig_store *s, struct ig_store_txn *t)
{
	(void)s;
	explicit_bzero(t, sizeof(*t));
	free(t);
}

/* Every user name in the table (Scan pages, names checked). */
static int ddb_list(struct ig_store *s, int (*fn)(const char *user, void *arg), void *arg)
{
	struct ddb_store *d = impl(s);
	struct ig_aws_status st;
	struct ig_ddb db;
	struct ig_kms k;
	json_t *nm = one_name("#u", "user"), *start = NULL, *items = NULL, *last, *e;
	char name[65];
	size_t i;
	int r = nm != NULL ? 0 : IG_ERR_NOMEM;

	while (r == 0 && (r = clients(d, &db, &k)) == 0) {
		json_decref(items);
		r = ig_ddb_scan(&db, "#u", nm, start, &items, &last, &st);
		json_decref(start);
		start = last;
		if (r != 0) {
			r = fail(d, IG_R_STORE_UNAVAILABLE, &st, r);
			break;
		}
		json_array_foreach(items, i, e)
		{
			if (ig_ddb_get_s(e, "user", name, sizeof(name)) == 0 &&
			    ig_name_is_safe(name) && (r = fn(name, arg)) != 0)
				break;
		}
		if (start == NULL)
			break;
	}
	json_decref(items);
	json_decref(start);
	json_decref(nm);
	return r;
}

static void ddb_close(struct ig_store *s)
{
	explicit_bzero(s, sizeof(struct ddb_store));
	free(s);
}

const struct ig_store_ops ig_store_ddb_ops = {
        .name = "dynamodb",
        .begin = ddb_begin,
        .commit = ddb_commit,
        .end = ddb_end,
        .list = ddb_list,
        .close = ddb_close,
        .attempts_durable = 1,
};

int ig_store_ddb_open(const struct ig_store_ddb_params *p, struct ig_store **out, char *why,
                      size_t whycap)
{
	struct ddb_store *d;

	*out = NULL;
	if (!ig_ddb_table_ok(p->ddb.table)) {
		ig_why(why, whycap, "the store's table name must be 3-255 of A-Z a-z 0-9 _ . -");
		return IG_ERR_CONFIG;
	}
	if (!ig_kms_key_id_ok(p->kms.key_id)) {
		ig_why(why, whycap, "the store needs a KMS key id, ARN or alias (\"kms_key_id\")");
		return IG_ERR_CONFIG;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return IG_ERR_NOMEM;
	d->base.ops = &ig_store_ddb_ops;
	d->base.impl = d;
	d->p = *p;
	d->deadline =
	        ig_mono_ms() + (p->timeout_ms ? p->timeout_ms : IG_STORE_DDB_DEFAULT_TIMEOUT_MS);
	*out = &d->base;
	return 0;
}

enum ig_reason ig_store_ddb_failure(const struct ig_store *s, struct ig_aws_status *st)
{
	const struct ddb_store *d = (const struct ddb_store *)s;

	if (st != NULL)
		*st = d->st;
	return d->fail;
}
