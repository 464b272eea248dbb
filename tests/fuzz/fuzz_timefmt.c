/*
 * fuzz_timefmt.c - libFuzzer target for the ISO 8601 reader
 * (src/base/timefmt.c).  Built and run by tests/fuzz/run.sh.
 *
 * Contracts checked (a broken one aborts): only IG_ERR_PARSE as an error,
 * and then nothing filled in; an accepted time has its fields in range and
 * a real calendar day; the AWS reader accepts exactly the scans with 'T',
 * seconds and 'Z'; and what the writer prints from an accepted UTC time
 * reads back as the same instant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/timefmt.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[IG_TIMEFMT_MAX_TEXT + 8], out[32];
	struct ig_timefmt t, zero, back;
	int64_t ms, ms2, secs;
	int r, aws;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&zero, 0, sizeof(zero));
	r = ig_timefmt_scan(s, &t);
	check(r == 0 || r == IG_ERR_PARSE);
	aws = ig_timefmt_parse_utc(s, &secs) == 0;
	if (r != 0) {
		check(memcmp(&t, &zero, sizeof(t)) == 0);
		check(!aws && secs == 0);
		return 0;
	}
	check(t.year >= 1970 && t.year <= 9999 && t.month >= 1 && t.month <= 12 && t.day >= 1 &&
	      t.day <= 31 && t.hour <= 23 && t.minute <= 59 && t.second <= 59 && t.ms >= 0 &&
	      t.ms <= 999 && t.frac_digits <= 9);
	check(aws == (t.sep == 'T' && t.has_seconds && t.zone == IG_TIMEFMT_ZONE_Z));
	check(ig_timefmt_to_ms(&t, 0, &ms) == 0);
	if (ms < 0 || ig_timefmt_format(ms, 1, out, sizeof(out)) != 0)
		return 0; /* an offset moved it outside 1970..9999 */
	check(ig_timefmt_scan(out, &back) == 0 && ig_timefmt_to_ms(&back, 0, &ms2) == 0);
	check(ms2 == ms);
	if (aws)
		check(secs == ms / 1000);
	return 0;
}
