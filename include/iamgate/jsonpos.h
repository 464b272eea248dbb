/*
 * jsonpos.h - where a value sits in JSON source text.
 *
 * jansson reports positions only for syntax errors, never for values, yet a
 * configuration or policy finding must name the file, line and column of the
 * offending value.  ig_json_locate() is a small, self-contained, validating
 * scanner that walks the text once, without recursion (an explicit stack
 * capped at IG_JSON_MAX_DEPTH), and returns the position of the value reached
 * by a path of object members and array indexes.
 *
 * It accepts RFC 8259 JSON: any value at the root, the four whitespace
 * characters, strings with the escapes \" \\ \/ \b \f \n \r \t and \uXXXX
 * (surrogate pairs must pair up), raw bytes in strings must be valid UTF-8
 * (no overlongs, no surrogates, nothing above U+10FFFF) and no control
 * characters, the JSON number grammar, and true/false/null.  Anything else -
 * including trailing garbage after the root value and text nested deeper than
 * IG_JSON_MAX_DEPTH - is IG_ERR_PARSE, so a caller learns the text is bad even
 * when the path was found before the bad part.
 */
#ifndef IAMGATE_JSONPOS_H
#define IAMGATE_JSONPOS_H

#include <stddef.h>

#include "iamgate/error.h"

/* Deepest nesting of objects/arrays accepted; deeper text is IG_ERR_PARSE. */
#define IG_JSON_MAX_DEPTH 64

/*
 * One step of a path into a JSON document: an object member (key != NULL,
 * compared byte for byte with the key after its escapes are decoded, so
 * "\u0041" matches "A") or an array element (key == NULL, 0-based index).
 */
struct ig_json_step {
	const char *key;
	size_t index;
};

/*
 * Find the 1-based line and byte column of the value at path (depth steps)
 * in text[0..len).  depth 0 is the root value.  When the last step is an
 * object member, where_key=1 gives the position of the member's key string
 * (its opening quote) and 0 the position of its value; where_key is ignored
 * for array elements and the root.  Lines are counted by '\n'; the column
 * counts bytes from the start of the line (a tab or a UTF-8 character of
 * several bytes counts as several columns).  The position is that of the
 * first byte of the value ('{', '[', '"', a digit or '-', 't', 'f', 'n').
 *
 * Duplicate keys: the first occurrence is the one followed; later duplicates
 * never match (jansson without JSON_REJECT_DUPLICATES keeps the last, so
 * callers that care should reject duplicates when they parse).
 *
 * text need not be NUL-terminated; a NUL byte anywhere in text[0..len) is
 * malformed.  line and col are written only on success.
 *
 * Returns 0 when found; IG_ERR_NOTFOUND when the text is well-formed but the
 * path names no value (missing key, index past the end, or a step into a
 * value of the wrong type); IG_ERR_PARSE when the text is malformed or nested
 * too deep (this wins over NOTFOUND and over a found path); IG_ERR_INVAL for
 * NULL text, line or col, or NULL path with depth > 0.
 */
int ig_json_locate(const char *text, size_t len, const struct ig_json_step *path, size_t depth,
                   int where_key, int *line, int *col) IG_MUST_CHECK;

/*
 * Convert a byte offset in text[0..len) to a 1-based line and byte column,
 * as above.  off > len is clamped to len.  Exposed for callers that already
 * know an offset (e.g. from jansson's json_error_t.position).
 */
void ig_json_offset_to_linecol(const char *text, size_t len, size_t off, int *line, int *col);

#endif
