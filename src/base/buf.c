/* buf.c - see buf.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/buf.h"
#include "iamgate/util.h"

static size_t limit(const struct ig_buf *b)
{
	return b->max != 0 ? b->max : IG_BUF_DEFAULT_MAX;
}

/* Room for len + n bytes and a NUL; a grown buffer never leaves a copy. */
static int grow(struct ig_buf *b, size_t n)
{
	size_t need, na;
	char *np;

	if (b->err != 0)
		return b->err;
	if (n > limit(b) || b->len > limit(b) - n) {
		b->err = IG_ERR_RANGE;
		return b->err;
	}
	need = b->len + n + 1;
	if (need <= b->alloc)
		return 0;
	na = b->alloc != 0 ? b->alloc : 128;
	while (na < need)
		na = na > (size_t)-1 / 2 ? need : na * 2;
	if (na > limit(b) + 1)
		na = limit(b) + 1;
	if ((np = malloc(na)) == NULL) {
		b->err = IG_ERR_NOMEM;
		return b->err;
	}
	if (b->p != NULL) {
		memcpy(np, b->p, b->len + 1);
		ig_freezero(b->p, b->alloc);
	}
	b->p = np;
	b->alloc = na;
	return 0;
}

void ig_buf_add(struct ig_buf *b, const void *data, size_t n)
{
	if (grow(b, n) != 0)
		return;
	if (n != 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void ig_buf_puts(struct ig_buf *b, const char *s)
{
	ig_buf_add(b, s, strlen(s));
}

void ig_buf_putc(struct ig_buf *b, char c)
{
	ig_buf_add(b, &c, 1);
}

void ig_buf_vprintf(struct ig_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		if (b->err == 0)
			b->err = IG_ERR_INVAL;
		return;
	}
	if (grow(b, (size_t)n) != 0)
		return;
	(void)vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void ig_buf_printf(struct ig_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ig_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *ig_buf_reserve(struct ig_buf *b, size_t n)
{
	if (grow(b, n) != 0)
		return NULL;
	return b->p + b->len;
}

void ig_buf_commit(struct ig_buf *b, size_t n)
{
	if (b->err != 0 || b->p == NULL || n > b->alloc - b->len - 1) {
		if (b->err == 0)
			b->err = IG_ERR_INTERNAL;
		return;
	}
	b->len += n;
	b->p[b->len] = '\0';
}

int ig_buf_err(const struct ig_buf *b)
{
	return b->err;
}

const char *ig_buf_str(const struct ig_buf *b)
{
	return b->p != NULL ? b->p : "";
}

void ig_buf_reset(struct ig_buf *b)
{
	if (b->p != NULL)
		explicit_bzero(b->p, b->alloc);
	b->len = 0;
}

void ig_buf_free(struct ig_buf *b)
{
	ig_freezero(b->p, b->alloc);
	b->p = NULL;
	b->len = b->alloc = 0;
	b->err = 0;
}

int ig_buf_take(struct ig_buf *b, char **out)
{
	*out = NULL;
	if (b->err != 0)
		return b->err;
	if (b->p == NULL) {
		ig_buf_add(b, "", 0);
		if (b->err != 0)
			return b->err;
	}
	*out = b->p;
	b->p = NULL;
	b->len = b->alloc = 0;
	return 0;
}
