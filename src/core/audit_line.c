/*
 * audit_line.c - one audit line: clean and filter an event's fields, render
 * the line, parse a line back (strictly: key order, formats, the seal's
 * place), and the syslog text of a line.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "iamgate/audit_line.h"
#include "iamgate/util.h"

#define FIELD_CAP 256  /* user, rhost, service, host, reason, event */
#define MAX_DROPPED 32 /* names kept in dropped_keys */
#define MAX_EXTRA_DEPTH 16

/* The fixed fields, in line order; extras go between reason and prev. */
static const char *const fixed_keys[] = {"time",  "seq",     "host",     "event", "user",
                                         "rhost", "service", "decision", "reason"};
#define N_FIXED (sizeof(fixed_keys) / sizeof(fixed_keys[0]))

/* ---- small helpers ---------------------------------------------------- */

int ig_audit_line_hash(const void *data, size_t len, uint8_t out[IG_AUDIT_HASH_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != IG_AUDIT_HASH_LEN)
		return IG_ERR_CRYPTO;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lowercase hex only: the writer never produces uppercase. */
int ig_audit_line_unhex(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return IG_ERR_PARSE;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int fmt_time(int64_t ms, char *out, size_t cap)
{
	time_t s;
	struct tm tm;

	if (ms < 0)
		return IG_ERR_RANGE;
	s = (time_t)(ms / 1000);
	if (gmtime_r(&s, &tm) == NULL || tm.tm_year + 1900 > 9999)
		return IG_ERR_RANGE;
	return ig_bfmt(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	               (int)(ms % 1000));
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return IG_ERR_PARSE;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Build a time from broken-down fields, rejecting dates like 02-31. */
static int make_time(int y, int mo, int d, int h, int mi, int s, int utc, int64_t *out_s)
{
	struct tm tm, back;
	time_t t;

	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    s > 59)
		return IG_ERR_PARSE;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return IG_ERR_PARSE;
	if ((utc ? gmtime_r(&t, &back) : localtime_r(&t, &back)) == NULL)
		return IG_ERR_PARSE;
	if (back.tm_year != y - 1900 || back.tm_mon != mo - 1 || back.tm_mday != d)
		return IG_ERR_PARSE;
	*out_s = (int64_t)t;
	return 0;
}

/* Exactly "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static int parse_line_time(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, frac;
	int64_t t;

	if (strlen(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != '.' || s[23] != 'Z')
		return IG_ERR_PARSE;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec) ||
	    digits(s + 20, 3, &frac))
		return IG_ERR_PARSE;
	if (make_time(y, mo, d, h, mi, sec, 1, &t) != 0)
		return IG_ERR_PARSE;
	*ms = t * 1000 + frac;
	return 0;
}

/*
 * Copy s as valid UTF-8 of at most cap bytes: bytes that are not part of a
 * valid sequence become the text "\xNN"; a longer value is cut at a
 * character boundary and ends in "...".  jansson refuses invalid UTF-8, and
 * an attacker-chosen user name must still be logged, not make the append
 * fail.
 */
static char *clean_str(const char *s, size_t cap)
{
	size_t n = strlen(s), o = 0, i = 0;
	char *out = malloc(4 * n + 4);

	if (out == NULL)
		return NULL;
	while (i < n) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t len = 0;
		unsigned cp = 0;

		if (p[0] < 0x80) {
			len = 1;
		} else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
			len = 2;
			cp = p[0] & 0x1f;
		} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
			len = 3;
			cp = p[0] & 0x0f;
		} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
			len = 4;
			cp = p[0] & 0x07;
		}
		if (len > 1 && i + len > n)
			len = 0;
		for (size_t k = 1; k < len; k++) {
			if ((p[k] & 0xc0) != 0x80) {
				len = 0;
				break;
			}
			cp = cp << 6 | (p[k] & 0x3f);
		}
		/* overlong, surrogate, beyond U+10FFFF */
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			len = 0;
		if (len == 0) {
			(void)snprintf(out + o, 5, "\\x%02x", p[0]);
			o += 4;
			i++;
		} else {
			memcpy(out + o, p, len);
			o += len;
			i += len;
		}
	}
	if (o > cap) {
		/* Cut at a character boundary, leaving room for the marker. */
		o = cap - 3;
		while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80)
			o--;
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* ---- parsing one line ------------------------------------------------- */

void ig_audit_line_clear(struct ig_audit_record *rec)
{
	if (rec == NULL)
		return;
	json_decref(rec->obj);
	memset(rec, 0, sizeof(*rec));
}

