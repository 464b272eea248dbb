/*
 * audit.c - the tamper-evident audit log: append (lock, chain head, torn
 * tail repair, one write per line, fsync, syslog copy) and verify (walk the
 * chain, name the first bad line and what is wrong with it).
 *
 * The rotation and head-file design is described in include/iamgate/audit.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "iamgate/audit.h"
#include "iamgate/util.h"

#define HASH_LEN 32
#define HEX_LEN 64
#define FIELD_CAP 256 /* user, rhost, service, host, reason, event */
#define TAIL_WIN (4 * (IG_AUDIT_MAX_LINE + 1))
#define MAX_FRAG_RUN 8 /* fragments verify accepts before one torn record */
#define MAX_DROPPED 32 /* names kept in dropped_keys */
#define MAX_EXTRA_DEPTH 16
#define HEAD_MAGIC "iamgate-audit-head v1 "
#define HEAD_LEN (sizeof(HEAD_MAGIC) - 1 + 20 + 1 + HEX_LEN + 1)
#define AUDIT_GROUP "iamgate-audit"
#define MAX_LINES_PER_APPEND 4 /* log_start or torn tail, head mismatch, event */

/* The fixed fields, in line order; extras go between reason and prev. */
static const char *const fixed_keys[] = {"time",  "seq",     "host",     "event", "user",
                                         "rhost", "service", "decision", "reason"};
#define N_FIXED (sizeof(fixed_keys) / sizeof(fixed_keys[0]))

/* ---- small helpers ---------------------------------------------------- */

static int sha256(const void *data, size_t len, uint8_t out[HASH_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != HASH_LEN)
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
static int unhex(const char *s, size_t n, uint8_t *out)
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

void ig_audit_record_clear(struct ig_audit_record *rec)
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
	return strcmp(k, "prev") == 0;
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

int ig_audit_parse_line(const char *line, size_t len, struct ig_audit_record *rec, char *why,
                        size_t whycap)
{
	json_error_t jerr;
	json_t *o = NULL, *v;
	void *it;
	size_t i = 0;
	const char *key = NULL, *s;
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
	/* Key order: the fixed fields, any extras, prev last. */
	for (it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it), i++) {
		key = json_object_iter_key(it);
		if (i < N_FIXED) {
			if (strcmp(key, fixed_keys[i]) != 0) {
				ig_why(why, whycap, "field %zu is not \"%s\"", i + 1,
				       fixed_keys[i]);
				goto out;
			}
		} else if (is_fixed_key(key) && strcmp(key, "prev") != 0) {
			ig_why(why, whycap, "a fixed field appears among the extra fields");
			goto out;
		} else if (strcmp(key, "prev") == 0 && json_object_iter_next(o, it) != NULL) {
			ig_why(why, whycap, "\"prev\" is not the last field");
			goto out;
		}
	}
	if (i <= N_FIXED || key == NULL || strcmp(key, "prev") != 0) {
		ig_why(why, whycap, "\"prev\" is missing or not the last field");
		goto out;
	}
	v = json_object_get(o, "time");
	if (!json_is_string(v) || parse_line_time(json_string_value(v), &rec->time_ms) != 0) {
		ig_why(why, whycap, "\"time\" is not a UTC time like 2026-01-31T12:00:00.000Z");
		goto out;
	}
	v = json_object_get(o, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		ig_why(why, whycap, "\"seq\" is not a positive integer");
		goto out;
	}
	rec->seq = (uint64_t)json_integer_value(v);
	if (!json_is_string(json_object_get(o, "host")) ||
	    !json_is_string(json_object_get(o, "event")) ||
	    json_string_length(json_object_get(o, "event")) == 0 ||
	    !json_is_string(json_object_get(o, "reason"))) {
		ig_why(why, whycap, "\"host\", \"event\" or \"reason\" is not a string");
		goto out;
	}
	rec->host = json_string_value(json_object_get(o, "host"));
	rec->event = json_string_value(json_object_get(o, "event"));
	rec->reason = json_string_value(json_object_get(o, "reason"));
	if (str_or_null(json_object_get(o, "user"), &rec->user) ||
	    str_or_null(json_object_get(o, "rhost"), &rec->rhost) ||
	    str_or_null(json_object_get(o, "service"), &rec->service)) {
		ig_why(why, whycap,
		       "\"user\", \"rhost\" or \"service\" is neither a string nor null");
		goto out;
	}
	v = json_object_get(o, "decision");
	s = json_string_value(v);
	if (s == NULL ||
	    (strcmp(s, "allow") != 0 && strcmp(s, "deny") != 0 && strcmp(s, "info") != 0)) {
		ig_why(why, whycap, "\"decision\" is not allow, deny or info");
		goto out;
	}
	rec->decision = s;
	v = json_object_get(o, "prev");
	s = json_string_value(v);
	if (s == NULL || json_string_length(v) != HEX_LEN) {
		ig_why(why, whycap, "\"prev\" is not a SHA-256 in hex");
		goto out;
	}
	for (size_t k = 0; k < HEX_LEN; k++) {
		if (hexval(s[k]) < 0) {
			ig_why(why, whycap, "\"prev\" is not a SHA-256 in lowercase hex");
			goto out;
		}
	}
	memcpy(rec->prev, s, HEX_LEN + 1);
	rec->obj = o;
	o = NULL;
	r = 0;
out:
	json_decref(o);
	if (r != 0) {
		json_t *keep = rec->obj;
		memset(rec, 0, sizeof(*rec));
		json_decref(keep);
	}
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

struct fields {
	char time[32];
	char *host, *event, *user, *rhost, *service, *reason;
	const char *decision;
	json_t *extra; /* filtered copy, or NULL */
};

static void fields_clear(struct fields *f)
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
static int build_line(const struct fields *f, uint64_t seq, const char *prev_hex, char **out,
                      size_t *len)
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

int ig_audit_syslog_text(const char *line, size_t len, char *out, size_t cap)
{
	struct ig_audit_record rec;
	struct sbuf b = {out, cap, 0};
	uint8_t h[HASH_LEN];
	char hex[HEX_LEN + 1], num[32];
	const char *k;
	json_t *v;
	int r;

	if (cap == 0)
		return IG_ERR_RANGE;
	out[0] = '\0';
	if ((r = ig_audit_parse_line(line, len, &rec, NULL, 0)) != 0)
		return r;
	if ((r = sha256(line, len, h)) != 0)
		goto out;
	ig_hex(h, HASH_LEN, hex);
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
	ig_audit_record_clear(&rec);
	return r;
}

static void send_syslog(const char *line, size_t len, const char *decision)
{
	char text[2048];

	if (ig_audit_syslog_text(line, len, text, sizeof(text)) != 0)
		return;
	openlog("iamgate", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_AUTHPRIV | (strcmp(decision, "deny") == 0 ? LOG_NOTICE : LOG_INFO), "%s", text);
}

/* ---- files ------------------------------------------------------------ */

static int split_path(const char *path, char *dir, size_t dcap, char *base, size_t bcap)
{
	const char *slash;

	if (path == NULL || path[0] != '/')
		return IG_ERR_INVAL;
	slash = strrchr(path, '/');
	if (!ig_name_is_safe(slash + 1) || strlen(slash + 1) > 64 - 5)
		return IG_ERR_INVAL;
	if (slash == path) {
		if (ig_bfmt(dir, dcap, "/") != 0)
			return IG_ERR_RANGE;
	} else if ((size_t)(slash - path) >= dcap) {
		return IG_ERR_RANGE;
	} else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	return ig_bfmt(base, bcap, "%s", slash + 1);
}

static int lock_bounded(int fd, int op, int timeout_ms)
{
	struct timespec t0, now, nap;
	long wait_us = 100;
	unsigned jitter = (unsigned)getpid() * 2654435761u;

	if (clock_gettime(CLOCK_MONOTONIC, &t0) != 0)
		return IG_ERR_LOCK;
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return IG_ERR_LOCK;
		if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
			return IG_ERR_LOCK;
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >=
		    timeout_ms)
			return IG_ERR_LOCK;
		/* Short randomized naps (0.1..1 ms): many waiters poll without
		 * convoying.  Polling is not FIFO; the bound keeps a starved
		 * writer from hanging a login. */
		jitter = jitter * 1103515245u + 12345u;
		nap.tv_sec = 0;
		nap.tv_nsec = (wait_us + (long)(jitter % (unsigned)wait_us)) * 1000;
		(void)nanosleep(&nap, NULL);
		if (wait_us < 500)
			wait_us *= 2;
	}
}

