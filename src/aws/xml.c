/* xml.c - safe reading of AWS XML responses (see xml.h). */
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "iamgate/xml.h"

/* Called at "<!DOCTYPE": AWS never sends one, so stop before any entity
 * declaration is read, and mark the document not well-formed so it is
 * refused even if the parser would hand back a partial tree. */
static void sax_no_dtd(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
	xmlParserCtxtPtr ctxt = ctx;

	(void)name;
	(void)eid;
	(void)sid;
	ctxt->wellFormed = 0;
	ctxt->disableSAX = 1;
	xmlStopParser(ctxt);
}

static void wipe_text(xmlDocPtr doc, xmlNodePtr n)
{
	for (; n != NULL; n = n->next) {
		if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) &&
		    n->content != NULL &&
		    (doc->dict == NULL || !xmlDictOwns(doc->dict, n->content)))
			explicit_bzero(n->content, (size_t)xmlStrlen(n->content));
		if (n->type == XML_ELEMENT_NODE)
			wipe_text(doc, n->children);
	}
}

void ig_xml_free(xmlDocPtr doc)
{
	if (doc == NULL)
		return;
	wipe_text(doc, doc->children);
	xmlFreeDoc(doc);
}

int ig_xml_parse(const char *xml, size_t len, size_t max, xmlDocPtr *out)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;

	*out = NULL;
	if (xml == NULL || len == 0 || len > max || len > (size_t)INT32_MAX)
		return IG_ERR_PARSE;
	xmlInitParser();
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		return IG_ERR_NOMEM;
	ctxt->sax->internalSubset = sax_no_dtd;
	/* No XML_PARSE_NOENT (no substitution), DTDLOAD, DTDATTR, XINCLUDE or
	 * HUGE; NONET forbids network access; NODICT keeps text in malloc'd
	 * memory we can wipe. */
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "aws-response.xml", NULL,
	                        XML_PARSE_NONET | XML_PARSE_NODICT | XML_PARSE_NOERROR |
	                                XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (doc != NULL && (!ctxt->wellFormed || doc->intSubset != NULL || doc->extSubset != NULL ||
	                    xmlDocGetRootElement(doc) == NULL)) {
		ig_xml_free(doc);
		doc = NULL;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc == NULL)
		return IG_ERR_PARSE;
	*out = doc;
	return 0;
}

const char *ig_xml_ns(xmlNodePtr n)
{
	return n != NULL && n->ns != NULL && n->ns->href != NULL ? (const char *)n->ns->href : "";
}

int ig_xml_is(xmlNodePtr n, const char *ns, const char *local)
{
	if (n == NULL || n->type != XML_ELEMENT_NODE ||
	    !xmlStrEqual(n->name, (const xmlChar *)local))
		return 0;
	if (ns == NULL || n->ns == NULL)
		return 1;
	return ns[0] != '\0' && xmlStrEqual(n->ns->href, (const xmlChar *)ns);
}

int ig_xml_root(xmlDocPtr doc, const char *ns, const char *local, xmlNodePtr *root)
{
	*root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (ig_xml_is(*root, ns, local))
		return 0;
	*root = NULL;
	return IG_ERR_PARSE;
}

int ig_xml_child(xmlNodePtr parent, const char *ns, const char *local, int required,
                 xmlNodePtr *out)
{
	*out = NULL;
	for (xmlNodePtr n = parent->children; n != NULL; n = n->next) {
		if (!ig_xml_is(n, ns, local))
			continue;
		if (*out != NULL) {
			*out = NULL;
			return IG_ERR_PARSE;
		}
		*out = n;
	}
	return (*out == NULL && required) ? IG_ERR_PARSE : 0;
}

int ig_xml_text(xmlNodePtr e, char *buf, size_t cap)
{
	size_t len = 0, n;

	if (cap == 0)
		return IG_ERR_RANGE;
	buf[0] = '\0';
	for (xmlNodePtr c = e->children; c != NULL; c = c->next) {
		int text = c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE;
		if (c->type == XML_COMMENT_NODE || (text && c->content == NULL))
			continue;
		if (!text || (n = strlen((const char *)c->content)) >= cap - len) {
			explicit_bzero(buf, len);
			buf[0] = '\0';
			return IG_ERR_PARSE;
		}
		memcpy(buf + len, c->content, n);
		len += n;
		buf[len] = '\0';
	}
	return 0;
}

int ig_xml_child_text(xmlNodePtr parent, const char *ns, const char *local, char *buf, size_t cap)
{
	xmlNodePtr e;
	int r;

	if ((r = ig_xml_child(parent, ns, local, 1, &e)) != 0)
		return r;
	return ig_xml_text(e, buf, cap);
}
