/*
 * fuzz_store_file.c - libFuzzer target for the file store's record parser
 * (src/core/store_file.c): malformed state is refused and leaves no secret
 * behind; a parsed record is whole.  Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>

#include "iamgate/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ig_user_record rec;
	int r = ig_store_file_parse((const char *)data, size, 30, &rec);

	if (r == 0 && (rec.secret_len < 10 || rec.secret_len > sizeof(rec.secret) ||
	               !rec.enrolled || rec.used_until < 0))
		abort();
	if (r != 0) {
		const uint8_t *p = (const uint8_t *)&rec;

		for (size_t i = 0; i < sizeof(rec); i++)
			if (p[i] != 0)
				abort();
	}
	return 0;
}