static int file_is_trusted(const struct stat *st, int private_only)
{
	if (!S_ISREG(st->st_mode) || st->st_uid != 0 || st->st_nlink != 1)
		return 0;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return 0;
	if (private_only && (st->st_mode & 077))
		return 0;
	return 1;
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off, size_t *got)
{
	size_t done = 0;
	ssize_t k;

	while (done < n) {
		k = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return IG_ERR_IO;
		if (k == 0)
			break;
		done += (size_t)k;
	}
	*got = done;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return IG_ERR_IO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

struct head {
	int have;
	uint64_t seq;
	uint8_t hash[HASH_LEN];
};

static int head_parse(const char *buf, size_t n, struct head *h)
{
	const char *p = buf + sizeof(HEAD_MAGIC) - 1;
	uint64_t seq = 0;

	memset(h, 0, sizeof(*h));
	if (n != HEAD_LEN || memcmp(buf, HEAD_MAGIC, sizeof(HEAD_MAGIC) - 1) != 0 ||
	    buf[HEAD_LEN - 1] != '\n' || p[20] != ' ')
		return IG_ERR_PARSE;
	for (int i = 0; i < 20; i++) {
		if (p[i] < '0' || p[i] > '9' || seq > (UINT64_MAX - 9) / 10)
			return IG_ERR_PARSE;
		seq = seq * 10 + (uint64_t)(p[i] - '0');
	}
	if (unhex(p + 21, HASH_LEN, h->hash) != 0)
		return IG_ERR_PARSE;
	h->seq = seq;
	h->have = 1;
	return 0;
}

static void head_read(int fd, struct head *h)
{
	char buf[HEAD_LEN + 8];
	size_t got = 0;

	memset(h, 0, sizeof(*h));
	if (pread_all(fd, buf, sizeof(buf), 0, &got) != 0 || head_parse(buf, got, h) != 0)
		memset(h, 0, sizeof(*h));
}

static int head_write(int fd, uint64_t seq, const uint8_t hash[HASH_LEN])
{
	char buf[HEAD_LEN + 1], hex[HEX_LEN + 1];
	ssize_t k;

	ig_hex(hash, HASH_LEN, hex);
	if (ig_bfmt(buf, sizeof(buf), "%s%020llu %s\n", HEAD_MAGIC, (unsigned long long)seq, hex) !=
	    0)
		return IG_ERR_INTERNAL;
	do {
		k = pwrite(fd, buf, HEAD_LEN, 0);
	} while (k < 0 && errno == EINTR);
	if (k != (ssize_t)HEAD_LEN || ftruncate(fd, (off_t)HEAD_LEN) != 0)
		return IG_ERR_IO;
	return 0;
}

/* What the end of a log looks like to a writer. */
struct tail {
	uint8_t last_hash[HASH_LEN]; /* the last line, complete or not */
	size_t last_len;
	int frag;         /* the last line is not a terminated, valid record */
	int unterminated; /* the file does not end in '\n' */
	int have_valid;   /* a valid record was found (the last one, or before a fragment) */
	uint64_t vseq;
	uint8_t vhash[HASH_LEN];
};

/*
 * Read at most TAIL_WIN bytes from the end.  A writer's lines are at most
 * IG_AUDIT_MAX_LINE bytes, so the window holds the last record and a torn
 * fragment after it; a tail that does not fit was not written by iamgate.
 */
static int read_tail(int fd, uint64_t size, struct tail *t)
{
	size_t win = size < TAIL_WIN ? (size_t)size : TAIL_WIN, got = 0, end, start;
	int whole = (uint64_t)win == size;
	struct ig_audit_record rec;
	char *buf;
	int r;

	memset(t, 0, sizeof(*t));
	if ((buf = malloc(win ? win : 1)) == NULL)
		return IG_ERR_NOMEM;
	if ((r = pread_all(fd, buf, win, size - win, &got)) != 0)
		goto out;
	if (got != win) {
		r = IG_ERR_IO;
		goto out;
	}
	end = win;
	if (buf[end - 1] == '\n')
		end--;
	else
		t->unterminated = 1;
	start = end;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (start == 0 && !whole) {
		r = IG_ERR_PARSE;
		goto out;
	}
	t->last_len = end - start;
	if ((r = sha256(buf + start, end - start, t->last_hash)) != 0)
		goto out;
	if (ig_audit_parse_line(buf + start, end - start, &rec, NULL, 0) == 0) {
		t->have_valid = 1;
		t->vseq = rec.seq;
		memcpy(t->vhash, t->last_hash, HASH_LEN);
		t->frag = t->unterminated;
		ig_audit_record_clear(&rec);
		goto out;
	}
	t->frag = 1;
	/* Look back for the last valid record, within the window. */
	for (int tries = 0; tries < MAX_FRAG_RUN && start > 0; tries++) {
		size_t e = start - 1, s = e;
		while (s > 0 && buf[s - 1] != '\n')
			s--;
		if (s == 0 && !whole)
			break;
		if (ig_audit_parse_line(buf + s, e - s, &rec, NULL, 0) == 0) {
			t->have_valid = 1;
			t->vseq = rec.seq;
			ig_audit_record_clear(&rec);
			if ((r = sha256(buf + s, e - s, t->vhash)) != 0)
				goto out;
			break;
		}
		start = s;
	}
	if (!t->have_valid && !whole)
		r = IG_ERR_PARSE;
out:
	free(buf);
	return r;
}

static int open_checked(int dfd, const char *name, int flags, int private_only, int *fd)
{
	struct stat st;

	*fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (*fd < 0)
		return errno == ENOENT ? IG_ERR_NOTFOUND
		                       : (errno == ELOOP ? IG_ERR_UNSAFE : IG_ERR_IO);
	if (fstat(*fd, &st) != 0 || !file_is_trusted(&st, private_only)) {
		close(*fd);
		*fd = -1;
		return IG_ERR_UNSAFE;
	}
	return 0;
}

static gid_t audit_gid(void)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrnam_r(AUDIT_GROUP, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
		return 0;
	return res->gr_gid;
}

static int open_log(int dfd, const char *base, int *fd, int *created)
{
	int r;

	*created = 0;
	r = open_checked(dfd, base, O_RDWR | O_APPEND, 0, fd);
	if (r != IG_ERR_NOTFOUND)
		return r;
	*fd = openat(dfd, base,
	             O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
	             0640);
	if (*fd < 0)
		return errno == EEXIST ? open_checked(dfd, base, O_RDWR | O_APPEND, 0, fd)
		                       : IG_ERR_IO;
	*created = 1;
	if (fchown(*fd, 0, audit_gid()) != 0 || fchmod(*fd, 0640) != 0) {
		close(*fd);
		*fd = -1;
		(void)unlinkat(dfd, base, 0);
		return IG_ERR_IO;
	}
	return 0;
}

/* The chain a new (empty) log continues: the rotated file or the head file. */
struct pred {
	uint64_t seq;
	uint8_t hash[HASH_LEN];
	const char *reason; /* new_chain, rotated, continued */
};

static void find_pred(int dfd, const char *base, const struct head *h, struct pred *p)
{
	char name[NAME_MAX + 1];
	struct stat st;
	struct tail t;
	int fd = -1, have = 0;

	memset(p, 0, sizeof(*p));
	p->reason = "new_chain";
	if (ig_bfmt(name, sizeof(name), "%s.1", base) == 0 &&
	    open_checked(dfd, name, O_RDONLY, 0, &fd) == 0) {
		if (fstat(fd, &st) == 0 && st.st_size > 0 &&
		    read_tail(fd, (uint64_t)st.st_size, &t) == 0 && t.have_valid) {
			have = 1;
			p->seq = t.vseq;
			memcpy(p->hash, t.last_hash, HASH_LEN);
			p->reason = "rotated";
		}
		close(fd);
	}
	if (h->have && (!have || h->seq > p->seq)) {
		p->seq = h->seq;
		memcpy(p->hash, h->hash, HASH_LEN);
		p->reason = "continued";
	}
}

struct chain {
	uint64_t seq;
	uint8_t hash[HASH_LEN];
	char *lines[MAX_LINES_PER_APPEND];
	size_t lens[MAX_LINES_PER_APPEND];
	int nl_before[MAX_LINES_PER_APPEND]; /* terminate a torn fragment first */
	size_t n;
};

static void chain_clear(struct chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->lines[i]);
	c->n = 0;
}

