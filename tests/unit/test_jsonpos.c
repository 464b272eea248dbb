/* test_jsonpos.c - ig_json_locate: positions, paths, escapes, malformed text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iamgate/jsonpos.h"

#define K(k)                                                                                       \
	{                                                                                          \
		(k), 0                                                                             \
	}
#define I(i)                                                                                       \
	{                                                                                          \
		NULL, (i)                                                                          \
	}

/* Locate in a NUL-terminated text; returns the error, fills line/col. */
static int loc(const char *text, const struct ig_json_step *path, size_t depth, int where_key,
               int *line, int *col)
{
	*line = -1;
	*col = -1;
	return ig_json_locate(text, strlen(text), path, depth, where_key, line, col);
}

static void expect_at(const char *text, const struct ig_json_step *path, size_t depth,
                      int where_key, int want_line, int want_col)
{
	int line, col;

	assert_int_equal(loc(text, path, depth, where_key, &line, &col), 0);
	assert_int_equal(line, want_line);
	assert_int_equal(col, want_col);
}

static void expect_err(const char *text, const struct ig_json_step *path, size_t depth, int err)
{
	int line, col;

	assert_int_equal(loc(text, path, depth, 0, &line, &col), err);
	/* Outputs untouched on failure. */
	assert_int_equal(line, -1);
	assert_int_equal(col, -1);
}

static void test_root(void **state)
{
	(void)state;
	expect_at("{}", NULL, 0, 0, 1, 1);
	expect_at("  \n\t [1]", NULL, 0, 0, 2, 3);
	expect_at("\"s\"", NULL, 0, 0, 1, 1);
	expect_at(" 42 ", NULL, 0, 0, 1, 2);
	expect_at("null", NULL, 0, 1, 1, 1); /* where_key ignored at the root */
}

static const char doc[] = "{\n"
                          "  \"Version\": \"2012-10-17\",\n"
                          "  \"Statement\": [\n"
                          "    {\n"
                          "      \"Sid\": \"ReadLogs\",\n"
                          "      \"Action\": [\"logs:GetLogEvents\", \"logs:FilterLogEvents\"],\n"
                          "      \"Resource\": \"*\"\n"
                          "    },\n"
                          "    {\"Sid\": \"Two\", \"Action\": \"s3:GetObject\"}\n"
                          "  ]\n"
                          "}\n";

static void test_policy_paths(void **state)
{
	(void)state;
	struct ig_json_step ver[] = {K("Version")};
	struct ig_json_step st[] = {K("Statement")};
	struct ig_json_step st0[] = {K("Statement"), I(0)};
	struct ig_json_step sid0[] = {K("Statement"), I(0), K("Sid")};
	struct ig_json_step act01[] = {K("Statement"), I(0), K("Action"), I(1)};
	struct ig_json_step res0[] = {K("Statement"), I(0), K("Resource")};
	struct ig_json_step st1[] = {K("Statement"), I(1)};
	struct ig_json_step act1[] = {K("Statement"), I(1), K("Action")};

	expect_at(doc, ver, 1, 0, 2, 14);
	expect_at(doc, ver, 1, 1, 2, 3);
	expect_at(doc, st, 1, 0, 3, 16);
	expect_at(doc, st, 1, 1, 3, 3);
	expect_at(doc, st0, 2, 0, 4, 5);
	expect_at(doc, st0, 2, 1, 4, 5); /* array step: where_key ignored */
	expect_at(doc, sid0, 3, 0, 5, 14);
	expect_at(doc, sid0, 3, 1, 5, 7);
	expect_at(doc, act01, 4, 0, 6, 39);
	expect_at(doc, res0, 3, 0, 7, 19);
	expect_at(doc, st1, 2, 0, 9, 5);
	expect_at(doc, act1, 3, 0, 9, 30);
	expect_at(doc, act1, 3, 1, 9, 20);
}

