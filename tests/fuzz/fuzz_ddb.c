/*
 * fuzz_ddb.c - libFuzzer target for the DynamoDB response checks
 * (src/aws/ddb.c): the input is parsed as JSON (as the HTTP unit does) and
 * read as a GetItem and as a Scan response; every item handed out is read
 * with each typed getter.  Built and run by tests/fuzz/run.sh.
 *
 * Contracts checked (a broken one aborts): only IG_ERR_PARSE from the
 * parsers, and then nothing handed out; an item handed out passes
 * ig_ddb_item_ok; a getter fails with NOTFOUND or PARSE or returns a value
 * within its limits (S fits and has no NUL, N within [min, max]).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/ddb.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void read_item(const json_t *item)
{
	const char *name;
	json_t *v;
	char s[16];
	uint8_t b[16];
	int64_t n;
	size_t len;
	int r;

	check(ig_ddb_item_ok(item));
	json_object_foreach((json_t *)item, name, v)
	{
		r = ig_ddb_get_s(item, name, s, sizeof(s));
		check(r == IG_ERR_PARSE || (r == 0 && strlen(s) < sizeof(s)));
		r = ig_ddb_get_n(item, name, -1000, 1000, &n);
		check(r == IG_ERR_PARSE || (r == 0 && n >= -1000 && n <= 1000));
		r = ig_ddb_get_b(item, name, b, sizeof(b), &len);
		check(r == IG_ERR_PARSE || (r == 0 && len <= sizeof(b)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *resp = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	json_t *item = NULL, *items = NULL, *last = NULL, *e;
	size_t i;
	int r;

	if (resp == NULL)
		return 0;
	r = ig_ddb_parse_get(resp, &item);
	check(r == 0 || (r == IG_ERR_PARSE && item == NULL));
	if (item != NULL)
		read_item(item);
	r = ig_ddb_parse_scan(resp, &items, &last);
	check(r == 0 || (r == IG_ERR_PARSE && items == NULL && last == NULL));
	if (r == 0) {
		check(json_is_array(items));
		json_array_foreach(items, i, e)
		{
			read_item(e);
		}
		if (last != NULL)
			read_item(last);
	}
	json_decref(item);
	json_decref(items);
	json_decref(last);
	json_decref(resp);
	return 0;
}