static int chain_add(struct chain *c, const struct fields *f, int nl_before)
{
	char prev[HEX_LEN + 1];
	char *line;
	size_t len;
	int r;

	if (c->n >= MAX_LINES_PER_APPEND)
		return IG_ERR_INTERNAL;
	ig_hex(c->hash, HASH_LEN, prev);
	if ((r = build_line(f, c->seq + 1, prev, &line, &len)) != 0)
		return r;
	if ((r = sha256(line, len, c->hash)) != 0) {
		free(line);
		return r;
	}
	c->seq++;
	c->lines[c->n] = line;
	c->lens[c->n] = len;
	c->nl_before[c->n] = nl_before;
	c->n++;
	return 0;
}

/* A writer-made record (log_start, audit_torn_tail, audit_head_mismatch). */
static int chain_add_internal(struct chain *c, const struct fields *ev, const char *event,
                              const char *reason, json_t *extra, int nl_before)
{
	struct fields f;
	int r;

	memset(&f, 0, sizeof(f));
	memcpy(f.time, ev->time, sizeof(f.time));
	f.host = ev->host;
	f.event = (char *)event;
	f.reason = (char *)reason;
	f.decision = "info";
	f.extra = extra;
	r = chain_add(c, &f, nl_before);
	json_decref(extra);
	return r;
}

static int prepare_fields(const struct ig_audit_opts *opts, const struct ig_audit_event *ev,
                          struct fields *f)
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
	fields_clear(f);
	return IG_ERR_NOMEM;
}

