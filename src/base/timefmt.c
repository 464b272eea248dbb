/*
 * timefmt.c - ISO 8601 times (see timefmt.h).
 *
 * UTC is plain arithmetic on the proleptic Gregorian calendar (Howard
 * Hinnant's days_from_civil / civil_from_days), so the result does not
 * depend on TZ or on the C library's timegm; only a zone-less time read as
 * local time goes through mktime.
 */
#include <string.h>
#include <time.h>

#include "iamgate/timefmt.h"
#include "iamgate/util.h"

#define YEAR_MIN 1970
#define YEAR_MAX 9999
#define MS_PER_DAY INT64_C(86400000)

/* n decimal digits at s into *out; 0 or IG_ERR_PARSE. */
static int digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return IG_ERR_PARSE;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The date of a day number (>= 0). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = z / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

/* "YYYY-MM-DD" at s; *i moves past it. */
static int scan_date(const char *s, size_t n, size_t *i, struct ig_timefmt *t)
{
	if (n < 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &t->year) != 0 ||
	    digits(s + 5, 2, &t->month) != 0 || digits(s + 8, 2, &t->day) != 0)
		return IG_ERR_PARSE;
	if (t->year < YEAR_MIN || t->year > YEAR_MAX || t->month < 1 || t->month > 12 ||
	    t->day < 1 || t->day > days_in_month(t->year, t->month))
		return IG_ERR_PARSE;
	*i = 10;
	return 0;
}

/* SEP "hh:mm[:ss[.fraction]]" at s + *i. */
static int scan_clock(const char *s, size_t n, size_t *i, struct ig_timefmt *t)
{
	size_t k = *i;

	if (n < k + 6 || (s[k] != 'T' && s[k] != ' ') || s[k + 3] != ':' ||
	    digits(s + k + 1, 2, &t->hour) != 0 || digits(s + k + 4, 2, &t->minute) != 0)
		return IG_ERR_PARSE;
	t->sep = s[k];
	k += 6;
	if (k < n && s[k] == ':') {
		if (n < k + 3 || digits(s + k + 1, 2, &t->second) != 0)
			return IG_ERR_PARSE;
		t->has_seconds = 1;
		k += 3;
		if (k < n && s[k] == '.') {
			for (k++; k < n && s[k] >= '0' && s[k] <= '9'; k++) {
				if (++t->frac_digits > 9)
					return IG_ERR_PARSE;
				if (t->frac_digits <= 3)
					t->ms = t->ms * 10 + (s[k] - '0');
			}
			if (t->frac_digits == 0)
				return IG_ERR_PARSE;
			for (int f = t->frac_digits; f < 3; f++)
				t->ms *= 10;
		}
	}
	if (t->hour > 23 || t->minute > 59 || t->second > 59)
		return IG_ERR_PARSE;
	*i = k;
	return 0;
}

/* "Z" or "+hh:mm" / "-hhmm" at s + *i. */
static int scan_zone(const char *s, size_t n, size_t *i, struct ig_timefmt *t)
{
	size_t k = *i, colon;
	int oh, om;

	if (k == n)
		return 0;
	if (s[k] == 'Z') {
		t->zone = IG_TIMEFMT_ZONE_Z;
		*i = k + 1;
		return 0;
	}
	if ((s[k] != '+' && s[k] != '-') || n < k + 5)
		return IG_ERR_PARSE;
	colon = s[k + 3] == ':' ? 1 : 0;
	if (n < k + 5 + colon || digits(s + k + 1, 2, &oh) != 0 ||
	    digits(s + k + 3 + colon, 2, &om) != 0 || oh > 23 || om > 59)
		return IG_ERR_PARSE;
	t->zone = IG_TIMEFMT_ZONE_OFFSET;
	t->offset_s = (oh * 60 + om) * 60 * (s[k] == '-' ? -1 : 1);
	*i = k + 5 + colon;
	return 0;
}

int ig_timefmt_scan(const char *s, struct ig_timefmt *out)
{
	struct ig_timefmt t;
	size_t n, i = 0;

	memset(&t, 0, sizeof(t));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL || out == NULL ||
	    (n = strnlen(s, IG_TIMEFMT_MAX_TEXT + 1)) > IG_TIMEFMT_MAX_TEXT)
		return IG_ERR_PARSE;
	if (scan_date(s, n, &i, &t) != 0)
		return IG_ERR_PARSE;
	if (i < n && (s[i] == 'T' || s[i] == ' ') && scan_clock(s, n, &i, &t) != 0)
		return IG_ERR_PARSE;
	if (scan_zone(s, n, &i, &t) != 0 || i != n)
		return IG_ERR_PARSE;
	*out = t;
	return 0;
}

/* Local wall time through mktime; the round trip refuses a DST gap. */
static int local_ms(const struct ig_timefmt *t, int64_t *out_ms)
{
	struct tm tm, back;
	time_t s;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = t->year - 1900;
	tm.tm_mon = t->month - 1;
	tm.tm_mday = t->day;
	tm.tm_hour = t->hour;
	tm.tm_min = t->minute;
	tm.tm_sec = t->second;
	tm.tm_isdst = -1;
	if ((s = mktime(&tm)) == (time_t)-1 || localtime_r(&s, &back) == NULL ||
	    back.tm_year != tm.tm_year || back.tm_mon != tm.tm_mon || back.tm_mday != tm.tm_mday ||
	    back.tm_hour != t->hour || back.tm_min != t->minute)
		return IG_ERR_PARSE;
	*out_ms = (int64_t)s * 1000 + t->ms;
	return 0;
}

int ig_timefmt_to_ms(const struct ig_timefmt *t, int local, int64_t *out_ms)
{
	int64_t day;

	*out_ms = 0;
	if (t == NULL || t->year < YEAR_MIN || t->year > YEAR_MAX || t->month < 1 ||
	    t->month > 12 || t->day < 1 || t->day > days_in_month(t->year, t->month))
		return IG_ERR_PARSE;
	if (local && t->zone == IG_TIMEFMT_ZONE_NONE)
		return local_ms(t, out_ms);
	day = days_from_civil(t->year, (unsigned)t->month, (unsigned)t->day);
	*out_ms = day * MS_PER_DAY +
	          ((int64_t)t->hour * 3600 + t->minute * 60 + t->second - t->offset_s) * 1000 +
	          t->ms;
	return 0;
}

int ig_timefmt_parse_utc(const char *s, int64_t *out)
{
	struct ig_timefmt t;
	int64_t ms;

	*out = 0;
	if (ig_timefmt_scan(s, &t) != 0 || t.sep != 'T' || !t.has_seconds ||
	    t.zone != IG_TIMEFMT_ZONE_Z || ig_timefmt_to_ms(&t, 0, &ms) != 0)
		return IG_ERR_PARSE;
	*out = ms / 1000;
	return 0;
}

int ig_timefmt_format(int64_t ms, int with_ms, char *buf, size_t cap)
{
	int64_t day, sod;
	int y, m, d;

	if (cap > 0)
		buf[0] = '\0';
	if (ms < 0 || ms / MS_PER_DAY > days_from_civil(YEAR_MAX, 12, 31))
		return IG_ERR_RANGE;
	day = ms / MS_PER_DAY;
	sod = (ms % MS_PER_DAY) / 1000;
	civil_from_days(day, &y, &m, &d);
	if (with_ms)
		return ig_bfmt(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d,
		               (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60),
		               (int)(ms % 1000));
	return ig_bfmt(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(sod / 3600),
	               (int)(sod / 60 % 60), (int)(sod % 60));
}
