/*
 * fuzz_protocol.c - libFuzzer target for the module <-> helper messages:
 * the request parser the helper uses and the reply checker the module uses
 * (src/base/protocol.c).  Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "iamgate/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ig_proto_request rq;
	json_t *j;

	if (size > IG_PROTO_MAX_REPLY)
		return 0;
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (j == NULL)
		return 0;
	if (ig_proto_parse_request(j, &rq) == 0) {
		/* Accepted requests carry the required fields, bounded. */
		if (rq.phase == NULL || rq.config == NULL || rq.user == NULL ||
		    strlen(rq.user) > IG_PROTO_MAX_FIELD)
			abort();
	}
	if (ig_proto_reply_ok(j)) {
		const json_t *g = json_object_get(j, "grant");
		if (g && !ig_proto_id_ok(json_string_value(g)))
			abort();
	}
	json_decref(j);
	return 0;
}