int ig_audit_append(const struct ig_audit_opts *opts, const struct ig_audit_event *ev)
{
	char dir[PATH_MAX], base[NAME_MAX + 1], hname[NAME_MAX + 1];
	struct fields f;
	struct chain c;
	struct head h;
	struct tail t;
	struct stat st;
	off_t end_before = -1;
	int dfd = -1, hfd = -1, lfd = -1, created = 0, r;

	memset(&c, 0, sizeof(c));
	memset(&f, 0, sizeof(f));
	if (opts == NULL || ev == NULL || ev->event == NULL || ev->decision == NULL ||
	    ev->reason == NULL || ev->event[0] == '\0' ||
	    (strcmp(ev->decision, "allow") != 0 && strcmp(ev->decision, "deny") != 0 &&
	     strcmp(ev->decision, "info") != 0) ||
	    (ev->extra != NULL && !json_is_object(ev->extra)))
		return IG_ERR_INVAL;
	if ((r = split_path(opts->path, dir, sizeof(dir), base, sizeof(base))) != 0 ||
	    (r = ig_bfmt(hname, sizeof(hname), "%s.head", base)) != 0)
		return r == IG_ERR_RANGE ? IG_ERR_INVAL : r;
	if ((r = prepare_fields(opts, ev, &f)) != 0)
		return r;
	if ((r = ig_open_trusted_dir(dir, &dfd, NULL, 0)) != 0)
		goto out;

	/* The head file is the writers' lock; auditors cannot open it. */
	hfd = openat(dfd, hname, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	             0600);
	if (hfd < 0) {
		r = errno == ELOOP ? IG_ERR_UNSAFE : IG_ERR_IO;
		goto out;
	}
	if (fstat(hfd, &st) != 0 || !file_is_trusted(&st, 1)) {
		r = IG_ERR_UNSAFE;
		goto out;
	}
	if ((r = lock_bounded(hfd, LOCK_EX,
	                      opts->lock_timeout_ms > 0 ? opts->lock_timeout_ms
	                                                : IG_AUDIT_LOCK_TIMEOUT_MS)) != 0)
		goto out;
	if ((r = open_log(dfd, base, &lfd, &created)) != 0)
		goto out;
	if (fstat(lfd, &st) != 0) {
		r = IG_ERR_IO;
		goto out;
	}
	head_read(hfd, &h);

	if (st.st_size == 0) {
		struct pred p;
		json_t *x;

		find_pred(dfd, base, &h, &p);
		c.seq = p.seq;
		memcpy(c.hash, p.hash, HASH_LEN);
		x = json_pack("{sI}", "follows_seq", (json_int_t)p.seq);
		if (x == NULL) {
			r = IG_ERR_NOMEM;
			goto out;
		}
		if ((r = chain_add_internal(&c, &f, "log_start", p.reason, x, 0)) != 0)
			goto out;
	} else {
		if ((r = read_tail(lfd, (uint64_t)st.st_size, &t)) != 0)
			goto out;
		if (t.have_valid) {
			c.seq = t.vseq;
		} else {
			/* Only fragments in the whole file: its log_start was torn. */
			struct pred p;
			find_pred(dfd, base, &h, &p);
			c.seq = p.seq;
		}
		memcpy(c.hash, t.last_hash, HASH_LEN);
		if (t.frag) {
			json_t *x = json_pack("{sI}", "torn_bytes", (json_int_t)t.last_len);
			if (x == NULL) {
				r = IG_ERR_NOMEM;
				goto out;
			}
			if ((r = chain_add_internal(&c, &f, "audit_torn_tail", "torn_tail_detected",
			                            x, t.unterminated)) != 0)
				goto out;
		}
		if (t.have_valid && h.have &&
		    (h.seq > t.vseq ||
		     (h.seq == t.vseq && memcmp(h.hash, t.vhash, HASH_LEN) != 0))) {
			char hex[HEX_LEN + 1];
			json_t *x;
			ig_hex(h.hash, HASH_LEN, hex);
			x = json_pack("{sIsIss}", "found_seq", (json_int_t)t.vseq, "expected_seq",
			              (json_int_t)h.seq, "expected_hash", hex);
			if (x == NULL) {
				r = IG_ERR_NOMEM;
				goto out;
			}
			if ((r = chain_add_internal(&c, &f, "audit_head_mismatch",
			                            h.seq > t.vseq ? "log_shorter_than_head"
			                                           : "last_line_changed",
			                            x, 0)) != 0)
				goto out;
		}
	}
	if ((r = chain_add(&c, &f, 0)) != 0)
		goto out;

	/* Everything is built; now write, one write(2) per line.  Should a
	 * write fail (disk full), cut the file back to where it was: under the
	 * writers' lock nobody else appended, so no half line is left to be
	 * reported as torn forever. */
	if (fstat(lfd, &st) == 0)
		end_before = st.st_size;
	for (size_t i = 0; i < c.n; i++) {
		char *p = c.lines[i];
		size_t n = c.lens[i] + 1;
		if (c.nl_before[i]) {
			/* Same write as the line: the fragment is terminated only together
			 * with the record that explains it. */
			char *q = malloc(n + 1);
			if (q == NULL) {
				r = IG_ERR_NOMEM;
				goto out;
			}
			q[0] = '\n';
			memcpy(q + 1, p, n);
			r = write_all(lfd, q, n + 1);
			free(q);
		} else {
			r = write_all(lfd, p, n);
		}
		if (r != 0) {
			if (end_before >= 0 && ftruncate(lfd, end_before) == 0)
				(void)fsync(lfd);
			goto out;
		}
	}
	if (fsync(lfd) != 0 || (created && fsync(dfd) != 0)) {
		r = IG_ERR_IO;
		goto out;
	}
	/* Best effort: a stale head only lags, and the line is already safe. */
	(void)head_write(hfd, c.seq, c.hash);
	close(lfd);
	lfd = -1;
	close(hfd); /* releases the lock before the syslog round trip */
	hfd = -1;
	if (opts->use_syslog) {
		for (size_t i = 0; i < c.n; i++)
			send_syslog(c.lines[i], c.lens[i], i + 1 == c.n ? f.decision : "info");
	}
	r = 0;
out:
	if (lfd >= 0)
		close(lfd);
	if (hfd >= 0)
		close(hfd);
	if (dfd >= 0)
		close(dfd);
	chain_clear(&c);
	fields_clear(&f);
	return r;
}

/* ---- verify ----------------------------------------------------------- */

enum { K_OTHER, K_START, K_TORN, K_MISMATCH };

struct item {
	int valid, terminated, too_long, kind;
	uint64_t seq, line;
	size_t file;
	uint8_t prev[HASH_LEN], hash[HASH_LEN];
	uint64_t found_seq, expected_seq; /* audit_head_mismatch */
	char why[128];
};

struct src {
	const char *mem; /* memory source, or NULL for fd */
	size_t memlen;
	int fd;
	uint64_t limit, off; /* bytes to read from fd; read so far */
	char *buf;
	size_t cap, pos, len;
	uint64_t line;
};

/*
 * Next line of a source: 1 and *p, *n (without newline), 0 at the end.  A
 * line longer than IG_AUDIT_MAX_LINE is returned cut, with *too_long set,
 * and the rest of it skipped.
 */
