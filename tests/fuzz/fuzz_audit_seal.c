/*
 * fuzz_audit_seal.c - libFuzzer target for the sealing key's two texts: the
 * key file and the verification key.  tests/fuzz/run.sh builds and runs it.
 *
 * What it checks on every input:
 *  - ig_audit_seal_key_parse: a key accepted formats back and parses to the
 *    same key (epoch 0 keys also through the verification key text); a key
 *    refused is wiped.
 *  - ig_audit_seal_vkey_parse on the bytes as a string: accepted or wiped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/audit_seal.h"

static int all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ig_audit_seal_key k;
	struct ig_audit_seal_vkey vk, vk2;
	char text[IG_AUDIT_SEAL_VKEY_MAX + 1], s[IG_AUDIT_SEAL_VKEY_MAX + 8];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;

	if (ig_audit_seal_key_parse((const char *)data, size, &k) == 0) {
		if (k.epoch_s < IG_AUDIT_SEAL_EPOCH_MIN || k.epoch_s > IG_AUDIT_SEAL_EPOCH_MAX)
			abort();
		if (k.epoch == 0 && ig_audit_seal_vkey_format(&k, text, sizeof(text)) == 0) {
			if (ig_audit_seal_vkey_parse(text, &vk2) != 0 ||
			    memcmp(vk2.seed, k.key, sizeof(k.key)) != 0 ||
			    vk2.start_s != k.start_s || vk2.epoch_s != k.epoch_s)
				abort();
		}
	} else if (!all_zero(&k, sizeof(k))) {
		abort();
	}
	memcpy(s, data, n);
	s[n] = '\0';
	if (ig_audit_seal_vkey_parse(s, &vk) != 0 && !all_zero(&vk, sizeof(vk)))
		abort();
	return 0;
}