static int is_fixed_key(const char *k)
{
	for (size_t i = 0; i < N_FIXED; i++)
		if (strcmp(k, fixed_keys[i]) == 0)
			return 1;
	return strcmp(k, "prev") == 0 || strcmp(k, "seal") == 0;
}

static int str_or_null(json_t *v, const char **out)
{
	if (json_is_null(v)) {
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return IG_ERR_PARSE;
	*out = json_string_value(v);
	return 0;
}

/* Key order: the fixed fields, any extras, prev, and seal last if present. */
static int check_key_order(json_t *o, char *why, size_t whycap)
{
	const char *key = NULL, *last[2] = {NULL, NULL};
	size_t i = 0;

	for (void *it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it), i++) {
		key = json_object_iter_key(it);
		last[0] = last[1];
		last[1] = key;
		if (i < N_FIXED) {
			if (strcmp(key, fixed_keys[i]) != 0) {
				ig_why(why, whycap, "field %zu is not \"%s\"", i + 1,
				       fixed_keys[i]);
				return IG_ERR_PARSE;
			}
		} else if (is_fixed_key(key) && strcmp(key, "prev") != 0 &&
		           strcmp(key, "seal") != 0) {
			ig_why(why, whycap, "a fixed field appears among the extra fields");
			return IG_ERR_PARSE;
		}
	}
	if (i > N_FIXED && strcmp(last[1], "prev") == 0)
		return 0;
	if (i > N_FIXED + 1 && strcmp(last[1], "seal") == 0 && strcmp(last[0], "prev") == 0)
		return 0;
	ig_why(why, whycap, "\"prev\" is missing or not the last field (before \"seal\")");
	return IG_ERR_PARSE;
}

static int parse_hex_field(const char *s, size_t n, uint8_t *out)
{
	for (size_t k = 0; k < 2 * n; k++)
		if (hexval(s[k]) < 0)
			return IG_ERR_PARSE;
	return ig_audit_line_unhex(s, n, out);
}

/*
 * "EPOCH:MAC", and the line must end in exactly ,"seal":"EPOCH:MAC"} so the
 * bytes the MAC covers are the line up to that text.
 */
static int parse_seal(const char *line, size_t len, json_t *v, struct ig_audit_record *rec)
{
	const char *s = json_string_value(v), *colon;
	char suffix[IG_AUDIT_SEAL_SUFFIX_MAX + 1];
	uint64_t e = 0;
	size_t n, sl;

	if (s == NULL || (n = json_string_length(v)) != strlen(s) ||
	    (colon = strchr(s, ':')) == NULL || colon == s || colon - s > 10 ||
	    n - (size_t)(colon - s) - 1 != IG_AUDIT_HEX_LEN)
		return IG_ERR_PARSE;
	for (const char *p = s; p < colon; p++) {
		if (*p < '0' || *p > '9' || (p == s && *p == '0' && colon - s > 1))
			return IG_ERR_PARSE;
		e = e * 10 + (uint64_t)(*p - '0');
	}
	if (parse_hex_field(colon + 1, IG_AUDIT_HASH_LEN, rec->seal_mac) != 0 ||
	    ig_bfmt(suffix, sizeof(suffix), ",\"seal\":\"%s\"}", s) != 0)
		return IG_ERR_PARSE;
	sl = strlen(suffix);
	if (len < sl || memcmp(line + len - sl, suffix, sl) != 0)
		return IG_ERR_PARSE;
	rec->sealed = 1;
	rec->seal_epoch = e;
	rec->sealed_len = len - sl;
	return 0;
}

static int bad(char *why, size_t whycap, const char *msg)
{
	ig_why(why, whycap, "%s", msg);
	return IG_ERR_PARSE;
}

