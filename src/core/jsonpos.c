/*
 * jsonpos.c - locate a value in JSON text by path (see jsonpos.h).
 *
 * One forward pass over the text with an explicit, fixed-size stack of open
 * containers: no recursion, no allocation, so hostile input can cost at most
 * O(len) time and a constant amount of memory.  The whole text is validated
 * even after the target is found, so the answer never depends on where the
 * malformed part happens to be.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "iamgate/jsonpos.h"

struct frame {
	unsigned char is_obj;   /* 1 object, 0 array */
	unsigned char on_path;  /* this container is the value at path[0..level) */
	unsigned char consumed; /* its path step already matched (first key wins) */
	size_t index;           /* current element index (arrays) */
};

struct scan {
	const unsigned char *p;
	size_t len;
	size_t pos;
};

/* Incremental comparison of a decoded string against a wanted C string. */
struct keycmp {
	const char *want; /* NULL: not comparing */
	size_t at;
	int differs;
};

static void skip_ws(struct scan *s)
{
	while (s->pos < s->len) {
		unsigned char c = s->p[s->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		s->pos++;
	}
}

static int peek(const struct scan *s)
{
	return s->pos < s->len ? s->p[s->pos] : -1;
}

static void cmp_byte(struct keycmp *k, unsigned char b)
{
	if (k->want == NULL || k->differs)
		return;
	if (b != 0 && (unsigned char)k->want[k->at] == b)
		k->at++;
	else
		k->differs = 1;
}

static void cmp_cp(struct keycmp *k, uint32_t cp)
{
	if (cp < 0x80) {
		cmp_byte(k, (unsigned char)cp);
	} else if (cp < 0x800) {
		cmp_byte(k, (unsigned char)(0xC0 | (cp >> 6)));
		cmp_byte(k, (unsigned char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		cmp_byte(k, (unsigned char)(0xE0 | (cp >> 12)));
		cmp_byte(k, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
		cmp_byte(k, (unsigned char)(0x80 | (cp & 0x3F)));
	} else {
		cmp_byte(k, (unsigned char)(0xF0 | (cp >> 18)));
		cmp_byte(k, (unsigned char)(0x80 | ((cp >> 12) & 0x3F)));
		cmp_byte(k, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
		cmp_byte(k, (unsigned char)(0x80 | (cp & 0x3F)));
	}
}

static int hex4(struct scan *s, uint32_t *out)
{
	uint32_t v = 0;

	if (s->len - s->pos < 4)
		return IG_ERR_PARSE;
	for (int i = 0; i < 4; i++) {
		unsigned char c = s->p[s->pos++];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return IG_ERR_PARSE;
	}
	*out = v;
	return 0;
}

/* After the backslash-u: one code point, pairing surrogates. */
static int unicode_escape(struct scan *s, uint32_t *cp)
{
	uint32_t hi, lo;

	if (hex4(s, &hi) != 0)
		return IG_ERR_PARSE;
	if (hi >= 0xDC00 && hi <= 0xDFFF)
		return IG_ERR_PARSE; /* lone low surrogate */
	if (hi < 0xD800 || hi > 0xDBFF) {
		*cp = hi;
		return 0;
	}
	if (s->len - s->pos < 2 || s->p[s->pos] != '\\' || s->p[s->pos + 1] != 'u')
		return IG_ERR_PARSE; /* high surrogate not followed by a low one */
	s->pos += 2;
	if (hex4(s, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
		return IG_ERR_PARSE;
	*cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
	return 0;
}

/* One raw UTF-8 character starting at a byte >= 0x80 (RFC 3629 table). */
static int utf8_char(struct scan *s, struct keycmp *k)
{
	unsigned char c = s->p[s->pos];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;

	if (c >= 0xC2 && c <= 0xDF) {
		n = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 2;
		if (c == 0xE0)
			lo = 0xA0; /* no overlong */
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* nothing above U+10FFFF */
	} else {
		return IG_ERR_PARSE;
	}
	if (s->len - s->pos <= n)
		return IG_ERR_PARSE;
	for (size_t i = 1; i <= n; i++) {
		unsigned char b = s->p[s->pos + i];
		if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF))
			return IG_ERR_PARSE;
	}
	for (size_t i = 0; i <= n; i++)
		cmp_byte(k, s->p[s->pos + i]);
	s->pos += n + 1;
	return 0;
}

/*
 * A string at s->pos (which must be '"').  If want != NULL, *match is set to
 * 1 when the decoded string equals want exactly.
 */
static int scan_string(struct scan *s, const char *want, int *match)
{
	struct keycmp k = {want, 0, 0};
	uint32_t cp;

	if (peek(s) != '"')
		return IG_ERR_PARSE;
	s->pos++;
	for (;;) {
		if (s->pos >= s->len)
			return IG_ERR_PARSE;
		unsigned char c = s->p[s->pos];
		if (c == '"') {
			s->pos++;
			break;
		}
		if (c < 0x20)
			return IG_ERR_PARSE;
		if (c >= 0x80) {
			if (utf8_char(s, &k) != 0)
				return IG_ERR_PARSE;
			continue;
		}
		s->pos++;
		if (c != '\\') {
			cmp_byte(&k, c);
			continue;
		}
		if (s->pos >= s->len)
			return IG_ERR_PARSE;
		c = s->p[s->pos++];
		switch (c) {
		case '"':
		case '\\':
		case '/': cmp_byte(&k, c); break;
		case 'b': cmp_byte(&k, '\b'); break;
		case 'f': cmp_byte(&k, '\f'); break;
		case 'n': cmp_byte(&k, '\n'); break;
		case 'r': cmp_byte(&k, '\r'); break;
		case 't': cmp_byte(&k, '\t'); break;
		case 'u':
			if (unicode_escape(s, &cp) != 0)
				return IG_ERR_PARSE;
			cmp_cp(&k, cp);
			break;
		default: return IG_ERR_PARSE;
		}
	}
	if (match)
		*match = want != NULL && !k.differs && want[k.at] == '\0';
	return 0;
}

static size_t digits(struct scan *s)
{
	size_t start = s->pos;

	while (s->pos < s->len && s->p[s->pos] >= '0' && s->p[s->pos] <= '9')
		s->pos++;
	return s->pos - start;
}

static int scan_number(struct scan *s)
{
	if (peek(s) == '-')
		s->pos++;
	if (peek(s) == '0')
		s->pos++;
	else if (digits(s) == 0)
		return IG_ERR_PARSE;
	if (peek(s) == '.') {
		s->pos++;
		if (digits(s) == 0)
			return IG_ERR_PARSE;
	}
	if (peek(s) == 'e' || peek(s) == 'E') {
		s->pos++;
		if (peek(s) == '+' || peek(s) == '-')
			s->pos++;
		if (digits(s) == 0)
			return IG_ERR_PARSE;
	}
	return 0;
}

static int scan_literal(struct scan *s, const char *lit)
{
	size_t n = strlen(lit);

	if (s->len - s->pos < n || memcmp(s->p + s->pos, lit, n) != 0)
		return IG_ERR_PARSE;
	s->pos += n;
	return 0;
}

static int scan_scalar(struct scan *s)
{
	int c = peek(s);

	switch (c) {
	case '"': return scan_string(s, NULL, NULL);
	case 't': return scan_literal(s, "true");
	case 'f': return scan_literal(s, "false");
	case 'n': return scan_literal(s, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return scan_number(s);
		return IG_ERR_PARSE;
	}
}

/*
 * An object member's key and colon; sets *on_path when the key is the path
 * step of an on-path object not yet consumed.  *keypos receives the offset of
 * the key's opening quote.
 */
static int scan_member_key(struct scan *s, struct frame *f, const struct ig_json_step *step,
                           int *on_path, size_t *keypos)
{
	const char *want = NULL;
	int match = 0;

	skip_ws(s);
	*keypos = s->pos;
	if (step != NULL && f->on_path && !f->consumed && step->key != NULL)
		want = step->key;
	if (scan_string(s, want, &match) != 0)
		return IG_ERR_PARSE;
	skip_ws(s);
	if (peek(s) != ':')
		return IG_ERR_PARSE;
	s->pos++;
	if (match)
		f->consumed = 1;
	*on_path = match;
	return 0;
}

/* The path step for a container at level (NULL past the path's end: never
 * form a pointer beyond the caller's array). */
static const struct ig_json_step *step_at(const struct ig_json_step *path, size_t depth,
                                          size_t level)
{
	return level < depth ? &path[level] : NULL;
}

static int element_on_path(const struct frame *f, const struct ig_json_step *step)
{
	return step != NULL && f->on_path && step->key == NULL && step->index == f->index;
}

void ig_json_offset_to_linecol(const char *text, size_t len, size_t off, int *line, int *col)
{
	size_t ln = 1, bol = 0;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			ln++;
			bol = i + 1;
		}
	}
	*line = ln > INT_MAX ? INT_MAX : (int)ln;
	*col = off - bol + 1 > INT_MAX ? INT_MAX : (int)(off - bol + 1);
}

int ig_json_locate(const char *text, size_t len, const struct ig_json_step *path, size_t depth,
                   int where_key, int *line, int *col)
{
	struct frame st[IG_JSON_MAX_DEPTH];
	struct scan s = {(const unsigned char *)text, len, 0};
	size_t n = 0; /* open containers */
	size_t keypos = 0, found_at = 0;
	int on_path = 1; /* the root is the value at path[0..0) */
	int found = 0;

	if (text == NULL || line == NULL || col == NULL || (path == NULL && depth > 0))
		return IG_ERR_INVAL;

	for (;;) {
		/* A value starts here; its path length is n. */
		skip_ws(&s);
		if (on_path && n == depth && !found) {
			found = 1;
			found_at = (where_key && depth > 0 && path[depth - 1].key != NULL) ? keypos
			                                                                   : s.pos;
		}
		int c = peek(&s);
		if (c == '{' || c == '[') {
			if (n == IG_JSON_MAX_DEPTH)
				return IG_ERR_PARSE;
			st[n].is_obj = c == '{';
			st[n].on_path = on_path && n < depth;
			st[n].consumed = 0;
			st[n].index = 0;
			n++;
			s.pos++;
			skip_ws(&s);
			if (peek(&s) == (c == '{' ? '}' : ']')) {
				s.pos++;
				n--;
				goto after_value;
			}
			if (st[n - 1].is_obj) {
				if (scan_member_key(&s, &st[n - 1], step_at(path, depth, n - 1),
				                    &on_path, &keypos) != 0)
					return IG_ERR_PARSE;
			} else {
				on_path = element_on_path(&st[n - 1], step_at(path, depth, n - 1));
			}
			continue;
		}
		if (scan_scalar(&s) != 0)
			return IG_ERR_PARSE;
	after_value:
		/* Close containers until one continues with ',' or the text ends. */
		for (;;) {
			skip_ws(&s);
			if (n == 0) {
				if (s.pos != s.len)
					return IG_ERR_PARSE;
				if (!found)
					return IG_ERR_NOTFOUND;
				ig_json_offset_to_linecol(text, len, found_at, line, col);
				return 0;
			}
			struct frame *f = &st[n - 1];
			c = peek(&s);
			if (c == (f->is_obj ? '}' : ']')) {
				s.pos++;
				n--;
				continue;
			}
			if (c != ',')
				return IG_ERR_PARSE;
			s.pos++;
			f->index++;
			if (f->is_obj) {
				if (scan_member_key(&s, f, step_at(path, depth, n - 1), &on_path,
				                    &keypos) != 0)
					return IG_ERR_PARSE;
			} else {
				on_path = element_on_path(f, step_at(path, depth, n - 1));
			}
			break;
		}
	}
}
