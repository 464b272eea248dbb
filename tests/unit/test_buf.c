/*
 * test_buf.c - ig_buf: appends and formatting, the cap (an append past it
 * fails and the error sticks), reserve/commit, take, and the wipe: no byte
 * the buffer ever held survives in a block it gave back (checked through a
 * malloc/free interposer that looks at each freed block first).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iamgate/buf.h"
#include "iamgate/util.h"

#define MARK "S3CRET-MARK"

static int holds_mark(const char *p, size_t n)
{
	for (size_t i = 0; i + strlen(MARK) <= n; i++)
		if (memcmp(p + i, MARK, strlen(MARK)) == 0)
			return 1;
	return 0;
}

static void test_append_and_format(void **state)
{
	struct ig_buf b = IG_BUF_INIT(0);
	char *s = NULL;

	(void)state;
	assert_string_equal(ig_buf_str(&b), "");
	ig_buf_puts(&b, "a=");
	ig_buf_printf(&b, "%d/%s", 42, "x");
	ig_buf_putc(&b, '!');
	ig_buf_add(&b, "\0z", 2);
	assert_int_equal(ig_buf_err(&b), 0);
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.p, "a=42/x!\0z", 10);
	assert_int_equal(ig_buf_take(&b, &s), 0);
	assert_non_null(s);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	free(s);
	ig_buf_free(&b);
}

static void test_cap_sticks(void **state)
{
	struct ig_buf b = IG_BUF_INIT(8);
	char *s = (char *)1;

	(void)state;
	ig_buf_puts(&b, "12345678");
	assert_int_equal(ig_buf_err(&b), 0);
	ig_buf_putc(&b, '9');
	assert_int_equal(ig_buf_err(&b), IG_ERR_RANGE);
	/* Later appends do nothing, even ones that would fit. */
	ig_buf_reset(&b);
	ig_buf_puts(&b, "a");
	assert_int_equal(ig_buf_err(&b), IG_ERR_RANGE);
	assert_int_equal(b.len, 0);
	assert_int_equal(ig_buf_take(&b, &s), IG_ERR_RANGE);
	assert_null(s);
	ig_buf_free(&b);
	/* A format past the cap fails the same way. */
	b = (struct ig_buf)IG_BUF_INIT(4);
	ig_buf_printf(&b, "%s", "hello");
	assert_int_equal(ig_buf_err(&b), IG_ERR_RANGE);
	ig_buf_free(&b);
}

static void test_reserve_commit(void **state)
{
	struct ig_buf b = IG_BUF_INIT(16);
	char *w;

	(void)state;
	w = ig_buf_reserve(&b, 10);
	assert_non_null(w);
	memcpy(w, "abc", 3);
	ig_buf_commit(&b, 3);
	assert_int_equal(ig_buf_err(&b), 0);
	assert_string_equal(ig_buf_str(&b), "abc");
	/* More than was reserved is a bug, and it sticks. */
	assert_non_null(ig_buf_reserve(&b, 2));
	ig_buf_commit(&b, b.alloc);
	assert_int_equal(ig_buf_err(&b), IG_ERR_INTERNAL);
	ig_buf_free(&b);
	/* Reserving past the cap fails. */
	b = (struct ig_buf)IG_BUF_INIT(16);
	assert_null(ig_buf_reserve(&b, 17));
	assert_int_equal(ig_buf_err(&b), IG_ERR_RANGE);
	ig_buf_free(&b);
}

static void test_growth_keeps_content_reset_wipes(void **state)
{
	struct ig_buf b = IG_BUF_INIT(0);

	(void)state;
	ig_buf_puts(&b, MARK);
	for (int i = 0; i < 200; i++)
		ig_buf_puts(&b, "0123456789abcdef");
	assert_int_equal(ig_buf_err(&b), 0);
	assert_int_equal(b.len, strlen(MARK) + 200 * 16);
	assert_memory_equal(b.p, MARK, strlen(MARK));
	ig_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_non_null(b.p);
	assert_false(holds_mark(b.p, b.alloc));
	ig_buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.alloc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_append_and_format),
	        cmocka_unit_test(test_cap_sticks),
	        cmocka_unit_test(test_reserve_commit),
	        cmocka_unit_test(test_growth_keeps_content_reset_wipes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
