/*
 * ddb.h - the DynamoDB client: the item operations of one table (GetItem,
 * PutItem, UpdateItem, DeleteItem, Scan), JSON 1.0 through the HTTP unit
 * (http.h: its transport rules, retries and time limit hold here).
 *
 * Items are jansson objects in DynamoDB's attribute-value form
 * ({"user": {"S": "alice"}, "ver": {"N": "3"}}).  Every item taken from a
 * response is checked before it is handed out (ig_ddb_item_ok), and typed
 * getters check each value again on the way out: a table edited by hand
 * to garbage is refused, never crashed on.  Expressions and their names and
 * values are the caller's; a failed ConditionExpression is IG_ERR_CONFLICT
 * (aws_error ConditionalCheckFailedException), any other failure the HTTP
 * unit's err and reason, the AWS code in st->aws_error.
 */
#ifndef IAMGATE_DDB_H
#define IAMGATE_DDB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "iamgate/error.h"
#include "iamgate/http.h"

#define IG_DDB_MAX_RESPONSE (1u << 20) /* one response body (Scan pages are <= 1 MB) */
#define IG_DDB_MAX_DEPTH 8             /* nesting of M and L values accepted */
#define IG_DDB_MAX_STRING 4096         /* one S/N value we read back */

struct ig_ddb {
	/* endpoint ("https://dynamodb.REGION.amazonaws.com"), region, ca_file,
	 * timeouts; service, proto and max_response are set by each call. */
	struct ig_http_config http;
	const struct ig_aws_creds *creds;
	const char *table; /* 3..255 of [A-Za-z0-9_.-] */
};

/* 1 if name is a valid table name. */
int ig_ddb_table_ok(const char *name);

/*
 * GetItem with ConsistentRead: *item is the item (checked; json_decref it)
 * or NULL when there is none.  0 or an IG_ERR_*.
 */
int ig_ddb_get(const struct ig_ddb *d, json_t *key, json_t **item,
               struct ig_aws_status *st) IG_MUST_CHECK;

/*
 * PutItem / UpdateItem / DeleteItem.  cond (NULL: none) is a
 * ConditionExpression; names and values (NULL: none, borrowed) its
 * ExpressionAttributeNames and ExpressionAttributeValues.  A condition
 * that does not hold: IG_ERR_CONFLICT.
 */
int ig_ddb_put(const struct ig_ddb *d, json_t *item, const char *cond, json_t *names,
               json_t *values, struct ig_aws_status *st) IG_MUST_CHECK;
int ig_ddb_update(const struct ig_ddb *d, json_t *key, const char *update, const char *cond,
                  json_t *names, json_t *values, struct ig_aws_status *st) IG_MUST_CHECK;
int ig_ddb_delete(const struct ig_ddb *d, json_t *key, const char *cond, json_t *names,
                  json_t *values, struct ig_aws_status *st) IG_MUST_CHECK;

/*
 * One Scan page with ConsistentRead, projecting projection (NULL: all;
 * names as above).  start is NULL or the previous page's *last.  *items
 * (an array of checked items) and *last (NULL on the last page) are new
 * references.
 */
int ig_ddb_scan(const struct ig_ddb *d, const char *projection, json_t *names, json_t *start,
                json_t **items, json_t **last, struct ig_aws_status *st) IG_MUST_CHECK;

/* Attribute values, new references (NULL when out of memory or when s is
 * not valid UTF-8). */
json_t *ig_ddb_s(const char *s);
json_t *ig_ddb_n(int64_t n);
json_t *ig_ddb_b(const uint8_t *data, size_t len);

/*
 * Typed reads of item[name]: IG_ERR_NOTFOUND when absent, IG_ERR_PARSE when
 * of another type or malformed.  S: 0..cap-1 bytes with no NUL; N: a plain
 * decimal integer (optional '-', no leading zeros, no exponent or
 * fraction) within [min, max]; B: strict base64 of at most cap bytes (out
 * wiped on failure).
 */
int ig_ddb_get_s(const json_t *item, const char *name, char *buf, size_t cap) IG_MUST_CHECK;
int ig_ddb_get_n(const json_t *item, const char *name, int64_t min, int64_t max,
                 int64_t *out) IG_MUST_CHECK;
int ig_ddb_get_b(const json_t *item, const char *name, uint8_t *out, size_t cap,
                 size_t *len) IG_MUST_CHECK;

/*
 * 1 if v is an item: an object of 1..(at most 1024) attribute names (1..255
 * bytes) whose values each are an object with exactly one type key (S, N,
 * B, BOOL, NULL, M, L, SS, NS, BS) of the right JSON type, nested at most
 * IG_DDB_MAX_DEPTH deep.
 */
int ig_ddb_item_ok(const json_t *v);

/*
 * The response parsers, exposed for tests and fuzzing: a GetItem response
 * ({} or {"Item": ...}) into *item (NULL when absent), a Scan page ({"Items":
 * [...], "Count": n, "LastEvaluatedKey": ...}) into *items and *last.
 * 0 or IG_ERR_PARSE (nothing returned).
 */
int ig_ddb_parse_get(const json_t *resp, json_t **item) IG_MUST_CHECK;
int ig_ddb_parse_scan(const json_t *resp, json_t **items, json_t **last) IG_MUST_CHECK;

#endif
