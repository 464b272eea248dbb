/*
 * store.c - the store's seam (store.h): dispatch to the configured backend
 * and the administrators' operations, each one transaction.
 */
#include <string.h>

#include "iamgate/config.h"
#include "iamgate/store.h"
#include "iamgate/util.h"

int ig_store_open(const struct ig_config *cfg, struct ig_store **out, char *why, size_t whycap)
{
	return ig_store_file_open(cfg->totp.state_dir, cfg->totp.step_seconds, out, why, whycap);
}

void ig_store_close(struct ig_store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

int ig_store_begin(struct ig_store *s, const char *user, struct ig_store_txn **t,
                   struct ig_user_record *rec)
{
	*t = NULL;
	if (!ig_name_is_safe(user))
		return IG_ERR_INVAL;
	return s->ops->begin(s, user, t, rec);
}

int ig_store_commit(struct ig_store *s, struct ig_store_txn *t, const struct ig_user_record *rec,
                    unsigned flags)
{
	return t == NULL ? IG_ERR_INVAL : s->ops->commit(s, t, rec, flags);
}

void ig_store_end(struct ig_store *s, struct ig_store_txn *t)
{
	if (t != NULL)
		s->ops->end(s, t);
}

int ig_store_list(struct ig_store *s, int (*fn)(const char *user, void *arg), void *arg)
{
	return s->ops->list(s, fn, arg);
}

int ig_store_attempts_durable(const struct ig_store *s)
{
	return s->ops->attempts_durable;
}

void ig_store_record_wipe(struct ig_user_record *rec)
{
	explicit_bzero(rec, sizeof(*rec));
}

int ig_store_enroll(struct ig_store *s, const char *user, const uint8_t *secret, size_t len,
                    int64_t now, int force)
{
	struct ig_user_record rec;
	struct ig_store_txn *t = NULL;
	int r;

	if (len < 10 || len > IG_STORE_SECRET_MAX)
		return IG_ERR_RANGE;
	r = ig_store_begin(s, user, &t, &rec);
	/* A record that no longer parses may be replaced by force. */
	if (r == IG_ERR_PARSE && force)
		r = 0;
	if (r != 0)
		goto out;
	if (rec.enrolled && !force) {
		r = IG_ERR_EXISTS;
		goto out;
	}
	ig_store_record_wipe(&rec);
	rec.enrolled = 1;
	rec.created = now;
	memcpy(rec.secret, secret, len);
	rec.secret_len = len;
	r = ig_store_commit(s, t, &rec, IG_STORE_DURABLE);
out:
	ig_store_record_wipe(&rec);
	ig_store_end(s, t);
	return r;
}

int ig_store_unlock(struct ig_store *s, const char *user)
{
	struct ig_user_record rec;
	struct ig_store_txn *t = NULL;
	int r;

	if ((r = ig_store_begin(s, user, &t, &rec)) != 0)
		goto out;
	if (!rec.enrolled) {
		r = IG_ERR_NOTFOUND;
		goto out;
	}
	rec.failures = 0;
	rec.locked_until = 0;
	rec.lockouts = 0;
	r = ig_store_commit(s, t, &rec, IG_STORE_DURABLE);
out:
	ig_store_record_wipe(&rec);
	ig_store_end(s, t);
	return r;
}

int ig_store_status(struct ig_store *s, const char *user, struct ig_user_record *rec)
{
	struct ig_store_txn *t = NULL;
	int r;

	r = ig_store_begin(s, user, &t, rec);
	ig_store_end(s, t);
	explicit_bzero(rec->secret, sizeof(rec->secret));
	rec->secret_len = 0;
	if (r != 0)
		memset(rec, 0, sizeof(*rec));
	return r;
}