/* The fixed fields' types and formats; rec borrows from o. */
static int check_fields(json_t *o, struct ig_audit_record *rec, char *why, size_t whycap)
{
	json_t *v = json_object_get(o, "time");
	const char *s;

	if (!json_is_string(v) || parse_line_time(json_string_value(v), &rec->time_ms) != 0)
		return bad(why, whycap, "\"time\" is not a UTC time like 2026-01-31T12:00:00.000Z");
	v = json_object_get(o, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return bad(why, whycap, "\"seq\" is not a positive integer");
	rec->seq = (uint64_t)json_integer_value(v);
	if (!json_is_string(json_object_get(o, "host")) ||
	    !json_is_string(json_object_get(o, "event")) ||
	    json_string_length(json_object_get(o, "event")) == 0 ||
	    !json_is_string(json_object_get(o, "reason")))
		return bad(why, whycap, "\"host\", \"event\" or \"reason\" is not a string");
	rec->host = json_string_value(json_object_get(o, "host"));
	rec->event = json_string_value(json_object_get(o, "event"));
	rec->reason = json_string_value(json_object_get(o, "reason"));
	if (str_or_null(json_object_get(o, "user"), &rec->user) ||
	    str_or_null(json_object_get(o, "rhost"), &rec->rhost) ||
	    str_or_null(json_object_get(o, "service"), &rec->service))
		return bad(why, whycap,
		           "\"user\", \"rhost\" or \"service\" is neither a string nor null");
	s = json_string_value(json_object_get(o, "decision"));
	if (s == NULL ||
	    (strcmp(s, "allow") != 0 && strcmp(s, "deny") != 0 && strcmp(s, "info") != 0))
		return bad(why, whycap, "\"decision\" is not allow, deny or info");
	rec->decision = s;
	v = json_object_get(o, "prev");
	s = json_string_value(v);
	if (s == NULL || json_string_length(v) != IG_AUDIT_HEX_LEN) {
		ig_why(why, whycap, "\"prev\" is not a SHA-256 in hex");
		return IG_ERR_PARSE;
	}
	for (size_t k = 0; k < IG_AUDIT_HEX_LEN; k++)
		if (hexval(s[k]) < 0)
			return bad(why, whycap, "\"prev\" is not a SHA-256 in lowercase hex");
	memcpy(rec->prev, s, IG_AUDIT_HEX_LEN + 1);
	return 0;
}

int ig_audit_line_parse(const char *line, size_t len, struct ig_audit_record *rec, char *why,
                        size_t whycap)
{
	json_error_t jerr;
	json_t *o = NULL, *seal;
	int r = IG_ERR_PARSE;

	memset(rec, 0, sizeof(*rec));
	if (len > IG_AUDIT_MAX_LINE) {
		ig_why(why, whycap, "longer than %d bytes", IG_AUDIT_MAX_LINE);
		return IG_ERR_PARSE;
	}
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		/* jerr.text can quote the input; report the position only. */
		ig_why(why, whycap, "not valid JSON (error near byte %d)", jerr.position);
		return IG_ERR_PARSE;
	}
	if (!json_is_object(o)) {
		ig_why(why, whycap, "not a JSON object");
		goto out;
	}
	if ((r = check_key_order(o, why, whycap)) != 0 ||
	    (r = check_fields(o, rec, why, whycap)) != 0)
		goto out;
	seal = json_object_get(o, "seal");
	if (seal != NULL && (r = parse_seal(line, len, seal, rec)) != 0) {
		ig_why(why, whycap, "\"seal\" is not EPOCH:MAC as the writer renders it, last");
		goto out;
	}
	rec->obj = o;
	o = NULL;
	r = 0;
out:
	json_decref(o);
	if (r != 0)
		memset(rec, 0, sizeof(*rec));
	return r;
}

/* ---- building a line -------------------------------------------------- */

static int key_is_secretish(const char *key)
{
	static const char *const bad[] = {"secret", "token", "password", "passwd", "passphrase",
	                                  "code",   "otp",   "seed",     "cookie", "private"};
	char low[128];
	size_t n = strlen(key);

	if (n >= sizeof(low))
		return 1; /* an absurd key name: not worth the risk */
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] - 'A' + 'a' : key[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(low, bad[i]) != NULL)
			return 1;
	return 0;
}

static int note_dropped(json_t *dropped, const char *key)
{
	size_t i;
	json_t *v;

	json_array_foreach(dropped, i, v)
	{
		if (strcmp(json_string_value(v), key) == 0)
			return 0;
	}
	if (json_array_size(dropped) >= MAX_DROPPED)
		return 0;
	return json_array_append_new(dropped, json_string(key)) == 0 ? 0 : IG_ERR_NOMEM;
}