static int src_next(struct src *s, const char **p, size_t *n, int *term, int *too_long)
{
	*too_long = 0;
	*term = 1;
	if (s->mem) {
		const char *nl;
		if (s->off >= s->memlen)
			return 0;
		nl = memchr(s->mem + s->off, '\n', s->memlen - s->off);
		*p = s->mem + s->off;
		*n = nl ? (size_t)(nl - *p) : s->memlen - s->off;
		*term = nl != NULL;
		s->off += *n + (nl != NULL);
		s->line++;
		*too_long = *n > IG_AUDIT_MAX_LINE;
		return 1;
	}
	for (;;) {
		char *nl = memchr(s->buf + s->pos, '\n', s->len - s->pos);
		size_t room;
		ssize_t k;

		if (nl) {
			*p = s->buf + s->pos;
			*n = (size_t)(nl - *p);
			s->pos += *n + 1;
			s->line++;
			*too_long = *n > IG_AUDIT_MAX_LINE;
			return 1;
		}
		if (s->len - s->pos > IG_AUDIT_MAX_LINE) {
			/* Over-long: report it, then drop bytes up to its newline. */
			*p = s->buf + s->pos;
			*n = s->len - s->pos;
			*too_long = 1;
			s->line++;
			for (;;) {
				s->pos = s->len = 0;
				room = s->cap;
				if (s->limit - s->off < room)
					room = (size_t)(s->limit - s->off);
				if (room == 0)
					return 1;
				do {
					k = pread(s->fd, s->buf, room, (off_t)s->off);
				} while (k < 0 && errno == EINTR);
				if (k < 0)
					return IG_ERR_IO;
				if (k == 0)
					return 1;
				s->off += (uint64_t)k;
				s->len = (size_t)k;
				if ((nl = memchr(s->buf, '\n', s->len)) != NULL) {
					s->pos = (size_t)(nl - s->buf) + 1;
					/* *p pointed into buf, now reused: keep n only */
					*p = "";
					return 1;
				}
			}
		}
		if (s->pos > 0) {
			memmove(s->buf, s->buf + s->pos, s->len - s->pos);
			s->len -= s->pos;
			s->pos = 0;
		}
		room = s->cap - s->len;
		if (s->limit - s->off < room)
			room = (size_t)(s->limit - s->off);
		k = 0;
		if (room > 0) {
			do {
				k = pread(s->fd, s->buf + s->len, room, (off_t)s->off);
			} while (k < 0 && errno == EINTR);
			if (k < 0)
				return IG_ERR_IO;
		}
		if (k == 0) {
			if (s->len == 0)
				return 0;
			*p = s->buf;
			*n = s->len;
			*term = 0;
			s->pos = s->len;
			s->line++;
			return 1;
		}
		s->off += (uint64_t)k;
		s->len += (size_t)k;
	}
}

struct ver {
	struct src *srcs;
	size_t nsrc, cur;
	struct item pk;
	int has_pk;
	struct ig_audit_verify_result *res;
	int broken;
};

static int make_item(const char *p, size_t n, int term, int too_long, size_t file, uint64_t line,
                     struct item *it)
{
	struct ig_audit_record rec;
	int r;

	memset(it, 0, sizeof(*it));
	it->terminated = term;
	it->too_long = too_long;
	it->file = file;
	it->line = line;
	if (too_long)
		return 0;
	if ((r = sha256(p, n, it->hash)) != 0)
		return r;
	if (ig_audit_parse_line(p, n, &rec, it->why, sizeof(it->why)) != 0)
		return 0;
	it->valid = 1;
	it->seq = rec.seq;
	(void)unhex(rec.prev, HASH_LEN, it->prev);
	if (strcmp(rec.event, "log_start") == 0) {
		it->kind = K_START;
	} else if (strcmp(rec.event, "audit_torn_tail") == 0) {
		it->kind = K_TORN;
	} else if (strcmp(rec.event, "audit_head_mismatch") == 0) {
		json_t *fs = json_object_get(rec.obj, "found_seq");
		json_t *es = json_object_get(rec.obj, "expected_seq");
		it->kind = K_MISMATCH;
		it->found_seq = json_is_integer(fs) ? (uint64_t)json_integer_value(fs) : 0;
		it->expected_seq = json_is_integer(es) ? (uint64_t)json_integer_value(es) : 0;
	}
	ig_audit_record_clear(&rec);
	return 0;
}

/* 1 and *it, 0 at the end of the last source, or an error. */
static int v_take(struct ver *v, struct item *it)
{
	const char *p;
	size_t n;
	int term, too_long, r;

	if (v->has_pk) {
		*it = v->pk;
		v->has_pk = 0;
		return 1;
	}
	while (v->cur < v->nsrc) {
		struct src *s = &v->srcs[v->cur];
		r = src_next(s, &p, &n, &term, &too_long);
		if (r < 0)
			return r;
		if (r == 0) {
			v->cur++;
			continue;
		}
		v->res->lines++;
		if ((r = make_item(p, n, term, too_long, v->cur, s->line, it)) != 0)
			return r;
		return 1;
	}
	return 0;
}

static int v_peek(struct ver *v, struct item **it)
{
	int r;

	*it = NULL;
	if (!v->has_pk) {
		r = v_take(v, &v->pk);
		if (r <= 0)
			return r;
		v->has_pk = 1;
	}
	*it = &v->pk;
	return 1;
}

/* Append s to dst (capacity cap), cutting it if needed. */
static void str_cat(char *dst, size_t cap, const char *s)
{
	size_t l = strnlen(dst, cap), n = strlen(s);

	if (l + 1 >= cap)
		return;
	if (n > cap - l - 1)
		n = cap - l - 1;
	memcpy(dst + l, s, n);
	dst[l + n] = '\0';
}

static void v_report(struct ver *v, int is_break, uint64_t line, size_t file, const char *kind,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * Record a finding.  The first one becomes bad_line/what; a chain break
 * after an earlier torn fragment is appended to what, so neither hides the
 * other.
 */
static void v_report(struct ver *v, int is_break, uint64_t line, size_t file, const char *kind,
                     const char *fmt, ...)
{
	struct ig_audit_verify_result *res = v->res;
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	if (is_break && res->broken_line == 0) {
		res->broken_line = line;
		res->broken_file = file;
		v->broken = 1;
	}
	if (!is_break)
		res->torn++;
	if (res->bad_line == 0) {
		res->bad_line = line;
		res->bad_file = file;
		res->what[0] = res->kind[0] = '\0';
		str_cat(res->kind, sizeof(res->kind), kind);
		str_cat(res->what, sizeof(res->what), kind);
		str_cat(res->what, sizeof(res->what), ": ");
		str_cat(res->what, sizeof(res->what), msg);
	} else if (is_break) {
		char at[48];
		(void)snprintf(at, sizeof(at), "; then line %llu: ", (unsigned long long)line);
		str_cat(res->what, sizeof(res->what), at);
		str_cat(res->what, sizeof(res->what), kind);
		str_cat(res->what, sizeof(res->what), ": ");
		str_cat(res->what, sizeof(res->what), msg);
	}
}

static int eqh(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, HASH_LEN) == 0;
}

