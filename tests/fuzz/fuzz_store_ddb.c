/*
 * fuzz_store_ddb.c - libFuzzer target for the shared store's item reader
 * (ig_store_ddb_parse_item, src/aws/store_ddb.c): the input is parsed as
 * JSON, as a GetItem's Item would be, and read as user "alice"'s record.
 * Built and run by tests/fuzz/run.sh.
 *
 * Contracts checked (a broken one aborts): only IG_ERR_PARSE, and then an
 * empty record (never a half-read one); an accepted record is enrolled,
 * every time within 1970..9999, the envelope's parts within their sizes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/store_ddb.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ig_store_ddb_envelope env;
	struct ig_user_record rec, zero;
	json_t *item = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	int r;

	if (item == NULL)
		return 0;
	memset(&zero, 0, sizeof(zero));
	r = ig_store_ddb_parse_item(item, "alice", &rec, &env);
	check(r == 0 || r == IG_ERR_PARSE);
	if (r != 0) {
		check(memcmp(&rec, &zero, sizeof(rec)) == 0);
	} else {
		check(rec.enrolled && env.ver >= 1 && env.edk_len > 0 &&
		      env.edk_len <= sizeof(env.edk) && env.secret_len >= 26 &&
		      env.secret_len <= sizeof(env.secret));
		check(rec.created >= 0 && rec.used_until >= 0 && rec.locked_until >= 0 &&
		      rec.last_login >= 0 && strlen(rec.last_rhost) < sizeof(rec.last_rhost));
	}
	json_decref(item);
	return 0;
}
