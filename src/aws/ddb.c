/* ddb.c - the DynamoDB item client (see ddb.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/base64.h"
#include "iamgate/ddb.h"
#include "iamgate/util.h"

#define TARGET_PREFIX "DynamoDB_20120810."
#define MAX_ATTRS 1024
#define MAX_NAME 255
#define MAX_SET 4096

int ig_ddb_table_ok(const char *name)
{
	return ig_chars_ok(name, 3, 255, "_.-");
}

/* ------------------------------------------------------------------ */
/* Checking what comes back                                            */

static int value_ok(const json_t *v, int depth);

static int all_strings(const json_t *a)
{
	size_t i;
	json_t *e;

	if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > MAX_SET)
		return 0;
	json_array_foreach(a, i, e)
	{
		if (!json_is_string(e))
			return 0;
	}
	return 1;
}

static int map_ok(const json_t *m, int depth)
{
	const char *k;
	json_t *v;

	if (!json_is_object(m) || json_object_size(m) > MAX_ATTRS)
		return 0;
	json_object_foreach((json_t *)m, k, v)
	{
		size_t n = strlen(k);
		if (n == 0 || n > MAX_NAME || !value_ok(v, depth))
			return 0;
	}
	return 1;
}

/* One attribute value: exactly one type key, of the right JSON type. */
static int value_ok(const json_t *v, int depth)
{
	const char *t;
	json_t *x, *e;
	size_t i;

	if (!json_is_object(v) || json_object_size(v) != 1 || depth > IG_DDB_MAX_DEPTH)
		return 0;
	t = json_object_iter_key(json_object_iter((json_t *)v));
	x = json_object_iter_value(json_object_iter((json_t *)v));
	if (strcmp(t, "S") == 0 || strcmp(t, "N") == 0 || strcmp(t, "B") == 0)
		return json_is_string(x);
	if (strcmp(t, "BOOL") == 0)
		return json_is_boolean(x);
	if (strcmp(t, "NULL") == 0)
		return json_is_true(x);
	if (strcmp(t, "SS") == 0 || strcmp(t, "NS") == 0 || strcmp(t, "BS") == 0)
		return all_strings(x);
	if (strcmp(t, "M") == 0)
		return map_ok(x, depth + 1);
	if (strcmp(t, "L") != 0 || !json_is_array(x) || json_array_size(x) > MAX_ATTRS)
		return 0;
	json_array_foreach(x, i, e)
	{
		if (!value_ok(e, depth + 1))
			return 0;
	}
	return 1;
}

int ig_ddb_item_ok(const json_t *v)
{
	return json_is_object(v) && json_object_size(v) > 0 && map_ok(v, 1);
}

int ig_ddb_parse_get(const json_t *resp, json_t **item)
{
	json_t *it = json_object_get(resp, "Item");

	*item = NULL;
	if (!json_is_object(resp))
		return IG_ERR_PARSE;
	if (it == NULL)
		return 0;
	if (!ig_ddb_item_ok(it))
		return IG_ERR_PARSE;
	*item = json_incref(it);
	return 0;
}

