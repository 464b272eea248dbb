/*
 * fuzz_totp_state.c - libFuzzer target for the per-user TOTP state file
 * parser (src/core/totp.c): malformed state is refused and leaves no secret
 * behind.  Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>

#include "iamgate/totp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ig_totp_state st;
	uint8_t secret[IG_TOTP_SECRET_MAX];
	size_t n = 0;
	int r = ig_totp_parse_state((const char *)data, size, &st, secret, sizeof(secret), &n);

	if (r == 0 && (n < 10 || n > sizeof(secret) || !st.enrolled))
		abort();
	if (r != 0) {
		if (n != 0 || st.enrolled)
			abort();
		for (size_t i = 0; i < sizeof(secret); i++)
			if (secret[i] != 0)
				abort();
	}
	return 0;
}
