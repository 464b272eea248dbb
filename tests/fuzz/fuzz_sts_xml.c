/*
 * fuzz_sts_xml.c - libFuzzer target for the STS response parsers in
 * src/aws/sts.c (AssumeRoleResponse, ErrorResponse, GetCallerIdentityResponse).
 *
 * Build: tests/fuzz/run.sh, which links every unit (binary: build/fuzz/fuzz_sts_xml).
 * Run (grow a scratch copy, not the seed corpus in the repo):
 *   mkdir -p build/h-sts-fuzz/xml && cp -r tests/fuzz/corpus/sts_xml/. build/h-sts-fuzz/xml/
 *   build/fuzz/fuzz_sts_xml -max_total_time=60 -max_len=70000 -dict=tests/fuzz/fuzz_sts_xml.dict build/h-sts-fuzz/xml
 * Replay the seeds and regression cases only:
 *   build/fuzz/fuzz_sts_xml -runs=0 tests/fuzz/corpus/sts_xml
 *
 * Every input goes through all three parsers.  Contracts checked (a broken
 * one aborts, which libFuzzer reports as a crash): only the documented
 * errors; on failure nothing is left allocated or filled in; on success
 * every field passes the same checks the parser promises (character sets,
 * lengths, expiration after the clock).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/sts.h"

#define NOW 1700000000

static void check(int ok)
{
	if (!ok)
		abort();
}

static int printable_no_space(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *xml = (const char *)data;
	struct ig_sts_role_result res;
	struct ig_sts_identity id;
	char code[IG_STS_REASON_MAX], rid[65];
	int r;

	memset(&res, 0, sizeof(res));
	r = ig_sts_parse_assume_role(xml, size, NOW, &res);
	check(r == 0 || r == IG_ERR_PARSE || r == IG_ERR_NOMEM);
	if (r == 0) {
		check(ig_aws_creds_key_id_ok(res.creds.access_key_id));
		check(ig_aws_creds_secret_ok(res.creds.secret_access_key, 128));
		check(res.creds.session_token != NULL &&
		      ig_aws_creds_secret_ok(res.creds.session_token, 8192));
		check(res.creds.expiration > NOW);
		check(res.assumed_role_arn != NULL &&
		      strncmp(res.assumed_role_arn, "arn:", 4) == 0 &&
		      printable_no_space(res.assumed_role_arn));
		check(res.assumed_role_id != NULL && printable_no_space(res.assumed_role_id));
		check(res.source_identity[0] == '\0' || ig_sts_name_valid(res.source_identity));
	} else {
		check(res.creds.session_token == NULL && res.assumed_role_arn == NULL &&
		      res.assumed_role_id == NULL && res.creds.secret_access_key[0] == '\0' &&
		      res.creds.access_key_id[0] == '\0');
	}
	ig_sts_role_result_clear(&res);

	r = ig_sts_parse_error(xml, size, code, sizeof(code), rid, sizeof(rid));
	check(r == 0 || r == IG_ERR_PARSE || r == IG_ERR_NOMEM);
	if (r == 0) {
		size_t n = strlen(code);
		check(n >= 1 && n <= 63);
		for (size_t i = 0; i < n; i++)
			check((code[i] >= 'A' && code[i] <= 'Z') ||
			      (code[i] >= 'a' && code[i] <= 'z') ||
			      (code[i] >= '0' && code[i] <= '9') || code[i] == '.' ||
			      code[i] == '_');
		check(strlen(rid) < sizeof(rid) && printable_no_space(rid));
	} else {
		check(code[0] == '\0');
	}

	memset(&id, 0, sizeof(id));
	r = ig_sts_parse_caller_identity(xml, size, &id);
	check(r == 0 || r == IG_ERR_PARSE || r == IG_ERR_NOMEM);
	if (r == 0)
		check(strlen(id.account) == 12 && printable_no_space(id.arn) &&
		      printable_no_space(id.user_id));
	else
		check(id.arn[0] == '\0' && id.account[0] == '\0' && id.user_id[0] == '\0');
	return 0;
}