#define ULL(x) ((unsigned long long)(x))

/* A record that made it whole but without its newline: the last thing a
 * writer wrote before it stopped.  Torn, not a break. */
static void v_check_newline(struct ver *v, const struct item *it)
{
	if (!it->terminated)
		v_report(v, 0, it->line, it->file, "torn",
		         "line %llu ends without a newline: its writer stopped before finishing "
		         "(or the file was cut there), so the decision it records may not have "
		         "been returned; the next append records it",
		         ULL(it->line));
}

/* Walk the chain.  On return, *a is the last good record (if *have_a). */
static int v_run(struct ver *v, struct item *a, int *have_a)
{
	struct ig_audit_verify_result *res = v->res;
	struct item y, *z, a0;
	int have_a0 = 0, r;

	*have_a = 0;
	memset(&a0, 0, sizeof(a0));
	for (;;) {
		if ((r = v_take(v, &y)) <= 0)
			return r;
		if (y.too_long) {
			v_report(v, 1, y.line, y.file, "too long",
			         "line %llu is longer than %d bytes; iamgate never writes such a "
			         "line",
			         ULL(y.line), IG_AUDIT_MAX_LINE);
			return 0;
		}
		if (!y.valid) {
			struct item last = y;
			int nfrag = 1;

			for (; nfrag < MAX_FRAG_RUN; nfrag++) {
				if ((r = v_peek(v, &z)) < 0)
					return r;
				if (r == 0 || z->file != y.file || z->valid || z->too_long)
					break;
				(void)v_take(v, &last);
			}
			if ((r = v_peek(v, &z)) < 0)
				return r;
			if (z && z->valid &&
			    (z->kind == K_TORN ||
			     (z->kind == K_START && z->file != last.file && z->line == 1)) &&
			    eqh(z->prev, last.hash) && (!*have_a || z->seq == a->seq + 1)) {
				if (z->kind == K_TORN)
					v_report(v, 0, y.line, y.file, "torn",
					         "line %llu%s is an unfinished write (a writer "
					         "stopped "
					         "mid-line); the next writer terminated it and "
					         "recorded "
					         "audit_torn_tail at line %llu",
					         ULL(y.line),
					         nfrag > 1 ? " (and the lines after it)" : "",
					         ULL(z->line));
				else
					v_report(v, 0, y.line, y.file, "torn",
					         "line %llu, the end of this file, is an "
					         "unfinished write "
					         "(a writer stopped mid-line); the next file's "
					         "log_start "
					         "follows it",
					         ULL(y.line));
				(void)v_take(v, a);
				v_check_newline(v, a);
				*have_a = 1;
				have_a0 = 0;
				if (res->first_seq == 0)
					res->first_seq = a->seq;
				continue;
			}
			if (z == NULL && nfrag == 1 && !y.terminated) {
				v_report(v, 0, y.line, y.file, "torn",
				         "line %llu ends without a newline: a writer stopped "
				         "mid-line "
				         "(or the file was cut there); the next append records it",
				         ULL(y.line));
				return 0;
			}
			if (strncmp(y.why, "not valid JSON", 14) == 0)
				v_report(v, 1, y.line, y.file, "not JSON", "line %llu is %s",
				         ULL(y.line), y.why);
			else
				v_report(v, 1, y.line, y.file, "malformed",
				         "line %llu is JSON but not an audit record: %s",
				         ULL(y.line), y.why);
			return 0;
		}
		if (y.line == 1) {
			if (y.kind != K_START) {
				v_report(v, 1, y.line, y.file, "missing",
				         "line 1 is a record with seq %llu, not log_start: the "
				         "beginning "
				         "of this log was removed",
				         ULL(y.seq));
				return 0;
			}
			if (!*have_a) {
				ig_hex(y.prev, HASH_LEN, res->start_prev);
				res->first_seq = y.seq;
				*a = y;
				*have_a = 1;
				v_check_newline(v, a);
				continue;
			}
			if (y.seq == a->seq + 1 && eqh(y.prev, a->hash)) {
				a0 = *a;
				have_a0 = 1;
				*a = y;
				v_check_newline(v, a);
				continue;
			}
			if (y.seq <= a->seq)
				v_report(v, 1, y.line, y.file, "reordered",
				         "this file starts at seq %llu but the previous file "
				         "already "
				         "reached seq %llu: the files are out of order or overlap",
				         ULL(y.seq), ULL(a->seq));
			else if (y.seq == a->seq + 1)
				v_report(v, 1, y.line, y.file, "edited",
				         "the previous file's last line (line %llu) was changed "
				         "after "
				         "this file was started: its hash is not the prev recorded "
				         "here",
				         ULL(a->line));
			else
				v_report(
				        v, 1, y.line, y.file, "missing",
				        "this file continues from seq %llu but the previous file "
				        "ends "
				        "at seq %llu: %llu line(s) were removed from its end, or a "
				        "file is missing",
				        ULL(y.seq - 1), ULL(a->seq), ULL(y.seq - 1 - a->seq));
			return 0;
		}
		if (!*have_a) {
			/* Unreachable: line 1 of the first file sets a or stops. */
			v_report(v, 1, y.line, y.file, "malformed",
			         "no chain start before this line");
			return 0;
		}
		if (y.seq == a->seq + 1 && eqh(y.prev, a->hash)) {
			if (y.kind == K_TORN)
				v_report(
				        v, 0, a->line, a->file, "torn",
				        "line %llu was written completely but its writer stopped "
				        "before "
				        "the newline, so the decision it records may not have been "
				        "returned (audit_torn_tail at line %llu)",
				        ULL(a->line), ULL(y.line));
			if (y.kind == K_MISMATCH) {
				if (y.expected_seq > y.found_seq)
					v_report(v, 1, y.line, y.file, "missing",
					         "a writer found the log ending at seq %llu "
					         "although seq "
					         "%llu had been written: %llu line(s) were removed "
					         "from "
					         "the end before line %llu (audit_head_mismatch)",
					         ULL(y.found_seq), ULL(y.expected_seq),
					         ULL(y.expected_seq - y.found_seq), ULL(y.line));
				else
					v_report(v, 1, a->line, a->file, "edited",
					         "line %llu was changed after it was written: a "
					         "writer found "
					         "its hash differs from the one recorded when it "
					         "was "
					         "written (audit_head_mismatch at line %llu)",
					         ULL(a->line), ULL(y.line));
				return 0;
			}
			a0 = *a;
			have_a0 = 1;
			*a = y;
			v_check_newline(v, a);
			continue;
		}
		if ((r = v_peek(v, &z)) < 0)
			return r;
		if (z && (!z->valid || z->file != y.file))
			z = NULL;
		if (z && z->seq == a->seq + 1 && eqh(z->prev, a->hash) && y.seq == z->seq + 1 &&
		    eqh(y.prev, z->hash)) {
			v_report(v, 1, y.line, y.file, "reordered",
			         "lines %llu and %llu were swapped: line %llu (seq %llu) belongs "
			         "after "
			         "line %llu (seq %llu)",
			         ULL(y.line), ULL(z->line), ULL(y.line), ULL(y.seq), ULL(z->line),
			         ULL(z->seq));
			return 0;
		}
		if (z && z->seq == a->seq + 1 && eqh(z->prev, a->hash)) {
			v_report(v, 1, y.line, y.file, "inserted",
			         "line %llu does not belong to the chain: line %llu follows line "
			         "%llu "
			         "directly (its prev is line %llu's hash); line %llu was added",
			         ULL(y.line), ULL(z->line), ULL(a->line), ULL(a->line),
			         ULL(y.line));
			return 0;
		}
		if (have_a0 && a0.file == y.file && y.seq == a0.seq + 1 && eqh(y.prev, a0.hash)) {
			v_report(v, 1, a->line, a->file, "inserted",
			         "line %llu does not belong to the chain: line %llu follows line "
			         "%llu "
			         "directly (its prev is line %llu's hash); line %llu was added",
			         ULL(a->line), ULL(y.line), ULL(a0.line), ULL(a0.line),
			         ULL(a->line));
			return 0;
		}
		if (y.seq == a->seq + 1) {
			if (z == NULL || eqh(z->prev, y.hash))
				v_report(v, 1, a->line, a->file, "edited",
				         "line %llu was changed after it was written: its SHA-256 "
				         "no "
				         "longer matches the prev recorded in line %llu",
				         ULL(a->line), ULL(y.line));
			else
				v_report(v, 1, y.line, y.file, "edited",
				         "line %llu was changed after it was written: its prev "
				         "does not "
				         "match line %llu, and line %llu's prev does not match it",
				         ULL(y.line), ULL(a->line), ULL(z->line));
			return 0;
		}
		if (y.seq > a->seq + 1) {
			if (z && z->seq > a->seq && z->seq < y.seq)
				v_report(v, 1, y.line, y.file, "reordered",
				         "line %llu has seq %llu but the line after it has seq "
				         "%llu: "
				         "lines were moved or swapped",
				         ULL(y.line), ULL(y.seq), ULL(z->seq));
			else if (eqh(y.prev, a->hash))
				v_report(v, 1, y.line, y.file, "edited",
				         "line %llu's seq was changed (it is %llu, expected %llu) "
				         "although "
				         "its prev links to line %llu",
				         ULL(y.line), ULL(y.seq), ULL(a->seq + 1), ULL(a->line));
			else
				v_report(v, 1, y.line, y.file, "missing",
				         "seq jumps from %llu (line %llu) to %llu: %llu line(s) "
				         "were "
				         "removed before line %llu",
				         ULL(a->seq), ULL(a->line), ULL(y.seq),
				         ULL(y.seq - a->seq - 1), ULL(y.line));
			return 0;
		}
		v_report(v, 1, y.line, y.file, "reordered",
		         "line %llu has seq %llu, which does not follow seq %llu of line %llu: "
		         "lines were moved, swapped or copied",
		         ULL(y.line), ULL(y.seq), ULL(a->seq), ULL(a->line));
		return 0;
	}
}

