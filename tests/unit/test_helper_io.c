/*
 * test_helper_io.c - the helpers' edges: a request read to EOF within its
 * cap, the bad_request reply, and the wiping realloc given to libxml2
 * (content kept through growth and shrinking, realloc's NULL and 0 cases).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "iamgate/helper_io.h"

static void test_wiping_realloc(void **state)
{
	char *p, *q;

	(void)state;
	p = ig_wiping_realloc(NULL, 16);
	assert_non_null(p);
	memcpy(p, "0123456789abcdef", 16);
	q = ig_wiping_realloc(p, 100000);
	assert_non_null(q);
	assert_memory_equal(q, "0123456789abcdef", 16);
	p = ig_wiping_realloc(q, 4);
	assert_non_null(p);
	assert_memory_equal(p, "0123", 4);
	assert_null(ig_wiping_realloc(p, 0));
}

static void test_read_request_cap(void **state)
{
	char buf[8];
	size_t len = 0;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "{\"a\":1}", 7), 7);
	close(fds[1]);
	assert_int_equal(ig_read_request(fds[0], buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 7);
	close(fds[0]);
	/* As long as the buffer: no room left to tell it ended, refused. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "{\"ab\":12}", 9), 9);
	close(fds[1]);
	assert_int_equal(ig_read_request(fds[0], buf, sizeof(buf), &len), IG_ERR_RANGE);
	close(fds[0]);
}

static void test_bad_request_reply(void **state)
{
	json_t *r = ig_reply_bad_request();

	(void)state;
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "result")), "system_err");
	assert_string_equal(json_string_value(json_object_get(r, "reason")), "bad_request");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_wiping_realloc),
	        cmocka_unit_test(test_read_request_cap),
	        cmocka_unit_test(test_bad_request_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
