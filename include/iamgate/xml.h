/*
 * xml.h - reading AWS XML responses (the query protocol of STS and IAM)
 * with libxml2, safely.
 *
 * A document that carries a DTD is refused before any entity can be
 * declared (a SAX hook stops the parser at "<!DOCTYPE"); nothing is ever
 * substituted, loaded or fetched (no NOENT, DTDLOAD, XINCLUDE or HUGE;
 * NONET).  Text is kept in malloc'd nodes (NODICT), and ig_xml_free wipes
 * every text node before freeing, because responses carry secret keys and
 * session tokens.
 *
 * Elements are matched by local name and namespace.  ns is the namespace an
 * element may be in besides none ("https://sts.amazonaws.com/doc/2011-06-15/"),
 * "" for no namespace at all, or NULL for any namespace.  A look-alike
 * element in another namespace is not matched and does not count as a
 * duplicate.
 */
#ifndef IAMGATE_XML_H
#define IAMGATE_XML_H

#include <stddef.h>

#include <libxml/tree.h>

#include "iamgate/error.h"

/*
 * Parse len bytes (1..max, not necessarily NUL-terminated) into *doc: a
 * well-formed document with a root element and no DTD.  0, IG_ERR_PARSE or
 * IG_ERR_NOMEM (*doc is then NULL).  Free with ig_xml_free.
 */
int ig_xml_parse(const char *xml, size_t len, size_t max, xmlDocPtr *doc) IG_MUST_CHECK;

/* Wipe every text node, then free the document.  NULL is fine. */
void ig_xml_free(xmlDocPtr doc);

/* 1 if n is an element called local in ns (see the top of this file). */
int ig_xml_is(xmlNodePtr n, const char *ns, const char *local);

/* The namespace URI of element n, or "" when it has none. */
const char *ig_xml_ns(xmlNodePtr n);

/* The root element, which must be local in ns.  0, or IG_ERR_PARSE with *root NULL. */
int ig_xml_root(xmlDocPtr doc, const char *ns, const char *local, xmlNodePtr *root) IG_MUST_CHECK;

/*
 * The one child element of parent called local in ns.  Two of them are
 * IG_ERR_PARSE; none is IG_ERR_PARSE when required, else 0 with *out NULL.
 */
int ig_xml_child(xmlNodePtr parent, const char *ns, const char *local, int required,
                 xmlNodePtr *out) IG_MUST_CHECK;

/*
 * The text of a leaf element into buf (cap includes the NUL): text, CDATA
 * and comments only.  An element or entity reference inside, or text that
 * does not fit, is IG_ERR_PARSE, and buf is then wiped to "".  cap 0 is
 * IG_ERR_RANGE.
 */
int ig_xml_text(xmlNodePtr e, char *buf, size_t cap) IG_MUST_CHECK;

/* ig_xml_child (required) then ig_xml_text. */
int ig_xml_child_text(xmlNodePtr parent, const char *ns, const char *local, char *buf,
                      size_t cap) IG_MUST_CHECK;

#endif