static void test_not_found(void **state)
{
	(void)state;
	struct ig_json_step missing[] = {K("Nope")};
	struct ig_json_step past[] = {K("Statement"), I(2)};
	struct ig_json_step huge[] = {K("Statement"), I(SIZE_MAX)};
	struct ig_json_step key_in_array[] = {K("Statement"), K("Sid")};
	struct ig_json_step index_in_object[] = {I(0)};
	struct ig_json_step into_scalar[] = {K("Version"), K("x")};
	struct ig_json_step index_into_string[] = {K("Version"), I(0)};
	struct ig_json_step deep_missing[] = {K("Statement"), I(1), K("Resource")};
	struct ig_json_step case_differs[] = {K("statement")};
	struct ig_json_step prefix_key[] = {K("Vers")};
	struct ig_json_step longer_key[] = {K("VersionX")};

	expect_err(doc, missing, 1, IG_ERR_NOTFOUND);
	expect_err(doc, past, 2, IG_ERR_NOTFOUND);
	expect_err(doc, huge, 2, IG_ERR_NOTFOUND);
	expect_err(doc, key_in_array, 2, IG_ERR_NOTFOUND);
	expect_err(doc, index_in_object, 1, IG_ERR_NOTFOUND);
	expect_err(doc, into_scalar, 2, IG_ERR_NOTFOUND);
	expect_err(doc, index_into_string, 2, IG_ERR_NOTFOUND);
	expect_err(doc, deep_missing, 3, IG_ERR_NOTFOUND);
	expect_err(doc, case_differs, 1, IG_ERR_NOTFOUND);
	expect_err(doc, prefix_key, 1, IG_ERR_NOTFOUND);
	expect_err(doc, longer_key, 1, IG_ERR_NOTFOUND);
	expect_err("{}", missing, 1, IG_ERR_NOTFOUND);
	expect_err("[]", index_in_object, 1, IG_ERR_NOTFOUND);
	expect_err("[ ]", index_in_object, 1, IG_ERR_NOTFOUND);
	expect_err("7", index_in_object, 1, IG_ERR_NOTFOUND);
}

static void test_duplicates_first_wins(void **state)
{
	(void)state;
	struct ig_json_step a[] = {K("a")};
	struct ig_json_step a_b[] = {K("a"), K("b")};
	struct ig_json_step a_0[] = {K("a"), I(0)};

	expect_at("{\"a\": 1, \"a\": 2}", a, 1, 0, 1, 7);
	expect_at("{\"a\": 1, \"a\": 2}", a, 1, 1, 1, 2);
	/* The first "a" has no "b": later duplicates are not consulted. */
	expect_err("{\"a\": {}, \"a\": {\"b\": 1}}", a_b, 2, IG_ERR_NOTFOUND);
	expect_err("{\"a\": 1, \"a\": [5]}", a_0, 2, IG_ERR_NOTFOUND);
	expect_at("{\"a\": {\"b\": 1, \"b\": 2}}", a_b, 2, 0, 1, 13);
	/* Same key in a sibling object is a different path. */
	expect_at("{\"x\": {\"a\": 0}, \"a\": 9}", a, 1, 0, 1, 22);
}

static void test_escapes_in_keys(void **state)
{
	(void)state;
	struct ig_json_step quote[] = {K("a\"b")};
	struct ig_json_step bs[] = {K("a\\b")};
	struct ig_json_step slash[] = {K("a/b")};
	struct ig_json_step ctl[] = {K("a\nb\t")};
	struct ig_json_step A[] = {K("A")};
	struct ig_json_step e_acute[] = {K("caf\xc3\xa9")};
	struct ig_json_step smile[] = {K("\xf0\x9f\x98\x80")};
	struct ig_json_step z[] = {K("z")};

	expect_at("{\"a\\\"b\": 1}", quote, 1, 0, 1, 10);
	expect_at("{\"a\\\\b\": 2}", bs, 1, 0, 1, 10);
	expect_at("{\"a\\/b\": 3}", slash, 1, 0, 1, 10);
	expect_at("{\"a\\nb\\t\": 4}", ctl, 1, 0, 1, 12);
	expect_at("{\"\\u0041\": 5}", A, 1, 0, 1, 12);
	expect_at("{\"caf\\u00e9\": 6}", e_acute, 1, 0, 1, 15);
	expect_at("{\"caf\xc3\xa9\": 6}", e_acute, 1, 0, 1, 11);
	expect_at("{\"\\ud83d\\ude00\": 7}", smile, 1, 0, 1, 18);
	expect_at("{\"\\uD83D\\uDE00\": 7}", smile, 1, 0, 1, 18);
	/* An escaped NUL never equals a C string key. */
	expect_err("{\"A\\u0000\": 1}", A, 1, IG_ERR_NOTFOUND);
	/* Brackets, braces, quotes and commas inside strings are not structure. */
	expect_at("{\"s\": \"}]{[,\\\"\", \"z\": 8}", z, 1, 0, 1, 23);
	expect_at("[\"]\", {\"z\": \"{\"}, \"z\"]", (struct ig_json_step[]){I(1), K("z")}, 2, 0, 1,
	          13);
	expect_at("[\"]\", {\"z\": \"{\"}, \"z\"]", (struct ig_json_step[]){I(2)}, 1, 0, 1, 19);
}

