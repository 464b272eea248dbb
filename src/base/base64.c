/* base64.c - strict standard base64 (base64.h). */
#include <string.h>

#include "iamgate/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int ig_base64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	if (n > (((size_t)-1) / 4) * 3 - 3 || cap < IG_BASE64_LEN(n) + 1) {
		if (cap > 0)
			out[0] = '\0';
		return IG_ERR_RANGE;
	}
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = left > 1 ? alphabet[v >> 6 & 63] : '=';
		out[o++] = left > 2 ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}

static int value(char c)
{
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p != NULL ? (int)(p - alphabet) : -1;
}

/* One group of four characters (the last may be padded) into 1..3 bytes. */
static int group(const char *g, int last, uint8_t b[3], size_t *nb)
{
	int v[4], pad = 0;

	for (int k = 0; k < 4; k++) {
		if (last && k >= 2 && g[k] == '=' && (k == 3 || g[3] == '=')) {
			pad++;
			v[k] = 0;
			continue;
		}
		if ((v[k] = value(g[k])) < 0)
			return IG_ERR_PARSE;
	}
	/* The bits padding leaves unused must be zero: one spelling only. */
	if ((pad == 2 && (v[1] & 15) != 0) || (pad == 1 && (v[2] & 3) != 0))
		return IG_ERR_PARSE;
	b[0] = (uint8_t)(v[0] << 2 | v[1] >> 4);
	b[1] = (uint8_t)((v[1] & 15) << 4 | v[2] >> 2);
	b[2] = (uint8_t)((v[2] & 3) << 6 | v[3]);
	*nb = 3 - (size_t)pad;
	return 0;
}

int ig_base64_decode(const char *text, size_t len, uint8_t *out, size_t cap, size_t *n)
{
	size_t o = 0, nb;
	uint8_t b[3];
	int r = 0;

	*n = 0;
	if (text == NULL || len % 4 != 0)
		return IG_ERR_PARSE;
	for (size_t i = 0; i < len && r == 0; i += 4) {
		if ((r = group(text + i, i + 4 == len, b, &nb)) != 0)
			break;
		if (nb > cap - o) {
			r = IG_ERR_RANGE;
			break;
		}
		memcpy(out + o, b, nb);
		o += nb;
	}
	explicit_bzero(b, sizeof(b));
	if (r != 0) {
		explicit_bzero(out, o);
		return r;
	}
	*n = o;
	return 0;
}