int ig_ddb_parse_scan(const json_t *resp, json_t **items, json_t **last)
{
	json_t *its = json_object_get(resp, "Items"),
	       *lk = json_object_get(resp, "LastEvaluatedKey");
	json_t *e;
	size_t i;

	*items = *last = NULL;
	if (!json_is_object(resp) || !json_is_array(its) || (lk != NULL && !ig_ddb_item_ok(lk)))
		return IG_ERR_PARSE;
	json_array_foreach(its, i, e)
	{
		if (!ig_ddb_item_ok(e))
			return IG_ERR_PARSE;
	}
	*items = json_incref(its);
	*last = lk != NULL ? json_incref(lk) : NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Attribute values                                                    */

json_t *ig_ddb_s(const char *s)
{
	json_t *v = s != NULL ? json_string(s) : NULL;

	return v != NULL ? json_pack("{s:o}", "S", v) : NULL;
}

json_t *ig_ddb_n(int64_t n)
{
	char buf[32];

	if (ig_bfmt(buf, sizeof(buf), "%" PRId64, n) != 0)
		return NULL;
	return json_pack("{s:s}", "N", buf);
}

json_t *ig_ddb_b(const uint8_t *data, size_t len)
{
	size_t cap = IG_BASE64_LEN(len) + 1;
	char *enc = malloc(cap);
	json_t *v = NULL;

	if (enc != NULL && ig_base64_encode(data, len, enc, cap) == 0)
		v = json_pack("{s:s}", "B", enc);
	ig_freezero(enc, cap);
	return v;
}

/* item[name][type] as a string with no NUL inside. */
static int typed(const json_t *item, const char *name, const char *type, const char **s, size_t *n)
{
	json_t *v = json_object_get(item, name), *x;

	if (v == NULL)
		return IG_ERR_NOTFOUND;
	x = json_object_get(v, type);
	if (!json_is_object(v) || json_object_size(v) != 1 || !json_is_string(x) ||
	    strlen(json_string_value(x)) != json_string_length(x))
		return IG_ERR_PARSE;
	*s = json_string_value(x);
	*n = json_string_length(x);
	return 0;
}

int ig_ddb_get_s(const json_t *item, const char *name, char *buf, size_t cap)
{
	const char *s;
	size_t n;
	int r;

	if (cap > 0)
		buf[0] = '\0';
	if ((r = typed(item, name, "S", &s, &n)) != 0)
		return r;
	if (n >= cap)
		return IG_ERR_PARSE;
	memcpy(buf, s, n + 1);
	return 0;
}

int ig_ddb_get_n(const json_t *item, const char *name, int64_t min, int64_t max, int64_t *out)
{
	const char *s, *d;
	char *end;
	long long v;
	size_t n;
	int r;

	*out = 0;
	if ((r = typed(item, name, "N", &s, &n)) != 0)
		return r;
	d = s[0] == '-' ? s + 1 : s;
	/* One spelling: digits only, no leading zero (but "0"), no "-0". */
	if (n == 0 || n > 20 || d[0] == '\0' || strspn(d, "0123456789") != strlen(d) ||
	    (d[0] == '0' && (d[1] != '\0' || d != s)))
		return IG_ERR_PARSE;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return IG_ERR_PARSE;
	*out = (int64_t)v;
	return 0;
}

int ig_ddb_get_b(const json_t *item, const char *name, uint8_t *out, size_t cap, size_t *len)
{
	const char *s;
	size_t n;
	int r;

	*len = 0;
	if ((r = typed(item, name, "B", &s, &n)) != 0)
		return r;
	return ig_base64_decode(s, n, out, cap, len) == 0 ? 0 : IG_ERR_PARSE;
}

/* ------------------------------------------------------------------ */
/* Calls                                                               */

/* The JSON call for operation op on d's table; a failed condition is
 * IG_ERR_CONFLICT. */
static int call(const struct ig_ddb *d, const char *op, json_t *body, json_t **out,
                struct ig_aws_status *st)
{
	struct ig_http_config hc = d->http;
	char target[64];
	int r;

	*out = NULL;
	memset(st, 0, sizeof(*st));
	st->err = IG_ERR_INVAL;
	st->reason = IG_R_INVALID_CONFIG;
	if (body == NULL || !ig_ddb_table_ok(d->table) ||
	    json_object_set_new(body, "TableName", json_string(d->table)) != 0 ||
	    ig_bfmt(target, sizeof(target), TARGET_PREFIX "%s", op) != 0) {
		if (body == NULL) {
			st->err = IG_ERR_NOMEM;
			st->reason = IG_R_INTERNAL_ERROR;
		}
		return st->err;
	}
	hc.service = "dynamodb";
	hc.proto = IG_HTTP_JSON;
	hc.max_response = IG_DDB_MAX_RESPONSE;
	r = ig_http_json_call(&hc, d->creds, "1.0", target, body, out, st);
	if (r == IG_ERR_AWS && strcmp(st->aws_error, "ConditionalCheckFailedException") == 0)
		st->err = r = IG_ERR_CONFLICT;
	return r;
}

/* Add the optional expression parts to body; 0 or IG_ERR_NOMEM. */
static int expr(json_t *body, const char *key, const char *text, json_t *names, json_t *values)
{
	if (text != NULL && json_object_set_new(body, key, json_string(text)) != 0)
		return IG_ERR_NOMEM;
	if (names != NULL && json_object_set(body, "ExpressionAttributeNames", names) != 0)
		return IG_ERR_NOMEM;
	if (values != NULL && json_object_set(body, "ExpressionAttributeValues", values) != 0)
		return IG_ERR_NOMEM;
	return 0;
}

/* A write: body built, sent, the (empty) answer dropped. */
static int write_call(const struct ig_ddb *d, const char *op, json_t *body, const char *cond,
                      json_t *names, json_t *values, struct ig_aws_status *st)
{
	json_t *resp = NULL;
	int r;

	if (body != NULL && expr(body, "ConditionExpression", cond, names, values) != 0) {
		json_decref(body);
		body = NULL;
	}
	r = call(d, op, body, &resp, st);
	json_decref(resp);
	json_decref(body);
	return r;
}

int ig_ddb_get(const struct ig_ddb *d, json_t *key, json_t **item, struct ig_aws_status *st)
{
	json_t *body = json_pack("{s:O, s:b}", "Key", key, "ConsistentRead", 1), *resp = NULL;
	int r;

	*item = NULL;
	if ((r = call(d, "GetItem", body, &resp, st)) == 0 && ig_ddb_parse_get(resp, item) != 0) {
		st->err = r = IG_ERR_PARSE;
		st->reason = IG_R_MALFORMED_RESPONSE;
	}
	json_decref(resp);
	json_decref(body);
	return r;
}

int ig_ddb_put(const struct ig_ddb *d, json_t *item, const char *cond, json_t *names,
               json_t *values, struct ig_aws_status *st)
{
	return write_call(d, "PutItem", json_pack("{s:O}", "Item", item), cond, names, values, st);
}

int ig_ddb_update(const struct ig_ddb *d, json_t *key, const char *update, const char *cond,
                  json_t *names, json_t *values, struct ig_aws_status *st)
{
	return write_call(d, "UpdateItem",
	                  json_pack("{s:O, s:s}", "Key", key, "UpdateExpression", update), cond,
	                  names, values, st);
}

int ig_ddb_delete(const struct ig_ddb *d, json_t *key, const char *cond, json_t *names,
                  json_t *values, struct ig_aws_status *st)
{
	return write_call(d, "DeleteItem", json_pack("{s:O}", "Key", key), cond, names, values, st);
}

int ig_ddb_scan(const struct ig_ddb *d, const char *projection, json_t *names, json_t *start,
                json_t **items, json_t **last, struct ig_aws_status *st)
{
	json_t *body = json_pack("{s:b}", "ConsistentRead", 1), *resp = NULL;
	int r;

	*items = *last = NULL;
	if (body != NULL &&
	    (expr(body, "ProjectionExpression", projection, names, NULL) != 0 ||
	     (start != NULL && json_object_set(body, "ExclusiveStartKey", start) != 0))) {
		json_decref(body);
		body = NULL;
	}
	if ((r = call(d, "Scan", body, &resp, st)) == 0 &&
	    ig_ddb_parse_scan(resp, items, last) != 0) {
		st->err = r = IG_ERR_PARSE;
		st->reason = IG_R_MALFORMED_RESPONSE;
	}
	json_decref(resp);
	json_decref(body);
	return r;
}