/* A copy of v without secret-like keys (at any depth). */
static json_t *filter_value(json_t *v, json_t *dropped, int depth)
{
	json_t *copy, *cv;
	const char *k;
	size_t i;

	if (depth > MAX_EXTRA_DEPTH)
		return json_string("(nested too deep)");
	if (json_is_object(v)) {
		if ((copy = json_object()) == NULL)
			return NULL;
		json_object_foreach(v, k, cv)
		{
			json_t *fc;
			if ((depth == 0 && is_fixed_key(k)) || strcmp(k, "dropped_keys") == 0 ||
			    key_is_secretish(k)) {
				if (note_dropped(dropped, k) != 0)
					goto fail;
				continue;
			}
			if ((fc = filter_value(cv, dropped, depth + 1)) == NULL ||
			    json_object_set_new(copy, k, fc) != 0)
				goto fail;
		}
		return copy;
	}
	if (json_is_array(v)) {
		if ((copy = json_array()) == NULL)
			return NULL;
		json_array_foreach(v, i, cv)
		{
			json_t *fc = filter_value(cv, dropped, depth + 1);
			if (fc == NULL || json_array_append_new(copy, fc) != 0)
				goto fail;
		}
		return copy;
	}
	return json_incref(v);
fail:
	json_decref(copy);
	return NULL;
}

void ig_audit_line_fields_clear(struct ig_audit_fields *f)
{
	free(f->host);
	free(f->event);
	free(f->user);
	free(f->rhost);
	free(f->service);
	free(f->reason);
	json_decref(f->extra);
	memset(f, 0, sizeof(*f));
}

static json_t *str_or_jnull(const char *s)
{
	return s ? json_string(s) : json_null();
}

/*
 * Render one line (plus its newline, len excludes it) chained after
 * prev_hex with sequence number seq.  IG_ERR_RANGE when too long.
 */
