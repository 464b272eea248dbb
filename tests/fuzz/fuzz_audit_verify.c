/*
 * fuzz_audit_verify.c - libFuzzer target for the audit log's chain check
 * and its seal walk.  tests/fuzz/run.sh builds and runs it (make fuzz).
 *
 * What it checks on every input:
 *  - ig_audit_verify_buf on the bytes as a whole log: no crash, no leak; the
 *    result is self-consistent (intact <=> no bad line; a bad line has a
 *    kind, `what` starts with it, line numbers are within the lines read).
 *  - an independent oracle: whenever verify says "intact", every line parses,
 *    the first is log_start, seq goes up by one, each prev is the SHA-256 of
 *    the line before, and the last line ends in a newline.
 *  - the seal walk with a fixed verification key: no crash, line numbers
 *    within the lines read, messages terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "iamgate/audit_verify.h"
#include "iamgate/util.h"

/* The seal walk on the same bytes, with a fixed verification key: no crash,
 * no leak, a self-consistent result. */
static void check_seal(const char *buf, size_t len)
{
	struct ig_audit_seal_vkey vk;
	struct ig_audit_verify_seal vs;
	struct ig_audit_verify_result res;
	const struct ig_audit_seal_result *s = &vs.seal;

	memset(&vk, 0, sizeof(vk));
	memset(vk.seed, 0x42, sizeof(vk.seed));
	vk.start_s = 1795910400;
	vk.epoch_s = 900;
	memset(&vs, 0, sizeof(vs));
	vs.vk = &vk;
	vs.now_ms = 1795910400000LL + 3600 * 1000;
	(void)ig_audit_verify_buf(buf, len, &res, &vs);
	if (s->proven_line > res.lines || s->bad_line > res.lines ||
	    (s->stop_line > res.lines + 1) || (!s->found && (s->proven_line || s->bad_line)) ||
	    memchr(s->what, '\0', sizeof(s->what)) == NULL ||
	    memchr(s->stop_what, '\0', sizeof(s->stop_what)) == NULL)
		abort();
}

/* verify said intact: check it independently. */
static void oracle_intact(const char *buf, size_t len)
{
	unsigned char md[32];
	char prev_hex[65];
	size_t off = 0;
	uint64_t seq = 0;
	int first = 1;

	if (len == 0)
		return;
	if (buf[len - 1] != '\n')
		abort();
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = (size_t)(nl - (buf + off));
		struct ig_audit_record rec;
		unsigned int k = 0;

		if (ig_audit_line_parse(buf + off, n, &rec, NULL, 0) != 0)
			abort();
		if (first) {
			if (strcmp(rec.event, "log_start") != 0)
				abort();
		} else if (rec.seq != seq + 1 || strcmp(rec.prev, prev_hex) != 0) {
			abort();
		}
		seq = rec.seq;
		first = 0;
		ig_audit_line_clear(&rec);
		if (EVP_Digest(buf + off, n, md, &k, EVP_sha256(), NULL) != 1)
			abort();
		ig_hex(md, 32, prev_hex);
		off += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct ig_audit_verify_result res;
	size_t off = 0;
	int r;

	r = ig_audit_verify_buf(buf, size, &res, NULL);
	if (r == 0) {
		if (res.bad_line != 0 || res.kind[0] != '\0' || res.broken_line != 0)
			abort();
		oracle_intact(buf, size);
	} else {
		if (r != IG_ERR_PARSE || res.bad_line == 0 || res.bad_line > res.lines ||
		    res.kind[0] == '\0' || strncmp(res.what, res.kind, strlen(res.kind)) != 0 ||
		    res.broken_line > res.lines || memchr(res.what, '\0', sizeof(res.what)) == NULL)
			abort();
	}

	check_seal(buf, size);
	return 0;
}