static void res_init(struct ig_audit_verify_result *res)
{
	memset(res, 0, sizeof(*res));
}

static int v_finish(struct ver *v, const struct item *a, int have_a, const struct head *h)
{
	struct ig_audit_verify_result *res = v->res;

	if (have_a)
		res->last_seq = a->seq;
	if (h && h->have && have_a && !v->broken) {
		res->head_checked = 1;
		if (a->seq < h->seq)
			v_report(v, 1, a->line + 1, a->file, "missing",
			         "the log ends at seq %llu but the writers recorded seq %llu as "
			         "written: %llu line(s) were removed from its end",
			         ULL(a->seq), ULL(h->seq), ULL(h->seq - a->seq));
		else if (a->seq == h->seq && !eqh(a->hash, h->hash))
			v_report(v, 1, a->line, a->file, "edited",
			         "line %llu, the last, was changed after it was written: its hash "
			         "differs from the one the writer recorded",
			         ULL(a->line));
	}
	return res->bad_line ? IG_ERR_PARSE : 0;
}

int ig_audit_verify_buf(const char *buf, size_t len, struct ig_audit_verify_result *res)
{
	struct src s;
	struct ver v;
	struct item a;
	int have_a, r;

	res_init(res);
	memset(&s, 0, sizeof(s));
	memset(&v, 0, sizeof(v));
	s.mem = buf ? buf : "";
	s.memlen = buf ? len : 0;
	s.fd = -1;
	v.srcs = &s;
	v.nsrc = 1;
	v.res = res;
	if ((r = v_run(&v, &a, &have_a)) != 0)
		return r;
	return v_finish(&v, &a, have_a, NULL);
}

/*
 * How much of a log to read.  A writer may be mid-write: when the file
 * does not end in '\n', give it a moment to finish before calling the end
 * torn (the writers' lock is not open to readers).
 */
static uint64_t settle_size(int fd)
{
	struct stat st;
	char c;
	size_t got;
	struct timespec nap = {0, 50 * 1000 * 1000};

	for (int i = 0; i < 20; i++) {
		if (fstat(fd, &st) != 0 || st.st_size <= 0)
			return 0;
		if (pread_all(fd, &c, 1, (uint64_t)st.st_size - 1, &got) != 0 || got != 1 ||
		    c == '\n')
			break;
		(void)nanosleep(&nap, NULL);
	}
	return (uint64_t)st.st_size;
}

