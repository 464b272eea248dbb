/*
 * fuzz_imds_json.c - libFuzzer target for the base-credential parsers in
 * src/aws/creds.c: the IMDS security-credentials JSON (also the cache file
 * format) and, on the same bytes, the shared-credentials INI reader.
 *
 * Build: tests/fuzz/run.sh, which links every unit (binary: build/fuzz/fuzz_imds_json).
 * Run (grow a scratch copy, not the seed corpus in the repo):
 *   mkdir -p build/h-sts-fuzz/json && cp -r tests/fuzz/corpus/imds_json/. build/h-sts-fuzz/json/
 *   build/fuzz/fuzz_imds_json -max_total_time=60 -max_len=20000 -dict=tests/fuzz/fuzz_imds_json.dict build/h-sts-fuzz/json
 * Replay the seeds and regression cases only:
 *   build/fuzz/fuzz_imds_json -runs=0 tests/fuzz/corpus/imds_json
 *
 * Contracts checked (a broken one aborts): only the documented errors; on
 * failure the credentials are empty and nothing is allocated; on success
 * the key id, secret and token pass the credential character checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/creds.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_creds(int r, const struct ig_aws_creds *c, int token_required)
{
	if (r == 0) {
		check(ig_aws_creds_key_id_ok(c->access_key_id));
		check(ig_aws_creds_secret_ok(c->secret_access_key, 128));
		check(!token_required || c->session_token != NULL);
		check(c->session_token == NULL || ig_aws_creds_secret_ok(c->session_token, 8192));
	} else {
		check(c->session_token == NULL && c->access_key_id[0] == '\0' &&
		      c->secret_access_key[0] == '\0' && c->expiration == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ig_aws_creds c;
	unsigned line = 0;
	int r;

	r = ig_creds_parse_imds_json((const char *)data, size, &c);
	check(r == 0 || r == IG_ERR_PARSE || r == IG_ERR_AWS || r == IG_ERR_NOMEM);
	check_creds(r, &c, 1);
	ig_aws_creds_clear(&c);

	r = ig_creds_parse_ini((const char *)data, size, "default", &c, &line);
	check(r == 0 || r == IG_ERR_PARSE || r == IG_ERR_NOTFOUND || r == IG_ERR_NOMEM);
	check(r == IG_ERR_PARSE || line == 0);
	check_creds(r, &c, 0);
	ig_aws_creds_clear(&c);
	return 0;
}