static void test_columns_bytes_and_lines(void **state)
{
	(void)state;
	struct ig_json_step b[] = {K("b")};

	/* UTF-8 in an earlier string counts its bytes; a tab counts one. */
	expect_at("{\"a\": \"\xc3\xa9\xc3\xa9\", \"b\": 1}", b, 1, 0, 1, 20);
	expect_at("{\n\t\"b\": 1}", b, 1, 0, 2, 7);
	expect_at("{\r\n\"b\":\r\n 2}", b, 1, 0, 3, 2);
	expect_at("{\n\n\n\n\"b\"\n:\n\n2}", b, 1, 0, 8, 1);
	expect_at("{\n\n\n\n\"b\"\n:\n\n2}", b, 1, 1, 5, 1);
}

static void test_values_of_every_type(void **state)
{
	(void)state;
	const char *t = "[true, false, null, -0, 0.5, 1e10, 1.5E-3, -12.0e+7, \"\", {}, []]";
	int want_col[] = {2, 8, 15, 21, 25, 30, 36, 44, 54, 58, 62};

	for (size_t i = 0; i < sizeof(want_col) / sizeof(want_col[0]); i++) {
		struct ig_json_step p[] = {I(i)};
		expect_at(t, p, 1, 0, 1, want_col[i]);
	}
	expect_err(t, (struct ig_json_step[]){I(11)}, 1, IG_ERR_NOTFOUND);
}

static void test_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "",
	        "   ",
	        "{",
	        "}",
	        "[1,]",
	        "{\"a\":1,}",
	        "{\"a\" 1}",
	        "{\"a\":}",
	        "{a:1}",
	        "{'a':1}",
	        "[1 2]",
	        "[}",
	        "{]",
	        "[1]]",
	        "{} {}",
	        "[1] x",
	        "tru",
	        "nul",
	        "falsey",
	        "True",
	        "01",
	        "1.",
	        ".5",
	        "-",
	        "+1",
	        "1e",
	        "1e+",
	        "0x10",
	        "NaN",
	        "\"abc",
	        "\"a\\\"",
	        "\"tab\there\"",
	        "\"nl\nhere\"",
	        "\"bad \\x escape\"",
	        "\"\\u12\"",
	        "\"\\u12G4\"",
	        "\"\\ud800\"",
	        "\"\\ud800x\"",
	        "\"\\ud800\\u0041\"",
	        "\"\\udc00\"",
	        "\"\xff\"",
	        "\"\xc0\xaf\"",
	        "\"\xe0\x80\xaf\"",
	        "\"\xed\xa0\x80\"",
	        "\"\xf4\x90\x80\x80\"",
	        "\"\xc3\"",
	        "\"\xe2\x82\"",
	        "\x01",
	        "[\"a\",\f1]",
	        "{\"a\":1}\x0b",
	};
	struct ig_json_step a[] = {K("a")};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int line = -1, col = -1;
		int r = ig_json_locate(bad[i], strlen(bad[i]), NULL, 0, 0, &line, &col);
		if (r != IG_ERR_PARSE)
			fail_msg("case %zu (%s): got %d", i, bad[i], r);
		r = ig_json_locate(bad[i], strlen(bad[i]), a, 1, 1, &line, &col);
		if (r != IG_ERR_PARSE)
			fail_msg("case %zu with path: got %d", i, r);
		assert_int_equal(line, -1);
	}
	/* Malformed text after the target still fails. */
	expect_err("{\"a\": 1, \"b\": }", a, 1, IG_ERR_PARSE);
	expect_err("{\"a\": 1} trailing", a, 1, IG_ERR_PARSE);
	/* A NUL byte inside len is malformed, in a string or outside. */
	int line, col;
	assert_int_equal(ig_json_locate("[1]\0", 4, NULL, 0, 0, &line, &col), IG_ERR_PARSE);
	assert_int_equal(ig_json_locate("\"a\0b\"", 5, NULL, 0, 0, &line, &col), IG_ERR_PARSE);
}

static void test_not_nul_terminated(void **state)
{
	(void)state;
	/* Only text[0..len) is read: a buffer without a terminator. */
	char buf[3] = {'[', '7', ']'};
	struct ig_json_step p0[] = {I(0)};
	int line, col;

	assert_int_equal(ig_json_locate(buf, sizeof(buf), p0, 1, 0, &line, &col), 0);
	assert_int_equal(col, 2);
	assert_int_equal(ig_json_locate(buf, 2, p0, 1, 0, &line, &col), IG_ERR_PARSE);
	/* Truncations of a valid document inside tokens must all be refused. */
	for (size_t n = 0; n < strlen(doc); n++) {
		/* Only whitespace after the closing brace may be cut. */
		if (n >= strlen(doc) - 1)
			break;
		assert_int_equal(ig_json_locate(doc, n, NULL, 0, 0, &line, &col), IG_ERR_PARSE);
	}
	assert_int_equal(ig_json_locate(doc, strlen(doc) - 1, NULL, 0, 0, &line, &col), 0);
	/* "12" cut to "1" is still a valid number. */
	assert_int_equal(ig_json_locate("12", 1, NULL, 0, 0, &line, &col), 0);
}

