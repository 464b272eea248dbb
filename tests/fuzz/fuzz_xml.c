/*
 * fuzz_xml.c - libFuzzer target for the safe XML reader (src/aws/xml.c).
 * Built and run by tests/fuzz/run.sh (seeds: tests/fuzz/corpus/xml/).
 *
 * Every accepted document is walked; for each element the child lookups
 * and the leaf text are taken.  Contracts checked (a broken one aborts):
 * only the documented errors; a refused document gives no tree; a refused
 * text leaves "" behind; an accepted text fits and has no NUL inside.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iamgate/xml.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void walk(xmlNodePtr n, int depth)
{
	char buf[64];
	xmlNodePtr c;
	int r;

	for (; n != NULL && depth < 64; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		memset(buf, 'X', sizeof(buf));
		r = ig_xml_text(n, buf, sizeof(buf));
		check(r == 0 || r == IG_ERR_PARSE);
		check(memchr(buf, '\0', sizeof(buf)) != NULL);
		if (r != 0)
			check(buf[0] == '\0');
		r = ig_xml_child(n, NULL, "a", 0, &c);
		check((r == 0) || (r == IG_ERR_PARSE && c == NULL));
		r = ig_xml_child(n, ig_xml_ns(n), "a", 1, &c);
		check((r == 0 && c != NULL) || (r == IG_ERR_PARSE && c == NULL));
		walk(n->children, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	int r = ig_xml_parse((const char *)data, size, 65536, &doc);

	check(r == 0 || r == IG_ERR_PARSE || r == IG_ERR_NOMEM);
	if (r != 0) {
		check(doc == NULL);
		return 0;
	}
	check(doc->intSubset == NULL && doc->extSubset == NULL);
	root = xmlDocGetRootElement(doc);
	check(root != NULL);
	check(ig_xml_root(doc, NULL, (const char *)root->name, &root) == 0);
	walk(root, 0);
	ig_xml_free(doc);
	return 0;
}
