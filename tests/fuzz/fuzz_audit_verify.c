/*
 * fuzz_audit.c - libFuzzer target for the audit log's line parser, chain
 * verifier, syslog rendering and `show` time parser.
 *
 * Build and run (from the repo root; crashers land in build/h-audit/):
 *   mkdir -p build/h-audit/fuzz-corpus && \
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude \
 *     tests/fuzz/fuzz_audit.c src/core/audit.c src/base/util.c src/base/error.c \
 *     $(pkg-config --cflags --libs jansson libcrypto) -o build/h-audit/fuzz_audit && \
 *   build/h-audit/fuzz_audit -max_total_time=60 -max_len=65536 \
 *     -artifact_prefix=build/h-audit/ build/h-audit/fuzz-corpus tests/fuzz/corpus/audit
 *
 * What it checks on every input:
 *  - ig_audit_verify_buf on the bytes as a whole log: no crash, no leak; the
 *    result is self-consistent (intact <=> no bad line; a bad line has a
 *    kind, `what` starts with it, line numbers are within the lines read).
 *  - an independent oracle: whenever verify says "intact", every line parses,
 *    the first is log_start, seq goes up by one, each prev is the SHA-256 of
 *    the line before, and the last line ends in a newline.
 *  - ig_audit_parse_line on each of the first lines; for each record, the
 *    syslog text is printable ASCII only (nothing from the log can reach
 *    syslog as a control character) and NUL-terminated within its buffer.
 *  - ig_audit_parse_time on the first bytes as a string: no crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "iamgate/audit.h"
#include "iamgate/util.h"

#define MAX_LINES_CHECKED 64

static void check_syslog(const char *line, size_t n)
{
	char text[600];

	memset(text, 'Z', sizeof(text));
	if (ig_audit_syslog_text(line, n, text, sizeof(text)) != 0)
		return;
	for (size_t i = 0;; i++) {
		if (i >= sizeof(text))
			abort(); /* not terminated */
		if (text[i] == '\0')
			break;
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f)
			abort();
	}
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

		if (ig_audit_parse_line(buf + off, n, &rec, NULL, 0) != 0)
			abort();
		if (first) {
			if (strcmp(rec.event, "log_start") != 0)
				abort();
		} else if (rec.seq != seq + 1 || strcmp(rec.prev, prev_hex) != 0) {
			abort();
		}
		seq = rec.seq;
		first = 0;
		ig_audit_record_clear(&rec);
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

	r = ig_audit_verify_buf(buf, size, &res);
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

	for (int i = 0; i < MAX_LINES_CHECKED && off < size; i++) {
		const char *nl = memchr(buf + off, '\n', size - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : size - off;
		struct ig_audit_record rec;
		char why[128];

		if (ig_audit_parse_line(buf + off, n, &rec, why, sizeof(why)) == 0) {
			if (rec.obj == NULL || rec.seq == 0 || strlen(rec.prev) != 64)
				abort();
			ig_audit_record_clear(&rec);
			check_syslog(buf + off, n);
		} else if (rec.obj != NULL || memchr(why, '\0', sizeof(why)) == NULL) {
			abort();
		}
		off += n + 1;
	}

	{
		char s[65];
		int64_t t;
		size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
		memcpy(s, data, n);
		s[n] = '\0';
		(void)ig_audit_parse_time(s, 0, 1795910400000LL, 0, &t);
		(void)ig_audit_parse_time(s, 1, 1795910400000LL, 1, &t);
	}
	return 0;
}