int ig_audit_line_build(const struct ig_audit_fields *f, uint64_t seq, const char *prev_hex,
                        char **out, size_t *len)
{
	json_t *o = json_object();
	char *s = NULL, *buf;
	const char *k;
	json_t *v;
	size_t n;
	int r = IG_ERR_NOMEM;

	*out = NULL;
	if (o == NULL)
		return IG_ERR_NOMEM;
	if (json_object_set_new(o, "time", json_string(f->time)) ||
	    json_object_set_new(o, "seq", json_integer((json_int_t)seq)) ||
	    json_object_set_new(o, "host", json_string(f->host)) ||
	    json_object_set_new(o, "event", json_string(f->event)) ||
	    json_object_set_new(o, "user", str_or_jnull(f->user)) ||
	    json_object_set_new(o, "rhost", str_or_jnull(f->rhost)) ||
	    json_object_set_new(o, "service", str_or_jnull(f->service)) ||
	    json_object_set_new(o, "decision", json_string(f->decision)) ||
	    json_object_set_new(o, "reason", json_string(f->reason)))
		goto out;
	if (f->extra) {
		json_object_foreach(f->extra, k, v)
		{
			if (json_object_set(o, k, v) != 0)
				goto out;
		}
	}
	if (json_object_set_new(o, "prev", json_string(prev_hex)) != 0)
		goto out;
	if ((s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	n = strlen(s);
	if (n > IG_AUDIT_MAX_LINE) {
		r = IG_ERR_RANGE;
		goto out;
	}
	if ((buf = malloc(n + 1)) == NULL)
		goto out;
	memcpy(buf, s, n);
	buf[n] = '\n';
	*out = buf;
	*len = n;
	r = 0;
out:
	free(s);
	json_decref(o);
	return r;
}

/* ---- syslog text ------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t cap, len;
};

static void sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 < b->cap)
		b->p[b->len++] = c;
	b->p[b->len < b->cap ? b->len : b->cap - 1] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	while (*s)
		sb_putc(b, *s++);
}

static int bare_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '@' || c == ':' || c == '/' || c == '+' || c == ',' ||
	       c == '=' || c == '-';
}

static void sb_value(struct sbuf *b, const char *s, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	int bare = n > 0;
	size_t lim = n > FIELD_CAP ? FIELD_CAP : n;

	for (size_t i = 0; i < n; i++)
		if (!bare_char((unsigned char)s[i]))
			bare = 0;
	if (bare) {
		for (size_t i = 0; i < lim; i++)
			sb_putc(b, s[i]);
		if (lim < n)
			sb_puts(b, "...");
		return;
	}
	sb_putc(b, '"');
	for (size_t i = 0; i < lim; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			sb_putc(b, '\\');
			sb_putc(b, (char)c);
		} else if (c < 0x20 || c >= 0x7f) {
			sb_puts(b, "\\x");
			sb_putc(b, hexd[c >> 4]);
			sb_putc(b, hexd[c & 15]);
		} else {
			sb_putc(b, (char)c);
		}
	}
	if (lim < n)
		sb_puts(b, "...");
	sb_putc(b, '"');
}

static void sb_key(struct sbuf *b, const char *k)
{
	size_t n = 0;

	if (b->len > 0)
		sb_putc(b, ' ');
	for (; *k && n < 64; k++, n++)
		sb_putc(b, (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		                           (*k >= '0' && *k <= '9') || *k == '_'
		                   ? *k
		                   : '_');
	sb_putc(b, '=');
}

static void sb_json(struct sbuf *b, json_t *v)
{
	char num[32];
	char *d;

	if (json_is_null(v)) {
		sb_putc(b, '-');
	} else if (json_is_string(v)) {
		sb_value(b, json_string_value(v), json_string_length(v));
	} else if (json_is_integer(v)) {
		(void)snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		sb_puts(b, num);
	} else if ((d = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII |
	                                      JSON_ENCODE_ANY)) != NULL) {
		sb_value(b, d, strlen(d));
		free(d);
	} else {
		sb_putc(b, '?');
	}
}

int ig_audit_line_syslog(const char *line, size_t len, char *out, size_t cap)
{
	struct ig_audit_record rec;
	struct sbuf b = {out, cap, 0};
	uint8_t h[IG_AUDIT_HASH_LEN];
	char hex[IG_AUDIT_HEX_LEN + 1], num[32];
	const char *k;
	json_t *v;
	int r;

	if (cap == 0)
		return IG_ERR_RANGE;
	out[0] = '\0';
	if ((r = ig_audit_line_parse(line, len, &rec, NULL, 0)) != 0)
		return r;
	if ((r = ig_audit_line_hash(line, len, h)) != 0)
		goto out;
	ig_hex(h, IG_AUDIT_HASH_LEN, hex);
	json_object_foreach(rec.obj, k, v)
	{
		if (strcmp(k, "time") == 0 || strcmp(k, "host") == 0 || strcmp(k, "seq") == 0 ||
		    strcmp(k, "prev") == 0)
			continue;
		sb_key(&b, k);
		sb_json(&b, v);
	}
	(void)snprintf(num, sizeof(num), "%llu", (unsigned long long)rec.seq);
	sb_key(&b, "seq");
	sb_puts(&b, num);
	sb_key(&b, "hash");
	sb_puts(&b, hex);
out:
	ig_audit_line_clear(&rec);
	return r;
}

void ig_audit_line_send_syslog(const char *line, size_t len, const char *decision)
{
	char text[2048];

	if (ig_audit_line_syslog(line, len, text, sizeof(text)) != 0)
		return;
	openlog("iamgate", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_AUTHPRIV | (strcmp(decision, "deny") == 0 ? LOG_NOTICE : LOG_INFO), "%s", text);
}

int ig_audit_line_fields(const struct ig_audit_opts *opts, const struct ig_audit_event *ev,
                         struct ig_audit_fields *f)
{
	char host[HOST_NAME_MAX + 1];
	struct timespec ts;
	int64_t ms = opts->now_ms;
	json_t *dropped = NULL;
	int r;

	memset(f, 0, sizeof(*f));
	if (ms == 0) {
		if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
			return IG_ERR_INTERNAL;
		ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	if ((r = fmt_time(ms, f->time, sizeof(f->time))) != 0)
		return r;
	if (opts->host == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			return IG_ERR_INTERNAL;
		host[sizeof(host) - 1] = '\0';
	}
	f->decision = ev->decision;
	if ((f->host = clean_str(opts->host ? opts->host : host, FIELD_CAP)) == NULL ||
	    (f->event = clean_str(ev->event, FIELD_CAP)) == NULL ||
	    (f->reason = clean_str(ev->reason, FIELD_CAP)) == NULL ||
	    (ev->user && (f->user = clean_str(ev->user, FIELD_CAP)) == NULL) ||
	    (ev->rhost && (f->rhost = clean_str(ev->rhost, FIELD_CAP)) == NULL) ||
	    (ev->service && (f->service = clean_str(ev->service, FIELD_CAP)) == NULL))
		goto nomem;
	if (ev->extra) {
		if ((dropped = json_array()) == NULL ||
		    (f->extra = filter_value(ev->extra, dropped, 0)) == NULL)
			goto nomem;
		if (json_array_size(dropped) > 0 &&
		    json_object_set(f->extra, "dropped_keys", dropped) != 0)
			goto nomem;
		json_decref(dropped);
	}
	return 0;
nomem:
	json_decref(dropped);
	ig_audit_line_fields_clear(f);
	return IG_ERR_NOMEM;
}

/* ---- times for `audit show` ------------------------------------------- */

/* "-N" + s/m/h/d/w before now_ms. */
static int parse_relative(const char *s, size_t n, int64_t now_ms, int64_t *out_ms)
{
	int64_t v = 0, unit;

	for (size_t i = 1; i + 1 < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return IG_ERR_PARSE;
		v = v * 10 + (s[i] - '0');
	}
	switch (s[n - 1]) {
	case 's': unit = 1000; break;
	case 'm': unit = 60 * 1000; break;
	case 'h': unit = 3600 * 1000; break;
	case 'd': unit = 86400 * 1000; break;
	case 'w': unit = 7 * 86400 * 1000; break;
	default: return IG_ERR_PARSE;
	}
	if (v > INT64_MAX / unit / 2)
		return IG_ERR_PARSE;
	*out_ms = now_ms - v * unit;
	return 0;
}

struct civil {
	int y, mo, d, h, mi, sec, frac, off, zoned;
};

/* A zone after the clock: "Z", "+HH:MM", "-HHMM".  *i moves past it. */
static int parse_zone(const char *s, size_t n, size_t *i, struct civil *c)
{
	int oh, om;
	size_t m;

	if (*i < n && s[*i] == 'Z') {
		c->zoned = 1;
		(*i)++;
		return 0;
	}
	if (*i >= n || (s[*i] != '+' && s[*i] != '-'))
		return 0;
	if (n < *i + 5)
		return IG_ERR_PARSE;
	m = s[*i + 3] == ':' ? 1 : 0;
	if (n != *i + 5 + m || digits(s + *i + 1, 2, &oh) || digits(s + *i + 3 + m, 2, &om) ||
	    oh > 23 || om > 59)
		return IG_ERR_PARSE;
	c->off = (oh * 60 + om) * 60 * (s[*i] == '-' ? -1 : 1);
	c->zoned = 1;
	*i = n;
	return 0;
}

/* "THH:MM[:SS[.mmm]]" and a zone, after the date. */
static int parse_clock(const char *s, size_t n, struct civil *c)
{
	size_t i = 16;

	if ((s[10] != 'T' && s[10] != ' ') || n < 16 || s[13] != ':' || digits(s + 11, 2, &c->h) ||
	    digits(s + 14, 2, &c->mi))
		return IG_ERR_PARSE;
	if (i < n && s[i] == ':') {
		if (n < i + 3 || digits(s + i + 1, 2, &c->sec))
			return IG_ERR_PARSE;
		i += 3;
		if (i < n && s[i] == '.') {
			if (n < i + 4 || digits(s + i + 1, 3, &c->frac))
				return IG_ERR_PARSE;
			i += 4;
		}
	}
	if (parse_zone(s, n, &i, c) != 0 || i != n)
		return IG_ERR_PARSE;
	return 0;
}

/* The last millisecond of the day that starts at t (DST days are not 24 h). */
static int end_of_day_ms(int64_t t, int utc, int64_t *out_ms)
{
	int64_t t2;
	struct tm tm;
	time_t tt = (time_t)(t + 36 * 3600);

	if ((utc ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) == NULL ||
	    make_time(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0, 0, 0, utc, &t2) != 0)
		return IG_ERR_PARSE;
	*out_ms = t2 * 1000 - 1;
	return 0;
}

int ig_audit_line_parse_time(const char *s, int utc, int64_t now_ms, int end_of_day,
                             int64_t *out_ms)
{
	struct civil c;
	size_t n;
	int64_t t;

	if (s == NULL)
		return IG_ERR_PARSE;
	n = strlen(s);
	if (strcmp(s, "now") == 0) {
		*out_ms = now_ms;
		return 0;
	}
	if (n >= 3 && n <= 12 && s[0] == '-')
		return parse_relative(s, n, now_ms, out_ms);
	memset(&c, 0, sizeof(c));
	if (n < 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &c.y) || digits(s + 5, 2, &c.mo) ||
	    digits(s + 8, 2, &c.d))
		return IG_ERR_PARSE;
	if (n > 10 && parse_clock(s, n, &c) != 0)
		return IG_ERR_PARSE;
	if (make_time(c.y, c.mo, c.d, c.h, c.mi, c.sec, utc || c.zoned, &t) != 0)
		return IG_ERR_PARSE;
	t -= c.off;
	*out_ms = t * 1000 + c.frac;
	if (n == 10 && end_of_day)
		return end_of_day_ms(t, utc || c.zoned, out_ms);
	return 0;
}