/* Root only: read the head under the writers' lock, with the log size. */
static void head_snapshot(const char *path, int lfd, struct head *h, uint64_t *size)
{
	char hpath[PATH_MAX];
	struct stat hs, ls, ps;
	int hfd;

	memset(h, 0, sizeof(*h));
	if (ig_bfmt(hpath, sizeof(hpath), "%s.head", path) != 0)
		return;
	hfd = open(hpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (hfd < 0)
		return;
	if (fstat(hfd, &hs) == 0 && file_is_trusted(&hs, 1) &&
	    lock_bounded(hfd, LOCK_SH, 1000) == 0) {
		/* The head describes the file now at path: skip it after a rotation. */
		if (fstat(lfd, &ls) == 0 && stat(path, &ps) == 0 && ls.st_ino == ps.st_ino &&
		    ls.st_dev == ps.st_dev) {
			head_read(hfd, h);
			*size = (uint64_t)ls.st_size;
		}
	}
	close(hfd); /* drops the shared lock at once: a reader never stalls writers long */
}

int ig_audit_verify_files(const char *const *paths, size_t npaths,
                          struct ig_audit_verify_result *res)
{
	struct src *srcs = NULL;
	struct ver v;
	struct item a;
	struct head h;
	struct stat st;
	int have_a = 0, r = 0;
	size_t i;

	res_init(res);
	memset(&h, 0, sizeof(h));
	if (paths == NULL || npaths == 0)
		return IG_ERR_INVAL;
	if ((srcs = calloc(npaths, sizeof(*srcs))) == NULL)
		return IG_ERR_NOMEM;
	for (i = 0; i < npaths; i++)
		srcs[i].fd = -1;
	for (i = 0; i < npaths; i++) {
		struct src *s = &srcs[i];
		res->bad_file = i;
		s->fd = open(paths[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (s->fd < 0) {
			r = errno == ENOENT ? IG_ERR_NOTFOUND
			                    : (errno == ELOOP ? IG_ERR_UNSAFE : IG_ERR_IO);
			(void)snprintf(res->what, sizeof(res->what), "%s",
			               errno == ELOOP ? "is a symbolic link; give the real path"
			                              : strerror(errno));
			goto out;
		}
		if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			r = IG_ERR_UNSAFE;
			(void)snprintf(res->what, sizeof(res->what), "is not a regular file");
			goto out;
		}
		s->limit = (uint64_t)st.st_size;
		if (i + 1 == npaths) {
			s->limit = settle_size(s->fd);
			head_snapshot(paths[i], s->fd, &h, &s->limit);
		}
		s->cap = 2 * (IG_AUDIT_MAX_LINE + 1);
		if ((s->buf = malloc(s->cap)) == NULL) {
			r = IG_ERR_NOMEM;
			goto out;
		}
	}
	res->bad_file = 0;
	res->what[0] = '\0';
	memset(&v, 0, sizeof(v));
	v.srcs = srcs;
	v.nsrc = npaths;
	v.res = res;
	if ((r = v_run(&v, &a, &have_a)) != 0) {
		(void)snprintf(res->what, sizeof(res->what), "read error: %s", strerror(errno));
		goto out;
	}
	r = v_finish(&v, &a, have_a, &h);
out:
	for (i = 0; i < npaths; i++) {
		if (srcs[i].fd >= 0)
			close(srcs[i].fd);
		free(srcs[i].buf);
	}
	free(srcs);
	return r;
}

int ig_audit_verify(const char *path, struct ig_audit_verify_result *res)
{
	const char *paths[1] = {path};

	return ig_audit_verify_files(paths, 1, res);
}

/* ---- times for `audit show` ------------------------------------------- */

int ig_audit_parse_time(const char *s, int utc, int64_t now_ms, int end_of_day, int64_t *out_ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = 0, zoned = 0, date_only = 0;
	size_t n, i;
	int64_t t;

	if (s == NULL)
		return IG_ERR_PARSE;
	n = strlen(s);
	if (strcmp(s, "now") == 0) {
		*out_ms = now_ms;
		return 0;
	}
	if (n >= 3 && n <= 12 && s[0] == '-') {
		int64_t v = 0, unit;
		for (i = 1; i + 1 < n; i++) {
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
	if (n < 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
	    digits(s + 8, 2, &d))
		return IG_ERR_PARSE;
	i = 10;
	if (n == 10) {
		date_only = 1;
	} else {
		if ((s[10] != 'T' && s[10] != ' ') || n < 16 || s[13] != ':' ||
		    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi))
			return IG_ERR_PARSE;
		i = 16;
		if (i < n && s[i] == ':') {
			if (n < i + 3 || digits(s + i + 1, 2, &sec))
				return IG_ERR_PARSE;
			i += 3;
			if (i < n && s[i] == '.') {
				if (n < i + 4 || digits(s + i + 1, 3, &frac))
					return IG_ERR_PARSE;
				i += 4;
			}
		}
		if (i < n && s[i] == 'Z') {
			zoned = 1;
			i++;
		} else if (i < n && (s[i] == '+' || s[i] == '-')) {
			int oh, om;
			size_t m;
			if (n < i + 5)
				return IG_ERR_PARSE;
			m = s[i + 3] == ':' ? 1 : 0;
			if (n != i + 5 + m || digits(s + i + 1, 2, &oh) ||
			    digits(s + i + 3 + m, 2, &om) || oh > 23 || om > 59)
				return IG_ERR_PARSE;
			off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
			zoned = 1;
			i = n;
		}
		if (i != n)
			return IG_ERR_PARSE;
	}
	if (make_time(y, mo, d, h, mi, sec, utc || zoned, &t) != 0)
		return IG_ERR_PARSE;
	t -= off;
	*out_ms = t * 1000 + frac;
	if (date_only && end_of_day) {
		/* The next day's start (DST days are not 24 h long), minus 1 ms. */
		int64_t t2;
		struct tm tm;
		time_t tt = (time_t)(t + 36 * 3600);
		if (((utc || zoned) ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) == NULL ||
		    make_time(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0, 0, 0, utc || zoned,
		              &t2) != 0)
			return IG_ERR_PARSE;
		*out_ms = t2 * 1000 - 1;
	}
	return 0;
}