static char *nested(size_t levels, char open, char close)
{
	char *t = malloc(2 * levels + 1);

	assert_non_null(t);
	memset(t, open, levels);
	memset(t + levels, close, levels);
	t[2 * levels] = '\0';
	return t;
}

static void test_depth_cap(void **state)
{
	(void)state;
	int line, col;
	char *ok = nested(IG_JSON_MAX_DEPTH, '[', ']');
	char *deep = nested(IG_JSON_MAX_DEPTH + 1, '[', ']');
	char *very = nested(100000, '[', ']');
	struct ig_json_step path[IG_JSON_MAX_DEPTH];

	for (size_t i = 0; i < IG_JSON_MAX_DEPTH; i++)
		path[i] = (struct ig_json_step){NULL, 0};
	assert_int_equal(ig_json_locate(ok, strlen(ok), NULL, 0, 0, &line, &col), 0);
	/* The innermost array is at depth 63 (63 steps), column 64. */
	assert_int_equal(
	        ig_json_locate(ok, strlen(ok), path, IG_JSON_MAX_DEPTH - 1, 0, &line, &col), 0);
	assert_int_equal(col, IG_JSON_MAX_DEPTH);
	assert_int_equal(ig_json_locate(ok, strlen(ok), path, IG_JSON_MAX_DEPTH, 0, &line, &col),
	                 IG_ERR_NOTFOUND);
	assert_int_equal(ig_json_locate(deep, strlen(deep), NULL, 0, 0, &line, &col), IG_ERR_PARSE);
	assert_int_equal(ig_json_locate(very, strlen(very), NULL, 0, 0, &line, &col), IG_ERR_PARSE);
	free(ok);
	free(deep);
	free(very);

	/* Objects count too. */
	char obj[IG_JSON_MAX_DEPTH * 6 + 8];
	size_t o = 0;
	for (size_t i = 0; i <= IG_JSON_MAX_DEPTH; i++) {
		memcpy(obj + o, "{\"a\":", 5);
		o += 5;
	}
	obj[o++] = '1';
	memset(obj + o, '}', IG_JSON_MAX_DEPTH + 1);
	o += IG_JSON_MAX_DEPTH + 1;
	assert_int_equal(ig_json_locate(obj, o, NULL, 0, 0, &line, &col), IG_ERR_PARSE);
	/* One level less is fine. */
	assert_int_equal(ig_json_locate(obj + 5, o - 6, NULL, 0, 0, &line, &col), 0);
}

static void test_invalid_args(void **state)
{
	(void)state;
	int line, col;
	struct ig_json_step p[] = {I(0)};

	assert_int_equal(ig_json_locate(NULL, 0, NULL, 0, 0, &line, &col), IG_ERR_INVAL);
	assert_int_equal(ig_json_locate("[1]", 3, NULL, 1, 0, &line, &col), IG_ERR_INVAL);
	assert_int_equal(ig_json_locate("[1]", 3, p, 1, 0, NULL, &col), IG_ERR_INVAL);
	assert_int_equal(ig_json_locate("[1]", 3, p, 1, 0, &line, NULL), IG_ERR_INVAL);
}

static void test_offset_to_linecol(void **state)
{
	(void)state;
	const char *t = "ab\ncd\n\nx";
	int line, col;

	ig_json_offset_to_linecol(t, strlen(t), 0, &line, &col);
	assert_int_equal(line, 1);
	assert_int_equal(col, 1);
	ig_json_offset_to_linecol(t, strlen(t), 2, &line, &col);
	assert_int_equal(line, 1);
	assert_int_equal(col, 3);
	ig_json_offset_to_linecol(t, strlen(t), 3, &line, &col);
	assert_int_equal(line, 2);
	assert_int_equal(col, 1);
	ig_json_offset_to_linecol(t, strlen(t), 7, &line, &col);
	assert_int_equal(line, 4);
	assert_int_equal(col, 1);
	ig_json_offset_to_linecol(t, strlen(t), 999, &line, &col);
	assert_int_equal(line, 4);
	assert_int_equal(col, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_root),
	        cmocka_unit_test(test_policy_paths),
	        cmocka_unit_test(test_not_found),
	        cmocka_unit_test(test_duplicates_first_wins),
	        cmocka_unit_test(test_escapes_in_keys),
	        cmocka_unit_test(test_columns_bytes_and_lines),
	        cmocka_unit_test(test_values_of_every_type),
	        cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_not_nul_terminated),
	        cmocka_unit_test(test_depth_cap),
	        cmocka_unit_test(test_invalid_args),
	        cmocka_unit_test(test_offset_to_linecol),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
