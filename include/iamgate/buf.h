/*
 * buf.h - the one growable byte buffer (after OpenSSH's sshbuf): a hard size
 * cap, the first error sticks, and every byte it ever held is wiped, on
 * growth and on free, because buffers carry codes, keys and session tokens.
 *
 * A chain of appends is checked once, at the end:
 *
 *	struct ig_buf b = IG_BUF_INIT(4096);
 *	ig_buf_puts(&b, "a=");
 *	ig_buf_printf(&b, "%d", n);
 *	if ((r = ig_buf_err(&b)) != 0) goto out;
 *	... b.p (NUL-terminated), b.len ...
 *	out: ig_buf_free(&b);
 *
 * The content is always NUL-terminated once anything was added (the NUL is
 * not counted in len and not part of the cap).  A zeroed struct has cap 0,
 * which means IG_BUF_DEFAULT_MAX.
 */
#ifndef IAMGATE_BUF_H
#define IAMGATE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "iamgate/error.h"

#define IG_BUF_DEFAULT_MAX (4u << 20)

struct ig_buf {
	char *p;      /* NULL until the first append */
	size_t len;   /* bytes held, without the terminating NUL */
	size_t alloc; /* bytes allocated */
	size_t max;   /* most bytes it may hold; 0: IG_BUF_DEFAULT_MAX */
	int err;      /* 0, or the first IG_ERR_* (NOMEM, RANGE): later appends do nothing */
};

#define IG_BUF_INIT(max_bytes)                                                                     \
	{                                                                                          \
		NULL, 0, 0, (max_bytes), 0                                                         \
	}

/* Append n bytes (may contain NUL).  Past max: IG_ERR_RANGE sticks. */
void ig_buf_add(struct ig_buf *b, const void *data, size_t n);
void ig_buf_puts(struct ig_buf *b, const char *s);
void ig_buf_putc(struct ig_buf *b, char c);
void ig_buf_printf(struct ig_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ig_buf_vprintf(struct ig_buf *b, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

/* Make room for n more bytes and return where they go (NULL on error, which
 * sticks); the caller writes at most n bytes there and then calls
 * ig_buf_commit with the number written.  For read(2) and curl callbacks. */
char *ig_buf_reserve(struct ig_buf *b, size_t n);
void ig_buf_commit(struct ig_buf *b, size_t n);

/* The first error, or 0.  An empty buffer that never failed is 0 (p may be NULL). */
int ig_buf_err(const struct ig_buf *b) IG_MUST_CHECK;

/* The text, "" for an empty buffer (never NULL). */
const char *ig_buf_str(const struct ig_buf *b);

/* Forget the content (wiped) but keep the allocation and the error. */
void ig_buf_reset(struct ig_buf *b);

/* Wipe everything ever held and free; the struct is reusable with its max. */
void ig_buf_free(struct ig_buf *b);

/* Move the content into a malloc'd NUL-terminated string *out (wipe it with
 * ig_free_secret_str when it is secret) and empty b.  Returns b's error
 * instead when there is one (nothing is moved). */
int ig_buf_take(struct ig_buf *b, char **out) IG_MUST_CHECK;

#endif
