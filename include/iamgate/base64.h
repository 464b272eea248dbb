/*
 * base64.h - strict standard base64 (RFC 4648 section 4, with padding),
 * as AWS JSON APIs carry binary values (KMS blobs, DynamoDB B attributes).
 *
 * The decoder accepts exactly one spelling of each byte string: the
 * standard alphabet, length a multiple of 4, '=' only as the last one or
 * two characters, and the unused bits of the last character zero.  No
 * whitespace, no URL-safe alphabet, no missing padding: a value that could
 * be read two ways is refused, never guessed at.
 */
#ifndef IAMGATE_BASE64_H
#define IAMGATE_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "iamgate/error.h"

/* Characters of the encoding of n bytes, without the NUL. */
#define IG_BASE64_LEN(n) ((((n) + 2) / 3) * 4)

/* Encode n bytes into out (cap >= IG_BASE64_LEN(n) + 1, NUL-terminated).
 * 0 or IG_ERR_RANGE. */
int ig_base64_encode(const uint8_t *in, size_t n, char *out, size_t cap) IG_MUST_CHECK;

/*
 * Decode len characters of text (not necessarily NUL-terminated) into out
 * (cap bytes); *n receives the byte count.  IG_ERR_PARSE for anything but
 * the one canonical spelling, IG_ERR_RANGE when out is too small.  On
 * failure out is wiped (it may hold a secret's first bytes) and *n is 0.
 */
int ig_base64_decode(const char *text, size_t len, uint8_t *out, size_t cap,
                     size_t *n) IG_MUST_CHECK;

#endif
