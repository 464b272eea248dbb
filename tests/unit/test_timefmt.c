/*
 * test_timefmt.c - the ISO 8601 reader and writer: the AWS UTC form (every
 * digit, range and calendar refusal), the full grammar (date alone, space
 * separator, offsets, fractions), local time through TZ, and formatting
 * round trips over the whole range of years.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "iamgate/timefmt.h"

static void test_parse_utc(void **state)
{
	static const struct {
		const char *s;
		int ok;
		int64_t t;
	} cases[] = {
	        {"2023-11-14T22:13:20Z", 1, 1700000000},
	        {"2023-11-14T22:13:20.123Z", 1, 1700000000},
	        {"2023-11-14T22:13:20.123456789Z", 1, 1700000000},
	        {"1970-01-01T00:00:00Z", 1, 0},
	        {"2024-02-29T00:00:00Z", 1, 1709164800},
	        {"2000-02-29T12:00:00Z", 1, 951825600},
	        {"9999-12-31T23:59:59Z", 1, INT64_C(253402300799)},
	        {"2023-02-29T00:00:00Z", 0, 0},
	        {"1900-02-29T00:00:00Z", 0, 0},
	        {"2023-11-14T22:13:20", 0, 0},
	        {"2023-11-14T22:13:20+00:00", 0, 0},
	        {"2023-11-14 22:13:20Z", 0, 0},
	        {"2023-11-14T22:13Z", 0, 0},
	        {"2023-11-14Z", 0, 0},
	        {"2023-13-14T22:13:20Z", 0, 0},
	        {"2023-00-14T22:13:20Z", 0, 0},
	        {"2023-11-31T22:13:20Z", 0, 0},
	        {"2023-04-31T00:00:00Z", 0, 0},
	        {"2023-11-14T24:00:00Z", 0, 0},
	        {"2023-11-14T22:60:00Z", 0, 0},
	        {"2023-11-14T22:13:60Z", 0, 0},
	        {"2023-11-14T22:13:20.Z", 0, 0},
	        {"2023-11-14T22:13:20.1234567890Z", 0, 0},
	        {"2023-11-14T22:13:20Zjunk", 0, 0},
	        {"2023-11-14T22:13:20z", 0, 0},
	        {"1969-12-31T23:59:59Z", 0, 0},
	        {"+023-11-14T22:13:20Z", 0, 0},
	        {"2023-1-14T22:13:20Z", 0, 0},
	        {"2023-11-14T2:13:20Z", 0, 0},
	        {"2023-11-14T22:13:-1Z", 0, 0},
	        {"2023-11-14T22:13:20.12345678901234567890123Z", 0, 0},
	        {"", 0, 0},
	};
	int64_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = ig_timefmt_parse_utc(cases[i].s, &t);
		if ((r == 0) != cases[i].ok || (cases[i].ok && t != cases[i].t) ||
		    (!cases[i].ok && t != 0))
			fail_msg("case %zu (%s): r=%d t=%lld", i, cases[i].s, r, (long long)t);
	}
	assert_int_equal(ig_timefmt_parse_utc(NULL, &t), IG_ERR_PARSE);
}

/* The grammar beyond the AWS form: what each part records. */
static void test_scan_parts(void **state)
{
	struct ig_timefmt t;
	int64_t ms;

	(void)state;
	assert_int_equal(ig_timefmt_scan("2024-03-05", &t), 0);
	assert_int_equal(t.sep, '\0');
	assert_int_equal(t.zone, IG_TIMEFMT_ZONE_NONE);
	assert_int_equal(t.year * 10000 + t.month * 100 + t.day, 20240305);
	assert_int_equal(ig_timefmt_to_ms(&t, 0, &ms), 0);
	assert_int_equal(ms, INT64_C(1709596800000));

	assert_int_equal(ig_timefmt_scan("2024-03-05 07:08", &t), 0);
	assert_int_equal(t.sep, ' ');
	assert_false(t.has_seconds);
	assert_int_equal(t.hour * 100 + t.minute, 708);

	assert_int_equal(ig_timefmt_scan("2024-03-05T07:08:09.5Z", &t), 0);
	assert_true(t.has_seconds);
	assert_int_equal(t.frac_digits, 1);
	assert_int_equal(t.ms, 500);
	assert_int_equal(t.zone, IG_TIMEFMT_ZONE_Z);
	assert_int_equal(ig_timefmt_scan("2024-03-05T07:08:09.0123456Z", &t), 0);
	assert_int_equal(t.frac_digits, 7);
	assert_int_equal(t.ms, 12);

	/* Offsets with and without the colon, both signs. */
	assert_int_equal(ig_timefmt_scan("2024-03-05T09:08:09+02:00", &t), 0);
	assert_int_equal(t.zone, IG_TIMEFMT_ZONE_OFFSET);
	assert_int_equal(t.offset_s, 7200);
	assert_int_equal(ig_timefmt_to_ms(&t, 1, &ms), 0); /* the zone wins over local */
	assert_int_equal(ms, INT64_C(1709622489000));
	assert_int_equal(ig_timefmt_scan("2024-03-05T01:38:09-0530", &t), 0);
	assert_int_equal(t.offset_s, -19800);
	assert_int_equal(ig_timefmt_to_ms(&t, 0, &ms), 0);
	assert_int_equal(ms, INT64_C(1709622489000));
	/* A date with a zone is midnight there. */
	assert_int_equal(ig_timefmt_scan("2024-03-05Z", &t), 0);
	assert_int_equal(t.zone, IG_TIMEFMT_ZONE_Z);
}

