/*
 * test_xml.c - the safe XML reader: what ig_xml_parse refuses (DTDs, entity
 * bombs, external entities, undefined entities, non-well-formed and
 * oversized input), namespace matching ("any", "none", one URI or none),
 * exactly-one children, and leaf text (CDATA and comments; an element, an
 * entity reference or an overflow inside is refused and leaves "").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iamgate/xml.h"

#define NS "urn:test:ns"

static xmlDocPtr must_parse(const char *s)
{
	xmlDocPtr doc = NULL;

	assert_int_equal(ig_xml_parse(s, strlen(s), 65536, &doc), 0);
	assert_non_null(doc);
	return doc;
}

static void expect_refused(const char *s, size_t max)
{
	xmlDocPtr doc = (xmlDocPtr)1;

	if (ig_xml_parse(s, strlen(s), max, &doc) != IG_ERR_PARSE)
		fail_msg("accepted: %.80s", s);
	assert_null(doc);
}

static void test_parse_refusals(void **state)
{
	static const char *const bad[] = {
	        "",
	        "<a>",
	        "<a></b>",
	        "text only",
	        "<a/><b/>",
	        "<!DOCTYPE a><a/>",
	        "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
	        "<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>",
	        "<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/hostname\">]><a>&x;</a>",
	        "<!DOCTYPE a [<!ENTITY x SYSTEM \"http://127.0.0.1:9/\">]><a>&x;</a>",
	        "<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
	        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]><l>&c;</l>",
	        "<a>&undefined;</a>",
	        "<a x='1' x='2'/>",
	        "<a>\x01</a>",
	};
	xmlDocPtr doc = (xmlDocPtr)1;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i], 65536);
	assert_int_equal(ig_xml_parse(NULL, 3, 10, &doc), IG_ERR_PARSE);
	assert_null(doc);
	/* The cap is on the input: one byte over is refused unread. */
	expect_refused("<a>0123456789</a>", 16);
	ig_xml_free(must_parse("<a>0123456789</a>"));
	assert_int_equal(ig_xml_parse("<a>0123456789</a>", 17, 17, &doc), 0);
	ig_xml_free(doc);
	ig_xml_free(NULL);
}

static void test_namespaces(void **state)
{
	xmlDocPtr doc = must_parse("<r xmlns:t=\"" NS "\" xmlns:o=\"urn:other\">"
	                           "<t:x/><y/><o:z/></r>");
	xmlNodePtr root, x, y, z;

	(void)state;
	assert_int_equal(ig_xml_root(doc, "", "r", &root), 0);
	assert_string_equal(ig_xml_ns(root), "");
	x = root->children;
	y = x->next;
	z = y->next;
	assert_string_equal(ig_xml_ns(x), NS);
	/* ns NULL: any namespace. */
	assert_true(ig_xml_is(x, NULL, "x") && ig_xml_is(y, NULL, "y") && ig_xml_is(z, NULL, "z"));
	/* "": no namespace only. */
	assert_false(ig_xml_is(x, "", "x"));
	assert_true(ig_xml_is(y, "", "y"));
	/* A URI: that one or none. */
	assert_true(ig_xml_is(x, NS, "x"));
	assert_true(ig_xml_is(y, NS, "y"));
	assert_false(ig_xml_is(z, NS, "z"));
	assert_false(ig_xml_is(x, NS, "X"));
	assert_false(ig_xml_is(NULL, NULL, "x"));
	assert_int_equal(ig_xml_root(doc, NS, "q", &root), IG_ERR_PARSE);
	assert_null(root);
	ig_xml_free(doc);

	doc = must_parse("<r xmlns=\"urn:other\"/>");
	assert_int_equal(ig_xml_root(doc, NS, "r", &root), IG_ERR_PARSE);
	assert_int_equal(ig_xml_root(doc, NULL, "r", &root), 0);
	assert_string_equal(ig_xml_ns(root), "urn:other");
	ig_xml_free(doc);
}

static void test_children(void **state)
{
	xmlDocPtr doc = must_parse("<r xmlns:e=\"urn:evil\"><a>1</a><b>2</b><b>3</b>"
	                           "<e:a>evil</e:a><!-- c --></r>");
	xmlNodePtr root, n;
	char buf[8];

	(void)state;
	assert_int_equal(ig_xml_root(doc, NS, "r", &root), 0);
	/* The look-alike in another namespace is neither matched nor a duplicate. */
	assert_int_equal(ig_xml_child_text(root, NS, "a", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1");
	/* With any namespace allowed, it is a duplicate. */
	assert_int_equal(ig_xml_child(root, NULL, "a", 1, &n), IG_ERR_PARSE);
	assert_null(n);
	assert_int_equal(ig_xml_child(root, NS, "b", 0, &n), IG_ERR_PARSE);
	assert_null(n);
	assert_int_equal(ig_xml_child(root, NS, "c", 0, &n), 0);
	assert_null(n);
	assert_int_equal(ig_xml_child(root, NS, "c", 1, &n), IG_ERR_PARSE);
	assert_int_equal(ig_xml_child_text(root, NS, "c", buf, sizeof(buf)), IG_ERR_PARSE);
	ig_xml_free(doc);
}

static void test_text(void **state)
{
	xmlDocPtr doc = must_parse("<r><a>ab<!-- skip -->cd</a><b><![CDATA[<x>&y;]]></b>"
	                           "<c>12<i/>34</c><d>0123456789</d><e/><f>&amp;&lt;</f></r>");
	xmlNodePtr root, n;
	char buf[11];

	(void)state;
	assert_int_equal(ig_xml_root(doc, "", "r", &root), 0);
	assert_int_equal(ig_xml_child_text(root, "", "a", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "abcd");
	assert_int_equal(ig_xml_child_text(root, "", "b", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "<x>&y;");
	/* An element inside: refused, and nothing of the text before it kept. */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(ig_xml_child_text(root, "", "c", buf, sizeof(buf)), IG_ERR_PARSE);
	assert_int_equal(memcmp(buf, "\0\0\0", 3), 0);
	assert_int_equal(ig_xml_child_text(root, "", "d", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0123456789");
	assert_int_equal(ig_xml_child_text(root, "", "d", buf, 10), IG_ERR_PARSE);
	assert_string_equal(buf, "");
	assert_int_equal(ig_xml_child_text(root, "", "e", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* The predefined entities are characters, never a reference node. */
	assert_int_equal(ig_xml_child_text(root, "", "f", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "&<");
	assert_int_equal(ig_xml_child(root, "", "a", 1, &n), 0);
	assert_int_equal(ig_xml_text(n, buf, 0), IG_ERR_RANGE);
	ig_xml_free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_refusals),
	        cmocka_unit_test(test_namespaces),
	        cmocka_unit_test(test_children),
	        cmocka_unit_test(test_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
