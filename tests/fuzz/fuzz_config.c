/*
 * fuzz_config.c - libFuzzer target for the configuration loader
 * (src/core/config.c with jsonpos and cidr): arbitrary bytes must either load
 * into a consistent configuration or be refused with a message; never a
 * crash, a leak or an unbounded allocation.  Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ig_config *cfg = NULL;
	char err[4096];

	if (ig_config_parse((const char *)data, size, "fuzz.json", &cfg, err, sizeof(err)) == 0) {
		/* Loaded: every reference resolves, and pii roles sit only in pii_group. */
		for (size_t i = 0; i < cfg->n_groups; i++) {
			const struct ig_group *g = &cfg->groups[i];
			for (size_t j = 0; j < g->n_allow; j++)
				if (g->allow[j] >= cfg->n_allowlists)
					abort();
			for (size_t j = 0; j < g->n_roles; j++) {
				if (g->roles[j] >= cfg->n_roles)
					abort();
				if (cfg->roles[g->roles[j]].pii &&
				    (cfg->pii_group == NULL ||
				     strcmp(cfg->pii_group, g->name) != 0))
					abort();
			}
		}
		ig_config_free(cfg);
	} else if (cfg != NULL || err[0] == '\0') {
		abort();
	}
	return 0;
}