static void test_scan_refusals(void **state)
{
	static const char *const bad[] = {
	        "2024-03-05T",
	        "2024-03-05T07",
	        "2024-03-05T07:8",
	        "2024-03-05X07:08",
	        "2024-03-05T07:08:",
	        "2024-03-05T07:08:09.",
	        "2024-03-05T07:08+2",
	        "2024-03-05T07:08+24:00",
	        "2024-03-05T07:08+02:60",
	        "2024-03-05T07:08+02:0",
	        "2024-03-05T07:08+02:00x",
	        "2024-03-05T07:08ZZ",
	        "2024-03-05  07:08",
	        " 2024-03-05",
	        "2024-03-05 ",
	        "2024/03/05",
	        "10000-01-01",
	        "2024-03-05T07:08:09.1234567890",
	        "2024-03-05T07:08:09.123456789012345678901234",
	};
	struct ig_timefmt t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&t, 0x5a, sizeof(t));
		if (ig_timefmt_scan(bad[i], &t) != IG_ERR_PARSE)
			fail_msg("accepted: \"%s\"", bad[i]);
		assert_int_equal(t.year, 0); /* nothing half-filled */
	}
	assert_int_equal(ig_timefmt_scan(NULL, &t), IG_ERR_PARSE);
	assert_int_equal(ig_timefmt_scan("2024-03-05", NULL), IG_ERR_PARSE);
}

/* Local time follows TZ; a wall time inside a DST gap does not exist. */
static void test_local(void **state)
{
	struct ig_timefmt t;
	int64_t ms;
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	(void)state;
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	assert_int_equal(ig_timefmt_scan("2024-03-05 09:00", &t), 0);
	assert_int_equal(ig_timefmt_to_ms(&t, 1, &ms), 0);
	assert_int_equal(ms, INT64_C(1709596800000));
	assert_int_equal(ig_timefmt_to_ms(&t, 0, &ms), 0); /* local = 0: UTC */
	assert_int_equal(ms, INT64_C(1709629200000));
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	assert_int_equal(ig_timefmt_scan("2024-03-31T02:30:00", &t), 0);
	assert_int_equal(ig_timefmt_to_ms(&t, 1, &ms), IG_ERR_PARSE);
	assert_int_equal(ig_timefmt_scan("2024-03-31T03:30:00", &t), 0);
	assert_int_equal(ig_timefmt_to_ms(&t, 1, &ms), 0);
	assert_int_equal(ms, INT64_C(1711848600000));
	if (old != NULL) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

static void test_format(void **state)
{
	static const int64_t samples[] = {0,
	                                  1000,
	                                  INT64_C(951825600000),
	                                  INT64_C(1700000000123),
	                                  INT64_C(1709164800999),
	                                  INT64_C(4102444800000),
	                                  INT64_C(253402300799999)};
	char buf[32], small[20];
	int64_t back;

	(void)state;
	assert_int_equal(ig_timefmt_format(INT64_C(1700000000123), 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2023-11-14T22:13:20Z");
	assert_int_equal(ig_timefmt_format(INT64_C(1700000000123), 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2023-11-14T22:13:20.123Z");
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct ig_timefmt t;
		assert_int_equal(ig_timefmt_format(samples[i], 1, buf, sizeof(buf)), 0);
		assert_int_equal(ig_timefmt_scan(buf, &t), 0);
		assert_int_equal(ig_timefmt_to_ms(&t, 0, &back), 0);
		assert_int_equal(back, samples[i]);
		assert_int_equal(ig_timefmt_format(samples[i], 0, buf, sizeof(buf)), 0);
		assert_int_equal(ig_timefmt_parse_utc(buf, &back), 0);
		assert_int_equal(back, samples[i] / 1000);
	}
	/* Every day of a leap year and the next one round-trips. */
	for (int64_t d = 19722; d < 19722 + 731; d++) {
		assert_int_equal(ig_timefmt_format(d * 86400000 + 43200000, 0, buf, sizeof(buf)),
		                 0);
		assert_int_equal(ig_timefmt_parse_utc(buf, &back), 0);
		assert_int_equal(back, d * 86400 + 43200);
	}
	assert_int_equal(ig_timefmt_format(-1, 0, buf, sizeof(buf)), IG_ERR_RANGE);
	assert_string_equal(buf, "");
	assert_int_equal(ig_timefmt_format(INT64_C(253402300800000), 0, buf, sizeof(buf)),
	                 IG_ERR_RANGE);
	assert_int_equal(ig_timefmt_format(0, 1, small, sizeof(small)), IG_ERR_RANGE);
	assert_string_equal(small, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_utc),     cmocka_unit_test(test_scan_parts),
	        cmocka_unit_test(test_scan_refusals), cmocka_unit_test(test_local),
	        cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
