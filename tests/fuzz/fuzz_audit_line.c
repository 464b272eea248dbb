/*
 * fuzz_audit_line.c - libFuzzer target for one audit line: the strict
 * parser (seal included), the syslog text, and the `show` time parser.
 * tests/fuzz/run.sh builds and runs it (make fuzz).
 *
 * What it checks on every input:
 *  - ig_audit_line_parse on each of the first lines: a record has its
 *    fields, a refusal leaves no object and a terminated reason; a sealed
 *    record's MAC covers a prefix of the line that ends before ,"seal":.
 *  - for each record, the syslog text is printable ASCII only (nothing from
 *    the log can reach syslog as a control character) and NUL-terminated.
 *  - ig_audit_line_parse_time on the first bytes as a string: no crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/audit_line.h"

#define MAX_LINES_CHECKED 64

static void check_syslog(const char *line, size_t n)
{
	char text[600];

	memset(text, 'Z', sizeof(text));
	if (ig_audit_line_syslog(line, n, text, sizeof(text)) != 0)
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

static void check_line(const char *p, size_t n)
{
	struct ig_audit_record rec;
	char why[128];

	if (ig_audit_line_parse(p, n, &rec, why, sizeof(why)) != 0) {
		if (rec.obj != NULL || memchr(why, '\0', sizeof(why)) == NULL)
			abort();
		return;
	}
	if (rec.obj == NULL || rec.seq == 0 || strlen(rec.prev) != 64)
		abort();
	if (rec.sealed &&
	    (rec.sealed_len >= n || memcmp(p + rec.sealed_len, ",\"seal\":\"", 9) != 0))
		abort();
	ig_audit_line_clear(&rec);
	check_syslog(p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t off = 0;
	char s[65];
	int64_t t;
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;

	for (int i = 0; i < MAX_LINES_CHECKED && off < size; i++) {
		const char *nl = memchr(buf + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (buf + off)) : size - off;
		check_line(buf + off, len);
		off += len + 1;
	}
	memcpy(s, data, n);
	s[n] = '\0';
	(void)ig_audit_line_parse_time(s, 0, 1795910400000LL, 0, &t);
	(void)ig_audit_line_parse_time(s, 1, 1795910400000LL, 1, &t);
	return 0;
}
